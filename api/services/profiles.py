"""Participant profiles: the owner writes them, the program's coordinators read them."""

from __future__ import annotations

import base64
import binascii
from collections.abc import Sequence
from typing import Any

from sqlalchemy import Row, bindparam, exists, func, select
from sqlalchemy.orm import Session, aliased, selectinload

from api.db import utcnow
from api.errors import Conflict, NotFound, ValidationFailed, field_error
from api.models import Account, ConsentRecord, Participant, ParticipantTag, Program, Token
from api.services import access
from api.services.programs import full_settings

SENSITIVE_FIELDS = ("cultural_background", "wellbeing_needs")
PROFILE_FIELDS = (
    "bio",
    "needs",
    "strengths",
    "languages",
    "timezone",
    "availability",
    "capacity",
    "experience_level",
    "org_unit",
    "manager_email",
    "preferred_partners",
    "cultural_preference",
    "cultural_background",
    "wellbeing_needs",
)


# --- views --------------------------------------------------------------------------------


def profile_dict(p: Participant) -> dict[str, Any]:
    return _profile(p, [(t.kind, t.tag, t.weight) for t in p.tags])


def _profile(p: Any, tags: list[tuple[str, str, int]]) -> dict[str, Any]:
    # `p` has the profile columns as attributes (a Participant, or a row of OWN_VIEW);
    # `tags` are (kind, tag, weight) in (kind, tag) order.
    return {
        "bio": p.bio,
        "needs": [{"tag": tag, "priority": w} for kind, tag, w in tags if kind == "need"],
        "strengths": [{"tag": tag, "level": w} for kind, tag, w in tags if kind == "strength"],
        "languages": list(p.languages),
        "timezone": p.timezone,
        "availability": list(p.availability),
        "capacity": p.capacity,
        "experience_level": p.experience_level,
        "org_unit": p.org_unit,
        "manager_email": p.manager_email,
        "preferred_partners": list(p.preferred_partners),
        "cultural_preference": p.cultural_preference,
        "cultural_background": p.cultural_background,
        "wellbeing_needs": p.wellbeing_needs,
    }


def _view(
    p: Any, account: Any, tags: list[tuple[str, str, int]], consent: Any | None
) -> dict[str, Any]:
    # The one shape of the full view, from ORM objects or from the rows of OWN_VIEW.
    return {
        "id": p.id,
        "program_id": p.program_id,
        "account_id": p.account_id,
        "display_name": account.display_name,
        "email": account.email,
        "role": p.role,
        "status": p.status,
        "joined_at": p.joined_at,
        "updated_at": p.updated_at,
        "profile_complete": p.profile_completed_at is not None,
        "profile": _profile(p, tags),
        "consent": (
            {
                "purpose": consent.purpose,
                "text_version": consent.text_version,
                "granted_at": consent.granted_at,
                "withdrawn_at": consent.withdrawn_at,
            }
            if consent is not None
            else None
        ),
    }


def participant_view(p: Participant) -> dict[str, Any]:
    """The full view, for the owner and the program's coordinators only."""
    tags = [(t.kind, t.tag, t.weight) for t in p.tags]
    return _view(p, p.account, tags, p.live_consent())


# The owner's profile read, the API's busiest request, as one statement of plain rows: the
# token (the caller), their participation in the program, its tags (one row each, in
# order) and the live consent. Without the ORM's identity map and per-entity loading it
# costs less than half as much. Built once; `api.auth` runs it for the owner policy.
_LIVE = aliased(ConsentRecord)
_LIVE_CONSENT_ID = (
    select(func.max(_LIVE.id))
    .where(
        _LIVE.participant_id == Participant.id,
        _LIVE.purpose == "special_category",
        _LIVE.withdrawn_at.is_(None),
    )
    .correlate(Participant)
    .scalar_subquery()
)
# The participant's columns the view shows (its tags and consent come from joins).
_VIEW_COLUMNS = (
    "id",
    "program_id",
    "account_id",
    "role",
    "status",
    "joined_at",
    "updated_at",
    "profile_completed_at",
    *(name for name in PROFILE_FIELDS if name not in ("needs", "strengths")),
)
OWN_VIEW = (
    select(
        Token.account_id.label("caller_id"),
        Token.expires_at.label("token_expires_at"),
        Token.revoked_at.label("token_revoked_at"),
        Account.display_name,
        Account.email,
        *(Participant.__table__.c[name] for name in _VIEW_COLUMNS),
        ParticipantTag.kind.label("tag_kind"),
        ParticipantTag.tag.label("tag_name"),
        ParticipantTag.weight.label("tag_weight"),
        ConsentRecord.purpose,
        ConsentRecord.text_version,
        ConsentRecord.granted_at,
        ConsentRecord.withdrawn_at,
    )
    .join(Account, Account.id == Token.account_id)
    .outerjoin(Participant, access.CALLER_PARTICIPATION)
    .outerjoin(ParticipantTag, ParticipantTag.participant_id == Participant.id)
    .outerjoin(ConsentRecord, ConsentRecord.id == _LIVE_CONSENT_ID)
    .where(Token.token_hash == bindparam("digest"))
    .order_by(ParticipantTag.kind, ParticipantTag.tag)
)


