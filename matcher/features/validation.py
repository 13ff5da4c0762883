"""Validation of a :class:`Problem`: every input checked, named results, no arrays yet.

Each check raises :class:`matcher.errors.MatcherError` naming the offending
input; the checks run in a fixed order (settings, the two sides, each
person's common fields, each side's own fields, previous pairs, forbids,
pins), so the first error reported does not depend on the encoding.
"""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass

import numpy as np

from matcher.errors import MatcherError
from matcher.model import (
    CRITERIA,
    CULTURAL_PREFERENCES,
    OBJECTIVES,
    WAITING_PRIORITIES,
    Mentee,
    Mentor,
    Problem,
    Settings,
)
from matcher.timewindows import Interval, utc_intervals
from matcher.types import FloatArray

# Ids must fit an int64; capacities beyond this are certainly a data error.
_ID_LIMIT = 2**62
_CAPACITY_LIMIT = 100_000


def is_int(value: object) -> bool:
    """True for Python or numpy integers, but not bools."""
    return isinstance(value, int | np.integer) and not isinstance(value, bool)


def _check_int(value: object, field: str, lo: int | None = None, hi: int | None = None) -> int:
    if not is_int(value):
        raise MatcherError(f"{field}: expected an integer, got {value!r}", field=field)
    out: int = int(value)  # type: ignore[call-overload]
    if (lo is not None and out < lo) or (hi is not None and out > hi):
        bounds = f"{lo if lo is not None else '-inf'}..{hi if hi is not None else 'inf'}"
        raise MatcherError(
            f"{field}: {out} is outside the allowed range {bounds}",
            field=field,
            details={"value": out},
        )
    return out


def _check_float(
    value: object,
    field: str,
    *,
    positive: bool = False,
    lo: float | None = None,
    hi: float | None = None,
) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float | np.integer | np.floating):
        raise MatcherError(f"{field}: expected a number, got {value!r}", field=field)
    try:
        out = float(value)
    except OverflowError:
        out = math.inf
    if not math.isfinite(out) or out < 0 or (positive and out == 0):
        need = "a finite number > 0" if positive else "a finite number >= 0"
        raise MatcherError(f"{field}: expected {need}, got {value!r}", field=field)
    if (lo is not None and out < lo) or (hi is not None and out > hi):
        raise MatcherError(
            f"{field}: {out} is outside the allowed range {lo}..{hi}",
            field=field,
            details={"value": out},
        )
    return out


def _check_str_set(values: object, field: str) -> frozenset[str]:
    if isinstance(values, str) or not isinstance(values, Iterable):
        raise MatcherError(f"{field}: expected a set of strings", field=field)
    out: set[str] = set()
    for v in values:
        if not isinstance(v, str) or not v.strip():
            raise MatcherError(f"{field}: expected non-empty strings, got {v!r}", field=field)
        out.add(v.strip().lower())
    return frozenset(out)


def _check_tagged(values: object, field: str) -> list[tuple[str, int]]:
    if isinstance(values, str) or not isinstance(values, Iterable):
        raise MatcherError(f"{field}: expected a sequence of (tag, 1..3)", field=field)
    out: list[tuple[str, int]] = []
    seen: set[str] = set()
    for k, item in enumerate(values):
        if not isinstance(item, tuple | list) or len(item) != 2:
            raise MatcherError(
                f"{field}[{k}]: expected (tag, 1..3), got {item!r}", field=f"{field}[{k}]"
            )
        tag, value = item
        if not isinstance(tag, str) or not tag.strip():
            raise MatcherError(
                f"{field}[{k}]: tag must be a non-empty string", field=f"{field}[{k}]"
            )
        key = tag.strip().lower()
        if key in seen:
            raise MatcherError(f"{field}: tag {tag!r} appears twice", field=field)
        seen.add(key)
        out.append((key, _check_int(value, f"{field}[{k}]", 1, 3)))
    return out


def _norm_email(value: object, field: str) -> str | None:
    if value is None:
        return None
    if not isinstance(value, str):
        raise MatcherError(f"{field}: expected a string or None", field=field)
    text = value.strip().lower()
    return text or None


def _check_pairs(pairs: object, name: str) -> list[tuple[int, int]]:
    if isinstance(pairs, str) or not isinstance(pairs, Iterable):
        raise MatcherError(f"{name}: expected a sequence of (mentee_id, mentor_id)", field=name)
    out: list[tuple[int, int]] = []
    for k, pair in enumerate(pairs):
        if not isinstance(pair, tuple | list) or len(pair) != 2:
            raise MatcherError(
                f"{name}[{k}]: expected (mentee_id, mentor_id), got {pair!r}", field=f"{name}[{k}]"
            )
        out.append(
            (
                _check_int(pair[0], f"{name}[{k}][0]", -_ID_LIMIT, _ID_LIMIT),
                _check_int(pair[1], f"{name}[{k}][1]", -_ID_LIMIT, _ID_LIMIT),
            )
        )
    return out


