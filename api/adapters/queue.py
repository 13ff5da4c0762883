"""The job queue (RQ on Redis): matching rounds and the nightly rematch go to workers.

Jobs are named by their entry point's dotted path (`api.entrypoints.worker`), so that
queueing one imports nothing of what runs it.
"""

from __future__ import annotations

from dataclasses import dataclass

from redis import Redis
from redis.exceptions import RedisError
from rq import Queue

RUN_ROUND = "api.entrypoints.worker.run_round"
NIGHTLY_REMATCH = "api.entrypoints.worker.nightly_rematch"
DELIVER_OUTBOX = "api.entrypoints.worker.deliver_outbox"
NOTIFY_DUE = "api.entrypoints.worker.notify_due"
#: Longest a round may run on a worker before RQ stops it.
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

    def enqueue_round(self, round_id: int) -> None:
        try:
            self.queue().enqueue_call(
                RUN_ROUND,
                args=(round_id,),
                timeout=ROUND_TIMEOUT_SECONDS,
                job_id=f"round-{round_id}",
                description=f"matching round {round_id}",
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
