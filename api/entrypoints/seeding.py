"""Load the demo program from seed_data/ through the same validation as the API
(its input schemas and the program's rules)."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from marshmallow import ValidationError
from sqlalchemy import select
from sqlalchemy.orm import Session

from api.adapters.hashing import hash_password
from api.adapters.models import Account, Participant, Program, ProgramCoordinator
from api.domain.errors import RuleViolation
from api.domain.settings import ProgramSettings
from api.errors import ApiError
from api.http.problems import flatten_messages
from api.http.schemas.accounts import AccountCreateSchema
from api.http.schemas.profiles import ProfileSchema
from api.http.schemas.programs import ProgramCreateSchema
from api.services import profile_writes

DEMO_PASSWORD = "peermatch-demo"
COORDINATOR_EMAIL = "coordinator@example.org"
DEMO_JOIN_CODE = "DEMO-2026-PEERS"


class SeedError(Exception):
    """The seed files do not pass validation; nothing was written."""


@dataclass
class SeedSummary:
    program: str = ""
    program_created: bool = False
    accounts_created: int = 0
    joined: int = 0
    profiles_written: int = 0
    by_role: dict[str, int] = field(default_factory=dict)

    def describe(self) -> str:
        roles = ", ".join(f"{n} {r}" for r, n in sorted(self.by_role.items()))
        verb = "created" if self.program_created else "updated"
        return (
            f"seeded program {self.program!r} ({verb}): {self.accounts_created} new accounts, "
            f"{self.joined} new participants, {self.profiles_written} profiles written "
            f"({roles})"
        )


def resolve_dir(data_dir: str | None) -> Path:
    if data_dir:
        return Path(data_dir)
    for candidate in (Path(__file__).resolve().parents[2] / "seed_data", Path("seed_data")):
        if (candidate / "program.json").is_file():
            return candidate
    raise SeedError("seed_data/ not found; pass --data-dir")


def _load(path: Path) -> Any:
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except (OSError, json.JSONDecodeError) as exc:
        raise SeedError(f"{path}: {exc}") from exc


def seed(session: Session, data_dir: Path) -> SeedSummary:
    """Create or update the program, its coordinator and participants; all or nothing."""
    program_doc = _load(data_dir / "program.json")
    people = _load(data_dir / "participants.json")
    summary = SeedSummary()
    try:
        _seed(session, program_doc, people, summary)
        session.commit()
    except BaseException:
        session.rollback()
        raise
    return summary


def _seed(
    session: Session,
    program_doc: dict[str, Any],
    people: list[dict[str, Any]],
    summary: SeedSummary,
) -> None:
    program = _program(session, program_doc, summary)
    accounts = _Accounts(session, people, summary)
    coordinator = accounts.get(COORDINATOR_EMAIL, "Demo Coordinator")
    session.flush()
    if session.get(ProgramCoordinator, (program.id, coordinator.id)) is None:
        session.add(ProgramCoordinator(program_id=program.id, account_id=coordinator.id))
    participants = {
        p.account_id: p
        for p in session.scalars(select(Participant).where(Participant.program_id == program.id))
    }
    errors: list[str] = []
    for index, person in enumerate(people):
        email = str(person.get("email", "")).lower()
        problem = _participant(session, program, accounts, participants, person, summary)
        if problem:
            errors.append(f"participants[{index}] {email}: {problem}")
    if errors:
        shown = "\n  ".join(errors[:20])
        more = f"\n  ... and {len(errors) - 20} more" if len(errors) > 20 else ""
        raise SeedError(
            f"{len(errors)} seed records are invalid; nothing was written:\n  {shown}{more}"
        )


def _program(session: Session, program_doc: dict[str, Any], summary: SeedSummary) -> Program:
    try:
        program_data = ProgramCreateSchema().load(program_doc)
        settings = ProgramSettings.for_new_program(program_data["settings"])
    except ValidationError as exc:
        raise SeedError(f"program.json: {flatten_messages(exc.messages)}") from exc
    except RuleViolation as exc:
        raise SeedError(f"program.json settings: {exc.errors}") from exc
    program = session.scalar(select(Program).where(Program.slug == program_data["slug"]))
    if program is None:
        program = Program(slug=program_data["slug"], join_code=program_data.get("join_code", ""))
        session.add(program)
        summary.program_created = True
    program.name = program_data["name"]
    program.description = program_data["description"]
    program.taxonomy = sorted(program_data["taxonomy"])
    program.settings = settings.to_stored()
    if program_data.get("join_code"):
        program.join_code = program_data["join_code"]
    session.flush()
    summary.program = program.name
    return program


class _Accounts:
    """The demo accounts: found by email, or created with the demo password."""

    def __init__(
        self, session: Session, people: list[dict[str, Any]], summary: SeedSummary
    ) -> None:
        self.session, self.summary = session, summary
        # One argon2id hash shared by every demo account: they all have the demo password,
        # and hashing 200 times would make seeding take seconds for nothing.
        self.demo_hash = hash_password(DEMO_PASSWORD)
        emails = [str(p.get("email", "")).lower() for p in people] + [COORDINATOR_EMAIL]
        self.existing = {
            a.email: a for a in session.scalars(select(Account).where(Account.email.in_(emails)))
        }

    def get(self, email: str, name: str) -> Account:
        account = self.existing.get(email)
        if account is None:
            data = AccountCreateSchema().load(
                {"email": email, "password": DEMO_PASSWORD, "display_name": name}
            )
            account = Account(
                email=data["email"], display_name=data["display_name"], password_hash=self.demo_hash
            )
            self.session.add(account)
            self.existing[email] = account
            self.summary.accounts_created += 1
        return account


def _participant(
    session: Session,
    program: Program,
    accounts: _Accounts,
    participants: dict[int, Participant],
    person: dict[str, Any],
    summary: SeedSummary,
) -> str | None:
    """Seed one person; what is wrong with their record, if anything."""
    try:
        account = accounts.get(str(person.get("email", "")).lower(), person["display_name"])
    except (ValidationError, KeyError) as exc:
        return str(exc)
    session.flush()
    participant = participants.get(account.id)
    if participant is None:
        participant = Participant(program=program, account=account, role=person["role"])
        session.add(participant)
        participants[account.id] = participant
        summary.joined += 1
    participant.role = person["role"]
    try:
        data = ProfileSchema().load(person["profile"])
        profile_writes.write(session, program, participant, data, partial=False)
    except ValidationError as exc:
        return str(flatten_messages(exc.messages))
    except RuleViolation as exc:
        return str(exc.errors)
    except ApiError as exc:
        return str(exc.errors or exc.detail)
    summary.profiles_written += 1
    summary.by_role[participant.role] = summary.by_role.get(participant.role, 0) + 1
    return None
