"""Matches as participants see them, check-ins, and the coordinators' attention list."""

from __future__ import annotations

from marshmallow import Schema, validate

from api.domain.explanations import SHAREABLE_CRITERIA
from api.domain.vocabulary import Closer, FitAnswer, Health, MatchStatus, Side, Signal, values
from api.http.schemas import fields
from api.http.schemas.common import PAGE_SIZE_DEFAULT, PAGE_SIZE_MAX, PersonRefSchema, word
from api.http.schemas.profiles import NeedSchema, StrengthSchema, WindowSchema


class SharedProfileSchema(Schema):
    """What a partner may see of a participant: never special category data or notes."""

    participant_id = fields.Integer(required=True, attribute="id")
    display_name = fields.String(required=True)
    bio = fields.String(required=True)
    languages = fields.List(fields.String(), required=True)
    timezone = fields.String(required=True, allow_none=True)
    availability = fields.List(fields.Nested(WindowSchema), required=True)
    experience_level = fields.Integer(required=True, allow_none=True)
    org_unit = fields.String(required=True, allow_none=True)
    needs = fields.List(fields.Nested(NeedSchema), required=True)
    strengths = fields.List(fields.Nested(StrengthSchema), required=True)


#: The criteria a partner sees (none resting on special category data).
SharedExplanationSchema = type(
    "SharedExplanationSchema",
    (Schema,),
    {
        "__doc__": "A pair's score per criterion a partner may see, each in [0, 1] (the "
        "cultural criterion rests on special category data: coordinators only).",
        **{c: fields.Float(required=True) for c in SHAREABLE_CRITERIA},
    },
)


class WhySchema(Schema):
    score = fields.Float(
        required=True,
        metadata={"description": "Weighted mean of the criteria shown (coordinators see more)"},
    )
    breakdown = fields.Nested(SharedExplanationSchema, required=True)
    covered_needs = fields.List(fields.String(), required=True)
    shared_languages = fields.List(fields.String(), required=True)


class FitCheckSchema(Schema):
    asked_at = fields.DateTime(required=True, allow_none=True)
    my_answer = word(FitAnswer, allow_none=True)
    pending = fields.Boolean(
        required=True, metadata={"description": "Asked, and you have not answered yet"}
    )


class MatchSchema(Schema):
    id = fields.Integer(required=True)
    program_id = fields.Integer(required=True)
    round_id = fields.Integer(required=True)
    my_side = word(Side, metadata={"description": "mentee or mentor"})
    status = word(MatchStatus)
    partner = fields.Nested(SharedProfileSchema, required=True)
    why = fields.Nested(WhySchema, required=True)
    proposed_at = fields.DateTime(required=True)
    expires_at = fields.DateTime(required=True)
    i_accepted = fields.Boolean(required=True)
    partner_accepted = fields.Boolean(required=True)
    activated_at = fields.DateTime(required=True, allow_none=True)
    closed_at = fields.DateTime(required=True, allow_none=True)
    closed_by = word(Closer, allow_none=True)
    close_reason = fields.String(required=True, allow_none=True)
    fit_check = fields.Nested(FitCheckSchema, required=True)
    paused = fields.Boolean(required=True)
    survey_pending = fields.Boolean(
        required=True, metadata={"description": "Ended, and you have not answered its survey"}
    )


class DeclineSchema(Schema):
    reason = fields.String(
        validate=validate.Length(max=1000),
        metadata={"description": "Seen by you and the program's coordinators, not your partner"},
    )


class EndSchema(Schema):
    reason = fields.String(
        required=True,
        validate=validate.Length(1, 1000),
        metadata={"description": "Seen by you and the program's coordinators, not your partner"},
    )


class CheckInCreateSchema(Schema):
    rating = fields.Integer(required=True, validate=validate.Range(1, 5))
    signal = fields.String(validate=validate.OneOf(values(Signal)))
    note = fields.String(
        load_default="",
        validate=validate.Length(max=4000),
        metadata={"description": "Seen only by the program's coordinators"},
    )


class CheckInSchema(Schema):
    id = fields.Integer(required=True)
    match_id = fields.Integer(required=True)
    author_side = word(Side)
    rating = fields.Integer(required=True)
    signal = word(Signal, allow_none=True)
    note = fields.String(required=True)
    created_at = fields.DateTime(required=True)


class AttentionQuerySchema(Schema):
    weeks = fields.Integer(
        load_default=3,
        validate=validate.Range(1, 52),
        metadata={"description": "Flag relationships without a check-in for this many weeks"},
    )
    low_rating = fields.Integer(load_default=2, validate=validate.Range(1, 4))


class AttentionCheckInSchema(Schema):
    author_side = word(Side)
    rating = fields.Integer(required=True)
    signal = word(Signal, allow_none=True)
    note = fields.String(required=True)
    created_at = fields.DateTime(required=True)


