"""The OpenAPI document: flask-smorest's Api, with every answer of every operation.

Each operation lists every status it can answer, each with its schema: the statuses its
policy can answer (`policy.DENIALS`), those of a request body (400 malformed, 413 too
large, 415 not JSON, 422 invalid), 503 when the database is unreachable, and the ones
its view declares with `@blp.alt_response(...)`; there is no catch-all `default`.
Errors are RFC 9457 problems (`application/problem+json`, `api.http.schemas.problems`).
Operation ids are the view's method and class (`patch_own_profile`), so generated
clients get readable names; nullable nested objects are nullable references.
"""

from __future__ import annotations

import re
from typing import Any

import swagger_ui_bundle
from apispec import BasePlugin
from apispec.ext.marshmallow import MarshmallowPlugin
from apispec.ext.marshmallow.common import resolve_schema_cls, resolve_schema_instance
from flask import Flask, Response, send_from_directory
from flask_smorest import Api
from marshmallow import RAISE, Schema

from api.http import problems
from api.http.policy import DENIALS
from api.http.schemas.problems import (
    ConflictProblemSchema,
    ImportProblemSchema,
    NotReadyProblemSchema,
    ProblemSchema,
    StaleRoundProblemSchema,
    ValidationProblemSchema,
)

PROBLEM_MIME = problems.PROBLEM_MIME
_RETRY_AFTER = {
    "Retry-After": {
        "description": "Seconds to wait before trying again",
        "schema": {"type": "integer"},
    }
}
#: Shared responses: name -> (status, description, schema, headers).
RESPONSES: dict[str, tuple[int, str, type[Schema], dict[str, Any]]] = {
    "BadRequest": (400, "The body is not well-formed (for example not JSON).", ProblemSchema, {}),
    "Unauthorized": (
        401,
        "No valid bearer token (missing, malformed, expired or revoked): log in again.",
        ProblemSchema,
        {"WWW-Authenticate": {"schema": {"type": "string"}}},
    ),
    "Forbidden": (403, "The caller may not do this.", ProblemSchema, {}),
    "NotFound": (
        404,
        "Not found, or the caller has no part in it (its existence does not leak).",
        ProblemSchema,
        {},
    ),
    "Conflict": (409, "Not possible in the current state.", ConflictProblemSchema, {}),
    "StaleRound": (
        409,
        "Not possible in the current state: the round is not proposed any more, or some of "
        "its pairs are no longer possible (stale_pairs, type stale-round).",
        StaleRoundProblemSchema,
        {},
    ),
    "PayloadTooLarge": (413, "The body is larger than the server accepts.", ProblemSchema, {}),
    "UnsupportedMediaType": (
        415,
        "The body is not of a type this operation takes.",
        ProblemSchema,
        {},
    ),
    "ValidationFailed": (
        422,
        "Invalid input: each field with its reasons.",
        ValidationProblemSchema,
        {},
    ),
    "ImportInvalid": (
        422,
        "Invalid file or rows (listed with their spreadsheet row numbers); nothing imported.",
        ImportProblemSchema,
        {},
    ),
    "TooManyRequests": (
        429,
        "Too many requests: wait Retry-After seconds.",
        ProblemSchema,
        _RETRY_AFTER,
    ),
    "ServiceUnavailable": (
        503,
        "Temporarily unavailable (the database or the job queue): try again later.",
        ProblemSchema,
        _RETRY_AFTER,
    ),
    "NotReady": (503, "Not ready to serve.", NotReadyProblemSchema, {}),
}
#: What flask-smorest calls the answers it documents by itself -> ours.
_OWN_NAMES = {"UNPROCESSABLE_ENTITY": "ValidationFailed"}
_BODY_STATUSES = {400: "BadRequest", 413: "PayloadTooLarge", 415: "UnsupportedMediaType"}
_DENIAL_NAMES = {401: "Unauthorized", 403: "Forbidden", 404: "NotFound"}
_RULE_PARAMETER = re.compile(r"<(?:[^:<>]+:)?([^<>]+)>")


class PeermatchApi(Api):  # type: ignore[misc]
    """flask-smorest's Api with RFC 9457 problem details as the error body."""

    ERROR_SCHEMA = ProblemSchema
    # Every operation lists its statuses; no catch-all `default` response.
    DEFAULT_ERROR_RESPONSE_NAME = None

    def handle_http_exception(self, error: Any) -> Response:
        return problems.from_http_exception(error)


