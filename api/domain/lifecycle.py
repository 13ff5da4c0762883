"""The lifecycles of a match and of a round: which event may change which status.

Every status change of the service goes through one of these tables: the services turn
a transition into one conditional `UPDATE … WHERE status IN (<sources>)` (so that two
requests acting at once serialise, and the second sees what the first did), and the
change yields an `Event` that listeners (the notification outbox) receive in the same
transaction. An event that the current status does not allow raises
`IllegalTransition`.

Match::

    propose            -> proposed                  (a round is published)
    accept             proposed, accepted -> accepted   (one partner said yes)
    activate           proposed, accepted -> active     (the second partner said yes)
    decline            proposed, accepted -> declined
    expire             proposed, accepted -> expired    (nobody answered in time)
    cancel             proposed, accepted -> cancelled  (a coordinator withdrew it)
    end                active -> ended                  (a partner or a coordinator)
    close_on_erasure   proposed, accepted, active -> ended   (a partner erased their account)

Outbox message::

    claim      pending, sending -> sending   (a sender leases it; a lapsed lease too)
    deliver    sending -> sent               (the SMTP server accepted it)
    retry      sending -> pending            (refused or unreachable: later, with backoff)
    fail       pending, sending -> failed    (attempts exhausted, or it cannot be built)
    skip       pending, sending -> skipped   (nothing to say any more)

Concern::

    raise      -> open                    (a partner raises it)
    resolve    open -> resolved           (a coordinator, with an outcome)

Round::

    queue      -> queued                  (a coordinator starts one)
    run        queued -> running          (a runner claims it)
    propose    running -> proposed        (results written)
    fail       queued, running -> failed  (also: lost, and out of attempts or inline)
    lose       running -> queued          (its runner died: handed to another one)
    publish    proposed -> published
    discard    queued, proposed, failed -> discarded
    discard_lost  running -> discarded    (only with its lease lapsed: the runner is gone)
    fail_to_start -> failed               (a nightly rematch of a program that could not run)
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any, Generic, TypeVar

from api.domain.errors import IllegalTransition
from api.domain.vocabulary import (
    LIVE_MATCH_STATUSES,
    OPEN_MATCH_STATUSES,
    ConcernStatus,
    MatchStatus,
    OutboxStatus,
    RoundStatus,
)

S = TypeVar("S", bound=StrEnum)


@dataclass(frozen=True)
class Transition(Generic[S]):
    event: str
    sources: frozenset[S]  # empty: the event creates the entity
    target: S
    #: How the past tense reads in messages ("cannot be accepted").
    verb: str


@dataclass(frozen=True)
class Event:
    """What a status change did, for the listeners of `api.services.events`."""

    entity: str  # "match" or "round"
    entity_id: int
    name: str  # the transition's event, e.g. "accept"
    source: str | None  # status before (None when the event created the entity)
    target: str
    at: dt.datetime
    actor: str | None = None  # who caused it: mentee, mentor, coordinator, system
    program_id: int | None = None
    data: Mapping[str, Any] = field(default_factory=dict)

    @property
    def key(self) -> str:
        """`match.accept`: the name listeners subscribe to."""
        return f"{self.entity}.{self.name}"


class Lifecycle(Generic[S]):
    """One entity's transition table."""

    def __init__(self, entity: str, transitions: Iterable[Transition[S]]) -> None:
        self.entity = entity
        self.transitions: dict[str, Transition[S]] = {t.event: t for t in transitions}

    def __getitem__(self, event: str) -> Transition[S]:
        return self.transitions[event]

    def allows(self, status: S | str, event: str) -> bool:
        return status in self.transitions[event].sources

    def target(self, status: S | str, event: str, entity_id: int | None = None) -> S:
        """The status `event` leads to from `status` (IllegalTransition if none)."""
        transition = self.transitions[event]
        if status not in transition.sources:
            raise IllegalTransition(self.entity, entity_id, str(status), transition.verb)
        return transition.target

    def refuse(self, status: S | str, event: str, entity_id: int | None) -> IllegalTransition:
        """The error for `event` found `status` (the conditional update changed nothing)."""
        return IllegalTransition(self.entity, entity_id, str(status), self.transitions[event].verb)

    def event(
        self,
        event: str,
        entity_id: int,
        at: dt.datetime,
        *,
        source: S | str | None,
        actor: str | None = None,
        program_id: int | None = None,
        **data: Any,
    ) -> Event:
        transition = self.transitions[event]
        return Event(
            entity=self.entity.lower(),
            entity_id=entity_id,
            name=event,
            source=None if source is None else str(source),
            target=str(transition.target),
            at=at,
            actor=actor,
            program_id=program_id,
            data=data,
        )


