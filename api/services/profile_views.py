"""Reading profiles: the owner's profile read (one statement of plain rows), and a
profile's fields as the rules see them."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlalchemy import Row, bindparam, func, select
from sqlalchemy.orm import aliased

from api.adapters.models import Account, ConsentRecord, Participant, ParticipantTag, Token
from api.domain.profiles import PROFILE_FIELDS
from api.domain.vocabulary import ConsentPurpose, TagKind
from api.services import access


def profile_dict(p: Participant) -> dict[str, Any]:
    """A participant's profile fields (what a write merges into)."""
    return _profile(p, [(t.kind, t.tag, t.weight) for t in p.tags])


def _profile(p: Any, tags: list[tuple[str, str, int]]) -> dict[str, Any]:
    # `p` has the profile columns as attributes (a Participant, or a row of OWN_VIEW);
    # `tags` are (kind, tag, weight) in (kind, tag) order.
    return {
        "bio": p.bio,
        "needs": [{"tag": tag, "priority": w} for kind, tag, w in tags if kind == TagKind.NEED],
        "strengths": [
            {"tag": tag, "level": w} for kind, tag, w in tags if kind == TagKind.STRENGTH
        ],
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


# The owner's profile read, the API's busiest request, as one statement of plain rows: the
# token (the caller), their participation in the program, its tags (one row each, in
# order) and the live consent. Without the ORM's identity map and per-entity loading it
# costs less than half as much. Built once; `api.http.policy` runs it for the owner policy.
_LIVE = aliased(ConsentRecord)
_LIVE_CONSENT_ID = (
    select(func.max(_LIVE.id))
    .where(
        _LIVE.participant_id == Participant.id,
        _LIVE.purpose == ConsentPurpose.SPECIAL_CATEGORY,
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


def _iso(stamp: Any) -> str | None:
    return None if stamp is None else str(stamp.isoformat())


def own_view_from_rows(rows: Sequence[Row[Any]]) -> dict[str, Any]:
    """The owner's full view from the rows of OWN_VIEW (a participant's, checked by auth).

    Already in its JSON form, as ParticipantSchema dumps a Participant (timestamps in ISO
    8601): the busiest answer of the API skips the schema's pass over ORM objects (a
    test compares the two).
    """
    first = rows[0]
    tags = [(r.tag_kind, r.tag_name, r.tag_weight) for r in rows if r.tag_kind is not None]
    consent = (
        {
            "purpose": first.purpose,
            "text_version": first.text_version,
            "granted_at": _iso(first.granted_at),
            "withdrawn_at": _iso(first.withdrawn_at),
        }
        if first.purpose is not None
        else None
    )
    return {
        "id": first.id,
        "program_id": first.program_id,
        "account_id": first.account_id,
        "display_name": first.display_name,
        "email": first.email,
        "role": first.role,
        "status": first.status,
        "joined_at": _iso(first.joined_at),
        "updated_at": _iso(first.updated_at),
        "profile_complete": first.profile_completed_at is not None,
        "profile": _profile(first, tags),
        "consent": consent,
    }
