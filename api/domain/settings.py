"""A program's matching settings: the one place each setting is declared.

Each field of `ProgramSettings` carries its default, its range or vocabulary, its
description (the OpenAPI document shows it), whether a round may override it, and
whether the matcher takes it (under the same name in `matcher.Settings`). The API's
schemas are generated from these declarations (`api.http.schemas.settings`); the
services read settings only through this class. Adding a setting means adding one
field here (and, when the matcher needs it under another name, a line in
`to_matcher`).

Settings are stored as JSON on the program (`to_stored`); a stored program that lacks
a setting added later reads it with its default (`from_stored`).
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import math
import typing
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from enum import StrEnum
from functools import cache
from typing import Any

import matcher
from api.domain.errors import RuleViolation
from api.domain.vocabulary import CRITERIA, Objective, RematchPolicy, WaitingPriority

WEEK_MINUTES = 7 * 24 * 60

#: The criterion weights of a new program (any non-negative scale; they are normalised).
DEFAULT_WEIGHTS: Mapping[str, float] = {
    "needs": 0.4,
    "availability": 0.2,
    "language": 0.1,
    "culture": 0.1,
    "experience": 0.1,
    "preference": 0.1,
}
#: Where a new program starts differently from the setting's default (which is what
#: programs created before the setting was added keep).
NEW_PROGRAM_DEFAULTS: Mapping[str, Any] = {"min_needs_covered": 1}
#: Largest weight of one criterion.
MAX_WEIGHT = 100.0


@dataclass(frozen=True)
class Spec:
    """What the service knows of one setting besides its default."""

    description: str
    minimum: float | None = None
    maximum: float | None = None
    #: A round may set it for itself (`POST …/rounds` body).
    overridable: bool = False
    #: `matcher.Settings` takes it under the same name.
    matcher: bool = False


def _setting(default: Any, description: str, **spec: Any) -> Any:
    if isinstance(default, Mapping):
        frozen = dict(default)
        return field(
            default_factory=lambda: dict(frozen), metadata={"spec": Spec(description, **spec)}
        )
    return field(default=default, metadata={"spec": Spec(description, **spec)})


@dataclass(frozen=True, kw_only=True)
class ProgramSettings:
    """Matching settings of a program (or of one round: the program's plus overrides)."""

    objective: Objective = _setting(
        Objective.MAX_PARTICIPATION,
        "What the matcher optimises. max_participation: as many mentees matched as "
        "possible, then the best total score. max_score: the best total score, even if "
        "fewer are matched. fair: as many matched as possible, then the best lowest pair "
        "score, then the best total. stable: no mentee and mentor who would both rather be "
        "together than with the partners they got (each side ranks the other by the pair "
        "score; ties go to the lower participant id); of those matchings the one best for "
        "mentees. The round report compares the objectives on the same cohort.",
        overridable=True,
        matcher=True,
    )
    weights: Mapping[str, float] = _setting(
        DEFAULT_WEIGHTS,
        f"Criterion -> weight >= 0 (normalised; at least one positive); criteria: "
        f"{', '.join(CRITERIA)}. Criteria left out weigh 0.",
        minimum=0,
        maximum=MAX_WEIGHT,
        overridable=True,
        matcher=True,
    )
    min_overlap_minutes: int = _setting(
        60,
        "Hard rule: a pair needs at least this many minutes of weekly availability in common.",
        minimum=0,
        maximum=WEEK_MINUTES,
        overridable=True,
        matcher=True,
    )
    target_overlap_minutes: int = _setting(
        180,
        "Weekly overlap at which the availability criterion reaches its best (at least "
        "min_overlap_minutes).",
        minimum=1,
        maximum=WEEK_MINUTES,
        overridable=True,
        matcher=True,
    )
    min_experience_gap: int = _setting(
        0,
        "Hard rule: the mentor's experience level minus the mentee's is at least this.",
        minimum=-4,
        maximum=4,
        overridable=True,
        matcher=True,
    )
    max_experience_gap: int = _setting(
        4,
        "Hard rule: the mentor's experience level minus the mentee's is at most this.",
        minimum=-4,
        maximum=4,
        overridable=True,
        matcher=True,
    )
    ideal_experience_gap: int = _setting(
        1,
        "Mentor minus mentee level that scores best on experience.",
        minimum=-4,
        maximum=4,
        overridable=True,
        matcher=True,
    )
    forbid_same_org_unit: bool = _setting(
        False,
        "Hard rule: never pair two people of the same organisation unit.",
        overridable=True,
        matcher=True,
    )
    min_needs_covered: int = _setting(
        0,
        "Minimum fit: a mentor must offer at least this many of the mentee's needs (all "
        "of them when the mentee named fewer), or the pair is never proposed (0: off). "
        "New programs start at 1, so nobody is paired with a mentor who offers none of "
        "their needs; programs created before this setting keep 0 until changed.",
        minimum=0,
        maximum=10,
        overridable=True,
        matcher=True,
    )
    min_score: float = _setting(
        0.0,
        "Minimum fit: pairs scoring below this (0 to 1) are never proposed (0: off). "
        "Mentees left without a partner by it are reported under the rule below_min_score.",
        minimum=0,
        maximum=1,
        overridable=True,
        matcher=True,
    )
    compare_objectives: bool = _setting(
        True,
        "The round report compares every objective on the round's own cohort (matched, "
        "total, mean and lowest score, blocking pairs): one extra solve per objective. "
        "Rounds above 4,000,000 mentee-mentor pairs, and the nightly rematch, skip it.",
        overridable=True,
    )
    default_capacity: int = _setting(
        2,
        "Mentees a mentor takes at once when their profile does not say.",
        minimum=0,
        maximum=50,
    )
    max_capacity: int = _setting(
        5,
        "Most mentees a mentor may take at once.",
        minimum=1,
        maximum=50,
    )
    load_penalty: float = _setting(
        0.02,
        "Each further mentee of one mentor scores this much less, so load spreads.",
        minimum=0,
        maximum=0.2,
        overridable=True,
        matcher=True,
    )
    relationship_weeks: int = _setting(
        12,
        "How long a relationship is meant to run.",
        minimum=1,
        maximum=104,
    )
    proposal_expiry_days: int = _setting(
        7,
        "Days the partners have to answer a proposal before it expires.",
        minimum=1,
        maximum=60,
    )
    reminder_days: int = _setting(
        3,
        "Days after a proposal was sent that a partner who has not answered gets one "
        "reminder (0: no reminders; a reminder due after the proposal expires is not sent).",
        minimum=0,
        maximum=60,
    )
    checkin_every_weeks: int = _setting(
        2,
        "Weeks between the check-in prompts each partner of an active match gets "
        "(0: no prompts); a partner who checked in during the period gets none.",
        minimum=0,
        maximum=26,
    )
    waiting_priority: WaitingPriority = _setting(
        WaitingPriority.TIE_BREAK,
        "How waiting time counts (max_participation and fair). tie_break: the best fit "
        "first; among matchings of equal size and equal total score, those who waited "
        "longer. strong: those who waited longer first, even at a lower total score (a "
        "queue). none: waiting plays no part. max_score uses waiting only to break ties; "
        "stable never. Waiting counts from when the person's profile was complete, and a "
        "match that failed through no fault of theirs keeps their place.",
        overridable=True,
        matcher=True,
    )
    waiting_class_days: float = _setting(
        14.0,
        "Waiting times are compared in whole classes of this many days (a mentee who "
        "waited 20 days and one who waited 27 are equal with 14).",
        minimum=0.001,
        maximum=365,
        overridable=True,
        matcher=True,
    )
    fit_check_days: int = _setting(
        14,
        "Days after a match becomes active that both partners are asked, once, how the "
        "first meeting went (good_fit, not_sure, not_a_fit, not_met_yet).",
        minimum=1,
        maximum=90,
    )
    quiet_after_weeks: int = _setting(
        4,
        "Weeks without a check-in from either partner after which an active match is "
        "quiet: the partners get one nudge and coordinators see it.",
        minimum=1,
        maximum=52,
    )
    concern_retention_days: int = _setting(
        365,
        "Days a resolved concern is kept (then deleted by the nightly job).",
        minimum=30,
        maximum=3650,
    )
    rematch_policy: RematchPolicy = _setting(
        RematchPolicy.PROPOSE,
        "What the nightly rematch does: off, propose (a round for the coordinators to "
        "review) or publish (proposals go out at once).",
    )

    # --- reading and writing ---------------------------------------------------------

    @classmethod
    def from_stored(cls, stored: Mapping[str, Any] | None) -> ProgramSettings:
        """Stored settings (validated when written) over the defaults; keys of settings
        that no longer exist are ignored."""
        known = {k: v for k, v in (stored or {}).items() if k in SPECS}
        return cls(**_coerce(known))

    @classmethod
    def parse(cls, data: Mapping[str, Any]) -> ProgramSettings:
        """Settings from input: every value and cross-field rule checked (RuleViolation)."""
        return cls().changed(data)

    @classmethod
    def for_new_program(cls, data: Mapping[str, Any]) -> ProgramSettings:
        """A new program's settings: `NEW_PROGRAM_DEFAULTS` under what was given."""
        return cls().changed({**NEW_PROGRAM_DEFAULTS, **data})

    def changed(self, changes: Mapping[str, Any]) -> ProgramSettings:
        """These settings with `changes` applied and checked (RuleViolation)."""
        errors: dict[str, list[str]] = {}
        for name, value in changes.items():
            message = check_value(name, value)
            if message:
                errors[name] = [message]
        if errors:
            raise RuleViolation(errors)
        result = dataclasses.replace(self, **_coerce(changes))
        result.check()
        return result

    def for_round(self, overrides: Mapping[str, Any]) -> ProgramSettings:
        """The settings a round runs with: these, with the round's overrides."""
        refused = sorted(set(overrides) - set(OVERRIDABLE))
        if refused:
            raise RuleViolation(
                {name: ["A round cannot override this setting."] for name in refused}
            )
        return self.changed(overrides)

    def to_stored(self) -> dict[str, Any]:
        """The JSON form (enums as their words, weights as a plain dict)."""
        out: dict[str, Any] = {}
        for name in SPECS:
            value = getattr(self, name)
            if isinstance(value, Mapping):
                value = dict(value)
            elif isinstance(value, StrEnum):
                value = value.value
            out[name] = value
        return out

    def check(self) -> None:
        """The cross-field rules (each value on its own is checked by `changed`)."""
        errors: dict[str, list[str]] = {}
        if not any(math.isfinite(w) and w > 0 for w in self.weights.values()):
            errors["weights"] = ["At least one criterion needs a positive weight."]
        if self.target_overlap_minutes < self.min_overlap_minutes:
            errors["target_overlap_minutes"] = ["Must be at least min_overlap_minutes."]
        if self.max_experience_gap < self.min_experience_gap:
            errors["max_experience_gap"] = ["Must be at least min_experience_gap."]
        if self.default_capacity > self.max_capacity:
            errors["default_capacity"] = ["Must not exceed max_capacity."]
        if errors:
            raise RuleViolation(errors)

    # --- for the matcher -------------------------------------------------------------

    def to_matcher(self, reference_date: dt.date) -> matcher.Settings:
        """Every setting the matcher takes, given explicitly (its own defaults unused)."""
        taken = {name: getattr(self, name) for name, spec in SPECS.items() if spec.matcher}
        taken["weights"] = dict(self.weights)
        taken["objective"] = str(self.objective)
        taken["waiting_priority"] = str(self.waiting_priority)
        return matcher.Settings(reference_date=reference_date, **taken)


SPECS: Mapping[str, Spec] = {
    f.name: f.metadata["spec"] for f in dataclasses.fields(ProgramSettings)
}
#: The settings a round may override.
OVERRIDABLE: tuple[str, ...] = tuple(name for name, spec in SPECS.items() if spec.overridable)


@cache
def kinds() -> Mapping[str, Any]:
    """Setting name -> its Python type (`int`, `float`, `bool`, a StrEnum, or Mapping)."""
    hints = typing.get_type_hints(ProgramSettings)
    return {name: hints[name] for name in SPECS}


def kind_of(name: str) -> Any:
    kind = kinds()[name]
    return Mapping if typing.get_origin(kind) is not None else kind


def default_of(name: str) -> Any:
    """The default of setting `name`, in its JSON form."""
    return _DEFAULTS.to_stored()[name]


def new_program_default_of(name: str) -> Any:
    """What a new program starts with for setting `name`, in its JSON form."""
    return NEW_PROGRAM_DEFAULTS.get(name, default_of(name))


def check_value(name: str, value: Any) -> str | None:
    """Why `value` is not a valid value of setting `name` (None when it is)."""
    spec = SPECS.get(name)
    if spec is None:
        return "Not a setting."
    kind = kind_of(name)
    if isinstance(kind, type) and issubclass(kind, StrEnum):
        words = [member.value for member in kind]
        return None if value in words else f"Must be one of: {', '.join(words)}."
    return _CHECKERS[kind](spec, value)


def _in_range(spec: Spec, value: float) -> str | None:
    if not math.isfinite(value):
        return "Must be a finite number."
    if spec.minimum is not None and value < spec.minimum:
        return f"Must be at least {spec.minimum:g}."
    if spec.maximum is not None and value > spec.maximum:
        return f"Must be at most {spec.maximum:g}."
    return None


def _check_int(spec: Spec, value: Any) -> str | None:
    if isinstance(value, bool) or not isinstance(value, int):
        return "Must be a whole number."
    return _in_range(spec, value)


def _check_float(spec: Spec, value: Any) -> str | None:
    if isinstance(value, bool) or not isinstance(value, int | float):
        return "Must be a number."
    return _in_range(spec, float(value))


def _check_bool(spec: Spec, value: Any) -> str | None:
    return None if isinstance(value, bool) else "Must be true or false."


def _check_weights(spec: Spec, value: Any) -> str | None:
    if not isinstance(value, Mapping):
        return "Must map criteria to weights."
    unknown = sorted(str(k) for k in value if k not in CRITERIA)
    if unknown:
        return f"Unknown criteria: {', '.join(unknown)}; criteria are {', '.join(CRITERIA)}."
    for criterion, weight in value.items():
        message = _check_float(spec, weight)
        if message:
            return f"{criterion}: {message}"
    return None


_CHECKERS: dict[Any, Callable[[Spec, Any], str | None]] = {
    int: _check_int,
    float: _check_float,
    bool: _check_bool,
    Mapping: _check_weights,
}


def _coerce(values: Mapping[str, Any]) -> dict[str, Any]:
    # Stored JSON holds enums as plain strings and floats that may be written as ints.
    out: dict[str, Any] = {}
    for name, value in values.items():
        kind = kind_of(name)
        if kind is float:
            value = float(value)
        elif kind is Mapping:
            value = {str(k): float(v) for k, v in value.items()}
        elif isinstance(kind, type) and issubclass(kind, StrEnum):
            value = kind(value)
        out[name] = value
    return out


_DEFAULTS = ProgramSettings()
