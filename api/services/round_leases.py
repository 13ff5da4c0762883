"""Rounds that recover: a running round's lease, its heartbeat, and what a lost one becomes.

A runner that takes a round (`run`) counts an attempt and holds a lease until
`lease_expires_at`; it renews the lease with each progress update and on a heartbeat
thread (every min(30, lease/4) s), so a round busy in the matcher for minutes keeps it.
A runner that dies (SIGKILL, out of memory, a container stop, a host reboot, the web
server's worker timeout for an inline round) stops renewing: once the lease has lapsed
the round is *lost*. Whoever looks next (a worker starting, the scheduler's sweep, a
read of the round, the start of a new round, the nightly rematch) hands it on:

- with a worker queue, back to `queued` and onto the queue, while it has had fewer runs
  than `ROUND_MAX_ATTEMPTS`;
- otherwise (attempts used up, or inline, where no runner would ever pick it up) to
  `failed`, with a problem detail saying the runner was lost and how often it was retried.

The attempt number is the runner's fencing token: every write of a runner (progress,
lease, results, failure) is conditional on it, so a runner that was given up on but comes
back changes nothing.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import ColumnElement, Engine, select, update
from sqlalchemy.orm import Session
from sqlalchemy.pool import StaticPool

from api.adapters.db import utcnow
from api.adapters.models import Round
from api.adapters.queue import QueueError, RoundQueue
from api.domain.errors import IllegalTransition
from api.domain.vocabulary import Closer, RoundStatus
from api.services import status

log = logging.getLogger("peermatch.rounds")

RUNNER_LOST = "urn:peermatch:problem:round-runner-lost"


@dataclass(frozen=True)
class Runners:
    """How rounds run in this deployment: the workers' queue (None: inline in the web
    process), the lease a runner holds, the runs a round gets, RQ's time limit."""

    jobs: RoundQueue | None = None
    lease_seconds: int = 120
    max_attempts: int = 2
    job_timeout: int = 1000

    @classmethod
    def from_config(cls, config: Mapping[str, Any], jobs: RoundQueue | None) -> Runners:
        return cls(
            jobs=jobs,
            lease_seconds=int(config.get("ROUND_LEASE_SECONDS", 120)),
            max_attempts=max(1, int(config.get("ROUND_MAX_ATTEMPTS", 2))),
            job_timeout=int(config.get("ROUND_JOB_TIMEOUT_SECONDS", 1000)),
        )

    @property
    def lease(self) -> timedelta:
        return timedelta(seconds=self.lease_seconds)

    @property
    def heartbeat_seconds(self) -> float:
        return max(0.2, min(30.0, self.lease_seconds / 4))


INLINE = Runners()


def is_lost(round_: Round, now: datetime) -> bool:
    """A running round whose runner stopped renewing its lease."""
    return (
        round_.status == RoundStatus.RUNNING
        and round_.lease_expires_at is not None
        and round_.lease_expires_at < now
    )


def _lapsed(now: datetime) -> ColumnElement[bool]:
    return Round.lease_expires_at < now


def recover(
    session: Session,
    runners: Runners,
    *,
    program_id: int | None = None,
    round_ids: Sequence[int] | None = None,
    now: datetime | None = None,
) -> list[int]:
    """Hand on every lost round (of the program, or these rounds): re-queue or fail it.
    Returns the ids handled. Commits each change."""
    now = now or utcnow()
    query = select(Round.id, Round.attempts).where(
        Round.status == RoundStatus.RUNNING, _lapsed(now)
    )
    if program_id is not None:
        query = query.where(Round.program_id == program_id)
    if round_ids is not None:
        query = query.where(Round.id.in_(round_ids))
    handled = []
    for round_id, attempts in session.execute(query).all():
        if lose(session, runners, round_id, attempts, now=now):
            handled.append(round_id)
    return handled


def recover_loaded(session: Session, runners: Runners, rounds: Sequence[Round]) -> None:
    """`recover` for rounds already read (a read of a round costs no extra query unless
    one is lost); the rows are refreshed when one was handed on."""
    now = utcnow()
    lost = [r for r in rounds if is_lost(r, now)]
    for round_ in lost:
        lose(session, runners, round_.id, round_.attempts, now=now)
        session.refresh(round_)


def lose(
    session: Session,
    runners: Runners,
    round_id: int,
    attempts: int,
    *,
    now: datetime,
    lapsed: bool = True,
) -> bool:
    """The runner of attempt `attempts` is gone: re-queue the round or fail it.

    False when the round had moved on meanwhile (another process handled it, or the
    runner came back). `lapsed=False`: the runner is known dead (RQ saw its work horse
    killed or its worker vanish), do not wait for the lease."""
    guard = [Round.attempts == attempts] + ([_lapsed(now)] if lapsed else [])
    retry = runners.jobs is not None and attempts < runners.max_attempts
    try:
        if retry:
            status.change(
                session,
                Round,
                round_id,
                "lose",
                at=now,
                where=guard,
                values={
                    "lease_expires_at": None,
                    "progress": {"phase": RoundStatus.QUEUED.value, "percent": 0},
                },
                actor=Closer.SYSTEM,
                attempts=attempts,
            )
        else:
            status.change(
                session,
                Round,
                round_id,
                "fail",
                at=now,
                where=guard,
                values=failed_values(now, runner_lost(attempts, inline=runners.jobs is None)),
                actor=Closer.SYSTEM,
            )
    except IllegalTransition:
        session.rollback()
        return False
    session.commit()
    if retry:
        log.warning("round %s: runner lost on attempt %s; re-queued", round_id, attempts)
        assert runners.jobs is not None
        try:
            runners.jobs.enqueue_round(round_id, attempts + 1, timeout=runners.job_timeout)
        except QueueError:
            fail_queued(session, round_id, attempts, "The job queue was unreachable.")
    else:
        log.warning("round %s: runner lost on attempt %s; failed", round_id, attempts)
    return True


