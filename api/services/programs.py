"""Programs: creation by admins, settings and taxonomy by coordinators, joining by code."""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from api.adapters.models import Account, Participant, ParticipantTag, Program, ProgramCoordinator
from api.domain.errors import RuleViolation
from api.domain.settings import ProgramSettings
from api.domain.vocabulary import ProgramRole
from api.errors import Conflict, NotFound, field_error
from api.services import access, invitations, outbox

_JOIN_ALPHABET = "ABCDEFGHJKLMNPQRSTUVWXYZ23456789"  # no 0/O, 1/I look-alikes


def _new_join_code() -> str:
    body = "".join(secrets.choice(_JOIN_ALPHABET) for _ in range(10))
    return f"{body[:5]}-{body[5:]}"


@dataclass(frozen=True)
class ProgramView:
    """A program as the caller sees it: the join code only for its coordinators."""

    program: Program
    my_role: ProgramRole

    def __getattr__(self, name: str) -> Any:
        return getattr(self.program, name)

    @property
    def settings(self) -> dict[str, Any]:
        return ProgramSettings.from_stored(self.program.settings).to_stored()

    @property
    def join_code(self) -> str | None:
        coordinating = self.my_role in (ProgramRole.ADMIN, ProgramRole.COORDINATOR)
        return self.program.join_code if coordinating else None


def view(session: Session, account: Account, program: Program) -> ProgramView:
    return ProgramView(program, access.role_in(session, account, program))


def _parse_settings(data: dict[str, Any]) -> ProgramSettings:
    try:
        return ProgramSettings.for_new_program(data)
    except RuleViolation as exc:
        raise exc.prefixed("settings") from exc


def create(session: Session, account: Account, data: dict[str, Any]) -> ProgramView:
    settings = _parse_settings(data["settings"])
    if session.scalar(select(Program.id).where(Program.slug == data["slug"])) is not None:
        raise Conflict("A program with this slug exists.", errors={"slug": ["taken"]})
    join_code = data.get("join_code") or _new_join_code()
    if session.scalar(select(Program.id).where(Program.join_code == join_code)) is not None:
        raise Conflict("This join code is in use.", errors={"join_code": ["taken"]})
    program = Program(
        name=data["name"].strip(),
        slug=data["slug"],
        description=data.get("description", ""),
        join_code=join_code,
        taxonomy=sorted(data.get("taxonomy", [])),
        settings=settings.to_stored(),
    )
    session.add(program)
    try:
        session.commit()
    except IntegrityError as exc:
        session.rollback()
        raise Conflict("A program with this slug or join code exists.") from exc
    return view(session, account, program)


def list_visible(session: Session, account: Account) -> list[ProgramView]:
    query = select(Program).order_by(Program.id)
    if not account.is_admin:
        coordinated = select(ProgramCoordinator.program_id).where(
            ProgramCoordinator.account_id == account.id
        )
        enrolled = select(Participant.program_id).where(Participant.account_id == account.id)
        query = query.where(Program.id.in_(coordinated.union(enrolled)))
    return [view(session, account, p) for p in session.scalars(query)]


def get(session: Session, account: Account, program_id: int) -> ProgramView:
    return view(session, account, access.program_for_member(session, account, program_id))


def update(
    session: Session, account: Account, program_id: int, data: dict[str, Any]
) -> ProgramView:
    program = access.program_for_coordinator(session, account, program_id)
    if "settings" in data:
        current = ProgramSettings.from_stored(program.settings)
        try:
            program.settings = current.changed(data["settings"]).to_stored()
        except RuleViolation as exc:
            raise exc.prefixed("settings") from exc
    if "taxonomy" in data:
        new = set(data["taxonomy"])
        removed = set(program.taxonomy) - new
        if removed:
            in_use = session.scalars(
                select(ParticipantTag.tag)
                .join(Participant, Participant.id == ParticipantTag.participant_id)
                .where(Participant.program_id == program.id, ParticipantTag.tag.in_(removed))
                .group_by(ParticipantTag.tag)
                .order_by(ParticipantTag.tag)
            ).all()
            if in_use:
                raise Conflict(
                    "Tags still used by participants cannot be removed from the taxonomy: "
                    + ", ".join(in_use)
                    + ".",
                    errors={"taxonomy": [f"in use: {t}" for t in in_use]},
                )
        program.taxonomy = sorted(new)
    if "join_code" in data and data["join_code"] != program.join_code:
        clash = session.scalar(select(Program.id).where(Program.join_code == data["join_code"]))
        if clash is not None:
            raise Conflict("This join code is in use.", errors={"join_code": ["taken"]})
        program.join_code = data["join_code"]
    for key in ("name", "description"):
        if key in data:
            setattr(program, key, data[key].strip() if key == "name" else data[key])
    session.commit()
    return view(session, account, program)


def list_coordinators(
    session: Session, account: Account, program_id: int
) -> list[ProgramCoordinator]:
    program = access.program_for_coordinator(session, account, program_id)
    rows = session.scalars(
        select(ProgramCoordinator)
        .where(ProgramCoordinator.program_id == program.id)
        .order_by(ProgramCoordinator.appointed_at, ProgramCoordinator.account_id)
    )
    return list(rows)


def appoint_coordinator(session: Session, program_id: int, email: str) -> ProgramCoordinator:
    program = session.get(Program, program_id)
    if program is None:
        raise NotFound(f"Program {program_id} does not exist.")
    target = session.scalar(select(Account).where(Account.email == email))
    newcomer = target is None or not target.password_hash
    if target is None:
        # Invited: the account exists from now on; its owner sets the password from the
        # link of the invitation message.
        target = invitations.account_for(session, email)
    if session.get(ProgramCoordinator, (program.id, target.id)) is not None:
        raise Conflict("This account already coordinates the program.")
    row = ProgramCoordinator(program_id=program.id, account_id=target.id)
    session.add(row)
    if newcomer:
        outbox.write(session, [invitations.message(program, target, invitations.COORDINATOR)])
    session.commit()
    return row


def remove_coordinator(session: Session, program_id: int, account_id: int) -> None:
    row = session.get(ProgramCoordinator, (program_id, account_id))
    if row is None:
        raise NotFound("This account does not coordinate the program.")
    session.delete(row)
    session.commit()


def join(session: Session, account: Account, join_code: str, role: str) -> Participant:
    program = session.scalar(select(Program).where(Program.join_code == join_code.strip()))
    if program is None:
        raise field_error("join_code", "No program has this join code.")
    if access.own_participant(session, account, program.id) is not None:
        raise Conflict("You have already joined this program.", program_id=program.id)
    participant = Participant(program_id=program.id, account_id=account.id, role=role)
    session.add(participant)
    try:
        session.commit()
    except IntegrityError as exc:
        session.rollback()
        raise Conflict("You have already joined this program.", program_id=program.id) from exc
    return participant


def participant_count(session: Session, program_id: int) -> int:
    return (
        session.scalar(
            select(func.count())
            .select_from(Participant)
            .where(Participant.program_id == program_id)
        )
        or 0
    )
