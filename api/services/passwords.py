"""Password resets by email: ask (always 202, whether or not the email has an account),
then set a new password with the link's token, which logs the account out everywhere."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from api.adapters.db import utcnow
from api.adapters.hashing import hash_password
from api.adapters.models import Account, Token
from api.domain.vocabulary import LinkPurpose, MessageKind
from api.services import accounts, links, outbox
from api.services.messages import ERASED_DOMAIN

#: One reset message per account per this many minutes, however often it is asked for.
RESET_BUCKET_MINUTES = 5


@dataclass(frozen=True)
class Requested:
    """The one answer to a reset request, whether or not the email has an account."""

    detail: str = (
        "If an account has this email, a message with a link to set a new password is on "
        "its way; the link works once, for a short while."
    )


def request(session: Session, email: str) -> Requested:
    """Mail a reset link when the email has an account; the same answer either way."""
    email = email.strip().lower()
    account = session.scalar(select(Account).where(Account.email == email))
    if account is None or account.email.endswith(ERASED_DOMAIN):
        return Requested()
    now = utcnow()
    bucket = int(now.timestamp() // (RESET_BUCKET_MINUTES * 60))
    outbox.write(
        session,
        [
            outbox.Message(
                dedupe_key=f"password_reset:{account.id}:{bucket}",
                kind=MessageKind.PASSWORD_RESET,
                account_id=account.id,
            )
        ],
        now,
    )
    session.commit()
    return Requested()


def confirm(session: Session, *, token: str, password: str) -> None:
    """Set the new password; every bearer token and reset link of the account is revoked."""
    link = links.take(session, token, LinkPurpose.PASSWORD_RESET)
    account = session.get(Account, link.account_id)
    if account is None:
        session.rollback()
        raise links.LinkInvalid()
    try:
        accounts.check_password(account.email, password)
    except Exception:
        session.rollback()
        raise
    account.password_hash = hash_password(password)
    now = utcnow()
    session.execute(
        update(Token)
        .where(Token.account_id == account.id, Token.revoked_at.is_(None))
        .values(revoked_at=now)
        .execution_options(synchronize_session=False)
    )
    links.revoke_all(session, account.id, (LinkPurpose.PASSWORD_RESET,))
    session.commit()
