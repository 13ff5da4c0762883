"""Fixtures for HTTP contract tests: people with tokens, a program, valid profiles."""

from __future__ import annotations

import itertools
from collections.abc import Callable
from copy import deepcopy
from typing import Any

import pytest
from flask.testing import FlaskClient
from sqlalchemy.orm import Session, sessionmaker

PASSWORD = "correct-horse-battery"
_counter = itertools.count(1)

TAXONOMY = ["career-growth", "leadership", "public-speaking", "python", "data-science"]

MENTEE_PROFILE: dict[str, Any] = {
    "bio": "Backend developer, two years in.",
    "needs": [{"tag": "public-speaking", "priority": 3}, {"tag": "leadership", "priority": 1}],
    "languages": ["en", "de"],
    "timezone": "Europe/Berlin",
    "availability": [
        {"day": "tue", "start": "18:00", "end": "19:30"},
        {"day": "thu", "start": "12:00", "end": "13:00"},
    ],
    "experience_level": 2,
    "org_unit": "Platform",
    "cultural_preference": "open",
}

MENTOR_PROFILE: dict[str, Any] = {
    "bio": "Engineering manager who loves teaching.",
    "strengths": [{"tag": "public-speaking", "level": 3}, {"tag": "python", "level": 2}],
    "languages": ["en"],
    "timezone": "America/New_York",
    "availability": [{"day": "tue", "start": "12:00", "end": "14:00"}],
    "experience_level": 4,
    "capacity": 3,
}


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    # The contract test checks every answer the other tests saw: it runs last.
    last = [i for i in items if "test_every_status_an_operation_answers" in i.nodeid]
    items[:] = [i for i in items if i not in last] + last


@pytest.fixture
def mentee_profile() -> dict[str, Any]:
    return deepcopy(MENTEE_PROFILE)


@pytest.fixture
def mentor_profile() -> dict[str, Any]:
    return deepcopy(MENTOR_PROFILE)


