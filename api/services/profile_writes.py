"""A participant writes their own profile: create, replace, change; pause and resume."""

from __future__ import annotations

from typing import Any

from sqlalchemy.orm import Session

from api.adapters.db import utcnow
from api.adapters.models import Account, Participant, ParticipantTag, Program
from api.domain import profiles as rules
from api.domain.settings import ProgramSettings
from api.domain.vocabulary import ParticipantStatus, TagKind
from api.errors import Conflict
from api.services import access, consent
from api.services.profile_views import profile_dict


def create_own(
    session: Session, account: Account, program_id: int, data: dict[str, Any]
) -> Participant:
    participant = access.own_profile_program(session, account, program_id)
    if participant.profile_completed_at is not None:
        raise Conflict("Your profile exists; replace it with PUT or change it with PATCH.")
    write(session, participant.program, participant, data, partial=False)
    session.commit()
    return participant


def replace_own(
    session: Session, account: Account, program_id: int, data: dict[str, Any]
) -> Participant:
    participant = access.own_profile_program(session, account, program_id)
    write(session, participant.program, participant, data, partial=False)
    session.commit()
    return participant


def patch_own(
    session: Session, account: Account, program_id: int, data: dict[str, Any]
) -> Participant:
    participant = access.own_profile_program(session, account, program_id)
    if participant.profile_completed_at is None:
        raise Conflict("You have no profile yet; create it with POST or PUT first.")
    write(session, participant.program, participant, data, partial=True)
    session.commit()
    return participant


def write(
    session: Session,
    program: Program,
    participant: Participant,
    data: dict[str, Any],
    *,
    partial: bool,
    flush: bool = True,
) -> None:
    """Check a profile write against the program's rules and store it (no commit)."""
    checked = rules.check(
        role=participant.role,
        current=profile_dict(participant) if partial else {},
        sent=data,
        partial=partial,
        own_email=participant.account.email,
        taxonomy=program.taxonomy,
        settings=ProgramSettings.from_stored(program.settings),
        has_live_consent=participant.live_consent() is not None,
    )
    if checked.consent is rules.ConsentChange.GRANT:
        assert checked.consent_text_version is not None
        consent.grant(participant, checked.consent_text_version)
    elif checked.consent is rules.ConsentChange.WITHDRAW:
        consent.withdraw(participant)
    values = checked.values
    participant.bio = values.get("bio") or ""
    participant.languages = values["languages"]
    participant.timezone = values["timezone"]
    participant.availability = values["availability"]
    participant.capacity = values["capacity"]
    participant.experience_level = values["experience_level"]
    participant.org_unit = values.get("org_unit")
    participant.manager_email = values.get("manager_email")
    participant.preferred_partners = values.get("preferred_partners") or []
    participant.cultural_preference = values["cultural_preference"]
    for key in rules.SENSITIVE_FIELDS:
        setattr(participant, key, values[key])
    _set_tags(participant, values.get("needs") or [], values.get("strengths") or [])
    if participant.profile_completed_at is None:
        participant.profile_completed_at = utcnow()
    participant.updated_at = utcnow()
    if flush:
        session.flush()


def _set_tags(
    participant: Participant, needs: list[dict[str, Any]], strengths: list[dict[str, Any]]
) -> None:
    wanted = {(TagKind.NEED.value, n["tag"]): n["priority"] for n in needs}
    wanted.update({(TagKind.STRENGTH.value, s["tag"]): s["level"] for s in strengths})
    for tag in list(participant.tags):
        key = (tag.kind, tag.tag)
        if key in wanted:
            weight = wanted.pop(key)
            if tag.weight != weight:  # an unchanged tag stays out of the flush
                tag.weight = weight
        else:
            participant.tags.remove(tag)
    for (kind, name), weight in sorted(wanted.items()):
        participant.tags.append(ParticipantTag(kind=kind, tag=name, weight=weight))


def set_paused(session: Session, account: Account, program_id: int, paused: bool) -> Participant:
    """Pause (no new partners; current ones continue) or resume (which also ends a
    drained mentor's break from new proposals: `api.services.load`)."""
    participant = access.own_participant(session, account, program_id)
    if participant is None:
        raise access.not_joined(program_id)
    if participant.status == ParticipantStatus.WITHDRAWN:
        raise Conflict("You have withdrawn from this program; ask a coordinator to return.")
    participant.status = ParticipantStatus.PAUSED if paused else ParticipantStatus.ACTIVE
    participant.updated_at = utcnow()
    if not paused:
        participant.resumed_at = participant.updated_at
    session.commit()
    return participant
