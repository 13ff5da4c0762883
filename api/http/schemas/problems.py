"""The problem details documents (RFC 9457); `api.http.problems` builds the bodies.

`Problem` allows extension members (the service adds ids and data to some problems);
the named sub-schemas document the extensions that carry data, so typed clients keep
them: `ValidationProblem` (`errors`), `ImportProblem` (`rows`), `ConflictProblem` (the
current status and the ids involved), `StaleRoundProblem` (`stale_pairs`).
"""

from __future__ import annotations

from marshmallow import INCLUDE, Schema

from api.http.schemas import fields


class ProblemSchema(Schema):
    """RFC 9457 problem details; problems may carry extension members."""

    class Meta:
        unknown = INCLUDE

    type = fields.String(
        required=True,
        metadata={"description": "Problem type URI, e.g. urn:peermatch:problem:conflict"},
    )
    title = fields.String(required=True)
    status = fields.Integer(required=True)
    detail = fields.String(required=True, metadata={"description": "What went wrong, in words"})


class ValidationProblemSchema(ProblemSchema):
    """Input that breaks a rule: each field path with its messages."""

    errors = fields.Dict(
        keys=fields.String(),
        values=fields.List(fields.String()),
        required=True,
        metadata={"description": "Field path (e.g. availability.0.end) -> messages"},
    )


class RowErrorsSchema(Schema):
    row = fields.Integer(
        required=True, metadata={"description": "The spreadsheet's row number (header: 1)"}
    )
    errors = fields.Dict(keys=fields.String(), values=fields.List(fields.String()), required=True)


class ImportProblemSchema(ValidationProblemSchema):
    """A CSV import refused, nothing imported: the invalid rows with their errors."""

    rows = fields.List(fields.Nested(RowErrorsSchema), metadata={"description": "Invalid rows"})


class ConflictProblemSchema(ProblemSchema):
    """The request conflicts with what is there now."""

    current_status = fields.String(
        metadata={"description": "The status the match or round has now"}
    )
    program_id = fields.Integer()
    round_id = fields.Integer(metadata={"description": "The round in the way"})
    constraint_id = fields.Integer(metadata={"description": "The constraint in the way"})
    errors = fields.Dict(keys=fields.String(), values=fields.List(fields.String()))


class StalePairSchema(Schema):
    mentee_id = fields.Integer(required=True)
    mentor_id = fields.Integer(required=True)
    reasons = fields.List(fields.String(), required=True)


class StaleRoundProblemSchema(ConflictProblemSchema):
    """A publish refused: the pairs the program no longer allows (type stale-round)."""

    stale_pairs = fields.List(fields.Nested(StalePairSchema))


class NotReadyProblemSchema(ProblemSchema):
    """Not ready: the database is unreachable or not migrated to the latest revision."""

    database = fields.String(metadata={"description": "reachable or unreachable"})
    revision = fields.String(allow_none=True)
    head = fields.String(allow_none=True)
