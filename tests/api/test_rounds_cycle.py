"""A whole matching cycle on the seeded demo program, and its bad paths."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import func, select

from api.adapters.db import utcnow
from api.adapters.models import Match, Participant, Round
from api.entrypoints import seeding
from tests.api.conftest import assert_problem, auth
from tests.api.cycle import pairs_of, run_full_cycle, start_round


@pytest.fixture
def demo(client, session_factory):
    """The demo program seeded into the test database; returns a log-in helper."""
    with session_factory() as s:
        seeding.seed(s, seeding.resolve_dir(None))
        program_id = s.scalar(select(func.min(Participant.program_id)))
        people = {
            p.id: p.account.email
            for p in s.scalars(select(Participant).where(Participant.program_id == program_id))
        }

    def login(email):
        r = client.post("/api/v1/tokens", json={"email": email, "password": seeding.DEMO_PASSWORD})
        assert r.status_code == 201, r.json
        return auth(r.json["token"])

    return {
        "program_id": program_id,
        "email_of": people,
        "login": login,
        "coordinator": login(seeding.COORDINATOR_EMAIL),
    }


def test_a_full_cycle_from_round_to_check_in(client, demo):
    run_full_cycle(client, demo)


def test_overrides_change_only_this_round(client, demo):
    round_ = start_round(client, demo, objective="fair", min_overlap_minutes=30)
    assert round_["parameters"]["objective"] == "fair"
    assert round_["stats"]["objective"] == "fair"
    program = client.get(f"/api/v1/programs/{demo['program_id']}", headers=demo["coordinator"])
    assert program.json["settings"]["objective"] == "max_participation"
    r = client.post(
        f"/api/v1/programs/{demo['program_id']}/rounds",
        json={"objective": "greedy"},
        headers=demo["coordinator"],
    )
    assert_problem(r, 422, "objective")
    r = client.post(
        f"/api/v1/programs/{demo['program_id']}/rounds",
        json={"min_overlap_minutes": 600, "target_overlap_minutes": 60},
        headers=demo["coordinator"],
    )
    assert_problem(r, 422, "target_overlap_minutes")


def test_a_second_round_while_one_is_running_is_a_conflict(client, demo, session):
    session.add(Round(program_id=demo["program_id"], status="running", parameters={}))
    session.commit()
    r = client.post(
        f"/api/v1/programs/{demo['program_id']}/rounds", json={}, headers=demo["coordinator"]
    )
    assert_problem(r, 409)


def test_publishing_after_a_mentor_paused_names_the_stale_pairs(client, demo):
    round_ = start_round(client, demo)
    pair = pairs_of(client, demo, round_["id"], limit=1)["items"][0]
    mentor_id = pair["mentor"]["participant_id"]
    mentor_h = demo["login"](demo["email_of"][mentor_id])
    r = client.post(f"/api/v1/programs/{demo['program_id']}/profile/pause", headers=mentor_h)
    assert r.json["status"] == "paused"
    base = f"/api/v1/programs/{demo['program_id']}/rounds/{round_['id']}"
    body = assert_problem(client.post(f"{base}/publish", headers=demo["coordinator"]), 409)
    stale = {(s["mentee_id"], s["mentor_id"]): s["reasons"] for s in body["stale_pairs"]}
    assert stale[(pair["mentee"]["participant_id"], mentor_id)] == ["mentor_paused"]
    assert all(mentor == mentor_id for _, mentor in stale)
    # Nothing was published: the round is still proposed and there are no matches.
    assert client.get(base, headers=demo["coordinator"]).json["status"] == "proposed"
    assert client.get("/api/v1/me/matches", headers=mentor_h).json == []
    # After resuming, it publishes.
    client.post(f"/api/v1/programs/{demo['program_id']}/profile/resume", headers=mentor_h)
    assert client.post(f"{base}/publish", headers=demo["coordinator"]).status_code == 200


def test_an_idempotency_key_replays_the_first_publish(client, demo, session):
    round_ = start_round(client, demo)
    url = f"/api/v1/programs/{demo['program_id']}/rounds/{round_['id']}/publish"
    headers = demo["coordinator"] | {"Idempotency-Key": "publish-round-1"}
    first = client.post(url, headers=headers)
    again = client.post(url, headers=headers)
    assert first.status_code == again.status_code == 200
    assert first.json == again.json
    count = session.scalar(
        select(func.count()).select_from(Match).where(Match.round_id == round_["id"])
    )
    assert count == first.json["matches_created"]
    # The same key for another request is refused.
    other = start_round(client, demo)
    url2 = f"/api/v1/programs/{demo['program_id']}/rounds/{other['id']}/publish"
    assert_problem(client.post(url2, headers=headers), 422)


def test_participants_cannot_use_coordinator_endpoints(client, demo):
    round_ = start_round(client, demo)
    someone = demo["login"](next(iter(demo["email_of"].values())))
    base = f"/api/v1/programs/{demo['program_id']}"
    for method, url in [
        ("post", f"{base}/rounds"),
        ("get", f"{base}/rounds/{round_['id']}"),
        ("get", f"{base}/rounds/{round_['id']}/matches"),
        ("get", f"{base}/rounds/{round_['id']}/unmatched"),
        ("get", f"{base}/rounds/{round_['id']}/report"),
        ("post", f"{base}/rounds/{round_['id']}/publish"),
        ("post", f"{base}/rounds/{round_['id']}/discard"),
        ("get", f"{base}/constraints"),
        ("get", f"{base}/attention"),
    ]:
        kwargs = {"json": {}} if method == "post" and url.endswith("rounds") else {}
        assert_problem(getattr(client, method)(url, headers=someone, **kwargs), 403)


def test_a_participant_cannot_see_or_act_on_another_persons_match(client, demo):
    round_ = start_round(client, demo)
    base = f"/api/v1/programs/{demo['program_id']}"
    client.post(f"{base}/rounds/{round_['id']}/publish", headers=demo["coordinator"])
    pairs = pairs_of(client, demo, round_["id"], limit=2)["items"]
    owner_h = demo["login"](demo["email_of"][pairs[0]["mentee"]["participant_id"]])
    match_id = next(
        m["id"]
        for m in client.get("/api/v1/me/matches", headers=owner_h).json
        if m["my_side"] == "mentee"
    )
    stranger_h = demo["login"](demo["email_of"][pairs[1]["mentee"]["participant_id"]])
    assert match_id not in [
        m["id"] for m in client.get("/api/v1/me/matches", headers=stranger_h).json
    ]
    for action in ("accept", "decline"):
        assert_problem(
            client.post(f"/api/v1/matches/{match_id}/{action}", json={}, headers=stranger_h), 404
        )
    r = client.post(f"/api/v1/matches/{match_id}/check-ins", json={"rating": 5}, headers=stranger_h)
    assert_problem(r, 404)


def test_accepting_an_expired_proposal_is_a_conflict(client, demo, session):
    round_ = start_round(client, demo)
    base = f"/api/v1/programs/{demo['program_id']}"
    client.post(f"{base}/rounds/{round_['id']}/publish", headers=demo["coordinator"])
    match = session.scalar(select(Match).where(Match.round_id == round_["id"]).limit(1))
    match.expires_at = utcnow() - timedelta(minutes=1)
    session.commit()
    mentee_h = demo["login"](demo["email_of"][match.mentee_id])
    body = assert_problem(client.post(f"/api/v1/matches/{match.id}/accept", headers=mentee_h), 409)
    assert "expired" in body["detail"]
    mine = {m["id"]: m for m in client.get("/api/v1/me/matches", headers=mentee_h).json}
    assert mine[match.id]["status"] == "expired"


def test_check_ins_are_only_for_active_matches_and_are_validated(client, demo):
    round_ = start_round(client, demo)
    base = f"/api/v1/programs/{demo['program_id']}"
    client.post(f"{base}/rounds/{round_['id']}/publish", headers=demo["coordinator"])
    pair = pairs_of(client, demo, round_["id"], limit=1)["items"][0]
    mentee_h = demo["login"](demo["email_of"][pair["mentee"]["participant_id"]])
    match_id = next(
        m["id"]
        for m in client.get("/api/v1/me/matches", headers=mentee_h).json
        if m["my_side"] == "mentee"
    )
    url = f"/api/v1/matches/{match_id}/check-ins"
    assert_problem(client.post(url, json={"rating": 4}, headers=mentee_h), 409)
    assert_problem(client.post(url, json={"rating": 6}, headers=mentee_h), 422, "rating")
    assert_problem(
        client.post(url, json={"rating": 3, "signal": "tired"}, headers=mentee_h), 422, "signal"
    )


def test_pins_are_honoured_and_infeasible_pins_reported(client, demo):
    first = start_round(client, demo)
    base = f"/api/v1/programs/{demo['program_id']}"
    h = demo["coordinator"]
    unmatched = client.get(f"{base}/rounds/{first['id']}/unmatched", headers=h).json
    taken = next(u for u in unmatched if u["reason"] == "capacity_taken")
    mentee_id = taken["mentee"]["participant_id"]
    mentor_id = taken["details"]["best_alternative"]["mentor_id"]
    r = client.post(
        f"{base}/constraints",
        json={"kind": "pin", "mentee_id": mentee_id, "mentor_id": mentor_id},
        headers=h,
    )
    assert r.status_code == 201
    second = start_round(client, demo)
    pinned = [p for p in pairs_of(client, demo, second["id"])["items"] if p["pinned"]]
    assert [(p["mentee"]["participant_id"], p["mentor"]["participant_id"]) for p in pinned] == [
        (mentee_id, mentor_id)
    ]
    # A second pin of the same mentee is refused; a forbid of the pinned pair too.
    r = client.post(
        f"{base}/constraints",
        json={"kind": "forbid", "mentee_id": mentee_id, "mentor_id": mentor_id},
        headers=h,
    )
    assert_problem(r, 409)
    r = client.post(
        f"{base}/constraints",
        json={"kind": "pin", "mentee_id": mentee_id, "mentor_id": mentee_id},
        headers=h,
    )
    assert_problem(r, 422, "mentor_id")


def test_an_infeasible_pin_is_reported_not_dropped(client, demo):
    first = start_round(client, demo)
    base = f"/api/v1/programs/{demo['program_id']}"
    h = demo["coordinator"]
    unmatched = client.get(f"{base}/rounds/{first['id']}/unmatched", headers=h).json
    lonely = next(u for u in unmatched if u["reason"] == "no_feasible_mentor")
    mentor_id = pairs_of(client, demo, first["id"], limit=1)["items"][0]["mentor"]["participant_id"]
    client.post(
        f"{base}/constraints",
        json={
            "kind": "pin",
            "mentee_id": lonely["mentee"]["participant_id"],
            "mentor_id": mentor_id,
        },
        headers=h,
    )
    second = start_round(client, demo)
    report = client.get(f"{base}/rounds/{second['id']}/report", headers=h).json
    assert [p["mentee"]["participant_id"] for p in report["infeasible_pins"]] == [
        lonely["mentee"]["participant_id"]
    ]
    assert report["infeasible_pins"][0]["rules"]


def test_the_round_report_compares_every_objective_on_its_cohort(client, demo):
    round_ = start_round(client, demo, objective="max_participation")
    stats = round_["stats"]
    comparison = stats["objective_comparison"]
    assert set(comparison) == {"max_participation", "max_score", "fair", "stable"}
    chosen = comparison["max_participation"]
    assert chosen["matched_count"] == stats["matched_count"]
    assert chosen["total_score"] == stats["total_score"]
    assert chosen["blocking_pairs"] == stats["blocking_pairs"]
    # What each choice costs, on the same people: stable leaves nobody who would both
    # rather swap; max_score has the best total; nobody matches more than max_participation.
    assert comparison["stable"]["blocking_pairs"] == 0
    assert comparison["max_score"]["total_score"] >= max(
        c["total_score"] or 0 for c in comparison.values()
    )
    assert chosen["matched_count"] == max(c["matched_count"] for c in comparison.values())

    stable = start_round(client, demo, objective="stable", compare_objectives=False)
    assert stable["stats"]["objective"] == "stable"
    assert stable["stats"]["blocking_pairs"] == 0
    assert "objective_comparison" not in stable["stats"]
