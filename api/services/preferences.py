"""Which optional messages a person gets: reminders, check-in prompts, digests.

Invitations, password resets and the messages of a match's life (proposals, answers,
start, expiry, end) always go: they are what the service is for.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy.orm import Session

from api.adapters.models import Account, LinkToken, NotificationSettings
from api.domain.vocabulary import OPTIONAL_MESSAGES, LinkPurpose
from api.services import links

SETTINGS = tuple(OPTIONAL_MESSAGES.values())


def of(session: Session, account_id: int) -> NotificationSettings:
    found = session.get(NotificationSettings, account_id)
    if found is None:
        found = NotificationSettings(account_id=account_id, **dict.fromkeys(SETTINGS, True))
    return found


def get(session: Session, account: Account) -> NotificationSettings:
    return of(session, account.id)


def change(session: Session, account: Account, data: dict[str, Any]) -> NotificationSettings:
    row = session.get(NotificationSettings, account.id)
    if row is None:
        row = of(session, account.id)
        session.add(row)
    for name in SETTINGS:
        if name in data:
            setattr(row, name, bool(data[name]))
    session.commit()
    return row


def unsubscribe(session: Session, token: str) -> LinkToken:
    """Turn off what an unsubscribe link names (following it again changes nothing)."""
    link = links.take(session, token, LinkPurpose.UNSUBSCRIBE)
    if link.scope in SETTINGS:
        row = session.get(NotificationSettings, link.account_id)
        if row is None:
            row = of(session, link.account_id)
            session.add(row)
        setattr(row, link.scope, False)
    session.commit()
    return link
