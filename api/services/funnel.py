"""A program's funnel: from joining to an active relationship, and where people wait.

Counts per stage (joined, profile complete, waiting, in a relationship by status), why
the waiting mentees wait (the last round's reason, or how their last match closed),
time from a complete profile to the first proposal, acceptance and expiry rates, per
program and per published round.
"""

from __future__ import annotations

import statistics
from collections import Counter
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import Row, func, select
from sqlalchemy.orm import Session

from api.adapters.db import utcnow
from api.adapters.models import Account, CheckIn, Match, OutboxMessage, Participant, Round
from api.domain.vocabulary import (
    LIVE_MATCH_STATUSES,
    MENTEE_ROLES,
    MENTOR_ROLES,
    Health,
    MatchStatus,
    MessageKind,
    ParticipantStatus,
    RoundStatus,
    Side,
    Signal,
    values,
)
from api.services import access, relationship_health

#: A proposal was answered (one way or the other) when it reached one of these.
_ANSWERED = {MatchStatus.ACTIVE, MatchStatus.ENDED, MatchStatus.DECLINED}


@dataclass(frozen=True)
class Rates:
    acceptance: float | None  # accepted by both / answered proposals
    expiry: float | None  # expired / proposals that are no longer open


@dataclass(frozen=True)
class Durations:
    median: float | None
    p90: float | None
    count: int


@dataclass(frozen=True)
class RoundFunnel:
    round_id: int
    kind: str
    published_at: datetime | None
    matches: dict[str, int]
    rates: Rates


@dataclass(frozen=True)
class Funnel:
    participants: dict[str, int]
    waiting: int
    waiting_by_reason: dict[str, int]
    matches: dict[str, int]
    rates: Rates
    days_to_first_proposal: Durations
    rounds: list[RoundFunnel]
    health: dict[str, int]
    load: dict[str, int]


def _rates(statuses: list[str], accepted: int) -> Rates:
    answered = sum(1 for s in statuses if s in _ANSWERED)
    closed = sum(1 for s in statuses if s not in (MatchStatus.PROPOSED, MatchStatus.ACCEPTED))
    expired = sum(1 for s in statuses if s == MatchStatus.EXPIRED)
    return Rates(
        acceptance=round(accepted / answered, 4) if answered else None,
        expiry=round(expired / closed, 4) if closed else None,
    )


def _by_status(statuses: list[str]) -> dict[str, int]:
    counts = Counter(statuses)
    return {s: counts.get(s, 0) for s in values(MatchStatus)}


def _durations(days: list[float]) -> Durations:
    if not days:
        return Durations(None, None, 0)
    ordered = sorted(days)
    p90 = ordered[min(len(ordered) - 1, int(0.9 * len(ordered)))]
    return Durations(round(statistics.median(ordered), 2), round(p90, 2), len(ordered))


