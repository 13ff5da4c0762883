"""Matching rounds, their pairs and reports, the rematch runs, constraints."""

from __future__ import annotations

from marshmallow import EXCLUDE, Schema, validate

from api.domain.vocabulary import CRITERIA, ConstraintKind, RoundKind, RoundStatus, values
from api.http.schemas import fields
from api.http.schemas.common import ID_MAX, PAGE_SIZE_DEFAULT, PAGE_SIZE_MAX, PersonRefSchema, word
from api.http.schemas.settings import ProgramSettingsOutSchema, RoundStartSchema

#: A pair's score per criterion, each in [0, 1] (unpenalised).
ExplanationSchema = type(
    "ExplanationSchema",
    (Schema,),
    {
        "__doc__": "A pair's score per criterion, each in [0, 1].",
        **{c: fields.Float(required=True) for c in CRITERIA},
    },
)


class MentorLoadSchema(Schema):
    histogram = fields.Dict(
        keys=fields.String(),
        values=fields.Integer(),
        required=True,
        metadata={"description": "Load (as a string) -> number of mentors"},
    )
    max = fields.Integer(required=True)
    mean = fields.Float(required=True)
    utilisation = fields.Float(
        required=True, metadata={"description": "Total load / total capacity"}
    )
    new_max = fields.Integer(
        required=True, metadata={"description": "Most new mentees given to one mentor"}
    )


class PhaseSecondsSchema(Schema):
    load = fields.Float(required=True)
    match = fields.Float(required=True)
    persist = fields.Float(required=True)
    compare = fields.Float(metadata={"description": "The objective comparison's extra solves"})


class ObjectiveFiguresSchema(Schema):
    """What one objective gives on the round's cohort."""

    matched_count = fields.Integer(required=True)
    total_score = fields.Float(required=True, allow_none=True)
    mean_score = fields.Float(required=True, allow_none=True)
    min_score = fields.Float(required=True, allow_none=True)
    needs_coverage = fields.Float(required=True, allow_none=True)
    blocking_pairs = fields.Integer(required=True)
    solve_seconds = fields.Float(required=True)


class RoundStatsSchema(Schema):
    """A round's figures (the matcher's statistics, and the service's). Figures added in
    later versions are absent from the stats of older rounds, so none is required."""

    objective = fields.String()
    mentee_count = fields.Integer()
    mentor_count = fields.Integer()
    matched_count = fields.Integer()
    pinned_count = fields.Integer()
    match_rate = fields.Float()
    total_score = fields.Float(allow_none=True)
    mean_score = fields.Float(allow_none=True)
    min_score = fields.Float(allow_none=True)
    objective_total = fields.Float()
    fair_min_score = fields.Float(allow_none=True)
    needs_coverage = fields.Float(allow_none=True)
    mentor_load = fields.Nested(MentorLoadSchema)
    blocking_pairs = fields.Integer(
        metadata={"description": "Mentee and mentor who would both rather be together"}
    )
    feasible_pairs = fields.Integer()
    score_resolution = fields.Float()
    waiting_classes = fields.Integer()
    solver = fields.String()
    scoring_seconds = fields.Float()
    solve_seconds = fields.Float()
    total_seconds = fields.Float()
    certified_optimal = fields.Boolean()
    pricing_rounds = fields.Integer()
    pairs_considered = fields.Integer()
    first_solve_gap = fields.Float()
    excluded_mentees = fields.Dict(
        keys=fields.String(),
        values=fields.Integer(),
        metadata={"description": "Mentees left out of the pool, by reason"},
    )
    phase_seconds = fields.Nested(PhaseSecondsSchema)
    objective_comparison = fields.Dict(
        keys=fields.String(),
        values=fields.Nested(ObjectiveFiguresSchema),
        allow_none=True,
        metadata={
            "description": "Objective -> what it gives on this same cohort (matched, "
            "scores, blocking pairs), so the price of the chosen objective is visible "
            "before publishing; null when the round was too large to compare "
            "(setting compare_objectives)."
        },
    )
    rematch = fields.Dict(metadata={"description": "Nightly rematch rounds: the run's summary"})


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
    parameters = fields.Nested(
        ProgramSettingsOutSchema,
        required=True,
        attribute="settings",
        metadata={"description": "The settings the round ran with (the program's, overridden)"},
    )
    progress = fields.Nested(ProgressSchema, required=True)
    stats = fields.Nested(RoundStatsSchema, required=True, allow_none=True)
    error = fields.Dict(
        required=True, allow_none=True, metadata={"description": "Problem detail on failure"}
    )
    attempts = fields.Integer(
        required=True,
        metadata={
            "description": "Runs started: more than 1 when a runner was lost and the round "
            "re-queued (at most ROUND_MAX_ATTEMPTS)"
        },
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
    breakdown = fields.Nested(ExplanationSchema, required=True)
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


class CsvQuerySchema(Schema):
    excel = fields.Boolean(
        load_default=False,
        metadata={
            "description": "true: start with a UTF-8 byte order mark, so that Excel reads "
            "names with accents right"
        },
    )


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
    stats = fields.Nested(RoundStatsSchema, required=True, allow_none=True)
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
    status = word(
        RoundStatus,
        metadata={
            "description": "proposed, published or discarded; failed: the program's rematch "
            "did not run that night (summary.detail says why)"
        },
    )
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
