"""The coordinators' attention list: active relationships that may need a word."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session, selectinload

from api.adapters.db import utcnow
from api.adapters.models import Account, CheckIn, Match, Participant
from api.domain.health import SEVERITY
from api.domain.vocabulary import Health, MatchStatus, Side, Signal
from api.services import access, relationship_health
from api.services.program_matches import ProgramMatch


@dataclass(frozen=True)
class AttentionItem(ProgramMatch):
    """An active match and why it needs attention."""

    reasons: list[str] = field(default_factory=list)

    @property
    def match_id(self) -> int:
        return self.match.id

    @property
    def last_check_in_at(self) -> datetime | None:
        return self.match.check_ins[-1].created_at if self.match.check_ins else None

    @property
    def check_ins(self) -> Sequence[CheckIn]:
        return self.match.check_ins[-5:]


def reasons(match: Match, now: datetime, quiet_after: timedelta, low_rating: int) -> list[str]:
    """Why an active match needs attention (none: it does not)."""
    found: list[str] = []
    latest = match.check_ins[-1] if match.check_ins else None
    latest_by = {c.author_side: c for c in match.check_ins}
    if latest is not None and latest.rating <= low_rating:
        found.append("low_rating")
    mentor_latest = latest_by.get(Side.MENTOR)
    if mentor_latest is not None and mentor_latest.signal == Signal.DRAINED:
        found.append("mentor_drained")
    mentee_latest = latest_by.get(Side.MENTEE)
    if mentee_latest is not None and mentee_latest.signal == Signal.DRAINED:
        found.append("mentee_drained")
    last_contact = latest.created_at if latest else match.activated_at or match.proposed_at
    if now - last_contact >= quiet_after:
        found.append("no_recent_check_in")
    return found


def needs_attention(
    session: Session, account: Account, program_id: int, weeks: int, low_rating: int
) -> list[AttentionItem]:
    """Active relationships with a low rating, a drained partner, no recent check-in, or
    a health other than on_track; sorted by health, worst first."""
    program = access.program_for_coordinator(session, account, program_id)
    now = utcnow()
    loader = (selectinload(Participant.account),)
    matches = session.scalars(
        select(Match)
        .where(Match.program_id == program.id, Match.status == MatchStatus.ACTIVE)
        .options(
            selectinload(Match.check_ins),
            selectinload(Match.mentee).options(*loader),
            selectinload(Match.mentor).options(*loader),
        )
        .order_by(Match.id)
    ).all()
    health = relationship_health.health_of(session, matches, now)
    items = [
        AttentionItem(m, health[m.id], reasons(m, now, timedelta(weeks=weeks), low_rating))
        for m in matches
    ]
    # Worst health first (at_risk, never_started, quiet, needs_check_in), then oldest.
    flagged = [i for i in items if i.reasons or i.health not in (None, Health.ON_TRACK)]
    return sorted(flagged, key=lambda i: (SEVERITY[i.health or Health.ON_TRACK], i.match.id))
