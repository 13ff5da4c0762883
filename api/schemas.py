"""Marshmallow schemas: every request body and query, and every response (house rule 2).

Input schemas reject unknown fields (marshmallow's default `RAISE`) and name fields a
caller may not write instead of ignoring them. Checks that need the program (taxonomy,
capacity limit, role) live in the services and raise the same 422 shape.
"""

from __future__ import annotations

import math
from typing import Any

from flask_smorest.fields import Upload
from marshmallow import (
    EXCLUDE,
    Schema,
    ValidationError,
    fields,
    post_load,
    pre_load,
    validate,
    validates,
    validates_schema,
)

from api.models import CULTURAL_PREFERENCES, ROLES, STATUSES
from api.validators import (
    DAYS,
    HHMM_RE,
    TAG_RE,
    is_iana_timezone,
    minutes,
    normalise_language,
)

PAGE_SIZE_MAX = 200
PAGE_SIZE_DEFAULT = 50
OBJECTIVES = ("max_participation", "max_score", "fair")
CRITERIA = ("needs", "availability", "language", "culture", "experience", "preference")
REMATCH_POLICIES = ("off", "propose", "publish")


# --- errors (documentation only; api/errors.py builds the bodies) -----------------------


class ProblemSchema(Schema):
    type = fields.String(metadata={"description": "Problem type URI"})
    title = fields.String()
    status = fields.Integer()
    detail = fields.String()
    errors = fields.Dict(
        keys=fields.String(),
        values=fields.List(fields.String()),
        metadata={"description": "Field path → messages, for validation failures"},
    )


# --- shared field helpers ----------------------------------------------------------------


def _tag_field(required: bool = True, **kw: Any) -> fields.String:
    return fields.String(
        required=required,
        validate=[
            validate.Length(1, 60),
            validate.Regexp(TAG_RE, error="Must be a lowercase kebab-case tag."),
        ],
        **kw,
    )


def _reject_fields(data: Any, forbidden: dict[str, str]) -> None:
    if not isinstance(data, dict):
        return
    errors = {name: [reason] for name, reason in forbidden.items() if name in data}
    if errors:
        raise ValidationError(errors)


def _unique(items: list[Any], key: str | None = None) -> bool:
    # Items that failed their own validation lack the key; they are reported already.
    values = [i[key] if key else i for i in items if key is None or key in i]
    return len(values) == len(set(values))


# --- accounts and tokens -----------------------------------------------------------------


