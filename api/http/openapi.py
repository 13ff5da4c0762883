"""The OpenAPI document: flask-smorest's Api with problem details and strict schemas."""

from __future__ import annotations

from typing import Any

import swagger_ui_bundle
from apispec.ext.marshmallow import MarshmallowPlugin
from apispec.ext.marshmallow.common import resolve_schema_cls, resolve_schema_instance
from flask import Flask, Response, send_from_directory
from flask_smorest import Api
from marshmallow import RAISE

from api.http import problems
from api.http.schemas.problems import ProblemSchema


class PeermatchApi(Api):  # type: ignore[misc]
    """flask-smorest's Api with RFC 9457 problem details as the error body."""

    ERROR_SCHEMA = ProblemSchema

    def handle_http_exception(self, error: Any) -> Response:
        return problems.from_http_exception(error)


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


def init_app(app: Flask) -> PeermatchApi:
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

    @app.get("/api/docs/static/<path:filename>")
    def swagger_ui_static(filename: str) -> Response:
        return send_from_directory(swagger_ui_bundle.swagger_ui_path, filename)

    return api


def finish(api: PeermatchApi) -> None:
    """After the blueprints: error bodies are problems in the document's shared responses."""
    for response in api.spec.components.responses.values():
        content = response.get("content", {})
        if "application/json" in content:
            content["application/problem+json"] = content.pop("application/json")
