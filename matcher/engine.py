"""``solve`` and ``explain``: the public entry points of the matcher."""

from __future__ import annotations

import math
import time
from collections.abc import Callable, Sequence

import numpy as np

from matcher.backend import Backend, SolveOptions
from matcher.dense import DenseBackend
from matcher.errors import MatcherError
from matcher.features import Prepared, is_int, prepare
from matcher.model import CRITERIA, RULES, Problem
from matcher.pool import place_pins
from matcher.report import build_result, score_value
from matcher.results import Explanation, Result
from matcher.scoring import Evaluator
from matcher.sparse.backend import SparseBackend
from matcher.types import IntArray

Progress = Callable[[str, float], None]


def solve(
    problem: Problem, progress: Progress | None = None, *, options: SolveOptions | None = None
) -> Result:
    """Match mentees to mentors exactly for the problem's objective.

    Parameters
    ----------
    problem : Problem
        Mentees, mentors, settings, pins, forbids and previous pairs.
    progress : callable, optional
        ``progress(phase, fraction)`` with phase one of ``"validating"``,
        ``"scoring"``, ``"solving"``, ``"reporting"``, ``"done"`` and the
        overall fraction done in [0, 1] (non-decreasing).
    options : SolveOptions, optional
        Tuning (which backend from which size, the sparse path's candidates...);
        the optimum does not depend on it.

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
    mentees are matched to the remaining slots exactly (:mod:`matcher.objective`;
    :mod:`matcher.reference` states the same objectives as plain code):

    * ``max_participation``: most mentees matched; among those matchings, the
      longest waiters matched first (waiting classes compared from the longest
      down); then the highest total of ``s - lambda * (k - 1)``.
    * ``fair``: most mentees matched; then the highest minimum score among the
      optimised pairs; then waiting priority; then the highest total.
    * ``max_score``: the highest total; ties go to matching more and longer
      waiting mentees.
    * ``stable``: the mentee-optimal stable matching (no blocking pair), see
      :mod:`matcher.stable`; dense path only (``SolveOptions.dense_pair_limit``).
    """
    started = time.perf_counter()
    last = [0.0]

    def report(phase: str, fraction: float) -> None:
        if progress is not None:
            last[0] = max(last[0], min(1.0, fraction))
            progress(phase, last[0])

    report("validating", 0.0)
    prep = prepare(problem)
    evaluator = Evaluator(prep)
    pins = place_pins(prep, evaluator)
    backend = select(prep, options or SolveOptions())
    outcome = backend.solve(prep, evaluator, pins, report)
    return build_result(prep, evaluator, pins, outcome, report, started)


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


def select(prep: Prepared, options: SolveOptions) -> Backend:
    """The backend for a problem of this size.

    Parameters
    ----------
    prep : Prepared
        The problem.
    options : SolveOptions
        Where the dense path ends.

    Returns
    -------
    Backend
        :class:`matcher.dense.DenseBackend` up to ``options.dense_pair_limit``
        pairs, else :class:`matcher.sparse.backend.SparseBackend`.
    """
    if prep.n * prep.m > options.dense_pair_limit and prep.n > 0 and prep.m > 0:
        if prep.settings.objective == "stable":
            raise MatcherError(
                f"settings.objective: 'stable' is computed on the full score matrix, at most "
                f"{options.dense_pair_limit:,} pairs (this problem has {prep.n * prep.m:,})",
                field="settings.objective",
                details={"max_pairs": options.dense_pair_limit},
            )
        return SparseBackend(options.sparse)
    return DenseBackend(options.sparse_density)


def _pair_indices(
    prep: Prepared, pairs: Sequence[tuple[int, int]], single: bool
) -> tuple[IntArray, IntArray]:
    # Mentee and mentor index of each (mentee_id, mentor_id), naming the first bad one.
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
        rows[k] = _index_of(prep.mentee_index, mentee_id, "mentee", k, single)
        cols[k] = _index_of(prep.mentor_index, mentor_id, "mentor", k, single)
    return rows, cols


def _index_of(index: dict[int, int], value: object, side: str, k: int, single: bool) -> int:
    # Non-integer ids (including unhashable ones) are simply unknown.
    if not is_int(value) or value not in index:
        raise MatcherError(
            f"unknown {side} id {value!r}",
            field=f"{side}_id" if single else f"pairs[{k}].{side}_id",
            details={"id": str(value)},
        )
    return index[value]


def _explain(
    problem: Problem, pairs: Sequence[tuple[int, int]], *, single: bool
) -> tuple[Explanation, ...]:
    prep = prepare(problem)
    rows, cols = _pair_indices(prep, pairs, single)
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
                score=score_value(int(scores[k])),
                breakdown={c: round(float(criteria[c][k]), 6) for c in CRITERIA},
                weights=dict(weights),
                overlap_minutes=int(overlap) if math.isfinite(overlap) else 0,
            )
        )
    return tuple(out)
