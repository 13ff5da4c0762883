"""Every feasible pair, block by block: kept compactly, or rescored, in a few threads.

The scores are computed in row chunks (numpy releases the GIL in its kernels,
so a few threads score side by side); a pass over all pairs
(:func:`map_pairs`) reads them back from the :class:`PairStore` the first scan
kept, or rescores them when they did not fit.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Callable, Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import TypeVar

import numpy as np

from matcher.features import Prepared
from matcher.scoring import Evaluator
from matcher.sparse.options import SparseOptions
from matcher.types import AnyArray, BoolArray, Int32Array, IntArray

Tell = Callable[[str, float], None]

T = TypeVar("T")


def chunk_rows(prep: Prepared, options: SparseOptions) -> int:
    """Mentee rows per scoring chunk."""
    return max(1, options.chunk_elements // max(prep.m, 1))


def chunk_count(prep: Prepared, options: SparseOptions) -> int:
    """Number of row chunks a pass over all scores takes."""
    return -(-prep.n // chunk_rows(prep, options))


def ordered_map(work: Callable[[int], T], starts: range, threads: int) -> Iterator[T]:
    """``work(start)`` for every start, by ``threads`` threads, yielded in order.

    The look-ahead is bounded, so at most a few chunks are in memory at once.
    """
    threads = max(1, threads)
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


def block_scores(
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
    options: SparseOptions,
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
        has at those places); it runs in ``options.scoring_threads`` threads.
    options : SparseOptions
        Chunk size and threads.

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

        yield from ordered_map(stored, range(len(store.starts)), options.scoring_threads)
        return
    n = prep.n
    step = chunk_rows(prep, options)

    def rescored(start: int) -> T:
        _, (r, c, scores) = block_scores(prep, evaluator, start, min(n, start + step))
        return work(r + start, c, scores.astype(np.int64))

    yield from ordered_map(rescored, range(0, n, step), options.scoring_threads)


def block_count(prep: Prepared, store: PairStore | None, options: SparseOptions) -> int:
    """Number of blocks :func:`map_pairs` goes through."""
    return len(store.starts) if store is not None else chunk_count(prep, options)


def rank_in_group(ordered: IntArray) -> IntArray:
    """Position of each element within its run of equal groups (``ordered`` is grouped)."""
    if not len(ordered):
        return np.zeros(0, dtype=np.int64)
    head = np.r_[True, ordered[1:] != ordered[:-1]]
    positions = np.arange(len(ordered))
    rank: IntArray = positions - np.maximum.accumulate(np.where(head, positions, 0))
    return rank


def first_per_group(group: IntArray, key: IntArray, count: int) -> BoolArray:
    """Mask of the ``count`` smallest keys of each group (ties by position)."""
    order = np.lexsort((key, group))
    out = np.zeros(len(group), dtype=np.bool_)
    out[order[rank_in_group(group[order]) < count]] = True
    return out
