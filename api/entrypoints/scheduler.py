"""`peermatch scheduler`: RQ's cron scheduler enqueues the nightly rematch for workers."""

from __future__ import annotations

from rq.cron import CronScheduler

from api.adapters.queue import ROUND_TIMEOUT_SECONDS, RoundQueue
from api.entrypoints.worker import nightly_rematch


def schedule_rematch(jobs: RoundQueue, cron: str) -> None:
    scheduler = CronScheduler(connection=jobs.connection(), name="peermatch-rematch")
    scheduler.register(nightly_rematch, jobs.name, cron=cron, job_timeout=ROUND_TIMEOUT_SECONDS)
    scheduler.start()
