"""The translation of a validated problem to numpy arrays: the only place ids become indices.

Row ``i`` is ``problem.mentees[i]`` and column ``j`` is ``problem.mentors[j]``.
Strings (tags, languages, cultural tags, emails, organisation units) become
dense integer codes in order of appearance; the arrays never leave the package.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

import numpy as np
import scipy.sparse as sp

from matcher.errors import MatcherError
from matcher.features.validation import (
    MentorLoad,
    Person,
    check_ids,
    check_mentor_load,
    check_pair_list,
    check_person,
    check_pins,
    check_settings,
    check_sides,
    check_tags,
    check_waiting,
)
from matcher.model import Mentee, Mentor, Problem, Settings
from matcher.timewindows import segment_cover
from matcher.types import BoolArray, Float32Array, FloatArray, IntArray

# Ancestors followed up a reporting line; deeper chains are cut (and cycles end).
_MAX_CHAIN = 16
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


@dataclass(frozen=True)
class _Coded:
    # One person's codes, in the order the original single pass assigned them.
    languages: list[int]
    culture: list[int]
    email: int
    manager: int
    org: int


class _Tables:
    """The code tables of one problem."""

    def __init__(self) -> None:
        self.tags, self.langs, self.cult = _Codes(), _Codes(), _Codes()
        self.emails, self.orgs = _Codes(), _Codes()

    def person(self, p: Person) -> _Coded:
        return _Coded(
            languages=[self.langs.get(x) for x in p.languages],
            culture=[self.cult.get(x) for x in p.culture],
            email=self.emails.get(p.email),
            manager=self.emails.get(p.manager),
            org=self.orgs.get(p.org),
        )

    def chains(self, people: Sequence[Person], manager_of: dict[str, str]) -> list[list[int]]:
        """Codes up each person's reporting line (through everyone known)."""
        out: list[list[int]] = []
        for p in people:
            chain: list[int] = []
            seen = {p.email} if p.email is not None else set()
            current = p.manager
            while current is not None and current not in seen and len(chain) < _MAX_CHAIN:
                chain.append(self.emails.get(current))
                seen.add(current)
                current = manager_of.get(current)
            out.append(chain)
        return out


def _managers(people: Iterable[Person]) -> dict[str, str]:
    # Reporting lines: the first manager each email names.
    manager_of: dict[str, str] = {}
    for p in people:
        if p.email is not None and p.manager is not None and p.email not in manager_of:
            manager_of[p.email] = p.manager
    return manager_of


def _side(
    ids: Sequence[int],
    people: Sequence[Person],
    coded: Sequence[_Coded],
    tagged: Sequence[list[tuple[int, int]]],
    chains: Sequence[list[int]],
    depth: int,
    cover: Float32Array,
    tables: _Tables,
    prefs: Sequence[frozenset[int]],
) -> Side:
    count = len(ids)
    tag_matrix = np.zeros((count, len(tables.tags.codes)), dtype=np.float32)
    for i, row in enumerate(tagged):
        for t, v in row:
            tag_matrix[i, t] = float(v)
    lang = _one_hot([c.languages for c in coded], len(tables.langs.codes))
    culture = _one_hot([c.culture for c in coded], len(tables.cult.codes))
    ancestors = np.full((count, depth), -1, dtype=np.int64)
    for i, ch in enumerate(chains):
        ancestors[i, : len(ch)] = ch

    def ints(values: Iterable[int]) -> IntArray:
        return np.asarray(list(values), dtype=np.int64).reshape(count)

    return Side(
        ids=ints(ids),
        tags=tag_matrix,
        languages=lang,
        n_languages=lang.sum(axis=1, dtype=np.float64),
        cover=cover,
        culture=culture,
        n_culture=culture.sum(axis=1, dtype=np.float64),
        cultural_pref=ints(p.cultural_pref for p in people),
        level=ints(p.level for p in people),
        email=ints(c.email for c in coded),
        manager=ints(c.manager for c in coded),
        ancestors=ancestors,
        org=ints(c.org for c in coded),
        has_prefs=np.asarray([len(p) > 0 for p in prefs], dtype=np.bool_).reshape(count),
    )


@dataclass(frozen=True)
class _Pairs:
    # The pair relations of a problem as CSR matrices and sorted codes i * m + j.
    previous: tuple[sp.csr_array, IntArray]
    forbidden: tuple[sp.csr_array, IntArray]
    mentee_prefers: tuple[sp.csr_array, IntArray]
    mentor_prefers: tuple[sp.csr_array, IntArray]
    reporting: tuple[sp.csr_array, IntArray]


