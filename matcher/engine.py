"""``solve`` and ``explain``: the public entry points of the matcher."""

from __future__ import annotations

import math
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
from threadpoolctl import threadpool_limits

from matcher import sparse
from matcher.errors import MatcherError
from matcher.features import Prepared, is_int, prepare
from matcher.model import CRITERIA, RULES, Problem
from matcher.results import Explanation, InfeasiblePin, Pair, Result, Stats, Unmatched
from matcher.scoring import SCORE_SCALE, Evaluator, rule_counts, score_matrix
from matcher.solver import PoolProblem, solve_pool
from matcher.types import BoolArray, Int32Array, IntArray, JSONValue

Progress = Callable[[str, float], None]
_BLOCKING_CHUNK = 1 << 22
#: Problems with more mentee-mentor pairs than this are solved without a dense
#: score matrix (:mod:`matcher.sparse`): the dense path holds the int32 scores
#: plus a float64 slot-expanded cost matrix, about 30 bytes per pair at
#: realistic capacities, so 40e6 pairs stay near 1.2 GB.
DENSE_PAIR_LIMIT = 40_000_000


def _score(units: int) -> float:
    return round(units / SCORE_SCALE, 6)


def solve(problem: Problem, progress: Progress | None = None) -> Result:
    """Match mentees to mentors exactly for the problem's objective.

    Parameters
    ----------
    problem : Problem
        Mentees, mentors, settings, pins, forbids and previous pairs.
    progress : callable, optional
        ``progress(phase, fraction)`` with phase one of ``"validating"``,
        ``"scoring"``, ``"solving"``, ``"reporting"``, ``"done"`` and the
        overall fraction done in [0, 1] (non-decreasing).

    Returns
    -------
    Result
        Pairs with breakdowns, unmatched mentees with reasons, infeasible
        pins and statistics; plain JSON-friendly values only.

    Raises
    ------
    MatcherError
        On inconsistent or malformed input (duplicate or unknown ids,
        negative capacities, bad weights, unknown objective, windows that do
        not parse, unknown time zones...).

    Notes
    -----
    Pins are placed first, in order; a pin that breaks a hard rule, or finds
    its mentor's free slots used by earlier pins, is reported in
    ``infeasible_pins`` and its mentee joins the optimisation. The remaining
    mentees are matched to the remaining slots exactly (see
    :mod:`matcher.solver`):

    * ``max_participation``: most mentees matched; among those matchings, the
      longest waiters matched first (waiting classes compared from the longest
      down); then the highest total of ``s - lambda * (k - 1)``.
    * ``fair``: most mentees matched; then the highest minimum score among the
      optimised pairs; then waiting priority; then the highest total.
    * ``max_score``: the highest total; ties go to matching more and longer
      waiting mentees.
    * ``stable``: the mentee-optimal stable matching (no blocking pair), see
      :mod:`matcher.stable`; at most ``DENSE_PAIR_LIMIT`` pairs.
    """
    started = time.perf_counter()
    last = [0.0]

    def report(phase: str, fraction: float) -> None:
        if progress is not None:
            last[0] = max(last[0], min(1.0, fraction))
            progress(phase, last[0])

    report("validating", 0.0)
    prep = prepare(problem)
    if prep.n * prep.m > DENSE_PAIR_LIMIT and prep.n > 0 and prep.m > 0:
        if prep.settings.objective == "stable":
            raise MatcherError(
                f"settings.objective: 'stable' is computed on the full score matrix, "
                f"at most {DENSE_PAIR_LIMIT:,} pairs (this problem has {prep.n * prep.m:,})",
                field="settings.objective",
                details={"max_pairs": DENSE_PAIR_LIMIT},
            )
        return _solve_sparse(prep, report, started)
    staged = stage(problem, report, prep=prep)
    evaluator, scores, fixed = staged.evaluator, staged.scores, staged.fixed
    pool, pool_rows, pool_cols = staged.pool, staged.pool_rows, staged.pool_cols
    feasible = scores >= 0
    scoring_seconds = staged.scoring_seconds
    staged_pool_seconds = staged.pool_seconds
    infeasible = staged.infeasible
    solve_start = time.perf_counter()
    solution = solve_pool(pool, lambda f: report("solving", 0.45 + 0.45 * f))
    del pool, staged
    solve_seconds = time.perf_counter() - solve_start + staged_pool_seconds
    feasible_count = int(np.count_nonzero(feasible))
    del feasible

    def unmatched(mentor_of: IntArray, assigned: IntArray) -> tuple[Unmatched, ...]:
        return _unmatched(prep, scores, mentor_of, assigned)

    def blocking(mentor_of: IntArray, all_cols: IntArray) -> int:
        return count_blocking_pairs(scores, mentor_of, all_cols, prep.free)

    return _finish(
        prep,
        evaluator,
        fixed,
        infeasible,
        pool_rows[solution.rows],
        pool_cols[solution.cols],
        unmatched,
        blocking,
        report,
        started,
        {
            "feasible_pairs": feasible_count,
            "score_resolution": 1.0 / solution.grid,
            "waiting_classes": solution.waiting_classes,
            "solver": solution.solver,
            "scoring_seconds": round(scoring_seconds, 6),
            "solve_seconds": round(solve_seconds, 6),
            "certified_optimal": True,
            "pricing_rounds": 0,
            "pairs_considered": feasible_count,
            "first_solve_gap": 0.0,
        },
    )


