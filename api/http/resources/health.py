"""Liveness and readiness probes."""

from __future__ import annotations

from typing import Any

from flask.views import MethodView
from marshmallow import Schema

from api.http.bodies import Blueprint
from api.http.database import session
from api.http.policy import policy
from api.http.schemas import fields
from api.services import health

blp = Blueprint("health", __name__, description="Liveness and readiness probes")


class HealthSchema(Schema):
    status = fields.String(required=True, metadata={"enum": ["ok"]})


class ReadySchema(Schema):
    status = fields.String(required=True, metadata={"enum": ["ready"]})
    database = fields.String(required=True, metadata={"enum": ["reachable"]})
    revision = fields.String(required=True, allow_none=True)
    head = fields.String(required=True, allow_none=True)


@blp.route("/healthz")
class Healthz(MethodView):
    @policy("anonymous", database=False)
    @blp.response(200, HealthSchema)
    def get(self) -> dict[str, Any]:
        """The process is up."""
        return {"status": "ok"}


@blp.route("/readyz")
class Readyz(MethodView):
    @policy("anonymous")
    @blp.response(200, ReadySchema)
    @blp.alt_response(503, "NotReady")
    def get(self) -> dict[str, Any]:
        """The database is reachable and its schema is at the latest migration."""
        return health.readiness(session())
