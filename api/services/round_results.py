"""A round's results: solve its pool and write the pairs, reasons and statistics.

Shared by coordinators' rounds (`round_runs`) and the nightly rematch (`rematch`).
"""

from __future__ import annotations

import dataclasses
import time
from collections import Counter
from collections.abc import Callable, Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import ColumnElement
from sqlalchemy.orm import Session

import matcher
from api.adapters.db import utcnow
from api.adapters.models import Participant, Program, Round, RoundPair
from api.domain.settings import ProgramSettings
from api.domain.vocabulary import Closer, RoundKind, RoundStatus
from api.services import pool as pools
from api.services import status


def _person(p: Participant) -> dict[str, Any]:
    return {"participant_id": p.id, "display_name": p.account.display_name}


def compute(
    session: Session,
    program: Program,
    round_: Round,
    as_of: datetime,
    *,
    progress: Callable[[str, float], None] | None = None,
    blocked_mentors: frozenset[int] = frozenset(),
    deprioritised: frozenset[int] = frozenset(),
    no_fault_first: bool = False,
    since: datetime | None = None,
    where: Sequence[ColumnElement[bool]] = (),
) -> pools.Pool:
    """Load the pool, solve, write the pairs and results; the round is then `proposed`
    (no commit). `no_fault_first`: see `pool.build_pool` and `solve_first`. `where`: the
    runner's fence (only the runner holding the round)."""
    started = time.perf_counter()
    pool = pools.build_pool(
        session,
        program,
        ProgramSettings.from_stored(round_.parameters),
        as_of,
        blocked_mentors=blocked_mentors,
        deprioritised=deprioritised,
        no_fault_first=no_fault_first,
        since=since,
    )
    loaded = time.perf_counter()
    result, placed_first = solve_first(pool.problem, pool.first, progress)
    solved = time.perf_counter()
    people = pool.participants
    session.add_all(
        RoundPair(
            round_id=round_.id,
            mentee_id=pair.mentee_id,
            mentor_id=pair.mentor_id,
            score=pair.score,
            breakdown=dict(pair.breakdown),
            pinned=pair.pinned and (pair.mentee_id, pair.mentor_id) not in placed_first,
        )
        for pair in result.pairs
    )
    unmatched, infeasible_pins = _named(result, people)
    stats = result.stats.to_dict()
    if pool.first:
        stats["matched_first"] = len(placed_first)
        stats["pinned_count"] = stats["pinned_count"] - len(placed_first)
    stats["excluded_mentees"] = dict(Counter(pool.excluded_mentees.values()))
    if round_.kind != RoundKind.REMATCH and ProgramSettings.from_stored(
        round_.parameters
    ).compare_objectives:
        stats["objective_comparison"] = compare_objectives(pool.problem, result)
    compared = time.perf_counter()
    session.flush()
    stats["phase_seconds"] = {
        "load": round(loaded - started, 4),
        "match": round(solved - loaded, 4),
        "compare": round(compared - solved, 4),
        "persist": round(time.perf_counter() - compared, 4),
    }
    now = utcnow()
    status.change(
        session,
        Round,
        round_.id,
        "propose",
        at=now,
        where=where,
        values={
            "unmatched": unmatched,
            "infeasible_pins": infeasible_pins,
            "stats": stats,
            "finished_at": now,
            "lease_expires_at": None,
            "progress": {"phase": RoundStatus.PROPOSED.value, "percent": 100},
        },
        actor=Closer.SYSTEM,
    )
    return pool


def solve_first(
    problem: matcher.Problem,
    first: frozenset[int],
    progress: Callable[[str, float], None] | None = None,
) -> tuple[matcher.Result, frozenset[tuple[int, int]]]:
    """Solve `problem`, matching the mentees of `first` before everyone else.

    The `first` mentees are matched among themselves (same objective, rules and
    mentors); their pairs are then placed ahead of everyone, the way pins are, and the
    rest of the pool is optimised on the slots left. Returns the result and the pairs
    placed first (which are not coordinator pins).
    """
    ahead = tuple(m for m in problem.mentees if m.id in first)
    if not ahead:
        return matcher.solve(problem, progress=progress), frozenset()
    own_pins = tuple(p for p in problem.pins if p[0] in first)
    early = matcher.solve(dataclasses.replace(problem, mentees=ahead, pins=own_pins))
    placed = tuple((p.mentee_id, p.mentor_id) for p in early.pairs)
    others = tuple(p for p in problem.pins if p[0] not in first)
    result = matcher.solve(dataclasses.replace(problem, pins=placed + others), progress=progress)
    return result, frozenset(placed) - frozenset(own_pins)


#: Above this many mentee-mentor pairs a round skips the objective comparison (each
#: alternative costs one more solve; the sparse path's solves take minutes).
COMPARISON_MAX_PAIRS = 4_000_000


def compare_objectives(
    problem: matcher.Problem, chosen: matcher.Result
) -> dict[str, dict[str, Any]] | None:
    """What each objective gives on this cohort: the price of the chosen one, shown.

    The chosen objective's figures come from its own result; every other objective is
    one more exact solve of the same problem (same pool, pins, rules and scores). None
    when the round is too large to afford it.
    """
    if len(problem.mentees) * len(problem.mentors) > COMPARISON_MAX_PAIRS:
        return None
    out: dict[str, dict[str, Any]] = {}
    for objective in matcher.OBJECTIVES:
        if objective == problem.settings.objective:
            result = chosen
        else:
            settings = dataclasses.replace(problem.settings, objective=objective)
            result = matcher.solve(dataclasses.replace(problem, settings=settings))
        stats = result.stats
        out[objective] = {
            "matched_count": stats.matched_count,
            "total_score": stats.total_score,
            "mean_score": stats.mean_score,
            "min_score": stats.min_score,
            "needs_coverage": stats.needs_coverage,
            "blocking_pairs": stats.blocking_pairs,
            "solve_seconds": stats.solve_seconds,
        }
    return out


def _named(
    result: matcher.Result, people: dict[int, Participant]
) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """The unmatched mentees and infeasible pins, with the names coordinators read."""
    unmatched = [
        {
            "mentee": _person(people[u.mentee_id]),
            "reason": u.reason,
            "details": _with_names(u.details, people),
        }
        for u in result.unmatched
    ]
    infeasible_pins = [
        {
            "mentee": _person(people[p.mentee_id]),
            "mentor": _person(people[p.mentor_id]),
            "rules": list(p.rules),
        }
        for p in result.infeasible_pins
    ]
    return unmatched, infeasible_pins


def _with_names(details: dict[str, Any], people: dict[int, Participant]) -> dict[str, Any]:
    out = dict(details)
    alt = out.get("best_alternative")
    if isinstance(alt, dict) and alt.get("mentor_id") in people:
        alt = dict(alt)
        alt["display_name"] = people[alt["mentor_id"]].account.display_name
        out["best_alternative"] = alt
    return out