def _finish(
    prep: Prepared,
    evaluator: Evaluator,
    fixed: tuple[tuple[int, int], ...],
    infeasible: tuple[InfeasiblePin, ...],
    rows: IntArray,
    cols: IntArray,
    unmatched_of: Callable[[IntArray, IntArray], tuple[Unmatched, ...]],
    blocking_of: Callable[[IntArray, IntArray], int],
    report: Progress,
    started: float,
    facts: dict[str, Any],
) -> Result:
    # Pairs, reasons and statistics of a solved problem (both paths).
    n, m = prep.n, prep.m
    settings = prep.settings
    report("reporting", 0.9)
    all_rows = np.concatenate([np.asarray([i for i, _ in fixed], dtype=np.int64), rows])
    all_cols = np.concatenate([np.asarray([j for _, j in fixed], dtype=np.int64), cols])
    pinned_flags = [True] * len(fixed) + [False] * len(rows)
    block = evaluator.pairs(all_rows, all_cols)
    pairs = tuple(
        Pair(
            mentee_id=int(prep.mentees.ids[i]),
            mentor_id=int(prep.mentors.ids[j]),
            score=_score(int(block.score[k])),
            breakdown={c: round(float(block.criteria[c][k]), 6) for c in CRITERIA},
            pinned=pinned_flags[k],
        )
        for k, (i, j) in enumerate(zip(all_rows.tolist(), all_cols.tolist(), strict=True))
    )
    assigned = np.bincount(all_cols, minlength=m).astype(np.int64)
    mentor_of = np.full(n, -1, dtype=np.int64)
    mentor_of[all_rows] = all_cols
    unmatched = unmatched_of(mentor_of, assigned)

    pair_units = block.score.astype(np.int64)
    total_units = int(pair_units.sum())
    penalty_total = 0.0
    for j in np.flatnonzero(assigned).tolist():
        k0 = int(prep.load[j])
        penalty_total += settings.load_penalty * sum(range(k0, k0 + int(assigned[j])))
    optimised = pair_units[len(fixed) :]
    stats = Stats(
        objective=settings.objective,
        mentee_count=n,
        mentor_count=m,
        matched_count=len(pairs),
        pinned_count=len(fixed),
        match_rate=round(len(pairs) / n, 6) if n else 0.0,
        total_score=_score(total_units) if len(pairs) else None,
        mean_score=round(total_units / SCORE_SCALE / len(pairs), 6) if len(pairs) else None,
        min_score=_score(int(pair_units.min())) if len(pairs) else None,
        objective_total=round(total_units / SCORE_SCALE - penalty_total, 6),
        fair_min_score=(
            _score(int(optimised.min()))
            if settings.objective == "fair" and len(optimised)
            else None
        ),
        needs_coverage=_needs_coverage(prep, all_rows, all_cols),
        mentor_load=_mentor_load(prep, assigned),
        blocking_pairs=blocking_of(mentor_of, all_cols),
        total_seconds=round(time.perf_counter() - started, 6),
        **facts,
    )
    report("done", 1.0)
    return Result(pairs=pairs, unmatched=unmatched, infeasible_pins=infeasible, stats=stats)


