"""Waiting priority (`strong`, `tie_break`, `none`) against brute force, on every solver."""

from __future__ import annotations

from dataclasses import replace

from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

from matcher import Problem, SolveOptions, solve
from tests.unit.helpers import (
    Setup,
    Table,
    count_bound,
    matchings,
    pair_table,
    place_pins,
    problems,
)

OBJECTIVES = ("max_participation", "fair", "max_score")
PRIORITIES = ("strong", "tie_break", "none")
SOLVERS = {
    "linear_sum_assignment": SolveOptions(sparse_density=0.0),
    "lapjvsp": SolveOptions(sparse_density=2.0),
    "sparse backend": SolveOptions(dense_pair_limit=0),
}


def key(
    problem: Problem, table: Table, setup: Setup, pairs: list[tuple[int, int]]
) -> tuple[object, ...]:
    """The documented lexicographic objective of the optimised pairs (penalty-free runs)."""
    s = problem.settings
    days = s.waiting_class_days
    wclass = {
        e.id: 0 if s.waiting_priority == "none" else int(e.waiting_days // days)
        for e in problem.mentees
    }
    open_rows = [
        e
        for e in setup.pool
        if any(table.feasible[e, r.id] and setup.remaining[r.id] > 0 for r in problem.mentors)
    ]
    ranks = {c: k + 1 for k, c in enumerate(sorted({wclass[e] for e in open_rows}))}
    rank_sum = sum(ranks[wclass[e]] for e, _ in pairs)
    classes = sorted({wclass[e] for e in open_rows}, reverse=True)
    longest_first = tuple([wclass[e] for e, _ in pairs].count(c) for c in classes)
    total = sum(table.score[p] for p in pairs)
    card = len(pairs)
    low = min((table.score[p] for p in pairs), default=10**7)
    if s.objective == "max_score":
        return (total, rank_sum)
    head: tuple[object, ...] = (card, low) if s.objective == "fair" else (card,)
    if s.waiting_priority == "tie_break":
        return (*head, total, rank_sum)
    return (*head, longest_first, total)


@settings(
    max_examples=60,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much],
)
@given(st.one_of(problems(), problems(contested=True)))
def test_every_priority_is_exact_on_every_solver(problem: Problem) -> None:
    # Without a load penalty the documented key is the whole objective.
    base = replace(problem, settings=replace(problem.settings, load_penalty=0.0))
    table = pair_table(base)
    setup = place_pins(base, table)
    assume(count_bound(base, table, setup) <= 20_000)
    every = list(matchings(base, table, setup))
    for objective in OBJECTIVES:
        for priority in PRIORITIES:
            current = replace(
                base,
                settings=replace(base.settings, objective=objective, waiting_priority=priority),
            )
            best = max(key(current, table, setup, m) for m in every)  # type: ignore[type-var]
            for name, options in SOLVERS.items():
                result = solve(current, options=options)
                pool = [(p.mentee_id, p.mentor_id) for p in result.pairs if not p.pinned]
                assert key(current, table, setup, pool) == best, (objective, priority, name)


def test_tie_break_prefers_the_better_fit_over_the_longer_wait() -> None:
    from tests.unit.helpers import mentee, mentor, needs_only

    problem = Problem(
        mentees=(
            mentee(1, needs=(("python", 3),), waiting_days=40.0),
            mentee(2, needs=(("rust", 3),), waiting_days=1.0),
        ),
        mentors=(mentor(10, strengths=(("rust", 3), ("python", 1)), capacity=1),),
        settings=needs_only(waiting_class_days=14.0),
    )

    def matched(priority: str) -> int:
        settings = replace(problem.settings, waiting_priority=priority)
        [pair] = solve(replace(problem, settings=settings)).pairs
        return pair.mentee_id

    assert matched("strong") == 1  # waited longest
    assert matched("tie_break") == 2  # fits better
    assert matched("none") == 2


def test_tie_break_still_matches_the_most_mentees_first() -> None:
    from tests.unit.helpers import mentee, mentor, needs_only

    problem = Problem(
        mentees=(
            mentee(1, needs=(("python", 3),)),
            mentee(2, needs=(("rust", 3),), languages=frozenset({"de"})),
        ),
        mentors=(
            mentor(10, strengths=(("python", 3),), languages=frozenset({"en", "de"})),
            mentor(11, strengths=(("python", 1),)),
        ),
        settings=needs_only(waiting_priority="tie_break"),
    )
    # 1-10 alone scores 1.0; 1-11 and 2-10 score 1/3 + 0: less in total, but two pairs.
    for options in SOLVERS.values():
        result = solve(problem, options=options)
        assert {(p.mentee_id, p.mentor_id) for p in result.pairs} == {(1, 11), (2, 10)}
