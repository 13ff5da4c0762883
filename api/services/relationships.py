"""Matches as participants live them: accept, decline, end, check in; and pausing."""

from __future__ import annotations

from collections import defaultdict
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import bindparam, or_, select, update
from sqlalchemy.orm import Session, joinedload, selectinload
from sqlalchemy.orm.attributes import set_committed_value

from api.db import utcnow
from api.errors import Conflict, NotFound
from api.models import Account, CheckIn, Match, Participant, ParticipantTag
from api.services import access

SHAREABLE_PROFILE = (
    "bio",
    "languages",
    "timezone",
    "availability",
    "experience_level",
    "org_unit",
)


_EXPIRE_DUE = (
    update(Match)
    .where(Match.status.in_(("proposed", "accepted")), Match.expires_at <= bindparam("now"))
    .values(
        status="expired", closed_at=bindparam("now"), closed_by="system", close_reason="no answer"
    )
    .execution_options(synchronize_session=False)
)


def expire_due(session: Session, now: datetime, program_id: int | None = None) -> int:
    """Mark unanswered proposals past their expiry as expired; returns how many."""
    stmt = _EXPIRE_DUE
    if program_id is not None:
        stmt = stmt.where(Match.program_id == program_id)
    result = session.execute(stmt, {"now": now})
    return result.rowcount or 0


def shareable(p: Participant) -> dict[str, Any]:
    """What a partner may see: never cultural background, wellbeing needs or notes."""
    view: dict[str, Any] = {"participant_id": p.id, "display_name": p.account.display_name}
    for key in SHAREABLE_PROFILE:
        view[key] = getattr(p, key)
    view["needs"] = [{"tag": t.tag, "priority": t.weight} for t in p.tag_list("need")]
    view["strengths"] = [{"tag": t.tag, "level": t.weight} for t in p.tag_list("strength")]
    return view


def _why(match: Match, mentee: Participant, mentor: Participant) -> dict[str, Any]:
    needs = {t.tag: t.weight for t in mentee.tag_list("need")}
    strengths = {t.tag for t in mentor.tag_list("strength")}
    return {
        "score": match.score,
        "breakdown": match.breakdown,
        "covered_needs": sorted(t for t in needs if t in strengths),
        "shared_languages": sorted(set(mentee.languages) & set(mentor.languages)),
    }


def match_view(match: Match, side: str) -> dict[str, Any]:
    partner = match.mentor if side == "mentee" else match.mentee
    return {
        "id": match.id,
        "program_id": match.program_id,
        "round_id": match.round_id,
        "my_side": side,
        "status": match.status,
        "partner": shareable(partner),
        "why": _why(match, match.mentee, match.mentor),
        "proposed_at": match.proposed_at,
        "expires_at": match.expires_at,
        "i_accepted": (match.mentee_accepted_at if side == "mentee" else match.mentor_accepted_at)
        is not None,
        "partner_accepted": (
            match.mentor_accepted_at if side == "mentee" else match.mentee_accepted_at
        )
        is not None,
        "activated_at": match.activated_at,
        "closed_at": match.closed_at,
        "closed_by": match.closed_by,
        "close_reason": match.close_reason,
    }


# The caller's matches (through their participations), newest first, with both sides and
# their accounts joined (one row per match). Built once: constructing a statement costs
# more than running a cached one.
_MY_MATCHES = (
    select(Match)
    .join(Participant, or_(Participant.id == Match.mentee_id, Participant.id == Match.mentor_id))
    .where(Participant.account_id == bindparam("account_id"))
    .options(
        joinedload(Match.mentee).joinedload(Participant.account),
        joinedload(Match.mentor).joinedload(Participant.account),
    )
    .order_by(Match.id.desc())
)
_TAGS_OF = (
    select(ParticipantTag)
    .where(ParticipantTag.participant_id.in_(bindparam("ids", expanding=True)))
    .order_by(ParticipantTag.kind, ParticipantTag.tag)  # as Participant.tags is ordered
)


def _load_tags(session: Session, people: list[Participant]) -> None:
    """Load the tags of many participants (both sides of many matches) in one query.

    A selectinload per side would take one query each and cost more Python time.
    """
    if not people:
        return
    by_participant: dict[int, list[ParticipantTag]] = defaultdict(list)
    for tag in session.scalars(_TAGS_OF, {"ids": sorted({p.id for p in people})}):
        by_participant[tag.participant_id].append(tag)
    for p in people:
        # As if loaded with the participant (SQLAlchemy's documented use of it).
        set_committed_value(p, "tags", by_participant[p.id])


def my_matches(session: Session, account: Account) -> list[dict[str, Any]]:
    if expire_due(session, utcnow()):
        session.commit()
    matches = session.scalars(_MY_MATCHES, {"account_id": account.id}).all()
    _load_tags(session, [p for m in matches for p in (m.mentee, m.mentor)])
    # The mentee and the mentor of a match are in the same program, so never both the caller.
    return [
        match_view(m, "mentee" if m.mentee.account_id == account.id else "mentor") for m in matches
    ]


def _mine(session: Session, account: Account, match_id: int) -> tuple[Match, str]:
    """The match and the caller's side of it; 404 for anybody else's match."""
    return access.match_side(session, account, match_id)


