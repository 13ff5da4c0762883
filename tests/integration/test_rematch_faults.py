"""The rematch is crash-safe under SIGKILL and runs once under concurrency.

Real `peermatch rematch` subprocesses on a generated program and a real database (the
backend under test): kills at random moments, then invariants; two at once, one works.
"""

from __future__ import annotations

import os
import random
import signal
import subprocess
import time
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import func, select, text

from api.adapters import migrate
from api.adapters.models import Match, Participant, Round, RoundPair
from api.entrypoints.cli import create_app
from api.http import database as db
from api.services import rematch
from api.synthetic import program as synthetic
from tests.integration.test_worker import _peermatch

LIVE = ("proposed", "accepted", "active")
NIGHT0 = datetime(2027, 1, 4, 2, 30, tzinfo=UTC)


@pytest.fixture
def generated(empty_database_url):
    migrate.upgrade(empty_database_url)
    app = create_app({"TESTING": True, "DATABASE_URL": empty_database_url, "REDIS_URL": None})
    with app.app_context():
        session = db.session()
        program_id = synthetic.generate(
            session, 1200, 300, seed=11, settings={"rematch_policy": "publish"}
        )
        session.close()
        yield {"app": app, "url": empty_database_url, "program_id": program_id}
        db.database().dispose()


def _command(generated, night):
    return [
        _peermatch(),
        "rematch",
        "--program",
        str(generated["program_id"]),
        "--as-of",
        night.isoformat(),
    ]


def _env(generated):
    # The killed runs are about the rematch's transaction: its messages stay in the
    # outbox (their delivery has tests of its own).
    return os.environ | {
        "DATABASE_URL": generated["url"],
        "REDIS_URL": "",
        "OUTBOX_INLINE": "off",
    }


def check_invariants(engine) -> None:
    with engine.connect() as conn:
        half = conn.execute(
            select(Round.id, Round.status).where(
                Round.kind == "rematch", Round.status.in_(("queued", "running"))
            )
        ).all()
        assert half == [], f"half-written rematch rounds: {half}"
        for round_id, status, stats in conn.execute(
            select(Round.id, Round.status, Round.stats).where(Round.kind == "rematch")
        ):
            pairs = conn.scalar(
                select(func.count()).select_from(RoundPair).where(RoundPair.round_id == round_id)
            )
            assert pairs == stats["matched_count"], f"round {round_id} lost pairs"
            if status == "published":
                made = conn.scalar(
                    select(func.count()).select_from(Match).where(Match.round_id == round_id)
                )
                assert made == pairs, f"round {round_id}: {made} matches for {pairs} pairs"
        twice = conn.execute(
            select(Match.mentee_id)
            .where(Match.status.in_(LIVE))
            .group_by(Match.mentee_id)
            .having(func.count() > 1)
        ).all()
        assert twice == [], f"mentees with two live matches: {twice}"
        over = conn.execute(
            select(Participant.id, Participant.capacity, func.count(Match.id))
            .join(Match, Match.mentor_id == Participant.id)
            .where(Match.status.in_(LIVE))
            .group_by(Participant.id, Participant.capacity)
            .having(func.count(Match.id) > Participant.capacity)
        ).all()
        assert over == [], f"mentors above capacity: {over}"


def test_sigkill_at_random_moments_leaves_all_or_nothing(generated):
    app, env = generated["app"], _env(generated)
    engine = db.database(app).engine
    # One undisturbed night first, to learn how long a run takes here.
    started = time.monotonic()
    done = subprocess.run(_command(generated, NIGHT0), env=env, capture_output=True, text=True)
    duration = time.monotonic() - started
    assert done.returncode == 0, done.stdout + done.stderr
    assert ": done" in done.stdout
    check_invariants(engine)

    rng = random.Random(20261126)
    kills = attempts = 0
    night = NIGHT0
    while kills < 20 and attempts < 80:
        attempts += 1
        night += timedelta(days=8)  # every proposal of the night before has expired
        proc = subprocess.Popen(
            _command(generated, night),
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        time.sleep(rng.uniform(0.3, 1.0) * duration)
        if proc.poll() is None:
            proc.send_signal(signal.SIGKILL)
            proc.wait()
            kills += 1
        check_invariants(engine)
        # The next run completes the night (or finds it done if the kill came too late).
        # PostgreSQL releases a killed client's advisory lock once it notices the dead
        # connection; until then the next run is told "locked" and exits cleanly.
        for _ in range(100):
            [summary] = rematch.run(engine, program_id=generated["program_id"], as_of=night)
            if summary.outcome != "locked":
                break
            time.sleep(0.2)
        assert summary.outcome in ("done", "already_done"), summary.describe()
        check_invariants(engine)
    print(
        f"\nrematch survived {kills} SIGKILLs in {attempts} runs "
        f"({engine.dialect.name}, one run takes {duration:.2f} s)"
    )
    assert kills >= 20


def test_two_rematches_at_once_only_one_does_the_work(generated):
    env = _env(generated)
    night = NIGHT0 + timedelta(days=1)
    procs = [
        subprocess.Popen(
            _command(generated, night),
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
        )
        for _ in range(2)
    ]
    outputs = [p.communicate(timeout=300)[0] for p in procs]
    assert all(p.returncode == 0 for p in procs), outputs
    did_work = [o for o in outputs if ": done" in o]
    assert len(did_work) == 1, outputs
    other = next(o for o in outputs if ": done" not in o)
    assert ": locked" in other or ": already_done" in other, other
    engine = db.database(generated["app"]).engine
    with engine.connect() as conn:
        rounds_made = conn.scalar(
            select(func.count()).select_from(Round).where(Round.kind == "rematch")
        )
    assert rounds_made == 1
    check_invariants(engine)


def test_a_rematch_of_a_locked_program_exits_cleanly(generated):
    """While another transaction holds the program's lock, the rematch says so."""
    engine = db.database(generated["app"]).engine
    program_id = generated["program_id"]
    with engine.connect() as holder:
        if engine.dialect.name == "postgresql":
            holder.execute(select(func.pg_advisory_xact_lock(rematch._lock_key(program_id))))
        else:
            holder.execute(
                text("UPDATE programs SET name = name WHERE id = :id"), {"id": program_id}
            )
        result = subprocess.run(
            _command(generated, NIGHT0),
            env=_env(generated),
            capture_output=True,
            text=True,
            timeout=120,
        )
        holder.rollback()
    assert result.returncode == 0, result.stdout + result.stderr
    assert ": locked" in result.stdout
