"""Builders, hypothesis strategies and brute-force references for matcher tests."""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Iterator
from dataclasses import dataclass

import numpy as np
from hypothesis import strategies as st

from matcher import Mentee, Mentor, Problem, Result, Settings, Window, explain
from matcher.features import prepare
from matcher.scoring import Evaluator

MONDAY = dt.date(2025, 1, 6)  # a winter Monday: no daylight saving in force anywhere we use
Q = 1_000_000  # score grid of the objective on small problems
ALL_DAY = tuple(Window(d, "00:00", "24:00") for d in range(7))


def mentee(id: int, **kw: object) -> Mentee:
    """A mentee available all week, speaking English, unless overridden."""
    base: dict[str, object] = {"languages": frozenset({"en"}), "availability": ALL_DAY}
    base.update(kw)
    return Mentee(id=id, **base)  # type: ignore[arg-type]


def mentor(id: int, **kw: object) -> Mentor:
    """A mentor available all week, speaking English, level 2, unless overridden."""
    base: dict[str, object] = {
        "languages": frozenset({"en"}),
        "availability": ALL_DAY,
        "experience_level": 2,
    }
    base.update(kw)
    return Mentor(id=id, **base)  # type: ignore[arg-type]


def needs_only(**kw: object) -> Settings:
    """Settings scoring on needs alone, no load penalty, a fixed reference date."""
    base: dict[str, object] = {
        "weights": {"needs": 1.0},
        "load_penalty": 0.0,
        "reference_date": MONDAY,
        "min_overlap_minutes": 0,
    }
    base.update(kw)
    return Settings(**base)  # type: ignore[arg-type]


def pairs_of(result: Result) -> set[tuple[int, int]]:
    """The (mentee_id, mentor_id) pairs of a result."""
    return {(p.mentee_id, p.mentor_id) for p in result.pairs}


# --------------------------------------------------------------------------- strategies

ZONES = ("UTC", "Europe/London", "America/New_York", "Asia/Kolkata", "Asia/Tokyo")
LANGS = ("en", "fr", "de")
TAGS = ("a", "b", "c", "d")
CULTURE = ("x", "y", "z")


STANDARD_WINDOWS = (
    Window(0, "09:00", "17:00"),
    Window(1, "18:00", "22:00"),
    Window(2, "07:30", "12:00"),
    Window(3, "12:00", "20:00"),
    Window(5, "10:00", "16:00"),
    Window(6, "20:00", "02:00"),  # runs past local midnight
)


@st.composite
def windows(draw: st.DrawFn) -> tuple[Window, ...]:
    """Mostly broad standard windows (so pairs overlap often), plus a random one."""
    out = list(draw(st.lists(st.sampled_from(STANDARD_WINDOWS), min_size=1, max_size=3)))
    if draw(st.booleans()):
        day = draw(st.integers(0, 6))
        start = draw(st.integers(0, 47)) * 30
        end = (start + draw(st.integers(1, 16)) * 30) % 1440
        if draw(st.booleans()):
            out.append(
                Window(
                    day, f"{start // 60:02d}:{start % 60:02d}", f"{end // 60:02d}:{end % 60:02d}"
                )
            )
        else:
            out.append(Window(day, start, end))
    return tuple(out)


