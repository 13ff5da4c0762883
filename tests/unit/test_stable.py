"""The `stable` objective against brute force: no blocking pair, and mentee-optimal."""

from __future__ import annotations

from dataclasses import replace

import numpy as np
import pytest
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

from matcher import MatcherError, Problem, solve
from matcher.backend import SolveOptions
from matcher.stable import deferred_acceptance
from tests.unit.helpers import (
    Setup,
    Table,
    brute_blocking_pairs,
    count_bound,
    matchings,
    mentee,
    mentor,
    needs_only,
    pair_table,
    place_pins,
    problems,
)


def stable(problem: Problem) -> Problem:
    return replace(problem, settings=replace(problem.settings, objective="stable"))


def _rankers(problem: Problem, table: Table):  # type: ignore[no-untyped-def]
    """Both sides' strict rankings, ties broken as matcher.stable documents."""
    e_pos = {e.id: k for k, e in enumerate(problem.mentees)}
    r_pos = {r.id: k for k, r in enumerate(problem.mentors)}

    def mentee_rank(e: int, r: int) -> tuple[int, int]:  # larger is better
        return (table.score[e, r], -r_pos[r])

    def mentor_rank(r: int, e: int) -> tuple[int, int]:
        return (table.score[e, r], -e_pos[e])

    return mentee_rank, mentor_rank


def is_stable(problem: Problem, table: Table, setup: Setup, pairs: list[tuple[int, int]]) -> bool:
    mentee_rank, mentor_rank = _rankers(problem, table)
    own = dict(pairs)
    held: dict[int, list[int]] = {}
    for e, r in pairs:
        held.setdefault(r, []).append(e)
    for e in setup.pool:
        for r in problem.mentors:
            if not table.feasible[e, r.id] or setup.remaining[r.id] <= 0 or own.get(e) == r.id:
                continue
            if e in own and mentee_rank(e, r.id) <= mentee_rank(e, own[e]):
                continue
            mine = held.get(r.id, [])
            if len(mine) < setup.remaining[r.id]:
                return False
            if mentor_rank(r.id, e) > min(mentor_rank(r.id, x) for x in mine):
                return False
    return True


@settings(
    max_examples=70,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much],
)
@given(st.one_of(problems(), problems(contested=True)))
def test_stable_is_the_mentee_optimal_stable_matching(problem: Problem) -> None:
    current = stable(problem)
    table = pair_table(current)
    setup = place_pins(current, table)
    assume(count_bound(current, table, setup) <= 20_000)
    found = [m for m in matchings(current, table, setup) if is_stable(current, table, setup, m)]
    assert found, "a stable matching always exists"
    mentee_rank, _ = _rankers(current, table)

    def value(pairs: dict[int, int], e: int) -> tuple[int, int]:
        return mentee_rank(e, pairs[e]) if e in pairs else (-2, 0)

    # The mentee-optimal one: every mentee at least as well off as in any stable matching.
    best = [
        m
        for m in found
        if all(value(dict(m), e) >= value(dict(o), e) for o in found for e in setup.pool)
    ]
    assert len(best) == 1
    result = solve(current)
    got = sorted((p.mentee_id, p.mentor_id) for p in result.pairs if not p.pinned)
    assert got == sorted(best[0])
    if not current.pins:
        assert result.stats.blocking_pairs == 0
        assert brute_blocking_pairs(current, table, result) == 0


def test_a_mentor_keeps_the_mentees_they_score_highest() -> None:
    # Two mentees both rank mentor 10 first; it has one slot and prefers mentee 2.
    scores = np.array([[500_000, 400_000], [600_000, 100_000]], dtype=np.int32)
    rows, cols = deferred_acceptance(scores, np.array([1, 1], dtype=np.int64))
    assert dict(zip(rows.tolist(), cols.tolist(), strict=True)) == {0: 1, 1: 0}


def test_ties_go_to_the_lower_row_and_column() -> None:
    scores = np.full((2, 2), 500_000, dtype=np.int32)
    rows, cols = deferred_acceptance(scores, np.array([1, 1], dtype=np.int64))
    assert dict(zip(rows.tolist(), cols.tolist(), strict=True)) == {0: 0, 1: 1}


def test_stable_is_refused_above_the_dense_limit() -> None:
    problem = Problem(mentees=(mentee(1), mentee(2)), mentors=(mentor(3),), settings=needs_only())
    with pytest.raises(MatcherError) as raised:
        solve(stable(problem), options=SolveOptions(dense_pair_limit=1))
    assert raised.value.field == "settings.objective"
