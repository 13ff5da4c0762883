"""The first-meeting fit check and the no-fault exit.

`fit_check_days` after a match became active both partners are asked (by
`relationship_health.due`) how the first meeting went. `not_a_fit` from either side
offers a no-fault exit: the match ends with reason `no_fault` (closed by the system:
nobody is blamed), the pair is forbidden for future rounds, and both people go back to
the pool keeping their waiting place; the nightly rematch takes such mentees first
(`api.services.pool`).
"""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from api.adapters.db import utcnow
from api.adapters.models import Account, Constraint, FitAnswerRecord, Match
from api.domain.errors import IllegalTransition
from api.domain.vocabulary import (
    Closer,
    CloseReason,
    ConstraintKind,
    FitAnswer,
    MatchStatus,
)
from api.errors import Conflict
from api.services import access, status
from api.services.relationships import MatchView

NO_FAULT_NOTE = "no-fault exit after the fit check"


def answer(
    session: Session, account: Account, match_id: int, given: str, take_exit: bool
) -> MatchView:
    """Record the caller's answer to the fit check (with `take_exit` and `not_a_fit`,
    the match ends at once without blame)."""
    match, side = access.match_side(session, account, match_id)
    if match.status != MatchStatus.ACTIVE:
        raise Conflict(
            f"This match is {match.status}; the fit check is for active matches.",
            current_status=match.status,
        )
    if match.fit_check_asked_at is None:
        raise Conflict(
            "The fit check has not been asked yet: it comes some days after the match "
            "started (the program's fit_check_days).",
            current_status=match.status,
        )
    session.add(FitAnswerRecord(match_id=match.id, author_side=side, answer=FitAnswer(given)))
    if take_exit and given == FitAnswer.NOT_A_FIT:
        _exit(session, match)
    session.commit()
    session.refresh(match)
    return MatchView(match, side)


def no_fault_exit(session: Session, account: Account, match_id: int) -> MatchView:
    """End an active match without blame, once either partner said it is not a fit."""
    match, side = access.match_side(session, account, match_id)
    said = session.scalar(
        select(FitAnswerRecord.id).where(
            FitAnswerRecord.match_id == match.id, FitAnswerRecord.answer == FitAnswer.NOT_A_FIT
        )
    )
    if match.status == MatchStatus.ACTIVE and said is None:
        raise Conflict(
            "A no-fault exit is offered once either partner answered the fit check with "
            "not_a_fit; end the relationship with a reason instead.",
            current_status=match.status,
        )
    _exit(session, match)
    session.commit()
    session.refresh(match)
    return MatchView(match, side)


def _exit(session: Session, match: Match) -> None:
    now = utcnow()
    try:
        status.change(
            session,
            Match,
            match.id,
            "end",
            at=now,
            values={
                "closed_at": now,
                "closed_by": Closer.SYSTEM,
                "close_reason": CloseReason.NO_FAULT.value,
            },
            actor=Closer.SYSTEM,
            reason=CloseReason.NO_FAULT.value,
        )
    except IllegalTransition as exc:
        session.rollback()
        raise Conflict(
            f"This match is {exc.status}; only an active match can be ended.",
            current_status=exc.status,
        ) from exc
    # Never proposed again: a forbid (a pin of the pair becomes one).
    existing = session.scalar(
        select(Constraint).where(
            Constraint.program_id == match.program_id,
            Constraint.mentee_id == match.mentee_id,
            Constraint.mentor_id == match.mentor_id,
        )
    )
    if existing is None:
        session.add(
            Constraint(
                program_id=match.program_id,
                kind=ConstraintKind.FORBID.value,
                mentee_id=match.mentee_id,
                mentor_id=match.mentor_id,
                note=NO_FAULT_NOTE,
            )
        )
    else:
        existing.kind, existing.note = ConstraintKind.FORBID.value, NO_FAULT_NOTE
