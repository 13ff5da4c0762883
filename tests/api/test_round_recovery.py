"""A round whose runner is gone never blocks a program: the inline mode (no worker
queue) fails it at once when anyone looks, and a coordinator can always discard it.

Runs with real workers and real kills are in tests/integration/test_round_recovery.py.
"""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import select

from api.adapters.db import utcnow
from api.adapters.models import Round
from tests.api.conftest import assert_problem
from tests.api.test_rounds_cycle import demo  # noqa: F401  (fixture)


def _running(session, program_id, *, lease_seconds: float, attempts: int = 1) -> int:
    """A round some runner took, whose lease ends `lease_seconds` from now (negative: it
    lapsed that long ago, the runner is gone)."""
    round_ = Round(
        program_id=program_id,
        status="running",
        parameters={},
        progress={"phase": "matching", "percent": 40},
        attempts=attempts,
        started_at=utcnow() - timedelta(minutes=5),
        lease_expires_at=utcnow() + timedelta(seconds=lease_seconds),
    )
    session.add(round_)
    session.commit()
    return round_.id


@pytest.fixture
def rounds_url(demo):  # noqa: F811
    return f"/api/v1/programs/{demo['program_id']}/rounds"


def test_reading_an_inline_round_whose_runner_died_shows_it_failed_and_why(
    client,
    demo,  # noqa: F811
    session,
    rounds_url,
):
    round_id = _running(session, demo["program_id"], lease_seconds=-5)
    r = client.get(f"{rounds_url}/{round_id}", headers=demo["coordinator"])
    assert r.status_code == 200
    assert r.json["status"] == "failed"
    error = r.json["error"]
    assert error["type"] == "urn:peermatch:problem:round-runner-lost"
    assert error["retries"] == 0 and error["attempts"] == 1
    assert "web server" in error["detail"] and "Discard this round" in error["detail"]
    assert r.json["finished_at"] is not None
    # ... and then it is discarded like any failed round.
    r = client.post(f"{rounds_url}/{round_id}/discard", headers=demo["coordinator"])
    assert r.status_code == 200 and r.json["status"] == "discarded"


def test_the_rounds_list_hands_on_a_lost_round_too(
    client,
    demo,  # noqa: F811
    session,
    rounds_url,
):
    round_id = _running(session, demo["program_id"], lease_seconds=-5)
    listed = client.get(rounds_url, headers=demo["coordinator"]).json
    assert {r["id"]: r["status"] for r in listed}[round_id] == "failed"


def test_a_lost_round_can_be_discarded_directly(
    client,
    demo,  # noqa: F811
    session,
    rounds_url,
):
    round_id = _running(session, demo["program_id"], lease_seconds=-5)
    r = client.post(f"{rounds_url}/{round_id}/discard", headers=demo["coordinator"])
    assert r.status_code == 200, r.json
    assert r.json["status"] == "discarded"
    session.expire_all()
    assert session.get(Round, round_id).discarded_at is not None


def test_a_round_with_a_live_runner_is_not_discarded_and_the_answer_says_what_to_do(
    client,
    demo,  # noqa: F811
    session,
    rounds_url,
):
    round_id = _running(session, demo["program_id"], lease_seconds=60)
    r = client.post(f"{rounds_url}/{round_id}/discard", headers=demo["coordinator"])
    body = assert_problem(r, 409)
    assert "Wait for it to finish" in body["detail"]
    assert "re-queued or failed automatically" in body["detail"]
    r = client.post(rounds_url, json={}, headers=demo["coordinator"])
    body = assert_problem(r, 409)
    assert f"Round {round_id} of this program is running" in body["detail"]
    assert "discard it when it has finished" not in body["detail"]
    assert client.get(f"{rounds_url}/{round_id}", headers=demo["coordinator"]).json["status"] == (
        "running"
    )


def test_a_queued_round_blocks_a_new_one_with_an_answer_that_offers_discarding(
    client,
    demo,  # noqa: F811
    session,
    rounds_url,
):
    queued = Round(program_id=demo["program_id"], status="queued", parameters={})
    session.add(queued)
    session.commit()
    body = assert_problem(client.post(rounds_url, json={}, headers=demo["coordinator"]), 409)
    assert f"Round {queued.id} of this program is queued" in body["detail"]
    assert "discard it" in body["detail"]
    assert body["round_id"] == queued.id


def test_starting_a_round_while_a_lost_one_holds_the_program_starts_it(
    client,
    demo,  # noqa: F811
    session,
    rounds_url,
):
    lost = _running(session, demo["program_id"], lease_seconds=-5)
    r = client.post(rounds_url, json={}, headers=demo["coordinator"])
    assert r.status_code == 202, r.json
    assert r.json["status"] == "proposed"  # inline: run at once
    session.expire_all()
    assert session.scalar(select(Round.status).where(Round.id == lost)) == "failed"


def test_a_finished_inline_round_holds_no_lease_and_counts_one_attempt(
    client,
    demo,  # noqa: F811
    session,
    rounds_url,
):
    r = client.post(rounds_url, json={}, headers=demo["coordinator"])
    assert r.json["status"] == "proposed" and r.json["attempts"] == 1
    session.expire_all()
    assert session.get(Round, r.json["id"]).lease_expires_at is None
