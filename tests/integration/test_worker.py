"""The cycle with REDIS_URL set: rounds run in a real `peermatch worker` process.

Also concurrent publishes of one round on a real database: one wins, the other gets 409.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import threading
import uuid
from pathlib import Path

import pytest
from sqlalchemy import func, select

from api.adapters import migrate
from api.adapters.models import Match, Participant
from api.entrypoints import seeding
from api.entrypoints.cli import create_app
from api.http import database as db
from tests.api.conftest import auth
from tests.api.cycle import run_full_cycle, start_round

REDIS_URL = os.environ.get("TEST_REDIS_URL", "redis://127.0.0.1:6379/15")


def _redis_or_skip() -> None:
    from redis import Redis
    from redis.exceptions import RedisError

    try:
        Redis.from_url(REDIS_URL, socket_connect_timeout=2).ping()
    except RedisError:
        if os.environ.get("CI"):
            raise
        pytest.skip(f"no Redis at {REDIS_URL}")


def _peermatch() -> str:
    found = Path(sys.executable).with_name("peermatch")
    return str(found) if found.exists() else shutil.which("peermatch") or "peermatch"


@pytest.fixture
def live(empty_database_url, tmp_path):
    """An app on a real, migrated database with the demo program seeded."""
    migrate.upgrade(empty_database_url)
    queue = f"peermatch-test-{uuid.uuid4().hex[:8]}"
    config = {
        "TESTING": True,
        "DATABASE_URL": empty_database_url,
        "REDIS_URL": None,
        "RQ_QUEUE": queue,
        "RATELIMIT_ENABLED": False,
        "OUTBOX_DIR": str(tmp_path / "outbox"),
        "OUTBOX_INLINE": "sync",
    }
    app = create_app(config)
    with app.app_context():
        seeding.seed(db.session(), seeding.resolve_dir(None))
        program_id = db.session().scalar(select(func.min(Participant.program_id)))
        email_of = {
            p.id: p.account.email
            for p in db.session().scalars(
                select(Participant).where(Participant.program_id == program_id)
            )
        }
    client = app.test_client()

    def login(email):
        r = client.post("/api/v1/tokens", json={"email": email, "password": seeding.DEMO_PASSWORD})
        assert r.status_code == 201
        return auth(r.json["token"])

    yield {
        "app": app,
        "client": client,
        "url": empty_database_url,
        "queue": queue,
        "demo": {
            "program_id": program_id,
            "email_of": email_of,
            "login": login,
            "coordinator": login(seeding.COORDINATOR_EMAIL),
        },
    }
    db.database(app).engine.dispose()


def test_the_full_cycle_passes_with_a_real_rq_worker(live):
    _redis_or_skip()
    live["app"].config["REDIS_URL"] = REDIS_URL
    client, demo = live["client"], live["demo"]
    env = os.environ | {
        "DATABASE_URL": live["url"],
        "REDIS_URL": REDIS_URL,
        "RQ_QUEUE": live["queue"],
        "OUTBOX_DIR": live["app"].config["OUTBOX_DIR"],
    }
    runs = []

    def drain():
        # A real worker process, in burst mode: it runs what is queued, then exits.
        done = subprocess.run(
            [_peermatch(), "worker", "--burst"],
            env=env,
            capture_output=True,
            text=True,
            timeout=300,
        )
        assert done.returncode == 0, done.stdout + done.stderr
        runs.append(done.stdout + done.stderr)

    # Queued, not run, until a worker takes it.
    queued = start_round(client, demo)
    assert queued["status"] == "queued"
    drain()
    url = f"/api/v1/programs/{demo['program_id']}/rounds/{queued['id']}"
    done = client.get(url, headers=demo["coordinator"]).json
    assert done["status"] == "proposed" and done["progress"]["percent"] == 100.0
    assert "Job OK" in runs[0] or "Successfully completed" in runs[0], runs[0]
    client.post(f"{url}/discard", headers=demo["coordinator"])

    run_full_cycle(client, demo, drain=drain)
    assert len(runs) == 3


def test_concurrent_publishes_of_one_round_publish_it_once(live):
    client, demo, app = live["client"], live["demo"], live["app"]
    round_ = start_round(client, demo)
    url = f"/api/v1/programs/{demo['program_id']}/rounds/{round_['id']}/publish"
    barrier = threading.Barrier(2)
    statuses: list[int] = []

    def publish():
        own_client = app.test_client()
        barrier.wait()
        statuses.append(own_client.post(url, headers=demo["coordinator"]).status_code)

    threads = [threading.Thread(target=publish) for _ in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=120)
    assert sorted(statuses) == [200, 409]
    with app.app_context():
        matches = db.session().scalar(
            select(func.count()).select_from(Match).where(Match.round_id == round_["id"])
        )
    assert matches == round_["stats"]["matched_count"]
