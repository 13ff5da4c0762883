"""Programs, their coordinators, and joining a program."""

from __future__ import annotations

from typing import Any

from marshmallow import Schema, ValidationError, post_load, pre_load, validate, validates

from api.domain.values import TAG_RE, join_code_weakness
from api.domain.vocabulary import ProgramRole, Role
from api.http.schemas import fields
from api.http.schemas.common import reject_fields, tag_field, unique, word
from api.http.schemas.settings import (
    ProgramSettingsOutSchema,
    ProgramSettingsPatchSchema,
    ProgramSettingsSchema,
)


def _strong_join_code(code: str) -> None:
    weakness = join_code_weakness(code)
    if weakness:
        raise ValidationError(weakness)


JOIN_CODE = [
    validate.Regexp(r"^[A-Za-z0-9-]{6,40}$", error="6 to 40 letters, digits or dashes."),
    _strong_join_code,
]


def _taxonomy_field(**kw: Any) -> fields.List:
    return fields.List(tag_field(), validate=validate.Length(max=500), **kw)


class ProgramCreateSchema(Schema):
    name = fields.String(required=True, validate=validate.Length(1, 200))
    slug = fields.String(
        required=True,
        validate=[
            validate.Length(2, 80),
            validate.Regexp(TAG_RE, error="Must be lowercase letters, digits and dashes."),
        ],
    )
    description = fields.String(load_default="", validate=validate.Length(max=5000))
    join_code = fields.String(validate=JOIN_CODE, metadata={"description": "Generated when absent"})
    taxonomy = _taxonomy_field(load_default=list)
    settings = fields.Nested(
        ProgramSettingsSchema, load_default=lambda: ProgramSettingsSchema().load({})
    )

    @validates("taxonomy")
    def _unique_taxonomy(self, value: list[str], **_: Any) -> None:
        if not unique(value):
            raise ValidationError("Tags must be unique.")


class ProgramUpdateSchema(Schema):
    name = fields.String(validate=validate.Length(1, 200))
    description = fields.String(validate=validate.Length(max=5000))
    taxonomy = _taxonomy_field()
    settings = fields.Nested(ProgramSettingsPatchSchema)
    join_code = fields.String(validate=JOIN_CODE)

    @pre_load
    def _forbid(self, data: Any, **_: Any) -> Any:
        reject_fields(
            data,
            {
                "id": "Ids are assigned by the server.",
                "slug": "The slug of a program cannot change.",
                "coordinators": "Use /programs/{id}/coordinators.",
            },
        )
        return data

    @validates("taxonomy")
    def _unique_taxonomy(self, value: list[str], **_: Any) -> None:
        if not unique(value):
            raise ValidationError("Tags must be unique.")


class ProgramSchema(Schema):
    id = fields.Integer(required=True)
    name = fields.String(required=True)
    slug = fields.String(required=True)
    description = fields.String(required=True)
    taxonomy = fields.List(fields.String(), required=True)
    settings = fields.Nested(ProgramSettingsOutSchema, required=True)
    join_code = fields.String(
        required=True,
        allow_none=True,
        metadata={"description": "Shown to coordinators and admins only"},
    )
    my_role = word(
        ProgramRole, metadata={"description": "admin, coordinator, mentor, mentee or both"}
    )
    created_at = fields.DateTime(required=True)
    updated_at = fields.DateTime(required=True)


class JoinSchema(Schema):
    join_code = fields.String(required=True, validate=validate.Length(1, 40))
    role = fields.String(required=True, validate=validate.OneOf([r.value for r in Role]))


class CoordinatorAppointSchema(Schema):
    email = fields.Email(required=True)

    @post_load
    def _normalise(self, data: dict[str, Any], **_: Any) -> dict[str, Any]:
        data["email"] = data["email"].strip().lower()
        return data


class CoordinatorSchema(Schema):
    account_id = fields.Integer(required=True)
    email = fields.String(required=True, attribute="account.email")
    display_name = fields.String(required=True, attribute="account.display_name")
    appointed_at = fields.DateTime(required=True)
