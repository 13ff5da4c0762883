"""Guarantees people rely on, each pinned by a test that fails when the line giving it is
broken (checked by breaking it once): publishing only what is proposed, consent
withdrawal erasing everything it covers, proposals holding mentor slots, token
lifetimes, the per-account log-in limit, and Idempotency-Keys per account."""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import func, select

from api.adapters.db import utcnow
from api.adapters.models import Match, Participant, Token
from tests.api.conftest import PASSWORD, assert_problem
from tests.api.test_limits import limited_app


def _rounds(program):
    return f"/api/v1/programs/{program['id']}/rounds"


def _start(client, program, headers) -> dict:
    r = client.post(_rounds(program), json={}, headers=headers)
    assert r.status_code == 202, r.json
    assert r.json["status"] == "proposed"  # inline
    return dict(r.json)


def _pairs(client, program, round_id, headers) -> list[tuple[int, int]]:
    r = client.get(f"{_rounds(program)}/{round_id}/pairs", headers=headers)
    assert r.status_code == 200, r.json
    return [(p["mentee"]["participant_id"], p["mentor"]["participant_id"]) for p in r.json["items"]]


def _matches(session, **where) -> int:
    session.expire_all()
    query = select(func.count()).select_from(Match)
    for column, value in where.items():
        query = query.where(getattr(Match, column) == value)
    return session.scalar(query) or 0


def test_a_discarded_round_is_not_published_even_when_none_of_its_pairs_went_stale(
    client, session, program, coordinator, join, mentee_profile, mentor_profile
):
    mentee = join(program, "mentee", mentee_profile)
    mentor = join(program, "mentor", mentor_profile)
    headers = coordinator["headers"]
    round_ = _start(client, program, headers)
    assert _pairs(client, program, round_["id"], headers) == [
        (mentee["participant_id"], mentor["participant_id"])
    ]
    url = f"{_rounds(program)}/{round_['id']}"
    assert client.post(f"{url}/discard", headers=headers).json["status"] == "discarded"

    body = assert_problem(client.post(f"{url}/publish", headers=headers), 409)
    assert "discarded" in body["detail"]
    assert client.get(url, headers=headers).json["status"] == "discarded"
    assert _matches(session, round_id=round_["id"]) == 0
    assert client.get("/api/v1/me/matches", headers=mentee["headers"]).json == []


def test_withdrawing_consent_through_the_profile_erases_every_special_category_field(
    client, session, program, join, mentee_profile
):
    mentee = join(program, "mentee", mentee_profile)
    url = f"/api/v1/programs/{program['id']}/profile"
    r = client.patch(
        url,
        json={
            "cultural_background": ["nordic"],
            "wellbeing_needs": ["caregiver"],
            "consent": {"special_category": True, "text_version": "2026-01"},
        },
        headers=mentee["headers"],
    )
    assert r.status_code == 200, r.json
    assert r.json["profile"]["cultural_background"] == ["nordic"]
    assert r.json["profile"]["wellbeing_needs"] == ["caregiver"]

    r = client.patch(
        url,
        json={"consent": {"special_category": False, "text_version": "2026-01"}},
        headers=mentee["headers"],
    )
    assert r.status_code == 200, r.json
    for answer in (r.json, client.get(url, headers=mentee["headers"]).json):
        assert answer["profile"]["cultural_background"] is None
        assert answer["profile"]["wellbeing_needs"] is None
        assert answer["consent"] is None
    session.expire_all()
    row = session.get(Participant, mentee["participant_id"])
    assert row.cultural_background is None and row.wellbeing_needs is None