def check_settings(settings: Settings) -> FloatArray:
    """Validate settings and return the normalised weights in CRITERIA order.

    Parameters
    ----------
    settings : Settings
        Program settings.

    Returns
    -------
    ndarray of float64
        Weights summing to 1.

    Raises
    ------
    MatcherError
        Naming the first bad setting.
    """
    if not isinstance(settings, Settings):
        raise MatcherError("settings: expected a matcher.Settings", field="settings")
    if not isinstance(settings.weights, Mapping):
        raise MatcherError("settings.weights: expected a mapping", field="settings.weights")
    for name in settings.weights:
        if name not in CRITERIA:
            raise MatcherError(
                f"settings.weights: unknown criterion {name!r}",
                field="settings.weights",
                details={"allowed": list(CRITERIA)},
            )
    raw = np.array(
        [_check_float(settings.weights.get(c, 0.0), f"settings.weights.{c}") for c in CRITERIA],
        dtype=np.float64,
    )
    total = float(raw.sum())
    if not total > 0 or not math.isfinite(total):
        raise MatcherError(
            "settings.weights: at least one weight must be positive", field="settings.weights"
        )
    if settings.objective not in OBJECTIVES:
        raise MatcherError(
            f"settings.objective: unknown objective {settings.objective!r}",
            field="settings.objective",
            details={"allowed": list(OBJECTIVES)},
        )
    _check_int(settings.min_overlap_minutes, "settings.min_overlap_minutes", 0, 10080)
    _check_int(settings.target_overlap_minutes, "settings.target_overlap_minutes", 0, 10080)
    lo = _check_int(settings.min_experience_gap, "settings.min_experience_gap", -100, 100)
    hi = _check_int(settings.max_experience_gap, "settings.max_experience_gap", -100, 100)
    if lo > hi:
        raise MatcherError(
            "settings.min_experience_gap is larger than settings.max_experience_gap",
            field="settings.min_experience_gap",
        )
    _check_int(settings.ideal_experience_gap, "settings.ideal_experience_gap", -100, 100)
    _check_float(settings.load_penalty, "settings.load_penalty", hi=1.0)
    _check_float(settings.min_score, "settings.min_score", hi=1.0)
    _check_int(settings.min_needs_covered, "settings.min_needs_covered", 0, 100)
    if settings.waiting_priority not in WAITING_PRIORITIES:
        raise MatcherError(
            f"settings.waiting_priority: unknown priority {settings.waiting_priority!r}",
            field="settings.waiting_priority",
            details={"allowed": list(WAITING_PRIORITIES)},
        )
    _check_float(settings.waiting_class_days, "settings.waiting_class_days", positive=True, lo=1e-3)
    if settings.reference_date is not None and (
        not isinstance(settings.reference_date, dt.date)
        or isinstance(settings.reference_date, dt.datetime)
    ):
        raise MatcherError(
            "settings.reference_date: expected a datetime.date", field="settings.reference_date"
        )
    if not isinstance(settings.forbid_same_org_unit, bool):
        raise MatcherError(
            "settings.forbid_same_org_unit: expected a bool", field="settings.forbid_same_org_unit"
        )
    return raw / total


@dataclass(frozen=True)
class Person:
    """The validated fields both sides share (normalised: trimmed, lower case, sorted).

    Attributes
    ----------
    languages, culture : tuple of str
        Language codes and cultural tags, sorted.
    intervals : list of Interval
        Weekly availability in UTC minutes.
    level : int
        Experience level 1..5.
    email, manager : str or None
        Own and manager's email.
    cultural_pref : int
        Index into ``CULTURAL_PREFERENCES``.
    org : str or None
        Organisation unit.
    preferred : frozenset of int
        Preferred partners' ids.
    """

    languages: tuple[str, ...]
    culture: tuple[str, ...]
    intervals: list[Interval]
    level: int
    email: str | None
    manager: str | None
    cultural_pref: int
    org: str | None
    preferred: frozenset[int]


