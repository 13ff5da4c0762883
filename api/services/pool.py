"""Rows → the matcher's pool: who takes part in a run, and what the matcher knows of them.

The matcher owns the mathematics; this module decides the pool (active people with a
complete profile and no live relationship), each mentor's current load, previous
partners, coordinator constraints and how long each mentee has waited.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session, selectinload

import matcher
from api.adapters.models import Constraint, Match, Participant, Program
from api.domain import waiting
from api.domain.settings import ProgramSettings
from api.domain.values import DAYS
from api.domain.vocabulary import LIVE_MATCH_STATUSES, ConstraintKind, ParticipantStatus


@dataclass
class Pool:
    """A matcher problem plus the rows it was built from (ids → participants)."""

    problem: matcher.Problem
    participants: dict[int, Participant]
    excluded_mentees: dict[int, str] = field(default_factory=dict)
    #: Mentees to match before everyone else (the nightly rematch: those whose match
    #: failed through no fault of their own since the last night).
    first: frozenset[int] = frozenset()


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
    closed: dict[int, list[waiting.ClosedMatch]]  # mentee -> their closed matches
    previous: tuple[tuple[int, int], ...]  # every pair that was ever proposed

    @classmethod
    def of(cls, session: Session, program: Program) -> History:
        matches = session.execute(
            select(
                Match.mentee_id,
                Match.mentor_id,
                Match.status,
                Match.closed_at,
                Match.closed_by,
                Match.proposed_at,
                Match.mentee_accepted_at,
            ).where(Match.program_id == program.id)
        ).all()
        live = [m for m in matches if m.status in LIVE_MATCH_STATUSES]
        closed: dict[int, list[waiting.ClosedMatch]] = {}
        for m in matches:
            if m.closed_at is not None:
                closed.setdefault(m.mentee_id, []).append(
                    waiting.ClosedMatch(
                        status=m.status,
                        closed_by=m.closed_by,
                        proposed_at=m.proposed_at,
                        closed_at=m.closed_at,
                        mentee_accepted=m.mentee_accepted_at is not None,
                    )
                )
        return cls(
            live_mentees=frozenset(m.mentee_id for m in live),
            load=Counter(m.mentor_id for m in live),
            closed=closed,
            previous=tuple(sorted({(m.mentee_id, m.mentor_id) for m in matches})),
        )

    def failed_through_no_fault(self, since: datetime | None) -> frozenset[int]:
        """Mentees whose latest match closed after `since` through no fault of theirs."""
        return frozenset(
            mentee
            for mentee, closed in self.closed.items()
            if waiting.failed_through_no_fault(closed, since)
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
    assert p.profile_completed_at is not None  # the pool holds complete profiles only
    return waiting.waiting_days(p.profile_completed_at, history.closed.get(p.id, ()), as_of)


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
    no_fault_first: bool = False,
    since: datetime | None = None,
) -> Pool:
    """Everyone a round of `program` can consider at `as_of`.

    `blocked_mentors` get no new mentee (paused for this run: e.g. drained); the
    `deprioritised` mentees count as having waited no time at all. With
    `no_fault_first`, mentees whose latest match failed after `since` through no fault
    of their own are to be matched first (`Pool.first`).
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
    first = (
        history.failed_through_no_fault(since) & {m.id for m in mentees}
        if no_fault_first
        else frozenset()
    )
    return Pool(
        problem=problem,
        participants={p.id: p for p in people},
        excluded_mentees=excluded,
        first=frozenset(first),
    )
