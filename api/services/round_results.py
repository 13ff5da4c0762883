"""A round's results: solve its pool and write the pairs, reasons and statistics.

Shared by coordinators' rounds (`round_runs`) and the nightly rematch (`rematch`).
"""

from __future__ import annotations

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
from api.domain.vocabulary import Closer, RoundStatus
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
    where: Sequence[ColumnElement[bool]] = (),
) -> pools.Pool:
    """Load the pool, solve, write the pairs and results; the round is then `proposed`
    (no commit). `where`: the runner's fence (only the runner holding the round)."""
    started = time.perf_counter()
    pool = pools.build_pool(
        session,
        program,
        ProgramSettings.from_stored(round_.parameters),
        as_of,
        blocked_mentors=blocked_mentors,
        deprioritised=deprioritised,
    )
    loaded = time.perf_counter()
    result = matcher.solve(pool.problem, progress=progress)
    solved = time.perf_counter()
    people = pool.participants
    session.add_all(
        RoundPair(
            round_id=round_.id,
            mentee_id=pair.mentee_id,
            mentor_id=pair.mentor_id,
            score=pair.score,
            breakdown=dict(pair.breakdown),
            pinned=pair.pinned,
        )
        for pair in result.pairs
    )
    unmatched, infeasible_pins = _named(result, people)
    stats = result.stats.to_dict()
    stats["excluded_mentees"] = dict(Counter(pool.excluded_mentees.values()))
    session.flush()
    stats["phase_seconds"] = {
        "load": round(loaded - started, 4),
        "match": round(solved - loaded, 4),
        "persist": round(time.perf_counter() - solved, 4),
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
