"""Exact solving of the three objectives on the slot-expanded score matrix.

Rows are the mentees being optimised (the *pool*), columns are the free
slots of the mentors; the k-th slot of a mentor (k counts its current load and
pins) carries the load penalty ``lambda * (k - 1)``.

Every objective is lexicographic. The tiers are folded into one integer weight
per (mentee, slot) and solved by one exact assignment; all weights and all
sums stay below 2**50, so float64 arithmetic inside the solver is exact and
the optimum is exact for the integer objective. Scores enter the objective on
the grid ``1/Q`` (``Q = 10**6``, the reporting grid, unless the problem is so
large that the integer budget needs a coarser grid; ``Stats.score_resolution``
says which).

Two scipy solvers, same optimum value (ties may be broken differently):

* dense, ``linear_sum_assignment`` on ``-weight``: pairs that break a hard
  rule, and "unmatched", weigh 0 and a weight-0 assignment is discarded, so
  it computes a maximum-weight (not perfect) matching;
* sparse, ``min_weight_full_bipartite_matching`` (LAPJVsp) on ``big -
  weight`` over the feasible edges only, plus one private dummy column per
  row costing ``big`` (= stays unmatched), so a full matching always exists.
  Chosen when fewer than half of the pairs are feasible, where it is about
  2.5x faster on realistic cohorts and needs no dense matrix.

Rows are whichever side is smaller: slots when there are no more slots than
mentees (the usual case), else mentees.

Tiers (``w`` = waiting class rank, 1 for the shortest wait, ``v`` = slot
score ``s - penalty`` on the grid, ``N`` = most pairs possible):

* ``max_participation``: ``M * w + v`` with ``M = N * (Q + max penalty) + 1``.
  Because every ``w >= 1`` and the matched mentee sets are the independent
  sets of a (transversal) matroid, maximising ``sum(w)`` gives a maximum
  matching that matches the longest waiters first, whatever the positive
  increasing ranks; ``M`` exceeds any possible difference in ``sum(v)``.
* ``fair``: first the bottleneck threshold ``t`` (highest score such that the
  pairs scoring ``>= t`` still admit a maximum-cardinality matching, found
  with ``maximum_bipartite_matching`` on the slot graph), then the
  ``max_participation`` weights restricted to pairs scoring ``>= t``.
* ``max_score``: ``M * v + w`` with ``M = N * K + 1`` (``K`` waiting classes):
  the highest total, ties going to more and longer-waiting mentees.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import scipy.sparse as sp
from scipy.optimize import linear_sum_assignment
from scipy.sparse.csgraph import maximum_bipartite_matching, min_weight_full_bipartite_matching

from matcher.errors import MatcherError
from matcher.scoring import SCORE_SCALE
from matcher.stable import deferred_acceptance
from matcher.types import BoolArray, FloatArray, Int32Array, IntArray

_BUDGET = 1 << 50
_GRIDS = (SCORE_SCALE, SCORE_SCALE // 10, SCORE_SCALE // 100, SCORE_SCALE // 1000, 100)


@dataclass(frozen=True)
class PoolProblem:
    """The part of a problem that is optimised, as arrays.

    Attributes
    ----------
    scores : ndarray of int32, shape (n_p, m_p)
        Score on the 1e-6 grid, -1 when a hard rule excludes the pair.
    slots : ndarray of int64, shape (m_p,)
        Free slots per mentor (at most the number of rows).
    first_penalty_k : ndarray of int64, shape (m_p,)
        ``k - 1`` of each mentor's first free slot (current load + pins).
    waiting_class : ndarray of int64, shape (n_p,)
        Waiting-time class per row (larger waited longer).
    objective : str
        One of the objectives.
    load_penalty : float
        lambda.
    """

    scores: Int32Array
    slots: IntArray
    first_penalty_k: IntArray
    waiting_class: IntArray
    objective: str
    load_penalty: float


@dataclass(frozen=True)
class PoolSolution:
    """Matched (row, mentor column) pairs of a pool, plus solver facts."""

    rows: IntArray
    cols: IntArray
    fair_threshold: int | None
    grid: int
    waiting_classes: int
    solver: str


@dataclass(frozen=True)
class Encoding:
    """The integer objective folded into one weight per (mentee, slot) edge.

    ``method == "dense"``: ``cost`` is ``-weight`` (0 = not matched), for
    ``linear_sum_assignment``. ``method == "sparse"``: ``graph`` holds
    ``big - weight`` for every edge of positive weight plus one private dummy
    column per row costing ``big`` (= staying unmatched), so a full matching
    always exists, for ``min_weight_full_bipartite_matching`` (LAPJVsp).
    Rows are slots when there are no more slots than mentees (``slot_major``),
    else mentees.
    """

    method: str
    cost: FloatArray | None
    graph: sp.csr_array | None
    slot_major: bool
    slot_mentor: IntArray
    n_real_cols: int
    grid: int
    waiting_classes: int


def _slot_layout(pool: PoolProblem) -> tuple[IntArray, IntArray]:
    slots = pool.slots
    slot_mentor = np.repeat(np.arange(len(slots), dtype=np.int64), slots)
    starts = np.cumsum(slots) - slots
    within = np.arange(len(slot_mentor), dtype=np.int64) - np.repeat(starts, slots)
    penalty_k = pool.first_penalty_k[slot_mentor] + within
    return slot_mentor, penalty_k


def _omega(waiting_class: IntArray) -> tuple[IntArray, int]:
    # Dense rank of the waiting class, 1 for the shortest wait.
    if len(waiting_class) == 0:
        return np.zeros(0, dtype=np.int64), 0
    _, rank = np.unique(waiting_class, return_inverse=True)
    omega = rank.astype(np.int64).reshape(-1) + 1
    return omega, int(omega.max())


def _choose_grid(
    objective: str, n_pairs: int, classes: int, load_penalty: float, penalty_k: IntArray
) -> tuple[int, int, IntArray]:
    # Finest score grid whose integer objective stays below the exactness budget.
    max_k = int(penalty_k.max()) if len(penalty_k) else 0
    for grid in _GRIDS:
        penalty = np.rint(load_penalty * penalty_k.astype(np.float64) * grid).astype(np.int64)
        pmax = int(round(load_penalty * max_k * grid))
        if objective == "max_score":
            multiplier = n_pairs * classes + 1
            bound = n_pairs * (max(grid, pmax) * multiplier + classes)
        else:
            multiplier = n_pairs * (grid + pmax) + 1
            bound = n_pairs * (multiplier * classes + grid)
        if bound <= _BUDGET:
            return grid, multiplier, penalty
    raise MatcherError(
        "problem too large to solve exactly (too many mentees or waiting classes)",
        details={"pairs_bound": n_pairs, "waiting_classes": classes},
    )


def _slot_edges(
    valid: BoolArray, slots: IntArray, slot_mentor: IntArray, slot_major: bool
) -> tuple[IntArray, IntArray, IntArray, IntArray, IntArray]:
    """Expand mentee-mentor edges to mentee-slot edges, grouped by graph row.

    Returns the mentor-level edges ``(i_e, j_e)`` and, per slot-level edge, its
    graph ``row`` and ``col`` (slot, mentee when ``slot_major``; else mentee,
    slot) and ``source``, the index of the mentor-level edge it copies.
    """
    if slot_major:
        j_e, i_e = np.nonzero(valid.T)  # grouped by mentor, mentees ascending
        degree = np.bincount(j_e, minlength=len(slots)).astype(np.int64)
        block_start = np.cumsum(degree) - degree
        lens = degree[slot_mentor]
        offsets = np.cumsum(lens) - lens
        source = np.repeat(block_start[slot_mentor] - offsets, lens)
        source += np.arange(len(source), dtype=np.int64)
        row = np.repeat(np.arange(len(slot_mentor), dtype=np.int64), lens)
        col = i_e[source].astype(np.int64)
    else:
        i_e, j_e = np.nonzero(valid)  # grouped by mentee
        rep = slots[j_e]
        slot_start = np.cumsum(slots) - slots
        edge_start = np.cumsum(rep) - rep
        col = np.repeat(slot_start[j_e] - edge_start, rep)
        col += np.arange(len(col), dtype=np.int64)
        row = np.repeat(i_e.astype(np.int64), rep)
        source = np.repeat(np.arange(len(i_e), dtype=np.int64), rep)
    return i_e.astype(np.int64), j_e.astype(np.int64), row, col, source


#: Below this share of feasible pairs the sparse solver (LAPJVsp) is used.
SPARSE_DENSITY = 0.5


def encode(pool: PoolProblem, threshold: int | None = None, method: str = "auto") -> Encoding:
    """Fold the lexicographic objective of a pool into integer edge weights.

    Parameters
    ----------
    pool : PoolProblem
        The pool.
    threshold : int or None
        When given, pairs scoring below it are treated as excluded (``fair``).
    method : {"auto", "dense", "sparse"}
        Solver the encoding is built for; ``"auto"`` picks ``"sparse"`` when
        fewer than :data:`SPARSE_DENSITY` of the pairs are feasible.

    Returns
    -------
    Encoding
        Cost matrix or sparse graph, oriented with no more rows than columns.
    """
    scores = pool.scores
    n_p, m_p = scores.shape
    slot_mentor, penalty_k = _slot_layout(pool)
    n_slots = len(slot_mentor)
    omega, classes = _omega(pool.waiting_class)
    n_pairs = min(n_p, n_slots)
    grid, multiplier, penalty = _choose_grid(
        pool.objective, n_pairs, max(classes, 1), pool.load_penalty, penalty_k
    )
    factor = SCORE_SCALE // grid
    valid = scores >= (0 if threshold is None else threshold)
    if method == "auto":
        density = np.count_nonzero(valid) / max(valid.size, 1)
        method = "sparse" if density < SPARSE_DENSITY else "dense"
    slot_major = n_slots <= n_p
    max_score = pool.objective == "max_score"
    slot_penalty = penalty * multiplier if max_score else penalty

    def base(s: IntArray, w: IntArray) -> IntArray:
        # Integer weight before the slot penalty, see the module docstring.
        s_obj = s if factor == 1 else (s + factor // 2) // factor
        out: IntArray = s_obj * multiplier + w if max_score else s_obj + w * multiplier
        return out

    if method == "dense":
        weights = np.where(
            valid,
            base(scores.astype(np.int64), omega[:, None]).astype(np.float64),
            -np.inf,
        )
        del valid
        if slot_major:
            by_mentor = np.ascontiguousarray(weights.T)
            del weights
            cost = slot_penalty.astype(np.float64)[:, None] - by_mentor[slot_mentor]
        else:
            cost = slot_penalty.astype(np.float64)[None, :] - weights[:, slot_mentor]
        np.minimum(cost, 0.0, out=cost)
        return Encoding("dense", cost, None, slot_major, slot_mentor, cost.shape[1], grid, classes)
    if method != "sparse":
        raise ValueError(f"unknown method {method!r}")

    i_e, j_e, row, col, source = _slot_edges(valid, pool.slots, slot_mentor, slot_major)
    del valid
    a_e = base(scores[i_e, j_e].astype(np.int64), omega[i_e])
    del i_e, j_e
    w = a_e[source] - slot_penalty[row if slot_major else col]
    del a_e, source
    n_rows, n_cols = (n_slots, n_p) if slot_major else (n_p, n_slots)
    keep = w > 0
    if not bool(keep.all()):
        row, col, w = row[keep], col[keep], w[keep]
    big = int(w.max()) + 1 if len(w) else 1
    counts = np.bincount(row, minlength=n_rows).astype(np.int64) + 1
    indptr = np.zeros(n_rows + 1, dtype=np.int64)
    np.cumsum(counts, out=indptr[1:])
    size = int(indptr[-1])
    indices = np.empty(size, dtype=np.int32)
    data = np.empty(size, dtype=np.float64)
    real = np.arange(len(row), dtype=np.int64) + row  # one dummy precedes per earlier row
    indices[real] = col
    data[real] = (big - w).astype(np.float64)
    dummy = indptr[1:] - 1
    indices[dummy] = n_cols + np.arange(n_rows, dtype=np.int32)
    data[dummy] = float(big)
    graph = sp.csr_array((data, indices, indptr), shape=(n_rows, n_cols + n_rows))
    return Encoding("sparse", None, graph, slot_major, slot_mentor, n_cols, grid, classes)


def assign(encoding: Encoding) -> tuple[IntArray, IntArray]:
    """Solve an encoding and return matched (row, mentor column) pairs.

    Parameters
    ----------
    encoding : Encoding
        From :func:`encode`.

    Returns
    -------
    rows, cols : ndarray of int64
        Pool row and pool mentor column of each matched pair, by row.
    """
    if encoding.cost is not None:
        cost = encoding.cost
        if cost.size == 0:
            empty = np.zeros(0, dtype=np.int64)
            return empty, empty
        r, c = linear_sum_assignment(cost)
        r = np.asarray(r, dtype=np.int64)
        c = np.asarray(c, dtype=np.int64)
        used = cost[r, c] < 0
    else:
        graph = encoding.graph
        assert graph is not None
        if graph.shape[0] == 0:
            empty = np.zeros(0, dtype=np.int64)
            return empty, empty
        r, c = min_weight_full_bipartite_matching(graph)
        r = np.asarray(r, dtype=np.int64)
        c = np.asarray(c, dtype=np.int64)
        used = c < encoding.n_real_cols
    r, c = r[used], c[used]
    if encoding.slot_major:
        slot, row = r, c
    else:
        row, slot = r, c
    order = np.argsort(row, kind="stable")
    return row[order], encoding.slot_mentor[slot[order]]


def matching_size(scores: Int32Array, threshold: int, slots: IntArray) -> int:
    """Size of a maximum matching that uses only pairs scoring >= threshold.

    Parameters
    ----------
    scores : ndarray of int32, shape (n_p, m_p)
        Pool scores, -1 for excluded pairs.
    threshold : int
        Minimum score (>= 0).
    slots : ndarray of int64
        Free slots per mentor column.

    Returns
    -------
    int
        Maximum number of rows matched to distinct slots.
    """
    n_p = scores.shape[0]
    slot_mentor = np.repeat(np.arange(len(slots), dtype=np.int64), slots)
    n_slots = len(slot_mentor)
    # Slots as rows when they are the smaller side: Hopcroft-Karp is then much
    # faster on tight graphs (5.5 s -> 0.03 s on the 10,000 x 2,500 benchmark).
    slot_major = n_slots <= n_p
    _, _, row, col, _ = _slot_edges(scores >= max(threshold, 0), slots, slot_mentor, slot_major)
    if len(row) == 0:
        return 0
    n_rows, n_cols = (n_slots, n_p) if slot_major else (n_p, n_slots)
    indptr = np.zeros(n_rows + 1, dtype=np.int64)
    np.cumsum(np.bincount(row, minlength=n_rows), out=indptr[1:])
    graph = sp.csr_array(
        (np.ones(len(row), dtype=np.int8), col.astype(np.int32), indptr), shape=(n_rows, n_cols)
    )
    match = maximum_bipartite_matching(graph, perm_type="column")
    return int(np.count_nonzero(np.asarray(match) >= 0))


def _kth_largest(values: IntArray, k: int) -> int:
    # k is 1-based and k <= len(values)
    return int(np.partition(values, len(values) - k)[len(values) - k])


def fair_threshold(pool: PoolProblem, target: int) -> int:
    """Highest score t such that pairs scoring >= t still match ``target`` rows.

    Parameters
    ----------
    pool : PoolProblem
        The pool.
    target : int
        Maximum matching size of the pool (> 0).

    Returns
    -------
    int
        The bottleneck threshold on the 1e-6 grid.

    Notes
    -----
    Two necessary conditions give an upper bound without any matching: at
    least ``target`` rows must have a pair >= t, and the mentors' slots that
    can be filled with pairs >= t (``min(slots, degree)``) must number at least
    ``target``. The bound is checked first (it is usually the answer); if it
    fails, a galloping then binary search over the distinct scores below it
    follows, each step one ``maximum_bipartite_matching``.
    """
    scores = pool.scores
    slots = pool.slots
    n_p = scores.shape[0]
    row_best = scores.max(axis=1).astype(np.int64)
    upper = _kth_largest(row_best, target)
    depth = int(min(int(slots.max()), n_p))
    top = np.sort(np.partition(scores, n_p - depth, axis=0)[n_p - depth :], axis=0)[::-1]
    usable = (np.arange(depth)[:, None] < slots[None, :]) & (top >= 0)
    column_values = top[usable].astype(np.int64)
    upper = min(upper, _kth_largest(column_values, target))
    if matching_size(scores, upper, slots) >= target:
        return upper

    feasible_values = scores[scores >= 0]
    histogram = np.bincount(feasible_values, minlength=SCORE_SCALE + 1)
    del feasible_values
    at_or_above = np.cumsum(histogram[::-1])[::-1]
    candidates = np.flatnonzero(histogram[:upper])[::-1]  # distinct values below, descending
    # candidates[-1] is the lowest feasible score: the full graph, which matches target.
    failed = -1  # index into candidates of the last failing value (-1: `upper`)
    failed_edges = int(at_or_above[upper])
    ok = len(candidates) - 1
    while True:
        wanted = 2 * max(failed_edges, 1)
        edges = at_or_above[candidates[failed + 1 :]]
        step = int(np.searchsorted(edges, wanted))  # edges grow as values fall
        probe = min(failed + 1 + step, ok)
        if probe == ok:
            break
        if matching_size(scores, int(candidates[probe]), slots) >= target:
            ok = probe
            break
        failed, failed_edges = probe, int(at_or_above[candidates[probe]])
    while ok - failed > 1:
        mid = (ok + failed) // 2
        if matching_size(scores, int(candidates[mid]), slots) >= target:
            ok = mid
        else:
            failed = mid
    return int(candidates[ok])


def solve_pool(
    pool: PoolProblem,
    progress: Callable[[float], None] | None = None,
    method: str = "auto",
) -> PoolSolution:
    """Solve the pool exactly for its objective.

    Parameters
    ----------
    pool : PoolProblem
        Rows with at least one feasible slot, mentors with at least one slot.
    progress : callable, optional
        Called with the fraction of the solve done (coarse).
    method : {"auto", "dense", "sparse"}
        Solver choice, see :func:`encode`.

    Returns
    -------
    PoolSolution
        Matched pairs (pool-local indices) and solver facts.
    """
    n_p, m_p = pool.scores.shape
    threshold: int | None = None
    if n_p == 0 or m_p == 0 or int(pool.slots.sum()) == 0:
        empty = np.zeros(0, dtype=np.int64)
        return PoolSolution(empty, empty, None, SCORE_SCALE, 0, "none")
    if pool.objective == "stable":
        rows, cols = deferred_acceptance(pool.scores, pool.slots)
        if progress is not None:
            progress(1.0)
        return PoolSolution(rows, cols, None, SCORE_SCALE, 0, "deferred_acceptance")
    if pool.objective == "fair":
        target = matching_size(pool.scores, 0, pool.slots)
        if progress is not None:
            progress(0.1)
        threshold = fair_threshold(pool, target) if target > 0 else None
        if progress is not None:
            progress(0.3)
    encoding = encode(pool, threshold, method)
    if progress is not None:
        progress(0.4)
    rows, cols = assign(encoding)
    if pool.objective == "fair" and len(rows) != target:
        raise AssertionError("fair: restricted solve lost cardinality")  # pragma: no cover
    if progress is not None:
        progress(1.0)
    solver = (
        "linear_sum_assignment"
        if encoding.method == "dense"
        else "min_weight_full_bipartite_matching"
    )
    return PoolSolution(rows, cols, threshold, encoding.grid, encoding.waiting_classes, solver)