def test_a_proposal_not_yet_accepted_holds_its_mentors_slot_in_the_next_round_and_at_publish(
    client, session, program, coordinator, join, mentee_profile, mentor_profile
):
    headers = coordinator["headers"]
    mentor = join(program, "mentor", dict(mentor_profile, capacity=1))
    first = join(program, "mentee", mentee_profile)
    second = join(program, "mentee", mentee_profile)
    m, a, b = mentor["participant_id"], first["participant_id"], second["participant_id"]
    constraints = f"/api/v1/programs/{program['id']}/constraints"

    def forbid(mentee_id):
        r = client.post(
            constraints,
            json={"kind": "forbid", "mentee_id": mentee_id, "mentor_id": m},
            headers=headers,
        )
        assert r.status_code == 201, r.json
        return r.json["id"]

    # Two proposed rounds, each giving the mentor's one slot to a different mentee.
    no_b = forbid(b)
    round_a = _start(client, program, headers)
    assert _pairs(client, program, round_a["id"], headers) == [(a, m)]
    client.delete(f"{constraints}/{no_b}", headers=headers)
    no_a = forbid(a)
    round_b = _start(client, program, headers)
    assert _pairs(client, program, round_b["id"], headers) == [(b, m)]
    client.delete(f"{constraints}/{no_a}", headers=headers)

    r = client.post(f"{_rounds(program)}/{round_a['id']}/publish", headers=headers)
    assert r.status_code == 200 and r.json["matches_created"] == 1
    # The proposal to `first` is not accepted yet, and it still takes the only slot:
    # the other round's pair is stale at publish ...
    body = assert_problem(
        client.post(f"{_rounds(program)}/{round_b['id']}/publish", headers=headers), 409
    )
    assert body["stale_pairs"] == [{"mentee_id": b, "mentor_id": m, "reasons": ["mentor_full"]}]
    assert _matches(session, mentor_id=m) == 1
    # ... and a new round has no slot of that mentor to give.
    round_c = _start(client, program, headers)
    assert _pairs(client, program, round_c["id"], headers) == []
    unmatched = client.get(f"{_rounds(program)}/{round_c['id']}/unmatched", headers=headers)
    assert [u["mentee"]["participant_id"] for u in unmatched.json] == [b]


def test_a_token_expires_after_token_ttl_hours_not_later(app, client, session, new_user):
    app.config["TOKEN_TTL_HOURS"] = 2
    user = new_user()
    before = utcnow()
    r = client.post("/api/v1/tokens", json={"email": user["email"], "password": PASSWORD})
    assert r.status_code == 201
    expires = datetime.fromisoformat(r.json["expires_at"])
    assert before + timedelta(hours=2) - timedelta(minutes=1) <= expires
    assert expires <= utcnow() + timedelta(hours=2)
    session.expire_all()
    stored = max(session.scalars(select(Token.expires_at)).all())
    assert abs((stored - expires).total_seconds()) < 1


def test_the_per_account_login_limit_holds_when_guesses_come_from_many_addresses(
    engine, session_factory
):
    # LOGIN_ACCOUNT_RATE_LIMIT: 3 failures a minute per account, from any addresses.
    client = limited_app(engine, session_factory).test_client()
    body = {"email": "victim@example.org", "password": "guess-guess-1"}

    def guess(n: int, payload: dict[str, str] = body) -> int:
        address = {"REMOTE_ADDR": f"198.51.100.{n}"}
        return client.post("/api/v1/tokens", json=payload, environ_base=address).status_code

    assert [guess(n) for n in (1, 2, 3)] == [401, 401, 401]
    # The account is at its ceiling: every address that has failed on it is held back ...
    assert [guess(n) for n in (1, 2, 3)] == [429, 429, 429]
    # ... while an address that has not failed is still heard (a correct password from it
    # is never refused: nobody can lock the person out).
    assert guess(4) == 401
    assert guess(4) == 429
    # Another account from one of those addresses is not held back by the victim's count.
    other = {"email": "someone-else@example.org", "password": "guess-guess-1"}
    assert guess(1, other) == 401


def test_an_idempotency_key_belongs_to_the_account_that_sent_it(
    client, session, admin, program, coordinator, new_user, join, mentee_profile, mentor_profile
):
    join(program, "mentee", mentee_profile)
    join(program, "mentor", mentor_profile)
    other = new_user("Second coordinator")
    r = client.post(
        f"/api/v1/programs/{program['id']}/coordinators",
        json={"email": other["email"]},
        headers=admin["headers"],
    )
    assert r.status_code == 201
    round_ = _start(client, program, coordinator["headers"])
    url = f"{_rounds(program)}/{round_['id']}/publish"
    key = {"Idempotency-Key": "publish-it"}
    first = client.post(url, headers=coordinator["headers"] | key)
    assert first.status_code == 200 and first.json["matches_created"] == 1
    # The same key and request from the first coordinator is a replay ...
    assert client.post(url, headers=coordinator["headers"] | key).json == first.json
    # ... from another coordinator it is a request of its own: the round is published.
    body = assert_problem(client.post(url, headers=other["headers"] | key), 409)
    assert "published" in body["detail"]
    assert _matches(session, round_id=round_["id"]) == 1