@dataclass(frozen=True)
class Staged:
    """A problem validated, pinned, scored and reduced to its pool."""

    prep: Prepared
    evaluator: Evaluator
    scores: Int32Array
    fixed: tuple[tuple[int, int], ...]
    infeasible: tuple[InfeasiblePin, ...]
    pool: PoolProblem
    pool_rows: IntArray
    pool_cols: IntArray
    scoring_seconds: float
    pool_seconds: float


def stage(problem: Problem, report: Progress | None = None, prep: Prepared | None = None) -> Staged:
    """Validate, place pins, score everything and build the pool to optimise.

    Parameters
    ----------
    problem : Problem
        The problem.
    report : callable, optional
        ``report(phase, fraction)`` for progress.
    prep : Prepared, optional
        ``prepare(problem)`` when the caller already has it.

    Returns
    -------
    Staged
        Everything :func:`solve` needs before the exact solve (also used by the
        benchmark to time a bare solver on the same matrix).
    """

    def tell(phase: str, fraction: float) -> None:
        if report is not None:
            report(phase, fraction)

    if prep is None:
        prep = prepare(problem)
    n, m = prep.n, prep.m
    evaluator = Evaluator(prep)
    fixed, infeasible, pins_used = place_pins(prep, evaluator)

    tell("scoring", 0.05)
    scoring_start = time.perf_counter()
    scores = score_matrix(prep, lambda f: tell("scoring", 0.05 + 0.4 * f))
    scoring_seconds = time.perf_counter() - scoring_start

    # The pool: unpinned mentees with a feasible mentor that has free slots left.
    pool_start = time.perf_counter()
    tell("solving", 0.45)
    remaining = np.maximum(prep.free - pins_used, 0)
    is_pinned = np.zeros(n, dtype=np.bool_)
    is_pinned[[i for i, _ in fixed]] = True
    open_cols = remaining > 0
    row_ok = ~is_pinned & ((scores >= 0) & open_cols[None, :]).any(axis=1)
    pool_rows = np.flatnonzero(row_ok).astype(np.int64)
    col_ok = open_cols & (scores[pool_rows] >= 0).any(axis=0)
    pool_cols = np.flatnonzero(col_ok).astype(np.int64)
    if len(pool_rows) == n and len(pool_cols) == m:
        pool_scores = scores
    else:
        pool_scores = scores[np.ix_(pool_rows, pool_cols)]
    degree = (pool_scores >= 0).sum(axis=0).astype(np.int64)
    settings = prep.settings
    pool = PoolProblem(
        scores=pool_scores,
        slots=np.minimum(remaining[pool_cols], degree),
        first_penalty_k=prep.load[pool_cols] + pins_used[pool_cols],
        waiting_class=np.floor(prep.waiting[pool_rows] / settings.waiting_class_days).astype(
            np.int64
        ),
        objective=settings.objective,
        load_penalty=float(settings.load_penalty),
    )
    return Staged(
        prep=prep,
        evaluator=evaluator,
        scores=scores,
        fixed=fixed,
        infeasible=infeasible,
        pool=pool,
        pool_rows=pool_rows,
        pool_cols=pool_cols,
        scoring_seconds=scoring_seconds,
        pool_seconds=time.perf_counter() - pool_start,
    )