def _pairs(
    problem: Problem,
    mentee_index: dict[int, int],
    mentor_index: dict[int, int],
    e_people: Sequence[Person],
    r_people: Sequence[Person],
    e_side: Side,
    r_side: Side,
) -> _Pairs:
    n, m = len(mentee_index), len(mentor_index)

    def known(pairs: Iterable[tuple[int, int]]) -> list[tuple[int, int]]:
        return [
            (mentee_index[a], mentor_index[b])
            for a, b in pairs
            if a in mentee_index and b in mentor_index
        ]

    previous = _pair_matrix(known(check_pair_list(problem.previous_pairs, "previous_pairs")), n, m)
    forbidden = _pair_matrix(known(check_pair_list(problem.forbids, "forbids")), n, m)
    e_pref_pairs = [
        (i, mentor_index[x])
        for i, p in enumerate(e_people)
        for x in p.preferred
        if x in mentor_index
    ]
    r_pref_pairs = [
        (mentee_index[x], j)
        for j, p in enumerate(r_people)
        for x in p.preferred
        if x in mentee_index
    ]
    down_e, down_r = _chain_pairs(e_side.ancestors, r_side.email)
    up_r, up_e = _chain_pairs(r_side.ancestors, e_side.email)
    reporting = _pair_matrix(
        zip(
            np.concatenate([down_e, up_e]).tolist(),
            np.concatenate([down_r, up_r]).tolist(),
            strict=True,
        ),
        n,
        m,
    )
    return _Pairs(
        previous=previous,
        forbidden=forbidden,
        mentee_prefers=_pair_matrix(e_pref_pairs, n, m),
        mentor_prefers=_pair_matrix(r_pref_pairs, n, m),
        reporting=reporting,
    )


def _mentee_fields(
    mentees: Sequence[Mentee], tables: _Tables
) -> tuple[list[list[tuple[int, int]]], list[float]]:
    # Each mentee's coded needs and waiting days, validated in input order.
    tags: list[list[tuple[int, int]]] = []
    waiting: list[float] = []
    for k, e in enumerate(mentees):
        needs = check_tags(e.needs, f"mentees[{k}].needs")
        tags.append([(tables.tags.get(t), v) for t, v in needs])
        waiting.append(check_waiting(e, k))
    return tags, waiting


def _mentor_fields(
    mentors: Sequence[Mentor], tables: _Tables
) -> tuple[list[list[tuple[int, int]]], list[MentorLoad]]:
    # Each mentor's coded strengths and capacity fields, validated in input order.
    tags: list[list[tuple[int, int]]] = []
    loads: list[MentorLoad] = []
    for k, r in enumerate(mentors):
        strengths = check_tags(r.strengths, f"mentors[{k}].strengths")
        tags.append([(tables.tags.get(t), v) for t, v in strengths])
        loads.append(check_mentor_load(r, k))
    return tags, loads


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
        On any inconsistent or malformed input, naming it
        (:mod:`matcher.features.validation`).
    """
    if not isinstance(problem, Problem):
        raise MatcherError("expected a matcher.Problem", field="problem")
    weights = check_settings(problem.settings)
    settings = problem.settings
    reference_date = settings.reference_date or dt.datetime.now(dt.UTC).date()
    mentees, mentors = check_sides(problem)
    mentee_index = check_ids(mentees, "mentee")
    mentor_index = check_ids(mentors, "mentor")
    e_people = [check_person(e, f"mentees[{k}]", reference_date) for k, e in enumerate(mentees)]
    r_people = [check_person(r, f"mentors[{k}]", reference_date) for k, r in enumerate(mentors)]
    tables = _Tables()
    e_coded = [tables.person(p) for p in e_people]
    r_coded = [tables.person(p) for p in r_people]
    e_tags, waiting = _mentee_fields(mentees, tables)
    r_tags, loads = _mentor_fields(mentors, tables)

    manager_of = _managers([*e_people, *r_people])
    e_chains = tables.chains(e_people, manager_of)
    r_chains = tables.chains(r_people, manager_of)
    depth = max([1, *map(len, e_chains), *map(len, r_chains)])
    e_cover, r_cover, _ = segment_cover(
        [p.intervals for p in e_people], [p.intervals for p in r_people]
    )
    e_side = _side(
        list(mentee_index),
        e_people,
        e_coded,
        e_tags,
        e_chains,
        depth,
        e_cover,
        tables,
        [frozenset(x for x in p.preferred if x in mentor_index) for p in e_people],
    )
    r_side = _side(
        list(mentor_index),
        r_people,
        r_coded,
        r_tags,
        r_chains,
        depth,
        r_cover,
        tables,
        [frozenset(x for x in p.preferred if x in mentee_index) for p in r_people],
    )
    pairs = _pairs(problem, mentee_index, mentor_index, e_people, r_people, e_side, r_side)
    pins = check_pins(problem.pins, mentee_index, mentor_index)
    n, m = len(mentees), len(mentors)
    return Prepared(
        problem=problem,
        settings=settings,
        reference_date=reference_date,
        weights=weights,
        mentees=e_side,
        mentors=r_side,
        mentee_index=mentee_index,
        mentor_index=mentor_index,
        need_den=3.0 * e_side.tags.sum(axis=1, dtype=np.float64),
        free=np.asarray([x.free for x in loads], dtype=np.int64).reshape(m),
        load=np.asarray([x.load for x in loads], dtype=np.int64).reshape(m),
        paused=np.asarray([x.paused for x in loads], dtype=np.bool_).reshape(m),
        waiting=np.asarray(waiting, dtype=np.float64).reshape(n),
        previous=pairs.previous[0],
        forbidden=pairs.forbidden[0],
        mentee_prefers=pairs.mentee_prefers[0],
        mentor_prefers=pairs.mentor_prefers[0],
        previous_codes=pairs.previous[1],
        forbidden_codes=pairs.forbidden[1],
        mentee_prefers_codes=pairs.mentee_prefers[1],
        mentor_prefers_codes=pairs.mentor_prefers[1],
        reporting=pairs.reporting[0],
        reporting_codes=pairs.reporting[1],
        pins=pins,
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
