"""Rows → the matcher's pool: who takes part in a run, and what the matcher knows of them.

The matcher owns the mathematics; this module decides the pool (active people with a
complete profile and no live relationship), each mentor's current load, previous
partners, coordinator constraints and how long each mentee has waited.
"""

from __future__ import annotations

import dataclasses
from collections import Counter
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session, selectinload

import matcher
from api.adapters.models import Constraint, Match, Participant, Program
from api.domain.settings import ProgramSettings
from api.domain.values import DAYS
from api.domain.vocabulary import (
    LIVE_MATCH_STATUSES,
    CloseReason,
    ConstraintKind,
    ParticipantStatus,
)

#: The matcher's largest waiting time.
MAX_WAITING_DAYS = 1e6


@dataclass
class Pool:
    """A matcher problem plus the rows it was built from (ids → participants)."""

    problem: matcher.Problem
    participants: dict[int, Participant]
    excluded_mentees: dict[int, str] = field(default_factory=dict)


def _windows(availability: list[dict[str, Any]]) -> tuple[matcher.Window, ...]:
    return tuple(matcher.Window(DAYS.index(w["day"]), w["start"], w["end"]) for w in availability)


def _common(p: Participant, email_ids: dict[str, int]) -> dict[str, Any]:
    return {
        "id": p.id,
        "languages": frozenset(p.languages),
        "timezone": p.timezone or "UTC",
        "availability": _windows(p.availability),
        "experience_level": p.experience_level or 1,
        "org_unit": p.org_unit,
        "email": p.account.email,
        "manager_email": p.manager_email,
        "preferred_partners": frozenset(
            email_ids[e] for e in p.preferred_partners if e in email_ids
        ),
        # Special category data only counts while consent is live.
        "cultural_tags": frozenset(p.cultural_background or ())
        if p.live_consent() is not None
        else frozenset(),
        "cultural_preference": p.cultural_preference,
    }


def to_mentee(p: Participant, email_ids: dict[str, int], waiting_days: float) -> matcher.Mentee:
    return matcher.Mentee(
        needs=tuple((t.tag, t.weight) for t in p.tag_list("need")),
        waiting_days=waiting_days,
        **_common(p, email_ids),
    )


def to_mentor(p: Participant, email_ids: dict[str, int], load: int, paused: bool) -> matcher.Mentor:
    return matcher.Mentor(
        strengths=tuple((t.tag, t.weight) for t in p.tag_list("strength")),
        capacity=p.capacity or 0,
        current_load=load,
        paused=paused,
        **_common(p, email_ids),
    )


@dataclass(frozen=True)
class History:
    """What the program's matches so far say about a run's pool."""

    live_mentees: frozenset[int]
    load: Counter[int]  # live matches per mentor
    last_closed: dict[int, datetime]  # mentee -> when their last match closed
    previous: tuple[tuple[int, int], ...]  # every pair that was ever proposed
    #: Mentees whose latest closed match was a no-fault exit: the next run takes them first.
    no_fault: frozenset[int] = frozenset()

    @classmethod
    def of(cls, session: Session, program: Program) -> History:
        matches = session.execute(
            select(
                Match.mentee_id, Match.mentor_id, Match.status, Match.closed_at, Match.close_reason
            ).where(Match.program_id == program.id)
        ).all()
        live = [m for m in matches if m.status in LIVE_MATCH_STATUSES]
        last_closed: dict[int, datetime] = {}
        latest: dict[int, Any] = {}
        for m in matches:
            if m.closed_at is None:
                continue
            if m.mentee_id not in latest or m.closed_at > latest[m.mentee_id].closed_at:
                latest[m.mentee_id] = m
            # A no-fault exit keeps the waiting place: its close does not restart the wait.
            seen = last_closed.get(m.mentee_id)
            if m.close_reason != CloseReason.NO_FAULT and (seen is None or m.closed_at > seen):
                last_closed[m.mentee_id] = m.closed_at
        return cls(
            live_mentees=frozenset(m.mentee_id for m in live),
            load=Counter(m.mentor_id for m in live),
            last_closed=last_closed,
            previous=tuple(sorted({(m.mentee_id, m.mentor_id) for m in matches})),
            no_fault=frozenset(
                k for k, m in latest.items() if m.close_reason == CloseReason.NO_FAULT
            ),
        )


