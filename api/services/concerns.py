"""Concerns: a partner tells the program's coordinators, privately, that something is
wrong in a relationship.

A concern reaches every coordinator of the program at once (an outbox message in the
concern's own transaction). The partner never learns of it: no answer, export or
message they can get names it (the optional pause shows only as the match's `paused`).
The message to coordinators carries the category only; the note is read in the API.
Coordinators list, annotate and resolve concerns (with an outcome); the person who
raised one sees its status and outcome, never the coordinators' annotation. Resolved
concerns are deleted after the program's `concern_retention_days`
(`relationship_health.due`).
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import select, update
from sqlalchemy.orm import Session, selectinload

from api.adapters.db import utcnow
from api.adapters.models import Account, Concern, Match, Participant
from api.domain.errors import IllegalTransition, RuleViolation
from api.domain.lifecycle import CONCERN
from api.domain.vocabulary import (
    LIVE_MATCH_STATUSES,
    Closer,
    ConcernOutcome,
    ConcernStatus,
    MessageKind,
    Side,
)
from api.errors import Conflict, NotFound
from api.services import access, outbox, status
from api.services.relationship_health import coordinator_accounts


def raise_concern(
    session: Session, account: Account, match_id: int, data: dict[str, Any]
) -> Concern:
    """Raise a concern about one of the caller's live relationships."""
    match, side = access.match_side(session, account, match_id)
    if match.status not in LIVE_MATCH_STATUSES:
        raise Conflict(
            f"This match is {match.status}; concerns are for live relationships (write "
            "to the program's coordinators about a past one).",
            current_status=match.status,
        )
    now = utcnow()
    raiser = match.mentee_id if side == Side.MENTEE else match.mentor_id
    concern = Concern(
        program_id=match.program_id,
        match_id=match.id,
        raised_by=raiser,
        raiser_side=side.value,
        category=data["category"],
        note=data.get("note") or "",
        pause=bool(data.get("pause")),
        status=CONCERN["raise"].target.value,
        created_at=now,
        updated_at=now,
    )
    session.add(concern)
    if concern.pause and match.paused_at is None:
        session.execute(
            update(Match)
            .where(Match.id == match.id, Match.paused_at.is_(None))
            .values(paused_at=now)
            .execution_options(synchronize_session=False)
        )
    session.flush()
    status.created(session, concern, "raise", at=now, actor=side)
    outbox.write(
        session,
        [
            outbox.Message(
                dedupe_key=f"concern_raised:{concern.id}:{account_id}",
                kind=MessageKind.CONCERN_RAISED,
                account_id=account_id,
                program_id=match.program_id,
                match_id=match.id,
                payload={"concern_id": concern.id},
            )
            for account_id in coordinator_accounts(session, match.program_id)
        ],
        now,
    )
    session.commit()
    session.refresh(match)
    return concern


def mine(session: Session, account: Account) -> list[Concern]:
    """The concerns the caller raised (their status and outcome), newest first."""
    ids = select(Participant.id).where(Participant.account_id == account.id)
    return list(
        session.scalars(
            select(Concern).where(Concern.raised_by.in_(ids)).order_by(Concern.id.desc())
        )
    )


def of_program(
    session: Session, account: Account, program_id: int, query: dict[str, Any]
) -> list[Concern]:
    """The program's concerns, open ones first, newest first (coordinators)."""
    program = access.program_for_coordinator(session, account, program_id)
    stmt = (
        select(Concern)
        .where(Concern.program_id == program.id)
        .options(
            selectinload(Concern.match).options(
                selectinload(Match.mentee).selectinload(Participant.account),
                selectinload(Match.mentor).selectinload(Participant.account),
            )
        )
        .order_by(Concern.status, Concern.id.desc())
    )
    if query.get("status"):
        stmt = stmt.where(Concern.status.in_(query["status"]))
    return list(session.scalars(stmt))


def update_concern(
    session: Session, account: Account, program_id: int, concern_id: int, data: dict[str, Any]
) -> Concern:
    """Annotate a concern, or resolve it with an outcome (coordinators)."""
    program = access.program_for_coordinator(session, account, program_id)
    concern = session.get(Concern, concern_id)
    if concern is None or concern.program_id != program.id:
        raise NotFound(f"Concern {concern_id} is not a concern of this program.")
    now = utcnow()
    if "coordinator_note" in data:
        concern.coordinator_note = data["coordinator_note"]
    resolve = data.get("status") == ConcernStatus.RESOLVED
    if resolve:
        if not data.get("outcome"):
            raise RuleViolation({"outcome": ["Resolving a concern records its outcome."]})
        session.flush()  # the annotation, before the status change expires the row
        try:
            status.change(
                session,
                Concern,
                concern.id,
                "resolve",
                at=now,
                values={
                    "outcome": ConcernOutcome(data["outcome"]).value,
                    "resolved_at": now,
                    "resolved_by": account.id,
                },
                actor=Closer.COORDINATOR,
            )
        except IllegalTransition as exc:
            session.rollback()
            raise Conflict(
                f"This concern is {exc.status} already.", current_status=exc.status
            ) from exc
        if data["outcome"] == ConcernOutcome.RELATIONSHIP_RESUMED:
            session.execute(
                update(Match)
                .where(Match.id == concern.match_id)
                .values(paused_at=None)
                .execution_options(synchronize_session=False)
            )
    elif data.get("outcome"):
        raise RuleViolation({"outcome": ["An outcome is recorded when resolving (status)."]})
    concern.updated_at = now
    session.commit()
    session.refresh(concern)
    return concern
