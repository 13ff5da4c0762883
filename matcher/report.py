"""What a solved matching reports: pairs, unmatched reasons, blocking pairs, statistics.

Both backends hand over the same facts (:class:`matcher.backend.Outcome`): the
optimised pairs, a :class:`RowSummary` of the mentees left unmatched, the
blocking-pair count (from :class:`Standing`) and the certificate; this module
turns them into a :class:`matcher.results.Result`.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np

from matcher.features import Prepared
from matcher.model import CRITERIA, RULES
from matcher.pool import Pins
from matcher.results import Pair, Result, Stats, Unmatched
from matcher.scoring import SCORE_SCALE, Evaluator, rule_counts
from matcher.types import BoolArray, IntArray, JSONValue

if TYPE_CHECKING:
    from matcher.backend import Outcome

Progress = Callable[[str, float], None]


def score_value(units: int) -> float:
    """A score in 1e-6 units as the float the results show."""
    return round(units / SCORE_SCALE, 6)


@dataclass(frozen=True)
class Standing:
    """Where each side of a full matching (pins included) stands.

    Attributes
    ----------
    own : ndarray of int64, shape (n,)
        Score of each mentee's pair, -1 when unmatched.
    worst : ndarray of int64, shape (m,)
        Worst score among a mentor's mentees, -1 when it has a free slot.
    spare : ndarray of bool, shape (m,)
        The mentor still has a free slot.
    """

    own: IntArray
    worst: IntArray
    spare: BoolArray

    @classmethod
    def of(cls, prep: Prepared, rows: IntArray, cols: IntArray, scores: IntArray) -> Standing:
        """The standing of the pairs ``(rows[k], cols[k])`` scoring ``scores[k]``."""
        own = np.full(prep.n, -1, dtype=np.int64)
        own[rows] = scores
        worst = np.full(prep.m, np.iinfo(np.int64).max, dtype=np.int64)
        np.minimum.at(worst, cols, own[rows])
        assigned = np.bincount(cols, minlength=prep.m)
        worst = np.where(assigned < prep.free, -1, worst)
        return cls(own=own, worst=worst, spare=assigned < np.maximum(prep.free, 0))

    def blocking(self, rows: IntArray, cols: IntArray, scores: IntArray) -> BoolArray:
        """Which feasible pairs block: both sides strictly prefer each other.

        ``rows``, ``cols`` and ``scores`` broadcast (a block of the score matrix
        with ``rows[:, None]`` and ``cols[None, :]``, or one entry per pair);
        a score of -1 (infeasible) never blocks, as ``own >= -1``.
        """
        out: BoolArray = (scores > self.own[rows]) & (scores > self.worst[cols])
        return out


@dataclass(frozen=True)
class RowSummary:
    """What the unmatched reasons need of each unmatched mentee's feasible mentors.

    Attributes
    ----------
    rows : ndarray of int64
        The unmatched mentees.
    count : ndarray of int64
        Feasible mentors of each.
    best_col, best_score : ndarray of int64
        The first best-scoring feasible mentor and its score.
    spare_any : ndarray of bool
        Some feasible mentor still has a free slot.
    """

    rows: IntArray
    count: IntArray
    best_col: IntArray
    best_score: IntArray
    spare_any: BoolArray


def unmatched_reasons(prep: Prepared, summary: RowSummary) -> tuple[Unmatched, ...]:
    """The machine-readable reason of each unmatched mentee.

    ``no_feasible_mentor`` with the count of mentors each hard rule excludes;
    else ``not_selected`` when a feasible mentor has a free slot left and
    ``capacity_taken`` when not, with the best alternative.
    """
    has_any = summary.count > 0
    counts = rule_counts(prep, summary.rows[~has_any])
    out: list[Unmatched] = []
    k_none = 0
    for pos, i in enumerate(summary.rows.tolist()):
        waiting = round(float(prep.waiting[i]), 6)
        mentee_id = int(prep.mentees.ids[i])
        if not has_any[pos]:
            excluded: dict[str, JSONValue] = {name: int(counts[name][k_none]) for name in RULES}
            k_none += 1
            facts: dict[str, JSONValue] = {
                "excluded_by": excluded,
                "mentor_count": prep.m,
                "waiting_days": waiting,
            }
            out.append(Unmatched(mentee_id, "no_feasible_mentor", facts))
            continue
        reason = "not_selected" if bool(summary.spare_any[pos]) else "capacity_taken"
        best = int(summary.best_col[pos])
        facts = {
            "feasible_mentors": int(summary.count[pos]),
            "best_alternative": {
                "mentor_id": int(prep.mentors.ids[best]),
                "score": score_value(int(summary.best_score[pos])),
            },
            "waiting_days": waiting,
        }
        out.append(Unmatched(mentee_id, reason, facts))
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


def _penalty_total(prep: Prepared, assigned: IntArray) -> float:
    # Sum of lambda * (k - 1) over the new pairs, k counting each mentor's current load.
    total = 0.0
    for j in np.flatnonzero(assigned).tolist():
        k0 = int(prep.load[j])
        total += prep.settings.load_penalty * sum(range(k0, k0 + int(assigned[j])))
    return total


def build_result(
    prep: Prepared,
    evaluator: Evaluator,
    pins: Pins,
    outcome: Outcome,
    report: Progress,
    started: float,
) -> Result:
    """Pairs, reasons and statistics of a solved problem (both backends).

    Parameters
    ----------
    prep, evaluator
        The problem and its evaluator.
    pins : Pins
        The placed pins.
    outcome : Outcome
        What the backend found.
    report : callable
        ``report(phase, fraction)``.
    started : float
        ``time.perf_counter()`` at the start of the solve.

    Returns
    -------
    Result
    """
    settings = prep.settings
    report("reporting", 0.9)
    n_fixed = len(pins.fixed)
    all_rows = np.concatenate([pins.rows, outcome.rows])
    all_cols = np.concatenate([pins.cols, outcome.cols])
    block = evaluator.pairs(all_rows, all_cols)
    pairs = tuple(
        Pair(
            mentee_id=int(prep.mentees.ids[i]),
            mentor_id=int(prep.mentors.ids[j]),
            score=score_value(int(block.score[k])),
            breakdown={c: round(float(block.criteria[c][k]), 6) for c in CRITERIA},
            pinned=k < n_fixed,
        )
        for k, (i, j) in enumerate(zip(all_rows.tolist(), all_cols.tolist(), strict=True))
    )
    assigned = np.bincount(all_cols, minlength=prep.m).astype(np.int64)
    pair_units = block.score.astype(np.int64)
    total_units = int(pair_units.sum())
    optimised = pair_units[n_fixed:]
    certificate = outcome.certificate
    unmatched = unmatched_reasons(prep, outcome.unmatched)
    stats = Stats(
        objective=settings.objective,
        mentee_count=prep.n,
        mentor_count=prep.m,
        matched_count=len(pairs),
        pinned_count=n_fixed,
        match_rate=round(len(pairs) / prep.n, 6) if prep.n else 0.0,
        total_score=score_value(total_units) if len(pairs) else None,
        mean_score=round(total_units / SCORE_SCALE / len(pairs), 6) if len(pairs) else None,
        min_score=score_value(int(pair_units.min())) if len(pairs) else None,
        objective_total=round(total_units / SCORE_SCALE - _penalty_total(prep, assigned), 6),
        fair_min_score=(
            score_value(int(optimised.min()))
            if settings.objective == "fair" and len(optimised)
            else None
        ),
        needs_coverage=_needs_coverage(prep, all_rows, all_cols),
        mentor_load=_mentor_load(prep, assigned),
        blocking_pairs=outcome.blocking_pairs,
        feasible_pairs=outcome.feasible_pairs,
        score_resolution=1.0 / certificate.grid,
        waiting_classes=certificate.waiting_classes,
        solver=outcome.solver,
        scoring_seconds=round(outcome.scoring_seconds, 6),
        solve_seconds=round(outcome.solve_seconds, 6),
        total_seconds=round(time.perf_counter() - started, 6),
        certified_optimal=certificate.certified,
        pricing_rounds=certificate.pricing_rounds,
        pairs_considered=certificate.pairs_considered,
        first_solve_gap=round(certificate.first_solve_gap, 12),
    )
    report("done", 1.0)
    return Result(pairs=pairs, unmatched=unmatched, infeasible_pins=pins.infeasible, stats=stats)
