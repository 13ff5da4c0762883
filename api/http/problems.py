"""The one error shape: RFC 9457 problem details (house rule 3).

Every error leaving the service is built here: the errors services raise
(`api.errors.ApiError`), the domain's (`RuleViolation`: 422, `IllegalTransition`: 409),
HTTP errors raised by Flask, werkzeug and webargs (404, 405, 413, 422 from schema
validation ...), and unexpected exceptions, which are logged server-side and answered
with a bare 500 problem.
"""

from __future__ import annotations

import logging
import traceback
from collections.abc import Mapping
from typing import Any

from flask import Flask, Response, has_request_context, json, request
from sqlalchemy import exc as sa_exc
from werkzeug.exceptions import HTTPException

from api.domain.errors import IllegalTransition, RuleViolation
from api.errors import TYPE_PREFIX, ApiError

log = logging.getLogger("peermatch.errors")

PROBLEM_MIME = "application/problem+json"
#: Errors that mean the database cannot be used now (not a fault of the request):
#: connection refused or lost, a locked SQLite file past its busy timeout, no pooled
#: connection left within the pool's timeout.
DATABASE_UNREACHABLE: tuple[type[Exception], ...] = (
    sa_exc.OperationalError,
    sa_exc.InterfaceError,
    sa_exc.DisconnectionError,
    sa_exc.TimeoutError,
)


def problem(
    status: int,
    title: str,
    detail: str,
    *,
    slug: str | None = None,
    errors: Mapping[str, list[str]] | None = None,
    headers: Mapping[str, str] | None = None,
    **extra: Any,
) -> Response:
    body: dict[str, Any] = {
        "type": TYPE_PREFIX + slug if slug else "about:blank",
        "title": title,
        "status": status,
        "detail": detail,
    }
    if errors:
        body["errors"] = {k: list(v) for k, v in errors.items()}
    body.update(extra)
    response = Response(json.dumps(body), status=status, mimetype=PROBLEM_MIME)
    for key, value in (headers or {}).items():
        response.headers[key] = value
    response.headers["Cache-Control"] = "no-store"
    return response


_STATUS_SLUGS = {
    400: "bad-request",
    401: "unauthorized",
    403: "forbidden",
    404: "not-found",
    405: "method-not-allowed",
    409: "conflict",
    413: "payload-too-large",
    415: "unsupported-media-type",
    422: "validation-error",
    429: "too-many-requests",
}


def from_http_exception(error: HTTPException) -> Response:
    status = error.code or 500
    data = getattr(error, "data", None) or {}
    messages = data.get("messages")
    errors: dict[str, list[str]] | None = None
    detail = error.description or error.name
    if messages:
        # webargs nests messages by location ("json", "query", ...); the field names are
        # what a client needs, the location only when it is not the body.
        errors = {}
        for location, tree in messages.items():
            for name, msgs in flatten_messages(tree).items():
                # Field names are unique across body and query string; only headers
                # keep their location so they are not mistaken for body fields.
                key = f"header.{name}" if location == "headers" else name
                if location == "json" and name == "_schema":
                    key = "body"
                errors.setdefault(key, []).extend(msgs)
        if status == 422:
            detail = f"Invalid input in: {', '.join(sorted(errors))}."
        else:
            detail = "; ".join(m for msgs in errors.values() for m in msgs)
    if status == 413:
        detail = "The request body is larger than the server accepts."
    headers: dict[str, str] = {}
    if status == 405 and hasattr(error, "valid_methods") and error.valid_methods:
        headers["Allow"] = ", ".join(error.valid_methods)
    if status == 401:
        headers["WWW-Authenticate"] = 'Bearer realm="peermatch"'
    title = "Validation failed" if status == 422 else error.name
    return problem(
        status, title, detail, slug=_STATUS_SLUGS.get(status), errors=errors, headers=headers
    )


def from_api_error(error: ApiError) -> Response:
    return problem(
        error.status,
        error.title,
        error.detail,
        slug=error.slug,
        errors=error.errors,
        headers=error.headers,
        **error.extra,
    )


def from_unexpected(error: Exception) -> Response:
    # One log line per unexpected error: its class, where it was raised and the route.
    # No traceback (kilobytes per request a fuzzer can repeat) and no exception message
    # (it may carry user data, such as a statement's parameters).
    frames = traceback.extract_tb(error.__traceback__)
    where = f"{frames[-1].filename}:{frames[-1].lineno}" if frames else "?"
    rule = request.url_rule.rule if has_request_context() and request.url_rule else "-"
    method = request.method if has_request_context() else "-"
    log.error("unhandled %s at %s (%s %s)", type(error).__name__, where, method, rule)
    return problem(
        500,
        "Internal server error",
        "The server failed to handle this request; the failure has been logged.",
        slug="internal-error",
    )


#: How long a client should wait before trying again while the database is away.
RETRY_AFTER_SECONDS = 5


def from_database_unreachable(error: Exception) -> Response:
    # The database refused or dropped the connection (or the pool had none left): a
    # passing state, so 503 with Retry-After, not a 500. One line, no message (it may
    # carry the connection string or a statement's parameters).
    cause = getattr(error, "orig", None) or error
    log.error("database unavailable: %s", type(cause).__name__)
    return problem(
        503,
        "Service unavailable",
        "The database cannot be reached right now; try again shortly.",
        slug="unavailable",
        headers={"Retry-After": str(RETRY_AFTER_SECONDS)},
    )


def from_rule_violation(error: RuleViolation) -> Response:
    return problem(
        422, "Validation failed", error.detail, slug="validation-error", errors=error.errors
    )


def from_illegal_transition(error: IllegalTransition) -> Response:
    return problem(
        409,
        "Conflict",
        f"This {error.entity.lower()} is {error.status}; it cannot be {error.event}.",
        slug="conflict",
        current_status=error.status,
    )


def init_app(app: Flask) -> None:
    app.register_error_handler(ApiError, from_api_error)
    app.register_error_handler(RuleViolation, from_rule_violation)
    app.register_error_handler(IllegalTransition, from_illegal_transition)
    app.register_error_handler(HTTPException, from_http_exception)
    for unreachable in DATABASE_UNREACHABLE:
        app.register_error_handler(unreachable, from_database_unreachable)
    app.register_error_handler(Exception, from_unexpected)


def flatten_messages(messages: Any, prefix: str = "") -> dict[str, list[str]]:
    """Turn marshmallow's nested message tree into `{"a.0.b": ["..."]}`."""
    out: dict[str, list[str]] = {}
    if isinstance(messages, Mapping):
        for key, value in messages.items():
            name = str(key)
            if name == "_schema":
                name = ""
            path = f"{prefix}.{name}" if prefix and name else (prefix or name or "_schema")
            for k, v in flatten_messages(value, path).items():
                out.setdefault(k, []).extend(v)
    elif isinstance(messages, list | tuple):
        if all(isinstance(m, str) for m in messages):
            out[prefix or "_schema"] = [str(m) for m in messages]
        else:
            for item in messages:
                for k, v in flatten_messages(item, prefix).items():
                    out.setdefault(k, []).extend(v)
    else:
        out[prefix or "_schema"] = [str(messages)]
    return out
