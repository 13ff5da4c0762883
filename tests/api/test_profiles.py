"""Participant profiles: validation, ownership, consent, coordinator views."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import select

from api.adapters.db import utcnow
from api.adapters.hashing import token_hash
from api.adapters.models import ConsentRecord, Participant, Token
from tests.api.conftest import assert_problem


def profile_url(program):
    return f"/api/v1/programs/{program['id']}/profile"


def test_a_mentee_creates_reads_replaces_and_patches_their_profile(
    client, program, join, mentee_profile
):
    mentee = join(program, "mentee")
    url, headers = profile_url(program), mentee["headers"]
    assert client.get(url, headers=headers).json["profile_complete"] is False

    r = client.post(url, json=mentee_profile, headers=headers)
    assert r.status_code == 201
    assert r.json["profile_complete"] is True
    assert r.json["profile"]["needs"] == [
        {"tag": "leadership", "priority": 1},
        {"tag": "public-speaking", "priority": 3},
    ]
    assert r.json["profile"]["capacity"] is None
    assert_problem(client.post(url, json=mentee_profile, headers=headers), 409)

    replaced = dict(mentee_profile, languages=["es"], timezone="America/Bogota", org_unit=None)
    r = client.put(url, json=replaced, headers=headers)
    assert r.status_code == 200
    assert r.json["profile"]["languages"] == ["es"] and r.json["profile"]["org_unit"] is None

    r = client.patch(url, json={"bio": "Now leading a team."}, headers=headers)
    assert r.status_code == 200
    assert r.json["profile"]["bio"] == "Now leading a team."
    assert r.json["profile"]["timezone"] == "America/Bogota"  # untouched by the patch
    assert client.get(url, headers=headers).json == r.json


def test_a_mentor_gets_the_program_default_capacity(client, program, join, mentor_profile):
    mentor = join(program, "mentor")
    del mentor_profile["capacity"]
    r = client.post(profile_url(program), json=mentor_profile, headers=mentor["headers"])
    assert r.status_code == 201 and r.json["profile"]["capacity"] == 2


def test_language_codes_are_normalised_to_iso_639_1(client, program, join, mentee_profile):
    mentee = join(program, "mentee")
    mentee_profile["languages"] = ["ENG", "spa", "yo"]
    r = client.post(profile_url(program), json=mentee_profile, headers=mentee["headers"])
    assert r.json["profile"]["languages"] == ["en", "es", "yo"]


BAD_MENTEE_FIELDS = [
    ("needs", [{"tag": "knitting", "priority": 2}], "needs.0.tag"),
    ("needs", [{"tag": "python", "priority": 4}], "needs.0.priority"),
    ("needs", [{"tag": "python", "priority": 1}, {"tag": "python", "priority": 2}], "needs"),
    ("needs", [], "needs"),
    ("languages", ["english"], "languages.0"),
    ("languages", ["xq"], "languages"),
    ("languages", [], "languages"),
    ("timezone", "Mars/Olympus_Mons", "timezone"),
    ("timezone", "CET+1", "timezone"),
    ("availability", [{"day": "mon", "start": "19:00", "end": "18:00"}], "availability.0.end"),
    ("availability", [{"day": "mon", "start": "10:00", "end": "10:00"}], "availability.0.end"),
    ("availability", [{"day": "mon", "start": "25:00", "end": "26:00"}], "availability.0.start"),
    ("availability", [{"day": "mon", "start": "9:00", "end": "10:00"}], "availability.0.start"),
    ("availability", [{"day": "funday", "start": "09:00", "end": "10:00"}], "availability.0.day"),
    (
        "availability",
        [
            {"day": "wed", "start": "09:00", "end": "11:00"},
            {"day": "wed", "start": "10:30", "end": "12:00"},
        ],
        "availability",
    ),
    ("availability", [], "availability"),
    ("experience_level", 9, "experience_level"),
    ("capacity", 2, "capacity"),
    ("manager_email", "not-an-email", "manager_email"),
    ("cultural_preference", "same", "cultural_preference"),
    ("cultural_background", ["west-african"], "cultural_background"),
    ("wellbeing_needs", ["caregiver"], "wellbeing_needs"),
    ("favourite_colour", "teal", "favourite_colour"),
]


@pytest.mark.parametrize(("field", "value", "error_key"), BAD_MENTEE_FIELDS)
def test_each_invalid_profile_field_is_a_422_naming_it(
    client, program, join, mentee_profile, field, value, error_key
):
    mentee = join(program, "mentee")
    body = dict(mentee_profile, **{field: value})
    assert_problem(
        client.post(profile_url(program), json=body, headers=mentee["headers"]), 422, error_key
    )
    assert (
        client.get(profile_url(program), headers=mentee["headers"]).json["profile_complete"]
        is False
    )


def test_windows_on_different_days_or_back_to_back_are_fine(client, program, join, mentee_profile):
    mentee = join(program, "mentee")
    mentee_profile["availability"] = [
        {"day": "wed", "start": "09:00", "end": "10:00"},
        {"day": "wed", "start": "10:00", "end": "11:00"},
        {"day": "sun", "start": "22:00", "end": "24:00"},
    ]
    r = client.post(profile_url(program), json=mentee_profile, headers=mentee["headers"])
    assert r.status_code == 201, r.json


def test_a_mentor_capacity_above_the_program_maximum_is_rejected(
    client, program, join, mentor_profile
):
    mentor = join(program, "mentor")
    mentor_profile["capacity"] = 5  # program maximum is 4
    r = client.post(profile_url(program), json=mentor_profile, headers=mentor["headers"])
    assert "maximum 4" in assert_problem(r, 422, "capacity")["errors"]["capacity"][0]


def test_a_mentor_needs_a_strength(client, program, join, mentor_profile):
    mentor = join(program, "mentor")
    mentor_profile["strengths"] = []
    r = client.post(profile_url(program), json=mentor_profile, headers=mentor["headers"])
    assert_problem(r, 422, "strengths")


@pytest.mark.parametrize(
    "field", ["role", "status", "id", "account_id", "program_id", "owner", "updated_at"]
)
def test_fields_a_participant_may_not_write_are_rejected_and_nothing_changes(
    client, session, program, join, mentee_profile, field
):
    mentee = join(program, "mentee", mentee_profile)
    before = client.get(profile_url(program), headers=mentee["headers"]).json
    value = {"role": "mentor", "status": "active", "id": 999, "account_id": 1}.get(field, 1)
    for method in (client.patch, client.put):
        body = dict(mentee_profile, **{field: value}) if method is client.put else {field: value}
        r = method(profile_url(program), json=body, headers=mentee["headers"])
        assert_problem(r, 422, field)
    assert client.get(profile_url(program), headers=mentee["headers"]).json == before
    row = session.get(Participant, mentee["participant_id"])
    assert (row.role, row.status) == ("mentee", "active")


def test_special_category_data_is_stored_with_consent_and_erased_on_withdrawal(
    client, session, program, join, mentee_profile
):
    mentee = join(program, "mentee")
    url = profile_url(program)
    body = dict(
        mentee_profile,
        cultural_background=["west-african"],
        wellbeing_needs=["caregiver"],
        consent={"special_category": True, "text_version": "2026-01"},
    )
    r = client.post(url, json=body, headers=mentee["headers"])
    assert r.status_code == 201
    assert r.json["profile"]["cultural_background"] == ["west-african"]
    assert r.json["consent"]["text_version"] == "2026-01"
    record = session.scalar(
        select(ConsentRecord).where(ConsentRecord.participant_id == mentee["participant_id"])
    )
    assert record.purpose == "special_category" and record.granted_at is not None

    r = client.delete(f"{url}/consent", headers=mentee["headers"])
    assert r.status_code == 204
    after = client.get(url, headers=mentee["headers"]).json
    assert after["profile"]["cultural_background"] is None
    assert after["profile"]["wellbeing_needs"] is None
    assert after["consent"] is None
    session.expire_all()
    row = session.get(Participant, mentee["participant_id"])
    assert row.cultural_background is None and row.wellbeing_needs is None
    # Without consent, sensitive data is refused again.
    r = client.patch(url, json={"wellbeing_needs": ["caregiver"]}, headers=mentee["headers"])
    assert_problem(r, 422, "wellbeing_needs")
    assert_problem(client.delete(f"{url}/consent", headers=mentee["headers"]), 404)


def test_consent_can_be_given_first_and_withdrawn_through_the_profile(
    client, program, join, mentee_profile
):
    mentee = join(program, "mentee", mentee_profile)
    url = profile_url(program)
    r = client.post(f"{url}/consent", json={"text_version": "2026-01"}, headers=mentee["headers"])
    assert r.status_code == 201 and r.json["purpose"] == "special_category"
    r = client.patch(url, json={"cultural_background": ["nordic"]}, headers=mentee["headers"])
    assert r.status_code == 200 and r.json["profile"]["cultural_background"] == ["nordic"]
    r = client.patch(
        url,
        json={"consent": {"special_category": False, "text_version": "2026-01"}},
        headers=mentee["headers"],
    )
    assert r.status_code == 200 and r.json["profile"]["cultural_background"] is None
    r = client.patch(
        url,
        json={
            "cultural_background": ["nordic"],
            "consent": {"special_category": False, "text_version": "2026-01"},
        },
        headers=mentee["headers"],
    )
    assert_problem(r, 422, "cultural_background")


def test_patch_before_any_profile_is_a_conflict(client, program, join):
    mentee = join(program, "mentee")
    assert_problem(
        client.patch(profile_url(program), json={"bio": "x"}, headers=mentee["headers"]), 409
    )


def test_a_profile_in_a_program_one_has_not_joined_is_not_found(
    client, program, new_user, mentee_profile
):
    user = new_user()
    assert_problem(client.get(profile_url(program), headers=user["headers"]), 404)
    assert_problem(
        client.put(profile_url(program), json=mentee_profile, headers=user["headers"]), 404
    )


def test_a_participant_cannot_read_or_change_another_participants_profile(
    client, program, join, mentee_profile, mentor_profile
):
    mentee = join(program, "mentee", mentee_profile)
    mentor = join(program, "mentor", mentor_profile)
    other_url = f"/api/v1/programs/{program['id']}/participants/{mentor['participant_id']}"
    assert_problem(client.get(other_url, headers=mentee["headers"]), 403)
    assert_problem(
        client.patch(other_url, json={"status": "paused"}, headers=mentee["headers"]), 403
    )
    assert_problem(
        client.get(f"/api/v1/programs/{program['id']}/participants", headers=mentee["headers"]), 403
    )
    # Their own profile URL only ever addresses themselves.
    mine = client.get(profile_url(program), headers=mentee["headers"]).json
    assert mine["id"] == mentee["participant_id"]


def test_a_coordinator_sees_only_their_own_program(
    client, make_program, program, coordinator, join, mentee_profile
):
    other = make_program()
    stranger = join(other, "mentee", mentee_profile)
    base = f"/api/v1/programs/{other['id']}"
    assert_problem(client.get(f"{base}/participants", headers=coordinator["headers"]), 404)
    url = f"{base}/participants/{stranger['participant_id']}"
    assert_problem(client.get(url, headers=coordinator["headers"]), 404)
    # Nor a participant of another program through their own program's URL.
    url = f"/api/v1/programs/{program['id']}/participants/{stranger['participant_id']}"
    assert_problem(client.get(url, headers=coordinator["headers"]), 404)


def test_coordinators_filter_and_page_through_participants(
    client, program, coordinator, join, mentee_profile, mentor_profile
):
    mentees = [join(program, "mentee", mentee_profile) for _ in range(3)]
    mentor = join(program, "mentor", mentor_profile)
    both_profile = dict(mentor_profile, needs=[{"tag": "data-science", "priority": 2}])
    both = join(program, "both", both_profile)
    base = f"/api/v1/programs/{program['id']}/participants"
    h = coordinator["headers"]

    def ids(query):
        r = client.get(base, query_string=query, headers=h)
        assert r.status_code == 200, r.json
        return [p["id"] for p in r.json["items"]]

    assert ids({"role": "mentor"}) == [mentor["participant_id"], both["participant_id"]]
    assert ids({"role": "mentee"}) == [m["participant_id"] for m in mentees] + [
        both["participant_id"]
    ]
    assert ids({"tag": "data-science"}) == [both["participant_id"]]
    client.patch(f"{base}/{mentees[1]['participant_id']}", json={"status": "paused"}, headers=h)
    assert ids({"status": "paused"}) == [mentees[1]["participant_id"]]

    seen, cursor = [], None
    while True:
        query = {"limit": 2} | ({"cursor": cursor} if cursor else {})
        page = client.get(base, query_string=query, headers=h).json
        assert len(page["items"]) <= 2
        seen += [p["id"] for p in page["items"]]
        cursor = page["next_cursor"]
        if cursor is None:
            break
    assert seen == sorted(seen) and len(seen) == 5


def test_page_size_is_capped_and_cursors_are_checked(client, program, coordinator):
    base = f"/api/v1/programs/{program['id']}/participants"
    h = coordinator["headers"]
    assert_problem(client.get(base, query_string={"limit": 201}, headers=h), 422, "limit")
    assert_problem(client.get(base, query_string={"limit": 0}, headers=h), 422, "limit")
    assert_problem(client.get(base, query_string={"cursor": "garbage!"}, headers=h), 422, "cursor")
    assert_problem(client.get(base, query_string={"role": "boss"}, headers=h), 422, "role")


def test_coordinators_see_sensitive_fields_of_their_program(
    client, program, coordinator, join, mentee_profile
):
    body = dict(
        mentee_profile,
        wellbeing_needs=["caregiver"],
        consent={"special_category": True, "text_version": "v1"},
    )
    mentee = join(program, "mentee", body)
    url = f"/api/v1/programs/{program['id']}/participants/{mentee['participant_id']}"
    r = client.get(url, headers=coordinator["headers"])
    assert r.json["profile"]["wellbeing_needs"] == ["caregiver"]
    assert r.headers["Cache-Control"] == "no-store"


def test_a_coordinator_changes_role_and_status(client, program, coordinator, join, mentee_profile):
    mentee = join(program, "mentee", mentee_profile)
    url = f"/api/v1/programs/{program['id']}/participants/{mentee['participant_id']}"
    r = client.patch(url, json={"role": "both", "status": "paused"}, headers=coordinator["headers"])
    assert r.status_code == 200
    assert (r.json["role"], r.json["status"], r.json["profile"]["capacity"]) == (
        "both",
        "paused",
        2,
    )
    assert_problem(client.patch(url, json={}, headers=coordinator["headers"]), 422)
    assert_problem(
        client.patch(url, json={"status": "gone"}, headers=coordinator["headers"]), 422, "status"
    )


def test_the_owners_read_shows_what_the_coordinators_view_and_a_write_show(
    client, program, coordinator, join, mentee_profile
):
    # The owner's read is one statement of plain rows; the coordinators' view and the
    # answers of writes come from the ORM. Both must give the same person the same view.
    url = profile_url(program)
    rich = dict(
        mentee_profile,
        needs=[{"tag": t, "priority": p} for t, p in (("python", 2), ("leadership", 1))],
        strengths=[{"tag": "public-speaking", "level": 3}, {"tag": "data-science", "level": 1}],
        cultural_background=["brazilian"],
        consent={"special_category": True, "text_version": "2026-01"},
    )
    people = {
        "no profile": join(program, "mentee"),
        "plain": join(program, "mentee", mentee_profile),
        "rich": join(program, "both", dict(rich, capacity=2)),
        "consent withdrawn": join(program, "mentee", rich),
        "consent renewed": join(program, "mentee", rich),
    }
    h = people["consent withdrawn"]["headers"]
    assert client.delete(f"{url}/consent", headers=h).status_code == 204
    h = people["consent renewed"]["headers"]
    assert client.post(f"{url}/consent", json={"text_version": "2026-02"}, headers=h).status_code
    for label, person in people.items():
        own = client.get(url, headers=person["headers"])
        assert own.status_code == 200, (label, own.json)
        seen = client.get(
            f"/api/v1/programs/{program['id']}/participants/{person['participant_id']}",
            headers=coordinator["headers"],
        )
        assert own.json == seen.json, label
        if own.json["profile_complete"]:
            written = client.patch(url, json={}, headers=person["headers"])
            # A write moves updated_at on; everything else is the same view.
            assert {**written.json, "updated_at": None} == {**own.json, "updated_at": None}
    assert own.json["consent"]["text_version"] == "2026-02"  # the last one: renewed
    assert client.get(url, headers=people["consent withdrawn"]["headers"]).json["consent"] is None
    rich_view = client.get(url, headers=people["rich"]["headers"]).json["profile"]
    assert rich_view["needs"] == [
        {"tag": "leadership", "priority": 1},
        {"tag": "python", "priority": 2},
    ]
    assert [s["tag"] for s in rich_view["strengths"]] == ["data-science", "public-speaking"]


def test_the_owners_read_refuses_revoked_expired_and_unknown_tokens_and_strangers(
    client, program, make_program, join, mentee_profile, session
):
    url = profile_url(program)
    mentee = join(program, "mentee", mentee_profile)
    other = make_program(name="Another program")
    assert (
        "not joined"
        in assert_problem(client.get(profile_url(other), headers=mentee["headers"]), 404)["detail"]
    )
    assert_problem(client.get(url), 401)
    assert_problem(client.get(url, headers={"Authorization": "Bearer " + "A" * 43}), 401)
    secret = mentee["headers"]["Authorization"].removeprefix("Bearer ")
    token = session.scalars(select(Token).where(Token.token_hash == token_hash(secret))).one()
    token.expires_at = utcnow() - timedelta(seconds=1)
    session.commit()
    assert "expired" in assert_problem(client.get(url, headers=mentee["headers"]), 401)["detail"]
    token.expires_at = utcnow() + timedelta(hours=1)
    token.revoked_at = utcnow()
    session.commit()
    assert "revoked" in assert_problem(client.get(url, headers=mentee["headers"]), 401)["detail"]
