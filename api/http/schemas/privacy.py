"""The caller's data: its export, and the erasure of an account."""

from __future__ import annotations

from marshmallow import Schema, validate

from api.domain.vocabulary import Side, Signal
from api.http.schemas import fields
from api.http.schemas.accounts import MeSchema
from api.http.schemas.common import word
from api.http.schemas.matches import MatchSchema
from api.http.schemas.profiles import ConsentSchema, ParticipantSchema
from api.http.schemas.wellbeing import MyConcernSchema, SurveySchema


class EraseSchema(Schema):
    password = fields.String(
        required=True,
        load_only=True,
        validate=validate.Length(1, 1024),
        metadata={"description": "Your password, to confirm the erasure"},
    )


class ExportParticipationSchema(ParticipantSchema):
    consent_history = fields.List(fields.Nested(ConsentSchema), required=True, attribute="consents")


class ExportCheckInSchema(Schema):
    match_id = fields.Integer(required=True)
    author_side = word(Side)
    rating = fields.Integer(required=True)
    signal = word(Signal, allow_none=True)
    note = fields.String(required=True)
    created_at = fields.DateTime(required=True)


class TokenInfoSchema(Schema):
    created_at = fields.DateTime(required=True)
    expires_at = fields.DateTime(required=True)
    revoked_at = fields.DateTime(required=True, allow_none=True)


class ExportSchema(Schema):
    exported_at = fields.DateTime(required=True)
    account = fields.Nested(MeSchema, required=True)
    participations = fields.List(fields.Nested(ExportParticipationSchema), required=True)
    matches = fields.List(fields.Nested(MatchSchema), required=True)
    check_ins = fields.List(fields.Nested(ExportCheckInSchema), required=True)
    concerns = fields.List(
        fields.Nested(MyConcernSchema),
        required=True,
        metadata={"description": "Concerns you raised (with your note)"},
    )
    closing_surveys = fields.List(fields.Nested(SurveySchema), required=True)
    tokens = fields.List(fields.Nested(TokenInfoSchema), required=True)
