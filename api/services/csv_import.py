"""Participants from a spreadsheet, imported all or nothing, respecting people.

`api.http.csv_rows` reads the file. Here each row meets the program:

- a person new to the service is enrolled with the row's profile (a coordinator-managed
  participant; with `invite` they get a link to set a password and log in);
- a participant already in *this* program gets only the coordinator-owned values of
  the row (role, status, capacity, org unit, manager); what they wrote themselves is
  never touched;
- an email that belongs to an account not yet in the program is never enrolled
  silently: that person is invited to join (in the row's role) instead.

The answer counts people new to the program without saying which of them already had an
account (`created` covers both), so an import cannot be used to learn who has one.
Conflicts are reported per row and nothing is written; a dry run answers the same
without writing anything.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session, selectinload

from api.adapters.db import utcnow
from api.adapters.models import Account, Participant, Program
from api.domain.errors import RuleViolation
from api.domain.profiles import capacity_after_role_change
from api.domain.settings import ProgramSettings
from api.domain.vocabulary import MENTOR_ROLES
from api.errors import ApiError, ValidationFailed
from api.services import access, invitations, outbox, participants, profile_writes

MAX_ROWS = 5000


@dataclass(frozen=True)
class ImportRow:
    """One data row: the person, coordinator-owned values, the profile for a newcomer
    (or what is wrong with it), or the errors that make the row invalid."""

    number: int  # the spreadsheet's row number (the header is row 1)
    email: str = ""
    display_name: str = ""
    role: str = ""
    owned: dict[str, Any] = field(default_factory=dict)
    profile: dict[str, Any] = field(default_factory=dict)
    profile_errors: dict[str, list[str]] | None = None
    errors: dict[str, list[str]] | None = None


@dataclass
class ImportSummary:
    rows: int = 0
    #: People new to this program: enrolled, or invited when their email has an account.
    created: int = 0
    #: Participants of this program whose coordinator-owned values changed.
    updated: int = 0
    #: Participants of this program the row changes nothing for.
    unchanged: int = 0
    #: Invitation messages (with `invite`; without it, only people who have an account
    #: are invited, and how many is not said: None).
    invited: int | None = 0
    dry_run: bool = False


def _accounts(session: Session, emails: list[str]) -> dict[str, Account]:
    found: dict[str, Account] = {}
    for start in range(0, len(emails), 500):
        chunk = emails[start : start + 500]
        for account in session.scalars(select(Account).where(Account.email.in_(chunk))):
            found[account.email] = account
    return found


def _participants(session: Session, program: Program) -> dict[int, Participant]:
    rows = session.scalars(
        select(Participant)
        .where(Participant.program_id == program.id)
        .options(selectinload(Participant.account))
    )
    return {p.account_id: p for p in rows}


def import_rows(
    session: Session,
    account: Account,
    program_id: int,
    rows: list[ImportRow],
    *,
    invite: bool = False,
    dry_run: bool = False,
) -> ImportSummary:
    program = access.program_for_coordinator(session, account, program_id)
    settings = ProgramSettings.from_stored(program.settings)
    summary = ImportSummary(rows=len(rows), dry_run=dry_run, invited=0 if invite else None)
    good = [r for r in rows if not r.errors]
    known = _accounts(session, [r.email for r in good])
    enrolled = _participants(session, program)
    row_errors: list[dict[str, Any]] = []
    to_invite: list[tuple[Account, str]] = []
    try:
        for row in rows:
            errors = row.errors
            if not errors:
                errors = _import_row(
                    session, program, settings, row, known, enrolled, summary, to_invite, invite
                )
            if errors:
                row_errors.append({"row": row.number, "errors": errors})
        if row_errors:
            raise ValidationFailed(
                {"file": [f"{len(row_errors)} of {len(rows)} rows are invalid."]},
                detail=f"{len(row_errors)} rows are invalid; nothing was imported.",
                rows=row_errors,
            )
        session.flush()  # one flush of every new row: ids for the invitations
        if invite:
            summary.invited = len(to_invite)
        if dry_run:
            session.rollback()
            return summary
        outbox.write(
            session, [invitations.message(program, person, role) for person, role in to_invite]
        )
        session.commit()
    except BaseException:
        session.rollback()
        raise
    return summary


def _import_row(
    session: Session,
    program: Program,
    settings: ProgramSettings,
    row: ImportRow,
    known: dict[str, Account],
    enrolled: dict[int, Participant],
    summary: ImportSummary,
    to_invite: list[tuple[Account, str]],
    invite: bool,
) -> dict[str, list[str]] | None:
    target = known.get(row.email)
    participant = enrolled.get(target.id) if target is not None else None
    if participant is not None:
        return _update_owned(session, participant, settings, row, summary)
    if target is not None:
        # Somebody with an account of their own: asked, never enrolled by somebody else.
        summary.created += 1
        to_invite.append((target, row.role))
        return None
    if row.profile_errors:
        return row.profile_errors
    if not row.display_name:
        return {"display_name": ["Missing value."]}
    # New to the service: a coordinator-managed participant, who cannot log in until
    # they set a password (an invitation's link, or a password reset).
    target = Account(email=row.email, display_name=row.display_name, password_hash="")
    session.add(target)
    participant = Participant(program=program, account=target, role=row.role)
    session.add(participant)
    try:
        profile_writes.write(
            session, program, participant, dict(row.profile), partial=False, flush=False
        )
    except RuleViolation as exc:
        return exc.errors
    except ApiError as exc:
        return exc.errors or {"row": [exc.detail]}
    if "status" in row.owned:
        participant.status = row.owned["status"]
    known[row.email] = target
    summary.created += 1
    if invite:
        to_invite.append((target, row.role))
    return None


def _update_owned(
    session: Session,
    participant: Participant,
    settings: ProgramSettings,
    row: ImportRow,
    summary: ImportSummary,
) -> dict[str, list[str]] | None:
    """Only what coordinators own; what the person wrote stays as they wrote it."""
    wanted: dict[str, Any] = dict(row.owned)
    if row.role != participant.role:
        wanted["role"] = row.role
    role = wanted.get("role", participant.role)
    capacity = wanted.get("capacity", participant.capacity)
    if role in MENTOR_ROLES:
        if capacity is None or role != participant.role:
            # Made a mentor (again): never below the matches they carry now.
            load = participants.mentor_load(session, participant.id)
            capacity = capacity_after_role_change(capacity, load, settings)
        if capacity > settings.max_capacity:
            return {"capacity": [f"Must be at most the program maximum {settings.max_capacity}."]}
    elif "capacity" in row.owned:
        return {"capacity": ["Capacity applies to mentors only."]}
    else:
        capacity = None
    if wanted.get("manager_email") and wanted["manager_email"] == participant.account.email:
        return {"manager_email": ["A person cannot be their own manager."]}
    wanted["capacity"] = capacity
    changes = {k: v for k, v in wanted.items() if getattr(participant, k) != v}
    if not changes:
        summary.unchanged += 1
        return None
    for key, value in changes.items():
        setattr(participant, key, value)
    participant.updated_at = utcnow()
    summary.updated += 1
    return None