@st.composite
def problems(
    draw: st.DrawFn,
    max_mentees: int = 7,
    max_mentors: int = 7,
    with_constraints: bool = True,
    contested: bool = False,
) -> Problem:
    """Small problems where many pairs are feasible and capacity is often scarce.

    ``contested`` draws 4-7 mentees for 2-5 mentors who are never full or
    paused, so the objectives have real trade-offs to make.
    """
    if contested:
        n = draw(st.integers(4, max_mentees))
        m = draw(st.integers(2, min(5, max_mentors)))
    else:
        n = draw(st.integers(0, max_mentees))
        m = draw(st.integers(0, max_mentors))
    bosses = [None, None, None, "boss1@x", "boss2@x"]
    # Half of the problems are "dense": few hard rules bite, so capacity is what binds.
    dense = contested or draw(st.booleans())

    def common(pid: int, levels: list[int]) -> dict[str, object]:
        languages = set(draw(st.sets(st.sampled_from(LANGS), max_size=2)))
        if not languages or dense or draw(st.integers(0, 4)) > 0:
            languages.add("en")
        return {
            "languages": frozenset(languages),
            "timezone": draw(st.sampled_from(ZONES)),
            "availability": draw(windows()),
            "experience_level": draw(st.sampled_from(levels)),
            "email": f"p{pid}@x",
            "manager_email": draw(st.sampled_from([*bosses, f"p{draw(st.integers(1, 14))}@x"])),
            "org_unit": draw(st.sampled_from([None, "u1", "u2"])),
            "cultural_tags": frozenset(draw(st.sets(st.sampled_from(CULTURE), max_size=2))),
            "cultural_preference": draw(st.sampled_from(["shared", "open", "different"])),
        }

    mentee_ids = list(range(1, n + 1))
    mentor_ids: list[int] = []
    for j in range(m):
        if n and draw(st.integers(0, 9)) == 0:
            candidate = draw(st.sampled_from(mentee_ids))  # also a mentee: same person
            mentor_ids.append(candidate if candidate not in mentor_ids else 100 + j)
        else:
            mentor_ids.append(100 + j)

    def tagged() -> tuple[tuple[str, int], ...]:
        chosen = draw(st.lists(st.sampled_from(TAGS), unique=True, max_size=3))
        return tuple((t, draw(st.integers(1, 3))) for t in chosen)

    mentees = tuple(
        Mentee(
            id=i,
            needs=tagged(),
            preferred_partners=frozenset(
                draw(st.sets(st.sampled_from(mentor_ids), max_size=1)) if mentor_ids else ()
            ),
            waiting_days=draw(st.sampled_from([0.0, 0.5, 3.0, 10.0, 30.0])),
            **common(i, [2, 1, 3, 4]),  # type: ignore[arg-type]
        )
        for i in mentee_ids
    )
    mentors = []
    for j in mentor_ids:
        # Hypothesis favours the first option of sampled_from: keep the common case first.
        capacity = draw(st.sampled_from([1, 2] if contested else [1, 2, 1, 3, 0]))
        mentors.append(
            Mentor(
                id=j,
                strengths=tagged(),
                preferred_partners=frozenset(
                    draw(st.sets(st.sampled_from(mentee_ids), max_size=1)) if mentee_ids else ()
                ),
                capacity=capacity,
                current_load=0 if contested else draw(st.sampled_from([0, 0, 1])),
                paused=not contested and draw(st.integers(0, 14)) == 14,
                **common(j, [3, 4, 2, 5, 1]),  # type: ignore[arg-type]
            )
        )
    weights = {
        c: draw(st.sampled_from([0.0, 0.5, 1.0, 2.0]))
        for c in ("needs", "availability", "language", "culture", "experience", "preference")
    }
    if sum(weights.values()) == 0:
        weights["needs"] = 1.0
    lo = -4 if dense else draw(st.sampled_from([-2, -1, 0, -4]))
    settings = Settings(
        weights=weights,
        objective=draw(st.sampled_from(["max_participation", "max_score", "fair"])),
        min_overlap_minutes=0 if dense else draw(st.sampled_from([0, 30, 60])),
        target_overlap_minutes=draw(st.sampled_from([0, 60, 120, 240])),
        min_experience_gap=lo,
        max_experience_gap=4 if dense else lo + draw(st.sampled_from([5, 3, 6, 2])),
        ideal_experience_gap=draw(st.integers(-1, 2)),
        load_penalty=draw(st.sampled_from([0.0, 0.01, 0.05, 0.2, 0.6])),
        reference_date=draw(st.sampled_from([MONDAY, dt.date(2025, 3, 10), dt.date(2025, 7, 1)])),
        waiting_class_days=draw(st.sampled_from([1.0, 5.0])),
        forbid_same_org_unit=draw(st.integers(0, 3)) == 3,
        min_needs_covered=draw(st.sampled_from([0, 0, 1, 2])),
        min_score=draw(st.sampled_from([0.0, 0.0, 0.37, 0.55])),
    )
    all_pairs = [(i, j) for i in mentee_ids for j in mentor_ids]
    pins: list[tuple[int, int]] = []
    forbids: list[tuple[int, int]] = []
    previous: list[tuple[int, int]] = []
    if with_constraints and all_pairs:
        chosen = draw(st.lists(st.sampled_from(all_pairs), max_size=2))
        seen: set[int] = set()
        for i, j in chosen:
            if i not in seen:
                pins.append((i, j))
                seen.add(i)
        forbids = draw(st.lists(st.sampled_from(all_pairs), max_size=3))
        previous = draw(st.lists(st.sampled_from(all_pairs), max_size=2))
        forbids.append((999, 100))  # unknown ids are ignored
    return Problem(
        mentees=mentees,
        mentors=tuple(mentors),
        settings=settings,
        pins=tuple(pins),
        forbids=tuple(forbids),
        previous_pairs=tuple(previous),
    )


