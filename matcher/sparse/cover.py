"""Maximum matchings certified by König covers: the sparse path's ``fair`` oracle.

A maximum matching of the working set (Hopcroft-Karp) gives a König vertex
cover of the same size (:func:`matcher.bipartite.konig_cover`); a pass over all
pairs then checks that the cover covers every pair scoring ``>= threshold``
too. If so, no matching of the full problem is larger; if not, the uncovered
pairs join the working set and the matching grows.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from matcher.bipartite import konig_cover, matching_size, maximum_matching
from matcher.objective import Objective
from matcher.sparse.pairs import block_count, first_per_group, map_pairs
from matcher.sparse.pricing import Pricing
from matcher.sparse.restricted import SparsePool
from matcher.types import BoolArray, IntArray


def _slot_edges(weights: Objective, pool: SparsePool, threshold: int) -> tuple[IntArray, IntArray]:
    # Every mentee-slot edge of a working-set pair scoring >= threshold (any weight:
    # only the cardinality counts).
    use = pool.cand_s >= max(threshold, 0)
    p, c = pool.cand_p[use], pool.cand_c[use]
    slot, source = weights.slots.expand(p, c, by_slot=False)
    return p[source], slot


def candidate_matching_size(pool: SparsePool, threshold: int) -> int:
    """Size of a maximum matching using only working-set pairs scoring >= threshold.

    A lower bound of the same size over all pairs (the candidates are a
    subset), computed without any pass over the scores.

    Parameters
    ----------
    pool : SparsePool
        The pool and its current candidates.
    threshold : int
        Minimum score.

    Returns
    -------
    int
        Matched mentees.
    """
    weights = Objective.for_pool(pool)
    ep, es = _slot_edges(weights, pool, threshold)
    return matching_size(ep, es, len(pool.rows), weights.n_slots)


@dataclass(frozen=True)
class Covered:
    """A maximum matching's size over all pairs >= a threshold, and how sure it is.

    Attributes
    ----------
    size : int
        Matched mentees.
    passes : int
        Passes over all pairs.
    certified : bool
        A König cover of that size covers every pair (else ``size`` is a lower bound).
    """

    size: int
    passes: int
    certified: bool


def certified_max_matching(context: Pricing, threshold: int, enough: int | None = None) -> Covered:
    """Size of a maximum matching over all pool pairs scoring >= threshold.

    Parameters
    ----------
    context : Pricing
        The problem, the pool (uncovered pairs join its working set), the pairs
        and the options (``max_pricing_rounds`` also bounds the passes here).
    threshold : int
        Minimum score.
    enough : int, optional
        Stop as soon as a matching this large is found (no pass needed; certified,
        as a matching of the working set is one of the full problem).

    Returns
    -------
    Covered
    """
    prep, pool, options = context.prep, context.pool, context.options
    weights = Objective.for_pool(pool)
    n_p, n_slots = len(pool.rows), weights.n_slots
    thr = max(threshold, 0)
    pool_index, col_index = pool.local_index(prep.n, prep.m)
    passes = 0
    while True:
        ep, es = _slot_edges(weights, pool, thr)
        slot_of = maximum_matching(ep, es, n_p, n_slots)
        size = int(np.count_nonzero(slot_of >= 0))
        if enough is not None and size >= enough:
            return Covered(size, passes, True)
        if options.max_pricing_rounds is not None and passes >= options.max_pricing_rounds:
            return Covered(size, passes, False)
        cover_p, cover_s = konig_cover(ep, es, n_slots, slot_of)
        # A pair (p, c) is covered by p, or by every slot of its mentor.
        uncovered_slots = (
            np.add.reduceat(~cover_s, weights.slots.slot_start) if n_slots else cover_s
        )
        cover_c = np.asarray(uncovered_slots, dtype=np.int64) == 0
        passes += 1
        total_blocks = max(block_count(prep, context.store, options), 1)

        def check(
            rows: IntArray,
            cols: IntArray,
            scores: IntArray,
            cover_p: BoolArray = cover_p,
            cover_c: BoolArray = cover_c,
        ) -> tuple[IntArray, IntArray, IntArray]:
            pp, cc = pool_index[rows], col_index[cols]
            ok = (pp >= 0) & (cc >= 0) & (scores >= thr)
            pp, cc, ss = pp[ok], cc[ok], scores[ok]
            bare = ~cover_p[pp] & ~cover_c[cc]
            pp, cc, ss = pp[bare], cc[bare], ss[bare]
            best = first_per_group(pp, -ss, options.pricing_per_row)
            return pp[best], cc[best], ss[best]

        found: list[tuple[IntArray, IntArray, IntArray]] = []
        blocks = map_pairs(prep, context.evaluator, context.store, check, options)
        for number, block in enumerate(blocks):
            if len(block[0]):
                found.append(block)
            context.tell(f"{context.label}covering pass {passes}", (number + 1) / total_blocks)
        if not found:
            return Covered(size, passes, True)
        pp, cc, ss = (np.concatenate(x) for x in zip(*found, strict=True))
        pool.add(pp, cc, ss, -ss, options.pricing_per_row)
