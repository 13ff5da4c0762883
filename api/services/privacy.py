"""The caller's data: export everything held about them; erase their account."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import Text, cast, delete, func, or_, select, update
from sqlalchemy.orm import Session

from api.adapters.db import utcnow
from api.adapters.hashing import verify_password
from api.adapters.models import (
    Account,
    CheckIn,
    ClosingSurvey,
    Concern,
    ConsentRecord,
    Constraint,
    IdempotencyRecord,
    LinkToken,
    Match,
    NotificationSettings,
    OutboxMessage,
    Participant,
    ParticipantTag,
    ProgramCoordinator,
    Round,
    Token,
)
from api.domain.vocabulary import Closer, OutboxStatus, ParticipantStatus
from api.errors import Forbidden
from api.services import accounts, relationships, status

ERASED_NAME = "Erased participant"


@dataclass(frozen=True)
class Export:
    """Everything held about one account (without other people's sensitive data)."""

    exported_at: datetime
    account: accounts.Me
    participations: list[Participant]
    matches: list[relationships.MatchView]
    check_ins: list[CheckIn]
    concerns: list[Concern]
    closing_surveys: list[ClosingSurvey]
    tokens: list[Token]


def export(session: Session, account: Account) -> Export:
    """Everything held about the caller (without other people's sensitive data)."""
    participants = session.scalars(
        select(Participant).where(Participant.account_id == account.id).order_by(Participant.id)
    ).all()
    mine = [p.id for p in participants]
    check_ins = session.scalars(
        select(CheckIn).where(CheckIn.author_id.in_(mine)).order_by(CheckIn.id)
    ).all()
    tokens = session.scalars(
        select(Token).where(Token.account_id == account.id).order_by(Token.id)
    ).all()
    return Export(
        exported_at=utcnow(),
        account=accounts.me(session, account),
        participations=list(participants),
        matches=relationships.my_matches(session, account),
        check_ins=list(check_ins),
        # What the person wrote themselves; never what the partner raised or wrote.
        concerns=list(
            session.scalars(
                select(Concern).where(Concern.raised_by.in_(mine)).order_by(Concern.id)
            )
        ),
        closing_surveys=list(
            session.scalars(
                select(ClosingSurvey)
                .where(ClosingSurvey.author_id.in_(mine))
                .order_by(ClosingSurvey.id)
            )
        ),
        tokens=list(tokens),
    )


def erase(session: Session, account: Account, password: str) -> None:
    """Erase the account's personal data; matches stay only as anonymised statistics."""
    if not account.password_hash or not verify_password(account.password_hash, password):
        # 403, not 401: the caller is logged in; only the confirmation is wrong.
        raise Forbidden(
            "The password is wrong; erasing an account needs it.",
            title="Wrong password",
            slug="wrong-password",
            errors={"password": ["Wrong password."]},
        )
    now = utcnow()
    old_email = account.email
    participants = session.scalars(
        select(Participant).where(Participant.account_id == account.id)
    ).all()
    ids = [p.id for p in participants]
    program_ids = {p.program_id for p in participants}
    if ids:
        _close_relationships(session, ids, now)
        _clear_participations(session, participants, now)
        _scrub_rounds(session, program_ids, set(ids))
    _forget_email(session, old_email)
    session.execute(delete(Token).where(Token.account_id == account.id))
    session.execute(delete(IdempotencyRecord).where(IdempotencyRecord.account_id == account.id))
    # Nothing more goes to this person: unsent messages, links and settings go.
    session.execute(
        delete(OutboxMessage).where(
            OutboxMessage.account_id == account.id,
            OutboxMessage.status.in_((OutboxStatus.PENDING, OutboxStatus.SENDING)),
        )
    )
    session.execute(delete(LinkToken).where(LinkToken.account_id == account.id))
    session.execute(
        delete(NotificationSettings).where(NotificationSettings.account_id == account.id)
    )
    session.execute(delete(ProgramCoordinator).where(ProgramCoordinator.account_id == account.id))
    account.email = f"erased-{account.id}@erased.invalid"
    account.display_name = ERASED_NAME
    account.password_hash = ""
    account.is_admin = False
    session.commit()


def _close_relationships(session: Session, ids: list[int], now: datetime) -> None:
    """Live relationships end; every reason text and note may name or describe people."""
    theirs = or_(Match.mentee_id.in_(ids), Match.mentor_id.in_(ids))
    status.change_many(
        session,
        Match,
        "close_on_erasure",
        at=now,
        where=[theirs],
        values={"closed_at": now, "closed_by": Closer.SYSTEM},
        actor=Closer.SYSTEM,
    )
    session.execute(
        update(Match)
        .where(theirs)
        .values(close_reason=None)
        .execution_options(synchronize_session=False)
    )
    session.execute(
        update(CheckIn)
        .where(or_(CheckIn.author_id.in_(ids), CheckIn.match_id.in_(_match_ids(session, ids))))
        .values(note="")
        .execution_options(synchronize_session=False)
    )
    # Concern notes and survey comments, theirs or about their relationships, go too.
    matches = _match_ids(session, ids)
    session.execute(
        update(Concern)
        .where(or_(Concern.raised_by.in_(ids), Concern.match_id.in_(matches)))
        .values(note="", coordinator_note="")
        .execution_options(synchronize_session=False)
    )
    session.execute(
        update(ClosingSurvey)
        .where(or_(ClosingSurvey.author_id.in_(ids), ClosingSurvey.match_id.in_(matches)))
        .values(comment="")
        .execution_options(synchronize_session=False)
    )
    session.execute(
        update(Constraint)
        .where(or_(Constraint.mentee_id.in_(ids), Constraint.mentor_id.in_(ids)))
        .values(note="")
        .execution_options(synchronize_session=False)
    )


def _clear_participations(
    session: Session, participants: Sequence[Participant], now: datetime
) -> None:
    ids = [p.id for p in participants]
    session.execute(delete(ParticipantTag).where(ParticipantTag.participant_id.in_(ids)))
    session.execute(delete(ConsentRecord).where(ConsentRecord.participant_id.in_(ids)))
    for p in participants:
        p.status = ParticipantStatus.WITHDRAWN
        p.bio, p.languages, p.timezone, p.availability = "", [], None, []
        p.org_unit = p.manager_email = None
        p.preferred_partners = []
        p.cultural_background = p.wellbeing_needs = None
        p.cultural_preference = "open"  # the default: no preference left
        p.experience_level = None
        p.updated_at = now


def _forget_email(session: Session, email: str) -> None:
    """Other people's profiles may name this person by email, in any program (one may
    name as manager or preferred partner someone who is not in their program)."""
    wanted = email.strip().lower()
    for other in session.scalars(
        select(Participant).where(func.lower(Participant.manager_email) == wanted)
    ):
        other.manager_email = None
    # The JSON list's text holds the address (a coarse filter the database can apply on
    # every backend); the exact comparison follows.
    named = func.lower(cast(Participant.preferred_partners, Text)).contains(wanted)
    for other in session.scalars(select(Participant).where(named)):
        kept = [e for e in other.preferred_partners or [] if str(e).strip().lower() != wanted]
        if kept != list(other.preferred_partners or []):
            other.preferred_partners = kept


def _match_ids(session: Session, participant_ids: list[int]) -> list[int]:
    return list(
        session.scalars(
            select(Match.id).where(
                or_(Match.mentee_id.in_(participant_ids), Match.mentor_id.in_(participant_ids))
            )
        )
    )


def _scrub_rounds(session: Session, program_ids: set[int], ids: set[int]) -> None:
    """Round reports keep names of unmatched people; replace the erased person's."""

    def scrub(value: Any) -> Any:
        if isinstance(value, dict):
            out = {k: scrub(v) for k, v in value.items()}
            if out.get("participant_id") in ids and "display_name" in out:
                out["display_name"] = ERASED_NAME
            if out.get("mentor_id") in ids and "display_name" in out:
                out["display_name"] = ERASED_NAME
            return out
        if isinstance(value, list):
            return [scrub(v) for v in value]
        return value

    for round_ in session.scalars(select(Round).where(Round.program_id.in_(program_ids))):
        if round_.unmatched:
            round_.unmatched = scrub(round_.unmatched)
        if round_.infeasible_pins:
            round_.infeasible_pins = scrub(round_.infeasible_pins)
