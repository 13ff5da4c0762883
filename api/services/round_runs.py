"""A matching round's life: start, run (inline or on a worker), fail, discard."""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

import matcher
from api.adapters.db import utcnow
from api.adapters.models import Account, Participant, Program, Round
from api.adapters.queue import QueueError, RoundQueue
from api.domain.errors import IllegalTransition
from api.domain.settings import ProgramSettings
from api.domain.vocabulary import (
    BUSY_ROUND_STATUSES,
    MENTEE_ROLES,
    Closer,
    ParticipantStatus,
    RoundKind,
    RoundStatus,
)
from api.errors import ApiError, Conflict
from api.services import access, round_leases, round_results, status

log = logging.getLogger("peermatch.rounds")


def start(
    session: Session,
    account: Account,
    program_id: int,
    overrides: dict[str, Any],
    *,
    max_round_size: int,
    runners: round_leases.Runners | None = None,
) -> Round:
    """Snapshot the settings (with overrides) and queue the round; a runner takes it."""
    program = access.program_for_coordinator(session, account, program_id)
    parameters = ProgramSettings.from_stored(program.settings).for_round(overrides)
    _check_size(session, program, max_round_size)
    # A round whose runner died no longer blocks the program for good.
    round_leases.recover(session, runners or round_leases.INLINE, program_id=program.id)
    return queue(session, program, parameters, created_by=account.id)


def _check_size(session: Session, program: Program, limit: int) -> None:
    """Refuse a round larger than this deployment is sized for (MAX_ROUND_SIZE)."""
    mentees = (
        session.scalar(
            select(func.count())
            .select_from(Participant)
            .where(
                Participant.program_id == program.id,
                Participant.role.in_(MENTEE_ROLES),
                Participant.status == ParticipantStatus.ACTIVE,
                Participant.profile_completed_at.is_not(None),
            )
        )
        or 0
    )
    if mentees > limit:
        raise ApiError(
            f"This round would match {mentees} mentees; this service runs rounds of at "
            f"most {limit}. Split the program into cohorts or ask the operator to raise "
            "the limit.",
            title="Round too large",
            slug="round-too-large",
            errors={"program": [f"{mentees} mentees; at most {limit} in one round."]},
            mentees=mentees,
            limit=limit,
        ).with_status(422)


def queue(
    session: Session, program: Program, parameters: ProgramSettings, *, created_by: int | None
) -> Round:
    """A new manual round, queued (one queued or running round per program)."""
    now = utcnow()
    round_ = Round(
        program_id=program.id,
        kind=RoundKind.MANUAL,
        status=RoundStatus.QUEUED,
        parameters=parameters.to_stored(),
        progress={"phase": RoundStatus.QUEUED.value, "percent": 0},
        created_by=created_by,
        created_at=now,
    )
    session.add(round_)
    try:
        session.flush()
        status.created(session, round_, "queue", at=now, actor=Closer.COORDINATOR)
        session.commit()
    except IntegrityError as exc:
        session.rollback()
        busy = session.execute(
            select(Round.id, Round.status).where(
                Round.program_id == program.id, Round.status.in_(BUSY_ROUND_STATUSES)
            )
        ).first()
        if busy is None:
            raise
        raise Conflict(busy_text(busy.id, busy.status), round_id=busy.id) from exc
    return round_


def busy_text(round_id: int, status_: str) -> str:
    """What a coordinator can do about a busy round of the program (and only that)."""
    if status_ == RoundStatus.QUEUED:
        return (
            f"Round {round_id} of this program is queued. Wait for it to finish, or "
            "discard it, then start a new round."
        )
    return (
        f"Round {round_id} of this program is running. Wait for it to finish (follow its "
        "progress); then discard it or review it, and start a new round. If its runner "
        "stops, the round is re-queued or failed automatically."
    )


def _never() -> bool:
    return False