class AccountCreateSchema(Schema):
    email = fields.Email(required=True, validate=validate.Length(max=254))
    password = fields.String(required=True, load_only=True, validate=validate.Length(10, 1024))
    display_name = fields.String(required=True, validate=validate.Length(1, 120))

    @pre_load
    def _forbid(self, data: Any, **_: Any) -> Any:
        _reject_fields(
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
    program_id = fields.Integer()
    program_name = fields.String()
    participant_id = fields.Integer(allow_none=True)
    role = fields.String(metadata={"description": "mentor, mentee, both or coordinator"})
    status = fields.String(allow_none=True)


class AccountSchema(Schema):
    id = fields.Integer()
    email = fields.String()
    display_name = fields.String()
    is_admin = fields.Boolean()
    created_at = fields.DateTime()


class MeSchema(AccountSchema):
    memberships = fields.List(fields.Nested(MembershipSchema))


class TokenRequestSchema(Schema):
    email = fields.String(required=True, validate=validate.Length(1, 254))
    password = fields.String(required=True, load_only=True, validate=validate.Length(1, 1024))


class TokenSchema(Schema):
    token = fields.String()
    expires_at = fields.DateTime()


# --- programs ----------------------------------------------------------------------------


class ProgramSettingsSchema(Schema):
    """Matching settings of a program; every field has a sensible default."""

    objective = fields.String(load_default="max_participation", validate=validate.OneOf(OBJECTIVES))
    weights = fields.Dict(
        keys=fields.String(validate=validate.OneOf(CRITERIA)),
        values=fields.Float(validate=validate.Range(0, 100), allow_nan=False),
        load_default=lambda: {
            "needs": 0.4,
            "availability": 0.2,
            "language": 0.1,
            "culture": 0.1,
            "experience": 0.1,
            "preference": 0.1,
        },
        metadata={"description": f"Criterion → weight ≥ 0; criteria: {', '.join(CRITERIA)}"},
    )
    min_overlap_minutes = fields.Integer(load_default=60, validate=validate.Range(0, 7 * 24 * 60))
    target_overlap_minutes = fields.Integer(
        load_default=180, validate=validate.Range(1, 7 * 24 * 60)
    )
    min_experience_gap = fields.Integer(load_default=0, validate=validate.Range(-4, 4))
    max_experience_gap = fields.Integer(load_default=4, validate=validate.Range(-4, 4))
    ideal_experience_gap = fields.Integer(
        load_default=1,
        validate=validate.Range(-4, 4),
        metadata={"description": "Mentor minus mentee level that scores best on experience"},
    )
    forbid_same_org_unit = fields.Boolean(
        load_default=False, metadata={"description": "Never pair within one organisation unit"}
    )
    default_capacity = fields.Integer(load_default=2, validate=validate.Range(0, 50))
    max_capacity = fields.Integer(load_default=5, validate=validate.Range(1, 50))
    load_penalty = fields.Float(load_default=0.02, validate=validate.Range(0, 0.2), allow_nan=False)
    relationship_weeks = fields.Integer(load_default=12, validate=validate.Range(1, 104))
    proposal_expiry_days = fields.Integer(load_default=7, validate=validate.Range(1, 60))
    rematch_policy = fields.String(
        load_default="propose", validate=validate.OneOf(REMATCH_POLICIES)
    )

    @validates_schema
    def _consistent(self, data: dict[str, Any], partial: Any = None, **_: Any) -> None:
        if partial:
            return  # checked again on the merged settings by the service
        check_settings(data)


def check_settings(data: dict[str, Any]) -> None:
    """Cross-field rules of the matching settings (also run on merged PATCHes)."""
    errors: dict[str, list[str]] = {}
    weights = data.get("weights") or {}
    if weights and not any(math.isfinite(w) and w > 0 for w in weights.values()):
        errors["weights"] = ["At least one criterion needs a positive weight."]
    if data["target_overlap_minutes"] < data["min_overlap_minutes"]:
        errors["target_overlap_minutes"] = ["Must be at least min_overlap_minutes."]
    if data["max_experience_gap"] < data["min_experience_gap"]:
        errors["max_experience_gap"] = ["Must be at least min_experience_gap."]
    if data["default_capacity"] > data["max_capacity"]:
        errors["default_capacity"] = ["Must not exceed max_capacity."]
    if errors:
        raise ValidationError(errors)


def _taxonomy_field(**kw: Any) -> fields.List:
    return fields.List(_tag_field(), validate=validate.Length(max=500), **kw)


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
    join_code = fields.String(
        validate=validate.Regexp(
            r"^[A-Za-z0-9-]{6,40}$", error="6 to 40 letters, digits or dashes."
        ),
        metadata={"description": "Generated when absent"},
    )
    taxonomy = _taxonomy_field(load_default=list)
    settings = fields.Nested(ProgramSettingsSchema, load_default=lambda: {})

    @validates("taxonomy")
    def _unique_taxonomy(self, value: list[str], **_: Any) -> None:
        if not _unique(value):
            raise ValidationError("Tags must be unique.")

    @post_load
    def _defaults(self, data: dict[str, Any], **_: Any) -> dict[str, Any]:
        if not data["settings"]:
            data["settings"] = ProgramSettingsSchema().load({})
        return data


class ProgramUpdateSchema(Schema):
    name = fields.String(validate=validate.Length(1, 200))
    description = fields.String(validate=validate.Length(max=5000))
    taxonomy = _taxonomy_field()
    settings = fields.Nested(ProgramSettingsSchema(partial=True))
    join_code = fields.String(
        validate=validate.Regexp(
            r"^[A-Za-z0-9-]{6,40}$", error="6 to 40 letters, digits or dashes."
        )
    )

    @pre_load
    def _forbid(self, data: Any, **_: Any) -> Any:
        _reject_fields(
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
        if not _unique(value):
            raise ValidationError("Tags must be unique.")


class ProgramSchema(Schema):
    id = fields.Integer()
    name = fields.String()
    slug = fields.String()
    description = fields.String()
    taxonomy = fields.List(fields.String())
    settings = fields.Nested(ProgramSettingsSchema)
    join_code = fields.String(
        allow_none=True, metadata={"description": "Shown to coordinators and admins only"}
    )
    my_role = fields.String(metadata={"description": "admin, coordinator, mentor, mentee or both"})
    created_at = fields.DateTime()
    updated_at = fields.DateTime()


class JoinSchema(Schema):
    join_code = fields.String(required=True, validate=validate.Length(1, 40))
    role = fields.String(required=True, validate=validate.OneOf(ROLES))


class CoordinatorAppointSchema(Schema):
    email = fields.Email(required=True)

    @post_load
    def _normalise(self, data: dict[str, Any], **_: Any) -> dict[str, Any]:
        data["email"] = data["email"].strip().lower()
        return data


class CoordinatorSchema(Schema):
    account_id = fields.Integer()
    email = fields.String()
    display_name = fields.String()
    appointed_at = fields.DateTime()


# --- profiles ----------------------------------------------------------------------------


class NeedSchema(Schema):
    tag = _tag_field()
    priority = fields.Integer(
        required=True,
        validate=validate.Range(1, 3),
        metadata={"description": "1 nice to have, 2 important, 3 essential"},
    )


class StrengthSchema(Schema):
    tag = _tag_field()
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
        load_default="open", validate=validate.OneOf(CULTURAL_PREFERENCES)
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
        _reject_fields(data, PROFILE_FORBIDDEN)
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
        if not _unique(value, "tag"):
            raise ValidationError("Each tag may appear once.")

    @validates("strengths")
    def _strengths(self, value: list[dict[str, Any]], **_: Any) -> None:
        if not _unique(value, "tag"):
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


class ConsentSchema(Schema):
    purpose = fields.String()
    text_version = fields.String()
    granted_at = fields.DateTime()
    withdrawn_at = fields.DateTime(allow_none=True)


class ProfileOutSchema(Schema):
    bio = fields.String()
    needs = fields.List(fields.Nested(NeedSchema))
    strengths = fields.List(fields.Nested(StrengthSchema))
    languages = fields.List(fields.String())
    timezone = fields.String(allow_none=True)
    availability = fields.List(fields.Nested(WindowSchema))
    capacity = fields.Integer(allow_none=True)
    experience_level = fields.Integer(allow_none=True)
    org_unit = fields.String(allow_none=True)
    manager_email = fields.String(allow_none=True)
    preferred_partners = fields.List(fields.String())
    cultural_preference = fields.String()
    cultural_background = fields.List(fields.String(), allow_none=True)
    wellbeing_needs = fields.List(fields.String(), allow_none=True)


class ParticipantSchema(Schema):
    id = fields.Integer()
    program_id = fields.Integer()
    account_id = fields.Integer()
    display_name = fields.String()
    email = fields.String()
    role = fields.String()
    status = fields.String()
    joined_at = fields.DateTime()
    updated_at = fields.DateTime()
    profile_complete = fields.Boolean()
    profile = fields.Nested(ProfileOutSchema)
    consent = fields.Nested(ConsentSchema, allow_none=True)


class ParticipantQuerySchema(Schema):
    role = fields.String(
        validate=validate.OneOf(ROLES),
        metadata={"description": "mentor and mentee also match people who are both"},
    )
    status = fields.String(validate=validate.OneOf(STATUSES))
    tag = _tag_field(required=False, metadata={"description": "Has this need or strength"})
    limit = fields.Integer(
        load_default=PAGE_SIZE_DEFAULT, validate=validate.Range(1, PAGE_SIZE_MAX)
    )
    cursor = fields.String(validate=validate.Length(1, 200))


class ParticipantPageSchema(Schema):
    items = fields.List(fields.Nested(ParticipantSchema))
    next_cursor = fields.String(
        allow_none=True, metadata={"description": "Pass as `cursor` for the next page"}
    )


class ParticipantAdminUpdateSchema(Schema):
    role = fields.String(validate=validate.OneOf(ROLES))
    status = fields.String(validate=validate.OneOf(STATUSES))

    @validates_schema
    def _something(self, data: dict[str, Any], **_: Any) -> None:
        if not data:
            raise ValidationError("Give role and/or status.", "_schema")


class ConsentGrantSchema(Schema):
    purpose = fields.String(
        load_default="special_category", validate=validate.OneOf(("special_category",))
    )
    text_version = fields.String(required=True, validate=validate.Length(1, 40))


# --- rounds ------------------------------------------------------------------------------


class RoundStartSchema(Schema):
    """Optional overrides of the program's matching settings for this round only."""

    objective = fields.String(validate=validate.OneOf(OBJECTIVES))
    weights = fields.Dict(
        keys=fields.String(validate=validate.OneOf(CRITERIA)),
        values=fields.Float(validate=validate.Range(0, 100), allow_nan=False),
    )
    min_overlap_minutes = fields.Integer(validate=validate.Range(0, 7 * 24 * 60))
    target_overlap_minutes = fields.Integer(validate=validate.Range(1, 7 * 24 * 60))
    min_experience_gap = fields.Integer(validate=validate.Range(-4, 4))
    max_experience_gap = fields.Integer(validate=validate.Range(-4, 4))
    ideal_experience_gap = fields.Integer(validate=validate.Range(-4, 4))
    forbid_same_org_unit = fields.Boolean()
    load_penalty = fields.Float(validate=validate.Range(0, 0.2), allow_nan=False)


class ProgressSchema(Schema):
    phase = fields.String()
    percent = fields.Float()


class RoundSchema(Schema):
    id = fields.Integer()
    program_id = fields.Integer()
    kind = fields.String(metadata={"description": "manual or rematch"})
    status = fields.String(
        metadata={"description": "queued, running, proposed, published, failed or discarded"}
    )
    parameters = fields.Dict(metadata={"description": "Settings snapshot used by the round"})
    progress = fields.Nested(ProgressSchema)
    stats = fields.Dict(allow_none=True)
    error = fields.Dict(allow_none=True, metadata={"description": "Problem detail on failure"})
    created_at = fields.DateTime()
    started_at = fields.DateTime(allow_none=True)
    finished_at = fields.DateTime(allow_none=True)
    published_at = fields.DateTime(allow_none=True)
    discarded_at = fields.DateTime(allow_none=True)
    matches_created = fields.Integer(metadata={"description": "Publish only"})


class PersonRefSchema(Schema):
    participant_id = fields.Integer()
    display_name = fields.String()


class CoveredNeedSchema(Schema):
    tag = fields.String()
    priority = fields.Integer()
    level = fields.Integer()


class RoundPairSchema(Schema):
    id = fields.Integer()
    mentee = fields.Nested(PersonRefSchema)
    mentor = fields.Nested(PersonRefSchema)
    score = fields.Float()
    breakdown = fields.Dict(keys=fields.String(), values=fields.Float())
    pinned = fields.Boolean()
    covered_needs = fields.List(fields.Nested(CoveredNeedSchema))
    shared_languages = fields.List(fields.String())


class RoundPairPageSchema(Schema):
    items = fields.List(fields.Nested(RoundPairSchema))
    total = fields.Integer()
    next_offset = fields.Integer(allow_none=True)


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
    mentee = fields.Nested(PersonRefSchema)
    reason = fields.String(
        metadata={"description": "no_feasible_mentor, capacity_taken or not_selected"}
    )
    details = fields.Dict()


class InfeasiblePinSchema(Schema):
    mentee = fields.Nested(PersonRefSchema)
    mentor = fields.Nested(PersonRefSchema)
    rules = fields.List(fields.String())


class RoundReportSchema(Schema):
    round_id = fields.Integer()
    status = fields.String()
    stats = fields.Dict(allow_none=True)
    unmatched_by_reason = fields.Dict(keys=fields.String(), values=fields.Integer())
    infeasible_pins = fields.List(fields.Nested(InfeasiblePinSchema))


class IdempotencyHeaderSchema(Schema):
    class Meta:
        unknown = EXCLUDE

    idempotency_key = fields.String(
        data_key="Idempotency-Key",
        validate=validate.Length(1, 200),
        metadata={"description": "Retries with the same key replay the first response"},
    )


class RematchRunSchema(Schema):
    round_id = fields.Integer()
    night = fields.String(metadata={"description": "Date the rematch ran for"})
    status = fields.String(metadata={"description": "proposed, published or discarded"})
    created_at = fields.DateTime()
    summary = fields.Dict(
        metadata={
            "description": "expired, pool sizes, matched, still_waiting by reason, "
            "deprioritised mentees, drained mentors"
        }
    )


# --- constraints -------------------------------------------------------------------------


class ConstraintCreateSchema(Schema):
    kind = fields.String(required=True, validate=validate.OneOf(("pin", "forbid")))
    mentee_id = fields.Integer(required=True, validate=validate.Range(1, 2**31 - 1))
    mentor_id = fields.Integer(required=True, validate=validate.Range(1, 2**31 - 1))
    note = fields.String(load_default="", validate=validate.Length(max=1000))


class ConstraintSchema(Schema):
    id = fields.Integer()
    kind = fields.String()
    mentee_id = fields.Integer()
    mentor_id = fields.Integer()
    note = fields.String()
    created_at = fields.DateTime()


# --- matches, check-ins ------------------------------------------------------------------


class SharedProfileSchema(Schema):
    participant_id = fields.Integer()
    display_name = fields.String()
    bio = fields.String()
    languages = fields.List(fields.String())
    timezone = fields.String(allow_none=True)
    availability = fields.List(fields.Nested(WindowSchema))
    experience_level = fields.Integer(allow_none=True)
    org_unit = fields.String(allow_none=True)
    needs = fields.List(fields.Nested(NeedSchema))
    strengths = fields.List(fields.Nested(StrengthSchema))


class WhySchema(Schema):
    score = fields.Float()
    breakdown = fields.Dict(keys=fields.String(), values=fields.Float())
    covered_needs = fields.List(fields.String())
    shared_languages = fields.List(fields.String())


class MatchSchema(Schema):
    id = fields.Integer()
    program_id = fields.Integer()
    round_id = fields.Integer()
    my_side = fields.String(metadata={"description": "mentee or mentor"})
    status = fields.String()
    partner = fields.Nested(SharedProfileSchema)
    why = fields.Nested(WhySchema)
    proposed_at = fields.DateTime()
    expires_at = fields.DateTime()
    i_accepted = fields.Boolean()
    partner_accepted = fields.Boolean()
    activated_at = fields.DateTime(allow_none=True)
    closed_at = fields.DateTime(allow_none=True)
    closed_by = fields.String(allow_none=True)
    close_reason = fields.String(allow_none=True)


class DeclineSchema(Schema):
    reason = fields.String(validate=validate.Length(max=1000))


class EndSchema(Schema):
    reason = fields.String(required=True, validate=validate.Length(1, 1000))


class CheckInCreateSchema(Schema):
    rating = fields.Integer(required=True, validate=validate.Range(1, 5))
    signal = fields.String(validate=validate.OneOf(("ok", "stretched", "drained")))
    note = fields.String(
        load_default="",
        validate=validate.Length(max=4000),
        metadata={"description": "Seen only by the program's coordinators"},
    )


class CheckInSchema(Schema):
    id = fields.Integer()
    match_id = fields.Integer()
    author_side = fields.String()
    rating = fields.Integer()
    signal = fields.String(allow_none=True)
    note = fields.String()
    created_at = fields.DateTime()


class AttentionQuerySchema(Schema):
    weeks = fields.Integer(
        load_default=3,
        validate=validate.Range(1, 52),
        metadata={"description": "Flag relationships without a check-in for this many weeks"},
    )
    low_rating = fields.Integer(load_default=2, validate=validate.Range(1, 4))


class AttentionCheckInSchema(Schema):
    author_side = fields.String()
    rating = fields.Integer()
    signal = fields.String(allow_none=True)
    note = fields.String()
    created_at = fields.DateTime()


class AttentionSchema(Schema):
    match_id = fields.Integer()
    mentee = fields.Nested(PersonRefSchema)
    mentor = fields.Nested(PersonRefSchema)
    reasons = fields.List(
        fields.String(),
        metadata={"description": "low_rating, mentor_drained, mentee_drained, no_recent_check_in"},
    )
    activated_at = fields.DateTime(allow_none=True)
    last_check_in_at = fields.DateTime(allow_none=True)
    check_ins = fields.List(fields.Nested(AttentionCheckInSchema))


# --- CSV import --------------------------------------------------------------------------


class CsvUploadSchema(Schema):
    file = Upload(required=True, metadata={"description": "CSV file, UTF-8, header row"})


class ImportSummarySchema(Schema):
    rows = fields.Integer()
    accounts_created = fields.Integer()
    participants_created = fields.Integer()
    profiles_written = fields.Integer()


# --- privacy -----------------------------------------------------------------------------


class EraseSchema(Schema):
    password = fields.String(
        required=True,
        load_only=True,
        validate=validate.Length(1, 1024),
        metadata={"description": "Your password, to confirm the erasure"},
    )


class ExportParticipationSchema(ParticipantSchema):
    consent_history = fields.List(fields.Nested(ConsentSchema))


class ExportCheckInSchema(Schema):
    match_id = fields.Integer()
    author_side = fields.String()
    rating = fields.Integer()
    signal = fields.String(allow_none=True)
    note = fields.String()
    created_at = fields.DateTime()


class TokenInfoSchema(Schema):
    created_at = fields.DateTime()
    expires_at = fields.DateTime()
    revoked_at = fields.DateTime(allow_none=True)


class ExportSchema(Schema):
    exported_at = fields.DateTime()
    account = fields.Nested(MeSchema)
    participations = fields.List(fields.Nested(ExportParticipationSchema))
    matches = fields.List(fields.Nested(MatchSchema))
    check_ins = fields.List(fields.Nested(ExportCheckInSchema))
    tokens = fields.List(fields.Nested(TokenInfoSchema))
