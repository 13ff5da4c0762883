"""The dense backend: the exact solve on the slot-expanded score matrix of the pool.

Rows are the mentees being optimised (the *pool*, :mod:`matcher.pool`),
columns are the free slots of the mentors. The integer weights are those of
:mod:`matcher.objective`, so the optimum is exact for the integer objective
(see :mod:`matcher.reference` for the objectives as plain code).

Two scipy solvers, same optimum value (ties may be broken differently):

* dense, ``linear_sum_assignment`` on ``-weight``: pairs that break a hard
  rule, and "unmatched", weigh 0 and a weight-0 assignment is discarded, so
  it computes a maximum-weight (not perfect) matching;
* sparse, ``min_weight_full_bipartite_matching`` (LAPJVsp) on ``big -
  weight`` over the feasible edges only, plus one private dummy column per
  row costing ``big`` (= stays unmatched), so a full matching always exists
  (:func:`matcher.bipartite.weighted_graph`). Chosen when fewer than half of
  the pairs are feasible, where it is about 2.5x faster on realistic cohorts
  and needs no dense matrix.

Rows are whichever side is smaller: slots when there are no more slots than
mentees (the usual case), else mentees.

``fair`` first finds the bottleneck threshold ``t`` (:func:`fair_threshold`,
with ``maximum_bipartite_matching`` on the slot graph as the oracle of
:mod:`matcher.bottleneck`), then solves the ``max_participation`` weights
restricted to pairs scoring ``>= t``.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import scipy.sparse as sp
from scipy.optimize import linear_sum_assignment

from matcher.backend import Certificate, Outcome, Progress
from matcher.bipartite import matching_size as bipartite_matching_size
from matcher.bipartite import orient, solve_full, weighted_graph
from matcher.bottleneck import highest_feasible
from matcher.features import Prepared
from matcher.objective import Objective
from matcher.pool import Pins, Pool, Slots, build_pool, open_mentors
from matcher.report import RowSummary, Standing
from matcher.scoring import SCORE_SCALE, Evaluator, score_matrix
from matcher.stable import deferred_acceptance
from matcher.types import BoolArray, FloatArray, Int32Array, IntArray

#: Below this share of feasible pairs the sparse solver (LAPJVsp) is used.
SPARSE_DENSITY = 0.5
_BLOCKING_CHUNK = 1 << 22


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
    waiting_priority : str
        See :data:`matcher.model.WAITING_PRIORITIES`.
    """

    scores: Int32Array
    slots: IntArray
    first_penalty_k: IntArray
    waiting_class: IntArray
    objective: str
    load_penalty: float
    waiting_priority: str = "strong"


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


def _edges(
    valid: BoolArray, slots: Slots, slot_major: bool
) -> tuple[IntArray, IntArray, IntArray, IntArray]:
    """Mentee-mentor edges of a mask and their slot copies, grouped by graph row.

    Returns the mentor-level edges ``(i_e, j_e)`` and, per copy, its ``slot``
    and ``source`` (the mentor-level edge it copies); grouped by slot when
    ``slot_major``, else by mentee.
    """
    if slot_major:
        j_e, i_e = np.nonzero(valid.T)  # grouped by mentor, mentees ascending
    else:
        i_e, j_e = np.nonzero(valid)  # grouped by mentee
    i_e, j_e = i_e.astype(np.int64), j_e.astype(np.int64)
    slot, source = slots.expand(i_e, j_e, slot_major)
    return i_e, j_e, slot, source