class AttentionSchema(Schema):
    match_id = fields.Integer(required=True)
    mentee = fields.Nested(PersonRefSchema, required=True)
    mentor = fields.Nested(PersonRefSchema, required=True)
    reasons = fields.List(
        fields.String(),
        required=True,
        metadata={"description": "low_rating, mentor_drained, mentee_drained, no_recent_check_in"},
    )
    health = word(Health, allow_none=True)
    activated_at = fields.DateTime(required=True, allow_none=True)
    last_check_in_at = fields.DateTime(required=True, allow_none=True)
    check_ins = fields.List(fields.Nested(AttentionCheckInSchema), required=True)


# --- the program's matches, for coordinators ----------------------------------------------


class ProgramMatchQuerySchema(Schema):
    status = fields.List(
        fields.String(validate=validate.OneOf(values(MatchStatus))),
        metadata={"description": "Only matches in these statuses (repeat the parameter)"},
    )
    limit = fields.Integer(
        load_default=PAGE_SIZE_DEFAULT, validate=validate.Range(1, PAGE_SIZE_MAX)
    )
    cursor = fields.String(validate=validate.Length(1, 200))


class ProgramMatchSchema(Schema):
    id = fields.Integer(required=True)
    round_id = fields.Integer(required=True)
    status = word(MatchStatus)
    score = fields.Float(required=True)
    mentee = fields.Nested(PersonRefSchema, required=True)
    mentor = fields.Nested(PersonRefSchema, required=True)
    proposed_at = fields.DateTime(required=True)
    expires_at = fields.DateTime(required=True)
    mentee_accepted = fields.Boolean(required=True)
    mentor_accepted = fields.Boolean(required=True)
    activated_at = fields.DateTime(required=True, allow_none=True)
    closed_at = fields.DateTime(required=True, allow_none=True)
    closed_by = word(Closer, allow_none=True)
    close_reason = fields.String(required=True, allow_none=True)
    health = word(
        Health,
        allow_none=True,
        metadata={"description": "How a live match is doing (null once it is not live)"},
    )
    paused = fields.Boolean(required=True)
    fit_check_asked_at = fields.DateTime(required=True, allow_none=True)
    last_check_in = fields.Nested(AttentionCheckInSchema, required=True, allow_none=True)


class ProgramMatchPageSchema(Schema):
    items = fields.List(fields.Nested(ProgramMatchSchema), required=True)
    next_cursor = fields.String(
        required=True,
        allow_none=True,
        metadata={"description": "Pass as `cursor` for the next page"},
    )


class CoordinatorCloseSchema(Schema):
    reason = fields.String(
        required=True,
        validate=validate.Length(1, 1000),
        metadata={"description": "Why; the partners are told that a coordinator closed it"},
    )


class RatesSchema(Schema):
    acceptance = fields.Float(
        required=True,
        allow_none=True,
        metadata={"description": "Proposals both partners accepted / proposals answered"},
    )
    expiry = fields.Float(
        required=True,
        allow_none=True,
        metadata={"description": "Proposals that expired unanswered / proposals closed"},
    )


class DurationsSchema(Schema):
    median = fields.Float(required=True, allow_none=True)
    p90 = fields.Float(required=True, allow_none=True)
    count = fields.Integer(required=True)


def _counts(description: str) -> fields.Dict:
    return fields.Dict(
        keys=fields.String(),
        values=fields.Integer(),
        required=True,
        metadata={"description": description},
    )


class RoundFunnelSchema(Schema):
    round_id = fields.Integer(required=True)
    kind = fields.String(required=True)
    published_at = fields.DateTime(required=True, allow_none=True)
    matches = _counts("The round's matches by status now")
    rates = fields.Nested(RatesSchema, required=True)


class FunnelSchema(Schema):
    participants = _counts(
        "joined, profile_complete, mentees and mentors (complete profiles), paused, withdrawn"
    )
    waiting = fields.Integer(
        required=True,
        metadata={"description": "Active mentees with a complete profile and no live match"},
    )
    waiting_by_reason = _counts(
        "The last round's reason (no_feasible_mentor, capacity_taken, ...), else how "
        "their last match closed (after_declined, after_expired, ...), else "
        "not_yet_in_a_round"
    )
    matches = _counts("Matches by status")
    rates = fields.Nested(RatesSchema, required=True)
    days_to_first_proposal = fields.Nested(
        DurationsSchema,
        required=True,
        metadata={"description": "From a complete profile to the first proposal"},
    )
    rounds = fields.List(fields.Nested(RoundFunnelSchema), required=True)
    health = _counts("Live matches by health: " + ", ".join(values(Health)))
    load = _counts(
        "stretched_mentors and drained_mentors (latest signal as a mentor; drained ones "
        "get no new proposals until they resume), capacity_questions asked"
    )
