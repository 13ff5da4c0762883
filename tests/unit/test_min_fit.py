"""Minimum fit: pairs below `min_score` or covering too few needs are never proposed."""

from __future__ import annotations

from dataclasses import replace

from matcher import Problem, explain, solve
from tests.unit.helpers import mentee, mentor, needs_only


def _problem(**settings: object) -> Problem:
    return Problem(
        mentees=(
            mentee(1, needs=(("python", 3), ("rust", 1))),
            mentee(2, needs=()),  # named no needs: the rule asks nothing of them
        ),
        mentors=(mentor(10, strengths=(("go", 3),), capacity=2),),
        settings=needs_only(**settings),
    )


def test_off_by_default_any_feasible_pair_is_accepted() -> None:
    result = solve(_problem())
    assert {p.mentee_id for p in result.pairs} == {1, 2}


def test_a_mentor_offering_none_of_the_needs_is_not_a_partner() -> None:
    result = solve(_problem(min_needs_covered=1))
    assert {p.mentee_id for p in result.pairs} == {2}
    [left] = result.unmatched
    assert left.reason == "no_feasible_mentor"
    assert left.details["excluded_by"]["too_few_needs_covered"] == 1  # type: ignore[index]
    assert "too_few_needs_covered" in explain(_problem(min_needs_covered=1), 1, 10).failed_rules


def test_asking_for_more_needs_than_named_asks_for_all_of_them() -> None:
    problem = _problem(min_needs_covered=2)
    both = replace(
        problem, mentors=(mentor(10, strengths=(("python", 1), ("rust", 1)), capacity=2),)
    )
    one = replace(problem, mentors=(mentor(10, strengths=(("python", 3),), capacity=2),))
    assert {p.mentee_id for p in solve(both).pairs} == {1, 2}
    assert {p.mentee_id for p in solve(one).pairs} == {2}


def test_pairs_below_the_minimum_score_are_infeasible_and_counted() -> None:
    problem = _problem(min_score=0.6)
    result = solve(problem)
    # Mentee 2 named no needs: the needs criterion is neutral (0.5) < 0.6.
    assert result.pairs == ()
    reasons = {u.mentee_id: u.details["excluded_by"] for u in result.unmatched}
    assert reasons[2]["below_min_score"] == 1  # type: ignore[index]
    assert explain(problem, 2, 10).failed_rules == ("below_min_score",)
