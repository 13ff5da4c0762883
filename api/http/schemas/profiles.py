"""Participant profiles: the owner's own, consent, and the coordinators' view."""

from __future__ import annotations

from typing import Any

from marshmallow import (
    Schema,
    ValidationError,
    post_load,
    pre_load,
    validate,
    validates,
    validates_schema,
)

from api.domain.values import DAYS, HHMM_RE, is_iana_timezone, minutes, normalise_language
from api.domain.vocabulary import (
    ConsentPurpose,
    CulturalPreference,
    ParticipantStatus,
    Role,
    values,
)
from api.http.schemas import fields
from api.http.schemas.common import (
    PAGE_SIZE_DEFAULT,
    PAGE_SIZE_MAX,
    patch_schema,
    reject_fields,
    tag_field,
    unique,
    word,
)


class Whole(fields.Nested):
    """A nested schema dumped from the object itself (its fields are the parent's own)."""

    def get_value(self, obj: Any, attr: str, accessor: Any = None, default: Any = None) -> Any:
        return obj


class NeedSchema(Schema):
    tag = tag_field()
    priority = fields.Integer(
        required=True,
        validate=validate.Range(1, 3),
        metadata={"description": "1 nice to have, 2 important, 3 essential"},
    )


class StrengthSchema(Schema):
    tag = tag_field()
    level = fields.Integer(
        required=True,
        validate=validate.Range(1, 3),
        metadata={"description": "1 some experience, 2 solid, 3 expert"},
    )


class WindowSchema(Schema):
    day = fields.String(required=True, validate=validate.OneOf(DAYS))
    start = fields.String(
        required=True,
        validate=validate.Regexp(HHMM_RE, error="Must be HH:MM (24-hour)."),
        metadata={"example": "18:00"},
    )
    end = fields.String(
        required=True,
        validate=validate.Regexp(HHMM_RE, error="Must be HH:MM (24-hour), 24:00 allowed."),
        metadata={"example": "19:30"},
    )

    @validates_schema
    def _ordered(self, data: dict[str, Any], **_: Any) -> None:
        if data["start"] == "24:00":
            raise ValidationError("A window cannot start at 24:00.", "start")
        if minutes(data["end"]) <= minutes(data["start"]):
            raise ValidationError("Must be after start (windows stay within one day).", "end")


class ConsentInputSchema(Schema):
    special_category = fields.Boolean(
        required=True,
        metadata={
            "description": "true records consent to store cultural background and "
            "wellbeing needs; false withdraws it and erases them"
        },
    )
    text_version = fields.String(
        required=True,
        validate=validate.Length(1, 40),
        metadata={"description": "Version of the consent text the participant agreed to"},
    )


PROFILE_FORBIDDEN = {
    "id": "Ids are assigned by the server.",
    "participant_id": "Ids are assigned by the server.",
    "account_id": "The owner of a profile cannot change.",
    "owner": "The owner of a profile cannot change.",
    "program_id": "The program of a profile cannot change.",
    "role": "Your role is chosen when you join; ask a coordinator to change it.",
    "status": "Status is set by the program's coordinators (or by pausing).",
    "joined_at": "Timestamps are set by the server.",
    "updated_at": "Timestamps are set by the server.",
    "profile_completed_at": "Timestamps are set by the server.",
    "email": "Change the email of your account, not of a profile.",
    "display_name": "Change the display name of your account, not of a profile.",
}