def place_pins(
    prep: Prepared, evaluator: Evaluator
) -> tuple[tuple[tuple[int, int], ...], tuple[InfeasiblePin, ...], IntArray]:
    """Place the pins in order.

    Parameters
    ----------
    prep : Prepared
        The validated problem.
    evaluator : Evaluator
        Its evaluator.

    Returns
    -------
    fixed : tuple of (int, int)
        Placed pins as (mentee index, mentor index).
    infeasible : tuple of InfeasiblePin
        Pins that break a hard rule or find their mentor full.
    pins_used : ndarray of int64, shape (m,)
        Slots each mentor gives to pins.
    """
    m = prep.m

    # Pins first, in order.
    pin_rows = np.asarray([p[0] for p in prep.pins], dtype=np.int64)
    pin_cols = np.asarray([p[1] for p in prep.pins], dtype=np.int64)
    pin_block = evaluator.pairs(pin_rows, pin_cols)
    pins_used = np.zeros(m, dtype=np.int64)
    fixed: list[tuple[int, int]] = []
    infeasible: list[InfeasiblePin] = []
    for k, (i, j) in enumerate(prep.pins):
        failed = [rule for rule in RULES if bool(pin_block.rules[rule][k])]
        if not failed and pins_used[j] >= prep.free[j]:
            failed = ["mentor_full"]
        if failed:
            infeasible.append(
                InfeasiblePin(int(prep.mentees.ids[i]), int(prep.mentors.ids[j]), tuple(failed))
            )
        else:
            fixed.append((i, j))
            pins_used[j] += 1

    return tuple(fixed), tuple(infeasible), pins_used


def _unmatched(
    prep: Prepared, scores: Int32Array, mentor_of: IntArray, assigned: IntArray
) -> tuple[Unmatched, ...]:
    rows = np.flatnonzero(mentor_of < 0).astype(np.int64)
    if len(rows) == 0:
        return ()
    sub = scores[rows]
    has_any: BoolArray = np.asarray((sub >= 0).any(axis=1), dtype=np.bool_).reshape(len(rows))
    none_rows = rows[~has_any]
    counts = rule_counts(prep, none_rows)
    spare = assigned < np.maximum(prep.free, 0)
    out: list[Unmatched] = []
    k_none = 0
    for pos, i in enumerate(rows.tolist()):
        waiting = round(float(prep.waiting[i]), 6)
        mentee_id = int(prep.mentees.ids[i])
        if not has_any[pos]:
            excluded: dict[str, JSONValue] = {name: int(counts[name][k_none]) for name in RULES}
            k_none += 1
            out.append(
                Unmatched(
                    mentee_id,
                    "no_feasible_mentor",
                    {"excluded_by": excluded, "mentor_count": prep.m, "waiting_days": waiting},
                )
            )
            continue
        row = sub[pos]
        ok = row >= 0
        best = int(np.argmax(row))
        reason = "not_selected" if bool((ok & spare).any()) else "capacity_taken"
        out.append(
            Unmatched(
                mentee_id,
                reason,
                {
                    "feasible_mentors": int(ok.sum()),
                    "best_alternative": {
                        "mentor_id": int(prep.mentors.ids[best]),
                        "score": _score(int(row[best])),
                    },
                    "waiting_days": waiting,
                },
            )
        )
    return tuple(out)


def _needs_coverage(prep: Prepared, rows: IntArray, cols: IntArray) -> float | None:
    needs = prep.mentees.tags[rows].astype(np.float64)
    has = (prep.mentors.tags[cols] > 0).astype(np.float64)
    wanted = float(needs.sum())
    if not wanted > 0:
        return None
    return round(float((needs * has).sum()) / wanted, 6)