def own_view_from_rows(rows: Sequence[Row[Any]]) -> dict[str, Any]:
    """The owner's full view from the rows of OWN_VIEW (a participant's, checked by auth).

    Already in its JSON form, as ParticipantSchema dumps it (timestamps in ISO 8601):
    the busiest answer of the API skips the schema's second pass over a view it built
    field by field itself (a test compares it with the schema-dumped coordinator view).
    """
    first = rows[0]
    tags = [(r.tag_kind, r.tag_name, r.tag_weight) for r in rows if r.tag_kind is not None]
    view = _view(first, first, tags, first if first.purpose is not None else None)
    for key in ("joined_at", "updated_at"):
        view[key] = view[key].isoformat()
    if view["consent"] is not None:
        for key in ("granted_at", "withdrawn_at"):
            stamp = view["consent"][key]
            view["consent"][key] = None if stamp is None else stamp.isoformat()
    return view


# --- the owner's profile -------------------------------------------------------------------


def _own_participant(session: Session, account: Account, program_id: int) -> Participant:
    return access.own_profile_program(session, account, program_id)


def _own(session: Session, account: Account, program_id: int) -> tuple[Program, Participant]:
    # Writes check against the program's taxonomy and settings; reads do not load it.
    participant = _own_participant(session, account, program_id)
    return participant.program, participant


def create_own(
    session: Session, account: Account, program_id: int, data: dict[str, Any]
) -> dict[str, Any]:
    program, participant = _own(session, account, program_id)
    if participant.profile_completed_at is not None:
        raise Conflict("Your profile exists; replace it with PUT or change it with PATCH.")
    _apply(session, program, participant, data, partial=False)
    session.commit()
    return participant_view(participant)


def replace_own(
    session: Session, account: Account, program_id: int, data: dict[str, Any]
) -> dict[str, Any]:
    program, participant = _own(session, account, program_id)
    _apply(session, program, participant, data, partial=False)
    session.commit()
    return participant_view(participant)


def patch_own(
    session: Session, account: Account, program_id: int, data: dict[str, Any]
) -> dict[str, Any]:
    program, participant = _own(session, account, program_id)
    if participant.profile_completed_at is None:
        raise Conflict("You have no profile yet; create it with POST or PUT first.")
    _apply(session, program, participant, data, partial=True)
    session.commit()
    return participant_view(participant)


def apply_profile(
    session: Session, program: Program, participant: Participant, data: dict[str, Any]
) -> None:
    """Write a whole profile (seed and CSV importers); the caller commits."""
    _apply(session, program, participant, data, partial=False)


def _apply(
    session: Session,
    program: Program,
    participant: Participant,
    data: dict[str, Any],
    *,
    partial: bool,
) -> None:
    consent_in = data.pop("consent", None)
    merged = profile_dict(participant) if partial else {}
    merged.update(data)
    if not partial:
        for key in PROFILE_FIELDS:
            merged.setdefault(key, None)
    settings = full_settings(program)

    errors: dict[str, list[str]] = {}
    taxonomy = set(program.taxonomy)
    for kind, key in (("needs", "tag"), ("strengths", "tag")):
        for i, item in enumerate(merged.get(kind) or []):
            if item[key] not in taxonomy:
                errors.setdefault(f"{kind}.{i}.tag", []).append(
                    f"{item[key]!r} is not in the program's taxonomy."
                )
    if participant.is_mentee and not merged.get("needs"):
        errors.setdefault("needs", []).append("Mentees need at least one need.")
    if participant.is_mentor and not merged.get("strengths"):
        errors.setdefault("strengths", []).append("Mentors need at least one strength.")
    capacity = merged.get("capacity")
    if participant.is_mentor:
        if capacity is None:
            merged["capacity"] = settings["default_capacity"]
        elif capacity > settings["max_capacity"]:
            errors.setdefault("capacity", []).append(
                f"Must be between 0 and the program maximum {settings['max_capacity']}."
            )
    elif capacity is not None and "capacity" in data:
        errors.setdefault("capacity", []).append("Capacity applies to mentors only.")
    else:
        merged["capacity"] = None
    own_email = participant.account.email
    if merged.get("manager_email") and merged["manager_email"] == own_email:
        errors.setdefault("manager_email", []).append("You cannot be your own manager.")
    if own_email in (merged.get("preferred_partners") or []):
        errors.setdefault("preferred_partners", []).append("You cannot prefer yourself.")
    if merged.get("cultural_preference") is None:
        merged["cultural_preference"] = "open"

    # Special category data needs a live consent: one on record, or one given now.
    withdrawing = consent_in is not None and not consent_in["special_category"]
    consenting = consent_in is not None and consent_in["special_category"]
    if withdrawing:
        for key in SENSITIVE_FIELDS:
            if data.get(key):
                errors.setdefault(key, []).append(
                    "Cannot be stored while withdrawing consent (withdrawal erases it)."
                )
    elif not consenting and participant.live_consent() is None:
        for key in SENSITIVE_FIELDS:
            if merged.get(key):
                errors.setdefault(key, []).append(
                    "Special category data is stored only with your consent: send "
                    '"consent": {"special_category": true, "text_version": "..."} with it.'
                )
    if errors:
        raise ValidationFailed(errors)

    if consenting:
        _grant(session, participant, consent_in["text_version"])
    elif withdrawing:
        _withdraw(participant)
        for key in SENSITIVE_FIELDS:
            merged[key] = None

    participant.bio = merged.get("bio") or ""
    participant.languages = merged["languages"]
    participant.timezone = merged["timezone"]
    participant.availability = merged["availability"]
    participant.capacity = merged["capacity"]
    participant.experience_level = merged["experience_level"]
    participant.org_unit = merged.get("org_unit")
    participant.manager_email = merged.get("manager_email")
    participant.preferred_partners = merged.get("preferred_partners") or []
    participant.cultural_preference = merged["cultural_preference"]
    for key in SENSITIVE_FIELDS:
        setattr(participant, key, merged.get(key) or None)
    _set_tags(participant, merged.get("needs") or [], merged.get("strengths") or [])
    if participant.profile_completed_at is None:
        participant.profile_completed_at = utcnow()
    participant.updated_at = utcnow()
    session.flush()


