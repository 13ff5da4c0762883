"""Property tests: invariants of every result, and exactness against brute force."""

from __future__ import annotations

import json
import math
from dataclasses import replace

from hypothesis import HealthCheck, assume, event, given, settings
from hypothesis import strategies as st

from matcher import Problem, Result, solve
from matcher.backend import SolveOptions
from matcher.reference import reference_pairs
from tests.unit.helpers import (
    Q,
    Setup,
    Table,
    best_keys,
    brute_blocking_pairs,
    count_bound,
    objective_key,
    pair_table,
    place_pins,
    problems,
)

OBJECTIVES = ("max_participation", "max_score", "fair")
BRUTE = settings(
    max_examples=70,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much],
)


def with_objective(problem: Problem, objective: str) -> Problem:
    return replace(problem, settings=replace(problem.settings, objective=objective))


def plain_json(value: object) -> bool:
    if isinstance(value, dict):
        return all(isinstance(k, str) and plain_json(v) for k, v in value.items())
    if isinstance(value, list):
        return all(plain_json(v) for v in value)
    return value is None or type(value) in (str, int, float, bool)


def check_invariants(problem: Problem, result: Result) -> None:
    table = pair_table(problem)
    mentors = {r.id: r for r in problem.mentors}
    seen: set[int] = set()
    load: dict[int, int] = {}
    for p in result.pairs:
        assert table.feasible[p.mentee_id, p.mentor_id], "an infeasible pair was used"
        assert p.mentee_id not in seen, "a mentee appears twice"
        seen.add(p.mentee_id)
        load[p.mentor_id] = load.get(p.mentor_id, 0) + 1
        assert round(p.score * Q) == table.score[p.mentee_id, p.mentor_id]
        assert set(p.breakdown) == {
            "needs",
            "availability",
            "language",
            "culture",
            "experience",
            "preference",
        }
        assert all(0.0 <= v <= 1.0 for v in p.breakdown.values())
    for r, count in load.items():
        assert count <= mentors[r].capacity - mentors[r].current_load, "mentor above capacity"
    unmatched = {u.mentee_id for u in result.unmatched}
    assert unmatched.isdisjoint(seen)
    assert unmatched | seen == {e.id for e in problem.mentees}
    payload = result.to_dict()
    assert plain_json(payload)
    json.dumps(payload)


@BRUTE
@given(st.one_of(problems(), problems(contested=True)))
def test_every_objective_matches_brute_force_and_keeps_the_invariants(problem: Problem) -> None:
    table = pair_table(problem)
    setup = place_pins(problem, table)
    assume(count_bound(problem, table, setup) <= 40_000)
    best = best_keys(problem, table, setup)
    event(f"matched in the optimum: {best['max_participation'][0]}")
    fixed = set(setup.fixed)
    for objective in OBJECTIVES:
        current = with_objective(problem, objective)
        result = solve(current)
        check_invariants(current, result)
        assert result.stats.score_resolution == 1 / Q
        assert {(p.mentee_id, p.mentor_id) for p in result.pairs if p.pinned} == fixed
        pool_pairs = [(p.mentee_id, p.mentor_id) for p in result.pairs if not p.pinned]
        key = objective_key(current, table, setup, pool_pairs, objective)
        assert key == best[objective], objective


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(problems(with_constraints=False, contested=True))
def test_dense_and_sparse_solvers_reach_the_same_optimum(problem: Problem) -> None:
    table = pair_table(problem)
    setup = place_pins(problem, table)
    for objective in OBJECTIVES:
        current = with_objective(problem, objective)
        keys = []
        for density in (0.0, 2.0):  # always dense, always sparse
            result = solve(current, options=SolveOptions(sparse_density=density))
            pool_pairs = [(p.mentee_id, p.mentor_id) for p in result.pairs if not p.pinned]
            keys.append(objective_key(current, table, setup, pool_pairs, objective))
        assert keys[0] == keys[1]


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.one_of(problems(), problems(contested=True)))
def test_fair_never_has_a_lower_minimum_than_max_participation(problem: Problem) -> None:
    fair = solve(with_objective(problem, "fair"))
    participation = solve(with_objective(problem, "max_participation"))
    assert fair.stats.matched_count == participation.stats.matched_count
    if participation.stats.min_score is not None:
        assert fair.stats.min_score is not None
        assert fair.stats.min_score >= participation.stats.min_score


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.one_of(problems(), problems(contested=True)))
def test_blocking_pair_count_equals_a_brute_force_count(problem: Problem) -> None:
    result = solve(problem)
    table = pair_table(problem)
    assert result.stats.blocking_pairs == brute_blocking_pairs(problem, table, result)


def reference_of(problem: Problem, table: Table, setup: Setup) -> list[tuple[int, int]]:
    # The pool after the pins, as plain mappings, solved by matcher.reference.
    days = problem.settings.waiting_class_days
    scores = {
        (e, r): table.score[e, r]
        for e in setup.pool
        for r, free in setup.remaining.items()
        if free > 0 and table.feasible[e, r]
    }
    return reference_pairs(
        scores,
        setup.pool,
        {e.id: math.floor(e.waiting_days / days) for e in problem.mentees},
        {r: (free, setup.base_k[r]) for r, free in setup.remaining.items() if free > 0},
        problem.settings.objective,
        problem.settings.load_penalty,
    )


@BRUTE
@given(st.one_of(problems(), problems(contested=True)))
def test_the_reference_agrees_with_brute_force_and_with_solve(problem: Problem) -> None:
    table = pair_table(problem)
    setup = place_pins(problem, table)
    assume(count_bound(problem, table, setup) <= 40_000)
    best = best_keys(problem, table, setup)
    for objective in OBJECTIVES:
        current = with_objective(problem, objective)
        reference = reference_of(current, table, setup)
        solved = [(p.mentee_id, p.mentor_id) for p in solve(current).pairs if not p.pinned]
        keys = [
            objective_key(current, table, setup, pairs, objective) for pairs in (reference, solved)
        ]
        assert keys[0] == best[objective], objective
        assert keys[1] == keys[0], objective