def fail_queued(session: Session, round_id: int, attempts: int, detail: str) -> None:
    """A round that was re-queued but could not be handed to a runner."""
    problem = {
        "type": "urn:peermatch:problem:round-failed",
        "title": "Round failed",
        "status": 503,
        "detail": detail + " Discard this round and start a new one.",
        "attempts": attempts,
    }
    try:
        status.change(
            session,
            Round,
            round_id,
            "fail",
            at=utcnow(),
            where=[Round.status == RoundStatus.QUEUED, Round.attempts == attempts],
            values=failed_values(utcnow(), problem),
            actor=Closer.SYSTEM,
        )
    except IllegalTransition:
        session.rollback()
        return
    session.commit()


def failed_values(now: datetime, problem: dict[str, Any]) -> dict[str, Any]:
    return {
        "finished_at": now,
        "lease_expires_at": None,
        "progress": {"phase": RoundStatus.FAILED.value, "percent": 100},
        "error": problem,
    }


def runner_lost(attempts: int, *, inline: bool) -> dict[str, Any]:
    """The problem detail of a round whose runner was lost for good."""
    retries = max(0, attempts - 1)
    if inline:
        detail = (
            "The round ran inside the web server, which stopped before the round finished "
            "(its request timed out, or the server was restarted or ran out of memory). "
            "Rounds without a worker queue are not retried. Discard this round and start a "
            "new one; for large programs, ask the operator to run workers (REDIS_URL)."
        )
    else:
        times = "once" if retries == 1 else f"{retries} times"
        detail = (
            "The worker running this round stopped before it finished (it was killed, ran "
            "out of memory or was restarted), "
            + (f"and the round was retried {times} with the same result. " if retries else "")
            + "It is not retried again. Discard this round and start a new one; if this "
            "keeps happening, ask the operator to look at the workers' memory and time limits."
        )
    return {
        "type": RUNNER_LOST,
        "title": "Round runner lost",
        "status": 503,
        "detail": detail,
        "attempts": attempts,
        "retries": retries,
    }


class Lease:
    """The lease of one run (attempt) of a round: renewed on progress and by a heartbeat
    thread while the runner works; every renewal is fenced by the attempt."""

    def __init__(self, session: Session, runners: Runners, round_id: int, attempt: int) -> None:
        self.runners, self.round_id, self.attempt = runners, round_id, attempt
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        bind = session.get_bind()
        # A heartbeat needs a connection of its own: not possible on one shared
        # in-memory SQLite connection (tests), where progress updates renew it instead.
        self._engine = (
            bind if isinstance(bind, Engine) and not isinstance(bind.pool, StaticPool) else None
        )

    def fenced(self) -> list[ColumnElement[bool]]:
        return [Round.attempts == self.attempt, Round.status == RoundStatus.RUNNING]

    def expires(self) -> datetime:
        return utcnow() + self.runners.lease

    def renew(self, session: Session, **values: Any) -> bool:
        """Extend the lease (with other columns, e.g. progress) in the session's
        transaction. False when this runner no longer holds the round."""
        result = session.execute(
            update(Round)
            .where(Round.id == self.round_id, *self.fenced())
            .values(lease_expires_at=self.expires(), **values)
            .execution_options(synchronize_session=False)
        )
        return bool(result.rowcount)  # type: ignore[attr-defined]

    def __enter__(self) -> Lease:
        if self._engine is not None:
            self._thread = threading.Thread(
                target=self._beat, name=f"round-{self.round_id}-lease", daemon=True
            )
            self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=10)

    def _beat(self) -> None:
        assert self._engine is not None
        while not self._stop.wait(self.runners.heartbeat_seconds):
            try:
                with Session(self._engine) as session:
                    held = self.renew(session)
                    session.commit()
            except Exception:  # a database hiccup: the next beat tries again
                log.warning("round %s: lease not renewed", self.round_id, exc_info=True)
                continue
            if not held:
                return  # finished, failed, discarded or taken over: nothing to hold


def job_failed(
    session: Session,
    runners: Runners,
    round_id: int,
    attempt: int,
    *,
    runner_gone: bool,
    detail: str = "",
) -> bool:
    """The job of attempt `attempt` ended in RQ's failed registry without the round
    recording why: its runner is gone (abandoned, work horse killed), so it is handed on
    as lost; or it failed otherwise (e.g. timed out), so the round fails with `detail`.
    Only while the round is still this job's: running this attempt, or queued for it."""
    now = utcnow()
    if runner_gone:
        return lose(session, runners, round_id, attempt, now=now, lapsed=False)
    problem = {
        "type": "urn:peermatch:problem:round-failed",
        "title": "Round failed",
        "status": 500,
        "detail": detail,
        "attempts": attempt,
    }
    try:
        status.change(
            session,
            Round,
            round_id,
            "fail",
            at=now,
            where=[
                (Round.attempts == attempt) & (Round.status == RoundStatus.RUNNING)
                | (Round.attempts == attempt - 1) & (Round.status == RoundStatus.QUEUED)
            ],
            values=failed_values(now, problem),
            actor=Closer.SYSTEM,
        )
    except IllegalTransition:
        session.rollback()
        return False
    session.commit()
    return True