class StrictMarshmallowPlugin(MarshmallowPlugin):  # type: ignore[misc]
    """Schemas that reject unknown fields get additionalProperties: false; a nullable
    nested object is a nullable reference (not anyOf with a generic object)."""

    def schema_helper(self, name: str, _: Any, schema: Any = None, **kwargs: Any) -> Any:
        result = super().schema_helper(name, _, schema=schema, **kwargs)
        instance = resolve_schema_instance(schema)
        if result is not None and getattr(instance, "unknown", RAISE) == RAISE:
            result["additionalProperties"] = False
        for prop in (result or {}).get("properties", {}).values():
            _nullable_reference(prop)
        return result


def _nullable_reference(prop: dict[str, Any]) -> None:
    options = prop.get("anyOf")
    if not isinstance(options, list) or len(options) != 2:
        return
    refs = [o for o in options if "$ref" in o]
    nulls = [o for o in options if o.get("nullable") and "$ref" not in o]
    if len(refs) == 1 and len(nulls) == 1:
        del prop["anyOf"]
        prop["allOf"] = refs
        prop["nullable"] = True


def _schema_name(schema: Any) -> str:
    # The same schema class is used whole and partial (PATCH); name them apart.
    name = str(resolve_schema_cls(schema).__name__).removesuffix("Schema")
    if getattr(schema, "partial", False):
        name += "Patch"
    return name


def _snake(name: str) -> str:
    return re.sub(r"(?<!^)(?=[A-Z])", "_", name).lower()


class ResponsesPlugin(BasePlugin):  # type: ignore[misc]
    """Adds to each operation the answers its policy, its body and the database give,
    names flask-smorest's own answers as ours, and sets the operation id."""

    def __init__(self, app: Flask) -> None:
        self.app = app

    def operation_helper(
        self, path: str | None = None, operations: Any = None, **kwargs: Any
    ) -> None:
        rule = kwargs.get("rule")
        if rule is None or not operations:
            return
        view = self.app.view_functions[rule.endpoint]
        view_class = getattr(view, "view_class", None)
        for method, operation in operations.items():
            handler = getattr(view_class, method, None)
            if handler is None:
                continue
            responses = operation.setdefault("responses", {})
            for status, ref in list(responses.items()):
                if isinstance(ref, str) and ref in _OWN_NAMES:
                    responses[status] = _OWN_NAMES[ref]
            wanted = {s: _DENIAL_NAMES[s] for s in DENIALS.get(getattr(handler, "_policy", ""), ())}
            if "requestBody" in operation:
                wanted |= _BODY_STATUSES | {422: "ValidationFailed"}
            if getattr(handler, "_uses_database", True):
                wanted[503] = "ServiceUnavailable"
            present = {int(s) for s in responses if str(s).isdigit()}
            for status, name in wanted.items():
                if status not in present:
                    responses[status] = name
            operation.setdefault("operationId", f"{method}_{_snake(view_class.__name__)}")


def problem(description: str, schema: type[Schema] = ProblemSchema) -> dict[str, Any]:
    """An answer of one operation (`@blp.alt_response(409, problem("…"))`): a problem of
    `schema`, with a description saying when this operation gives it."""
    return {"description": description, "schema": schema, "content_type": PROBLEM_MIME}


def init_app(app: Flask) -> PeermatchApi:
    api = PeermatchApi(
        app,
        spec_kwargs={
            "marshmallow_plugin": StrictMarshmallowPlugin(schema_name_resolver=_schema_name),
            "extra_plugins": [ResponsesPlugin(app)],
            "info": {
                "description": "Peer-mentoring matching: profiles, matching rounds, "
                "relationships. Every error is an RFC 9457 problem "
                "(application/problem+json) whose `type` is a urn:peermatch:problem:… URI; "
                "each operation lists the statuses it can answer."
            },
        },
    )
    api.spec.components.security_scheme(
        "bearerAuth", {"type": "http", "scheme": "bearer", "description": "POST /api/v1/tokens"}
    )
    for name, (_status, description, schema, headers) in RESPONSES.items():
        response: dict[str, Any] = {
            "description": description,
            "content": {PROBLEM_MIME: {"schema": schema}},
        }
        if headers:
            response["headers"] = headers
        api.spec.components.response(name, response)
    app.extensions["peermatch.api"] = api

    @app.get("/api/docs/static/<path:filename>")
    def swagger_ui_static(filename: str) -> Response:
        return send_from_directory(swagger_ui_bundle.swagger_ui_path, filename)

    return api


def finish(api: PeermatchApi) -> None:
    """After the blueprints: error bodies are problems in flask-smorest's own responses."""
    for response in api.spec.components.responses.values():
        content = response.get("content", {})
        if "application/json" in content:
            content[PROBLEM_MIME] = content.pop("application/json")


def openapi_path(rule: str) -> str:
    """`/programs/<int:program_id>` -> `/programs/{program_id}`."""
    return _RULE_PARAMETER.sub(r"{\1}", rule)
