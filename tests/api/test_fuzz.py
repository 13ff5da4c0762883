"""Schemathesis against the app's own OpenAPI document, in process, seeded and bounded.

Every operation gets generated valid and invalid requests, sent as a coordinator of a
program with participants, a round and a match, and again as a participant of it: no
5xx, every response conforms to its documented status (the document has no catch-all
`default` answer), content type and schema, and invalid input is rejected.
"""

from __future__ import annotations

import pytest
import schemathesis
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis.errors import Unsatisfiable
from schemathesis.checks import (
    content_type_conformance,
    negative_data_rejection,
    not_a_server_error,
    response_schema_conformance,
    status_code_conformance,
)
from schemathesis.generation import GenerationMode

from tests.api.conftest import PASSWORD
from tests.api.hostile import HUGE, NUL, SURROGATE

CHECKS = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_schema_conformance,
    negative_data_rejection,
]
SETTINGS = settings(
    max_examples=6,
    derandomize=True,  # a fixed seed: the same cases every run
    deadline=None,
    database=None,
    phases=[Phase.explicit, Phase.generate],
    suppress_health_check=list(HealthCheck),
)


def _runner(operation, mode, headers, record):
    """A Hypothesis test of one operation in one generation mode."""
    label = operation.label

    @given(case=operation.as_strategy(generation_mode=mode))
    @SETTINGS
    def run(case):
        response = case.call(headers=headers)
        try:
            case.validate_response(response, checks=CHECKS)
        # Schemathesis raises a FailureGroup (an exception group).
        except (Exception, BaseExceptionGroup) as exc:
            record(label, response.status_code, f"{label} ({mode.value}): {exc}"[:600])
            raise
        record(label, response.status_code, None)

    return run


def _deep(depth: int) -> list:
    value: list = []
    for _ in range(depth):
        value = [value]
    return value


def _hostile_cases(operation, world):
    """Explicit examples for every operation with a JSON body: the hostile inputs of
    issue 16 (tests/api/hostile.py), with the world's ids in the path."""
    if not any(body.media_type == "application/json" for body in operation.body):
        return []
    ids = {
        "program_id": world["program"]["id"],
        "round_id": world["round_id"],
        "participant_id": world["people"]["owner"]["participant_id"],
        "account_id": world["people"]["coordinator"]["id"],
        "match_id": 1,
        "constraint_id": 1,
    }
    path = {p.name: ids.get(p.name, 1) for p in operation.path_parameters}
    bodies = [
        ("application/json", _deep(200)),  # nested past the parser's limit (1,000: tests)
        ("application/json", {"reason": NUL, "email": NUL, "display_name": SURROGATE}),
        ("application/json", {"bio": NUL, "join_code": SURROGATE, "text_version": NUL}),
        ("application/json", {"rating": HUGE, "capacity": HUGE, "mentee_id": HUGE}),
        ("application/json", "a string, not an object"),
        ("text/plain", "reason=I changed my mind"),
    ]
    return [
        operation.Case(path_parameters=path, body=body, media_type=media_type)
        for media_type, body in bodies
    ]


@pytest.mark.parametrize("caller", ["coordinator", "owner"])
def test_the_api_holds_against_its_own_document(app, client, world, caller):
    """As a coordinator and as a participant: every answer is documented (status, content
    type, schema), none is a 5xx, and invalid input is refused."""
    schema = schemathesis.openapi.from_wsgi("/api/openapi.json", app)
    coordinator = world["people"][caller]
    statuses: dict[int, int] = {}
    failures: list[str] = []

    def record(label: str, status: int, failure: str | None) -> None:
        statuses[status] = statuses.get(status, 0) + 1
        if failure is not None:
            failures.append(failure)

    # /readyz answers 503 on this create_all-built database by design (tests/integration).
    operations = [
        op
        for op in (result.ok() for result in schema.get_all_operations())
        if op.label != "GET /readyz"
    ]
    for operation in operations:
        # The explicit examples: hostile bodies, each checked like a generated case.
        login = {"email": coordinator["email"], "password": PASSWORD}
        token = client.post("/api/v1/tokens", json=login).json["token"]
        for case in _hostile_cases(operation, world):
            response = case.call(headers={"Authorization": f"Bearer {token}"})
            try:
                case.validate_response(
                    response, checks=[not_a_server_error, status_code_conformance]
                )
            except (Exception, BaseExceptionGroup) as exc:
                record(
                    operation.label,
                    response.status_code,
                    f"{operation.label} (hostile): {exc}"[:600],
                )
            else:
                record(operation.label, response.status_code, None)
            assert response.status_code < 500 and "Traceback" not in response.text
        for mode in (GenerationMode.POSITIVE, GenerationMode.NEGATIVE):
            label = operation.label
            # A fresh token per run: a generated DELETE /tokens/current revokes its own.
            login = {"email": coordinator["email"], "password": PASSWORD}
            token = client.post("/api/v1/tokens", json=login).json["token"]
            headers = {"Authorization": f"Bearer {token}"}

            run = _runner(operation, mode, headers, record)
            try:
                run()
            except Unsatisfiable:
                # Nothing to make invalid (an operation without parameters or body).
                assert mode == GenerationMode.NEGATIVE, label
            except (Exception, BaseExceptionGroup) as exc:
                if not failures or label not in failures[-1]:
                    raise  # not a check failure: a broken test setup must not pass
                del exc
    cases = sum(statuses.values())
    print(
        f"\nschemathesis: {len(operations)} operations, {cases} cases, "
        f"{len(failures)} failures; statuses {dict(sorted(statuses.items()))}"
    )
    # Most generated requests got past authentication: the fuzzing reached the services.
    assert statuses.get(401, 0) < cases / 4, statuses
    assert not failures, "\n\n".join(failures)
