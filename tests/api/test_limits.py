"""Abuse limits: log-in and registration rate limits, body size, round size."""

from __future__ import annotations

import uuid

import pytest
from redis import Redis
from redis.exceptions import RedisError

from api.entrypoints.cli import create_app
from api.http.database import database
from tests.api.conftest import PASSWORD, assert_problem
from tests.conftest import TEST_DATABASE_URL


def limited_app(engine, session_factory, **config):
    app = create_app(
        {
            "TESTING": True,
            "DATABASE_URL": TEST_DATABASE_URL,
            "RATELIMIT_ENABLED": True,
            "RATELIMIT_STORAGE_URI": "memory://",
            "LOGIN_RATE_LIMIT": "4 per minute",
            "LOGIN_ACCOUNT_RATE_LIMIT": "3 per minute",
            "LOGIN_FAILURE_RATE_LIMIT": "3 per minute",
            "REGISTER_RATE_LIMIT": "2 per minute",
            "JOIN_RATE_LIMIT": "3 per minute",
            "JOIN_ACCOUNT_RATE_LIMIT": "2 per minute",
        }
        | config
    )
    db = database(app)
    db.dispose()
    db.engine, db.session_factory = engine, session_factory
    db.reader = session_factory.kw["bind"]
    return app


def test_logins_are_limited_per_account(engine, session_factory):
    client = limited_app(engine, session_factory).test_client()
    body = {"email": "victim@example.org", "password": "guess-guess-1"}
    statuses = [client.post("/api/v1/tokens", json=body).status_code for _ in range(4)]
    assert statuses == [401, 401, 401, 429]
    r = client.post("/api/v1/tokens", json=body)
    problem = assert_problem(r, 429)
    assert problem["type"].endswith("too-many-requests") and "Retry-After" in r.headers


def test_logins_are_limited_per_address(engine, session_factory):
    client = limited_app(engine, session_factory).test_client()
    statuses = [
        client.post(
            "/api/v1/tokens", json={"email": f"u{k}@example.org", "password": "guess-guess-1"}
        ).status_code
        for k in range(5)
    ]
    assert statuses == [401, 401, 401, 401, 429]


def test_registrations_are_limited_per_address(engine, session_factory):
    client = limited_app(engine, session_factory).test_client()

    def register(n):
        return client.post(
            "/api/v1/accounts",
            json={"email": f"r{n}@example.org", "password": PASSWORD, "display_name": "R"},
        )

    assert [register(n).status_code for n in range(2)] == [201, 201]
    assert_problem(register(3), 429)


def test_with_redis_the_counters_live_in_redis(engine, session_factory):
    url = "redis://127.0.0.1:6379/15"
    try:
        Redis.from_url(url, socket_connect_timeout=2).ping()
    except RedisError:
        pytest.skip("no Redis")
    email = f"{uuid.uuid4().hex[:10]}@example.org"
    # A fresh key prefix: counters of earlier runs in the same minute do not count.
    config = {
        "RATELIMIT_STORAGE_URI": url,
        "REDIS_URL": url,
        "RATELIMIT_KEY_PREFIX": f"test-{uuid.uuid4().hex[:8]}",
    }
    # Two app instances stand for two gunicorn workers: they share one budget.
    first = limited_app(engine, session_factory, **config).test_client()
    second = limited_app(engine, session_factory, **config).test_client()
    body = {"email": email, "password": "guess-guess-1"}
    statuses = [
        (first if k % 2 else second).post("/api/v1/tokens", json=body).status_code for k in range(4)
    ]
    assert statuses == [401, 401, 401, 429]
    assert any(email in key.decode() for key in Redis.from_url(url).keys("*"))


def test_a_round_larger_than_the_maximum_is_refused(
    client, app, program, coordinator, join, mentee_profile
):
    for _ in range(3):
        join(program, "mentee", mentee_profile)
    app.config["MAX_ROUND_SIZE"] = 2
    r = client.post(
        f"/api/v1/programs/{program['id']}/rounds", json={}, headers=coordinator["headers"]
    )
    body = assert_problem(r, 422)
    assert "3 mentees" in body["detail"] and "MAX_ROUND_SIZE" not in body["detail"]


