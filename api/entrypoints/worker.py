"""The RQ worker (`peermatch worker`) and the jobs it runs.

A job runs in the worker's work horse with a database of its own, built from the
environment (`api.config`); no Flask app is needed to run a round or send messages.
"""

from __future__ import annotations

import logging

from rq import Worker

from api import config
from api.adapters.db import Database, make_engine
from api.adapters.queue import QueueError, RoundQueue
from api.services import delivery, notify, rematch, round_runs

log = logging.getLogger("peermatch.jobs")


def _database() -> Database:
    settings = config.load()
    return Database(make_engine(settings["DATABASE_URL"], settings["SQL_ECHO"]))


def run_round(round_id: int) -> None:
    """RQ job: run one queued matching round."""
    db = _database()
    try:
        with db.session_factory() as session:
            round_runs.execute(session, round_id)
    finally:
        db.dispose()


def nightly_rematch() -> None:
    """RQ job of the scheduled rematch: every program whose policy is on."""
    db = _database()
    try:
        for summary in rematch.run(db.engine):
            log.info("%s", summary.describe())
        # Expiries and published proposals of the night: their messages go now.
        delivery.deliver_due(db.session_factory, delivery.Delivery.from_config(config.load()))
    finally:
        db.dispose()


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
    # A worker that starts looks after what a dead one left: messages whose sender died
    # are leased out again once their lease lapses.
    try:
        jobs.enqueue_delivery()
    except QueueError as exc:
        log.warning("no delivery sweep queued at start: %s", exc)
    worker = Worker([jobs.queue()], connection=jobs.connection())
    worker.work(burst=burst, logging_level="INFO")
