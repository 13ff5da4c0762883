"""Background work: inline in the embedded setup, on RQ workers when REDIS_URL is set."""

from __future__ import annotations

import logging
from typing import Any

from flask import current_app

from api import db
from api.errors import ApiError

log = logging.getLogger("peermatch.jobs")


class QueueUnavailable(ApiError):
    status = 503
    title = "Job queue unavailable"
    slug = "queue-unavailable"


def _queue(redis_url: str) -> Any:
    from redis import Redis
    from rq import Queue

    return Queue(current_app.config["RQ_QUEUE"], connection=Redis.from_url(redis_url))


def enqueue_round(round_id: int) -> None:
    """Run the round now (embedded setup) or hand it to a worker (REDIS_URL set)."""
    from api.services import rounds

    redis_url = current_app.config.get("REDIS_URL")
    if not redis_url:
        rounds.execute(db.session(), round_id)
        return
    from redis.exceptions import RedisError

    try:
        _queue(redis_url).enqueue_call(
            "api.jobs.run_round",
            args=(round_id,),
            timeout=3600,
            job_id=f"round-{round_id}",
            description=f"matching round {round_id}",
        )
    except RedisError as exc:
        rounds.mark_failed(db.session(), round_id, "The job queue was unreachable.")
        raise QueueUnavailable(
            "The job queue is unreachable; the round was not started. Try again later."
        ) from exc


def run_round(round_id: int) -> None:
    """RQ entry point: runs in the worker's work horse with an app of its own."""
    from api import create_app
    from api.services import rounds

    app = create_app()
    with app.app_context():
        rounds.execute(db.session(), round_id)
        db.database().dispose()


def nightly_rematch() -> None:
    """RQ entry point of the scheduled rematch: every program whose policy is on."""
    from api import create_app
    from api.services import rematch

    app = create_app()
    with app.app_context():
        for summary in rematch.run(db.database().engine):
            log.info("%s", summary.describe())
        db.database().dispose()


def schedule_rematch(redis_url: str, cron: str) -> None:
    from redis import Redis
    from rq.cron import CronScheduler

    scheduler = CronScheduler(connection=Redis.from_url(redis_url), name="peermatch-rematch")
    scheduler.register(nightly_rematch, current_app.config["RQ_QUEUE"], cron=cron, job_timeout=3600)
    scheduler.start()


def work(redis_url: str, burst: bool) -> None:
    from redis import Redis
    from rq import Worker

    connection = Redis.from_url(redis_url)
    worker = Worker([_queue(redis_url)], connection=connection)
    worker.work(burst=burst, logging_level="INFO")