@dataclass(frozen=True)
class TimeLimit:
    """How the runner's host stops a round that ran too long (RQ's job timeout): by
    raising one of `exceptions` wherever the round happens to be. Raised there, it can
    come back wrapped (SQLAlchemy's StatementError), be swallowed (a pool reset, a
    weakref callback), or break the connection it interrupted; `fired` says whether the
    host's limit went off, so the round fails for its time limit whatever became of
    the exception."""

    exceptions: tuple[type[BaseException], ...] = ()
    fired: Callable[[], bool] = _never

    def reached(self, exc: BaseException | None = None) -> bool:
        if self.fired():
            return True
        seen: set[int] = set()
        while exc is not None and id(exc) not in seen:
            if isinstance(exc, self.exceptions):
                return True
            seen.add(id(exc))
            exc = exc.__cause__ or exc.__context__ or getattr(exc, "orig", None)
        return False

    def check(self) -> None:
        """At a safe point (no statement in flight): stop if the limit went off."""
        if self.fired():
            raise TimeLimitReached


class TimeLimitReached(Exception):
    """The host's time limit fired while its exception was lost; noticed at a safe point."""


NO_TIME_LIMIT = TimeLimit()


class _Progress:
    """Writes the matcher's progress to the round (renewing the lease), at most every
    half second."""

    def __init__(self, session: Session, lease: round_leases.Lease, time_limit: TimeLimit) -> None:
        self.session, self.lease, self.last, self.phase = session, lease, 0.0, ""
        self.time_limit = time_limit

    def __call__(self, phase: str, fraction: float) -> None:
        self.time_limit.check()
        now = time.monotonic()
        if now - self.last < 0.5 and phase == self.phase:
            return
        self.last, self.phase = now, phase
        # End the transaction the pool was read in first: on SQLite a read transaction
        # that turns into a write while the heartbeat writes would be refused as locked.
        self.session.commit()
        self.lease.renew(
            self.session, progress={"phase": phase, "percent": round(100 * fraction, 1)}
        )
        self.session.commit()


def execute(
    session: Session,
    round_id: int,
    as_of: datetime | None = None,
    *,
    runners: round_leases.Runners | None = None,
    attempt: int | None = None,
    time_limit: TimeLimit = NO_TIME_LIMIT,
) -> Round | None:
    """Run a queued round to `proposed` (or `failed`). Safe to call twice.

    `attempt`: the run a worker's job is for; a job whose attempt is not the round's next
    one (a stale or duplicate job) does nothing. `time_limit`: how the runner's host
    stops a round that ran too long (RQ's job timeout)."""
    runners = runners or round_leases.INLINE
    now = utcnow()
    try:
        status.change(
            session,
            Round,
            round_id,
            "run",
            at=now,
            where=[] if attempt is None else [Round.attempts == attempt - 1],
            values={
                "started_at": now,
                "progress": {"phase": "loading", "percent": 0},
                "attempts": Round.attempts + 1,
                "lease_expires_at": now + runners.lease,
            },
            actor=Closer.SYSTEM,
        )
        session.commit()
    except IllegalTransition:
        session.rollback()
        return session.get(Round, round_id)  # gone, discarded, or another runner has it
    except BaseException:
        _roll_back(session, round_id)  # e.g. the time limit, mid-statement: the host
        raise  # fails the round (on_failure of its job)
    round_ = session.get(Round, round_id)
    assert round_ is not None
    lease = round_leases.Lease(session, runners, round_id, round_.attempts)
    with lease:
        try:
            _run(session, round_, as_of or utcnow(), lease, time_limit)
        except matcher.MatcherError as exc:
            _fail(
                session,
                round_id,
                "The matcher rejected the input: " + exc.message,
                exc.field,
                lease=lease,
            )
        except Exception as exc:
            if time_limit.reached(exc):
                log.warning("round %s stopped by its time limit", round_id, exc_info=True)
                # Whatever statement it stopped may still hold its connection (a
                # half-sent query, an open SQLite read): a new connection records it.
                session.invalidate()
                detail = time_limit_text(runners.job_timeout)
            else:
                log.exception("round %s failed", round_id)
                detail = "The round failed unexpectedly; the failure has been logged."
            _fail(session, round_id, detail, lease=lease)
    return session.get(Round, round_id)


def time_limit_text(seconds: int | float | None) -> str:
    return (
        f"The round ran longer than this service allows ({seconds} s) and was stopped. "
        "Split the program into cohorts, or ask the operator to raise "
        "ROUND_JOB_TIMEOUT_SECONDS."
    )


