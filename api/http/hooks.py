"""What every request and answer goes through: the access log and response headers."""

from __future__ import annotations

import logging
import time

from flask import Flask, Response, g, request

access_log = logging.getLogger("peermatch.access")


def _start_timer() -> None:
    g.started = time.perf_counter()


def _log_request(response: Response) -> Response:
    # Ids and statuses only: bodies and query strings may carry personal data.
    access_log.info(
        "%s %s %s account=%s %.1fms",
        request.method,
        request.path,
        response.status_code,
        g.get("account_id", "-"),
        (time.perf_counter() - g.get("started", time.perf_counter())) * 1000,
    )
    return response


def _no_store(response: Response) -> Response:
    # Responses of the API carry personal data: no shared or browser caching.
    if request.path.startswith("/api/v1"):
        response.headers["Cache-Control"] = "no-store"
    return response


def _no_content(response: Response) -> Response:
    # A 204 answer has no body, so it has no content type either.
    if response.status_code == 204:
        response.headers.pop("Content-Type", None)
        response.set_data(b"")
    return response


def init_app(app: Flask) -> None:
    app.before_request(_start_timer)
    app.after_request(_log_request)
    app.after_request(_no_store)
    app.after_request(_no_content)