def encode(
    pool: PoolProblem,
    threshold: int | None = None,
    method: str = "auto",
    sparse_density: float = SPARSE_DENSITY,
) -> Encoding:
    """Fold the lexicographic objective of a pool into integer edge weights.

    Parameters
    ----------
    pool : PoolProblem
        The pool.
    threshold : int or None
        When given, pairs scoring below it are treated as excluded (``fair``).
    method : {"auto", "dense", "sparse"}
        Solver the encoding is built for; ``"auto"`` picks ``"sparse"`` when
        fewer than ``sparse_density`` of the pairs are feasible.
    sparse_density : float
        See ``method``.

    Returns
    -------
    Encoding
        Cost matrix or sparse graph, oriented with no more rows than columns.
    """
    scores = pool.scores
    n_p = scores.shape[0]
    objective = Objective.for_pool(pool)
    slots = objective.slots
    n_slots = len(slots)
    valid = scores >= (0 if threshold is None else threshold)
    if method == "auto":
        density = np.count_nonzero(valid) / max(valid.size, 1)
        method = "sparse" if density < sparse_density else "dense"
    slot_major = n_slots <= n_p
    facts = (slot_major, slots.slot_mentor, objective.grid, objective.classes)
    if method == "dense":
        weights = np.where(
            valid,
            objective.base(scores.astype(np.int64), objective.omega[:, None]).astype(np.float64),
            -np.inf,
        )
        del valid
        penalty = objective.slot_penalty.astype(np.float64)
        if slot_major:
            by_mentor = np.ascontiguousarray(weights.T)
            del weights
            cost = penalty[:, None] - by_mentor[slots.slot_mentor]
        else:
            cost = penalty[None, :] - weights[:, slots.slot_mentor]
        np.minimum(cost, 0.0, out=cost)
        return Encoding("dense", cost, None, facts[0], facts[1], cost.shape[1], *facts[2:])
    if method != "sparse":
        raise ValueError(f"unknown method {method!r}")
    i_e, j_e, slot, source = _edges(valid, slots, slot_major)
    del valid
    a_e = objective.base(scores[i_e, j_e].astype(np.int64), objective.omega[i_e])
    w = a_e[source] - objective.slot_penalty[slot]
    mentee = i_e[source]
    del a_e, source, i_e, j_e
    keep = w > 0
    if not bool(keep.all()):
        mentee, slot, w = mentee[keep], slot[keep], w[keep]
    row, col, n_rows, n_cols, _ = orient(mentee, slot, n_p, n_slots)
    graph = weighted_graph(row, col, w, n_rows, n_cols, np.ones(n_rows, dtype=np.bool_))
    return Encoding("sparse", None, graph, facts[0], facts[1], n_cols, *facts[2:])


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
        r, c = r[used], c[used]
    else:
        assert encoding.graph is not None
        r, c = solve_full(encoding.graph, encoding.n_real_cols)
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
    layout = Slots.of(slots, np.zeros(len(slots), dtype=np.int64))
    slot_major = len(layout) <= n_p
    i_e, _, slot, source = _edges(scores >= max(threshold, 0), layout, slot_major)
    return bipartite_matching_size(i_e[source], slot, n_p, len(layout))


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
    follows (:func:`matcher.bottleneck.highest_feasible`), each step one
    ``maximum_bipartite_matching``.
    """
    scores = pool.scores
    slots = pool.slots
    n_p = scores.shape[0]

    def feasible_at(t: int) -> bool:
        return matching_size(scores, t, slots) >= target

    row_best = scores.max(axis=1).astype(np.int64)
    upper = _kth_largest(row_best, target)
    depth = int(min(int(slots.max()), n_p))
    top = np.sort(np.partition(scores, n_p - depth, axis=0)[n_p - depth :], axis=0)[::-1]
    usable = (np.arange(depth)[:, None] < slots[None, :]) & (top >= 0)
    column_values = top[usable].astype(np.int64)
    upper = min(upper, _kth_largest(column_values, target))
    if feasible_at(upper):
        return upper

    histogram = np.bincount(scores[scores >= 0], minlength=SCORE_SCALE + 1)
    at_or_above = np.cumsum(histogram[::-1])[::-1]
    values = np.flatnonzero(histogram[:upper])[::-1]  # distinct values below, descending

    def gallop(failed: int) -> int:
        # Double the edges of the graph with each probe (failed = -1 stands for `upper`).
        edges = int(at_or_above[upper if failed < 0 else values[failed]])
        above = at_or_above[values[failed + 1 :]]  # edges grow as values fall
        return failed + 1 + int(np.searchsorted(above, 2 * max(edges, 1)))

    # values[-1] is the lowest feasible score: the full graph, which matches target.
    ok = highest_feasible(values, feasible_at, len(values) - 1, probe=gallop)
    return int(values[ok])


def solve_pool(
    pool: PoolProblem,
    progress: Callable[[float], None] | None = None,
    method: str = "auto",
    sparse_density: float = SPARSE_DENSITY,
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
    sparse_density : float
        See :func:`encode`.

    Returns
    -------
    PoolSolution
        Matched pairs (pool-local indices) and solver facts.
    """

    def tell(fraction: float) -> None:
        if progress is not None:
            progress(fraction)

    n_p, m_p = pool.scores.shape
    threshold: int | None = None
    if n_p == 0 or m_p == 0 or int(pool.slots.sum()) == 0:
        empty = np.zeros(0, dtype=np.int64)
        return PoolSolution(empty, empty, None, SCORE_SCALE, 0, "none")
    if pool.objective == "stable":
        rows, cols = deferred_acceptance(pool.scores, pool.slots)
        tell(1.0)
        return PoolSolution(rows, cols, None, SCORE_SCALE, 0, "deferred_acceptance")
    if pool.objective == "fair":
        target = matching_size(pool.scores, 0, pool.slots)
        tell(0.1)
        threshold = fair_threshold(pool, target) if target > 0 else None
        tell(0.3)
    encoding = encode(pool, threshold, method, sparse_density)
    tell(0.4)
    rows, cols = assign(encoding)
    if pool.objective == "fair" and len(rows) != target:
        raise AssertionError("fair: restricted solve lost cardinality")  # pragma: no cover
    tell(1.0)
    solver = (
        "linear_sum_assignment"
        if encoding.method == "dense"
        else "min_weight_full_bipartite_matching"
    )
    return PoolSolution(rows, cols, threshold, encoding.grid, encoding.waiting_classes, solver)


