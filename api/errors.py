"""The one error shape: RFC 9457 problem details (house rule 3).

Every error leaving the service is built here: domain errors raised by services
(`ApiError` subclasses), HTTP errors raised by Flask/werkzeug/webargs (404, 405, 413,
422 from schema validation ...) and unexpected exceptions, which are logged with their
traceback server-side and answered with a bare 500 problem.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from typing import Any

from flask import Flask, Response, json
from werkzeug.exceptions import HTTPException

log = logging.getLogger("peermatch.errors")

PROBLEM_MIME = "application/problem+json"
TYPE_PREFIX = "urn:peermatch:problem:"


class ApiError(Exception):
    """A failure a client can act on; services raise these, views never catch them."""

    status = 400
    title = "Bad request"
    slug = "bad-request"

    def __init__(
        self,
        detail: str,
        *,
        errors: Mapping[str, list[str]] | None = None,
        title: str | None = None,
        slug: str | None = None,
        headers: Mapping[str, str] | None = None,
        **extra: Any,
    ) -> None:
        super().__init__(detail)
        self.detail = detail
        self.errors = dict(errors) if errors else None
        if title:
            self.title = title
        if slug:
            self.slug = slug
        self.headers = dict(headers or {})
        self.extra = extra

    def with_status(self, status: int) -> ApiError:
        self.status = status
        return self


class Unauthorized(ApiError):
    status = 401
    title = "Authentication required"
    slug = "unauthorized"

    def __init__(self, detail: str, **kwargs: Any) -> None:
        kwargs.setdefault("headers", {"WWW-Authenticate": 'Bearer realm="peermatch"'})
        super().__init__(detail, **kwargs)


class Forbidden(ApiError):
    status = 403
    title = "Forbidden"
    slug = "forbidden"


class NotFound(ApiError):
    status = 404
    title = "Not found"
    slug = "not-found"


class Conflict(ApiError):
    status = 409
    title = "Conflict"
    slug = "conflict"


class ValidationFailed(ApiError):
    status = 422
    title = "Validation failed"
    slug = "validation-error"

    def __init__(self, errors: Mapping[str, list[str]], detail: str | None = None, **kw: Any):
        fields = ", ".join(sorted(errors))
        super().__init__(detail or f"Invalid input in: {fields}.", errors=errors, **kw)


def field_error(field: str, message: str) -> ValidationFailed:
    return ValidationFailed({field: [message]})


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
    # Log the type and traceback server-side; exception messages may carry user data,
    # so only the class name goes into the log line itself.
    log.error("unhandled %s", type(error).__name__, exc_info=error)
    return problem(
        500,
        "Internal server error",
        "The server failed to handle this request; the failure has been logged.",
        slug="internal-error",
    )


def init_app(app: Flask) -> None:
    app.register_error_handler(ApiError, from_api_error)
    app.register_error_handler(HTTPException, from_http_exception)
    app.register_error_handler(Exception, from_unexpected)
