"""Relationship health: fit checks, concerns, closing surveys, load."""

from __future__ import annotations

from marshmallow import Schema, validate

from api.domain.vocabulary import (
    ConcernCategory,
    ConcernOutcome,
    ConcernStatus,
    FitAnswer,
    Side,
    values,
)
from api.http.schemas import fields
from api.http.schemas.common import PersonRefSchema, word


class FitCheckAnswerSchema(Schema):
    answer = fields.String(required=True, validate=validate.OneOf(values(FitAnswer)))
    take_exit = fields.Boolean(
        load_default=False,
        metadata={
            "description": "With not_a_fit: leave now without blame (the match ends with "
            "reason no_fault; you both go back to the pool, first in line)"
        },
    )


class ConcernCreateSchema(Schema):
    category = fields.String(required=True, validate=validate.OneOf(values(ConcernCategory)))
    note = fields.String(
        load_default="",
        validate=validate.Length(max=4000),
        metadata={"description": "Seen only by the program's coordinators (and you)"},
    )
    pause = fields.Boolean(
        load_default=False, metadata={"description": "Pause the relationship meanwhile"}
    )


class MyConcernSchema(Schema):
    """A concern as the person who raised it sees it (not the coordinators' annotation)."""

    id = fields.Integer(required=True)
    match_id = fields.Integer(required=True)
    program_id = fields.Integer(required=True)
    category = word(ConcernCategory)
    note = fields.String(required=True)
    pause = fields.Boolean(required=True)
    status = word(ConcernStatus)
    outcome = word(ConcernOutcome, allow_none=True)
    created_at = fields.DateTime(required=True)
    resolved_at = fields.DateTime(required=True, allow_none=True)


class ConcernMatchSchema(Schema):
    id = fields.Integer(required=True)
    status = fields.String(required=True)
    mentee = fields.Nested(PersonRefSchema, required=True)
    mentor = fields.Nested(PersonRefSchema, required=True)


class ConcernSchema(MyConcernSchema):
    """A concern as coordinators see it."""

    raiser_side = word(Side)
    coordinator_note = fields.String(required=True)
    updated_at = fields.DateTime(required=True)
    resolved_by = fields.Integer(required=True, allow_none=True)
    match = fields.Nested(ConcernMatchSchema, required=True)


class ConcernQuerySchema(Schema):
    status = fields.List(
        fields.String(validate=validate.OneOf(values(ConcernStatus))),
        metadata={"description": "Only concerns in these statuses (repeat the parameter)"},
    )


class ConcernUpdateSchema(Schema):
    coordinator_note = fields.String(
        validate=validate.Length(max=4000),
        metadata={"description": "Coordinators' annotation (never shown to participants)"},
    )
    status = fields.String(
        validate=validate.OneOf([ConcernStatus.RESOLVED.value]),
        metadata={"description": "resolved (with an outcome)"},
    )
    outcome = fields.String(validate=validate.OneOf(values(ConcernOutcome)))


class SurveyCreateSchema(Schema):
    goals = fields.Integer(
        required=True,
        validate=validate.Range(1, 5),
        metadata={"description": "How far you reached your goals (1-5)"},
    )
    recommend = fields.Integer(
        required=True,
        validate=validate.Range(1, 5),
        metadata={"description": "Would you recommend the program (1-5)"},
    )
    comment = fields.String(
        load_default="",
        validate=validate.Length(max=4000),
        metadata={"description": "Seen only by the program's coordinators"},
    )


class SurveySchema(Schema):
    id = fields.Integer(required=True)
    match_id = fields.Integer(required=True)
    author_side = word(Side)
    goals = fields.Integer(required=True)
    recommend = fields.Integer(required=True)
    comment = fields.String(required=True)
    created_at = fields.DateTime(required=True)


class ScaleSchema(Schema):
    mean = fields.Float(required=True, allow_none=True)
    distribution = fields.Dict(
        keys=fields.String(),
        values=fields.Integer(),
        required=True,
        metadata={"description": "Answer (1-5) -> how many gave it"},
    )


class SurveyReportSchema(Schema):
    ended_matches = fields.Integer(required=True)
    asked = fields.Integer(required=True, metadata={"description": "Two per ended match"})
    responses = fields.Integer(required=True)
    response_rate = fields.Float(required=True, allow_none=True)
    goals = fields.Nested(ScaleSchema, required=True)
    recommend = fields.Nested(ScaleSchema, required=True)
