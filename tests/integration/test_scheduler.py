"""`peermatch scheduler` against the local Redis: it registers its periodic jobs with
RQ's cron scheduler, and the nightly rematch it fires runs on a real worker."""

from __future__ import annotations

import os
import signal
import subprocess
import time
from datetime import timedelta

from redis import Redis
from rq import Queue
from rq.cron import CronScheduler
from sqlalchemy import select

from api.adapters.db import utcnow
from api.adapters.models import Program, Round
from api.adapters.queue import RoundQueue
from api.entrypoints import scheduler as scheduler_module
from api.http import database as db
from tests.integration.test_worker import REDIS_URL, _peermatch, _redis_or_skip, live  # noqa: F401


def _env(live):  # noqa: F811
    return os.environ | {
        "DATABASE_URL": live["url"],
        "REDIS_URL": REDIS_URL,
        "RQ_QUEUE": live["queue"],
        "OUTBOX_DIR": live["app"].config["OUTBOX_DIR"],
        "OUTBOX_INLINE": "off",
    }


def test_the_scheduler_command_registers_its_jobs_and_enqueues_the_sweeps(live):  # noqa: F811
    _redis_or_skip()
    proc = subprocess.Popen(
        [_peermatch(), "scheduler", "--cron", "30 2 * * *"],
        env=_env(live) | {"OUTBOX_SWEEP_SECONDS": "60", "ROUND_LEASE_SECONDS": "120"},
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    queue = Queue(live["queue"], connection=Redis.from_url(REDIS_URL))
    try:
        # Interval jobs run at once: the outbox sweep and the sweep of lost rounds.
        deadline = time.monotonic() + 60
        names: set[str] = set()
        while time.monotonic() < deadline and len(names) < 2:
            names = {job.func_name for job in queue.get_jobs()}
            assert proc.poll() is None, proc.communicate()[0]
            time.sleep(0.2)
        assert names == {
            "api.entrypoints.worker.deliver_outbox",
            "api.entrypoints.worker.recover_rounds",
        }
    finally:
        proc.send_signal(signal.SIGTERM)
        output = proc.communicate(timeout=30)[0]
        queue.empty()
    assert proc.returncode == 0, output
    assert "shutdown complete" in output


def test_the_nightly_job_it_registers_fires_and_a_worker_runs_the_rematch(live):  # noqa: F811
    _redis_or_skip()
    app = live["app"]
    with app.app_context():
        session = db.session()
        program = session.get(Program, live["demo"]["program_id"])
        program.settings = dict(program.settings) | {"rematch_policy": "publish"}
        session.commit()
    jobs = RoundQueue(REDIS_URL, live["queue"])
    scheduler = CronScheduler(connection=jobs.connection(), name=f"test-{live['queue']}")
    scheduler_module.register(scheduler, jobs, "30 2 * * *", lease_seconds=120)
    registered = {job.func_name: job for job in scheduler.get_jobs()}
    nightly = registered["api.entrypoints.worker.nightly_rematch"]
    assert nightly.cron == "30 2 * * *" and nightly.queue_name == live["queue"]
    assert nightly.job_options["job_timeout"] >= 3600
    assert registered["api.entrypoints.worker.recover_rounds"].interval == 120

    # The night comes: the scheduler enqueues the rematch, a worker runs it.
    nightly.next_enqueue_time = utcnow() - timedelta(seconds=1)
    fired = {job.func_name for job in scheduler.enqueue_jobs()}
    assert "api.entrypoints.worker.nightly_rematch" in fired
    done = subprocess.run(
        [_peermatch(), "worker", "--burst"],
        env=_env(live),
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    with app.app_context():
        session = db.session()
        session.expire_all()
        night = session.scalars(
            select(Round).where(Round.program_id == program.id, Round.kind == "rematch")
        ).all()
    assert [r.status for r in night] == ["published"], done.stderr
    assert (night[0].run_key or "").startswith("rematch:20")
