"""Validation of a :class:`Problem` and its translation to numpy arrays.

This is the only place where ids become indices: row ``i`` is
``problem.mentees[i]`` and column ``j`` is ``problem.mentors[j]``. The arrays
never leave the package.
"""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass

import numpy as np
import scipy.sparse as sp

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
from matcher.timewindows import Interval, segment_cover, utc_intervals
from matcher.types import BoolArray, Float32Array, FloatArray, IntArray

# Ancestors followed up a reporting line; deeper chains are cut (and cycles end).
_MAX_CHAIN = 16
# Ids must fit an int64; capacities beyond this are certainly a data error.
_ID_LIMIT = 2**62
_CAPACITY_LIMIT = 100_000
PREF_SHARED, PREF_OPEN, PREF_DIFFERENT = 0, 1, 2


@dataclass(frozen=True)
class Side:
    """Per-person arrays of one side (mentees or mentors)."""

    ids: IntArray
    tags: Float32Array  # needs priority (mentees) or strength level (mentors) per tag
    languages: Float32Array  # 0/1 per language
    n_languages: FloatArray
    cover: Float32Array  # availability cover (lengths for mentees, 0/1 for mentors)
    culture: Float32Array  # 0/1 per cultural tag
    n_culture: FloatArray
    cultural_pref: IntArray
    level: IntArray
    email: IntArray  # code, -1 when unknown
    manager: IntArray  # code, -1 when unknown
    ancestors: IntArray  # shape (people, depth): codes up the reporting line, -1 padded
    org: IntArray  # code, -1 when unknown
    has_prefs: BoolArray


@dataclass(frozen=True)
class Prepared:
    """A validated problem as arrays, plus the index <-> id mapping."""

    problem: Problem
    settings: Settings
    reference_date: dt.date
    weights: FloatArray  # normalised, in CRITERIA order
    mentees: Side
    mentors: Side
    mentee_index: dict[int, int]
    mentor_index: dict[int, int]
    need_den: FloatArray  # 3 * sum of priorities per mentee
    free: IntArray  # capacity - current_load per mentor
    load: IntArray  # current_load per mentor
    paused: BoolArray
    waiting: FloatArray
    previous: sp.csr_array
    forbidden: sp.csr_array
    mentee_prefers: sp.csr_array
    mentor_prefers: sp.csr_array
    previous_codes: IntArray  # sorted i * m + j
    forbidden_codes: IntArray
    mentee_prefers_codes: IntArray
    mentor_prefers_codes: IntArray
    reporting: sp.csr_array  # one is above the other in a reporting line
    reporting_codes: IntArray
    pins: tuple[tuple[int, int], ...]  # (mentee index, mentor index), validated

    @property
    def n(self) -> int:
        """Number of mentees."""
        return len(self.mentees.ids)

    @property
    def m(self) -> int:
        """Number of mentors."""
        return len(self.mentors.ids)


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


class _Codes:
    """Dense integer codes for strings (tags, languages, emails...)."""

    def __init__(self) -> None:
        self.codes: dict[str, int] = {}

    def get(self, key: str | None) -> int:
        if key is None:
            return -1
        return self.codes.setdefault(key, len(self.codes))


def _one_hot(rows: Sequence[Iterable[int]], width: int) -> Float32Array:
    out = np.zeros((len(rows), width), dtype=np.float32)
    for i, cols in enumerate(rows):
        for j in cols:
            out[i, j] = 1.0
    return out


def _pair_matrix(pairs: Iterable[tuple[int, int]], n: int, m: int) -> tuple[sp.csr_array, IntArray]:
    plist = sorted(set(pairs))
    rows = np.fromiter((p[0] for p in plist), dtype=np.int64, count=len(plist))
    cols = np.fromiter((p[1] for p in plist), dtype=np.int64, count=len(plist))
    data = np.ones(len(plist), dtype=np.bool_)
    matrix = sp.csr_array((data, (rows, cols)), shape=(max(n, 0), max(m, 0)))
    codes = np.sort(rows * max(m, 1) + cols)
    return matrix, codes


