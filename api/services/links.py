"""Link tokens: what a link in a message lets its holder do, once.

A token is 256 random bits (`api.adapters.hashing.new_token`), given to the person in
the link and stored only as its SHA-256. Taking a token is one conditional UPDATE
(`used_at IS NULL AND expires_at > now`), so two clicks race to one winner. An unknown,
expired or used token gets one answer (`LinkInvalid`), which says nothing of which.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import delete, select, update
from sqlalchemy.orm import Session

from api.adapters.db import utcnow
from api.adapters.hashing import new_token, token_hash
from api.adapters.models import LinkToken
from api.domain.vocabulary import LinkPurpose
from api.errors import ApiError


class LinkInvalid(ApiError):
    status = 410
    title = "Link no longer valid"
    slug = "link-invalid"

    def __init__(self) -> None:
        super().__init__(
            "This link is unknown, expired or already used; ask for a new one "
            "(or log in and act from your account)."
        )


def mint(
    session: Session | list[LinkToken],
    purpose: LinkPurpose,
    account_id: int,
    *,
    expires_at: datetime,
    program_id: int | None = None,
    match_id: int | None = None,
    scope: str | None = None,
) -> str:
    """A new token (added to the session, or to a list the caller adds later; the caller
    commits): the secret for the link."""
    secret, digest = new_token()
    token = LinkToken(
        token_hash=digest,
        purpose=purpose.value,
        account_id=account_id,
        program_id=program_id,
        match_id=match_id,
        scope=scope,
        expires_at=expires_at,
    )
    if isinstance(session, list):
        session.append(token)
    else:
        session.add(token)
    return secret


def peek(session: Session, secret: str, purpose: LinkPurpose) -> LinkToken:
    """The token, if it may still be used (a GET of a link page: nothing changes)."""
    now = utcnow()
    token = session.scalar(
        select(LinkToken).where(
            LinkToken.token_hash == token_hash(secret),
            LinkToken.purpose == purpose.value,
        )
    )
    if token is None or token.expires_at <= now:
        raise LinkInvalid()
    if token.used_at is not None and purpose != LinkPurpose.UNSUBSCRIBE:
        raise LinkInvalid()
    return token


def take(session: Session, secret: str, purpose: LinkPurpose) -> LinkToken:
    """Use the token up (in the caller's transaction); LinkInvalid when it cannot be."""
    now = utcnow()
    conditions = [
        LinkToken.token_hash == token_hash(secret),
        LinkToken.purpose == purpose.value,
        LinkToken.expires_at > now,
    ]
    if purpose != LinkPurpose.UNSUBSCRIBE:
        conditions.append(LinkToken.used_at.is_(None))
    token_id = session.execute(
        update(LinkToken)
        .where(*conditions)
        .values(used_at=now)
        .returning(LinkToken.id)
        .execution_options(synchronize_session=False)
    ).scalar_one_or_none()
    if token_id is None:
        raise LinkInvalid()
    token = session.get(LinkToken, token_id, populate_existing=True)
    assert token is not None
    return token


def revoke_all(session: Session, account_id: int, purposes: tuple[LinkPurpose, ...]) -> None:
    """Use up every open token of these purposes of the account."""
    session.execute(
        update(LinkToken)
        .where(
            LinkToken.account_id == account_id,
            LinkToken.purpose.in_([p.value for p in purposes]),
            LinkToken.used_at.is_(None),
        )
        .values(used_at=utcnow())
        .execution_options(synchronize_session=False)
    )


def forget(session: Session, account_id: int) -> None:
    """Delete every token of the account (erasure)."""
    session.execute(delete(LinkToken).where(LinkToken.account_id == account_id))


def lifetime(hours: float) -> datetime:
    return utcnow() + timedelta(hours=hours)