def _roll_back(session: Session, round_id: int) -> None:
    """Roll back; a connection stopped mid-statement (by the time limit) cannot be, and
    is dropped, so that its transaction (and row locks) end with it."""
    try:
        session.rollback()
    except Exception:
        log.warning("round %s: connection dropped", round_id, exc_info=True)
        session.invalidate()


def mark_failed(session: Session, round_id: int, detail: str) -> None:
    """Fail a round that could not be handed to a runner."""
    _fail(session, round_id, detail)


def _fail(
    session: Session,
    round_id: int,
    detail: str,
    field: str | None = None,
    *,
    lease: round_leases.Lease | None = None,
) -> None:
    _roll_back(session, round_id)
    error = {
        "type": "urn:peermatch:problem:round-failed",
        "title": "Round failed",
        "status": 500 if field is None else 422,
        "detail": detail,
        **({"field": field} if field else {}),
    }
    try:
        status.change(
            session,
            Round,
            round_id,
            "fail",
            at=utcnow(),
            # Only the runner that holds the round fails it (not one given up on).
            where=lease.fenced() if lease else [],
            values=round_leases.failed_values(utcnow(), error),
            actor=Closer.SYSTEM,
        )
    except IllegalTransition:
        session.rollback()  # discarded or taken over meanwhile: nothing to fail
        return
    session.commit()


def _run(
    session: Session,
    round_: Round,
    as_of: datetime,
    lease: round_leases.Lease,
    time_limit: TimeLimit,
) -> None:
    program = session.get(Program, round_.program_id)
    assert program is not None
    round_results.compute(
        session,
        program,
        round_,
        as_of,
        progress=_Progress(session, lease, time_limit),
        where=lease.fenced(),
    )
    time_limit.check()  # a round stopped for its time limit is failed, never proposed
    session.commit()
    stats = round_.stats or {}
    log.info(
        "round %s of program %s proposed: %s of %s mentees matched in %.2fs",
        round_.id,
        program.id,
        stats.get("matched_count"),
        stats.get("mentee_count"),
        stats.get("total_seconds", 0.0),
    )


def discard(session: Session, account: Account, program_id: int, round_id: int) -> Round:
    """Discard a round that will not be published; a lost round (its runner gone, the
    lease lapsed) always can be, whatever a sweep would have made of it."""
    round_ = access.round_of_program(session, account, program_id, round_id)
    now = utcnow()
    try:
        status.change(
            session,
            Round,
            round_.id,
            "discard",
            at=now,
            values={"discarded_at": now, "lease_expires_at": None},
            actor=Closer.COORDINATOR,
        )
    except IllegalTransition as exc:
        session.rollback()
        if exc.status != RoundStatus.RUNNING:
            raise Conflict(
                f"Round {round_.id} is {exc.status}; only a queued, proposed or failed round "
                "can be discarded."
            ) from exc
        try:
            status.change(
                session,
                Round,
                round_.id,
                "discard_lost",
                at=now,
                where=[Round.lease_expires_at < now],
                values={"discarded_at": now, "lease_expires_at": None},
                actor=Closer.COORDINATOR,
            )
        except IllegalTransition as again:
            session.rollback()
            raise Conflict(
                f"Round {round_.id} is running. Wait for it to finish (follow its progress), "
                "then discard it; if its runner stops, the round is re-queued or failed "
                "automatically and can be discarded at once."
            ) from again
    session.commit()
    return round_


class QueueUnavailable(ApiError):
    status = 503
    title = "Job queue unavailable"
    slug = "queue-unavailable"


def dispatch(
    session: Session,
    round_id: int,
    jobs: RoundQueue | None,
    runners: round_leases.Runners | None = None,
) -> None:
    """Run the round now (no job queue: the embedded setup) or hand it to a worker."""
    runners = runners or round_leases.Runners(jobs=jobs)
    if jobs is None:
        execute(session, round_id, runners=runners)
        return
    try:
        jobs.enqueue_round(round_id, 1, timeout=runners.job_timeout)
    except QueueError as exc:
        mark_failed(session, round_id, "The job queue was unreachable.")
        raise QueueUnavailable(
            "The job queue is unreachable; the round was not started. Try again later."
        ) from exc