def prepare(problem: Problem) -> Prepared:
    """Validate a problem and build its arrays.

    Parameters
    ----------
    problem : Problem
        The matching problem.

    Returns
    -------
    Prepared
        Arrays indexed by input order.

    Raises
    ------
    MatcherError
        On any inconsistent or malformed input, naming it.
    """
    if not isinstance(problem, Problem):
        raise MatcherError("expected a matcher.Problem", field="problem")
    weights = check_settings(problem.settings)
    settings = problem.settings
    reference_date = settings.reference_date or dt.datetime.now(dt.UTC).date()
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

    mentee_index: dict[int, int] = {}
    for k, e in enumerate(mentees):
        i = _check_int(e.id, f"mentees[{k}].id", -_ID_LIMIT, _ID_LIMIT)
        if i in mentee_index:
            raise MatcherError(
                f"mentees[{k}].id: duplicate mentee id {i}",
                field=f"mentees[{k}].id",
                details={"id": i},
            )
        mentee_index[i] = k
    mentor_index: dict[int, int] = {}
    for k, r in enumerate(mentors):
        j = _check_int(r.id, f"mentors[{k}].id", -_ID_LIMIT, _ID_LIMIT)
        if j in mentor_index:
            raise MatcherError(
                f"mentors[{k}].id: duplicate mentor id {j}",
                field=f"mentors[{k}].id",
                details={"id": j},
            )
        mentor_index[j] = k

    tags = _Codes()
    langs = _Codes()
    cult = _Codes()
    emails = _Codes()
    orgs = _Codes()

    def person_common(
        p: Mentee | Mentor, where: str
    ) -> tuple[
        list[int], list[int], list[Interval], int, int, int, int, str | None, str | None, int
    ]:
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
        org = orgs.get((p.org_unit or "").strip().lower() or None)
        if isinstance(p.preferred_partners, str) or not isinstance(p.preferred_partners, Iterable):
            raise MatcherError(
                f"{where}.preferred_partners: expected a set of ids",
                field=f"{where}.preferred_partners",
            )
        for pid in p.preferred_partners:
            _check_int(pid, f"{where}.preferred_partners", -_ID_LIMIT, _ID_LIMIT)
        return (
            [langs.get(x) for x in sorted(languages)],
            [cult.get(x) for x in sorted(culture)],
            intervals,
            level,
            emails.get(email),
            emails.get(manager),
            CULTURAL_PREFERENCES.index(p.cultural_preference),
            email,
            manager,
            org,
        )

    e_common = [person_common(e, f"mentees[{k}]") for k, e in enumerate(mentees)]
    r_common = [person_common(r, f"mentors[{k}]") for k, r in enumerate(mentors)]

    e_tags: list[list[tuple[int, int]]] = []
    waiting: list[float] = []
    for k, e in enumerate(mentees):
        e_tags.append([(tags.get(t), v) for t, v in _check_tagged(e.needs, f"mentees[{k}].needs")])
        waiting.append(_check_float(e.waiting_days, f"mentees[{k}].waiting_days", hi=1e6))
    r_tags: list[list[tuple[int, int]]] = []
    free: list[int] = []
    loads: list[int] = []
    paused: list[bool] = []
    for k, r in enumerate(mentors):
        r_tags.append(
            [(tags.get(t), v) for t, v in _check_tagged(r.strengths, f"mentors[{k}].strengths")]
        )
        capacity = _check_int(r.capacity, f"mentors[{k}].capacity", 0, _CAPACITY_LIMIT)
        load = _check_int(r.current_load, f"mentors[{k}].current_load", 0, _CAPACITY_LIMIT)
        if not isinstance(r.paused, bool):
            raise MatcherError(
                f"mentors[{k}].paused: expected a bool", field=f"mentors[{k}].paused"
            )
        free.append(capacity - load)
        loads.append(load)
        paused.append(r.paused)

    # Reporting lines: follow manager emails through everyone known in this problem.
    manager_of: dict[str, str] = {}
    for common in (*e_common, *r_common):
        email, manager = common[7], common[8]
        if email is not None and manager is not None and email not in manager_of:
            manager_of[email] = manager

    def chain(email: str | None, manager: str | None) -> list[int]:
        out: list[int] = []
        seen = {email} if email is not None else set()
        current = manager
        while current is not None and current not in seen and len(out) < _MAX_CHAIN:
            out.append(emails.get(current))
            seen.add(current)
            current = manager_of.get(current)
        return out

    e_chains = [chain(c[7], c[8]) for c in e_common]
    r_chains = [chain(c[7], c[8]) for c in r_common]
    depth = max([1, *map(len, e_chains), *map(len, r_chains)])

    e_intervals = [c[2] for c in e_common]
    r_intervals = [c[2] for c in r_common]
    e_cover, r_cover, _ = segment_cover(e_intervals, r_intervals)

    def side(
        ids: Sequence[int],
        commons: Sequence[
            tuple[
                list[int],
                list[int],
                list[Interval],
                int,
                int,
                int,
                int,
                str | None,
                str | None,
                int,
            ]
        ],
        tagged: Sequence[list[tuple[int, int]]],
        chains: Sequence[list[int]],
        cover: Float32Array,
        prefs: Sequence[frozenset[int]],
    ) -> Side:
        count = len(ids)
        tag_matrix = np.zeros((count, len(tags.codes)), dtype=np.float32)
        for i, row in enumerate(tagged):
            for t, v in row:
                tag_matrix[i, t] = float(v)
        lang = _one_hot([c[0] for c in commons], len(langs.codes))
        culture = _one_hot([c[1] for c in commons], len(cult.codes))
        ancestors = np.full((count, depth), -1, dtype=np.int64)
        for i, ch in enumerate(chains):
            ancestors[i, : len(ch)] = ch
        return Side(
            ids=np.asarray(ids, dtype=np.int64).reshape(count),
            tags=tag_matrix,
            languages=lang,
            n_languages=lang.sum(axis=1, dtype=np.float64),
            cover=cover,
            culture=culture,
            n_culture=culture.sum(axis=1, dtype=np.float64),
            cultural_pref=np.asarray([c[6] for c in commons], dtype=np.int64).reshape(count),
            level=np.asarray([c[3] for c in commons], dtype=np.int64).reshape(count),
            email=np.asarray([c[4] for c in commons], dtype=np.int64).reshape(count),
            manager=np.asarray([c[5] for c in commons], dtype=np.int64).reshape(count),
            ancestors=ancestors,
            org=np.asarray([c[9] for c in commons], dtype=np.int64).reshape(count),
            has_prefs=np.asarray([len(p) > 0 for p in prefs], dtype=np.bool_).reshape(count),
        )

    e_prefs = [frozenset(int(x) for x in e.preferred_partners) for e in mentees]
    r_prefs = [frozenset(int(x) for x in r.preferred_partners) for r in mentors]
    e_side = side(
        list(mentee_index),
        e_common,
        e_tags,
        e_chains,
        e_cover,
        [frozenset(x for x in p if x in mentor_index) for p in e_prefs],
    )
    r_side = side(
        list(mentor_index),
        r_common,
        r_tags,
        r_chains,
        r_cover,
        [frozenset(x for x in p if x in mentee_index) for p in r_prefs],
    )
    n, m = len(mentees), len(mentors)

    def known(pairs: Iterable[tuple[int, int]]) -> list[tuple[int, int]]:
        return [
            (mentee_index[a], mentor_index[b])
            for a, b in pairs
            if a in mentee_index and b in mentor_index
        ]

    previous, previous_codes = _pair_matrix(
        known(_check_pairs(problem.previous_pairs, "previous_pairs")), n, m
    )
    forbidden, forbidden_codes = _pair_matrix(known(_check_pairs(problem.forbids, "forbids")), n, m)
    e_pref_pairs = [
        (i, mentor_index[x]) for i, p in enumerate(e_prefs) for x in p if x in mentor_index
    ]
    r_pref_pairs = [
        (mentee_index[x], j) for j, p in enumerate(r_prefs) for x in p if x in mentee_index
    ]
    down_e, down_r = _chain_pairs(e_side.ancestors, r_side.email)
    up_r, up_e = _chain_pairs(r_side.ancestors, e_side.email)
    reporting, reporting_codes = _pair_matrix(
        zip(
            np.concatenate([down_e, up_e]).tolist(),
            np.concatenate([down_r, up_r]).tolist(),
            strict=True,
        ),
        n,
        m,
    )
    mentee_prefers, mentee_prefers_codes = _pair_matrix(e_pref_pairs, n, m)
    mentor_prefers, mentor_prefers_codes = _pair_matrix(r_pref_pairs, n, m)

    pins: list[tuple[int, int]] = []
    pinned: set[int] = set()
    for k, (a, b) in enumerate(_check_pairs(problem.pins, "pins")):
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
        pins.append((mentee_index[a], mentor_index[b]))

    need_den = 3.0 * e_side.tags.sum(axis=1, dtype=np.float64)
    return Prepared(
        problem=problem,
        settings=settings,
        reference_date=reference_date,
        weights=weights,
        mentees=e_side,
        mentors=r_side,
        mentee_index=mentee_index,
        mentor_index=mentor_index,
        need_den=need_den,
        free=np.asarray(free, dtype=np.int64).reshape(m),
        load=np.asarray(loads, dtype=np.int64).reshape(m),
        paused=np.asarray(paused, dtype=np.bool_).reshape(m),
        waiting=np.asarray(waiting, dtype=np.float64).reshape(n),
        previous=previous,
        forbidden=forbidden,
        mentee_prefers=mentee_prefers,
        mentor_prefers=mentor_prefers,
        previous_codes=previous_codes,
        forbidden_codes=forbidden_codes,
        mentee_prefers_codes=mentee_prefers_codes,
        mentor_prefers_codes=mentor_prefers_codes,
        reporting=reporting,
        reporting_codes=reporting_codes,
        pins=tuple(pins),
    )


def _chain_pairs(ancestors: IntArray, emails: IntArray) -> tuple[IntArray, IntArray]:
    """Pairs (p, q) where person q's email is on person p's reporting chain."""
    owner, depth = np.nonzero(ancestors >= 0)
    codes = ancestors[owner, depth]
    order = np.argsort(emails, kind="stable")
    sorted_emails = emails[order]
    lo = np.searchsorted(sorted_emails, codes, side="left")
    hi = np.searchsorted(sorted_emails, codes, side="right")
    counts = hi - lo
    total = int(counts.sum())
    offsets = np.cumsum(counts) - counts
    position = np.repeat(lo - offsets, counts) + np.arange(total, dtype=np.int64)
    return np.repeat(owner, counts).astype(np.int64), order[position].astype(np.int64)
