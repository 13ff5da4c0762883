"""`peermatch scheduler`: RQ's cron scheduler enqueues periodic jobs for the workers:
the nightly rematch, the due reminders/check-in prompts/digests (NOTIFY_CRON), and a
sweep of the outbox (every OUTBOX_SWEEP_SECONDS) that retries messages whose backoff is
over or whose sender died, and a sweep of lost rounds (every ROUND_LEASE_SECONDS, at
least 30 s and at most 10 min apart) that re-queues or fails rounds whose runner
died."""

from __future__ import annotations

from rq.cron import CronScheduler

from api.adapters.queue import DELIVERY_TIMEOUT_SECONDS, ROUND_TIMEOUT_SECONDS, RoundQueue
from api.entrypoints.worker import deliver_outbox, nightly_rematch, notify_due, recover_rounds


def register(
    scheduler: CronScheduler,
    jobs: RoundQueue,
    cron: str,
    *,
    notify_cron: str | None = None,
    sweep_seconds: int | None = None,
    lease_seconds: int | None = None,
) -> None:
    scheduler.register(nightly_rematch, jobs.name, cron=cron, job_timeout=ROUND_TIMEOUT_SECONDS)
    if lease_seconds:
        scheduler.register(
            recover_rounds,
            jobs.name,
            interval=min(600, max(30, lease_seconds)),
            job_timeout=DELIVERY_TIMEOUT_SECONDS,
        )
    if notify_cron:
        scheduler.register(
            notify_due, jobs.name, cron=notify_cron, job_timeout=DELIVERY_TIMEOUT_SECONDS
        )
    if sweep_seconds:
        scheduler.register(
            deliver_outbox,
            jobs.name,
            interval=sweep_seconds,
            job_timeout=DELIVERY_TIMEOUT_SECONDS,
        )


def schedule_rematch(
    jobs: RoundQueue,
    cron: str,
    *,
    notify_cron: str | None = None,
    sweep_seconds: int | None = None,
    lease_seconds: int | None = None,
) -> None:
    scheduler = CronScheduler(connection=jobs.connection(), name="peermatch-rematch")
    register(
        scheduler,
        jobs,
        cron,
        notify_cron=notify_cron,
        sweep_seconds=sweep_seconds,
        lease_seconds=lease_seconds,
    )
    scheduler.start()