M = MatchStatus
MATCH: Lifecycle[MatchStatus] = Lifecycle(
    "Match",
    [
        Transition("propose", frozenset(), M.PROPOSED, "proposed"),
        Transition("accept", OPEN_MATCH_STATUSES, M.ACCEPTED, "accepted"),
        Transition("activate", OPEN_MATCH_STATUSES, M.ACTIVE, "accepted"),
        Transition("decline", OPEN_MATCH_STATUSES, M.DECLINED, "declined"),
        Transition("expire", OPEN_MATCH_STATUSES, M.EXPIRED, "expired"),
        Transition("cancel", OPEN_MATCH_STATUSES, M.CANCELLED, "cancelled"),
        Transition("end", frozenset({M.ACTIVE}), M.ENDED, "ended"),
        Transition("close_on_erasure", LIVE_MATCH_STATUSES, M.ENDED, "closed"),
    ],
)

R = RoundStatus
ROUND: Lifecycle[RoundStatus] = Lifecycle(
    "Round",
    [
        Transition("queue", frozenset(), R.QUEUED, "queued"),
        Transition("run", frozenset({R.QUEUED}), R.RUNNING, "run"),
        Transition("propose", frozenset({R.RUNNING}), R.PROPOSED, "proposed"),
        Transition("fail", frozenset({R.QUEUED, R.RUNNING}), R.FAILED, "failed"),
        Transition("lose", frozenset({R.RUNNING}), R.QUEUED, "re-queued"),
        Transition("publish", frozenset({R.PROPOSED}), R.PUBLISHED, "published"),
        Transition(
            "discard", frozenset({R.QUEUED, R.PROPOSED, R.FAILED}), R.DISCARDED, "discarded"
        ),
        # The service adds the guard that the lease has lapsed (a live runner keeps it).
        Transition("discard_lost", frozenset({R.RUNNING}), R.DISCARDED, "discarded"),
        # The record of a nightly rematch that failed before its round could be written.
        Transition("fail_to_start", frozenset(), R.FAILED, "failed"),
    ],
)

OS = OutboxStatus
OUTBOX: Lifecycle[OutboxStatus] = Lifecycle(
    "Message",
    [
        Transition("claim", frozenset({OS.PENDING, OS.SENDING}), OS.SENDING, "claimed"),
        Transition("deliver", frozenset({OS.SENDING}), OS.SENT, "sent"),
        Transition("retry", frozenset({OS.SENDING}), OS.PENDING, "retried"),
        Transition("fail", frozenset({OS.PENDING, OS.SENDING}), OS.FAILED, "failed"),
        Transition("skip", frozenset({OS.PENDING, OS.SENDING}), OS.SKIPPED, "skipped"),
    ],
)

CS = ConcernStatus
#: A concern a participant raised: open until a coordinator resolves it (with an outcome).
CONCERN: Lifecycle[ConcernStatus] = Lifecycle(
    "Concern",
    [
        Transition("raise", frozenset(), CS.OPEN, "raised"),
        Transition("resolve", frozenset({CS.OPEN}), CS.RESOLVED, "resolved"),
    ],
)
