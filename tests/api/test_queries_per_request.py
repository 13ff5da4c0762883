"""The hot read paths ask the database a fixed, small number of questions per request,
however much a person has (tags, consents, matches), and still answer what is current."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from datetime import timedelta

from sqlalchemy import event, select

from api.adapters.db import utcnow
from api.adapters.models import Match

# Transaction bookkeeping of the test fixtures (savepoints), not the request's own work.
_BOOKKEEPING = ("SAVEPOINT", "RELEASE", "ROLLBACK")


@contextmanager
def counting_queries(engine) -> Iterator[list[str]]:
    statements: list[str] = []

    def record(conn, cursor, statement, parameters, context, executemany):
        if not statement.lstrip().upper().startswith(_BOOKKEEPING):
            statements.append(statement)

    event.listen(engine, "before_cursor_execute", record)
    try:
        yield statements
    finally:
        event.remove(engine, "before_cursor_execute", record)


def _read(client, engine, url, headers):
    with counting_queries(engine) as statements:
        r = client.get(url, headers=headers)
    assert r.status_code == 200, r.json
    return r.json, len(statements)


def test_a_profile_read_takes_the_same_few_queries_however_many_tags_and_consents(
    client, engine, program, join, mentee_profile
):
    url = f"/api/v1/programs/{program['id']}/profile"
    few = dict(mentee_profile, needs=[{"tag": "leadership", "priority": 1}])
    small = join(program, "mentee", few)
    many = dict(
        mentee_profile,
        needs=[{"tag": t, "priority": 2} for t in ("career-growth", "leadership", "python")],
        strengths=[{"tag": "data-science", "level": 3}, {"tag": "public-speaking", "level": 1}],
        cultural_background=["brazilian"],
        consent={"special_category": True, "text_version": "2026-01"},
    )
    big = join(program, "both", dict(many, capacity=1))
    # A second consent record (a newer text) on top of the first.
    r = client.post(f"{url}/consent", json={"text_version": "2026-02"}, headers=big["headers"])
    assert r.status_code == 201, r.json

    small_view, small_queries = _read(client, engine, url, small["headers"])
    big_view, big_queries = _read(client, engine, url, big["headers"])

    assert len(small_view["profile"]["needs"]) == 1
    assert len(big_view["profile"]["needs"]) == 3 and len(big_view["profile"]["strengths"]) == 2
    assert big_view["consent"]["text_version"] == "2026-02"
    assert big_view["profile"]["cultural_background"] == ["brazilian"]
    assert small_queries == big_queries == 1


def test_listing_matches_takes_the_same_few_queries_however_many_matches(
    client, engine, program, coordinator, join, mentee_profile, mentor_profile
):
    mentor = join(program, "mentor", dict(mentor_profile, capacity=3))
    mentees = [join(program, "mentee", mentee_profile) for _ in range(3)]
    base, ch = f"/api/v1/programs/{program['id']}", coordinator["headers"]
    round_id = client.post(f"{base}/rounds", json={}, headers=ch).json["id"]
    r = client.post(f"{base}/rounds/{round_id}/publish", headers=ch)
    assert r.status_code == 200, r.json

    one, one_queries = _read(client, engine, "/api/v1/me/matches", mentees[0]["headers"])
    three, three_queries = _read(client, engine, "/api/v1/me/matches", mentor["headers"])

    assert [m["my_side"] for m in one] == ["mentee"]
    assert [m["my_side"] for m in three] == ["mentor"] * 3
    assert {m["partner"]["participant_id"] for m in three} == {m["participant_id"] for m in mentees}
    # Each side sees the other's tags, and why they were matched.
    assert one[0]["partner"]["strengths"] == sorted(
        mentor_profile["strengths"], key=lambda s: s["tag"]
    )
    assert {m["partner"]["participant_id"]: m["partner"]["needs"] for m in three} == {
        m["participant_id"]: sorted(mentee_profile["needs"], key=lambda n: n["tag"])
        for m in mentees
    }
    assert all(m["why"]["covered_needs"] == ["public-speaking"] for m in one + three)
    assert one_queries == three_queries <= 4


def test_listing_matches_shows_proposals_past_their_expiry_as_expired(client, world, session):
    people = world["people"]
    match = session.scalar(select(Match).where(Match.round_id == world["round_id"]))
    match.expires_at = utcnow() - timedelta(minutes=1)
    session.commit()

    for side in ("owner", "partner"):
        listed = client.get("/api/v1/me/matches", headers=people[side]["headers"]).json
        assert {m["id"]: m["status"] for m in listed}[match.id] == "expired"
        assert all(m["status"] == "proposed" for m in listed if m["id"] != match.id)
    session.refresh(match)
    assert (match.status, match.closed_by, match.close_reason) == ("expired", "system", "no answer")
