"""Accounts, log-in tokens and the caller's own view of themselves."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from api.adapters.db import utcnow
from api.adapters.hashing import hash_password, needs_rehash, new_token, verify_password
from api.adapters.models import Account, Participant, Program, ProgramCoordinator, Token
from api.errors import Conflict, Unauthorized, field_error


def check_password(email: str, password: str) -> None:
    if not password.strip():
        raise field_error("password", "Must not be blank.")
    if password.lower() == email.lower():
        raise field_error("password", "Must differ from the email address.")


def register(session: Session, *, email: str, password: str, display_name: str) -> Account:
    check_password(email, password)
    if session.scalar(select(Account.id).where(Account.email == email)) is not None:
        raise Conflict(
            "An account with this email already exists. If it is yours (perhaps created by "
            "an invitation or an import), set its password with POST /api/v1/password-resets.",
            errors={"email": ["taken"]},
        )
    account = Account(email=email, display_name=display_name, password_hash=hash_password(password))
    session.add(account)
    try:
        session.commit()
    except IntegrityError as exc:  # a concurrent registration won the race
        session.rollback()
        raise Conflict(
            "An account with this email already exists.", errors={"email": ["taken"]}
        ) from exc
    return account


def create_admin(session: Session, *, email: str, password: str, display_name: str) -> Account:
    """Create a platform admin, or promote an existing account (and reset its password)."""
    email = email.strip().lower()
    check_password(email, password)
    account = session.scalar(select(Account).where(Account.email == email))
    if account is None:
        account = Account(email=email, display_name=display_name, password_hash="")
        session.add(account)
    account.password_hash = hash_password(password)
    account.is_admin = True
    session.commit()
    return account


@dataclass(frozen=True)
class Issued:
    """A new bearer token: the secret (shown once) and when it expires."""

    token: str
    expires_at: datetime


def log_in(session: Session, *, email: str, password: str, token_ttl: timedelta) -> Issued:
    email = email.strip().lower()
    account = session.scalar(select(Account).where(Account.email == email))
    if not verify_password(account.password_hash if account else None, password):
        raise Unauthorized("The email or password is wrong.")
    assert account is not None
    if needs_rehash(account.password_hash):
        account.password_hash = hash_password(password)
    return issue_token(session, account, token_ttl)


def issue_token(session: Session, account: Account, token_ttl: timedelta) -> Issued:
    """A new bearer token for the account (commits the caller's transaction)."""
    secret, digest = new_token()
    expires_at = utcnow() + token_ttl
    session.add(Token(account_id=account.id, token_hash=digest, expires_at=expires_at))
    session.commit()
    return Issued(secret, expires_at)


def revoke(session: Session, token: Token) -> None:
    token = session.merge(token)
    token.revoked_at = utcnow()
    session.commit()


@dataclass(frozen=True)
class Membership:
    program_id: int
    program_name: str
    participant_id: int | None
    role: str
    status: str | None


@dataclass(frozen=True)
class Me:
    """The caller's account and their part in each program."""

    account: Account
    memberships: list[Membership]

    def __getattr__(self, name: str) -> Any:
        return getattr(self.account, name)


def me(session: Session, account: Account) -> Me:
    coordinated = session.execute(
        select(Program.id, Program.name)
        .join(ProgramCoordinator, ProgramCoordinator.program_id == Program.id)
        .where(ProgramCoordinator.account_id == account.id)
        .order_by(Program.id)
    ).all()
    enrolled = session.execute(
        select(Participant.id, Participant.role, Participant.status, Program.id, Program.name)
        .join(Program, Program.id == Participant.program_id)
        .where(Participant.account_id == account.id)
        .order_by(Program.id)
    ).all()
    memberships = [
        Membership(program_id, name, None, "coordinator", None) for program_id, name in coordinated
    ] + [
        Membership(program_id, name, participant_id, role, status)
        for participant_id, role, status, program_id, name in enrolled
    ]
    return Me(account, memberships)
