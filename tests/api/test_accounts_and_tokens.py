"""Registering, logging in and out, and who the caller is."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import select

from api.adapters.db import utcnow
from api.adapters.models import Account, Token
from tests.api.conftest import PASSWORD, assert_problem, auth


def test_registering_returns_the_account_without_its_password(client):
    r = client.post(
        "/api/v1/accounts",
        json={"email": "Ada@Example.org", "password": PASSWORD, "display_name": " Ada "},
    )
    assert r.status_code == 201
    assert r.json["email"] == "ada@example.org"
    assert r.json["display_name"] == "Ada"
    assert "password" not in r.json and "password_hash" not in r.json


def test_passwords_are_stored_as_argon2id_with_owasp_parameters(client, session):
    client.post(
        "/api/v1/accounts",
        json={"email": "hash@example.org", "password": PASSWORD, "display_name": "H"},
    )
    stored = session.scalar(
        select(Account.password_hash).where(Account.email == "hash@example.org")
    )
    assert stored.startswith("$argon2id$")
    params = dict(kv.split("=") for kv in stored.split("$")[3].split(","))
    assert int(params["m"]) >= 19 * 1024 and int(params["t"]) >= 2
    assert PASSWORD not in stored


def test_registering_an_email_twice_is_a_conflict(client, new_user):
    user = new_user()
    r = client.post(
        "/api/v1/accounts",
        json={"email": user["email"].upper(), "password": PASSWORD, "display_name": "Again"},
    )
    assert_problem(r, 409, "email")


def test_registration_rejects_bad_fields_by_name(client):
    cases = [
        ({"email": "not-an-email", "password": PASSWORD, "display_name": "X"}, "email"),
        ({"email": "a@example.org", "password": "short", "display_name": "X"}, "password"),
        ({"email": "a@example.org", "password": PASSWORD, "display_name": ""}, "display_name"),
        ({"email": "a@example.org", "password": PASSWORD}, "display_name"),
        (
            {"email": "a@example.org", "password": PASSWORD, "display_name": "X", "nick": "x"},
            "nick",
        ),
        (
            {"email": "a@example.org", "password": PASSWORD, "display_name": "X", "is_admin": True},
            "is_admin",
        ),
        (
            {"email": "a@example.org", "password": "a@example.org", "display_name": "X"},
            "password",
        ),
    ]
    for body, field in cases:
        assert_problem(client.post("/api/v1/accounts", json=body), 422, field)


def test_a_registered_user_is_never_an_admin(client, session):
    client.post(
        "/api/v1/accounts",
        json={"email": "plain@example.org", "password": PASSWORD, "display_name": "P"},
    )
    assert (
        session.scalar(select(Account.is_admin).where(Account.email == "plain@example.org"))
        is False
    )


def test_logging_in_gives_a_token_that_identifies_the_caller(client, new_user):
    user = new_user("Grace")
    r = client.get("/api/v1/me", headers=user["headers"])
    assert r.status_code == 200
    assert r.json["email"] == user["email"] and r.json["memberships"] == []
    assert r.headers["Cache-Control"] == "no-store"


def test_tokens_are_stored_only_as_hashes(client, new_user, session):
    r = client.post(
        "/api/v1/accounts",
        json={"email": "tok@example.org", "password": PASSWORD, "display_name": "T"},
    )
    r = client.post("/api/v1/tokens", json={"email": "tok@example.org", "password": PASSWORD})
    secret = r.json["token"]
    stored = session.scalars(select(Token.token_hash)).all()
    assert secret not in stored and all(len(h) == 64 for h in stored)


def test_a_wrong_password_or_unknown_email_is_401_with_the_same_message(client, new_user):
    user = new_user()
    wrong = client.post("/api/v1/tokens", json={"email": user["email"], "password": "nope-nope-1"})
    unknown = client.post(
        "/api/v1/tokens", json={"email": "ghost@example.org", "password": PASSWORD}
    )
    assert assert_problem(wrong, 401)["detail"] == assert_problem(unknown, 401)["detail"]
    assert wrong.headers["WWW-Authenticate"].startswith("Bearer")


def test_a_revoked_token_no_longer_works(client, new_user):
    user = new_user()
    assert client.delete("/api/v1/tokens/current", headers=user["headers"]).status_code == 204
    body = assert_problem(client.get("/api/v1/me", headers=user["headers"]), 401)
    assert "revoked" in body["detail"]


def test_an_expired_token_is_rejected(client, new_user, session):
    user = new_user()
    for token in session.scalars(select(Token)):
        token.expires_at = utcnow() - timedelta(seconds=1)
    session.commit()
    body = assert_problem(client.get("/api/v1/me", headers=user["headers"]), 401)
    assert "expired" in body["detail"]


def test_missing_malformed_and_unknown_tokens_are_401(client):
    assert_problem(client.get("/api/v1/me"), 401)
    assert_problem(client.get("/api/v1/me", headers={"Authorization": "Basic abc"}), 401)
    assert_problem(client.get("/api/v1/me", headers={"Authorization": "Bearer x"}), 401)
    assert_problem(client.get("/api/v1/me", headers=auth("A" * 43)), 401)


def test_me_lists_programs_the_caller_coordinates_and_joined(
    client, program, coordinator, join, mentee_profile
):
    mentee = join(program, "mentee", mentee_profile)
    me = client.get("/api/v1/me", headers=mentee["headers"]).json
    assert me["memberships"] == [
        {
            "program_id": program["id"],
            "program_name": program["name"],
            "participant_id": mentee["participant_id"],
            "role": "mentee",
            "status": "active",
        }
    ]
    coord = client.get("/api/v1/me", headers=coordinator["headers"]).json
    assert coord["memberships"][0]["role"] == "coordinator"
