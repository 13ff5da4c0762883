"""Delivering the outbox: lease a batch, render and send each message, settle it.

Each message is settled in its own transaction right after the server accepted it, so a
sender killed in the middle of a batch leaves every message it had not sent in
`sending` with a lease; when the lease lapses another sender takes them (at least once).
The one message in flight at the kill (accepted by the server, not yet marked sent) is
the only one that can go out twice. A refused or unreachable send is retried with
exponential backoff until `max_attempts`, then marked failed.

Runs on the RQ worker when REDIS_URL is set (`api.entrypoints.worker.deliver_outbox`),
inline after the request's commit otherwise, and from `peermatch outbox deliver`.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import insert, select, update
from sqlalchemy.orm import Session, joinedload, selectinload

from api.adapters import mail
from api.adapters.db import utcnow
from api.adapters.models import LinkToken, Match, OutboxMessage, Participant
from api.services import messages, outbox

log = logging.getLogger("peermatch.outbox")

#: Longest wait between two attempts of one message.
MAX_BACKOFF = timedelta(hours=6)


@dataclass(frozen=True)
class Delivery:
    """How messages leave: the transport, links, retries and leases."""

    transport: mail.Transport
    links: messages.Links
    max_attempts: int = 6
    retry_after: timedelta = timedelta(seconds=60)
    lease: timedelta = timedelta(seconds=300)
    batch: int = 50

    @classmethod
    def from_config(cls, config: Mapping[str, Any]) -> Delivery:
        return cls(
            transport=mail.transport(
                config.get("SMTP_URL"),
                config["OUTBOX_DIR"],
                config["MAIL_FROM"],
                float(config.get("SMTP_TIMEOUT_SECONDS", 30)),
            ),
            links=messages.Links(
                public_url=config["PUBLIC_URL"].rstrip("/"),
                invitation_ttl=timedelta(hours=config["INVITATION_TTL_HOURS"]),
                reset_ttl=timedelta(minutes=config["PASSWORD_RESET_TTL_MINUTES"]),
            ),
            max_attempts=int(config["OUTBOX_MAX_ATTEMPTS"]),
            retry_after=timedelta(seconds=int(config["OUTBOX_RETRY_SECONDS"])),
            lease=timedelta(seconds=int(config["OUTBOX_LEASE_SECONDS"])),
            batch=int(config["OUTBOX_BATCH"]),
        )

    def backoff(self, attempt: int) -> timedelta:
        """The wait after the `attempt`-th failure: 1, 2, 4 … times retry_after."""
        return min(self.retry_after * (2 ** max(attempt - 1, 0)), MAX_BACKOFF)


@dataclass
class Report:
    sent: int = 0
    retried: int = 0
    failed: int = 0
    skipped: int = 0
    lost: int = 0  # lease taken over by another sender meanwhile
    errors: dict[str, int] = field(default_factory=dict)

    def describe(self) -> str:
        return (
            f"outbox: {self.sent} sent, {self.retried} to retry, {self.failed} failed, "
            f"{self.skipped} skipped"
        )


def deliver_due(
    session_factory: Callable[[], Session],
    delivery: Delivery,
    *,
    now: Callable[[], datetime] = utcnow,
    max_batches: int | None = None,
) -> Report:
    """Deliver what is due, batch after batch, until nothing is due (or `max_batches`)."""
    report = Report()
    batches = 0
    with delivery.transport.open() as connection:
        while max_batches is None or batches < max_batches:
            with session_factory() as session:
                claimed = outbox.claim(
                    session,
                    now(),
                    limit=delivery.batch,
                    lease=delivery.lease,
                    max_attempts=delivery.max_attempts,
                )
                session.commit()
            if not claimed:
                break
            batches += 1
            with session_factory() as session:
                ready = _render_batch(session, claimed, delivery, now(), report)
            with session_factory() as session:
                for one, message in ready:
                    _send_one(session, one, message, connection, delivery, now(), report)
    if report.sent or report.failed or report.retried:
        log.info("%s", report.describe())
    return report


_TOKEN_COLUMNS = (
    "token_hash",
    "purpose",
    "account_id",
    "program_id",
    "match_id",
    "scope",
    "expires_at",
)
_LOADERS = (
    joinedload(Match.mentee).options(
        joinedload(Participant.account), selectinload(Participant.tags)
    ),
    joinedload(Match.mentor).options(
        joinedload(Participant.account), selectinload(Participant.tags)
    ),
)


def _render_batch(
    session: Session,
    claimed: list[outbox.Claimed],
    delivery: Delivery,
    now: datetime,
    report: Report,
) -> list[tuple[outbox.Claimed, mail.Mail]]:
    """Render the batch in one transaction: its link tokens exist (committed) before any
    message carrying them leaves; what cannot be sent any more is settled here."""
    rows = {
        m.id: m
        for m in session.scalars(
            select(OutboxMessage).where(OutboxMessage.id.in_([c.id for c in claimed]))
        )
    }
    match_ids = sorted({m.match_id for m in rows.values() if m.match_id})
    if match_ids:
        # The partners, their accounts and tags of the whole batch, in three queries.
        # (Held: the session's identity map keeps only objects somebody refers to.)
        preloaded = session.scalars(
            select(Match).where(Match.id.in_(match_ids)).options(*_LOADERS)
        ).all()
    else:
        preloaded = []
    renderer = messages.Renderer(session, delivery.links)
    ready = []
    subjects: list[dict[str, object]] = []
    tokens: list[dict[str, object]] = []
    for one in claimed:
        message = rows.get(one.id)
        if message is None:
            continue
        try:
            account, rendered = renderer.render(message)
        except messages.Skip as skip:
            if outbox.settle(session, one, "skip", now=now, error=skip.reason):
                report.skipped += 1
            continue
        except Exception as exc:  # a template or data error: retrying will not help
            log.error(
                "outbox %s (%s) could not be rendered: %s",
                one.id,
                message.kind,
                type(exc).__name__,
            )
            log.debug("render failure", exc_info=exc)
            outbox.settle(session, one, "fail", now=now, error=f"render {type(exc).__name__}")
            report.failed += 1
            continue
        # Only a message that rendered keeps the tokens its links carry.
        tokens += [
            {c: getattr(t, c) for c in _TOKEN_COLUMNS} | {"created_at": now}
            for t in renderer.minted
        ]
        subjects.append({"id": one.id, "subject": rendered.subject[:300]})
        ready.append(
            (
                one,
                mail.Mail(
                    outbox_id=one.id,
                    account_id=account.id,
                    to=account.email,
                    subject=rendered.subject,
                    text=rendered.text,
                    html=rendered.html,
                    headers=rendered.headers,
                    attachments=rendered.attachments,
                ),
            )
        )
    if tokens:
        session.execute(insert(LinkToken), tokens)  # one statement for the batch
    if subjects:
        session.execute(update(OutboxMessage), subjects)
    del preloaded
    session.commit()
    return ready


def _send_one(
    session: Session,
    claimed: outbox.Claimed,
    message: mail.Mail,
    connection: mail.Connection,
    delivery: Delivery,
    now: datetime,
    report: Report,
) -> None:
    """Send one message and settle it in its own transaction (so a sender killed after
    this point never sends it again; before it, only this one can go twice)."""
    try:
        connection.send(message)
    except mail.SendError as exc:
        report.errors[exc.reason] = report.errors.get(exc.reason, 0) + 1
        if claimed.attempt >= delivery.max_attempts:
            outbox.settle(session, claimed, "fail", now=now, error=exc.reason)
            report.failed += 1
            log.warning(
                "outbox %s failed for good after %s attempts: %s",
                claimed.id,
                claimed.attempt,
                exc.reason,
            )
        else:
            retry_at = now + delivery.backoff(claimed.attempt)
            outbox.settle(session, claimed, "retry", now=now, error=exc.reason, retry_at=retry_at)
            report.retried += 1
            log.info(
                "outbox %s attempt %s: %s; retry at %s",
                claimed.id,
                claimed.attempt,
                exc.reason,
                retry_at.isoformat(timespec="seconds"),
            )
        session.commit()
        return
    if outbox.settle(session, claimed, "deliver", now=now):
        report.sent += 1
    else:
        report.lost += 1
    session.commit()