class ProfileSchema(Schema):
    """The fields a participant writes about themselves in one program."""

    bio = fields.String(load_default="", validate=validate.Length(max=2000))
    needs = fields.List(
        fields.Nested(NeedSchema), load_default=list, validate=validate.Length(max=10)
    )
    strengths = fields.List(
        fields.Nested(StrengthSchema), load_default=list, validate=validate.Length(max=15)
    )
    languages = fields.List(
        fields.String(validate=validate.Length(2, 3)),
        required=True,
        validate=validate.Length(1, 10),
        metadata={"description": "ISO 639-1 or 639-3 codes; stored as 639-1 where one exists"},
    )
    timezone = fields.String(
        required=True,
        validate=validate.Length(1, 64),
        metadata={"description": "IANA time zone name", "example": "Europe/Berlin"},
    )
    availability = fields.List(
        fields.Nested(WindowSchema),
        required=True,
        validate=validate.Length(1, 28),
        metadata={"description": "Weekly windows in the participant's own time zone"},
    )
    capacity = fields.Integer(
        allow_none=True,
        validate=validate.Range(0, 50),
        metadata={"description": "Mentors only: how many mentees at once (program maximum)"},
    )
    experience_level = fields.Integer(required=True, validate=validate.Range(1, 5))
    org_unit = fields.String(allow_none=True, load_default=None, validate=validate.Length(max=120))
    manager_email = fields.Email(allow_none=True, load_default=None)
    preferred_partners = fields.List(
        fields.Email(),
        load_default=list,
        validate=validate.Length(max=5),
        metadata={"description": "Emails of people you would like to be paired with"},
    )
    cultural_preference = fields.String(
        load_default=CulturalPreference.OPEN.value,
        validate=validate.OneOf(values(CulturalPreference)),
    )
    cultural_background = fields.List(
        fields.String(validate=validate.Length(1, 60)),
        allow_none=True,
        load_default=None,
        validate=validate.Length(max=10),
        metadata={"description": "Special category data: needs consent"},
    )
    wellbeing_needs = fields.List(
        fields.String(validate=validate.Length(1, 60)),
        allow_none=True,
        load_default=None,
        validate=validate.Length(max=10),
        metadata={"description": "Special category data: needs consent"},
    )
    consent = fields.Nested(ConsentInputSchema, load_only=True)

    @pre_load
    def _forbid(self, data: Any, **_: Any) -> Any:
        reject_fields(data, PROFILE_FORBIDDEN)
        return data

    @validates("languages")
    def _languages(self, value: list[str], **_: Any) -> None:
        bad = [code for code in value if normalise_language(code) is None]
        if bad:
            raise ValidationError(f"Not ISO 639 language codes: {', '.join(bad)}.")

    @validates("timezone")
    def _timezone(self, value: str, **_: Any) -> None:
        if not is_iana_timezone(value):
            raise ValidationError(f"{value!r} is not an IANA time zone name (e.g. Europe/Berlin).")

    @validates("availability")
    def _availability(self, value: list[dict[str, Any]], **_: Any) -> None:
        windows = sorted(
            (DAYS.index(w["day"]), minutes(w["start"]), minutes(w["end"]), i)
            for i, w in enumerate(value)
            # Windows with invalid parts were reported by WindowSchema already.
            if {"day", "start", "end"} <= w.keys()
        )
        for (d1, _s1, e1, i1), (d2, s2, _e2, i2) in zip(windows, windows[1:], strict=False):
            if d1 == d2 and s2 < e1:
                first, second = sorted((i1, i2))
                raise ValidationError(f"Windows {first} and {second} overlap; merge them into one.")

    @validates("needs")
    def _needs(self, value: list[dict[str, Any]], **_: Any) -> None:
        if not unique(value, "tag"):
            raise ValidationError("Each tag may appear once.")

    @validates("strengths")
    def _strengths(self, value: list[dict[str, Any]], **_: Any) -> None:
        if not unique(value, "tag"):
            raise ValidationError("Each tag may appear once.")

    @post_load
    def _normalise(self, data: dict[str, Any], **_: Any) -> dict[str, Any]:
        if "languages" in data:
            langs: list[str] = []
            for code in data["languages"]:
                norm = normalise_language(code)
                if norm and norm not in langs:
                    langs.append(norm)
            data["languages"] = langs
        if data.get("manager_email"):
            data["manager_email"] = data["manager_email"].strip().lower()
        if "preferred_partners" in data:
            data["preferred_partners"] = sorted(
                {e.strip().lower() for e in data["preferred_partners"]}
            )
        if "availability" in data:
            data["availability"] = sorted(
                data["availability"], key=lambda w: (DAYS.index(w["day"]), w["start"])
            )
        for key in ("cultural_background", "wellbeing_needs"):
            if data.get(key) is not None:
                data[key] = sorted({v.strip() for v in data[key] if v.strip()})
        return data


