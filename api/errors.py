"""The errors services raise for a client to act on (plain Python: no Flask here).

`api.http.problems` turns these, the domain's errors, HTTP errors and unexpected
exceptions into the one error shape, RFC 9457 problem details (house rule 3).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

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


class TooManyRequests(ApiError):
    status = 429
    title = "Too many requests"
    slug = "too-many-requests"


class Unavailable(ApiError):
    status = 503
    title = "Service unavailable"
    slug = "unavailable"