# --------------------------------------------------------------------------- brute force


@dataclass
class Table:
    """Feasibility and score (on the 1e-6 grid) of every pair, via ``explain``."""

    feasible: dict[tuple[int, int], bool]
    score: dict[tuple[int, int], int]


def pair_table(problem: Problem) -> Table:
    """Every pair's feasibility and score: what ``explain`` returns, in one pass.

    ``explain`` is checked against a pure-Python reference in test_scoring; here
    the same pair evaluator runs once over all pairs to keep the properties fast.
    """
    prep = prepare(problem)
    n, m = prep.n, prep.m
    rows = np.repeat(np.arange(n, dtype=np.int64), m)
    cols = np.tile(np.arange(m, dtype=np.int64), n)
    block = Evaluator(prep).pairs(rows, cols)
    feasible: dict[tuple[int, int], bool] = {}
    score: dict[tuple[int, int], int] = {}
    for k, (i, j) in enumerate(zip(rows.tolist(), cols.tolist(), strict=True)):
        key = (problem.mentees[i].id, problem.mentors[j].id)
        feasible[key] = bool(block.feasible[k])
        score[key] = int(block.score[k])
    if problem.mentees and problem.mentors:  # spot-check one pair against explain
        e, r = problem.mentees[0].id, problem.mentors[-1].id
        ex = explain(problem, e, r)
        assert (ex.feasible, round(ex.score * Q)) == (feasible[e, r], score[e, r])
    return Table(feasible, score)


@dataclass
class Setup:
    """Pins placed as the matcher documents, and the pool left to optimise."""

    fixed: list[tuple[int, int]]
    pool: list[int]  # mentee ids
    remaining: dict[int, int]  # mentor id -> free slots after pins
    base_k: dict[int, int]  # mentor id -> load + pins (k - 1 of the first free slot)


def place_pins(problem: Problem, table: Table) -> Setup:
    free = {r.id: r.capacity - r.current_load for r in problem.mentors}
    used = {r.id: 0 for r in problem.mentors}
    fixed: list[tuple[int, int]] = []
    for e, r in problem.pins:
        if table.feasible[e, r] and used[r] < free[r]:
            fixed.append((e, r))
            used[r] += 1
    pinned = {e for e, _ in fixed}
    return Setup(
        fixed=fixed,
        pool=[e.id for e in problem.mentees if e.id not in pinned],
        remaining={r: max(free[r] - used[r], 0) for r in free},
        base_k={r.id: r.current_load + used[r.id] for r in problem.mentors},
    )


def waiting_class(problem: Problem) -> dict[int, int]:
    days = problem.settings.waiting_class_days
    return {e.id: math.floor(e.waiting_days / days) for e in problem.mentees}


