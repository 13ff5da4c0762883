"""A program's matches as coordinators see and act on them: list, cancel, end."""

from __future__ import annotations

import base64
import binascii
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session, selectinload

from api.adapters.db import utcnow
from api.adapters.models import Account, CheckIn, Match, Participant
from api.domain.errors import IllegalTransition, RuleViolation
from api.domain.values import ID_MAX
from api.domain.vocabulary import Closer, Health
from api.errors import Conflict, NotFound
from api.services import access, relationship_health, status


@dataclass(frozen=True)
class ProgramMatch:
    """A match with both people and its latest check-in, for coordinators."""

    match: Match
    #: How a live match is doing (None: not live, or not computed for this answer).
    health: Health | None = None

    def __getattr__(self, name: str) -> Any:
        # The match's own fields and both people (mentee, mentor), for the schema.
        return getattr(self.match, name)

    @property
    def last_check_in(self) -> CheckIn | None:
        return self.match.check_ins[-1] if self.match.check_ins else None

    @property
    def paused(self) -> bool:
        return self.match.paused_at is not None

    @property
    def mentee_accepted(self) -> bool:
        return self.match.mentee_accepted_at is not None

    @property
    def mentor_accepted(self) -> bool:
        return self.match.mentor_accepted_at is not None


@dataclass(frozen=True)
class Page:
    items: list[ProgramMatch]
    next_cursor: str | None


def _encode_cursor(last_id: int) -> str:
    return base64.urlsafe_b64encode(f"m{last_id}".encode()).decode().rstrip("=")


def _decode_cursor(cursor: str) -> int:
    try:
        raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)).decode()
        if not raw.startswith("m") or not raw[1:].isdigit() or len(raw) > 12:
            raise ValueError(raw)
        value = int(raw[1:])
        if not 0 <= value <= ID_MAX:  # a forged cursor: the column cannot hold it
            raise ValueError(raw)
        return value
    except (ValueError, binascii.Error, UnicodeDecodeError) as exc:
        raise RuleViolation({"cursor": ["Not a cursor this API returned."]}) from exc


def list_matches(
    session: Session, account: Account, program_id: int, query: dict[str, Any]
) -> Page:
    """The program's matches, newest first, optionally of some statuses only."""
    program = access.program_for_coordinator(session, account, program_id)
    person = (selectinload(Participant.account),)
    stmt = (
        select(Match)
        .where(Match.program_id == program.id)
        .options(
            selectinload(Match.mentee).options(*person),
            selectinload(Match.mentor).options(*person),
            selectinload(Match.check_ins),
        )
        .order_by(Match.id.desc())
    )
    if query.get("status"):
        stmt = stmt.where(Match.status.in_(query["status"]))
    if query.get("cursor"):
        stmt = stmt.where(Match.id < _decode_cursor(query["cursor"]))
    limit = query["limit"]
    rows = list(session.scalars(stmt.limit(limit + 1)))
    next_cursor = _encode_cursor(rows[limit - 1].id) if len(rows) > limit else None
    health = relationship_health.health_of(session, rows[:limit], utcnow())
    return Page([ProgramMatch(m, health[m.id]) for m in rows[:limit]], next_cursor)


def _of_program(session: Session, account: Account, program_id: int, match_id: int) -> Match:
    program = access.program_for_coordinator(session, account, program_id)
    match = session.get(Match, match_id)
    if match is None or match.program_id != program.id:
        raise NotFound(f"Match {match_id} is not a match of this program.")
    return match


def _close(
    session: Session,
    account: Account,
    program_id: int,
    match_id: int,
    event: str,
    reason: str,
    refused: str,
) -> ProgramMatch:
    match = _of_program(session, account, program_id, match_id)
    now: datetime = utcnow()
    try:
        status.change(
            session,
            Match,
            match.id,
            event,
            at=now,
            values={"closed_at": now, "closed_by": Closer.COORDINATOR, "close_reason": reason},
            actor=Closer.COORDINATOR,
            reason=reason,
        )
    except IllegalTransition as exc:
        session.rollback()
        raise Conflict(
            f"This match is {exc.status}; {refused}.", current_status=exc.status
        ) from exc
    session.commit()
    return ProgramMatch(match)


def cancel(
    session: Session, account: Account, program_id: int, match_id: int, reason: str
) -> ProgramMatch:
    """Withdraw a proposal nobody has finished answering (a coordinator's decision)."""
    return _close(
        session,
        account,
        program_id,
        match_id,
        "cancel",
        reason,
        "only a proposal can be cancelled (end an active match instead)",
    )


def end(
    session: Session, account: Account, program_id: int, match_id: int, reason: str
) -> ProgramMatch:
    """End an active relationship (a coordinator's decision)."""
    return _close(
        session,
        account,
        program_id,
        match_id,
        "end",
        reason,
        "only an active match can be ended (cancel a proposal instead)",
    )
