"""The first scan: every score once, keeping each mentee's and each mentor's best candidates.

One pass over all pairs, chunk by chunk, leaves the per-row and per-column
summaries the pool and the unmatched reasons need, each pool mentee's
``candidates_per_row`` best feasible mentors and each mentor's
``candidates_per_mentor`` best pool mentees (the first working set of the
restricted problem), and, while they fit ``store_bytes``, every feasible pair
(:class:`matcher.sparse.pairs.PairStore`), so that later passes need no
rescoring.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from matcher.features import Prepared
from matcher.scoring import SCORE_SCALE, Evaluator
from matcher.sparse.options import SparseOptions
from matcher.sparse.pairs import (
    PairStore,
    Tell,
    block_scores,
    chunk_count,
    chunk_rows,
    first_per_group,
    ordered_map,
    rank_in_group,
)
from matcher.types import AnyArray, BoolArray, Int32Array, IntArray

# Scores per bin of the histogram that bounds each row's best few in the first scan.
_TOP_BIN_SHIFT = 12


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
    out: IntArray = order[rank_in_group(local[order]) < count]
    return out


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
    rank = rank_in_group(all_c[order])
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
    options: SparseOptions,
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
    options : SparseOptions
        Candidates kept, chunk size, threads and the store's budget.

    Returns
    -------
    FirstScan
        Per-row and per-column summaries, each pool row's best candidates
        and, within ``options.store_bytes``, every feasible pair.
    """
    n, m = prep.n, prep.m
    step = chunk_rows(prep, options)
    k = min(options.candidates_per_row, m)
    depth = options.candidates_per_mentor
    fair = prep.settings.objective == "fair"
    col_dtype = np.uint16 if m <= np.iinfo(np.uint16).max + 1 else np.int32
    pair_bytes = np.dtype(col_dtype).itemsize + 4

    def work(start: int) -> _Chunk:
        stop = min(n, start + step)
        block, (pr, pc, pair_scores) = block_scores(prep, evaluator, start, stop)
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
        top_c = first_per_group(hc, -hs.astype(np.int64), depth)
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
    total = chunk_count(prep, options)
    rows_parts: list[IntArray] = []
    cols_parts: list[IntArray] = []
    score_parts: list[IntArray] = []
    col_scores = np.full((depth, m), -1, dtype=np.int64)
    col_rows = np.full((depth, m), -1, dtype=np.int64)
    col_floor = [np.full(m, -1, dtype=np.int64)]  # replaced, never written in place
    for number, chunk in enumerate(ordered_map(work, range(0, n, step), options.scoring_threads)):
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
            if store.nbytes > options.store_bytes:
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
