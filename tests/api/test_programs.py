"""Programs: created by admins, run by coordinators, joined by code."""

from __future__ import annotations

from sqlalchemy import select

from tests.api.conftest import TAXONOMY, assert_problem


def test_an_admin_creates_a_program_with_default_settings(client, admin):
    r = client.post(
        "/api/v1/programs",
        json={"name": "Spring cohort", "slug": "spring", "taxonomy": ["python", "leadership"]},
        headers=admin["headers"],
    )
    assert r.status_code == 201
    body = r.json
    assert body["taxonomy"] == ["leadership", "python"]
    assert body["settings"]["objective"] == "max_participation"
    assert body["settings"]["min_overlap_minutes"] == 60
    assert len(body["join_code"]) >= 6 and body["my_role"] == "admin"


def test_only_admins_create_programs(client, new_user):
    user = new_user()
    body = {"name": "X", "slug": "xx"}
    assert_problem(client.post("/api/v1/programs", json=body, headers=user["headers"]), 403)
    assert_problem(client.post("/api/v1/programs", json=body), 401)


def test_program_settings_are_validated_by_field(client, admin):
    cases = [
        ({"settings": {"objective": "greedy"}}, "settings.objective"),
        ({"settings": {"weights": {"needs": -1}}}, "settings.weights.needs.value"),
        ({"settings": {"weights": {"charisma": 1}}}, "settings.weights.charisma.key"),
        ({"settings": {"weights": {"needs": 0, "language": 0}}}, "settings.weights"),
        (
            {"settings": {"min_overlap_minutes": 120, "target_overlap_minutes": 60}},
            "settings.target_overlap_minutes",
        ),
        ({"settings": {"default_capacity": 9, "max_capacity": 3}}, "settings.default_capacity"),
        ({"taxonomy": ["Not A Tag"]}, "taxonomy.0"),
        ({"taxonomy": ["python", "python"]}, "taxonomy"),
        ({"slug": "Has Spaces"}, "slug"),
    ]
    for i, (extra, field) in enumerate(cases):
        body = {"name": "P", "slug": f"p-{i}"} | extra
        assert_problem(
            client.post("/api/v1/programs", json=body, headers=admin["headers"]), 422, field
        )


def test_a_duplicate_slug_is_a_conflict(client, admin, program):
    r = client.post(
        "/api/v1/programs",
        json={"name": "Again", "slug": program["slug"]},
        headers=admin["headers"],
    )
    assert_problem(r, 409, "slug")


def test_a_coordinator_changes_settings_and_the_rest_is_kept(client, program, coordinator):
    r = client.patch(
        f"/api/v1/programs/{program['id']}",
        json={"settings": {"objective": "fair"}, "description": "Autumn"},
        headers=coordinator["headers"],
    )
    assert r.status_code == 200, r.json
    assert r.json["settings"]["objective"] == "fair"
    assert r.json["settings"]["max_capacity"] == 4
    assert r.json["description"] == "Autumn"


def test_a_settings_patch_is_checked_against_the_stored_settings(client, program, coordinator):
    r = client.patch(
        f"/api/v1/programs/{program['id']}",
        json={"settings": {"default_capacity": 5}},  # max_capacity is 4
        headers=coordinator["headers"],
    )
    assert_problem(r, 422, "settings.default_capacity")


def test_a_participant_cannot_change_the_program(client, program, join, mentee_profile):
    mentee = join(program, "mentee", mentee_profile)
    r = client.patch(
        f"/api/v1/programs/{program['id']}", json={"name": "Mine"}, headers=mentee["headers"]
    )
    assert_problem(r, 403)


def test_programs_one_has_no_part_in_are_not_found(client, program, new_user):
    outsider = new_user()
    assert_problem(
        client.get(f"/api/v1/programs/{program['id']}", headers=outsider["headers"]), 404
    )
    r = client.patch(
        f"/api/v1/programs/{program['id']}", json={"name": "x"}, headers=outsider["headers"]
    )
    assert_problem(r, 404)


def test_a_tag_in_use_cannot_be_removed_from_the_taxonomy(
    client, program, coordinator, join, mentee_profile
):
    join(program, "mentee", mentee_profile)  # needs public-speaking and leadership
    keep = [t for t in TAXONOMY if t != "public-speaking"]
    r = client.patch(
        f"/api/v1/programs/{program['id']}", json={"taxonomy": keep}, headers=coordinator["headers"]
    )
    body = assert_problem(r, 409, "taxonomy")
    assert "public-speaking" in body["detail"]
    unused = [t for t in TAXONOMY if t != "data-science"] + ["mentoring-101"]
    r = client.patch(
        f"/api/v1/programs/{program['id']}",
        json={"taxonomy": unused},
        headers=coordinator["headers"],
    )
    assert r.status_code == 200 and "mentoring-101" in r.json["taxonomy"]


