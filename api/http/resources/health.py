"""Liveness and readiness probes."""

from __future__ import annotations

from typing import Any

from flask.views import MethodView
from flask_smorest import Blueprint
from marshmallow import Schema, fields

from api.http.database import session
from api.http.policy import policy
from api.services import health

blp = Blueprint("health", __name__, description="Liveness and readiness probes")


class HealthSchema(Schema):
    status = fields.String()


class ReadySchema(Schema):
    status = fields.String()
    database = fields.String()
    revision = fields.String(allow_none=True)
    head = fields.String(allow_none=True)


@blp.route("/healthz")
class Healthz(MethodView):
    @policy("anonymous")
    @blp.response(200, HealthSchema)
    def get(self) -> dict[str, Any]:
        """The process is up."""
        return {"status": "ok"}


@blp.route("/readyz")
class Readyz(MethodView):
    @policy("anonymous")
    @blp.response(200, ReadySchema)
    @blp.alt_response(503, description="Database unreachable or migrations not at head")
    def get(self) -> dict[str, Any]:
        """The database is reachable and its schema is at the latest migration."""
        return health.readiness(session())