def _mentor_load(prep: Prepared, assigned: IntArray) -> dict[str, JSONValue]:
    active = ~prep.paused
    load = (prep.load + assigned)[active]
    capacity = (prep.free + prep.load)[active]
    values, counts = np.unique(load, return_counts=True)
    histogram: dict[str, JSONValue] = {
        str(int(v)): int(c) for v, c in zip(values.tolist(), counts.tolist(), strict=True)
    }
    cap_total = int(capacity.sum())
    return {
        "histogram": histogram,
        "max": int(load.max()) if len(load) else 0,
        "mean": round(float(load.mean()), 6) if len(load) else 0.0,
        "utilisation": round(int(load.sum()) / cap_total, 6) if cap_total > 0 else 0.0,
        "new_max": int(assigned.max()) if len(assigned) else 0,
    }


def count_blocking_pairs(
    scores: Int32Array, mentor_of: IntArray, cols_of_pairs: IntArray, free: IntArray
) -> int:
    """Count blocking pairs of a matching.

    Parameters
    ----------
    scores : ndarray of int32, shape (n, m)
        Scores on the 1e-6 grid, -1 for infeasible pairs.
    mentor_of : ndarray of int64, shape (n,)
        Mentor index of each mentee, -1 when unmatched.
    cols_of_pairs : ndarray of int64
        Mentor index of every pair (to find each mentor's worst mentee).
    free : ndarray of int64, shape (m,)
        ``capacity - current_load`` per mentor.

    Returns
    -------
    int
        Number of feasible pairs (i, j), i not matched to j, where i scores j
        strictly above its own pair (any feasible j when unmatched) and j
        either has a free slot left or scores i strictly above its worst
        mentee in the result.
    """
    n, m = scores.shape
    if n == 0 or m == 0:
        return 0
    matched = mentor_of >= 0
    own = np.full(n, -1, dtype=np.int64)
    own[matched] = scores[np.flatnonzero(matched), mentor_of[matched]]
    worst = np.full(m, np.iinfo(np.int64).max, dtype=np.int64)
    rows_matched = np.flatnonzero(matched)
    np.minimum.at(worst, mentor_of[rows_matched], own[rows_matched])
    assigned = np.bincount(cols_of_pairs, minlength=m)
    worst = np.where(assigned < free, -1, worst)
    total = 0
    step = max(1, _BLOCKING_CHUNK // m)
    for start in range(0, n, step):
        block = scores[start : start + step].astype(np.int64)
        mask: BoolArray = (
            (block >= 0) & (block > own[start : start + step, None]) & (block > worst[None, :])
        )
        total += int(np.count_nonzero(mask))
    return total


def explain(problem: Problem, mentee_id: int, mentor_id: int) -> Explanation:
    """Explain the score and the hard rules of one mentee-mentor pair.

    Parameters
    ----------
    problem : Problem
        The problem the pair belongs to (settings, forbids, previous pairs
        and the mentors' free capacity are taken into account; pins are not).
    mentee_id, mentor_id : int
        Participant ids present in ``problem``.

    Returns
    -------
    Explanation
        Feasibility, failing rules, score, per-criterion breakdown, weights
        and weekly overlap; the same numbers :func:`solve` reports.

    Raises
    ------
    MatcherError
        On bad input or ids not in the problem.
    """
    return _explain(problem, ((mentee_id, mentor_id),), single=True)[0]


def explain_pairs(problem: Problem, pairs: Sequence[tuple[int, int]]) -> tuple[Explanation, ...]:
    """Explain many mentee-mentor pairs of one problem at once.

    The problem is prepared once and the pairs are evaluated together
    (vectorised), so checking every pair of a round costs about as much as
    checking one.

    Parameters
    ----------
    problem : Problem
        As for :func:`explain`.
    pairs : sequence of (mentee_id, mentor_id)
        Pairs of participant ids present in ``problem``.

    Returns
    -------
    tuple of Explanation
        One per pair, in the order given.

    Raises
    ------
    MatcherError
        On bad input or ids not in the problem.
    """
    return _explain(problem, pairs, single=False)


def _explain(
    problem: Problem, pairs: Sequence[tuple[int, int]], *, single: bool
) -> tuple[Explanation, ...]:
    prep = prepare(problem)
    if isinstance(pairs, str | bytes) or not isinstance(pairs, Sequence):
        raise MatcherError("pairs: expected a sequence of (mentee_id, mentor_id)", field="pairs")
    rows = np.empty(len(pairs), dtype=np.int64)
    cols = np.empty(len(pairs), dtype=np.int64)
    for k, pair in enumerate(pairs):
        if not isinstance(pair, tuple | list) or len(pair) != 2:
            raise MatcherError(
                f"pairs[{k}]: expected (mentee_id, mentor_id), got {pair!r}", field=f"pairs[{k}]"
            )
        mentee_id, mentor_id = pair
        # Non-integer ids (including unhashable ones) are simply unknown.
        if not is_int(mentee_id) or mentee_id not in prep.mentee_index:
            raise MatcherError(
                f"unknown mentee id {mentee_id!r}",
                field="mentee_id" if single else f"pairs[{k}].mentee_id",
                details={"id": str(mentee_id)},
            )
        if not is_int(mentor_id) or mentor_id not in prep.mentor_index:
            raise MatcherError(
                f"unknown mentor id {mentor_id!r}",
                field="mentor_id" if single else f"pairs[{k}].mentor_id",
                details={"id": str(mentor_id)},
            )
        rows[k] = prep.mentee_index[mentee_id]
        cols[k] = prep.mentor_index[mentor_id]
    if not len(pairs):
        return ()
    block = Evaluator(prep).pairs(rows, cols)
    weights = {c: float(w) for c, w in zip(CRITERIA, prep.weights.tolist(), strict=True)}
    failing = {rule: np.asarray(block.rules[rule], dtype=bool).tolist() for rule in RULES}
    criteria = {c: np.asarray(block.criteria[c], dtype=np.float64).tolist() for c in CRITERIA}
    scores = np.asarray(block.score).tolist()
    overlaps = np.asarray(block.overlap, dtype=np.float64).tolist()
    out: list[Explanation] = []
    for k in range(len(pairs)):
        failed = tuple(rule for rule in RULES if failing[rule][k])
        overlap = overlaps[k]
        out.append(
            Explanation(
                mentee_id=int(prep.mentees.ids[rows[k]]),
                mentor_id=int(prep.mentors.ids[cols[k]]),
                feasible=not failed,
                failed_rules=failed,
                score=_score(int(scores[k])),
                breakdown={c: round(float(criteria[c][k]), 6) for c in CRITERIA},
                weights=dict(weights),
                overlap_minutes=int(overlap) if math.isfinite(overlap) else 0,
            )
        )
    return tuple(out)


def _solve_sparse(prep: Prepared, report: Progress, started: float) -> Result:
    # The scans run SCORING_THREADS threads of their own; OpenBLAS threads on top of
    # them busy-wait for cores those threads need (measured: ~70% more CPU per pair).
    limit = 1 if sparse.SCORING_THREADS > 1 else None
    with threadpool_limits(limits=limit, user_api="blas"):
        return _solve_sparse_inner(prep, report, started)


def _solve_sparse_inner(prep: Prepared, report: Progress, started: float) -> Result:
    # The large-problem path: no dense score matrix; see matcher.sparse.
    n, m = prep.n, prep.m
    settings = prep.settings
    evaluator = Evaluator(prep)
    fixed, infeasible, pins_used = place_pins(prep, evaluator)
    remaining = np.maximum(prep.free - pins_used, 0)
    is_pinned = np.zeros(n, dtype=np.bool_)
    is_pinned[[i for i, _ in fixed]] = True
    open_cols = remaining > 0

    report("scoring", 0.05)
    scoring_start = time.perf_counter()
    scan = sparse.first_scan(prep, evaluator, open_cols, is_pinned, report, 0.05, 0.4)
    scoring_seconds = time.perf_counter() - scoring_start
    solve_start = time.perf_counter()
    pool_rows = np.flatnonzero(scan.pool_row).astype(np.int64)
    pool_cols = np.flatnonzero(open_cols & (scan.degree > 0)).astype(np.int64)
    col_index = np.full(m, -1, dtype=np.int64)
    col_index[pool_cols] = np.arange(len(pool_cols), dtype=np.int64)
    row_index = np.full(n, -1, dtype=np.int64)
    row_index[pool_rows] = np.arange(len(pool_rows), dtype=np.int64)
    pool = sparse.SparsePool(
        rows=pool_rows,
        cols=pool_cols,
        slots=np.minimum(remaining[pool_cols], scan.degree[pool_cols]),
        first_penalty_k=prep.load[pool_cols] + pins_used[pool_cols],
        waiting_class=np.floor(prep.waiting[pool_rows] / settings.waiting_class_days).astype(
            np.int64
        ),
        objective=settings.objective,
        load_penalty=float(settings.load_penalty),
        row_top=scan.row_top[pool_rows],
        histogram=scan.histogram,
        cand_p=row_index[scan.cand_rows],
        cand_c=col_index[scan.cand_cols],
        cand_s=scan.cand_scores,
        considered=len(scan.cand_rows),
    )
    fixed_rows = np.asarray([i for i, _ in fixed], dtype=np.int64)
    fixed_cols = np.asarray([j for _, j in fixed], dtype=np.int64)
    free_slots = np.maximum(prep.free, 0)

    def current_of(rows: IntArray, cols: IntArray) -> sparse.Current:
        all_rows = np.concatenate([fixed_rows, pool_rows[rows]])
        all_cols = np.concatenate([fixed_cols, pool_cols[cols]])
        own = np.full(n, -1, dtype=np.int64)
        own[all_rows] = evaluator.pairs(all_rows, all_cols).score
        worst = np.full(m, np.iinfo(np.int64).max, dtype=np.int64)
        np.minimum.at(worst, all_cols, own[all_rows])
        assigned = np.bincount(all_cols, minlength=m)
        worst = np.where(assigned < prep.free, -1, worst)
        return sparse.Current(own=own, worst=worst, spare=assigned < free_slots)

    rounds = [0]

    def tell(phase: str, fraction: float) -> None:
        # Each certified solve reports 0 -> 1; later solves (fair) continue the
        # climb, and `report` keeps the fraction from ever going down.
        report(phase, 0.45 + 0.45 * (1.0 - 0.5 ** rounds[0] * (1.0 - fraction)) * 0.999)

    def run(threshold: int | None, label: str) -> sparse.Certified:
        out = sparse.certified_solve(
            prep, evaluator, pool, threshold, current_of, tell, label, scan.store
        )
        rounds[0] += 1
        return out

    solver_name = "min_weight_full_bipartite_matching+pricing"
    pricing_rounds = 0
    if len(pool_rows) == 0 or len(pool_cols) == 0:
        empty = np.zeros(0, dtype=np.int64)
        final = sparse.Certified(
            empty,
            empty,
            0,
            0,
            0,
            SCORE_SCALE,
            0,
            sparse.report_pass(
                prep,
                evaluator,
                scan.store,
                current_of(empty, empty),
                lambda f: report("reporting", 0.45 + 0.45 * f),
            ),
        )
        solver_name = "none"
        pricing_rounds = 1
    else:
        target = 0
        if settings.objective == "fair":
            # The most mentees that can be matched, certified by a König cover
            # checked against every pair (no weighted solve needed for a count).
            target, passes = sparse.certified_max_matching(
                prep, evaluator, pool, 0, scan.store, tell, "fair count: "
            )
            pricing_rounds += passes
        if target > 0:
            upper = int(
                np.partition(pool.row_top, len(pool_rows) - target)[len(pool_rows) - target]
            )

            def fits(t: int) -> bool:
                # Certified: the maximum matching over all pairs >= t reaches target.
                nonlocal pricing_rounds
                size, passes = sparse.certified_max_matching(
                    prep,
                    evaluator,
                    pool,
                    t,
                    scan.store,
                    tell,
                    f"fair threshold {t / SCORE_SCALE:.6f}: ",
                    enough=target,
                )
                pricing_rounds += passes
                return size >= target

            # Distinct pool scores up to the bound, highest first. Search the
            # candidates alone first (no pass over the scores): they already hold a
            # maximum matching, so the lowest value fits, and a value that fits
            # there fits everywhere. The true threshold is at or above theirs.
            values = np.flatnonzero(pool.histogram[: upper + 1])[::-1]
            lo_fit, hi_fail = len(values) - 1, -1
            while lo_fit - hi_fail > 1:
                mid = (lo_fit + hi_fail) // 2
                if sparse.candidate_matching_size(pool, int(values[mid])) == target:
                    lo_fit = mid
                else:
                    hi_fail = mid
            # Then certified probes above it; usually the next value up fails at once.
            ok, failed = lo_fit, -1
            if ok > 0 and fits(int(values[ok - 1])):
                ok -= 1
                while ok - failed > 1:
                    mid = (ok + failed) // 2
                    if fits(int(values[mid])):
                        ok = mid
                    else:
                        failed = mid
            best = int(values[ok])
            final = run(best, f"fair threshold {best / SCORE_SCALE:.6f}: ")
        else:
            final = run(None, "")
        pricing_rounds += final.rounds
    solve_seconds = time.perf_counter() - solve_start

    gap = (final.value - final.first_value) / final.value if final.value > 0 else 0.0

    def unmatched(mentor_of: IntArray, assigned: IntArray) -> tuple[Unmatched, ...]:
        return _unmatched_sparse(prep, scan, final.report.spare_any, mentor_of)

    def blocking(mentor_of: IntArray, all_cols: IntArray) -> int:
        return final.report.blocking_pairs

    return _finish(
        prep,
        evaluator,
        fixed,
        infeasible,
        pool_rows[final.rows],
        pool_cols[final.cols],
        unmatched,
        blocking,
        report,
        started,
        {
            "feasible_pairs": scan.feasible_pairs,
            "score_resolution": 1.0 / final.grid,
            "waiting_classes": final.waiting_classes,
            "solver": solver_name,
            "scoring_seconds": round(scoring_seconds, 6),
            "solve_seconds": round(solve_seconds, 6),
            "certified_optimal": True,
            "pricing_rounds": pricing_rounds,
            "pairs_considered": pool.considered,
            "first_solve_gap": round(gap, 12),
        },
    )


def _unmatched_sparse(
    prep: Prepared, scan: sparse.FirstScan, spare_any: BoolArray, mentor_of: IntArray
) -> tuple[Unmatched, ...]:
    # The same reasons as `_unmatched`, from the scans' per-row summaries.
    rows = np.flatnonzero(mentor_of < 0).astype(np.int64)
    if len(rows) == 0:
        return ()
    has_any = scan.has_any[rows]
    counts = rule_counts(prep, rows[~has_any])
    out: list[Unmatched] = []
    k_none = 0
    for pos, i in enumerate(rows.tolist()):
        waiting = round(float(prep.waiting[i]), 6)
        mentee_id = int(prep.mentees.ids[i])
        if not has_any[pos]:
            excluded: dict[str, JSONValue] = {name: int(counts[name][k_none]) for name in RULES}
            k_none += 1
            out.append(
                Unmatched(
                    mentee_id,
                    "no_feasible_mentor",
                    {"excluded_by": excluded, "mentor_count": prep.m, "waiting_days": waiting},
                )
            )
            continue
        reason = "not_selected" if bool(spare_any[i]) else "capacity_taken"
        best = int(scan.best_col[i])
        out.append(
            Unmatched(
                mentee_id,
                reason,
                {
                    "feasible_mentors": int(scan.count[i]),
                    "best_alternative": {
                        "mentor_id": int(prep.mentors.ids[best]),
                        "score": _score(int(scan.best_score[i])),
                    },
                    "waiting_days": waiting,
                },
            )
        )
    return tuple(out)
