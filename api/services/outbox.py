"""The notification outbox: each message a row, written in the transaction of its cause.

Status changes of matches arrive here as events (`api.services.events`), inside the
transaction that made them. They are collected on the session and written just before
it commits, as one multi-row `INSERT … ON CONFLICT (dedupe_key) DO NOTHING`: a publish of
hundreds of proposals costs one lookup of the partners' accounts and one insert, and the
same cause (`match.expire:<match>:<account>`) never yields two messages for one person,
whichever path (a listing, the nightly run, a retry) reports it. A rollback drops them
with everything else.

Delivery (`api.services.delivery`) leases messages (`claim`), and settles each one
(`settle`): `api.domain.lifecycle.OUTBOX` is the table of those steps.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import ColumnElement, and_, event, func, insert, or_, select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session, SessionTransaction, aliased

from api.adapters.db import utcnow
from api.adapters.models import Match, OutboxMessage, Participant
from api.domain.lifecycle import OUTBOX, Event
from api.domain.vocabulary import MessageKind, OutboxStatus, Side
from api.services import events

#: session.info keys: events waiting for the commit; messages written in the transaction;
#: messages committed (what the caller may now hand to delivery).
_BUFFER = "peermatch.outbox.events"
_WROTE = "peermatch.outbox.wrote"
COMMITTED = "peermatch.outbox.committed"


@dataclass(frozen=True)
class Message:
    """A message to write: to whom, what kind, its cause."""

    dedupe_key: str
    kind: MessageKind
    account_id: int
    program_id: int | None = None
    match_id: int | None = None
    payload: dict[str, Any] | None = None
    not_before: datetime | None = None


# What each match event tells whom: (kind, to the mentee, to the mentor, to the actor).
# "Partner answered" goes to the other partner only; the rest to both.
_MATCH_MESSAGES: dict[str, tuple[MessageKind, bool]] = {
    "match.propose": (MessageKind.PROPOSAL, True),
    "match.accept": (MessageKind.PARTNER_ANSWERED, False),
    "match.decline": (MessageKind.PARTNER_ANSWERED, False),
    "match.activate": (MessageKind.ACTIVE, True),
    "match.expire": (MessageKind.EXPIRED, True),
    "match.cancel": (MessageKind.CANCELLED, True),
    "match.end": (MessageKind.ENDED, True),
    "match.close_on_erasure": (MessageKind.ENDED, True),
}


def _on_match_event(session: Session, happened: Event) -> None:
    if happened.key in _MATCH_MESSAGES:
        session.info.setdefault(_BUFFER, []).append(happened)


def install() -> None:
    """Listen to match events (done at import; `uninstall` is for benchmarks)."""
    events.subscribe("match.*", _on_match_event)


def uninstall() -> None:
    events.unsubscribe("match.*", _on_match_event)


install()

_MENTEE, _MENTOR = aliased(Participant), aliased(Participant)
_PARTNERS = (
    select(Match.id, _MENTEE.account_id, _MENTOR.account_id)
    .join(_MENTEE, _MENTEE.id == Match.mentee_id)
    .join(_MENTOR, _MENTOR.id == Match.mentor_id)
)


def _messages_of(session: Session, happened: list[Event]) -> list[Message]:
    ids = sorted({e.entity_id for e in happened})
    accounts: dict[int, tuple[int, int]] = {}
    for chunk in range(0, len(ids), 1000):
        part = ids[chunk : chunk + 1000]
        for match_id, mentee, mentor in session.execute(_PARTNERS.where(Match.id.in_(part))):
            accounts[match_id] = (mentee, mentor)
    out = []
    for e in happened:
        if e.entity_id not in accounts:
            continue  # deleted in the same transaction
        kind, to_both = _MATCH_MESSAGES[e.key]
        mentee, mentor = accounts[e.entity_id]
        recipients = [(Side.MENTEE, mentee), (Side.MENTOR, mentor)]
        if not to_both:
            # The partner of whoever answered.
            recipients = [(s, a) for s, a in recipients if s != e.actor]
        for side, account_id in recipients:
            payload: dict[str, Any] = {"side": side.value, "event": e.name}
            if e.actor:
                payload["actor"] = e.actor
            out.append(
                Message(
                    dedupe_key=f"{e.key}:{e.entity_id}:{account_id}",
                    kind=kind,
                    account_id=account_id,
                    program_id=e.program_id,
                    match_id=e.entity_id,
                    payload=payload,
                )
            )
    return out


def _insert(session: Session) -> Any:
    dialect = session.get_bind().dialect.name
    if dialect == "postgresql":
        return postgresql.insert(OutboxMessage).on_conflict_do_nothing(
            index_elements=["dedupe_key"]
        )
    if dialect == "sqlite":
        return sqlite.insert(OutboxMessage).on_conflict_do_nothing(index_elements=["dedupe_key"])
    return insert(OutboxMessage)


def write(session: Session, messages: Iterable[Message], now: datetime | None = None) -> None:
    """Add messages to the outbox in the caller's transaction (a known cause: skipped)."""
    now = now or utcnow()
    rows = [
        {
            "dedupe_key": m.dedupe_key,
            "kind": m.kind.value,
            "status": OutboxStatus.PENDING.value,
            "account_id": m.account_id,
            "program_id": m.program_id,
            "match_id": m.match_id,
            "payload": m.payload or {},
            "attempts": 0,
            "next_attempt_at": m.not_before or now,
            "created_at": now,
        }
        for m in messages
    ]
    if not rows:
        return
    session.execute(_insert(session), rows)
    session.info[_WROTE] = True