def test_page_sizes_and_bodies_are_capped(client, program, coordinator):
    r = client.get(
        f"/api/v1/programs/{program['id']}/participants",
        query_string={"limit": 10_000},
        headers=coordinator["headers"],
    )
    assert_problem(r, 422, "limit")
    r = client.post("/api/v1/accounts", data=b"x" * (65 * 1024), content_type="application/json")
    assert_problem(r, 413)


def _guesses_through_one_proxy(client, forwarded_for: str, n: int) -> list[int]:
    # Every request arrives from the proxy's address; the proxy names the client.
    return [
        client.post(
            "/api/v1/tokens",
            json={"email": f"{forwarded_for}-{k}@example.org", "password": "guess-guess-1"},
            environ_base={"REMOTE_ADDR": "10.0.0.2"},
            headers={"X-Forwarded-For": forwarded_for},
        ).status_code
        for k in range(n)
    ]


def test_two_clients_behind_one_trusted_proxy_get_separate_login_budgets(engine, session_factory):
    client = limited_app(engine, session_factory, TRUSTED_PROXY_COUNT=1).test_client()
    assert _guesses_through_one_proxy(client, "203.0.113.7", 5) == [401, 401, 401, 401, 429]
    # The other client behind the same proxy still has its whole budget.
    assert _guesses_through_one_proxy(client, "203.0.113.8", 1) == [401]


def test_without_trusted_proxies_x_forwarded_for_is_ignored(engine, session_factory):
    # Nobody can buy a fresh budget by sending the header themselves.
    client = limited_app(engine, session_factory).test_client()
    assert _guesses_through_one_proxy(client, "203.0.113.7", 4) == [401] * 4
    assert _guesses_through_one_proxy(client, "203.0.113.8", 1) == [429]


def test_only_the_trusted_hops_count_a_client_cannot_forge_an_address(engine, session_factory):
    client = limited_app(engine, session_factory, TRUSTED_PROXY_COUNT=1).test_client()
    # The client prepends forged addresses; the proxy appends the real one.
    statuses = [
        client.post(
            "/api/v1/tokens",
            json={"email": f"forger-{k}@example.org", "password": "guess-guess-1"},
            environ_base={"REMOTE_ADDR": "10.0.0.2"},
            headers={"X-Forwarded-For": f"192.0.2.{k}, 203.0.113.9"},
        ).status_code
        for k in range(5)
    ]
    assert statuses == [401, 401, 401, 401, 429]


def test_join_code_guesses_are_limited_per_account_and_per_address(engine, session_factory):
    client = limited_app(engine, session_factory).test_client()

    def person(n):
        email = f"joiner{n}-{uuid.uuid4().hex[:6]}@example.org"
        body = {"email": email, "password": PASSWORD, "display_name": "J"}
        assert client.post("/api/v1/accounts", json=body).status_code == 201
        login = {"email": email, "password": PASSWORD}
        token = client.post("/api/v1/tokens", json=login).json["token"]
        return {"Authorization": f"Bearer {token}"}

    def guess(headers, code="GUESS-12345"):
        return client.post(
            "/api/v1/programs/join", json={"join_code": code, "role": "mentee"}, headers=headers
        )

    first, second = person(1), person(2)
    assert [guess(first).status_code for _ in range(2)] == [422, 422]
    assert_problem(guess(first), 429)  # the account's 2 a minute
    assert guess(second).status_code == 422  # another account, the address's third
    r = guess(second)
    assert_problem(r, 429)  # the address's 3 a minute
    assert "Retry-After" in r.headers


def test_admin_chosen_join_codes_must_be_hard_to_guess(client, program, admin):
    path = f"/api/v1/programs/{program['id']}"
    for weak in ("abc123", "AAAAAAAAAAAA", "2026-2026-2026", "1234567890"):
        assert_problem(
            client.patch(path, json={"join_code": weak}, headers=admin["headers"]), 422, "join_code"
        )
        body = {"name": "X", "slug": f"x-{uuid.uuid4().hex[:6]}", "join_code": weak}
        assert_problem(
            client.post("/api/v1/programs", json=body, headers=admin["headers"]), 422, "join_code"
        )
    r = client.patch(path, json={"join_code": "SPRING-COHORT-26"}, headers=admin["headers"])
    assert r.status_code == 200 and r.json["join_code"] == "SPRING-COHORT-26"
