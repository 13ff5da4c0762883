"""Exact solving without a dense score matrix: candidates, duals and pricing.

Used when the whole ``n x m`` score matrix would not fit the memory budget
(:data:`matcher.engine.DENSE_PAIR_LIMIT`). The objective, its integer
encoding and the pool (rows, mentor columns, slots, penalties, waiting
ranks) are exactly those of :mod:`matcher.solver`; only the way the optimum
is found differs:

1. the scores are computed once, in row chunks (by a few threads: numpy
   releases the GIL in its kernels), and each pool mentee keeps its
   :data:`CANDIDATES_PER_ROW` best feasible mentors and each mentor its
   :data:`CANDIDATES_PER_MENTOR` best pool mentees; the feasible pairs
   themselves are kept compactly (:class:`PairStore`, 6-8 bytes per pair)
   while they fit :data:`STORE_BYTES`, so that later passes need no
   rescoring;
2. the restricted problem (candidate edges only) is solved exactly with
   ``min_weight_full_bipartite_matching``; in the tail of pricing, when few
   pairs violate the previous round's duals, on costs reduced by those duals
   (:func:`_match_warm`), which leaves the optimum where it is and spares the
   solver most of its work; and not at all when the previous matching is still
   optimal on the grown working set (its duals are then recomputed, step 3);
3. optimal LP duals of the restricted problem are computed from the matching
   (``u`` per mentee, ``v`` per slot, by a vectorised int64 Bellman-Ford on the
   difference constraints that complementary slackness imposes) and checked
   exactly;
4. every feasible pair is priced, block by block: ``w - u_i - v_s > 0`` for
   some slot ``s`` of its mentor means the duals are not feasible for the
   full problem, so the most profitable such pairs of each mentee join the
   candidates and the restricted problem is solved again (step 2).

When no pair has a positive reduced profit, ``(u, v)`` is a feasible dual of
the full assignment LP whose value equals the matching's weight, so the
matching is optimal for the full problem: the result is certified, not
approximate. ``fair`` does its bottleneck search with such certified solves.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Callable, Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import TypeVar

import numpy as np
import scipy.sparse as sp
from scipy.sparse.csgraph import (
    breadth_first_order,
    maximum_bipartite_matching,
    min_weight_full_bipartite_matching,
)

from matcher.features import Prepared
from matcher.scoring import SCORE_SCALE, Evaluator
from matcher.solver import _choose_grid, _omega
from matcher.types import AnyArray, BoolArray, Int32Array, IntArray

#: Best feasible mentors kept per mentee before the first sparse solve (few: the
#: restricted solve's time grows with its edges; pricing brings in what is missing).
CANDIDATES_PER_ROW = 6
#: Best pool mentees kept per mentor (so that every slot has candidates). Where slots are
#: scarce these decide the first solve: at 50,000 x 12,500 max_participation, 16 instead
#: of 8 took its gap from 1.06% to 1e-7 and the solve phase from 98 s to 71 s.
CANDIDATES_PER_MENTOR = 16
#: Most violating pairs added per mentee in one pricing round.
PRICING_PER_ROW = 8
#: Candidates a mentee (and a mentor) keeps, by reduced cost, when a pricing round
#: trims the working set; the pairs of the current matching are always kept.
WORKING_PER_ROW = 4
#: A restricted solve starts from the previous round's duals when fewer of its pairs than
#: this share of the mentees violate them (the thin tail of pricing); with more, a cold
#: solve is faster (measured at 50,000 x 12,500: 56 violators 1.7 s warm vs 8.3 s cold,
#: 1,780 4.5 s vs 8.3 s, 18,527 23 s vs 8.4 s).
WARM_VIOLATORS_SHARE = 0.05
#: Relaxation rounds the duals of an unchanged matching may take on a grown working set
#: before it is solved again (a matching that is no longer optimal never settles; it is
#: usually caught earlier, when an iterate falls below a lower bound).
KEEP_DUAL_ROUNDS = 400
#: Elements per scoring chunk of the sparse path.
CHUNK_ELEMENTS = 1 << 21
#: Memory the first scan may use to keep every feasible pair's score (bytes).
STORE_BYTES = 4 << 30
#: Threads scoring chunks side by side.
SCORING_THREADS = 2

#: Row or column term of a pair outside the pool: its reduced profit stays negative
#: (objective values stay below 2**52, so no sum of these terms overflows int64).
_NEVER = 1 << 61
# Scores per bin of the histogram that bounds each row's best few in the first scan.
_TOP_BIN_SHIFT = 12

Tell = Callable[[str, float], None]
T = TypeVar("T")


def chunk_count(prep: Prepared) -> int:
    """Number of row chunks a pass over all scores takes."""
    step = max(1, CHUNK_ELEMENTS // max(prep.m, 1))
    return -(-prep.n // step)


def _ordered_map(work: Callable[[int], T], starts: range) -> Iterator[T]:
    # work(start) for every start, by SCORING_THREADS threads, yielded in order with a
    # bounded look-ahead (so at most a few chunks are in memory at once).
    threads = max(1, SCORING_THREADS)
    if threads == 1 or len(starts) <= 1:
        yield from map(work, starts)
        return
    with ThreadPoolExecutor(max_workers=threads, thread_name_prefix="matcher-score") as pool:
        pending: deque[Future[T]] = deque()
        for start in starts:
            pending.append(pool.submit(work, start))
            if len(pending) > threads:
                yield pending.popleft().result()
        while pending:
            yield pending.popleft().result()


def _block_scores(
    prep: Prepared, evaluator: Evaluator, start: int, stop: int
) -> tuple[Int32Array, tuple[IntArray, IntArray, Int32Array]]:
    # Scores of rows start..stop against every mentor (-1 where a hard rule excludes),
    # and the feasible pairs (block row, column, score) in row-major order.
    rows = np.arange(start, stop, dtype=np.int64)
    block = evaluator.outer(rows, detail=False)
    assert block.found is not None  # the outer fast path always lists them
    return block.score, block.found


@dataclass
class PairStore:
    """Every feasible pair and its score, by blocks of consecutive mentee rows.

    Block ``k`` covers rows ``starts[k]`` onwards: row ``starts[k] + i`` has the
    pairs ``indptr[k][i]:indptr[k][i + 1]`` of ``cols[k]`` / ``scores[k]``.
    Mentor columns are ``uint16`` when they fit, so a pair costs 6 bytes.
    """

    starts: list[int] = field(default_factory=list)
    indptrs: list[IntArray] = field(default_factory=list)
    cols: list[AnyArray] = field(default_factory=list)
    scores: list[Int32Array] = field(default_factory=list)
    nbytes: int = 0


def map_pairs(
    prep: Prepared,
    evaluator: Evaluator,
    store: PairStore | None,
    work: Callable[[IntArray, IntArray, IntArray], T],
) -> Iterator[T]:
    """Apply ``work`` to every feasible pair once, block by block, in threads.

    Parameters
    ----------
    prep, evaluator
        The problem and its evaluator.
    store : PairStore or None
        The pairs kept by :func:`first_scan`; without it they are rescored.
    work : callable
        ``work(rows, cols, scores)`` on a block of feasible pairs (int64 mentee
        rows, mentor columns and the scores :func:`matcher.scoring.score_matrix`
        has at those places); it runs in :data:`SCORING_THREADS` threads.

    Yields
    ------
    object
        ``work``'s result for each block, in block order.
    """
    if store is not None:
        kept = store

        def stored(k: int) -> T:
            indptr = kept.indptrs[k]
            counts = np.diff(indptr)
            start = kept.starts[k]
            rows = np.repeat(np.arange(start, start + len(counts), dtype=np.int64), counts)
            return work(rows, kept.cols[k].astype(np.int64), kept.scores[k].astype(np.int64))

        yield from _ordered_map(stored, range(len(store.starts)))
        return
    n, m = prep.n, prep.m
    step = max(1, CHUNK_ELEMENTS // max(m, 1))

    def rescored(start: int) -> T:
        _, (r, c, scores) = _block_scores(prep, evaluator, start, min(n, start + step))
        return work(r + start, c, scores.astype(np.int64))

    yield from _ordered_map(rescored, range(0, n, step))


def block_count(prep: Prepared, store: PairStore | None) -> int:
    """Number of blocks :func:`map_pairs` goes through."""
    return len(store.starts) if store is not None else chunk_count(prep)


def report_pass(
    prep: Prepared,
    evaluator: Evaluator,
    store: PairStore | None,
    current: Current,
    tell: Callable[[float], None],
) -> Report:
    """Blocking pairs and mentees with a spare feasible mentor, in one pass.

    Parameters
    ----------
    prep, evaluator
        The problem and its evaluator.
    store : PairStore or None
        The kept feasible pairs (None: rescore).
    current : Current
        The full matching.
    tell : callable
        Called with the fraction of the pass done.

    Returns
    -------
    Report
        Pairs that both sides would rather have, and per mentee whether a
        feasible mentor still has a free slot.
    """
    out = Report(spare_any=np.zeros(prep.n, dtype=np.bool_))
    total = max(block_count(prep, store), 1)

    def work(rows: IntArray, cols: IntArray, scores: IntArray) -> tuple[int, IntArray]:
        better = (scores > current.own[rows]) & (scores > current.worst[cols])
        return int(np.count_nonzero(better)), rows[current.spare[cols]]

    for number, (blocking, spare_rows) in enumerate(map_pairs(prep, evaluator, store, work)):
        out.blocking_pairs += blocking
        out.spare_any[spare_rows] = True
        tell((number + 1) / total)
    return out


@dataclass
class FirstScan:
    """What one pass over all scores leaves behind (no dense matrix)."""

    has_any: BoolArray  # (n,) some mentor is feasible
    count: IntArray  # (n,) feasible mentors
    best_col: IntArray  # (n,) argmax of the score row (first maximum)
    best_score: IntArray  # (n,) its score (-1 when none)
    pool_row: BoolArray  # (n,) in the pool
    degree: IntArray  # (m,) feasible pool rows per open mentor
    row_top: IntArray  # (n,) best score over open mentors
    histogram: IntArray  # (SCORE_SCALE + 1,) pool scores (only for ``fair``)
    feasible_pairs: int
    cand_rows: IntArray  # global rows
    cand_cols: IntArray  # global cols
    cand_scores: IntArray
    store: PairStore | None


@dataclass
class _Chunk:
    # One chunk's share of a FirstScan, computed by a scoring thread.
    start: int
    count: IntArray
    best_col: IntArray
    best_score: IntArray
    row_top: IntArray
    in_pool: BoolArray
    degree: IntArray
    histogram: IntArray | None
    cand_rows: IntArray
    cand_cols: IntArray
    cand_scores: IntArray
    # this chunk's pairs that may join a mentor's best pool mentees (global row, col, score)
    col_rows: IntArray
    col_cols: IntArray
    col_scores: IntArray
    indptr: IntArray
    pair_cols: AnyArray
    pair_scores: Int32Array


def _top_per_row(rows: IntArray, scores: Int32Array, count: int) -> IntArray:
    """Positions of the ``count`` best scores of each row (ties: by position).

    ``rows`` must be sorted (pairs listed row-major) and span a block (the
    histogram has a line per row from the first to the last). A histogram of
    each row's scores in coarse bins first finds the lowest bin a row's best can
    reach; only the pairs from there on are sorted (one combined key). On
    83 x 25,000 blocks with 16% of pairs feasible that sorts a few dozen pairs
    per row instead of thousands (and a row-wise ``argpartition`` of the dense
    block would be slower still).
    """
    if not len(rows):
        return np.zeros(0, dtype=np.int64)
    first = int(rows[0])
    local = rows.astype(np.int64) - first
    n_rows = int(local[-1]) + 1
    bins = (SCORE_SCALE >> _TOP_BIN_SHIFT) + 1
    binned = scores.astype(np.int64) >> _TOP_BIN_SHIFT
    histogram = np.bincount(local * bins + binned, minlength=n_rows * bins).reshape(n_rows, bins)
    # Pairs of each row at or above the highest bin with ``count`` pairs from the top.
    from_top = np.cumsum(histogram[:, ::-1], axis=1)
    lowest = bins - 1 - np.minimum(np.argmax(from_top >= count, axis=1), bins - 1)
    lowest[from_top[:, -1] < count] = 0  # fewer pairs than count: all of them
    near = np.flatnonzero(binned >= lowest[local])
    key = local[near] * (SCORE_SCALE + 2) + (SCORE_SCALE - scores[near].astype(np.int64))
    order = near[np.argsort(key, kind="stable")]
    out: IntArray = order[_rank_in_group(local[order]) < count]
    return out


def _rank_in_group(ordered: IntArray) -> IntArray:
    # Position of each element within its run of equal groups (``ordered`` is grouped).
    if not len(ordered):
        return np.zeros(0, dtype=np.int64)
    head = np.r_[True, ordered[1:] != ordered[:-1]]
    positions = np.arange(len(ordered))
    rank: IntArray = positions - np.maximum.accumulate(np.where(head, positions, 0))
    return rank


def _merge_col_best(
    col_scores: IntArray,
    col_rows: IntArray,
    rows: IntArray,
    cols: IntArray,
    scores: IntArray,
    floor: IntArray,
) -> IntArray:
    """Merge pairs of later rows into each mentor's best (in place); return the new floor.

    ``col_scores[:, c]`` / ``col_rows[:, c]`` hold mentor ``c``'s best pool
    mentees so far (-1: empty), best by score, ties by the earlier row. The
    floor is the worst score among a mentor's best when it has its full count,
    else -1: a later pair needs more than that to join.
    """
    depth = len(col_scores)
    touched = np.unique(cols)
    old_s = col_scores[:, touched].ravel()
    old_r = col_rows[:, touched].ravel()
    old_c = np.broadcast_to(touched[None, :], (depth, len(touched))).ravel()
    all_s = np.concatenate([old_s, scores])
    all_r = np.concatenate([old_r, rows])
    all_c = np.concatenate([old_c, cols])
    present = all_s >= 0
    all_s, all_r, all_c = all_s[present], all_r[present], all_c[present]
    order = np.lexsort((all_r, -all_s, all_c))
    rank = _rank_in_group(all_c[order])
    order, rank = order[rank < depth], rank[rank < depth]
    col_scores[:, touched] = -1
    col_rows[:, touched] = -1
    col_scores[rank, all_c[order]] = all_s[order]
    col_rows[rank, all_c[order]] = all_r[order]
    out = floor.copy()
    out[touched] = col_scores[:, touched].min(axis=0)
    return out


def first_scan(
    prep: Prepared,
    evaluator: Evaluator,
    open_cols: BoolArray,
    is_pinned: BoolArray,
    tell: Tell,
    lo: float,
    hi: float,
) -> FirstScan:
    """Score everything once, chunk by chunk, keeping only what is needed.

    Parameters
    ----------
    prep, evaluator
        The problem and its evaluator.
    open_cols : ndarray of bool, shape (m,)
        Mentors with a free slot left after the pins.
    is_pinned : ndarray of bool, shape (n,)
        Mentees placed by a pin.
    tell : callable
        ``tell(phase, fraction)``; the phase names the chunk ("scoring chunk
        k of n").
    lo, hi : float
        Progress fractions at the start and the end of the scan.

    Returns
    -------
    FirstScan
        Per-row and per-column summaries, each pool row's best candidates
        and, within :data:`STORE_BYTES`, every feasible pair.
    """
    n, m = prep.n, prep.m
    step = max(1, CHUNK_ELEMENTS // max(m, 1))
    k = min(CANDIDATES_PER_ROW, m)
    depth = CANDIDATES_PER_MENTOR
    fair = prep.settings.objective == "fair"
    col_dtype = np.uint16 if m <= np.iinfo(np.uint16).max + 1 else np.int32
    pair_bytes = np.dtype(col_dtype).itemsize + 4

    def work(start: int) -> _Chunk:
        stop = min(n, start + step)
        block, (pr, pc, pair_scores) = _block_scores(prep, evaluator, start, stop)
        r = stop - start
        rows = np.arange(start, stop, dtype=np.int64)
        feasible = block >= 0
        counts = feasible.sum(axis=1).astype(np.int64)
        best = np.argmax(block, axis=1).astype(np.int64)
        masked = np.where(open_cols[None, :], block, np.int32(-1))
        top = masked.max(axis=1).astype(np.int64)
        in_pool = ~is_pinned[rows] & (top >= 0)
        del masked
        # The pool's feasible pairs, row-major (a sixth of the block or so): the row
        # summaries and each row's best k come from them, not from the dense block.
        usable = in_pool[pr] & open_cols[pc]
        up, uc, us = pr[usable], pc[usable], pair_scores[usable]
        degree = np.bincount(uc, minlength=m).astype(np.int64)
        histogram = np.bincount(us, minlength=SCORE_SCALE + 1) if fair else None
        best_k = _top_per_row(up, us, k)
        # Only pairs above the depth-th best score a mentor had after the chunks merged
        # so far (all of earlier rows) can still join its best; then this chunk's best.
        hit = us > col_floor[0][uc] if depth else np.zeros(len(us), dtype=np.bool_)
        hr, hc, hs = up[hit], uc[hit], us[hit]
        top_c = _first_per_group(hc, -hs.astype(np.int64), depth)
        del feasible
        indptr = np.zeros(r + 1, dtype=np.int64)
        np.cumsum(counts, out=indptr[1:])
        return _Chunk(
            start=start,
            count=counts,
            best_col=best,
            best_score=block[np.arange(r), best].astype(np.int64),
            row_top=top,
            in_pool=in_pool,
            degree=degree,
            histogram=histogram,
            cand_rows=up[best_k] + start,
            cand_cols=uc[best_k].astype(np.int64),
            cand_scores=us[best_k].astype(np.int64),
            col_rows=hr[top_c] + start,
            col_cols=hc[top_c].astype(np.int64),
            col_scores=hs[top_c].astype(np.int64),
            indptr=indptr,
            pair_cols=pc.astype(col_dtype),
            pair_scores=pair_scores,
        )

    out = FirstScan(
        has_any=np.zeros(n, dtype=np.bool_),
        count=np.zeros(n, dtype=np.int64),
        best_col=np.zeros(n, dtype=np.int64),
        best_score=np.full(n, -1, dtype=np.int64),
        pool_row=np.zeros(n, dtype=np.bool_),
        degree=np.zeros(m, dtype=np.int64),
        row_top=np.full(n, -1, dtype=np.int64),
        histogram=np.zeros(SCORE_SCALE + 1 if fair else 0, dtype=np.int64),
        feasible_pairs=0,
        cand_rows=np.zeros(0, dtype=np.int64),
        cand_cols=np.zeros(0, dtype=np.int64),
        cand_scores=np.zeros(0, dtype=np.int64),
        store=PairStore(),
    )
    total = chunk_count(prep)
    rows_parts: list[IntArray] = []
    cols_parts: list[IntArray] = []
    score_parts: list[IntArray] = []
    col_scores = np.full((depth, m), -1, dtype=np.int64)
    col_rows = np.full((depth, m), -1, dtype=np.int64)
    col_floor = [np.full(m, -1, dtype=np.int64)]  # replaced, never written in place
    for number, chunk in enumerate(_ordered_map(work, range(0, n, step))):
        start, r = chunk.start, len(chunk.count)
        here = slice(start, start + r)
        out.count[here] = chunk.count
        out.has_any[here] = chunk.count > 0
        out.feasible_pairs += int(chunk.count.sum())
        out.best_col[here] = chunk.best_col
        out.best_score[here] = chunk.best_score
        out.row_top[here] = chunk.row_top
        out.pool_row[here] = chunk.in_pool
        out.degree += chunk.degree
        if chunk.histogram is not None:
            out.histogram += chunk.histogram
        rows_parts.append(chunk.cand_rows)
        cols_parts.append(chunk.cand_cols)
        score_parts.append(chunk.cand_scores)
        if len(chunk.col_scores):
            col_floor[0] = _merge_col_best(
                col_scores, col_rows, chunk.col_rows, chunk.col_cols, chunk.col_scores, col_floor[0]
            )
        store = out.store
        if store is not None:
            store.nbytes += len(chunk.pair_scores) * pair_bytes + chunk.indptr.nbytes
            if store.nbytes > STORE_BYTES:
                out.store = None  # too many feasible pairs: later passes rescore
            else:
                store.starts.append(start)
                store.indptrs.append(chunk.indptr)
                store.cols.append(chunk.pair_cols)
                store.scores.append(chunk.pair_scores)
        tell(f"scoring chunk {number + 1} of {total}", lo + (hi - lo) * (number + 1) / total)
    found = col_scores >= 0
    rows_parts.append(col_rows[found])
    cols_parts.append(np.broadcast_to(np.arange(m, dtype=np.int64)[None, :], found.shape)[found])
    score_parts.append(col_scores[found].astype(np.int64))
    cand_rows = np.concatenate(rows_parts).astype(np.int64)
    cand_cols = np.concatenate(cols_parts).astype(np.int64)
    _, first = np.unique(cand_rows * max(m, 1) + cand_cols, return_index=True)
    out.cand_rows = cand_rows[first]
    out.cand_cols = cand_cols[first]
    out.cand_scores = np.concatenate(score_parts).astype(np.int64)[first]
    return out


@dataclass
class SparsePool:
    """The pool of a sparse solve: same meaning as :class:`matcher.solver.PoolProblem`."""

    rows: IntArray  # global mentee rows
    cols: IntArray  # global mentor cols
    slots: IntArray
    first_penalty_k: IntArray
    waiting_class: IntArray
    objective: str
    load_penalty: float
    row_top: IntArray  # best pool score per pool row
    histogram: IntArray
    # candidate edges (the working set of the restricted problem), pool-local
    cand_p: IntArray
    cand_c: IntArray
    cand_s: IntArray
    considered: int = 0  # first candidates plus every pair pricing brought in


@dataclass
class Report:
    """What a pricing scan measures for the current full matching."""

    blocking_pairs: int = 0
    spare_any: BoolArray = field(default_factory=lambda: np.zeros(0, dtype=np.bool_))


@dataclass(frozen=True)
class Current:
    """The full matching (pins included) a pricing scan reports on."""

    own: IntArray  # (n,) score of each mentee's pair, -1 when unmatched
    worst: IntArray  # (m,) worst score among a mentor's mentees, -1 if it has a free slot
    spare: BoolArray  # (m,) mentor still has a free slot


@dataclass
class Certified:
    """A certified optimum of the pool (pool-local rows and mentor columns)."""

    rows: IntArray
    cols: IntArray
    value: int
    first_value: int
    rounds: int
    grid: int
    waiting_classes: int
    report: Report


class Weights:
    """The integer objective of :func:`matcher.solver.encode`, edge by edge."""

    def __init__(self, pool: SparsePool) -> None:
        slots = pool.slots
        self.slot_mentor = np.repeat(np.arange(len(slots), dtype=np.int64), slots)
        self.slot_start = np.cumsum(slots) - slots
        within = np.arange(len(self.slot_mentor), dtype=np.int64) - np.repeat(
            self.slot_start, slots
        )
        penalty_k = pool.first_penalty_k[self.slot_mentor] + within
        self.omega, self.classes = _omega(pool.waiting_class)
        n_pairs = min(len(pool.rows), len(self.slot_mentor))
        self.grid, self.multiplier, penalty = _choose_grid(
            pool.objective, n_pairs, max(self.classes, 1), pool.load_penalty, penalty_k
        )
        self.max_score = pool.objective == "max_score"
        self.slot_penalty: IntArray = penalty * self.multiplier if self.max_score else penalty
        self.factor = SCORE_SCALE // self.grid
        self.n_slots = len(self.slot_mentor)

    def base(self, s: IntArray, w: IntArray) -> IntArray:
        """Weight of a mentee-mentor pair before the slot penalty."""
        s_obj = self._grid(s)
        out: IntArray = (
            s_obj * self.multiplier + w if self.max_score else s_obj + w * self.multiplier
        )
        return out

    def _grid(self, s: IntArray) -> IntArray:
        return s if self.factor == 1 else (s + self.factor // 2) // self.factor

    def doubled_score_part(self, s: IntArray) -> IntArray:
        """The score's share of ``2 * base(s, w)``; the rest is :meth:`doubled_wait_part`."""
        s_obj = self._grid(s)
        out: IntArray = 2 * s_obj * self.multiplier if self.max_score else 2 * s_obj
        return out

    def doubled_wait_part(self, w: IntArray) -> IntArray:
        """The waiting class's share of ``2 * base(s, w)``."""
        out: IntArray = 2 * w if self.max_score else 2 * w * self.multiplier
        return out


def _expand(
    weights: Weights, pool: SparsePool, p: IntArray, c: IntArray, a: IntArray
) -> tuple[IntArray, IntArray, IntArray]:
    # Mentee-mentor edges of base weight ``a`` -> mentee-slot edges of positive weight.
    rep = pool.slots[c]
    src = np.repeat(np.arange(len(p), dtype=np.int64), rep)
    offsets = np.cumsum(rep) - rep
    slot = np.repeat(weights.slot_start[c] - offsets, rep) + np.arange(len(src), dtype=np.int64)
    w = a[src] - weights.slot_penalty[slot]
    keep = w > 0
    return p[src][keep], slot[keep], w[keep]


def _match(
    n_p: int,
    n_slots: int,
    ep: IntArray,
    es: IntArray,
    w: IntArray,
    cardinality_first: bool = False,
) -> tuple[IntArray, IntArray]:
    """Maximum-weight matching of mentees to slots (LAPJVsp with private dummies).

    The smaller side forms the rows; a row may stay unmatched through a private
    dummy column. With ``cardinality_first`` (the weights make every optimum a
    maximum-cardinality matching: ``max_participation`` and ``fair``) only the
    rows some maximum matching leaves unmatched get a dummy (Dulmage-Mendelsohn:
    those reachable from an unmatched row by an alternating path); every other
    row is matched in every optimum, so forcing it matched loses none. Each
    dummy column costs the solver a full scan per search, so dropping them
    matters: none are left when the rows have a full matching.
    """
    slot_major = n_slots <= n_p
    row, col = (es, ep) if slot_major else (ep, es)
    n_rows, n_cols = (n_slots, n_p) if slot_major else (n_p, n_slots)
    if n_rows == 0 or len(w) == 0:
        empty = np.zeros(0, dtype=np.int64)
        return empty, empty
    # Rows renumbered by degree, fewest edges first: the solver places the free rows
    # one by one in index order, and rows with few choices placed early leave the
    # many-choice rows short augmenting paths. Same optimum, far fewer column scans
    # (the four cold solves of a 100,000 x 25,000 run: 122 -> 56 s).
    degree = np.bincount(row, minlength=n_rows).astype(np.int64)
    by_degree = np.argsort(degree, kind="stable")
    label = np.empty(n_rows, dtype=np.int64)
    label[by_degree] = np.arange(n_rows, dtype=np.int64)
    row = label[row]
    degree = degree[by_degree]
    order = np.argsort(row, kind="stable")
    row, col, w = row[order], col[order], w[order]
    big = int(w.max()) + 1
    if cardinality_first:
        dummy_rows = _unmatched_in_some_maximum(row, col, degree, n_cols)
    else:
        dummy_rows = np.ones(n_rows, dtype=np.bool_)
    counts = degree + dummy_rows
    indptr = np.zeros(n_rows + 1, dtype=np.int64)
    np.cumsum(counts, out=indptr[1:])
    size = int(indptr[-1])
    indices = np.empty(size, dtype=np.int32)
    data = np.empty(size, dtype=np.float64)
    # Each row's real edges first, then its dummy (if any) in the row's last place.
    real = np.arange(len(row), dtype=np.int64) + (indptr[:-1] - (np.cumsum(degree) - degree))[row]
    indices[real] = col
    data[real] = (big - w).astype(np.float64)
    with_dummy = np.flatnonzero(dummy_rows)
    dummy = indptr[1:][with_dummy] - 1
    indices[dummy] = n_cols + np.arange(len(with_dummy), dtype=np.int32)
    data[dummy] = float(big)
    graph = sp.csr_array((data, indices, indptr), shape=(n_rows, n_cols + len(with_dummy)))
    r, c = min_weight_full_bipartite_matching(graph)
    r = by_degree[np.asarray(r, dtype=np.int64)]
    c = np.asarray(c, dtype=np.int64)
    used = c < n_cols
    r, c = r[used], c[used]
    return (c, r) if slot_major else (r, c)  # (mentee, slot)


def _unmatched_in_some_maximum(
    row: IntArray, col: IntArray, degree: IntArray, n_cols: int
) -> BoolArray:
    """Rows that some maximum-cardinality matching leaves unmatched.

    ``row`` is sorted. With one maximum matching (Hopcroft-Karp), these are the
    rows reachable from its unmatched rows by alternating paths (row, any edge,
    column, matched edge, row): one breadth-first search over the graph whose
    arcs are the edges (row to column) and the matching (column to its row),
    from a source linked to every unmatched row.
    """
    n_rows = len(degree)
    indptr = np.zeros(n_rows + 1, dtype=np.int64)
    np.cumsum(degree, out=indptr[1:])
    graph = sp.csr_array(
        (np.ones(len(row), dtype=np.int8), col.astype(np.int32), indptr), shape=(n_rows, n_cols)
    )
    mate = np.asarray(maximum_bipartite_matching(graph, perm_type="column"), dtype=np.int64)
    free = mate < 0
    if not free.any():
        return free
    matched = np.flatnonzero(~free)
    mate_of_col = np.full(n_cols, -1, dtype=np.int64)
    mate_of_col[mate[matched]] = matched
    reached, _ = _alternating_reach(row, col, mate_of_col, free, n_cols)
    return reached


def _alternating_reach(
    ea: IntArray, eb: IntArray, mate_of_b: IntArray, start: BoolArray, n_b: int
) -> tuple[BoolArray, BoolArray]:
    """Vertices reachable from ``start`` by alternating paths (a, any edge, b, matched edge, a).

    ``ea``/``eb`` are the edges, ``mate_of_b`` the matched ``a`` of each ``b``
    (-1: none). One breadth-first search from a source linked to every start
    vertex. Returns the reached ``a`` and ``b`` vertices.
    """
    n_a = len(start)
    source = n_a + n_b
    matched_b = np.flatnonzero(mate_of_b >= 0)
    starts = np.flatnonzero(start)
    tails = np.concatenate([ea, n_a + matched_b, np.full(len(starts), source)])
    heads = np.concatenate([n_a + eb, mate_of_b[matched_b], starts])
    arcs = sp.csr_array(
        (np.ones(len(tails), dtype=np.bool_), (tails, heads)), shape=(source + 1, source + 1)
    )
    reached = breadth_first_order(arcs, source, directed=True, return_predecessors=False)
    out = np.zeros(source + 1, dtype=np.bool_)
    out[reached] = True
    return out[:n_a], out[n_a:source]


def _match_warm(
    n_p: int,
    n_slots: int,
    ep: IntArray,
    es: IntArray,
    reduced: IntArray,
    u: IntArray,
    v: IntArray,
) -> tuple[IntArray, IntArray]:
    """The matching of :func:`_match`, solved on costs reduced by earlier duals.

    ``u``, ``v`` are optimal duals of the doubled weights ``2 w`` of an earlier
    working set, and ``reduced`` is ``u[ep] + v[es] - 2 w`` edge by edge. The
    problem is made square: every mentee has a private dummy slot, every slot a
    private dummy mentee, and the dummies pair up along the real edges, so that
    every full matching covers each mentee and each slot exactly once. Then the
    reduced costs (plus one constant, to keep them positive) change every full
    matching's cost by the same amount and leave the optimum where it was; the
    pairs that were tight cost nothing, and the solver only repairs around the
    few that violate the old duals.
    """
    if len(reduced) == 0:
        empty = np.zeros(0, dtype=np.int64)
        return empty, empty
    base = max(int(-reduced.min()), 0) + 1  # costs stay > 0 (zeros would vanish)
    n_edges = len(ep)
    p_all = np.arange(n_p, dtype=np.int64)
    s_all = np.arange(n_slots, dtype=np.int64)
    rows = np.concatenate([ep, p_all, n_p + es, n_p + s_all])
    cols = np.concatenate([es, n_slots + p_all, n_slots + ep, s_all])
    costs = np.concatenate(
        [reduced + base, u + base, np.full(n_edges, base, dtype=np.int64), v + base]
    ).astype(np.float64)
    size = n_p + n_slots
    graph = sp.csr_array((costs, (rows, cols)), shape=(size, size))
    r, c = min_weight_full_bipartite_matching(graph)
    r = np.asarray(r, dtype=np.int64)
    c = np.asarray(c, dtype=np.int64)
    real = (r < n_p) & (c < n_slots)
    return r[real], c[real]


class _NoDual(Exception):
    """The matching admits no dual within the iteration limit (it may not be optimal)."""


def _duals(
    n_p: int,
    n_slots: int,
    ep: IntArray,
    es: IntArray,
    w: IntArray,
    mentee: IntArray,
    slot: IntArray,
    limit: int | None = None,
) -> tuple[IntArray, IntArray]:
    """Twice the midpoint of two optimal LP duals of a maximum-weight matching.

    Complementary slackness fixes ``v_s = W_q - u_q`` for the slot ``s`` of a
    matched mentee ``q`` (weight ``W_q``) and ``u = 0`` / ``v = 0`` for
    unmatched mentees / slots; dual feasibility then reads as difference
    constraints on ``u`` (``u_q - u_p <= W_q - w_ps``, ``L_p <= u_p <= W_p``),
    solved by shortest paths (Bellman-Ford from the upper bounds, so the
    largest solution) and by longest paths from the lower bounds (the
    smallest), each checked edge by edge. Returned: the sums ``u_high + u_low``
    and ``v_high + v_low``, an optimal dual of the doubled weights ``2 w``.

    Such duals exist exactly when the matching is optimal on these edges; with
    ``limit``, a search that has not settled after that many rounds of
    relaxation raises :class:`_NoDual` (a matching that is not optimal leaves a
    negative cycle, which never settles). Without it, that is a bug.
    """
    rounds = n_p + 1 if limit is None else min(limit, n_p + 1)
    mate = np.full(n_slots, -1, dtype=np.int64)
    mate[slot] = mentee
    own_w = np.zeros(n_p, dtype=np.int64)
    key_matched = np.zeros(n_p, dtype=np.bool_)
    # weight of each matched edge: look it up among the edges
    edge_key = ep * n_slots + es
    order = np.argsort(edge_key, kind="stable")
    pos = order[np.searchsorted(edge_key[order], mentee * n_slots + slot)]
    own_w[mentee] = w[pos]
    key_matched[mentee] = True
    q = mate[es]
    to_mate = (q >= 0) & (q != ep)
    lower = np.zeros(n_p, dtype=np.int64)
    free_slot = q < 0
    np.maximum.at(lower, ep[free_slot], w[free_slot])
    # Largest u with u_p <= W_p (u = 0 unmatched) and u_q <= u_p + W_q - w_ps:
    # Bellman-Ford from these upper bounds, vectorised, in exact int64.
    src, dst = ep[to_mate], q[to_mate]
    length = own_w[dst] - w[to_mate]
    order = np.argsort(dst, kind="stable")
    src, dst, length = src[order], dst[order], length[order]
    heads = np.flatnonzero(np.r_[True, dst[1:] != dst[:-1]]) if len(dst) else np.zeros(0, np.int64)
    targets = dst[heads]
    u = own_w.copy()
    # Every iterate bounds the largest solution from above, so one below a mentee's
    # lower bound proves there is none (the matching is not optimal): stop there.
    floor = np.maximum(lower, 0)
    for _ in range(rounds):
        if not len(heads):
            break
        best = np.minimum.reduceat(u[src] + length, heads)
        lower_now = best < u[targets]
        if not lower_now.any():
            break
        changed = targets[lower_now]
        u[changed] = best[lower_now]
        if bool((u[changed] < floor[changed]).any()):
            _no_dual(limit)
    else:
        _no_dual(limit)
    high = u
    # Smallest u: longest paths upwards from the lower bounds (u_p >= u_q + w_ps - W_q).
    order = np.argsort(src, kind="stable")
    up_src, up_dst, up_gain = src[order], dst[order], -length[order]
    heads = (
        np.flatnonzero(np.r_[True, up_src[1:] != up_src[:-1]])
        if len(up_src)
        else np.zeros(0, np.int64)
    )
    targets = up_src[heads]
    u = np.where(key_matched, lower, 0)
    for _ in range(rounds):
        if not len(heads):
            break
        best = np.maximum.reduceat(u[up_dst] + up_gain, heads)
        higher = best > u[targets]
        if not higher.any():
            break
        u[targets[higher]] = best[higher]
    else:
        _no_dual(limit)
    # Both extremes are optimal duals; their sum (twice the midpoint) is what pricing
    # uses: fewer pairs look profitable against it than against either extreme.
    total_u, total_v = np.zeros(n_p, dtype=np.int64), np.zeros(n_slots, dtype=np.int64)
    for dual in (high, u):
        v = np.zeros(n_slots, dtype=np.int64)
        v[slot] = own_w[mentee] - dual[mentee]
        ok = (
            bool((dual >= 0).all())
            and bool((v >= 0).all())
            and bool((dual[~key_matched] == 0).all())
            and bool((dual >= lower).all())
            and bool((dual[ep] + v[es] >= w).all())
        )
        if not ok:
            _no_dual(limit)
        total_u += dual
        total_v += v
    return total_u, total_v


def _no_dual(limit: int | None) -> None:
    if limit is None:  # pragma: no cover - would be a bug, never an approximation
        raise AssertionError("sparse solver: no dual certificate for the matching")
    raise _NoDual


def _pricing_terms(
    n: int, m: int, pool: SparsePool, weights: Weights, u: IntArray, big_v: IntArray
) -> tuple[IntArray, IntArray]:
    """Per global row and column terms of the reduced profit of a pair.

    A pool pair (row ``r``, column ``c``, score ``s``) has the reduced profit
    ``2 * base(s, omega_p) - u_p - big_v_c``, which equals
    ``weights.doubled_score_part(s) - row_term[r] - col_term[c]``: a pricing pass
    then needs two lookups per pair. Rows and columns outside the pool get a
    term so large that no pair of theirs looks profitable.
    """
    row_term = np.full(n, _NEVER, dtype=np.int64)
    row_term[pool.rows] = u - weights.doubled_wait_part(weights.omega)
    col_term = np.full(m, _NEVER, dtype=np.int64)
    col_term[pool.cols] = big_v
    return row_term, col_term


def _first_per_group(group: IntArray, key: IntArray, count: int) -> BoolArray:
    # Mask of the `count` smallest keys of each group (ties by position).
    order = np.lexsort((key, group))
    out = np.zeros(len(group), dtype=np.bool_)
    out[order[_rank_in_group(group[order]) < count]] = True
    return out


def _trim(
    pool: SparsePool,
    weights: Weights,
    u: IntArray,
    big_v: IntArray,
    thr: int,
    matched_p: IntArray,
    matched_c: IntArray,
) -> None:
    # Keep the matched pairs and each mentee's and each mentor's WORKING_PER_ROW
    # candidates of least reduced cost; pairs under the threshold are kept as they are.
    p, c, s = pool.cand_p, pool.cand_c, pool.cand_s
    usable = s >= thr
    slack = u[p] + big_v[c] - 2 * weights.base(s, weights.omega[p])
    slack = np.where(usable, slack, np.iinfo(np.int64).max)
    n_cols = max(len(pool.cols), 1)
    keep = ~usable | np.isin(p * n_cols + c, matched_p * n_cols + matched_c)
    keep |= _first_per_group(p, slack, WORKING_PER_ROW)
    keep |= _first_per_group(c, slack, WORKING_PER_ROW)
    pool.cand_p, pool.cand_c, pool.cand_s = p[keep], c[keep], s[keep]


def certified_solve(
    prep: Prepared,
    evaluator: Evaluator,
    pool: SparsePool,
    threshold: int | None,
    current_of: Callable[[IntArray, IntArray], Current],
    tell: Tell,
    label: str,
    store: PairStore | None,
) -> Certified:
    """Solve the pool exactly by candidates, duals and pricing.

    Parameters
    ----------
    prep, evaluator
        The problem and its evaluator.
    pool : SparsePool
        The pool; its candidate edges grow with each pricing round.
    threshold : int or None
        Pairs scoring below it are excluded (``fair``).
    current_of : callable
        Maps a pool solution (pool rows, pool cols) to the full matching the
        pricing scan reports blocking pairs and spare mentors for.
    tell : callable
        ``tell(phase, fraction)`` (fractions are clamped by the caller).
    label : str
        Prefix of the progress phase.
    store : PairStore or None
        The feasible pairs kept by :func:`first_scan` (None: rescore).

    Returns
    -------
    Certified
        The optimal matching, its integer objective value, the value of the
        first restricted solve and the number of pricing rounds.
    """
    weights = Weights(pool)
    n_p, n_slots = len(pool.rows), weights.n_slots
    thr = 0 if threshold is None else max(threshold, 0)
    pool_index = np.full(prep.n, -1, dtype=np.int64)
    pool_index[pool.rows] = np.arange(n_p, dtype=np.int64)
    col_index = np.full(prep.m, -1, dtype=np.int64)
    col_index[pool.cols] = np.arange(len(pool.cols), dtype=np.int64)
    rounds = 0
    last_duals: list[IntArray] = []  # the slot-level duals of the previous solve
    last_match: list[IntArray] = []  # the matching of the previous solve (mentee, slot)

    def solve_restricted(
        try_keep: bool = False,
    ) -> tuple[IntArray, IntArray, IntArray, IntArray, int]:
        # try_keep: if the previous matching is still optimal on the grown working set
        # (its duals exist), keep it with them instead of solving again.
        use = pool.cand_s >= thr
        ep, es, w = _expand(
            weights,
            pool,
            pool.cand_p[use],
            pool.cand_c[use],
            weights.base(pool.cand_s[use], weights.omega[pool.cand_p[use]]),
        )
        kept: tuple[IntArray, IntArray] | None = None
        if try_keep and last_match and len(last_match[0]):
            old_mentee, old_slot = last_match
            try:
                kept = _duals(n_p, n_slots, ep, es, w, old_mentee, old_slot, KEEP_DUAL_ROUNDS)
            except _NoDual:
                kept = None
        if kept is not None:
            mentee, slot = last_match
            u, v = kept
        else:
            tell(f"{label}solving round {rounds + 1}", 1.0 - 0.5**rounds)
            warm = False
            if last_duals:
                u_old, v_old = last_duals
                reduced = u_old[ep] + v_old[es] - 2 * w
                warm = int(np.count_nonzero(reduced < 0)) < WARM_VIOLATORS_SHARE * n_p
            if warm:
                mentee, slot = _match_warm(n_p, n_slots, ep, es, reduced, u_old, v_old)
            else:
                mentee, slot = _match(n_p, n_slots, ep, es, w, not weights.max_score)
            last_match[:] = [mentee, slot]
            if len(mentee):
                u, v = _duals(n_p, n_slots, ep, es, w, mentee, slot)
        if len(mentee):
            last_duals[:] = [u, v]
            # Strong duality, exact by construction: each of the two duals _duals sums
            # is 0 off the matching and adds up to each matched weight on it.
            value = (int(u.sum()) + int(v.sum())) // 2
        else:
            u, v = np.zeros(n_p, dtype=np.int64), np.zeros(n_slots, dtype=np.int64)
            value = 0
        cols = weights.slot_mentor[slot]
        ordered = np.argsort(mentee, kind="stable")
        # Mentor-level dual (of the doubled weights): the cheapest slot of each mentor
        # (every pool mentor has one).
        big_v = np.minimum.reduceat(2 * weights.slot_penalty + v, weights.slot_start)
        return u, big_v, mentee[ordered], cols[ordered], value

    state = solve_restricted()
    first_value = state[4]
    trim, last_value = True, -1
    while True:
        u, big_v, sol_rows, sol_cols, value = state
        rounds += 1
        total_blocks = max(block_count(prep, store), 1)
        row_term, col_term = _pricing_terms(prep.n, prep.m, pool, weights, u, big_v)

        def price(
            rows: IntArray,
            cols: IntArray,
            scores: IntArray,
            row_term: IntArray = row_term,
            col_term: IntArray = col_term,
        ) -> tuple[IntArray, ...]:
            reduced = weights.doubled_score_part(scores) - row_term[rows] - col_term[cols]
            add = reduced > 0
            if thr:
                add &= scores >= thr
            p, c = pool_index[rows[add]], col_index[cols[add]]
            s, reduced = scores[add], reduced[add]
            # A mentee's pairs all lie in one block: its best few can be chosen here,
            # which keeps the violators of a whole pass small.
            best = _first_per_group(p, -reduced, PRICING_PER_ROW)
            return p[best], c[best], s[best], reduced[best]

        new_p: list[IntArray] = []
        new_c: list[IntArray] = []
        new_s: list[IntArray] = []
        new_r: list[IntArray] = []
        for number, found in enumerate(map_pairs(prep, evaluator, store, price)):
            if len(found[0]):
                new_p.append(found[0])
                new_c.append(found[1])
                new_s.append(found[2])
                new_r.append(found[3])
            done = (number + 1) / total_blocks
            tell(f"{label}pricing round {rounds}", 1.0 - 0.5 ** (rounds - 1) + 0.5**rounds * done)
        if not new_p:
            at, span = 1.0 - 0.5**rounds, 0.5**rounds

            def told(fraction: float, at: float = at, span: float = span) -> None:
                tell(f"{label}reporting", at + span * fraction)

            report = report_pass(prep, evaluator, store, current_of(sol_rows, sol_cols), told)
            return Certified(
                rows=sol_rows,
                cols=sol_cols,
                value=value,
                first_value=first_value,
                rounds=rounds,
                grid=weights.grid,
                waiting_classes=weights.classes,
                report=report,
            )
        if trim and value > last_value:
            # Column management: pairs far from tight leave the working set (pricing
            # brings back any that is needed). Only while the restricted optimum
            # strictly improves, so no working set can come back: the loop ends.
            _trim(pool, weights, u, big_v, thr, sol_rows, sol_cols)
        else:
            trim = False
        last_value = value
        # The most profitable violating pairs of each mentee join the candidates.
        p, c, s, reduced = (np.concatenate(x) for x in (new_p, new_c, new_s, new_r))
        keep = _first_per_group(p, -reduced, PRICING_PER_ROW)
        pool.cand_p = np.concatenate([pool.cand_p, p[keep]])
        pool.cand_c = np.concatenate([pool.cand_c, c[keep]])
        pool.cand_s = np.concatenate([pool.cand_s, s[keep]])
        pool.considered += int(np.count_nonzero(keep))
        # Often the matching is already optimal and only its duals were wrong: new duals
        # for it on the grown working set (a few relaxation rounds) then spare a solve.
        state = solve_restricted(try_keep=True)


def candidate_matching_size(pool: SparsePool, threshold: int) -> int:
    """Size of a maximum matching using only candidate pairs scoring >= threshold.

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
    weights = Weights(pool)
    use = pool.cand_s >= max(threshold, 0)
    p, c = pool.cand_p[use], pool.cand_c[use]
    # Every slot-level edge, whatever its weight: only the cardinality counts.
    ep, es, _ = _expand(weights, pool, p, c, np.ones(len(p), dtype=np.int64) << 62)
    n_p, n_slots = len(pool.rows), weights.n_slots
    if len(ep) == 0:
        return 0
    slot_major = n_slots <= n_p
    row, col = (es, ep) if slot_major else (ep, es)
    n_rows, n_cols = (n_slots, n_p) if slot_major else (n_p, n_slots)
    order = np.argsort(row, kind="stable")
    indptr = np.zeros(n_rows + 1, dtype=np.int64)
    np.cumsum(np.bincount(row, minlength=n_rows), out=indptr[1:])
    graph = sp.csr_array(
        (np.ones(len(row), dtype=np.int8), col[order].astype(np.int32), indptr),
        shape=(n_rows, n_cols),
    )
    match = maximum_bipartite_matching(graph, perm_type="column")
    return int(np.count_nonzero(np.asarray(match) >= 0))


def _max_matching(n_p: int, n_slots: int, ep: IntArray, es: IntArray) -> tuple[IntArray, IntArray]:
    # A maximum-cardinality matching (Hopcroft-Karp): the slot of each mentee and the
    # mentee of each slot, -1 when unmatched.
    slot_of = np.full(n_p, -1, dtype=np.int64)
    mentee_of = np.full(n_slots, -1, dtype=np.int64)
    if len(ep) == 0:
        return slot_of, mentee_of
    order = np.argsort(ep, kind="stable")
    indptr = np.zeros(n_p + 1, dtype=np.int64)
    np.cumsum(np.bincount(ep, minlength=n_p), out=indptr[1:])
    graph = sp.csr_array(
        (np.ones(len(ep), dtype=np.int8), es[order].astype(np.int32), indptr),
        shape=(n_p, n_slots),
    )
    slot_of = np.asarray(maximum_bipartite_matching(graph, perm_type="column"), dtype=np.int64)
    matched = np.flatnonzero(slot_of >= 0)
    mentee_of[slot_of[matched]] = matched
    return slot_of, mentee_of


def _konig_cover(
    n_p: int, n_slots: int, ep: IntArray, es: IntArray, slot_of: IntArray, mentee_of: IntArray
) -> tuple[BoolArray, BoolArray]:
    # König: with Z the vertices reachable from unmatched mentees by alternating paths,
    # (mentees not in Z) + (slots in Z) is a vertex cover as large as the matching.
    reached_p, reached_s = _alternating_reach(ep, es, mentee_of, slot_of < 0, n_slots)
    return ~reached_p, reached_s


def certified_max_matching(
    prep: Prepared,
    evaluator: Evaluator,
    pool: SparsePool,
    threshold: int,
    store: PairStore | None,
    tell: Tell,
    label: str,
    enough: int | None = None,
) -> tuple[int, int]:
    """Size of a maximum matching over all pool pairs scoring >= threshold.

    A maximum matching of the candidate pairs (Hopcroft-Karp on the slots)
    gives a König vertex cover of the same size; a pass over all pairs then
    checks that the cover covers every pair scoring >= threshold too. If so,
    no matching of the full problem is larger (certified); if not, the
    uncovered pairs join the candidates and the matching grows.

    Parameters
    ----------
    prep, evaluator
        The problem and its evaluator.
    pool : SparsePool
        The pool; uncovered pairs join its candidates.
    threshold : int
        Minimum score.
    store : PairStore or None
        The kept feasible pairs (None: rescore).
    tell : callable
        ``tell(phase, fraction)``.
    label : str
        Prefix of the progress phase.
    enough : int, optional
        Stop as soon as a matching this large is found (no pass needed).

    Returns
    -------
    tuple of int
        The size, and the passes over all pairs it took.
    """
    weights = Weights(pool)
    n_p, n_slots = len(pool.rows), weights.n_slots
    thr = max(threshold, 0)
    pool_index = np.full(prep.n, -1, dtype=np.int64)
    pool_index[pool.rows] = np.arange(n_p, dtype=np.int64)
    col_index = np.full(prep.m, -1, dtype=np.int64)
    col_index[pool.cols] = np.arange(len(pool.cols), dtype=np.int64)
    passes = 0
    while True:
        use = pool.cand_s >= thr
        p, c = pool.cand_p[use], pool.cand_c[use]
        ep, es, _ = _expand(weights, pool, p, c, np.ones(len(p), dtype=np.int64) << 62)
        slot_of, mentee_of = _max_matching(n_p, n_slots, ep, es)
        size = int(np.count_nonzero(slot_of >= 0))
        if enough is not None and size >= enough:
            return size, passes
        cover_p, cover_s = _konig_cover(n_p, n_slots, ep, es, slot_of, mentee_of)
        # A pair (p, c) is covered by p, or by every slot of its mentor.
        uncovered_slots = np.add.reduceat(~cover_s, weights.slot_start) if n_slots else cover_s
        cover_c = np.asarray(uncovered_slots, dtype=np.int64) == 0
        passes += 1
        total_blocks = max(block_count(prep, store), 1)

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
            best = _first_per_group(pp, -ss, PRICING_PER_ROW)
            return pp[best], cc[best], ss[best]

        new_p: list[IntArray] = []
        new_c: list[IntArray] = []
        new_s: list[IntArray] = []
        for number, (pp, cc, ss) in enumerate(map_pairs(prep, evaluator, store, check)):
            if len(pp):
                new_p.append(pp)
                new_c.append(cc)
                new_s.append(ss)
            tell(f"{label}covering pass {passes}", (number + 1) / total_blocks)
        if not new_p:
            return size, passes
        pp, cc, ss = (np.concatenate(x) for x in (new_p, new_c, new_s))
        keep = _first_per_group(pp, -ss, PRICING_PER_ROW)
        pool.cand_p = np.concatenate([pool.cand_p, pp[keep]])
        pool.cand_c = np.concatenate([pool.cand_c, cc[keep]])
        pool.cand_s = np.concatenate([pool.cand_s, ss[keep]])
        pool.considered += int(np.count_nonzero(keep))
