"""Invitations, password resets, notification settings, and the outbox for operators."""

from __future__ import annotations

from typing import Any

from marshmallow import Schema, ValidationError, post_load, validate, validates_schema

from api.domain.vocabulary import Role, values
from api.http.schemas import fields


class _Email(fields.Email):
    def _deserialize(self, value: Any, attr: Any, data: Any, **kwargs: Any) -> str:
        return str(super()._deserialize(value, attr, data, **kwargs)).strip().lower()


class InviteeSchema(Schema):
    email = _Email(required=True, validate=validate.Length(max=254))
    role = fields.String(required=True, validate=validate.OneOf(values(Role)))
    display_name = fields.String(
        validate=validate.Length(1, 120),
        metadata={"description": "Shown until the person sets their own"},
    )


class InvitationBatchSchema(Schema):
    invitations = fields.List(
        fields.Nested(InviteeSchema), required=True, validate=validate.Length(1, 500)
    )

    @validates_schema
    def _unique(self, data: dict[str, Any], **_: Any) -> None:
        emails = [i["email"] for i in data.get("invitations", [])]
        if len(emails) != len(set(emails)):
            raise ValidationError("Each email at most once.", "invitations")


class InvitationResultSchema(Schema):
    invited = fields.Integer(
        required=True,
        metadata={
            "description": "People sent an invitation (whether or not they had an "
            "account: the answer does not say)"
        },
    )
    already_in_program = fields.Integer(required=True)


class InvitationAcceptSchema(Schema):
    token = fields.String(required=True, validate=validate.Length(20, 200))
    password = fields.String(
        required=True,
        load_only=True,
        validate=validate.Length(10, 1024),
        metadata={"description": "A new password; or, for an account that has one, it"},
    )
    display_name = fields.String(validate=validate.Length(1, 120))

    @post_load
    def _strip(self, data: dict[str, Any], **_: Any) -> dict[str, Any]:
        if "display_name" in data:
            data["display_name"] = data["display_name"].strip()
            if not data["display_name"]:
                raise ValidationError({"display_name": ["Must not be blank."]})
        return data


class PasswordResetRequestSchema(Schema):
    email = fields.String(required=True, validate=validate.Length(1, 254))


class PasswordResetRequestedSchema(Schema):
    detail = fields.String(required=True)


class PasswordResetConfirmSchema(Schema):
    token = fields.String(required=True, validate=validate.Length(20, 200))
    password = fields.String(required=True, load_only=True, validate=validate.Length(10, 1024))


_SETTINGS_DOC = {
    "reminders": "A reminder when a proposal waits for your answer",
    "check_in_prompts": "A prompt to check in on an active relationship",
    "digests": "The weekly summary for coordinators",
}


class NotificationSettingsSchema(Schema):
    reminders = fields.Boolean(required=True, metadata={"description": _SETTINGS_DOC["reminders"]})
    check_in_prompts = fields.Boolean(
        required=True, metadata={"description": _SETTINGS_DOC["check_in_prompts"]}
    )
    digests = fields.Boolean(required=True, metadata={"description": _SETTINGS_DOC["digests"]})


class NotificationSettingsPatchSchema(Schema):
    reminders = fields.Boolean(metadata={"description": _SETTINGS_DOC["reminders"]})
    check_in_prompts = fields.Boolean(metadata={"description": _SETTINGS_DOC["check_in_prompts"]})
    digests = fields.Boolean(metadata={"description": _SETTINGS_DOC["digests"]})

    @validates_schema
    def _not_empty(self, data: dict[str, Any], **_: Any) -> None:
        if not data:
            raise ValidationError("Name at least one setting.")