ProfilePatchSchema = patch_schema(ProfileSchema, "ProfilePatchSchema")


class ConsentSchema(Schema):
    purpose = word(ConsentPurpose)
    text_version = fields.String(required=True)
    granted_at = fields.DateTime(required=True)
    withdrawn_at = fields.DateTime(required=True, allow_none=True)


class ProfileOutSchema(Schema):
    bio = fields.String(required=True)
    needs = fields.List(fields.Nested(NeedSchema), required=True)
    strengths = fields.List(fields.Nested(StrengthSchema), required=True)
    languages = fields.List(fields.String(), required=True)
    timezone = fields.String(required=True, allow_none=True)
    availability = fields.List(fields.Nested(WindowSchema), required=True)
    capacity = fields.Integer(required=True, allow_none=True)
    experience_level = fields.Integer(required=True, allow_none=True)
    org_unit = fields.String(required=True, allow_none=True)
    manager_email = fields.String(required=True, allow_none=True)
    preferred_partners = fields.List(fields.String(), required=True)
    cultural_preference = word(CulturalPreference)
    cultural_background = fields.List(fields.String(), required=True, allow_none=True)
    wellbeing_needs = fields.List(fields.String(), required=True, allow_none=True)


class ParticipantSchema(Schema):
    """A participant's full view: for the participant and the program's coordinators."""

    id = fields.Integer(required=True)
    program_id = fields.Integer(required=True)
    account_id = fields.Integer(required=True)
    display_name = fields.String(required=True)
    email = fields.String(required=True)
    role = word(Role)
    status = word(ParticipantStatus)
    joined_at = fields.DateTime(required=True)
    updated_at = fields.DateTime(required=True)
    profile_complete = fields.Boolean(required=True)
    profile = Whole(ProfileOutSchema, required=True)
    consent = fields.Nested(ConsentSchema, required=True, allow_none=True)


class ParticipantQuerySchema(Schema):
    role = fields.String(
        validate=validate.OneOf(values(Role)),
        metadata={"description": "mentor and mentee also match people who are both"},
    )
    status = fields.String(validate=validate.OneOf(values(ParticipantStatus)))
    tag = tag_field(required=False, metadata={"description": "Has this need or strength"})
    limit = fields.Integer(
        load_default=PAGE_SIZE_DEFAULT, validate=validate.Range(1, PAGE_SIZE_MAX)
    )
    cursor = fields.String(validate=validate.Length(1, 200))


class ParticipantPageSchema(Schema):
    items = fields.List(fields.Nested(ParticipantSchema), required=True)
    next_cursor = fields.String(
        required=True,
        allow_none=True,
        metadata={"description": "Pass as `cursor` for the next page"},
    )


class ParticipantAdminUpdateSchema(Schema):
    role = fields.String(validate=validate.OneOf(values(Role)))
    status = fields.String(validate=validate.OneOf(values(ParticipantStatus)))

    @validates_schema
    def _something(self, data: dict[str, Any], **_: Any) -> None:
        if not data:
            raise ValidationError("Give role and/or status.", "_schema")


class ConsentGrantSchema(Schema):
    purpose = fields.String(
        load_default=ConsentPurpose.SPECIAL_CATEGORY.value,
        validate=validate.OneOf(values(ConsentPurpose)),
    )
    text_version = fields.String(required=True, validate=validate.Length(1, 40))
