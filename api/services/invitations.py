"""Inviting people into a program, and accepting an invitation from its link.

An invitation creates the account when the email has none (without a usable
password), and sends a single-use link; nobody is enrolled until they accept. The
answer counts invitations, never says which emails already had an account.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from api.adapters.db import utcnow
from api.adapters.hashing import hash_password, verify_password
from api.adapters.models import Account, LinkToken, Participant, Program, ProgramCoordinator
from api.domain.vocabulary import LinkPurpose, MessageKind, ProgramRole, Role
from api.errors import Unauthorized, field_error
from api.services import access, accounts, links, outbox

COORDINATOR = ProgramRole.COORDINATOR.value


@dataclass(frozen=True)
class Invited:
    invited: int
    already_in_program: int


def _placeholder_name(email: str) -> str:
    return email.split("@", 1)[0][:120] or "Invited person"


def account_for(session: Session, email: str, display_name: str | None = None) -> Account:
    """The account of `email`, created (without a usable password) when there is none."""
    found = session.scalar(select(Account).where(Account.email == email))
    if found is None:
        found = Account(
            email=email,
            display_name=(display_name or "").strip() or _placeholder_name(email),
            password_hash="",
        )
        session.add(found)
        session.flush()
    return found


def message(program: Program, account: Account, role: str) -> outbox.Message:
    """The invitation message (one per person, program, role and day)."""
    day = utcnow().date().isoformat()
    return outbox.Message(
        dedupe_key=f"invitation:{program.id}:{account.id}:{role}:{day}",
        kind=MessageKind.INVITATION,
        account_id=account.id,
        program_id=program.id,
        payload={"role": role},
    )


def invite(
    session: Session, account: Account, program_id: int, people: Iterable[dict[str, str]]
) -> Invited:
    """Invite each person to the program in their role (coordinators)."""
    program = access.program_for_coordinator(session, account, program_id)
    invited = already = 0
    to_send = []
    for person in people:
        target = account_for(session, person["email"], person.get("display_name"))
        if access.own_participant(session, target, program.id) is not None:
            already += 1
            continue
        to_send.append(message(program, target, person["role"]))
        invited += 1
    outbox.write(session, to_send)
    session.commit()
    return Invited(invited, already)


def by_link(session: Session, token: str) -> tuple[LinkToken, Account, Program]:
    """What an invitation link offers (changes nothing)."""
    link = links.peek(session, token, LinkPurpose.INVITATION)
    account = session.get(Account, link.account_id)
    program = session.get(Program, link.program_id) if link.program_id else None
    if account is None or program is None:
        raise links.LinkInvalid()
    return link, account, program


def accept(
    session: Session,
    *,
    token: str,
    password: str,
    token_ttl: timedelta,
    display_name: str | None = None,
) -> accounts.Issued:
    """Take the invitation: set the password (or confirm it), join, log in."""
    link = links.take(session, token, LinkPurpose.INVITATION)
    target = session.get(Account, link.account_id)
    program = session.get(Program, link.program_id) if link.program_id else None
    if target is None or program is None:
        session.rollback()
        raise links.LinkInvalid()
    if target.password_hash:
        # An account of its own already: the link proves the mailbox, the password the
        # person (the invitation does not replace a password).
        if not verify_password(target.password_hash, password):
            session.rollback()
            raise Unauthorized(
                "This email has an account: accept with its password (or reset it first)."
            )
    else:
        accounts.check_password(target.email, password)
        target.password_hash = hash_password(password)
    if display_name:
        target.display_name = display_name
    elif not target.display_name:
        session.rollback()
        raise field_error("display_name", "Tell us the name to show.")
    role = link.scope or Role.MENTEE.value
    if role == COORDINATOR:
        if session.get(ProgramCoordinator, (program.id, target.id)) is None:
            session.add(ProgramCoordinator(program_id=program.id, account_id=target.id))
    elif access.own_participant(session, target, program.id) is None:
        session.add(Participant(program_id=program.id, account_id=target.id, role=role))
    return accounts.issue_token(session, target, token_ttl)
