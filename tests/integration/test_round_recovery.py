"""Rounds that recover: a real `peermatch worker` is SIGKILLed (with its work horse) in
the middle of a large round; the round is re-queued and another worker finishes it, or,
once its attempts are used up, it is failed with a problem detail saying so.

The lease is two seconds here (ROUND_LEASE_SECONDS), so that a lost round shows soon.
"""

from __future__ import annotations

import os
import signal
import subprocess
import time
import uuid
from pathlib import Path

import pytest
from sqlalchemy import select

from api.adapters import migrate
from api.adapters.models import Round
from api.entrypoints.cli import create_app
from api.http import database as db
from api.services import accounts
from api.synthetic import program as synthetic
from tests.api.conftest import auth
from tests.integration.test_worker import REDIS_URL, _peermatch, _redis_or_skip

LEASE_SECONDS = 2
PASSWORD = "recovery-test-password"


@pytest.fixture
def big(request, empty_database_url, tmp_path):
    """A migrated database with a program large enough that its round runs for seconds
    (mentees and mentors: the fixture's parameter), an admin to act as its coordinator,
    and the app set up with the worker queue."""
    mentees, mentors = getattr(request, "param", (1500, 375))
    _redis_or_skip()
    migrate.upgrade(empty_database_url)
    queue = f"peermatch-test-{uuid.uuid4().hex[:8]}"
    app = create_app(
        {
            "TESTING": True,
            "DATABASE_URL": empty_database_url,
            "REDIS_URL": REDIS_URL,
            "RQ_QUEUE": queue,
            "RATELIMIT_ENABLED": False,
            "OUTBOX_DIR": str(tmp_path / "outbox"),
            "OUTBOX_INLINE": "off",
            "ROUND_LEASE_SECONDS": LEASE_SECONDS,
            "ROUND_MAX_ATTEMPTS": 2,
        }
    )
    with app.app_context():
        session = db.session()
        program_id = synthetic.generate(session, mentees, mentors, seed=5)
        accounts.create_admin(
            session, email="admin@example.org", password=PASSWORD, display_name="Admin"
        )
        session.commit()
    client = app.test_client()
    token = client.post(
        "/api/v1/tokens", json={"email": "admin@example.org", "password": PASSWORD}
    ).json["token"]
    env = os.environ | {
        "DATABASE_URL": empty_database_url,
        "REDIS_URL": REDIS_URL,
        "RQ_QUEUE": queue,
        "OUTBOX_DIR": str(tmp_path / "outbox"),
        "OUTBOX_INLINE": "off",
        "ROUND_LEASE_SECONDS": str(LEASE_SECONDS),
        "ROUND_MAX_ATTEMPTS": "2",
    }
    workers: list[subprocess.Popen[str]] = []
    yield {
        "app": app,
        "client": client,
        "headers": auth(token),
        "program_id": program_id,
        "env": env,
        "workers": workers,
        "logs": tmp_path,
    }
    for proc in workers:
        if proc.poll() is None:
            proc.kill()
            proc.wait(timeout=30)
    with app.app_context():
        db.database(app).engine.dispose()


def _round(big, round_id: int) -> Round:
    with big["app"].app_context():
        session = db.session()
        found = session.scalar(select(Round).where(Round.id == round_id))
        assert found is not None
        session.expunge(found)
        session.close()
        return found


def _start_worker(big, *extra: str) -> subprocess.Popen[str]:
    with open(big["logs"] / f"worker-{len(big['workers'])}.log", "w") as log:
        proc = subprocess.Popen(
            [_peermatch(), "worker", *extra],
            env=big["env"],
            stdout=log,
            stderr=subprocess.STDOUT,
            text=True,
        )
    big["workers"].append(proc)
    return proc


def _children(pid: int) -> list[int]:
    path = Path(f"/proc/{pid}/task/{pid}/children")
    return [int(c) for c in path.read_text().split()] if path.exists() else []


def _kill_while_running(big, proc: subprocess.Popen[str], round_id: int, attempt: int) -> None:
    """Wait until the worker's work horse runs attempt `attempt` of the round, then
    SIGKILL the worker and its work horse at once (an OOM kill, a container stop)."""
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        round_ = _round(big, round_id)
        horses = _children(proc.pid)
        if round_.status == "running" and round_.attempts == attempt and horses:
            break
        assert proc.poll() is None, "the worker exited"
        time.sleep(0.1)
    else:
        pytest.fail(f"attempt {attempt} of round {round_id} never ran")
    for pid in [proc.pid, *horses]:
        os.kill(pid, signal.SIGKILL)
    proc.wait(timeout=30)
    for pid in horses:
        while Path(f"/proc/{pid}").exists() and "zombie" not in _state(pid):
            time.sleep(0.05)


