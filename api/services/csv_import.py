"""Participants from a spreadsheet: the rows checked with the program's rules, imported
all or nothing (`api.http.csv_rows` reads the file)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from api.adapters.models import Account, Participant, Program
from api.domain.errors import RuleViolation
from api.errors import ApiError, ValidationFailed
from api.services import access, profile_writes

MAX_ROWS = 5000


@dataclass(frozen=True)
class ImportRow:
    """One data row: its values, or the field errors that make it invalid."""

    number: int  # the spreadsheet's row number (the header is row 1)
    email: str = ""
    display_name: str = ""
    role: str = ""
    profile: dict[str, Any] = field(default_factory=dict)
    errors: dict[str, list[str]] | None = None


@dataclass
class ImportSummary:
    rows: int = 0
    accounts_created: int = 0
    participants_created: int = 0
    profiles_written: int = 0


def import_rows(
    session: Session, account: Account, program_id: int, rows: list[ImportRow]
) -> ImportSummary:
    program = access.program_for_coordinator(session, account, program_id)
    summary = ImportSummary(rows=len(rows))
    row_errors: list[dict[str, Any]] = []
    try:
        for row in rows:
            errors = row.errors or _import_row(session, program, row, summary)
            if errors:
                row_errors.append({"row": row.number, "errors": errors})
        if row_errors:
            raise ValidationFailed(
                {"file": [f"{len(row_errors)} of {len(rows)} rows are invalid."]},
                detail=f"{len(row_errors)} rows are invalid; nothing was imported.",
                rows=row_errors,
            )
        session.commit()
    except BaseException:
        session.rollback()
        raise
    return summary


def _import_row(
    session: Session, program: Program, row: ImportRow, summary: ImportSummary
) -> dict[str, list[str]] | None:
    target = session.scalar(select(Account).where(Account.email == row.email))
    if target is None:
        # Imported people cannot log in until they set a password (no usable hash).
        target = Account(email=row.email, display_name=row.display_name, password_hash="")
        session.add(target)
        session.flush()
        summary.accounts_created += 1
    participant = access.own_participant(session, target, program.id)
    if participant is None:
        participant = Participant(program=program, account=target, role=row.role)
        session.add(participant)
        summary.participants_created += 1
    participant.role = row.role
    try:
        profile_writes.write(session, program, participant, dict(row.profile), partial=False)
    except RuleViolation as exc:
        return exc.errors
    except ApiError as exc:
        return exc.errors or {"row": [exc.detail]}
    summary.profiles_written += 1
    return None
