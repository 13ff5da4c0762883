"""peermatch HTTP service: the Flask application factory."""

from __future__ import annotations

import logging
import time
from collections.abc import Mapping
from typing import Any

from apispec.ext.marshmallow import MarshmallowPlugin
from apispec.ext.marshmallow.common import resolve_schema_cls, resolve_schema_instance
from flask import Flask, Response, g, request, send_from_directory
from flask_smorest import Api
from marshmallow import RAISE
from werkzeug.routing import IntegerConverter

from api import config as config_module
from api import db, errors, limits
from api.schemas import ProblemSchema


class PeermatchApi(Api):  # type: ignore[misc]
    """flask-smorest's Api with RFC 9457 problem details as the error body."""

    ERROR_SCHEMA = ProblemSchema

    def handle_http_exception(self, error: Any) -> Response:
        return errors.from_http_exception(error)


class StrictMarshmallowPlugin(MarshmallowPlugin):  # type: ignore[misc]
    """Marks schemas that reject unknown fields with additionalProperties: false."""

    def schema_helper(self, name: str, _: Any, schema: Any = None, **kwargs: Any) -> Any:
        result = super().schema_helper(name, _, schema=schema, **kwargs)
        instance = resolve_schema_instance(schema)
        if result is not None and getattr(instance, "unknown", RAISE) == RAISE:
            result["additionalProperties"] = False
        return result


def _schema_name(schema: Any) -> str:
    # The same schema class is used whole and partial (PATCH); name them apart.
    name = str(resolve_schema_cls(schema).__name__).removesuffix("Schema")
    if getattr(schema, "partial", False):
        name += "Patch"
    return name


class IdConverter(IntegerConverter):
    """`<int:...>` ids fit the id columns (PostgreSQL `integer`); others name nothing (404).

    Without the bound a huge id reaches the database and fails there with a 500.
    """

    def __init__(self, map: Any, *args: Any, **kwargs: Any) -> None:
        kwargs.setdefault("min", 1)
        kwargs.setdefault("max", 2**31 - 1)
        super().__init__(map, *args, **kwargs)


def create_app(config: Mapping[str, Any] | None = None) -> Flask:
    """Build the app; `config` overrides what the environment says (tests use it)."""
    app = Flask(__name__, instance_relative_config=False)
    app.url_map.converters["int"] = IdConverter
    app.config.update(config_module.load())
    if config:
        app.config.update(config)
    app.json.sort_keys = False  # type: ignore[attr-defined]

    db.init_app(app)
    errors.init_app(app)
    limits.init_app(app)
    api = PeermatchApi(
        app,
        spec_kwargs={
            "marshmallow_plugin": StrictMarshmallowPlugin(schema_name_resolver=_schema_name),
            "info": {
                "description": "Peer-mentoring matching: profiles, matching rounds, "
                "relationships. Errors are RFC 9457 application/problem+json."
            },
        },
    )
    api.spec.components.security_scheme(
        "bearerAuth", {"type": "http", "scheme": "bearer", "description": "POST /api/v1/tokens"}
    )
    app.extensions["peermatch.api"] = api

    from api.resources import accounts, health, matches, profiles, programs, rounds

    for module in (health, accounts, programs, profiles, rounds, matches):
        api.register_blueprint(module.blp)
    # Error bodies are RFC 9457 problems: say so in the document's shared responses.
    for response in api.spec.components.responses.values():
        content = response.get("content", {})
        if "application/json" in content:
            content["application/problem+json"] = content.pop("application/json")

    @app.get("/api/docs/static/<path:filename>")
    def swagger_ui_static(filename: str) -> Response:
        import swagger_ui_bundle

        return send_from_directory(swagger_ui_bundle.swagger_ui_path, filename)

    access_log = logging.getLogger("peermatch.access")

    @app.before_request
    def _start_timer() -> None:
        g.started = time.perf_counter()

    @app.after_request
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

    @app.after_request
    def _no_store(response: Response) -> Response:
        # Responses of the API carry personal data: no shared or browser caching.
        if request.path.startswith("/api/v1"):
            response.headers["Cache-Control"] = "no-store"
        return response

    from api import cli

    cli.init_app(app)
    return app
