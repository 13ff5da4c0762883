"""Request bodies: what JSON the API parses, and which media types each operation takes.

One parser for every reader of a body (the views' schemas through webargs, Flask's
`request.get_json` used by the limiter's key functions): nesting deeper than
`MAX_JSON_DEPTH` and the non-JSON constants `NaN` / `Infinity` are malformed (400), so a
body nested 1,000 deep never reaches Python's recursion limit (a RecursionError: 500,
with a traceback per request, and a limiter key function that raised before counting).

A body of a type its operation does not take answers 415 before the view runs: a
`text/plain` decline used to succeed and drop its reason, as webargs ignores bodies that
are not JSON.
"""

from __future__ import annotations

import json
from typing import Any

import flask_smorest
from flask import Flask, request
from flask.json.provider import DefaultJSONProvider
from webargs.flaskparser import FlaskParser
from werkzeug.exceptions import UnsupportedMediaType

#: Deepest nesting of arrays and objects a body may have (the API's own need at most 4).
MAX_JSON_DEPTH = 32
JSON_TYPES = ("application/json",)
FORM_TYPES = ("multipart/form-data",)
WRITE_METHODS = frozenset({"POST", "PUT", "PATCH", "DELETE"})


def _no_constant(name: str) -> Any:
    raise ValueError(f"{name} is not JSON")


def _too_deep(value: Any) -> bool:
    stack = [(value, 1)]
    while stack:
        item, depth = stack.pop()
        if isinstance(item, dict):
            children: Any = item.values()
        elif isinstance(item, list):
            children = item
        else:
            continue
        if depth > MAX_JSON_DEPTH:
            return True
        stack.extend((child, depth + 1) for child in children)
    return False


def loads(text: str | bytes) -> Any:
    """Parse a body: json.JSONDecodeError (a ValueError) for anything malformed."""
    doc = text.decode("utf-8") if isinstance(text, bytes) else text
    try:
        value = json.loads(doc, parse_constant=_no_constant)
    except RecursionError as exc:
        raise json.JSONDecodeError("nested too deeply", doc, 0) from exc
    except json.JSONDecodeError:
        raise
    except ValueError as exc:  # NaN, Infinity, an integer of more than 4,300 digits
        raise json.JSONDecodeError(str(exc), doc, 0) from exc
    if _too_deep(value):
        raise json.JSONDecodeError(f"nested more than {MAX_JSON_DEPTH} deep", doc, 0)
    return value


class JSONProvider(DefaultJSONProvider):
    def loads(self, s: str | bytes, **kwargs: Any) -> Any:
        return loads(s)


class Parser(FlaskParser):
    def _raw_load_json(self, req: Any) -> Any:
        from webargs import core
        from webargs.flaskparser import is_json_request

        if not is_json_request(req):
            return core.missing
        return loads(req.get_data(cache=True))


class Blueprint(flask_smorest.Blueprint):  # type: ignore[misc]
    """flask-smorest's Blueprint, parsing bodies with `loads`."""

    ARGUMENTS_PARSER = Parser()


def accepted_types(handler: Any) -> tuple[str, ...] | None:
    """The media types an operation's body may have (a form for file uploads, else
    JSON); None when it takes no body (whatever is sent is not read)."""
    parameters = getattr(handler, "_apidoc", {}).get("arguments", {}).get("parameters", [])
    locations = {p.get("in", "json") for p in parameters}
    if locations & {"files", "form"}:
        return FORM_TYPES
    return JSON_TYPES if "json" in locations else None


def _has_body() -> bool:
    return bool(request.content_length) or "chunked" in request.headers.get("Transfer-Encoding", "")


def check_media_type(view: Any) -> None:
    """415 when the request has a body of a type `view` does not take. Called by the
    view's policy once the caller is known (401 / 403 / 404 come first)."""
    if request.method not in WRITE_METHODS or not _has_body():
        return
    wanted = accepted_types(view)
    if wanted is None:
        return
    mimetype = request.mimetype
    if mimetype in wanted or (wanted == JSON_TYPES and mimetype.endswith("+json")):
        return
    raise UnsupportedMediaType(
        f"This operation takes a body of type {' or '.join(wanted)}, not "
        f"{mimetype or 'an unnamed type'}."
    )


def init_app(app: Flask) -> None:
    app.json = JSONProvider(app)
    app.json.sort_keys = False  # type: ignore[attr-defined]