def _state(pid: int) -> str:
    try:
        return Path(f"/proc/{pid}/status").read_text().lower()
    except OSError:
        return "zombie"


def _wait_for(big, round_id: int, statuses: set[str], seconds: float = 180) -> Round:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        round_ = _round(big, round_id)
        if round_.status in statuses:
            return round_
        time.sleep(0.2)
    pytest.fail(f"round {round_id} is still {round_.status}")


def _queue_round(big) -> int:
    url = f"/api/v1/programs/{big['program_id']}/rounds"
    r = big["client"].post(url, json={}, headers=big["headers"])
    assert r.status_code == 202, r.json
    assert r.json["status"] == "queued"
    return int(r.json["id"])


def test_a_round_whose_worker_is_killed_is_requeued_and_finished_by_another_worker(big):
    round_id = _queue_round(big)
    first = _start_worker(big)
    _kill_while_running(big, first, round_id, attempt=1)

    # Nobody runs it now: the round is still `running`, with a lease about to lapse.
    stuck = _round(big, round_id)
    assert stuck.status == "running" and stuck.attempts == 1
    time.sleep(LEASE_SECONDS + 0.5)

    # A worker that starts finds the lost round, re-queues it and runs it.
    second = _start_worker(big, "--burst")
    assert second.wait(timeout=300) == 0
    done = _round(big, round_id)
    assert done.status == "proposed", done.error
    assert done.attempts == 2 and done.error is None
    assert done.lease_expires_at is None
    r = big["client"].get(
        f"/api/v1/programs/{big['program_id']}/rounds/{round_id}", headers=big["headers"]
    )
    assert r.json["status"] == "proposed" and r.json["attempts"] == 2
    assert r.json["stats"]["matched_count"] > 0


def test_a_round_that_loses_its_runner_every_time_fails_saying_so_and_can_be_discarded(big):
    round_id = _queue_round(big)
    url = f"/api/v1/programs/{big['program_id']}/rounds/{round_id}"
    _kill_while_running(big, _start_worker(big), round_id, attempt=1)
    time.sleep(LEASE_SECONDS + 0.5)
    # The second worker re-queues it at start and takes it again; it dies too.
    _kill_while_running(big, _start_worker(big), round_id, attempt=2)
    time.sleep(LEASE_SECONDS + 0.5)

    # Reading the round finds it lost with its attempts used up: failed, and why.
    r = big["client"].get(url, headers=big["headers"])
    assert r.status_code == 200
    assert r.json["status"] == "failed" and r.json["attempts"] == 2
    error = r.json["error"]
    assert error["type"] == "urn:peermatch:problem:round-runner-lost"
    assert error["retries"] == 1 and error["attempts"] == 2
    assert "retried once" in error["detail"] and "Discard this round" in error["detail"]

    # The program is free again: the round can be discarded and a new one started.
    assert big["client"].post(f"{url}/discard", headers=big["headers"]).status_code == 200
    assert _round(big, round_id).status == "discarded"
    assert _queue_round(big) > round_id


def test_a_killed_work_horse_is_seen_by_its_worker_and_the_round_rerun_at_once(big):
    # An out-of-memory kill of the work horse alone: the worker sees it die (RQ's failed
    # registry) and hands the round on without waiting for the lease.
    big["env"]["ROUND_LEASE_SECONDS"] = "600"
    round_id = _queue_round(big)
    worker = _start_worker(big)
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        horses = _children(worker.pid)
        if _round(big, round_id).status == "running" and horses:
            break
        time.sleep(0.1)
    else:
        pytest.fail("the round never ran")
    for pid in horses:
        os.kill(pid, signal.SIGKILL)
    done = _wait_for(big, round_id, {"proposed", "failed"})
    assert done.status == "proposed", done.error
    assert done.attempts == 2
    assert worker.poll() is None  # the same worker ran the retry


# Its round runs for about 3 s on a quiet machine: well over the shortest limit (1 s).
@pytest.mark.parametrize("big", [(3000, 750)], indirect=True)
def test_a_round_over_the_job_time_limit_fails_saying_so(big):
    big["env"]["ROUND_JOB_TIMEOUT_SECONDS"] = "1"
    big["app"].config["ROUND_JOB_TIMEOUT_SECONDS"] = 1
    round_id = _queue_round(big)
    _start_worker(big)
    done = _wait_for(big, round_id, {"proposed", "failed"})
    assert done.status == "failed"
    assert done.attempts == 1  # not retried: it would only run out of time again
    assert "ran longer than this service allows (1 s)" in done.error["detail"]
    assert "ROUND_JOB_TIMEOUT_SECONDS" in done.error["detail"]