def _set_tags(
    participant: Participant, needs: list[dict[str, Any]], strengths: list[dict[str, Any]]
) -> None:
    wanted = {("need", n["tag"]): n["priority"] for n in needs}
    wanted.update({("strength", s["tag"]): s["level"] for s in strengths})
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


# --- consent -------------------------------------------------------------------------------


def _grant(session: Session, participant: Participant, text_version: str) -> ConsentRecord:
    live = participant.live_consent()
    if live is not None and live.text_version == text_version:
        return live
    if live is not None:
        live.withdrawn_at = utcnow()  # superseded by the newer text
    record = ConsentRecord(purpose="special_category", text_version=text_version)
    participant.consents.append(record)
    return record


def _withdraw(participant: Participant) -> bool:
    live = participant.live_consent()
    if live is None:
        return False
    live.withdrawn_at = utcnow()
    return True


def grant_consent(
    session: Session, account: Account, program_id: int, text_version: str
) -> dict[str, Any]:
    participant = _own_participant(session, account, program_id)
    record = _grant(session, participant, text_version)
    session.commit()
    return {
        "purpose": record.purpose,
        "text_version": record.text_version,
        "granted_at": record.granted_at,
        "withdrawn_at": record.withdrawn_at,
    }


def withdraw_consent(session: Session, account: Account, program_id: int) -> None:
    """Withdraw consent and erase the special category data it covered."""
    participant = _own_participant(session, account, program_id)
    if not _withdraw(participant):
        raise NotFound("You have no consent on record to withdraw.")
    for key in SENSITIVE_FIELDS:
        setattr(participant, key, None)
    participant.updated_at = utcnow()
    session.commit()


# --- coordinators --------------------------------------------------------------------------


def _encode_cursor(last_id: int) -> str:
    return base64.urlsafe_b64encode(f"p{last_id}".encode()).decode().rstrip("=")


def _decode_cursor(cursor: str) -> int:
    try:
        raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)).decode()
        if not raw.startswith("p"):
            raise ValueError(raw)
        return int(raw[1:])
    except (ValueError, binascii.Error, UnicodeDecodeError) as exc:
        raise field_error("cursor", "Not a cursor this API returned.") from exc


def list_for_coordinator(
    session: Session, account: Account, program_id: int, query: dict[str, Any]
) -> dict[str, Any]:
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
    if role == "both":
        stmt = stmt.where(Participant.role == "both")
    elif role:
        stmt = stmt.where(Participant.role.in_((role, "both")))
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
    return {"items": [participant_view(p) for p in rows[:limit]], "next_cursor": next_cursor}


def _in_program(session: Session, program: Program, participant_id: int) -> Participant:
    participant = session.get(Participant, participant_id)
    if participant is None or participant.program_id != program.id:
        raise NotFound(f"Participant {participant_id} is not in this program.")
    return participant


def get_for_coordinator(
    session: Session, account: Account, program_id: int, participant_id: int
) -> dict[str, Any]:
    program = access.program_for_coordinator(session, account, program_id)
    return participant_view(_in_program(session, program, participant_id))


def update_by_coordinator(
    session: Session,
    account: Account,
    program_id: int,
    participant_id: int,
    data: dict[str, Any],
) -> dict[str, Any]:
    program = access.program_for_coordinator(session, account, program_id)
    participant = _in_program(session, program, participant_id)
    if "role" in data and data["role"] != participant.role:
        participant.role = data["role"]
        if participant.is_mentor and participant.capacity is None:
            participant.capacity = full_settings(program)["default_capacity"]
        if not participant.is_mentor:
            participant.capacity = None
    if "status" in data:
        participant.status = data["status"]
    participant.updated_at = utcnow()
    session.commit()
    return participant_view(participant)
