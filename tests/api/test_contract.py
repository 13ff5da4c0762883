"""The OpenAPI document is a contract a generated client can trust.

Every status an operation answers is in its document (driven by the authorization matrix
and by bad input to every route that takes a body), PATCH bodies carry no defaults,
nullable objects are nullable references, CSV answers are text/csv and 204 answers have
neither body nor content type.
"""

from __future__ import annotations

import json
from typing import Any

from api.http.openapi import openapi_path
from tests.api.test_authorization import matrix_cells, routes
from tests.conftest import ANSWERS

BAD_BODIES: list[tuple[str, dict[str, Any]]] = [
    ("not JSON", {"data": "{not json", "content_type": "application/json"}),
    ("too large", {"data": b'{"a": "' + b"x" * 70_000 + b'"}', "content_type": "application/json"}),
    ("plain text", {"data": "reason=because", "content_type": "text/plain"}),
    ("a JSON list", {"json": ["a", "list"]}),
    ("an unknown field", {"json": {"no_such_field": 1}}),
    ("no body", {}),
]


def _spec(client) -> dict[str, Any]:
    spec: dict[str, Any] = client.get("/api/openapi.json").json
    return spec


def _allowed_role(policy: str) -> str:
    return {
        "anonymous": "anonymous",
        "authenticated": "owner",
        "admin": "admin",
        "owner": "owner",
        "member": "owner",
        "coordinator": "coordinator",
        "partner": "owner",
    }[policy]


def test_every_status_an_operation_answers_is_in_its_document(
    app, client, world, session, connection
):
    """Runs last (tests/api/conftest.py): it also checks every answer of the other tests."""
    seen = ANSWERS
    for _ in matrix_cells(app, client, world, session, connection):
        pass
    people = world["people"]
    ids = {
        "program_id": world["program"]["id"],
        "round_id": world["round_id"],
        "participant_id": people["owner"]["participant_id"],
        "account_id": people["coordinator"]["id"],
    }
    for rule, method, policy in routes(app):
        if method not in ("POST", "PUT", "PATCH"):
            continue
        path = rule.rule
        for name, value in ids.items():
            path = path.replace(f"<int:{name}>", str(value))
        path = path.replace("<int:match_id>", "1").replace("<int:constraint_id>", "1")
        path = path.replace("<int:concern_id>", str(world["concern_id"]))
        role = _allowed_role(policy)
        headers = {} if role == "anonymous" else dict(people[role]["headers"])
        for _label, body in BAD_BODIES:
            savepoint = connection.begin_nested()
            client.open(path, method=method, headers=headers, **body)
            savepoint.rollback()

    spec = _spec(client)
    undocumented = set()
    for rule, method, status in seen:
        operation = spec["paths"].get(openapi_path(rule), {}).get(method.lower())
        if operation is None:
            continue  # Swagger UI's own assets, the document itself
        if str(status) not in operation["responses"]:
            undocumented.add(f"{method} {rule} answered {status}")
    print(f"\ncontract: {len(seen)} answers checked against the document")
    assert not undocumented, "\n".join(sorted(undocumented))


def test_the_document_lists_no_catch_all_answer_and_every_error_is_a_problem(client):
    spec = _spec(client)
    for path, item in spec["paths"].items():
        for method, operation in item.items():
            if method == "parameters":
                continue
            assert "default" not in operation["responses"], (method, path)
            assert operation.get("operationId"), (method, path)
    for name, response in spec["components"]["responses"].items():
        assert list(response["content"]) == ["application/problem+json"], name
    problem = spec["components"]["schemas"]["Problem"]
    assert problem.get("additionalProperties", True) is not False  # extension members
    for name in ("ValidationProblem", "ImportProblem", "ConflictProblem", "StaleRoundProblem"):
        assert name in spec["components"]["schemas"], name


def test_patch_bodies_have_no_defaults_so_an_omitted_field_stays_as_it_is(client):
    spec = _spec(client)
    schemas = spec["components"]["schemas"]

    def defaults_in(schema: dict[str, Any], seen: set[str]) -> list[str]:
        found = []
        if "$ref" in schema:
            name = schema["$ref"].rsplit("/", 1)[-1]
            if name in seen:
                return []
            return defaults_in(schemas[name], seen | {name})
        for key, prop in schema.get("properties", {}).items():
            if "default" in prop:
                found.append(key)
            found += defaults_in(prop, seen)
        for sub in schema.get("allOf", []) + ([schema["items"]] if "items" in schema else []):
            found += defaults_in(sub, seen)
        return found

    patches = 0
    for path, item in spec["paths"].items():
        operation = item.get("patch")
        if operation is None or "requestBody" not in operation:
            continue
        patches += 1
        body = operation["requestBody"]["content"]["application/json"]["schema"]
        assert defaults_in(body, set()) == [], path
    assert patches >= 3


def test_nullable_objects_are_nullable_references_not_any_of_a_generic_object(client):
    text = json.dumps(_spec(client))
    assert '"anyOf"' not in text


def test_csv_answers_are_documented_as_text_csv(client):
    spec = _spec(client)
    csv_paths = [p for p in spec["paths"] if p.endswith(".csv")]
    assert csv_paths
    for path in csv_paths:
        content = spec["paths"][path]["get"]["responses"]["200"]["content"]
        assert list(content) == ["text/csv"], path


def test_a_204_answer_has_neither_body_nor_content_type(client, world):
    owner = world["people"]["owner"]
    program_id = world["program"]["id"]
    r = client.delete(f"/api/v1/programs/{program_id}/profile/consent", headers=owner["headers"])
    assert r.status_code in (204, 404)
    r = client.delete("/api/v1/tokens/current", headers=owner["headers"])
    assert r.status_code == 204
    assert r.get_data() == b"" and "Content-Type" not in r.headers


def test_every_figure_a_round_reports_is_in_the_documented_stats(client, world):
    from api.http.schemas.rounds import RoundStatsSchema

    coordinator = world["people"]["coordinator"]["headers"]
    program_id = world["program"]["id"]
    stored = client.get(
        f"/api/v1/programs/{program_id}/rounds/{world['round_id']}", headers=coordinator
    ).json["stats"]
    # The answer dumps only declared figures: a figure the matcher adds must be declared.
    from api.adapters.models import Round
    from api.http.database import session

    with client.application.app_context():
        raw = session().get(Round, world["round_id"]).stats
    assert set(raw) <= set(RoundStatsSchema().fields), set(raw) - set(RoundStatsSchema().fields)
    assert set(stored) == set(raw)
