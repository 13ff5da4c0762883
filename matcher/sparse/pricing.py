"""Pricing: certify a restricted optimum against every pair left out, or grow the working set.

Every feasible pair is priced, block by block: ``w - u_i - v_s > 0`` for some
slot ``s`` of its mentor means the duals are not feasible for the full
problem, so the most profitable such pairs of each mentee join the working set
and the restricted problem is solved again
(:class:`matcher.sparse.restricted.Restricted`). When no pair has a positive
reduced profit, ``(u, v)`` is a feasible dual of the full assignment LP whose
value equals the matching's weight, so the matching is optimal for the full
problem: that stop condition is the certificate (``Certified.certified``).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from matcher.features import Prepared
from matcher.objective import Objective
from matcher.report import Standing
from matcher.scoring import Evaluator
from matcher.sparse.options import SparseOptions
from matcher.sparse.pairs import PairStore, Tell, block_count, first_per_group, map_pairs
from matcher.sparse.restricted import Restricted, Solved, SparsePool, trim
from matcher.types import BoolArray, IntArray

#: Row or column term of a pair outside the pool: its reduced profit stays negative
#: (objective values stay below 2**52, so no sum of these terms overflows int64).
_NEVER = 1 << 61


@dataclass(frozen=True)
class Report:
    """What the last pass over all pairs measures for the full matching.

    Attributes
    ----------
    blocking_pairs : int
        Pairs that both sides would rather have.
    spare_any : ndarray of bool, shape (n,)
        Per mentee, whether a feasible mentor still has a free slot.
    """

    blocking_pairs: int
    spare_any: BoolArray


@dataclass(frozen=True)
class Certified:
    """The result of a certified solve of the pool (pool-local rows and mentor columns).

    Attributes
    ----------
    rows, cols : ndarray of int64
        The matching.
    value, first_value : int
        Its integer objective value, and that of the first restricted solve.
    rounds : int
        Pricing passes.
    grid, waiting_classes : int
        Of the objective.
    certified : bool
        The stop condition: the last pass found no pair with a positive reduced profit.
    report : Report
        Of the full matching.
    """

    rows: IntArray
    cols: IntArray
    value: int
    first_value: int
    rounds: int
    grid: int
    waiting_classes: int
    certified: bool
    report: Report


def report_pass(
    prep: Prepared,
    evaluator: Evaluator,
    store: PairStore | None,
    standing: Standing,
    tell: Callable[[float], None],
    options: SparseOptions,
) -> Report:
    """Blocking pairs and mentees with a spare feasible mentor, in one pass.

    Parameters
    ----------
    prep, evaluator
        The problem and its evaluator.
    store : PairStore or None
        The kept feasible pairs (None: rescore).
    standing : Standing
        The full matching.
    tell : callable
        Called with the fraction of the pass done.
    options : SparseOptions
        Chunks and threads.

    Returns
    -------
    Report
    """
    spare_any = np.zeros(prep.n, dtype=np.bool_)
    blocking = 0
    total = max(block_count(prep, store, options), 1)

    def work(rows: IntArray, cols: IntArray, scores: IntArray) -> tuple[int, IntArray]:
        count = int(np.count_nonzero(standing.blocking(rows, cols, scores)))
        return count, rows[standing.spare[cols]]

    passes = map_pairs(prep, evaluator, store, work, options)
    for number, (count, spare_rows) in enumerate(passes):
        blocking += count
        spare_any[spare_rows] = True
        tell((number + 1) / total)
    return Report(blocking_pairs=blocking, spare_any=spare_any)


def pricing_terms(
    n: int, m: int, pool: SparsePool, weights: Objective, u: IntArray, big_v: IntArray
) -> tuple[IntArray, IntArray]:
    """Per global row and column terms of the reduced profit of a pair.

    A pool pair (row ``r``, column ``c``, score ``s``) has the reduced profit
    ``2 * base(s, omega_p) - u_p - big_v_c``, which equals
    ``weights.doubled_score_part(s) - row_term[r] - col_term[c]``: a pricing pass
    then needs two lookups per pair. Rows and columns outside the pool get a
    term so large that no pair of theirs looks profitable.

    Returns
    -------
    row_term, col_term : ndarray of int64
    """
    row_term = np.full(n, _NEVER, dtype=np.int64)
    row_term[pool.rows] = u - weights.doubled_wait_part(weights.omega)
    col_term = np.full(m, _NEVER, dtype=np.int64)
    col_term[pool.cols] = big_v
    return row_term, col_term


@dataclass(frozen=True)
class Pricing:
    """One certified solve's context: the problem, the pool, where pairs are, how to tune.

    Attributes
    ----------
    prep, evaluator
        The problem and its evaluator.
    pool : SparsePool
        The pool; its working set grows with each pricing round.
    store : PairStore or None
        The feasible pairs kept by the first scan (None: rescore).
    options : SparseOptions
        Tuning.
    tell : callable
        ``tell(phase, fraction)`` (fractions are clamped by the caller).
    label : str
        Prefix of the progress phase.
    """

    prep: Prepared
    evaluator: Evaluator
    pool: SparsePool
    store: PairStore | None
    options: SparseOptions
    tell: Tell
    label: str

    def violators(
        self, weights: Objective, solved: Solved, thr: int, rounds: int
    ) -> tuple[IntArray, IntArray, IntArray, IntArray] | None:
        """One pass: each mentee's most profitable pairs against the duals (None: none)."""
        prep, pool, options = self.prep, self.pool, self.options
        pool_index, col_index = pool.local_index(prep.n, prep.m)
        row_term, col_term = pricing_terms(prep.n, prep.m, pool, weights, solved.u, solved.big_v)
        total_blocks = max(block_count(prep, self.store, options), 1)

        def price(rows: IntArray, cols: IntArray, scores: IntArray) -> tuple[IntArray, ...]:
            reduced = weights.doubled_score_part(scores) - row_term[rows] - col_term[cols]
            add = reduced > 0
            if thr:
                add &= scores >= thr
            p, c = pool_index[rows[add]], col_index[cols[add]]
            s, reduced = scores[add], reduced[add]
            # A mentee's pairs all lie in one block: its best few can be chosen here,
            # which keeps the violators of a whole pass small.
            best = first_per_group(p, -reduced, options.pricing_per_row)
            return p[best], c[best], s[best], reduced[best]

        found: list[tuple[IntArray, ...]] = []
        for number, block in enumerate(map_pairs(prep, self.evaluator, self.store, price, options)):
            if len(block[0]):
                found.append(block)
            done = (number + 1) / total_blocks
            self.tell(
                f"{self.label}pricing round {rounds}",
                1.0 - 0.5 ** (rounds - 1) + 0.5**rounds * done,
            )
        if not found:
            return None
        p, c, s, r = (np.concatenate(x) for x in zip(*found, strict=True))
        return p, c, s, r


