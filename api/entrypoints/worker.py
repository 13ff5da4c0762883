"""The RQ worker (`peermatch worker`) and the jobs it runs.

A job runs in the worker's work horse with a database of its own, built from the
environment (`api.config`); no Flask app is needed to run a round.
"""

from __future__ import annotations

import logging

from rq import Worker

from api import config
from api.adapters.db import Database, make_engine
from api.adapters.queue import RoundQueue
from api.services import rematch, round_runs

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
    finally:
        db.dispose()


def work(jobs: RoundQueue, burst: bool) -> None:
    worker = Worker([jobs.queue()], connection=jobs.connection())
    worker.work(burst=burst, logging_level="INFO")
