"""No writable schema accepts an attribute its caller may not write."""

from __future__ import annotations

from api.adapters.db import Base
from tests.api.conftest import MENTEE_PROFILE, PASSWORD
from tests.api.test_privacy import _dump

# Every column of every model: the attributes a request could try to smuggle in.
ATTRIBUTES = sorted(
    {c.name for table in Base.metadata.sorted_tables for c in table.columns}
    | {"owner", "is_admin", "password_hash", "token_hash", "score", "breakdown"}
)


def endpoints(world):
    p, people = world["program"], world["people"]
    program = "/api/v1/programs/{program_id}"
    return [
        # (method, path, who, valid body)
        (
            "POST",
            "/api/v1/accounts",
            None,
            {"email": "new@example.org", "password": PASSWORD, "display_name": "New"},
        ),
        ("POST", "/api/v1/tokens", None, {"email": people["owner"]["email"], "password": PASSWORD}),
        ("POST", "/api/v1/programs", "admin", {"name": "X", "slug": "x-prog"}),
        ("PATCH", program, "coordinator", {"name": "Renamed"}),
        (
            "POST",
            "/api/v1/programs/join",
            "participant_elsewhere",
            {"join_code": p["join_code"], "role": "mentee"},
        ),
        (
            "POST",
            program + "/coordinators",
            "admin",
            {"email": people["owner"]["email"]},
        ),
        ("PUT", program + "/profile", "owner", dict(MENTEE_PROFILE)),
        ("PATCH", program + "/profile", "owner", {"bio": "hi"}),
        ("POST", program + "/profile/consent", "owner", {"text_version": "v2"}),
        (
            "PATCH",
            program + "/participants/{participant_id}",
            "coordinator",
            {"status": "paused"},
        ),
        ("POST", program + "/rounds", "coordinator", {"objective": "fair"}),
        (
            "POST",
            program + "/constraints",
            "coordinator",
            {
                "kind": "forbid",
                "mentee_id": people["other_participant"]["participant_id"],
                "mentor_id": people["partner"]["participant_id"],
            },
        ),
        ("POST", "/api/v1/matches/{match_id}/decline", "owner", {"reason": "no"}),
        ("POST", "/api/v1/matches/{match_id}/end", "owner", {"reason": "done"}),
        ("POST", "/api/v1/matches/{match_id}/check-ins", "owner", {"rating": 4}),
        ("DELETE", "/api/v1/me", "other_participant", {"password": PASSWORD}),
    ]


def test_every_attribute_a_caller_may_not_write_is_rejected(client, world, session, connection):
    from sqlalchemy import select

    from api.adapters.models import Match

    match_id = session.scalar(select(Match.id).where(Match.round_id == world["round_id"]))
    spec = client.get("/api/openapi.json").json

    def writable(method: str, template: str) -> set[str]:
        """The body properties the OpenAPI document declares for this operation."""
        op = spec["paths"][template][method.lower()]
        ref = op["requestBody"]["content"]["application/json"]["schema"]["$ref"]
        return set(spec["components"]["schemas"][ref.rsplit("/", 1)[1]]["properties"])

    values = {
        "program_id": world["program"]["id"],
        "match_id": match_id,
        "participant_id": world["people"]["owner"]["participant_id"],
    }
    tried = 0
    problems = []
    for method, template, who, body in endpoints(world):
        path = template.format(**values)
        headers = world["people"][who]["headers"] if who else {}
        # The valid body alone is not a validation failure (so the test can fail).
        savepoint = connection.begin_nested()
        base = client.open(path, method=method, json=body, headers=headers)
        savepoint.rollback()
        assert base.status_code != 422 and base.status_code < 500, (method, path, base.json)
        before = _dump(session)
        allowed = writable(method, template)
        for attribute in ATTRIBUTES:
            if attribute in allowed:
                continue
            savepoint = connection.begin_nested()
            r = client.open(path, method=method, json=body | {attribute: 1}, headers=headers)
            savepoint.rollback()
            tried += 1
            errors = (r.get_json(silent=True) or {}).get("errors", {})
            if r.status_code != 422 or attribute not in errors:
                problems.append(f"{method} {path} accepted {attribute!r} ({r.status_code})")
        session.expire_all()
        assert _dump(session) == before, f"{method} {path} changed the database"
    print(
        f"\nmass assignment: {tried} attributes tried on {len(endpoints(world))} "
        f"writable endpoints, {len(problems)} accepted"
    )
    assert not problems, "\n".join(problems)
