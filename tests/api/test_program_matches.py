"""Coordinators list a program's matches, cancel proposals, end relationships, and read
the program's funnel."""

from __future__ import annotations

from tests.api.conftest import assert_problem


def _url(world, tail=""):
    return f"/api/v1/programs/{world['program']['id']}/matches{tail}"


def _match_id(client, world):
    owner = world["people"]["owner"]
    [match] = client.get("/api/v1/me/matches", headers=owner["headers"]).json
    return match["id"]


def test_coordinators_list_the_programs_matches_by_status_with_paging(
    client, world, join, mentee_profile
):
    coordinator = world["people"]["coordinator"]["headers"]
    page = client.get(_url(world), headers=coordinator).json
    # The world's round paired both mentees with the one mentor.
    assert [m["status"] for m in page["items"]] == ["proposed"] * 2 and not page["next_cursor"]
    owner_id = world["people"]["owner"]["participant_id"]
    [item] = [m for m in page["items"] if m["mentee"]["participant_id"] == owner_id]
    assert item["mentor"]["participant_id"] == world["people"]["partner"]["participant_id"]
    assert item["mentee_accepted"] is False and item["last_check_in"] is None
    assert client.get(_url(world, "?status=active"), headers=coordinator).json["items"] == []
    both = client.get(_url(world, "?status=active&status=proposed"), headers=coordinator).json
    assert len(both["items"]) == 2
    assert_problem(
        client.get(_url(world, "?status=nonsense"), headers=coordinator), 422, "status.0"
    )
    assert_problem(
        client.get(_url(world, "?cursor=bm90LWEtY3Vyc29y"), headers=coordinator), 422, "cursor"
    )


def test_a_cursor_pages_through_every_match_once(
    client, world, make_program, admin, join, mentee_profile, mentor_profile, new_user
):
    program = make_program()
    coordinator = new_user("C")
    client.post(
        f"/api/v1/programs/{program['id']}/coordinators",
        json={"email": coordinator["email"]},
        headers=admin["headers"],
    )
    for _ in range(3):
        join(program, "mentee", mentee_profile)
    mentor_profile = dict(mentor_profile, capacity=3)
    join(program, "mentor", mentor_profile)
    r = client.post(
        f"/api/v1/programs/{program['id']}/rounds", json={}, headers=coordinator["headers"]
    )
    client.post(
        f"/api/v1/programs/{program['id']}/rounds/{r.json['id']}/publish",
        headers=coordinator["headers"],
    )
    url = f"/api/v1/programs/{program['id']}/matches?limit=2"
    first = client.get(url, headers=coordinator["headers"]).json
    assert len(first["items"]) == 2 and first["next_cursor"]
    rest = client.get(url + "&cursor=" + first["next_cursor"], headers=coordinator["headers"]).json
    ids = [m["id"] for m in first["items"] + rest["items"]]
    assert len(ids) == 3 == len(set(ids)) and ids == sorted(ids, reverse=True)
    assert rest["next_cursor"] is None


def test_a_coordinator_cancels_a_proposal_and_its_partners_see_it_cancelled(client, world):
    coordinator = world["people"]["coordinator"]["headers"]
    match_id = _match_id(client, world)
    assert_problem(
        client.post(_url(world, f"/{match_id}/cancel"), json={}, headers=coordinator), 422, "reason"
    )
    r = client.post(
        _url(world, f"/{match_id}/cancel"),
        json={"reason": "mentor left the company"},
        headers=coordinator,
    )
    assert r.status_code == 200, r.json
    assert r.json["status"] == "cancelled" and r.json["closed_by"] == "coordinator"
    seen = client.get("/api/v1/me/matches", headers=world["people"]["partner"]["headers"]).json
    assert {m["id"]: m["status"] for m in seen}[match_id] == "cancelled"
    again = assert_problem(
        client.post(_url(world, f"/{match_id}/cancel"), json={"reason": "x"}, headers=coordinator),
        409,
    )
    assert again["current_status"] == "cancelled"
    # Nobody can answer a cancelled proposal.
    assert_problem(
        client.post(
            f"/api/v1/matches/{match_id}/accept", headers=world["people"]["owner"]["headers"]
        ),
        409,
    )


def test_a_coordinator_ends_an_active_relationship_but_not_a_proposal(client, world):
    coordinator = world["people"]["coordinator"]["headers"]
    match_id = _match_id(client, world)
    refused = assert_problem(
        client.post(_url(world, f"/{match_id}/end"), json={"reason": "x"}, headers=coordinator), 409
    )
    assert refused["current_status"] == "proposed"
    for side in ("owner", "partner"):
        r = client.post(
            f"/api/v1/matches/{match_id}/accept", headers=world["people"][side]["headers"]
        )
        assert r.status_code == 200
    r = client.post(
        _url(world, f"/{match_id}/end"),
        json={"reason": "a concern was raised"},
        headers=coordinator,
    )
    assert r.status_code == 200, r.json
    assert (r.json["status"], r.json["closed_by"]) == ("ended", "coordinator")


def test_a_match_of_another_program_is_not_found_there(client, world):
    match_id = _match_id(client, world)
    elsewhere = world["people"]["coordinator_elsewhere"]["headers"]
    r = client.post(_url(world, f"/{match_id}/cancel"), json={"reason": "x"}, headers=elsewhere)
    assert_problem(r, 404)


def test_the_funnel_counts_each_stage_and_why_people_wait(client, world, join, mentee_profile):
    coordinator = world["people"]["coordinator"]["headers"]
    program_id = world["program"]["id"]
    funnel = client.get(f"/api/v1/programs/{program_id}/funnel", headers=coordinator).json
    assert funnel["participants"]["joined"] == 3
    assert funnel["participants"]["profile_complete"] == 3
    assert funnel["matches"]["proposed"] == 2 and funnel["matches"]["active"] == 0
    assert funnel["waiting"] == 0 and funnel["waiting_by_reason"] == {}
    assert funnel["days_to_first_proposal"]["count"] == 2
    assert [r["round_id"] for r in funnel["rounds"]] == [world["round_id"]]
    match_id = _match_id(client, world)
    client.post(
        f"/api/v1/matches/{match_id}/decline",
        json={"reason": "no time"},
        headers=world["people"]["owner"]["headers"],
    )
    funnel = client.get(f"/api/v1/programs/{program_id}/funnel", headers=coordinator).json
    assert funnel["matches"]["declined"] == 1 and funnel["rates"]["acceptance"] == 0.0
    assert funnel["waiting"] == 1 and funnel["waiting_by_reason"] == {"after_declined": 1}
    assert funnel["rounds"][0]["matches"]["declined"] == 1
