"""Listeners of the domain's events, run inside the transaction that caused them.

A status change (`api.services.status`) publishes its `Event` here; a listener that
writes (the notification outbox) writes in the same transaction, so the event and what
it causes commit together or not at all.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable

from sqlalchemy.orm import Session

from api.domain.lifecycle import Event

Listener = Callable[[Session, Event], None]

_listeners: dict[str, list[Listener]] = defaultdict(list)


def subscribe(key: str, listener: Listener) -> None:
    """Call `listener` for every event `key` (`match.accept`), or `match.*`, or `*`."""
    if listener not in _listeners[key]:
        _listeners[key].append(listener)


def unsubscribe(key: str, listener: Listener) -> None:
    if listener in _listeners.get(key, []):
        _listeners[key].remove(listener)


def publish(session: Session, event: Event) -> None:
    for key in (event.key, f"{event.entity}.*", "*"):
        for listener in tuple(_listeners.get(key, ())):
            listener(session, event)
