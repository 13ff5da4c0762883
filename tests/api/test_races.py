"""Two people acting at once: real threads against a real database (committed data).

On PostgreSQL each race is made certain: the test holds the lock the requests will need
(the match rows, the programs' advisory locks) until every request of the batch waits
for it, so all of them have read the state before any of them writes. On SQLite writing
requests take the database write lock at BEGIN and run one after the other; the tests
check that this serialises them without a lost update or a "database is locked".
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterator
from typing import Any

import pytest
from sqlalchemy import Connection, text

from api.adapters.db import PROGRAM_MATCHES_LOCK, make_engine
from api.domain.vocabulary import Role
from tests.conftest import TEST_DATABASE_URL
from tests.races import World, app_on, at_once, race_database

BACKENDS = ["sqlite"] + (["postgresql"] if TEST_DATABASE_URL.startswith("postgresql") else [])
TRIES = 30
BATCH = 6  # races at once: two requests each, within the pool's 15 connections


@pytest.fixture(params=BACKENDS)
def race(request: pytest.FixtureRequest, tmp_path: Any) -> Iterator[dict[str, Any]]:
    if request.param == "postgresql":
        request.getfixturevalue("engine")  # the tables of the test database
    url = TEST_DATABASE_URL if request.param == "postgresql" else "sqlite://"
    with race_database(url, tmp_path) as url:
        app = app_on(url)
        engine = make_engine(url)
        try:
            yield {"app": app, "world": World(engine), "engine": engine, "backend": request.param}
        finally:
            from api.http.database import database

            database(app).dispose()
            engine.dispose()


def _post(app: Any, path: str, headers: dict[str, str], body: Any = None) -> Callable[[], Any]:
    def call() -> tuple[int, dict[str, Any]]:
        r = app.test_client().post(path, json=body, headers=headers)
        return r.status_code, r.get_json()

    return call


def _held(race: dict[str, Any], lock_sql: str, params: list[dict[str, Any]], waiters: int):
    """Hold locks in a transaction of the test until `waiters` requests wait, then go."""

    class Holder:
        def __enter__(self) -> Connection:
            self.conn = race["engine"].connect()
            if race["backend"] != "sqlite":
                # (SQLite: the threads' barrier is enough; writers queue at BEGIN.)
                self.conn.begin()
                for p in params:
                    self.conn.execute(text(lock_sql), p)
            return self.conn

        def release(self) -> None:
            if race["backend"] != "sqlite":
                deadline = time.monotonic() + 10
                while time.monotonic() < deadline:
                    # (pg_stat_activity is a snapshot per transaction otherwise.)
                    self.conn.execute(text("SELECT pg_stat_clear_snapshot()"))
                    waiting = self.conn.execute(
                        text(
                            "SELECT count(*) FROM pg_locks l JOIN pg_stat_activity a"
                            " ON a.pid = l.pid WHERE NOT l.granted"
                            " AND a.datname = current_database()"
                        )
                    ).scalar_one()
                    if waiting >= waiters:
                        break
                    time.sleep(0.01)
                self.conn.commit()

        def run(self, calls: list[Callable[[], Any]]) -> list[Any]:
            """The calls at once on threads; the locks go when they all wait."""
            results: list[Any] = []
            runner = threading.Thread(target=lambda: results.extend(at_once(calls)))
            runner.start()
            self.release()
            runner.join(60)
            return results

        def __exit__(self, *exc: Any) -> None:
            self.conn.close()

    return Holder()


def _race_matches(race: dict[str, Any], answers: tuple[str, str]) -> list[dict[str, Any]]:
    """TRIES proposals, each answered by its mentee and its mentor at once."""
    app, world = race["app"], race["world"]
    program_id = world.program()
    people = world.people(program_id, [Role.MENTEE, Role.MENTOR] * TRIES)
    pairs = list(zip(people[::2], people[1::2], strict=True))
    ids = world.matches(program_id, [(a["participant_id"], b["participant_id"]) for a, b in pairs])
    everyone = [(m, a, b) for m, (a, b) in zip(ids, pairs, strict=True)]
    outcomes = []
    for start in range(0, TRIES, BATCH):
        batch = everyone[start : start + BATCH]
        calls = []
        for match_id, mentee, mentor in batch:
            for person, answer in zip((mentee, mentor), answers, strict=True):
                body = {"reason": "Not the right time"} if answer == "decline" else None
                path = f"/api/v1/matches/{match_id}/{answer}"
                calls.append(_post(app, path, person["headers"], body))
        holder = _held(
            race,
            "SELECT id FROM matches WHERE id = :id FOR UPDATE",
            [{"id": m} for m, _, _ in batch],
            waiters=len(calls),
        )
        with holder:
            results = holder.run(calls)
        assert len(results) == len(calls), results
        for k, (match_id, _, _) in enumerate(batch):
            row = world.row("SELECT * FROM matches WHERE id = :id", id=match_id)
            outcomes.append({"row": dict(row), "answers": results[2 * k : 2 * k + 2]})
    return outcomes


def test_both_partners_accepting_at_once_makes_every_match_active(race):
    for outcome in _race_matches(race, ("accept", "accept")):
        row, answers = outcome["row"], outcome["answers"]
        assert [status for status, _ in answers] == [200, 200], answers
        assert row["status"] == "active", row
        assert row["mentee_accepted_at"] and row["mentor_accepted_at"] and row["activated_at"]
        assert row["closed_at"] is None and row["closed_by"] is None
        # The later answer shows the match active.
        assert "active" in {body["status"] for _, body in answers}


def test_an_accept_racing_a_decline_leaves_one_consistent_state(race):
    conflicts = 0
    for outcome in _race_matches(race, ("accept", "decline")):
        row, ((accept_status, accept_body), (decline_status, decline_body)) = (
            outcome["row"],
            outcome["answers"],
        )
        if row["status"] == "declined":
            # The decline won (or, serialised on SQLite, came second and saw the accept).
            assert decline_status == 200 and decline_body["status"] == "declined"
            assert row["closed_by"] == "mentor" and row["close_reason"] == "Not the right time"
            assert row["closed_at"] is not None and row["activated_at"] is None
            if accept_status == 409:
                conflicts += 1
                assert accept_body["current_status"] == "declined"
                assert row["mentee_accepted_at"] is None
            else:
                assert race["backend"] == "sqlite" and accept_status == 200
        else:
            # The accept won: the decline is refused, naming what the match is now.
            assert row["status"] == "accepted", row
            assert accept_status == 200 and accept_body["status"] == "accepted"
            assert decline_status == 409, decline_body
            assert decline_body["current_status"] == "accepted"
            assert "accepted" in decline_body["detail"]
            assert row["closed_at"] is None and row["closed_by"] is None
            assert row["mentee_accepted_at"] is not None
            conflicts += 1
    if race["backend"] == "postgresql":
        # Both requests read `proposed` before either wrote: exactly one loses each race.
        assert conflicts == TRIES


def test_two_rounds_published_at_once_never_exceed_a_mentors_capacity(race):
    app, world = race["app"], race["world"]
    overfilled = []
    every_try = []
    for _ in range(TRIES):
        program_id = world.program(max_capacity=4, default_capacity=1)
        coordinator = world.coordinator(program_id)
        first, second, mentor = world.people(
            program_id, [Role.MENTEE, Role.MENTEE, Role.MENTOR], capacity=1
        )
        rounds = [
            world.proposed_round(program_id, [(mentee["participant_id"], mentor["participant_id"])])
            for mentee in (first, second)
        ]
        every_try.append((program_id, coordinator, mentor, rounds))
    for start in range(0, TRIES, BATCH):
        tries = every_try[start : start + BATCH]
        calls = [
            _post(app, f"/api/v1/programs/{p}/rounds/{r}/publish", coordinator["headers"])
            for p, coordinator, _, rounds in tries
            for r in rounds
        ]
        holder = _held(
            race,
            "SELECT pg_advisory_xact_lock(:space, :program)",
            [{"space": PROGRAM_MATCHES_LOCK, "program": p} for p, *_ in tries],
            waiters=len(calls),
        )
        with holder:
            results = holder.run(calls)
        for k, (program_id, _, mentor, _) in enumerate(tries):
            statuses = sorted(status for status, _ in results[2 * k : 2 * k + 2])
            live = world.row(
                "SELECT count(*) AS n FROM matches WHERE mentor_id = :m "
                "AND status IN ('proposed', 'accepted', 'active')",
                m=mentor["participant_id"],
            )["n"]
            if live > 1:
                overfilled.append(program_id)
            assert statuses == [200, 409], results[2 * k : 2 * k + 2]
            loser = next(body for status, body in results[2 * k : 2 * k + 2] if status == 409)
            assert loser["type"].endswith("stale-round"), loser
            assert loser["stale_pairs"][0]["reasons"] == ["mentor_full"]
    assert overfilled == []


def test_a_role_flip_never_leaves_a_mentor_below_their_live_load(race):
    app, world = race["app"], race["world"]
    program_id = world.program(max_capacity=4, default_capacity=2)
    coordinator = world.coordinator(program_id)
    (mentor,) = world.people(program_id, [Role.MENTOR], capacity=3)
    for mentee in world.people(program_id, [Role.MENTEE] * 3):
        world.match(program_id, mentee["participant_id"], mentor["participant_id"])
    client = app.test_client()
    path = f"/api/v1/programs/{program_id}/participants/{mentor['participant_id']}"
    for role in ("mentee", "mentor", "both"):
        r = client.patch(path, json={"role": role}, headers=coordinator["headers"])
        assert r.status_code == 200, r.get_json()
        if role != "mentee":
            assert r.get_json()["profile"]["capacity"] >= 3, r.get_json()
    row = world.row("SELECT capacity FROM participants WHERE id = :id", id=mentor["participant_id"])
    assert row["capacity"] == 3