def certified_solve(
    context: Pricing,
    threshold: int | None,
    standing_of: Callable[[IntArray, IntArray], Standing],
) -> Certified:
    """Solve the pool exactly by candidates, duals and pricing.

    Parameters
    ----------
    context : Pricing
        The problem, the pool and its working set, the pairs, the options.
    threshold : int or None
        Pairs scoring below it are excluded (``fair``).
    standing_of : callable
        Maps a pool solution (pool rows, pool cols) to the full matching the
        last pass reports blocking pairs and spare mentors for.

    Returns
    -------
    Certified
        The matching, its integer objective value, the value of the first
        restricted solve, the number of pricing rounds and whether the stop
        condition certifies it.
    """
    pool, options, tell, label = context.pool, context.options, context.tell, context.label
    weights = Objective.for_pool(pool)
    thr = 0 if threshold is None else max(threshold, 0)
    restricted = Restricted(pool, weights, thr, options)
    rounds = 0

    def before_solve() -> None:
        tell(f"{label}solving round {rounds + 1}", 1.0 - 0.5**rounds)

    solved = restricted.solve(False, before_solve)
    first_value = solved.value
    shrink, last_value = True, -1
    while True:
        rounds += 1
        found = context.violators(weights, solved, thr, rounds)
        limit = options.max_pricing_rounds
        if found is None or (limit is not None and rounds >= limit):
            at, span = 1.0 - 0.5**rounds, 0.5**rounds

            def told(fraction: float, at: float = at, span: float = span) -> None:
                tell(f"{label}reporting", at + span * fraction)

            standing = standing_of(solved.rows, solved.cols)
            report = report_pass(
                context.prep, context.evaluator, context.store, standing, told, options
            )
            return Certified(
                rows=solved.rows,
                cols=solved.cols,
                value=solved.value,
                first_value=first_value,
                rounds=rounds,
                grid=weights.grid,
                waiting_classes=weights.classes,
                certified=found is None,
                report=report,
            )
        if shrink and solved.value > last_value:
            # Column management: pairs far from tight leave the working set (pricing
            # brings back any that is needed). Only while the restricted optimum
            # strictly improves, so no working set can come back: the loop ends.
            trim(
                pool,
                weights,
                options.working_per_row,
                solved.u,
                solved.big_v,
                thr,
                solved.rows,
                solved.cols,
            )
        else:
            shrink = False
        last_value = solved.value
        # The most profitable violating pairs of each mentee join the working set.
        p, c, s, reduced = found
        pool.add(p, c, s, -reduced, options.pricing_per_row)
        # Often the matching is already optimal and only its duals were wrong: new duals
        # for it on the grown working set (a few relaxation rounds) then spare a solve.
        solved = restricted.solve(True, before_solve)
