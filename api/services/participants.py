"""The coordinators' view of a program's participants: list, read, change role or status."""

from __future__ import annotations

import base64
import binascii
from dataclasses import dataclass
from typing import Any

from sqlalchemy import exists, func, select
from sqlalchemy.orm import Session, selectinload

from api.adapters.db import utcnow
from api.adapters.models import Account, Match, Participant, ParticipantTag, Program
from api.domain.errors import RuleViolation
from api.domain.profiles import capacity_after_role_change
from api.domain.settings import ProgramSettings
from api.domain.values import ID_MAX
from api.domain.vocabulary import LIVE_MATCH_STATUSES, Role
from api.errors import NotFound
from api.services import access


def _encode_cursor(last_id: int) -> str:
    return base64.urlsafe_b64encode(f"p{last_id}".encode()).decode().rstrip("=")


def _decode_cursor(cursor: str) -> int:
    try:
        raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)).decode()
        if not raw.startswith("p"):
            raise ValueError(raw)
        value = int(raw[1:])
        if not 0 <= value <= ID_MAX:  # a forged cursor: the column cannot hold it
            raise ValueError(raw)
        return value
    except (ValueError, binascii.Error, UnicodeDecodeError) as exc:
        raise RuleViolation({"cursor": ["Not a cursor this API returned."]}) from exc


@dataclass(frozen=True)
class Page:
    items: list[Participant]
    next_cursor: str | None


def list_for_coordinator(
    session: Session, account: Account, program_id: int, query: dict[str, Any]
) -> Page:
    program = access.program_for_coordinator(session, account, program_id)
    stmt = (
        select(Participant)
        .where(Participant.program_id == program.id)
        .options(
            selectinload(Participant.account),
            selectinload(Participant.tags),
            selectinload(Participant.consents),
        )
        .order_by(Participant.id)
    )
    role = query.get("role")
    if role == Role.BOTH:
        stmt = stmt.where(Participant.role == Role.BOTH)
    elif role:
        stmt = stmt.where(Participant.role.in_((role, Role.BOTH)))
    if query.get("status"):
        stmt = stmt.where(Participant.status == query["status"])
    if query.get("tag"):
        stmt = stmt.where(
            exists().where(
                ParticipantTag.participant_id == Participant.id,
                ParticipantTag.tag == query["tag"],
            )
        )
    if query.get("cursor"):
        stmt = stmt.where(Participant.id > _decode_cursor(query["cursor"]))
    limit = query["limit"]
    rows = list(session.scalars(stmt.limit(limit + 1)))
    next_cursor = _encode_cursor(rows[limit - 1].id) if len(rows) > limit else None
    return Page(rows[:limit], next_cursor)


def mentor_load(session: Session, participant_id: int) -> int:
    """The live matches (proposed, accepted, active) a participant carries as mentor."""
    return (
        session.scalar(
            select(func.count(Match.id)).where(
                Match.mentor_id == participant_id, Match.status.in_(LIVE_MATCH_STATUSES)
            )
        )
        or 0
    )


def in_program(session: Session, program: Program, participant_id: int) -> Participant:
    participant = session.get(Participant, participant_id)
    if participant is None or participant.program_id != program.id:
        raise NotFound(f"Participant {participant_id} is not in this program.")
    return participant


def get_for_coordinator(
    session: Session, account: Account, program_id: int, participant_id: int
) -> Participant:
    program = access.program_for_coordinator(session, account, program_id)
    return in_program(session, program, participant_id)


def update_by_coordinator(
    session: Session,
    account: Account,
    program_id: int,
    participant_id: int,
    data: dict[str, Any],
) -> Participant:
    program = access.program_for_coordinator(session, account, program_id)
    participant = in_program(session, program, participant_id)
    if "role" in data and data["role"] != participant.role:
        participant.role = data["role"]
        if participant.is_mentor:
            participant.capacity = capacity_after_role_change(
                participant.capacity,
                mentor_load(session, participant.id),
                ProgramSettings.from_stored(program.settings),
            )
        if not participant.is_mentor:
            participant.capacity = None
    if "status" in data:
        participant.status = data["status"]
    participant.updated_at = utcnow()
    session.commit()
    return participant