def test_the_slug_cannot_be_changed(client, program, coordinator):
    r = client.patch(
        f"/api/v1/programs/{program['id']}", json={"slug": "new"}, headers=coordinator["headers"]
    )
    assert_problem(r, 422, "slug")


def test_everyone_lists_only_their_own_programs(
    client, admin, make_program, program, coordinator, join, mentee_profile
):
    other = make_program()
    mentee = join(other, "mentee", mentee_profile)
    all_ids = {p["id"] for p in client.get("/api/v1/programs", headers=admin["headers"]).json}
    assert {program["id"], other["id"]} <= all_ids
    coord = client.get("/api/v1/programs", headers=coordinator["headers"]).json
    assert [p["id"] for p in coord] == [program["id"]]
    mine = client.get("/api/v1/programs", headers=mentee["headers"]).json
    assert [p["id"] for p in mine] == [other["id"]]


def test_participants_do_not_see_the_join_code(client, program, join, coordinator):
    mentee = join(program, "mentee")
    assert (
        client.get(f"/api/v1/programs/{program['id']}", headers=mentee["headers"]).json["join_code"]
        is None
    )
    coord_view = client.get(f"/api/v1/programs/{program['id']}", headers=coordinator["headers"])
    assert coord_view.json["join_code"] == program["join_code"]
    assert coord_view.json["my_role"] == "coordinator"


def test_joining_with_a_wrong_code_or_twice_fails_clearly(client, program, new_user):
    user = new_user()
    r = client.post(
        "/api/v1/programs/join",
        json={"join_code": "NOPE-NOPE", "role": "mentee"},
        headers=user["headers"],
    )
    assert_problem(r, 422, "join_code")
    r = client.post(
        "/api/v1/programs/join",
        json={"join_code": program["join_code"], "role": "boss"},
        headers=user["headers"],
    )
    assert_problem(r, 422, "role")
    body = {"join_code": program["join_code"], "role": "mentee"}
    assert (
        client.post("/api/v1/programs/join", json=body, headers=user["headers"]).status_code == 201
    )
    assert_problem(client.post("/api/v1/programs/join", json=body, headers=user["headers"]), 409)


def test_admins_appoint_and_remove_coordinators(client, admin, program, new_user):
    user = new_user()
    r = client.post(
        f"/api/v1/programs/{program['id']}/coordinators",
        json={"email": user["email"]},
        headers=admin["headers"],
    )
    assert r.status_code == 201
    listed = client.get(f"/api/v1/programs/{program['id']}/coordinators", headers=user["headers"])
    assert [c["email"] for c in listed.json] == [user["email"]]
    # A coordinator cannot appoint others; only admins can.
    other = new_user()
    r = client.post(
        f"/api/v1/programs/{program['id']}/coordinators",
        json={"email": other["email"]},
        headers=user["headers"],
    )
    assert_problem(r, 403)
    r = client.delete(
        f"/api/v1/programs/{program['id']}/coordinators/{user['id']}", headers=admin["headers"]
    )
    assert r.status_code == 204
    assert_problem(client.get(f"/api/v1/programs/{program['id']}", headers=user["headers"]), 404)


def test_appointing_an_unknown_email_invites_them_to_set_a_password(
    client, admin, program, session
):
    from api.adapters.models import OutboxMessage

    r = client.post(
        f"/api/v1/programs/{program['id']}/coordinators",
        json={"email": "nobody@example.org"},
        headers=admin["headers"],
    )
    assert r.status_code == 201, r.json
    sent = session.scalars(
        select(OutboxMessage).where(OutboxMessage.account_id == r.json["account_id"])
    ).all()
    assert [(m.kind, m.payload["role"], m.status) for m in sent] == [
        ("invitation", "coordinator", "sent")
    ]
    # No usable password until they follow the link.
    r = client.post("/api/v1/tokens", json={"email": "nobody@example.org", "password": "x" * 12})
    assert_problem(r, 401)


def test_a_settings_patch_that_would_make_every_round_fail_is_refused(
    client, program, coordinator, join, mentee_profile, mentor_profile
):
    path = f"/api/v1/programs/{program['id']}"
    all_zero = {criterion: 0 for criterion in program["settings"]["weights"]}
    for weights in ({}, all_zero, {"needs": 0}):
        r = client.patch(
            path, json={"settings": {"weights": weights}}, headers=coordinator["headers"]
        )
        assert_problem(r, 422, "settings.weights")
    # Nothing changed: a round still runs with the weights the program had.
    assert client.get(path, headers=coordinator["headers"]).json["settings"] == program["settings"]
    join(program, "mentee", mentee_profile)
    join(program, "mentor", mentor_profile)
    r = client.post(f"{path}/rounds", json={}, headers=coordinator["headers"])
    assert r.status_code == 202 and r.json["status"] == "proposed", r.json
