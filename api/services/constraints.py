"""Coordinator pins (must pair) and forbids (never pair)."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from api.adapters.models import Account, Constraint, Participant
from api.domain.vocabulary import ConstraintKind
from api.errors import Conflict, NotFound, ValidationFailed
from api.services import access


def list_constraints(session: Session, account: Account, program_id: int) -> list[Constraint]:
    program = access.program_for_coordinator(session, account, program_id)
    rows = session.scalars(
        select(Constraint).where(Constraint.program_id == program.id).order_by(Constraint.id)
    )
    return list(rows)


def add(session: Session, account: Account, program_id: int, data: dict[str, Any]) -> Constraint:
    program = access.program_for_coordinator(session, account, program_id)
    errors: dict[str, list[str]] = {}
    mentee = session.get(Participant, data["mentee_id"])
    mentor = session.get(Participant, data["mentor_id"])
    if mentee is None or mentee.program_id != program.id or not mentee.is_mentee:
        errors["mentee_id"] = ["Not a mentee of this program."]
    if mentor is None or mentor.program_id != program.id or not mentor.is_mentor:
        errors["mentor_id"] = ["Not a mentor of this program."]
    if not errors and data["mentee_id"] == data["mentor_id"]:
        errors["mentor_id"] = ["A person cannot be paired with themselves."]
    if errors:
        raise ValidationFailed(errors)
    existing = session.scalar(
        select(Constraint).where(
            Constraint.program_id == program.id,
            Constraint.mentee_id == data["mentee_id"],
            Constraint.mentor_id == data["mentor_id"],
        )
    )
    if existing is not None:
        raise Conflict(
            f"This pair already has a {existing.kind} (constraint {existing.id}); delete it first.",
            constraint_id=existing.id,
        )
    if data["kind"] == ConstraintKind.PIN:
        pinned = session.scalar(
            select(Constraint.id).where(
                Constraint.program_id == program.id,
                Constraint.kind == ConstraintKind.PIN,
                Constraint.mentee_id == data["mentee_id"],
            )
        )
        if pinned is not None:
            raise Conflict(
                f"This mentee is already pinned (constraint {pinned}); a mentee has one pin.",
                constraint_id=pinned,
            )
    row = Constraint(
        program_id=program.id,
        kind=data["kind"],
        mentee_id=data["mentee_id"],
        mentor_id=data["mentor_id"],
        note=data.get("note") or "",
        created_by=account.id,
    )
    session.add(row)
    session.commit()
    return row


def remove(session: Session, account: Account, program_id: int, constraint_id: int) -> None:
    program = access.program_for_coordinator(session, account, program_id)
    row = session.get(Constraint, constraint_id)
    if row is None or row.program_id != program.id:
        raise NotFound(f"Constraint {constraint_id} is not in this program.")
    session.delete(row)
    session.commit()