@dataclass(frozen=True)
class Staged:
    """A problem scored and reduced to its pool (dense)."""

    scores: Int32Array
    pool: Pool
    problem: PoolProblem
    scoring_seconds: float
    pool_seconds: float


def stage(
    prep: Prepared, evaluator: Evaluator, pins: Pins, report: Progress | None = None
) -> Staged:
    """Score every pair and build the pool to optimise.

    Parameters
    ----------
    prep, evaluator
        The problem and its evaluator.
    pins : Pins
        The placed pins.
    report : callable, optional
        ``report(phase, fraction)`` for progress.

    Returns
    -------
    Staged
        The score matrix and the pool (also used by the benchmark to time a
        bare solver on the same matrix).
    """

    def tell(phase: str, fraction: float) -> None:
        if report is not None:
            report(phase, fraction)

    tell("scoring", 0.05)
    scoring_start = time.perf_counter()
    scores = score_matrix(prep, lambda f: tell("scoring", 0.05 + 0.4 * f))
    scoring_seconds = time.perf_counter() - scoring_start
    pool_start = time.perf_counter()
    tell("solving", 0.45)
    open_cols = open_mentors(prep, pins)
    in_pool = ~pins.pinned(prep.n) & ((scores >= 0) & open_cols[None, :]).any(axis=1)
    rows = np.flatnonzero(in_pool)
    degree = np.where(open_cols, (scores[rows] >= 0).sum(axis=0), 0).astype(np.int64)
    pool = build_pool(prep, pins, in_pool, degree)
    if len(pool.rows) == prep.n and len(pool.cols) == prep.m:
        pool_scores = scores
    else:
        pool_scores = scores[np.ix_(pool.rows, pool.cols)]
    problem = PoolProblem(
        scores=pool_scores,
        slots=pool.slots,
        first_penalty_k=pool.first_penalty_k,
        waiting_class=pool.waiting_class,
        objective=pool.objective,
        load_penalty=pool.load_penalty,
        waiting_priority=pool.waiting_priority,
    )
    return Staged(scores, pool, problem, scoring_seconds, time.perf_counter() - pool_start)


