"""Matching rounds, their pairs and reports, the rematch runs, constraints."""

from __future__ import annotations

from marshmallow import EXCLUDE, Schema, fields, validate

from api.domain.vocabulary import ConstraintKind, RoundKind, RoundStatus, values
from api.http.schemas.common import ID_MAX, PAGE_SIZE_DEFAULT, PAGE_SIZE_MAX, PersonRefSchema, word
from api.http.schemas.settings import RoundStartSchema

__all__ = ["RoundStartSchema"]


class ProgressSchema(Schema):
    phase = fields.String(required=True)
    percent = fields.Float(required=True)


class RoundSchema(Schema):
    id = fields.Integer(required=True)
    program_id = fields.Integer(required=True)
    kind = word(RoundKind, metadata={"description": "manual or rematch"})
    status = word(
        RoundStatus,
        metadata={"description": "queued, running, proposed, published, failed or discarded"},
    )
    parameters = fields.Dict(
        required=True, metadata={"description": "Settings snapshot used by the round"}
    )
    progress = fields.Nested(ProgressSchema, required=True)
    stats = fields.Dict(required=True, allow_none=True)
    error = fields.Dict(
        required=True, allow_none=True, metadata={"description": "Problem detail on failure"}
    )
    created_at = fields.DateTime(required=True)
    started_at = fields.DateTime(required=True, allow_none=True)
    finished_at = fields.DateTime(required=True, allow_none=True)
    published_at = fields.DateTime(required=True, allow_none=True)
    discarded_at = fields.DateTime(required=True, allow_none=True)


class PublishedRoundSchema(RoundSchema):
    matches_created = fields.Integer(
        required=True, metadata={"description": "Match proposals the publish created"}
    )


class CoveredNeedSchema(Schema):
    tag = fields.String(required=True)
    priority = fields.Integer(required=True)
    level = fields.Integer(required=True)


class RoundPairSchema(Schema):
    id = fields.Integer(required=True)
    mentee = fields.Nested(PersonRefSchema, required=True)
    mentor = fields.Nested(PersonRefSchema, required=True)
    score = fields.Float(required=True)
    breakdown = fields.Dict(keys=fields.String(), values=fields.Float(), required=True)
    pinned = fields.Boolean(required=True)
    covered_needs = fields.List(fields.Nested(CoveredNeedSchema), required=True)
    shared_languages = fields.List(fields.String(), required=True)


class RoundPairPageSchema(Schema):
    items = fields.List(fields.Nested(RoundPairSchema), required=True)
    total = fields.Integer(required=True)
    next_offset = fields.Integer(required=True, allow_none=True)


class RoundPairQuerySchema(Schema):
    sort = fields.String(
        load_default="-score",
        validate=validate.OneOf(("score", "-score")),
        metadata={"description": "-score: best first (default); score: weakest first"},
    )
    limit = fields.Integer(
        load_default=PAGE_SIZE_DEFAULT, validate=validate.Range(1, PAGE_SIZE_MAX)
    )
    offset = fields.Integer(load_default=0, validate=validate.Range(0, 10_000_000))


class UnmatchedSchema(Schema):
    mentee = fields.Nested(PersonRefSchema, required=True)
    reason = fields.String(
        required=True,
        metadata={"description": "no_feasible_mentor, capacity_taken or not_selected"},
    )
    details = fields.Dict(required=True)


class InfeasiblePinSchema(Schema):
    mentee = fields.Nested(PersonRefSchema, required=True)
    mentor = fields.Nested(PersonRefSchema, required=True)
    rules = fields.List(fields.String(), required=True)


class RoundReportSchema(Schema):
    round_id = fields.Integer(required=True, attribute="id")
    status = word(RoundStatus)
    stats = fields.Dict(required=True, allow_none=True)
    unmatched_by_reason = fields.Dict(keys=fields.String(), values=fields.Integer(), required=True)
    infeasible_pins = fields.List(fields.Nested(InfeasiblePinSchema), required=True)


class IdempotencyHeaderSchema(Schema):
    class Meta:
        unknown = EXCLUDE

    idempotency_key = fields.String(
        data_key="Idempotency-Key",
        validate=validate.Length(1, 200),
        metadata={"description": "Retries with the same key replay the first response"},
    )


class RematchRunSchema(Schema):
    round_id = fields.Integer(required=True)
    night = fields.String(required=True, metadata={"description": "Date the rematch ran for"})
    status = word(RoundStatus, metadata={"description": "proposed, published or discarded"})
    created_at = fields.DateTime(required=True)
    summary = fields.Dict(
        required=True,
        metadata={
            "description": "expired, pool sizes, matched, still_waiting by reason, "
            "deprioritised mentees, drained mentors"
        },
    )


class ConstraintCreateSchema(Schema):
    kind = fields.String(required=True, validate=validate.OneOf(values(ConstraintKind)))
    mentee_id = fields.Integer(required=True, validate=validate.Range(1, ID_MAX))
    mentor_id = fields.Integer(required=True, validate=validate.Range(1, ID_MAX))
    note = fields.String(load_default="", validate=validate.Length(max=1000))


class ConstraintSchema(Schema):
    id = fields.Integer(required=True)
    kind = word(ConstraintKind)
    mentee_id = fields.Integer(required=True)
    mentor_id = fields.Integer(required=True)
    note = fields.String(required=True)
    created_at = fields.DateTime(required=True)