def auth(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


@pytest.fixture
def new_user(client: FlaskClient) -> Callable[..., dict[str, Any]]:
    """Register and log in a fresh account; returns its id, email and auth headers."""

    def make(name: str = "Person") -> dict[str, Any]:
        email = f"user{next(_counter)}@example.org"
        r = client.post(
            "/api/v1/accounts",
            json={"email": email, "password": PASSWORD, "display_name": name},
        )
        assert r.status_code == 201, r.json
        account_id = r.json["id"]
        r = client.post("/api/v1/tokens", json={"email": email, "password": PASSWORD})
        assert r.status_code == 201, r.json
        return {"id": account_id, "email": email, "headers": auth(r.json["token"])}

    return make


@pytest.fixture
def admin(client: FlaskClient, session_factory: sessionmaker[Session]) -> dict[str, Any]:
    from api.services import accounts

    with session_factory() as s:
        account = accounts.create_admin(
            s, email="admin@example.org", password=PASSWORD, display_name="Admin"
        )
        account_id = account.id
    r = client.post("/api/v1/tokens", json={"email": "admin@example.org", "password": PASSWORD})
    assert r.status_code == 201
    return {"id": account_id, "email": "admin@example.org", "headers": auth(r.json["token"])}


@pytest.fixture
def make_program(client: FlaskClient, admin: dict[str, Any]) -> Callable[..., dict[str, Any]]:
    def make(**overrides: Any) -> dict[str, Any]:
        n = next(_counter)
        body = {
            "name": f"Program {n}",
            "slug": f"program-{n}",
            "taxonomy": TAXONOMY,
            "settings": {"max_capacity": 4, "default_capacity": 2},
        }
        body.update(overrides)
        r = client.post("/api/v1/programs", json=body, headers=admin["headers"])
        assert r.status_code == 201, r.json
        return dict(r.json)

    return make


@pytest.fixture
def program(make_program: Callable[..., dict[str, Any]]) -> dict[str, Any]:
    return make_program()


@pytest.fixture
def coordinator(
    client: FlaskClient,
    admin: dict[str, Any],
    program: dict[str, Any],
    new_user: Callable[..., dict[str, Any]],
) -> dict[str, Any]:
    user = new_user("Coordinator")
    r = client.post(
        f"/api/v1/programs/{program['id']}/coordinators",
        json={"email": user["email"]},
        headers=admin["headers"],
    )
    assert r.status_code == 201, r.json
    return user


@pytest.fixture
def join(client: FlaskClient, new_user: Callable[..., dict[str, Any]]) -> Callable[..., Any]:
    """Make a user who joined `program` with `role` (and, optionally, a profile)."""

    def make(
        program: dict[str, Any], role: str, profile: dict[str, Any] | None = None
    ) -> dict[str, Any]:
        user = new_user(role.title())
        r = client.post(
            "/api/v1/programs/join",
            json={"join_code": program["join_code"], "role": role},
            headers=user["headers"],
        )
        assert r.status_code == 201, r.json
        user["participant_id"] = r.json["id"]
        if profile is not None:
            r = client.post(
                f"/api/v1/programs/{program['id']}/profile", json=profile, headers=user["headers"]
            )
            assert r.status_code == 201, r.json
        return user

    return make


@pytest.fixture
def world(
    client,
    admin,
    make_program,
    join,
    new_user,
    mentee_profile,
    mentor_profile,
):
    """Program P with a coordinator, a mentee and her mentor partner (a published match),
    another participant; program Q with its own coordinator and participant."""
    p = make_program()
    q = make_program()
    people = {}
    for name, program in (("coordinator", p), ("coordinator_elsewhere", q)):
        user = new_user(name)
        r = client.post(
            f"/api/v1/programs/{program['id']}/coordinators",
            json={"email": user["email"]},
            headers=admin["headers"],
        )
        assert r.status_code == 201
        people[name] = user
    people["owner"] = join(p, "mentee", mentee_profile)
    people["partner"] = join(p, "mentor", mentor_profile)
    people["other_participant"] = join(p, "mentee", mentee_profile)
    people["participant_elsewhere"] = join(q, "mentee", mentee_profile)
    people["admin"] = admin
    ch = people["coordinator"]["headers"]
    owner_id, partner_id = people["owner"]["participant_id"], people["partner"]["participant_id"]
    r = client.post(
        f"/api/v1/programs/{p['id']}/constraints",
        json={"kind": "pin", "mentee_id": owner_id, "mentor_id": partner_id},
        headers=ch,
    )
    assert r.status_code == 201, r.json
    round_id = client.post(f"/api/v1/programs/{p['id']}/rounds", json={}, headers=ch).json["id"]
    r = client.post(f"/api/v1/programs/{p['id']}/rounds/{round_id}/publish", headers=ch)
    assert r.status_code == 200, r.json
    # The owner raised a concern about the proposal (for the routes that take a concern).
    [match] = client.get("/api/v1/me/matches", headers=people["owner"]["headers"]).json
    r = client.post(
        f"/api/v1/matches/{match['id']}/concerns",
        json={"category": "other"},
        headers=people["owner"]["headers"],
    )
    assert r.status_code == 201, r.json
    return {"program": p, "round_id": round_id, "people": people, "concern_id": r.json["id"]}


def assert_problem(response: Any, status: int, field: str | None = None) -> dict[str, Any]:
    """The response is an RFC 9457 problem with `status`, naming `field` when given."""
    assert response.status_code == status, response.get_data(as_text=True)
    assert response.mimetype == "application/problem+json"
    body = response.get_json()
    assert body["status"] == status
    assert body["title"] and body["detail"] and body["type"]
    assert "Traceback" not in response.get_data(as_text=True)
    if field is not None:
        assert field in body.get("errors", {}), body
    return dict(body)