def check_person(p: Mentee | Mentor, where: str, reference_date: dt.date) -> Person:
    """Validate the fields a mentee and a mentor share.

    Parameters
    ----------
    p : Mentee or Mentor
        The person.
    where : str
        Field path prefix, e.g. ``"mentees[3]"``.
    reference_date : date
        The week the availability windows are read in.

    Returns
    -------
    Person
    """
    languages = _check_str_set(p.languages, f"{where}.languages")
    culture = _check_str_set(p.cultural_tags, f"{where}.cultural_tags")
    if p.cultural_preference not in CULTURAL_PREFERENCES:
        raise MatcherError(
            f"{where}.cultural_preference: expected one of {list(CULTURAL_PREFERENCES)}, "
            f"got {p.cultural_preference!r}",
            field=f"{where}.cultural_preference",
        )
    if not isinstance(p.timezone, str):
        raise MatcherError(f"{where}.timezone: expected a string", field=f"{where}.timezone")
    if isinstance(p.availability, str) or not isinstance(p.availability, Iterable):
        raise MatcherError(
            f"{where}.availability: expected a sequence of Window",
            field=f"{where}.availability",
        )
    intervals = utc_intervals(
        tuple(p.availability), p.timezone, reference_date, f"{where}.availability"
    )
    level = _check_int(p.experience_level, f"{where}.experience_level", 1, 5)
    email = _norm_email(p.email, f"{where}.email")
    manager = _norm_email(p.manager_email, f"{where}.manager_email")
    if p.org_unit is not None and not isinstance(p.org_unit, str):
        raise MatcherError(
            f"{where}.org_unit: expected a string or None", field=f"{where}.org_unit"
        )
    if isinstance(p.preferred_partners, str) or not isinstance(p.preferred_partners, Iterable):
        raise MatcherError(
            f"{where}.preferred_partners: expected a set of ids",
            field=f"{where}.preferred_partners",
        )
    for pid in p.preferred_partners:
        _check_int(pid, f"{where}.preferred_partners", -_ID_LIMIT, _ID_LIMIT)
    return Person(
        languages=tuple(sorted(languages)),
        culture=tuple(sorted(culture)),
        intervals=intervals,
        level=level,
        email=email,
        manager=manager,
        cultural_pref=CULTURAL_PREFERENCES.index(p.cultural_preference),
        org=(p.org_unit or "").strip().lower() or None,
        preferred=frozenset(int(x) for x in p.preferred_partners),
    )


@dataclass(frozen=True)
class MentorLoad:
    """A mentor's validated capacity fields."""

    free: int  # capacity - current_load
    load: int
    paused: bool


def check_mentor_load(r: Mentor, k: int) -> MentorLoad:
    """Validate ``mentors[k]``'s capacity, current load and pause flag."""
    capacity = _check_int(r.capacity, f"mentors[{k}].capacity", 0, _CAPACITY_LIMIT)
    load = _check_int(r.current_load, f"mentors[{k}].current_load", 0, _CAPACITY_LIMIT)
    if not isinstance(r.paused, bool):
        raise MatcherError(f"mentors[{k}].paused: expected a bool", field=f"mentors[{k}].paused")
    return MentorLoad(capacity - load, load, r.paused)


def check_tags(values: object, field: str) -> list[tuple[str, int]]:
    """Validate a needs or strengths list: (tag, 1..3), each tag once."""
    return _check_tagged(values, field)


def check_waiting(e: Mentee, k: int) -> float:
    """Validate ``mentees[k].waiting_days``."""
    return _check_float(e.waiting_days, f"mentees[{k}].waiting_days", hi=1e6)


def check_sides(problem: Problem) -> tuple[tuple[Mentee, ...], tuple[Mentor, ...]]:
    """The two sides as tuples of the right types."""
    for name in ("mentees", "mentors"):
        side_value = getattr(problem, name)
        if isinstance(side_value, str | bytes | Mapping) or not isinstance(side_value, Iterable):
            raise MatcherError(f"{name}: expected a sequence", field=name)
    mentees = tuple(problem.mentees)
    mentors = tuple(problem.mentors)
    for k, e in enumerate(mentees):
        if not isinstance(e, Mentee):
            raise MatcherError(f"mentees[{k}]: expected a matcher.Mentee", field=f"mentees[{k}]")
    for k, r in enumerate(mentors):
        if not isinstance(r, Mentor):
            raise MatcherError(f"mentors[{k}]: expected a matcher.Mentor", field=f"mentors[{k}]")
    return mentees, mentors


def check_ids(people: Sequence[Mentee | Mentor], side: str) -> dict[int, int]:
    """Id -> position of one side (``side`` is ``"mentee"`` or ``"mentor"``); ids unique."""
    index: dict[int, int] = {}
    for k, p in enumerate(people):
        where = f"{side}s[{k}].id"
        i = _check_int(p.id, where, -_ID_LIMIT, _ID_LIMIT)
        if i in index:
            raise MatcherError(f"{where}: duplicate {side} id {i}", field=where, details={"id": i})
        index[i] = k
    return index


def check_pair_list(pairs: object, name: str) -> list[tuple[int, int]]:
    """Validate a sequence of (mentee_id, mentor_id) pairs."""
    return _check_pairs(pairs, name)


def check_pins(
    pins: object, mentee_index: dict[int, int], mentor_index: dict[int, int]
) -> tuple[tuple[int, int], ...]:
    """Pins as (mentee index, mentor index): known ids, each mentee pinned once."""
    out: list[tuple[int, int]] = []
    pinned: set[int] = set()
    for k, (a, b) in enumerate(_check_pairs(pins, "pins")):
        if a not in mentee_index:
            raise MatcherError(
                f"pins[{k}]: unknown mentee id {a}", field=f"pins[{k}]", details={"mentee_id": a}
            )
        if b not in mentor_index:
            raise MatcherError(
                f"pins[{k}]: unknown mentor id {b}", field=f"pins[{k}]", details={"mentor_id": b}
            )
        if a in pinned:
            raise MatcherError(
                f"pins[{k}]: mentee {a} is pinned more than once",
                field=f"pins[{k}]",
                details={"mentee_id": a},
            )
        pinned.add(a)
        out.append((mentee_index[a], mentor_index[b]))
    return tuple(out)
