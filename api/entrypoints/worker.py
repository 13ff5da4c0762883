"""The RQ worker (`peermatch worker`) and the jobs it runs.

A job runs in the worker's work horse with a database of its own, built from the
environment (`api.config`); no Flask app is needed to run a round or send messages.
"""

from __future__ import annotations

import logging
from datetime import UTC, datetime
from typing import Any

from rq import Worker
from rq.exceptions import AbandonedJobError
from rq.job import Job
from rq.timeouts import JobTimeoutException, UnixSignalDeathPenalty

from api import config
from api.adapters.db import Database, make_engine
from api.adapters.queue import RUN_ROUND, QueueError, RoundQueue
from api.services import delivery, notify, rematch, round_leases, round_runs

log = logging.getLogger("peermatch.jobs")


def _database() -> Database:
    settings = config.load()
    return Database(make_engine(settings["DATABASE_URL"], settings["SQL_ECHO"]))


def _runners() -> round_leases.Runners:
    settings = config.load()
    redis_url = settings["REDIS_URL"]
    jobs = RoundQueue(redis_url, settings["RQ_QUEUE"]) if redis_url else None
    return round_leases.Runners.from_config(settings, jobs)


class JobTimeLimit(UnixSignalDeathPenalty):
    """RQ's job time limit (SIGALRM), remembering in the work horse that it went off:
    its exception, raised wherever the job happens to be, may not survive the code it
    interrupts (see round_runs.TimeLimit)."""

    # Never reset: each job runs in a work horse of its own, forked from a worker whose
    # flag nothing sets; a reset in setup would clear it before the job's on_failure
    # callback, which RQ runs under this class too.
    _fired = False

    def handle_death_penalty(self, signum: int, frame: Any) -> None:
        if self._is_job_limit():
            JobTimeLimit._fired = True
        super().handle_death_penalty(signum, frame)

    def _is_job_limit(self) -> bool:
        exception = getattr(self, "_exception", None)
        return isinstance(exception, type) and issubclass(exception, JobTimeoutException)

    @staticmethod
    def went_off() -> bool:
        return JobTimeLimit._fired


class PeermatchWorker(Worker):
    death_penalty_class = JobTimeLimit


def run_round(round_id: int, attempt: int | None = None) -> None:
    """RQ job: run one queued matching round (attempt: which run of it this job is)."""
    db = _database()
    try:
        with db.session_factory() as session:
            round_runs.execute(
                session,
                round_id,
                runners=_runners(),
                attempt=attempt,
                time_limit=round_runs.TimeLimit((JobTimeoutException,), JobTimeLimit.went_off),
            )
    finally:
        db.dispose()


def _round_job(job: Job) -> tuple[int, int] | None:
    """(round id, attempt) of a round's job, None for other jobs."""
    if job.func_name != RUN_ROUND or not job.args:
        return None
    args = list(job.args)
    return int(args[0]), int(args[1]) if len(args) > 1 and args[1] is not None else 1


def _timed_out(job: Job) -> bool:
    started, timeout = job.started_at, job.timeout
    if started is None or not timeout or timeout < 0:
        return False
    started = started if started.tzinfo else started.replace(tzinfo=UTC)
    return (datetime.now(UTC) - started).total_seconds() >= timeout


def _job_failed(job: Job, *, runner_gone: bool, detail: str = "") -> None:
    found = _round_job(job)
    if found is None:
        return
    round_id, attempt = found
    runners = _runners()
    db = _database()
    try:
        with db.session_factory() as session:
            round_leases.job_failed(
                session, runners, round_id, attempt, runner_gone=runner_gone, detail=detail
            )
    finally:
        db.dispose()


def _time_limit_detail(job: Job) -> str:
    return round_runs.time_limit_text(job.timeout)


def round_job_failed(job: Job, connection: Any, exc_type: Any, exc: Any, tb: Any) -> None:
    """RQ's on_failure of a round's job: abandoned (its worker vanished) is a lost runner;
    anything else that escaped the round's own handling fails the round."""
    if isinstance(exc, AbandonedJobError):
        _job_failed(job, runner_gone=True)
    elif isinstance(exc, JobTimeoutException) or JobTimeLimit.went_off() or _timed_out(job):
        _job_failed(job, runner_gone=False, detail=_time_limit_detail(job))
    else:
        name = getattr(exc_type, "__name__", "error")
        _job_failed(
            job,
            runner_gone=False,
            detail=f"The round's job failed before the round could run ({name}); "
            "the failure has been logged. Discard this round and start a new one.",
        )


def work_horse_killed(job: Job, retpid: int, ret_val: int, rusage: Any) -> None:
    """The worker saw the work horse of a job die (SIGKILL, out of memory): a round's
    runner is lost (re-queued while attempts remain); killed for its time limit, failed."""
    if _timed_out(job):
        _job_failed(job, runner_gone=False, detail=_time_limit_detail(job))
    else:
        _job_failed(job, runner_gone=True)


def recover_rounds() -> None:
    """RQ job of the scheduler: hand on every lost round (re-queue or fail it)."""
    db = _database()
    try:
        with db.session_factory() as session:
            handled = round_leases.recover(session, _runners())
        if handled:
            log.info("lost rounds handed on: %s", handled)
    finally:
        db.dispose()


def nightly_rematch() -> None:
    """RQ job of the scheduled rematch: every program whose policy is on."""
    db = _database()
    try:
        summaries = rematch.run(db.engine, runners=_runners())
        for summary in summaries:
            log.info("%s", summary.describe())
        # Expiries and published proposals of the night: their messages go now.
        delivery.deliver_due(db.session_factory, delivery.Delivery.from_config(config.load()))
    finally:
        db.dispose()
    failed = [s.program_id for s in summaries if s.outcome == "failed"]
    if failed:
        # Each failure is recorded as the program's rematch run; the job's own status
        # (RQ's failed registry) says the night was not clean.
        raise RematchFailed(f"the rematch of programs {failed} failed; the others ran")


class RematchFailed(Exception):
    """Some programs' nightly rematch failed (each one recorded in its rematch runs)."""


def deliver_outbox() -> None:
    """RQ job: deliver every due message of the outbox (leased, so jobs may overlap)."""
    db = _database()
    try:
        report = delivery.deliver_due(
            db.session_factory, delivery.Delivery.from_config(config.load())
        )
        log.info("%s", report.describe())
    finally:
        db.dispose()


def notify_due() -> None:
    """RQ job of the scheduler: write due reminders, check-in prompts, digests; send."""
    db = _database()
    try:
        with db.session_factory() as session:
            log.info("%s", notify.due(session).describe())
        delivery.deliver_due(db.session_factory, delivery.Delivery.from_config(config.load()))
    finally:
        db.dispose()


def work(jobs: RoundQueue, burst: bool) -> None:
    # A worker that starts looks after what a dead one left: rounds whose runner died
    # (lease lapsed) are re-queued or failed; messages whose sender died are leased out
    # again once their lease lapses.
    recover_rounds()
    try:
        jobs.enqueue_delivery()
    except QueueError as exc:
        log.warning("no delivery sweep queued at start: %s", exc)
    worker = PeermatchWorker(
        [jobs.queue()],
        connection=jobs.connection(),
        work_horse_killed_handler=work_horse_killed,
    )
    worker.work(burst=burst, logging_level="INFO")
