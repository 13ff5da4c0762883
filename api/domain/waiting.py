"""How long a mentee has waited: the queue's rule, without I/O.

A mentee's waiting counts from when they became eligible (their profile was complete).
It starts again only when a match closed through the mentee's own choice: they declined
it, ended it, or let the proposal expire without answering. A match that failed through
no fault of theirs (the mentor declined, ended or never answered, a coordinator
cancelled it, the partner left the service) keeps their place in the queue: the time
before it still counts, and only the time spent inside it is not waiting.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime

from api.domain.vocabulary import Closer, MatchStatus


@dataclass(frozen=True)
class ClosedMatch:
    """What the queue needs to know of one of the mentee's closed matches."""

    status: str
    closed_by: str | None
    proposed_at: datetime
    closed_at: datetime
    mentee_accepted: bool


def mentee_chose(match: ClosedMatch) -> bool:
    """Did the mentee's own choice close this match (so their waiting starts again)?"""
    if match.status in (MatchStatus.DECLINED, MatchStatus.ENDED):
        return match.closed_by == Closer.MENTEE
    if match.status == MatchStatus.EXPIRED:
        return not match.mentee_accepted
    return False  # cancelled by a coordinator, or closed because the partner left


def waiting_days(eligible_since: datetime, closed: Iterable[ClosedMatch], as_of: datetime) -> float:
    """Days waited at `as_of` by a mentee eligible since `eligible_since` whose closed
    matches are `closed` (any order)."""
    history = sorted(closed, key=lambda m: m.closed_at)
    start = eligible_since
    for match in history:
        if mentee_chose(match):
            start = max(start, match.closed_at)
    inside = 0.0
    for match in history:
        if match.closed_at > start and not mentee_chose(match):
            entered = max(match.proposed_at, start)
            inside += (min(match.closed_at, as_of) - entered).total_seconds()
    return max(0.0, ((as_of - start).total_seconds() - inside) / 86400)


def failed_through_no_fault(closed: Iterable[ClosedMatch], since: datetime | None) -> bool:
    """Did the mentee's latest match close, after `since`, through no fault of theirs?"""
    latest = max(closed, key=lambda m: m.closed_at, default=None)
    return (
        latest is not None
        and not mentee_chose(latest)
        and (since is None or latest.closed_at > since)
    )
