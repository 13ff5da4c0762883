"""The job queue (RQ on Redis): matching rounds and the nightly rematch go to workers.

Jobs are named by their entry point's dotted path (`api.entrypoints.worker`), so that
queueing one imports nothing of what runs it.
"""

from __future__ import annotations

from dataclasses import dataclass

from redis import Redis
from redis.exceptions import RedisError
from rq import Callback, Queue

RUN_ROUND = "api.entrypoints.worker.run_round"
#: RQ calls this when a round's job fails outside the round's own handling: the job was
#: abandoned (its worker vanished) or raised before the round could record a failure.
ROUND_JOB_FAILED = "api.entrypoints.worker.round_job_failed"
RECOVER_ROUNDS = "api.entrypoints.worker.recover_rounds"
NIGHTLY_REMATCH = "api.entrypoints.worker.nightly_rematch"
DELIVER_OUTBOX = "api.entrypoints.worker.deliver_outbox"
NOTIFY_DUE = "api.entrypoints.worker.notify_due"
#: Longest a round may run on a worker before RQ stops it, unless the deployment's
#: ROUND_JOB_TIMEOUT_SECONDS (sized for MAX_ROUND_SIZE) says otherwise; also the nightly
#: rematch's limit.
ROUND_TIMEOUT_SECONDS = 3600
#: Longest one delivery job runs (it stops when nothing is due; the next one goes on).
DELIVERY_TIMEOUT_SECONDS = 1800


class QueueError(Exception):
    """The queue could not take the job (Redis unreachable)."""


@dataclass(frozen=True)
class RoundQueue:
    redis_url: str
    name: str

    def connection(self) -> Redis:
        return Redis.from_url(self.redis_url)

    def queue(self) -> Queue:
        return Queue(self.name, connection=self.connection())

    def enqueue_round(
        self, round_id: int, attempt: int = 1, *, timeout: int = ROUND_TIMEOUT_SECONDS
    ) -> None:
        """The job of one run (attempt) of a round; a stale job of an earlier attempt
        finds the round moved on and does nothing."""
        try:
            self.queue().enqueue_call(
                RUN_ROUND,
                args=(round_id, attempt),
                timeout=timeout,
                job_id=f"round-{round_id}-{attempt}",
                description=f"matching round {round_id} (attempt {attempt})",
                on_failure=Callback(ROUND_JOB_FAILED),
                failure_ttl=7 * 24 * 3600,
            )
        except RedisError as exc:
            raise QueueError(str(type(exc).__name__)) from exc

    def enqueue_delivery(self) -> None:
        """A job that delivers the outbox's due messages (any worker; several are safe:
        each message is leased to one of them)."""
        try:
            self.queue().enqueue_call(
                DELIVER_OUTBOX,
                timeout=DELIVERY_TIMEOUT_SECONDS,
                description="deliver the notification outbox",
                result_ttl=60,
                failure_ttl=24 * 3600,
            )
        except RedisError as exc:
            raise QueueError(str(type(exc).__name__)) from exc