def _people(session: Session, program: Program) -> list[Participant]:
    """Everyone of the program with a complete profile who has not withdrawn."""
    return list(
        session.scalars(
            select(Participant)
            .where(
                Participant.program_id == program.id,
                Participant.profile_completed_at.is_not(None),
                Participant.status != ParticipantStatus.WITHDRAWN,
            )
            .options(
                selectinload(Participant.account),
                selectinload(Participant.tags),
                selectinload(Participant.consents),
            )
            .order_by(Participant.id)
        )
    )


def _waiting_days(p: Participant, history: History, as_of: datetime) -> float:
    since = max(filter(None, (p.profile_completed_at, history.last_closed.get(p.id))))
    return max(0.0, (as_of - since).total_seconds() / 86400)


def _constraints(
    session: Session, program: Program, mentee_ids: set[int], mentor_ids: set[int]
) -> tuple[tuple[tuple[int, int], ...], tuple[tuple[int, int], ...]]:
    """The pins among the run's people, and every forbid."""
    constraints = session.scalars(
        select(Constraint).where(Constraint.program_id == program.id).order_by(Constraint.id)
    ).all()
    pins = tuple(
        (c.mentee_id, c.mentor_id)
        for c in constraints
        if c.kind == ConstraintKind.PIN and c.mentee_id in mentee_ids and c.mentor_id in mentor_ids
    )
    forbids = tuple(
        (c.mentee_id, c.mentor_id) for c in constraints if c.kind == ConstraintKind.FORBID
    )
    return pins, forbids


def build_pool(
    session: Session,
    program: Program,
    settings: ProgramSettings,
    as_of: datetime,
    *,
    blocked_mentors: frozenset[int] = frozenset(),
    deprioritised: frozenset[int] = frozenset(),
) -> Pool:
    """Everyone a round of `program` can consider at `as_of`.

    `blocked_mentors` get no new mentee (paused for this run: e.g. drained); the
    `deprioritised` mentees count as having waited no time at all.
    """
    people = _people(session, program)
    email_ids = {p.account.email: p.id for p in people}
    history = History.of(session, program)
    mentees: list[matcher.Mentee] = []
    excluded: dict[int, str] = {}
    for p in people:
        if not p.is_mentee:
            continue
        if p.status != ParticipantStatus.ACTIVE:
            excluded[p.id] = "paused"
        elif p.id in history.live_mentees:
            excluded[p.id] = "in_relationship"
        else:
            waited = 0.0 if p.id in deprioritised else _waiting_days(p, history, as_of)
            mentees.append(to_mentee(p, email_ids, waited))
    first = [i for i, m in enumerate(mentees) if m.id in history.no_fault]
    if first:
        # After a no-fault exit: a waiting class above everybody else's.
        top = max(m.waiting_days for m in mentees) + settings.waiting_class_days + 1
        for i in first:
            mentees[i] = dataclasses.replace(mentees[i], waiting_days=min(top, MAX_WAITING_DAYS))
    mentors = [
        to_mentor(
            p,
            email_ids,
            history.load.get(p.id, 0),
            paused=p.status != ParticipantStatus.ACTIVE or p.id in blocked_mentors,
        )
        for p in people
        if p.is_mentor
    ]
    pins, forbids = _constraints(session, program, {m.id for m in mentees}, {m.id for m in mentors})
    problem = matcher.Problem(
        mentees=tuple(mentees),
        mentors=tuple(mentors),
        settings=settings.to_matcher(as_of.date()),
        pins=pins,
        forbids=forbids,
        previous_pairs=history.previous,
    )
    return Pool(problem=problem, participants={p.id: p for p in people}, excluded_mentees=excluded)
