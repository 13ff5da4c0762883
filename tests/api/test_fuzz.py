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