def funnel(session: Session, account: Account, program_id: int) -> Funnel:
    program = access.program_for_coordinator(session, account, program_id)
    people = session.execute(
        select(
            Participant.id,
            Participant.role,
            Participant.status,
            Participant.profile_completed_at,
        ).where(Participant.program_id == program.id)
    ).all()
    matches = session.execute(
        select(
            Match.id,
            Match.round_id,
            Match.mentee_id,
            Match.status,
            Match.proposed_at,
            Match.activated_at,
            Match.closed_at,
        )
        .where(Match.program_id == program.id)
        .order_by(Match.id)
    ).all()
    rounds = session.scalars(
        select(Round)
        .where(Round.program_id == program.id, Round.status == RoundStatus.PUBLISHED)
        .order_by(Round.id)
    ).all()
    complete = [p for p in people if p.profile_completed_at is not None]
    participants = {
        "joined": len(people),
        "profile_complete": len(complete),
        "mentees": sum(1 for p in complete if p.role in MENTEE_ROLES),
        "mentors": sum(1 for p in complete if p.role in MENTOR_ROLES),
        "paused": sum(1 for p in people if p.status == ParticipantStatus.PAUSED),
        "withdrawn": sum(1 for p in people if p.status == ParticipantStatus.WITHDRAWN),
    }
    live = {m.mentee_id for m in matches if m.status in LIVE_MATCH_STATUSES}
    last_closed: dict[int, str] = {}
    first_proposal: dict[int, datetime] = {}
    for m in matches:
        first_proposal.setdefault(m.mentee_id, m.proposed_at)
        if m.closed_at is not None:
            last_closed[m.mentee_id] = m.status
    last_round_reason = _last_round_reasons(session, program.id)
    waiting = [
        p
        for p in complete
        if p.role in MENTEE_ROLES and p.status == ParticipantStatus.ACTIVE and p.id not in live
    ]
    reasons = Counter(
        last_round_reason.get(p.id)
        or (f"after_{last_closed[p.id]}" if p.id in last_closed else "not_yet_in_a_round")
        for p in waiting
    )
    days = [
        (first_proposal[p.id] - p.profile_completed_at).total_seconds() / 86400
        for p in complete
        if p.id in first_proposal and first_proposal[p.id] >= p.profile_completed_at
    ]
    statuses = [m.status for m in matches]
    return Funnel(
        participants=participants,
        waiting=len(waiting),
        waiting_by_reason=dict(sorted(reasons.items())),
        matches=_by_status(statuses),
        rates=_rates(statuses, sum(1 for m in matches if m.activated_at is not None)),
        days_to_first_proposal=_durations(days),
        rounds=[_round_funnel(r, [m for m in matches if m.round_id == r.id]) for r in rounds],
        health=_health_counts(session, program.id),
        load=_load_counts(session, program.id),
    )


def _health_counts(session: Session, program_id: int) -> dict[str, int]:
    """Live matches by health (every health word present)."""
    live = session.scalars(
        select(Match).where(Match.program_id == program_id, Match.status.in_(LIVE_MATCH_STATUSES))
    ).all()
    counts = Counter(
        h for h in relationship_health.health_of(session, live, utcnow()).values() if h
    )
    return {h: counts.get(h, 0) for h in values(Health)}


def _load_counts(session: Session, program_id: int) -> dict[str, int]:
    """Mentors by their latest signal as a mentor (stretched, drained and left out of
    proposals), and the capacity questions asked."""
    latest: dict[int, tuple[str | None, datetime]] = {}
    for mentor_id, signal, at in session.execute(
        select(CheckIn.author_id, CheckIn.signal, CheckIn.created_at)
        .join(Match, Match.id == CheckIn.match_id)
        .where(Match.program_id == program_id, CheckIn.author_side == Side.MENTOR)
        .order_by(CheckIn.id)
    ):
        latest[mentor_id] = (signal, at)
    resumed = dict(
        session.execute(
            select(Participant.id, Participant.resumed_at).where(
                Participant.program_id == program_id, Participant.resumed_at.is_not(None)
            )
        ).all()
    )
    drained = [
        m
        for m, (signal, at) in latest.items()
        if signal == Signal.DRAINED and (m not in resumed or at > resumed[m])
    ]
    asked = session.scalar(
        select(func.count())
        .select_from(OutboxMessage)
        .where(
            OutboxMessage.program_id == program_id,
            OutboxMessage.kind == MessageKind.CAPACITY_QUESTION,
        )
    )
    return {
        "stretched_mentors": sum(1 for s, _ in latest.values() if s == Signal.STRETCHED),
        "drained_mentors": len(drained),
        "capacity_questions": int(asked or 0),
    }


def _round_funnel(round_: Round, matches: list[Row[Any]]) -> RoundFunnel:
    statuses = [m.status for m in matches]
    return RoundFunnel(
        round_id=round_.id,
        kind=round_.kind,
        published_at=round_.published_at,
        matches=_by_status(statuses),
        rates=_rates(statuses, sum(1 for m in matches if m.activated_at is not None)),
    )


def _last_round_reasons(session: Session, program_id: int) -> dict[int, str]:
    """Why the latest round with results left each mentee out (mentee id -> reason)."""
    latest = session.scalar(
        select(Round)
        .where(
            Round.program_id == program_id,
            Round.status.in_((RoundStatus.PROPOSED, RoundStatus.PUBLISHED)),
        )
        .order_by(Round.id.desc())
        .limit(1)
    )
    if latest is None:
        return {}
    return {u["mentee"]["participant_id"]: u["reason"] for u in latest.unmatched or []}