def matchings(problem: Problem, table: Table, setup: Setup) -> Iterator[list[tuple[int, int]]]:
    """Every assignment of pool mentees to feasible mentors within capacity."""
    options = {e: [r.id for r in problem.mentors if table.feasible[e, r.id]] for e in setup.pool}
    remaining = dict(setup.remaining)
    current: list[tuple[int, int]] = []

    def rec(k: int) -> Iterator[list[tuple[int, int]]]:
        if k == len(setup.pool):
            yield list(current)
            return
        e = setup.pool[k]
        yield from rec(k + 1)
        for r in options[e]:
            if remaining[r] > 0:
                remaining[r] -= 1
                current.append((e, r))
                yield from rec(k + 1)
                current.pop()
                remaining[r] += 1

    yield from rec(0)


def count_bound(problem: Problem, table: Table, setup: Setup) -> int:
    bound = 1
    for e in setup.pool:
        bound *= 1 + sum(
            1 for r in problem.mentors if table.feasible[e, r.id] and setup.remaining[r.id] > 0
        )
    return bound


def objective_key(
    problem: Problem, table: Table, setup: Setup, pool_pairs: list[tuple[int, int]], objective: str
) -> tuple[object, ...]:
    """Lexicographic objective value of the optimised pairs, as documented by ``solve``."""
    lam = problem.settings.load_penalty
    counts: dict[int, int] = {}
    for _, r in pool_pairs:
        counts[r] = counts.get(r, 0) + 1
    total = sum(table.score[p] for p in pool_pairs)
    for r, a in counts.items():
        total -= sum(round(lam * (setup.base_k[r] + t) * Q) for t in range(a))
    wclass = waiting_class(problem)
    classes = sorted({wclass[e] for e in setup.pool}, reverse=True)
    matched_classes = [wclass[e] for e, _ in pool_pairs]
    waiting = tuple(matched_classes.count(c) for c in classes)
    card = len(pool_pairs)
    if objective == "max_participation":
        return (card, waiting, total)
    if objective == "fair":
        low = min((table.score[p] for p in pool_pairs), default=Q + 1)
        return (card, low, waiting, total)
    # max_score: total, then the waiting-weighted count (dense rank among pool rows
    # that have a feasible open slot, 1 for the shortest wait).
    open_rows = [
        e
        for e in setup.pool
        if any(table.feasible[e, r.id] and setup.remaining[r.id] > 0 for r in problem.mentors)
    ]
    ranks = {c: k + 1 for k, c in enumerate(sorted({wclass[e] for e in open_rows}))}
    return (total, sum(ranks[wclass[e]] for e, _ in pool_pairs))


def best_keys(problem: Problem, table: Table, setup: Setup) -> dict[str, tuple[object, ...]]:
    best: dict[str, tuple[object, ...]] = {}
    for matching in matchings(problem, table, setup):
        for objective in ("max_participation", "max_score", "fair"):
            key = objective_key(problem, table, setup, matching, objective)
            if objective not in best or key > best[objective]:  # type: ignore[operator]
                best[objective] = key
    return best


def brute_blocking_pairs(problem: Problem, table: Table, result: Result) -> int:
    own: dict[int, int] = {}
    by_mentor: dict[int, list[int]] = {}
    for p in result.pairs:
        own[p.mentee_id] = table.score[p.mentee_id, p.mentor_id]
        by_mentor.setdefault(p.mentor_id, []).append(table.score[p.mentee_id, p.mentor_id])
    count = 0
    for e in problem.mentees:
        for r in problem.mentors:
            if not table.feasible[e.id, r.id]:
                continue
            s = table.score[e.id, r.id]
            mentee_wants = e.id not in own or s > own[e.id]
            taken = by_mentor.get(r.id, [])
            mentor_wants = len(taken) < r.capacity - r.current_load or (
                bool(taken) and s > min(taken)
            )
            if mentee_wants and mentor_wants:
                count += 1
    return count
