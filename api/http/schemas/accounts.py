"""Accounts, log-in tokens and the caller's own account."""

from __future__ import annotations

from typing import Any

from marshmallow import Schema, ValidationError, post_load, pre_load, validate

from api.domain.vocabulary import ParticipantStatus
from api.http.schemas import fields
from api.http.schemas.common import reject_fields, word


class AccountCreateSchema(Schema):
    email = fields.Email(required=True, validate=validate.Length(max=254))
    password = fields.String(required=True, load_only=True, validate=validate.Length(10, 1024))
    display_name = fields.String(required=True, validate=validate.Length(1, 120))

    @pre_load
    def _forbid(self, data: Any, **_: Any) -> Any:
        reject_fields(
            data,
            {
                "is_admin": "Admins are appointed with `peermatch create-admin`.",
                "id": "Ids are assigned by the server.",
            },
        )
        return data

    @post_load
    def _normalise(self, data: dict[str, Any], **_: Any) -> dict[str, Any]:
        data["email"] = data["email"].strip().lower()
        data["display_name"] = data["display_name"].strip()
        if not data["display_name"]:
            raise ValidationError({"display_name": ["Must not be blank."]})
        return data


class MembershipSchema(Schema):
    program_id = fields.Integer(required=True)
    program_name = fields.String(required=True)
    participant_id = fields.Integer(required=True, allow_none=True)
    role = fields.String(
        required=True,
        metadata={
            "description": "mentor, mentee, both or coordinator",
            "enum": ["mentor", "mentee", "both", "coordinator"],
        },
    )
    status = word(ParticipantStatus, allow_none=True)


class AccountSchema(Schema):
    id = fields.Integer(required=True)
    email = fields.String(required=True)
    display_name = fields.String(required=True)
    is_admin = fields.Boolean(required=True)
    created_at = fields.DateTime(required=True)


class MeSchema(AccountSchema):
    memberships = fields.List(fields.Nested(MembershipSchema), required=True)


class TokenRequestSchema(Schema):
    email = fields.String(required=True, validate=validate.Length(1, 254))
    password = fields.String(required=True, load_only=True, validate=validate.Length(1, 1024))


class TokenSchema(Schema):
    token = fields.String(required=True)
    expires_at = fields.DateTime(required=True)