def count_blocking_pairs(scores: Int32Array, standing: Standing) -> int:
    """Count the blocking pairs of a matching on the dense score matrix.

    Parameters
    ----------
    scores : ndarray of int32, shape (n, m)
        Scores on the 1e-6 grid, -1 for infeasible pairs.
    standing : Standing
        The full matching.

    Returns
    -------
    int
        Feasible pairs (i, j), i not matched to j, where i scores j strictly
        above its own pair (any feasible j when unmatched) and j either has a
        free slot left or scores i strictly above its worst mentee.
    """
    n, m = scores.shape
    if n == 0 or m == 0:
        return 0
    total = 0
    step = max(1, _BLOCKING_CHUNK // m)
    cols = np.arange(m, dtype=np.int64)[None, :]
    for start in range(0, n, step):
        rows = np.arange(start, min(n, start + step), dtype=np.int64)[:, None]
        block = scores[start : start + step].astype(np.int64)
        total += int(np.count_nonzero(standing.blocking(rows, cols, block)))
    return total


def row_summary(scores: Int32Array, standing: Standing, rows: IntArray) -> RowSummary:
    """The unmatched reasons' facts of ``rows`` from the dense score matrix."""
    sub = scores[rows]
    ok = sub >= 0
    if sub.size:
        best = np.argmax(sub, axis=1).astype(np.int64)
        best_score = sub[np.arange(len(rows)), best].astype(np.int64)
    else:
        best = best_score = np.zeros(len(rows), dtype=np.int64)
    return RowSummary(
        rows=rows,
        count=ok.sum(axis=1).astype(np.int64),
        best_col=best,
        best_score=best_score,
        spare_any=np.asarray((ok & standing.spare[None, :]).any(axis=1), dtype=np.bool_),
    )


@dataclass(frozen=True)
class DenseBackend:
    """The whole score matrix in memory; one exact assignment (:func:`solve_pool`)."""

    sparse_density: float = SPARSE_DENSITY

    def solve(self, prep: Prepared, evaluator: Evaluator, pins: Pins, report: Progress) -> Outcome:
        """Solve the pool of a problem whose pins are placed (:class:`~matcher.backend.Backend`)."""
        staged = stage(prep, evaluator, pins, report)
        solve_start = time.perf_counter()
        solution = solve_pool(
            staged.problem,
            lambda f: report("solving", 0.45 + 0.45 * f),
            sparse_density=self.sparse_density,
        )
        solve_seconds = time.perf_counter() - solve_start + staged.pool_seconds
        scores = staged.scores
        rows = staged.pool.rows[solution.rows]
        cols = staged.pool.cols[solution.cols]
        all_rows = np.concatenate([pins.rows, rows])
        all_cols = np.concatenate([pins.cols, cols])
        standing = Standing.of(prep, all_rows, all_cols, scores[all_rows, all_cols])
        matched = np.zeros(prep.n, dtype=np.bool_)
        matched[all_rows] = True
        feasible = int(np.count_nonzero(scores >= 0))
        return Outcome(
            rows=rows,
            cols=cols,
            unmatched=row_summary(scores, standing, np.flatnonzero(~matched).astype(np.int64)),
            blocking_pairs=count_blocking_pairs(scores, standing),
            feasible_pairs=feasible,
            # The stop condition of an exact solve over every feasible pair.
            certificate=Certificate(
                certified=True,
                grid=solution.grid,
                waiting_classes=solution.waiting_classes,
                pricing_rounds=0,
                pairs_considered=feasible,
            ),
            solver=solution.solver,
            scoring_seconds=staged.scoring_seconds,
            solve_seconds=solve_seconds,
        )
