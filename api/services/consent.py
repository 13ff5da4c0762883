"""Consent to special category data: given, superseded, withdrawn (which erases it)."""

from __future__ import annotations

from sqlalchemy.orm import Session

from api.adapters.db import utcnow
from api.adapters.models import Account, ConsentRecord, Participant
from api.domain.profiles import SENSITIVE_FIELDS
from api.domain.vocabulary import ConsentPurpose
from api.errors import NotFound
from api.services import access


def grant(participant: Participant, text_version: str) -> ConsentRecord:
    """Record consent to `text_version` (a newer text supersedes the live consent)."""
    live = participant.live_consent()
    if live is not None and live.text_version == text_version:
        return live
    if live is not None:
        live.withdrawn_at = utcnow()  # superseded by the newer text
    record = ConsentRecord(purpose=ConsentPurpose.SPECIAL_CATEGORY, text_version=text_version)
    participant.consents.append(record)
    return record


def withdraw(participant: Participant) -> bool:
    """Withdraw the live consent (False when there is none); the caller erases the data."""
    live = participant.live_consent()
    if live is None:
        return False
    live.withdrawn_at = utcnow()
    return True


def grant_own(
    session: Session, account: Account, program_id: int, text_version: str
) -> ConsentRecord:
    participant = access.own_profile_program(session, account, program_id)
    record = grant(participant, text_version)
    session.commit()
    return record


def withdraw_own(session: Session, account: Account, program_id: int) -> None:
    """Withdraw consent and erase the special category data it covered."""
    participant = access.own_profile_program(session, account, program_id)
    if not withdraw(participant):
        raise NotFound("You have no consent on record to withdraw.")
    for key in SENSITIVE_FIELDS:
        setattr(participant, key, None)
    participant.updated_at = utcnow()
    session.commit()
