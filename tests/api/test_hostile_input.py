"""No input reaches a 500: every hostile body to every writable route of the URL map.

The routes and their callers come from the app itself (the URL map, each view's policy
and body schema), so a new route is covered without editing this file.
"""

from __future__ import annotations

import logging
from typing import Any

import pytest

from tests.api.conftest import assert_problem
from tests.api.hostile import RAW_BODIES, field_cases

WRITE_METHODS = ("POST", "PUT", "PATCH", "DELETE")


def _operations(app: Any) -> list[tuple[str, str, Any]]:
    """(method, rule, handler) of every writable operation under /api; bodiless last
    (one of them revokes the caller's own token)."""
    found = []
    for rule in app.url_map.iter_rules():
        if not rule.rule.startswith("/api/"):
            continue
        view_class = getattr(app.view_functions[rule.endpoint], "view_class", None)
        for method in WRITE_METHODS:
            handler = getattr(view_class, method.lower(), None)
            if method in rule.methods and handler is not None:
                found.append((method, rule.rule, handler))
    return sorted(found, key=lambda op: (_body_schema(op[2]) is None, op[1], op[0]))


def _body_schema(handler: Any) -> Any:
    for p in handler._apidoc.get("arguments", {}).get("parameters", []):
        if p.get("in", "json") in ("json", "files"):
            return p["schema"]
    return None


def _takes_json(handler: Any) -> bool:
    return any(
        p.get("in", "json") == "json"
        for p in handler._apidoc.get("arguments", {}).get("parameters", [])
    )


@pytest.fixture
def targets(client, world):
    people = world["people"]
    program_id = world["program"]["id"]
    match_id = client.get("/api/v1/me/matches", headers=people["owner"]["headers"]).json[0]["id"]
    constraints = client.get(
        f"/api/v1/programs/{program_id}/constraints", headers=people["coordinator"]["headers"]
    ).json
    params = {
        "program_id": program_id,
        "match_id": match_id,
        "round_id": world["round_id"],
        "participant_id": people["owner"]["participant_id"],
        "account_id": people["coordinator"]["id"],
        "constraint_id": constraints[0]["id"],
        "concern_id": world["concern_id"],
    }
    callers = {
        "anonymous": {},
        "authenticated": people["other_participant"]["headers"],
        "owner": people["owner"]["headers"],
        "partner": people["owner"]["headers"],
        "member": people["owner"]["headers"],
        "coordinator": people["coordinator"]["headers"],
        "admin": people["admin"]["headers"],
    }
    return params, callers


def _unnumbered(key: str) -> str:
    """`invitations.0.email` -> `invitations.email` (list positions left out)."""
    return ".".join(part for part in key.split(".") if not part.isdigit())


def _path(rule: str, params: dict[str, Any]) -> str:
    import re

    return re.sub(r"<(?:[^:<>]+:)?([^<>]+)>", lambda m: str(params[m.group(1)]), rule)


def test_no_hostile_body_gets_a_500_or_a_traceback(app, client, targets, caplog):
    params, callers = targets
    sent = 0
    seen: dict[int, int] = {}
    with caplog.at_level(logging.DEBUG):
        for method, rule, handler in _operations(app):
            path, headers = _path(rule, params), callers[handler._policy]
            schema = _body_schema(handler)
            label = f"{method} {rule}"
            for name, raw, content_type in RAW_BODIES:
                r = client.open(
                    path,
                    method=method,
                    data=raw,
                    headers=headers | ({"Content-Type": content_type} if content_type else {}),
                )
                sent += 1
                seen[r.status_code] = seen.get(r.status_code, 0) + 1
                assert r.status_code < 500, (label, name, r.get_data(as_text=True))
                if schema is None:
                    continue  # the operation reads no body: what was sent is ignored
                if not _takes_json(handler):
                    if raw:  # a file upload: nothing but a form is read
                        assert_problem(r, 415)
                elif name.startswith("nested") or name in ("NaN", "a 5,000-digit integer"):
                    assert_problem(r, 400)
                elif name in ("text/plain", "no content type"):
                    problem = assert_problem(r, 415)
                    assert (
                        "application/json" in problem["detail"]
                        or "multipart" in (problem["detail"])
                    )
            if schema is not None and _takes_json(handler):
                # A required body that is missing: 422 naming the fields it needs.
                r = client.open(path, method=method, headers=headers)
                sent += 1
                if any(f.required for f in schema.fields.values() if not f.dump_only):
                    assert_problem(r, 422)
                assert r.status_code < 500, (label, "no body", r.get_data(as_text=True))
                for case, field, raw in field_cases(schema):
                    r = client.open(
                        path,
                        method=method,
                        data=raw,
                        headers=headers | {"Content-Type": "application/json"},
                    )
                    sent += 1
                    problem = assert_problem(r, 422)
                    named = [
                        k
                        for k in problem.get("errors", {})
                        if _unnumbered(k) == field or _unnumbered(k).startswith(field + ".")
                    ]
                    assert named, (label, case, field, problem)
    logged = [r for r in caplog.records if r.exc_info or "Traceback" in r.getMessage()]
    assert not logged, [r.getMessage() for r in logged]
    assert not [r for r in caplog.records if r.name == "peermatch.errors"]
    print(f"\nhostile bodies: {sent} requests, statuses {dict(sorted(seen.items()))}")
    assert sent > 300


def test_a_login_nested_1000_deep_is_a_400_and_still_counts_against_the_limit(
    engine, session_factory
):
    from tests.api.test_limits import limited_app

    client = limited_app(engine, session_factory).test_client()
    statuses = [
        client.post(
            "/api/v1/tokens", data=b'{"email": ' + b"[" * 1000, content_type="application/json"
        ).status_code
        for _ in range(5)
    ]
    # Counted before the body is refused (limited_app: 4 a minute per address): the
    # limiter's key functions no longer raise on such a body.
    assert statuses == [400, 400, 400, 400, 429]


def test_forged_cursors_and_huge_ids_are_refused_without_reaching_the_database(client, world):
    import base64

    people = world["people"]
    program_id = world["program"]["id"]
    coordinator = people["coordinator"]["headers"]
    for letter, path in (("p", "participants"), ("m", "matches")):
        for number in (2**31, 10**11, -1):
            forged = base64.urlsafe_b64encode(f"{letter}{number}".encode()).decode().rstrip("=")
            r = client.get(
                f"/api/v1/programs/{program_id}/{path}",
                query_string={"cursor": forged},
                headers=coordinator,
            )
            assert_problem(r, 422, "cursor")
    r = client.get(f"/api/v1/programs/{'9' * 5000}", headers=coordinator)
    assert_problem(r, 404)
    r = client.get(
        f"/api/v1/programs/{program_id}/participants",
        query_string={"tag": "python\x00"},
        headers=coordinator,
    )
    assert_problem(r, 422, "tag")


def test_a_text_plain_decline_is_refused_and_keeps_the_proposal(client, world):
    owner = world["people"]["owner"]["headers"]
    match = client.get("/api/v1/me/matches", headers=owner).json[0]
    r = client.post(
        f"/api/v1/matches/{match['id']}/decline",
        data="reason=not for me",
        headers=owner | {"Content-Type": "text/plain"},
    )
    assert_problem(r, 415)
    assert client.get("/api/v1/me/matches", headers=owner).json[0]["status"] == match["status"]