@event.listens_for(Session, "before_commit")
def _write_buffered(session: Session) -> None:
    happened = session.info.pop(_BUFFER, None)
    if happened:
        write(session, _messages_of(session, happened))


@event.listens_for(Session, "after_commit")
def _committed(session: Session) -> None:
    if session.info.pop(_WROTE, False):
        session.info[COMMITTED] = True


@event.listens_for(Session, "after_transaction_end")
def _forget(session: Session, transaction: SessionTransaction) -> None:
    if transaction.parent is None:
        # Committed: written already; rolled back: they never happened.
        session.info.pop(_BUFFER, None)
        session.info.pop(_WROTE, None)


def take_committed(session: Session) -> bool:
    """Whether this session committed messages since last asked (delivery can start)."""
    return bool(session.info.pop(COMMITTED, False))


# --- leasing and settling (the delivery side) ------------------------------------------

M = OutboxMessage
_CLAIM = OUTBOX["claim"]


def _claimable(now: datetime) -> ColumnElement[bool]:
    return or_(
        and_(M.status == OutboxStatus.PENDING, M.next_attempt_at <= now),
        # A sender that died holding it: its lease lapsed.
        and_(M.status == OutboxStatus.SENDING, M.lease_until < now),
    )


@dataclass(frozen=True)
class Claimed:
    id: int
    attempt: int  # the fencing token: only this attempt may settle the message


def claim(
    session: Session, now: datetime, *, limit: int, lease: timedelta, max_attempts: int
) -> list[Claimed]:
    """Lease up to `limit` due messages to the caller (oldest first); commits nothing."""
    # A lapsed lease that already used every attempt is not tried again.
    session.execute(
        update(M)
        .where(M.status == OutboxStatus.SENDING, M.lease_until < now, M.attempts >= max_attempts)
        .values(status=OutboxStatus.FAILED.value, lease_until=None, last_error="sender lost")
        .execution_options(synchronize_session=False)
    )
    due = select(M.id).where(_claimable(now)).order_by(M.id).limit(limit)
    if session.get_bind().dialect.name == "postgresql":
        # Two senders never wait on, nor take, each other's messages.
        due = due.with_for_update(skip_locked=True)
    rows = session.execute(
        update(M)
        .where(M.id.in_(due.scalar_subquery()), M.status.in_(_CLAIM.sources), _claimable(now))
        .values(status=_CLAIM.target.value, lease_until=now + lease, attempts=M.attempts + 1)
        .returning(M.id, M.attempts)
        .execution_options(synchronize_session=False)
    ).all()
    return [Claimed(i, a) for i, a in sorted(rows)]


def settle(
    session: Session,
    claimed: Claimed,
    step: str,
    *,
    now: datetime,
    error: str | None = None,
    retry_at: datetime | None = None,
    subject: str | None = None,
) -> bool:
    """Move a claimed message on (`deliver`, `retry`, `fail`, `skip`); False when the
    lease was lost meanwhile (another sender took the message: it settles it)."""
    transition = OUTBOX[step]
    values: dict[str, Any] = {"status": transition.target.value, "lease_until": None}
    if step == "deliver":
        values["sent_at"] = now
        values["last_error"] = None
    else:
        values["last_error"] = (error or step)[:200]
    if step == "retry":
        values["next_attempt_at"] = retry_at or now
    if subject is not None:
        values["subject"] = subject[:300]
    done = session.execute(
        update(M)
        .where(
            M.id == claimed.id,
            M.status == OutboxStatus.SENDING,
            M.attempts == claimed.attempt,
        )
        .values(**values)
        .execution_options(synchronize_session=False)
    )
    return bool(done.rowcount)  # type: ignore[attr-defined]


# --- for operators ----------------------------------------------------------------------


def listing(
    session: Session, statuses: Sequence[str] = (), limit: int = 100
) -> list[OutboxMessage]:
    stmt = select(M).order_by(M.id.desc()).limit(limit)
    if statuses:
        stmt = stmt.where(M.status.in_(statuses))
    return list(session.scalars(stmt))


def counts(session: Session) -> dict[str, int]:
    return {
        status: n
        for status, n in session.execute(select(M.status, func.count()).group_by(M.status))
    }
