"""The problem details document (RFC 9457); `api.http.problems` builds the bodies."""

from __future__ import annotations

from marshmallow import INCLUDE, Schema, fields


class ProblemSchema(Schema):
    """RFC 9457 problem details; problems may carry extension members (ids, rows)."""

    class Meta:
        unknown = INCLUDE

    type = fields.String(metadata={"description": "Problem type URI"})
    title = fields.String()
    status = fields.Integer()
    detail = fields.String()
    errors = fields.Dict(
        keys=fields.String(),
        values=fields.List(fields.String()),
        metadata={"description": "Field path → messages, for validation failures"},
    )