def _refresh_expiry(session: Session, match: Match) -> None:
    now = utcnow()
    if match.status in ("proposed", "accepted") and match.expires_at <= now:
        match.status, match.closed_at = "expired", now
        match.closed_by, match.close_reason = "system", "no answer"
        session.commit()


def accept(session: Session, account: Account, match_id: int) -> dict[str, Any]:
    match, side = _mine(session, account, match_id)
    _refresh_expiry(session, match)
    if match.status not in ("proposed", "accepted"):
        raise Conflict(f"This match is {match.status}; only a proposal can be accepted.")
    now = utcnow()
    if side == "mentee":
        match.mentee_accepted_at = match.mentee_accepted_at or now
    else:
        match.mentor_accepted_at = match.mentor_accepted_at or now
    if match.mentee_accepted_at and match.mentor_accepted_at:
        match.status, match.activated_at = "active", now
    else:
        match.status = "accepted"
    session.commit()
    return match_view(match, side)


def decline(
    session: Session, account: Account, match_id: int, reason: str | None
) -> dict[str, Any]:
    match, side = _mine(session, account, match_id)
    _refresh_expiry(session, match)
    if match.status not in ("proposed", "accepted"):
        raise Conflict(f"This match is {match.status}; only a proposal can be declined.")
    match.status, match.closed_at = "declined", utcnow()
    match.closed_by, match.close_reason = side, reason or None
    session.commit()
    return match_view(match, side)


def end(session: Session, account: Account, match_id: int, reason: str) -> dict[str, Any]:
    match, side = _mine(session, account, match_id)
    if match.status != "active":
        raise Conflict(f"This match is {match.status}; only an active match can be ended.")
    match.status, match.closed_at = "ended", utcnow()
    match.closed_by, match.close_reason = side, reason
    session.commit()
    return match_view(match, side)


def check_in(
    session: Session, account: Account, match_id: int, data: dict[str, Any]
) -> dict[str, Any]:
    match, side = _mine(session, account, match_id)
    if match.status != "active":
        raise Conflict(f"This match is {match.status}; check-ins are for active matches.")
    author = match.mentee_id if side == "mentee" else match.mentor_id
    row = CheckIn(
        match_id=match.id,
        author_id=author,
        author_side=side,
        rating=data["rating"],
        signal=data.get("signal"),
        note=data.get("note") or "",
    )
    session.add(row)
    session.commit()
    # The author sees what they sent, including their own note.
    return {
        "id": row.id,
        "match_id": match.id,
        "author_side": side,
        "rating": row.rating,
        "signal": row.signal,
        "note": row.note,
        "created_at": row.created_at,
    }


def set_paused(session: Session, account: Account, program_id: int, paused: bool) -> Participant:
    participant = access.own_participant(session, account, program_id)
    if participant is None:
        raise NotFound(f"You have not joined program {program_id}.")
    if participant.status == "withdrawn":
        raise Conflict("You have withdrawn from this program; ask a coordinator to return.")
    participant.status = "paused" if paused else "active"
    participant.updated_at = utcnow()
    session.commit()
    return participant


def needs_attention(
    session: Session, account: Account, program_id: int, weeks: int, low_rating: int
) -> list[dict[str, Any]]:
    """Active relationships with a low rating, a drained mentor, or no recent check-in."""
    program = access.program_for_coordinator(session, account, program_id)
    now = utcnow()
    quiet_after = timedelta(weeks=weeks)
    loader = (selectinload(Participant.account),)
    matches = session.scalars(
        select(Match)
        .where(Match.program_id == program.id, Match.status == "active")
        .options(
            selectinload(Match.check_ins),
            selectinload(Match.mentee).options(*loader),
            selectinload(Match.mentor).options(*loader),
        )
        .order_by(Match.id)
    ).all()
    out: list[dict[str, Any]] = []
    for match in matches:
        reasons: list[str] = []
        latest = match.check_ins[-1] if match.check_ins else None
        latest_by = {c.author_side: c for c in match.check_ins}
        if latest is not None and latest.rating <= low_rating:
            reasons.append("low_rating")
        mentor_latest = latest_by.get("mentor")
        if mentor_latest is not None and mentor_latest.signal == "drained":
            reasons.append("mentor_drained")
        if any(c.signal == "drained" for c in latest_by.values() if c.author_side == "mentee"):
            reasons.append("mentee_drained")
        last_contact = latest.created_at if latest else match.activated_at or match.proposed_at
        if now - last_contact >= quiet_after:
            reasons.append("no_recent_check_in")
        if reasons:
            out.append(
                {
                    "match_id": match.id,
                    "mentee": {
                        "participant_id": match.mentee_id,
                        "display_name": match.mentee.account.display_name,
                    },
                    "mentor": {
                        "participant_id": match.mentor_id,
                        "display_name": match.mentor.account.display_name,
                    },
                    "reasons": reasons,
                    "activated_at": match.activated_at,
                    "last_check_in_at": latest.created_at if latest else None,
                    "check_ins": [
                        {
                            "author_side": c.author_side,
                            "rating": c.rating,
                            "signal": c.signal,
                            "note": c.note,
                            "created_at": c.created_at,
                        }
                        for c in match.check_ins[-5:]
                    ],
                }
            )
    return out
