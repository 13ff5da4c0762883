"""Matcher inputs: frozen dataclasses holding plain Python values.

Everything here is a value object: the matcher validates it when solving and
raises :class:`matcher.MatcherError` naming the offending field, so these
classes do no checking of their own (a service can build them from rows
without try/except around each constructor).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Final

#: Criteria of the score, in the order used everywhere (breakdowns, weights).
CRITERIA: Final = ("needs", "availability", "language", "culture", "experience", "preference")

#: Hard rules, in the order used in reports. A pair is infeasible when any holds.
RULES: Final = (
    "same_person",
    "no_shared_language",
    "insufficient_overlap",
    "previous_partner",
    "forbidden",
    "mentor_paused",
    "mentor_full",
    "reporting_line",
    "experience_gap",
    "same_org_unit",
    "too_few_needs_covered",
    "below_min_score",
)

OBJECTIVES: Final = ("max_participation", "max_score", "fair", "stable")
CULTURAL_PREFERENCES: Final = ("shared", "open", "different")
#: How waiting time counts in ``max_participation`` and ``fair`` (``max_score`` always
#: uses it only to break ties of equal total; ``stable`` never):
#: ``strong``: longer waiters first, before the total score; ``tie_break``: the total
#: score first, waiting only among matchings of equal size and total on the score grid;
#: ``none``: waiting plays no part.
WAITING_PRIORITIES: Final = ("strong", "tie_break", "none")

#: Default criterion weights (any non-negative scale; they are normalised).
DEFAULT_WEIGHTS: Final[Mapping[str, float]] = MappingProxyType(
    {
        "needs": 0.35,
        "availability": 0.20,
        "language": 0.10,
        "culture": 0.10,
        "experience": 0.15,
        "preference": 0.10,
    }
)


@dataclass(frozen=True)
class Window:
    """A weekly availability window in the person's local time.

    Parameters
    ----------
    weekday : int
        0 = Monday ... 6 = Sunday (local calendar).
    start, end : str or int
        Local wall-clock time, either ``"HH:MM"`` (``"24:00"`` allowed as an
        end) or minutes after local midnight (0..1440). When ``end`` is earlier
        than ``start`` the window runs past midnight into the next day
        (``Window(4, "22:00", "01:00")`` is Friday 22:00 to Saturday 01:00).
        An empty window (``start == end``) is an error.
    """

    weekday: int
    start: str | int
    end: str | int


@dataclass(frozen=True, kw_only=True)
class Mentee:
    """A person asking for mentoring.

    Parameters
    ----------
    id : int
        Participant id; a person who is also a mentor has the same id there.
    needs : tuple of (str, int)
        ``(tag, priority)`` with priority 1..3 (3 = essential); tags unique.
    languages : frozenset of str
        ISO 639 codes the person can hold a conversation in.
    timezone : str
        IANA time zone name, e.g. ``"Europe/Berlin"``.
    availability : tuple of Window
        Weekly windows in local time.
    experience_level : int
        1..5.
    org_unit, email, manager_email : str or None
        Organisation unit; the person's own email and their manager's email
        (case-insensitive) for the reporting-line rule.
    preferred_partners : frozenset of int
        Mentor ids this mentee would like; unknown ids are ignored.
    cultural_tags : frozenset of str
        Cultural background tags; empty when there is no recorded consent,
        which makes the culture criterion neutral for this person.
    cultural_preference : {"shared", "open", "different"}
        What this person prefers in a partner's cultural background.
    waiting_days : float
        Days already spent waiting for a match (0 .. 1e6); longer waits get
        priority when not everyone can be matched.
    """

    id: int
    needs: tuple[tuple[str, int], ...] = ()
    languages: frozenset[str] = frozenset()
    timezone: str = "UTC"
    availability: tuple[Window, ...] = ()
    experience_level: int = 1
    org_unit: str | None = None
    email: str | None = None
    manager_email: str | None = None
    preferred_partners: frozenset[int] = frozenset()
    cultural_tags: frozenset[str] = frozenset()
    cultural_preference: str = "open"
    waiting_days: float = 0.0


@dataclass(frozen=True, kw_only=True)
class Mentor:
    """A person offering mentoring.

    Parameters
    ----------
    id : int
        Participant id; a person who is also a mentee has the same id there.
    strengths : tuple of (str, int)
        ``(tag, level)`` with level 1..3; tags unique.
    languages, timezone, availability, experience_level, org_unit, email,
    manager_email, cultural_tags, cultural_preference
        As for :class:`Mentee`.
    preferred_partners : frozenset of int
        Mentee ids this mentor would like; unknown ids are ignored.
    capacity : int
        Total number of mentees this mentor accepts (0 .. 100,000).
    current_load : int
        Mentees already in an active relationship (0 .. 100,000); the free
        slots are ``capacity - current_load`` (none when negative).
    paused : bool
        A paused mentor gets no new mentee.
    """

    id: int
    strengths: tuple[tuple[str, int], ...] = ()
    languages: frozenset[str] = frozenset()
    timezone: str = "UTC"
    availability: tuple[Window, ...] = ()
    experience_level: int = 1
    org_unit: str | None = None
    email: str | None = None
    manager_email: str | None = None
    preferred_partners: frozenset[int] = frozenset()
    cultural_tags: frozenset[str] = frozenset()
    cultural_preference: str = "open"
    capacity: int = 1
    current_load: int = 0
    paused: bool = False


@dataclass(frozen=True, kw_only=True)
class Settings:
    """Program matching settings.

    Parameters
    ----------
    weights : mapping of str to float
        Criterion name (see :data:`CRITERIA`) to a finite weight >= 0; missing
        criteria weigh 0, at least one weight must be positive. Normalised.
    objective : {"max_participation", "max_score", "fair", "stable"}
        See :func:`matcher.solve`.
    min_overlap_minutes : int
        Hard rule: a pair needs at least this weekly overlap (>= 0).
    target_overlap_minutes : int
        Overlap at which the availability criterion reaches 1 (>= 0; 0 makes
        the criterion 1 for every pair).
    min_experience_gap, max_experience_gap : int
        Hard rule: ``mentor.experience_level - mentee.experience_level`` must
        lie in this closed range.
    ideal_experience_gap : int
        Gap at which the experience criterion is 1; it falls by 1/4 per level
        of distance from it.
    load_penalty : float
        lambda in [0, 1]: the k-th slot of a mentor (counting current load and
        pins) scores ``s - lambda * (k - 1)`` in the objective (reports keep ``s``).
    reference_date : datetime.date or None
        Date whose following week fixes the UTC offsets of every time zone
        (daylight saving); ``None`` means today (UTC).
    waiting_class_days : float
        Waiting times are compared in whole classes of this many days
        (>= 0.001): ``floor(waiting_days / waiting_class_days)``.
    forbid_same_org_unit : bool
        Extra hard rule: no pair within the same organisation unit.
    min_needs_covered : int
        Hard rule ``too_few_needs_covered``: the mentor offers (any level) at least
        this many of the mentee's needs, or all of them when the mentee named fewer
        (0 .. 100; 0 turns it off).
    min_score : float
        Hard rule ``below_min_score``: the pair score is at least this (0 .. 1; 0
        turns it off), compared on the score grid.
    waiting_priority : {"strong", "tie_break", "none"}
        See :data:`WAITING_PRIORITIES`.
    """

    weights: Mapping[str, float] = field(default_factory=lambda: dict(DEFAULT_WEIGHTS))
    objective: str = "max_participation"
    min_overlap_minutes: int = 60
    target_overlap_minutes: int = 120
    min_experience_gap: int = 0
    max_experience_gap: int = 3
    ideal_experience_gap: int = 1
    load_penalty: float = 0.02
    reference_date: dt.date | None = None
    waiting_class_days: float = 1.0
    forbid_same_org_unit: bool = False
    min_needs_covered: int = 0
    min_score: float = 0.0
    waiting_priority: str = "strong"


@dataclass(frozen=True, kw_only=True)
class Problem:
    """One matching run.

    Parameters
    ----------
    mentees, mentors : tuple
        The two sides; ids unique within a side.
    settings : Settings
        Program settings.
    pins : tuple of (mentee_id, mentor_id)
        Coordinator pins, placed before optimising (in this order when they
        compete for a mentor's last slots). Ids must exist; a mentee may be
        pinned once.
    forbids : tuple of (mentee_id, mentor_id)
        Coordinator forbids. Pairs naming people not in this run are ignored.
    previous_pairs : tuple of (mentee_id, mentor_id)
        Earlier relationships, never proposed again. Unknown ids are ignored.
    """

    mentees: tuple[Mentee, ...] = ()
    mentors: tuple[Mentor, ...] = ()
    settings: Settings = field(default_factory=Settings)
    pins: tuple[tuple[int, int], ...] = ()
    forbids: tuple[tuple[int, int], ...] = ()
    previous_pairs: tuple[tuple[int, int], ...] = ()
