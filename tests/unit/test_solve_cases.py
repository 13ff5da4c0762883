"""Hand-worked cases with exact expected pairs.

Scores here use the needs criterion alone (``needs_only()``): a mentee with
needs (a, 1), (b, 1), (c, 1) scores ``sum(levels of the mentor's matching
strengths) / 9`` with a mentor, so every score below is a multiple of 1/9.
"""

from __future__ import annotations

import datetime as dt
import json
from dataclasses import replace

import pytest

from matcher import Problem, Settings, Window, solve
from tests.unit.helpers import MONDAY, mentee, mentor, needs_only, pairs_of

ABC = (("a", 1), ("b", 1), ("c", 1))
DEF = (("d", 1), ("e", 1), ("f", 1))


def two_by_two(**settings: object) -> Problem:
    # E1 with M1 = 9/9, with M2 = 4/9; E2 with M1 = 5/9, with M2 = 1/9.
    # {E1-M1, E2-M2}: total 10/9, minimum 1/9.  {E1-M2, E2-M1}: total 9/9, minimum 4/9.
    return Problem(
        mentees=(mentee(1, needs=ABC), mentee(2, needs=DEF)),
        mentors=(
            mentor(11, strengths=(("a", 3), ("b", 3), ("c", 3), ("d", 3), ("e", 2))),
            mentor(12, strengths=(("a", 2), ("b", 2), ("d", 1))),
        ),
        settings=needs_only(**settings),
    )


def test_max_participation_takes_the_highest_total_among_full_matchings() -> None:
    result = solve(two_by_two())
    assert pairs_of(result) == {(1, 11), (2, 12)}
    assert result.stats.total_score == pytest.approx(10 / 9, abs=1e-6)
    assert result.stats.min_score == pytest.approx(1 / 9, abs=1e-6)


def test_fair_raises_the_minimum_before_the_total() -> None:
    result = solve(two_by_two(objective="fair"))
    assert pairs_of(result) == {(1, 12), (2, 11)}
    assert result.stats.fair_min_score == pytest.approx(4 / 9, abs=1e-6)
    assert result.stats.total_score == pytest.approx(1.0, abs=1e-6)


def test_max_score_leaves_a_mentee_out_when_that_raises_the_total() -> None:
    # E2 speaks only French, which only M1 speaks: matching both gives 1/9 + 3/9 < 9/9.
    problem = Problem(
        mentees=(
            mentee(1, needs=ABC),
            mentee(2, needs=(("a", 1), ("d", 1), ("e", 1)), languages=frozenset({"fr"})),
        ),
        mentors=(
            mentor(11, strengths=(("a", 3), ("b", 3), ("c", 3)), languages=frozenset({"en", "fr"})),
            mentor(12, strengths=(("a", 1),)),
        ),
        settings=needs_only(objective="max_score"),
    )
    assert pairs_of(solve(problem)) == {(1, 11)}
    participation = solve(replace(problem, settings=needs_only()))
    assert pairs_of(participation) == {(1, 12), (2, 11)}
    unmatched = solve(problem).unmatched
    assert [(u.mentee_id, u.reason) for u in unmatched] == [(2, "capacity_taken")]
    assert unmatched[0].details["best_alternative"] == {"mentor_id": 11, "score": 0.333333}


def test_a_long_chain_of_weak_pairs_beats_four_perfect_pairs_for_participation() -> None:
    # Mentee i (1..4) speaks language l<i> only, shared with mentors 10+i and 11+i; it
    # scores 1 with mentor 10+i and 0 with mentor 11+i. Mentee 5 can only take mentor 11
    # (score 1/3). Matching all five shifts the whole chain: total 1/3 instead of 4, so
    # participation must outweigh a score difference above 3.
    mentees = [
        mentee(i, needs=((tag, 3),), languages=frozenset({f"l{i}"}))
        for i, tag in enumerate("abcd", start=1)
    ]
    mentees.append(mentee(5, needs=(("a", 1), ("y", 1), ("z", 1)), languages=frozenset({"fr"})))
    speaks = {11: {"l1", "fr"}, 12: {"l1", "l2"}, 13: {"l2", "l3"}, 14: {"l3", "l4"}, 15: {"l4"}}
    mentors = [
        mentor(j, strengths=((tag, 3),), languages=frozenset(speaks[j]))
        for j, tag in zip(speaks, "abcde", strict=True)
    ]
    problem = Problem(mentees=tuple(mentees), mentors=tuple(mentors), settings=needs_only())
    result = solve(problem)
    assert pairs_of(result) == {(5, 11), (1, 12), (2, 13), (3, 14), (4, 15)}
    assert result.stats.total_score == pytest.approx(1 / 3, abs=1e-6)
    best_four = solve(replace(problem, settings=needs_only(objective="max_score")))
    assert pairs_of(best_four) == {(1, 11), (2, 12), (3, 13), (4, 14)}


def test_a_pin_is_honoured_first_and_the_rest_is_optimised() -> None:
    problem = replace(two_by_two(), pins=((2, 12),))
    result = solve(problem)
    assert pairs_of(result) == {(2, 12), (1, 11)}
    assert [(p.mentee_id, p.pinned) for p in result.pairs] == [(2, True), (1, False)]
    assert result.stats.pinned_count == 1
    assert result.infeasible_pins == ()


def test_an_infeasible_pin_is_reported_and_its_mentee_is_matched_elsewhere() -> None:
    base = two_by_two()
    paused = replace(base.mentors[0], paused=True)
    problem = replace(base, mentors=(paused, base.mentors[1]), pins=((1, 11),))
    result = solve(problem)
    assert [(p.mentee_id, p.mentor_id, p.rules) for p in result.infeasible_pins] == [
        (1, 11, ("mentor_paused",))
    ]
    assert pairs_of(result) == {(1, 12)}


def test_pins_beyond_a_mentors_free_slots_are_reported_as_full() -> None:
    problem = replace(two_by_two(), pins=((1, 12), (2, 12)))
    result = solve(problem)
    assert [(p.mentee_id, p.rules) for p in result.infeasible_pins] == [(2, ("mentor_full",))]
    assert pairs_of(result) == {(1, 12), (2, 11)}


def test_forbids_and_previous_partners_are_never_proposed() -> None:
    forbidden = solve(replace(two_by_two(), forbids=((1, 11),)))
    assert pairs_of(forbidden) == {(1, 12), (2, 11)}
    previous = solve(replace(two_by_two(), previous_pairs=((1, 11),)))
    assert pairs_of(previous) == {(1, 12), (2, 11)}


def load_problem(capacity: int, load_penalty: float, current_load: int = 0) -> Problem:
    # Both mentees score 5/9 with M1 and 4/9 with M2.
    return Problem(
        mentees=(mentee(1, needs=ABC), mentee(2, needs=ABC)),
        mentors=(
            mentor(
                11, strengths=(("a", 3), ("b", 2)), capacity=capacity, current_load=current_load
            ),
            mentor(12, strengths=(("a", 3), ("b", 1)), capacity=3),
        ),
        settings=needs_only(load_penalty=load_penalty),
    )


def test_capacity_lets_a_mentor_take_several_mentees() -> None:
    assert pairs_of(solve(load_problem(capacity=3, load_penalty=0.0))) == {(1, 11), (2, 11)}


def test_capacity_one_means_one_mentee() -> None:
    result = solve(load_problem(capacity=1, load_penalty=0.0))
    assert {p.mentor_id for p in result.pairs} == {11, 12}


def test_a_small_load_penalty_keeps_both_on_the_better_mentor() -> None:
    # Second slot of M1: 5/9 - 0.05 = 0.506 > 4/9.
    result = solve(load_problem(capacity=3, load_penalty=0.05))
    assert pairs_of(result) == {(1, 11), (2, 11)}
    assert result.stats.objective_total == pytest.approx(10 / 9 - 0.05, abs=1e-6)
    assert result.stats.mentor_load["new_max"] == 2


def test_a_larger_load_penalty_spreads_the_mentees() -> None:
    # Second slot of M1: 5/9 - 0.2 = 0.356 < 4/9, so one mentee moves to M2.
    result = solve(load_problem(capacity=3, load_penalty=0.2))
    assert {p.mentor_id for p in result.pairs} == {11, 12}
    # Reported scores stay unpenalised.
    assert sorted(p.score for p in result.pairs) == [0.444444, 0.555556]


def test_current_load_counts_towards_the_penalty() -> None:
    # M1 already has 2 mentees: its first free slot is the third, worth 5/9 - 2 * 0.15.
    # Both on M2: 4/9 + 4/9 - 0.15 = 0.739 beats one each: 5/9 - 0.3 + 4/9 = 0.7.
    result = solve(load_problem(capacity=5, load_penalty=0.15, current_load=2))
    assert pairs_of(result) == {(1, 12), (2, 12)}


def waiting_problem(objective: str, waits: tuple[float, float] = (0.0, 10.0)) -> Problem:
    # One slot. E1 scores 1 with it, E2 scores 1/3.
    return Problem(
        mentees=(
            mentee(1, needs=ABC, waiting_days=waits[0]),
            mentee(2, needs=(("a", 1), ("d", 1), ("e", 1)), waiting_days=waits[1]),
        ),
        mentors=(mentor(11, strengths=(("a", 3), ("b", 3), ("c", 3))),),
        settings=needs_only(objective=objective),
    )


def test_the_longer_waiter_is_matched_first_under_max_participation() -> None:
    result = solve(waiting_problem("max_participation"))
    assert pairs_of(result) == {(2, 11)}
    assert result.unmatched[0].mentee_id == 1
    assert result.unmatched[0].details["waiting_days"] == 0.0


def test_waits_within_the_same_class_do_not_override_the_score() -> None:
    assert pairs_of(solve(waiting_problem("max_participation", (0.2, 0.7)))) == {(1, 11)}
    classes = needs_only(objective="max_participation", waiting_class_days=30.0)
    problem = replace(waiting_problem("max_participation"), settings=classes)
    assert pairs_of(solve(problem)) == {(1, 11)}


def test_fair_puts_the_minimum_score_before_waiting_and_max_score_ignores_it() -> None:
    assert pairs_of(solve(waiting_problem("fair"))) == {(1, 11)}
    assert pairs_of(solve(waiting_problem("max_score"))) == {(1, 11)}


def test_max_score_breaks_exact_ties_towards_the_longer_waiter() -> None:
    problem = Problem(
        mentees=(mentee(1, needs=ABC, waiting_days=1.0), mentee(2, needs=ABC, waiting_days=9.0)),
        mentors=(mentor(11, strengths=(("a", 3),)),),
        settings=needs_only(objective="max_score"),
    )
    assert pairs_of(solve(problem)) == {(2, 11)}


def test_time_zones_decide_feasibility_across_a_daylight_saving_boundary() -> None:
    # New York switched to EDT on 9 March 2025, London stays on GMT until 30 March.
    # NY Monday 09:00-10:00 is 13:00-14:00 UTC on 10 March but 14:00-15:00 UTC on 3 March.
    new_york = mentee(1, timezone="America/New_York", availability=(Window(0, "09:00", "10:00"),))
    london = mentor(11, timezone="Europe/London", availability=(Window(0, "13:00", "14:00"),))
    problem = Problem(
        mentees=(new_york,),
        mentors=(london,),
        settings=Settings(min_overlap_minutes=60, reference_date=dt.date(2025, 3, 10)),
    )
    assert pairs_of(solve(problem)) == {(1, 11)}
    earlier = replace(problem.settings, reference_date=dt.date(2025, 3, 3))
    before = replace(problem, settings=earlier)
    result = solve(before)
    assert result.pairs == ()
    assert result.unmatched[0].reason == "no_feasible_mentor"
    assert result.unmatched[0].details["excluded_by"]["insufficient_overlap"] == 1  # type: ignore[index]


def test_windows_that_only_overlap_across_midnight_utc_are_matched() -> None:
    # Tokyo Tuesday 08:00-10:00 is Monday 23:00 - Tuesday 01:00 UTC; New York (EST) Monday
    # 18:30-20:30 is Monday 23:30 - Tuesday 01:30 UTC: 90 minutes, straddling midnight UTC.
    problem = Problem(
        mentees=(mentee(1, timezone="Asia/Tokyo", availability=(Window(1, "08:00", "10:00"),)),),
        mentors=(
            mentor(11, timezone="America/New_York", availability=(Window(0, "18:30", "20:30"),)),
        ),
        settings=Settings(
            min_overlap_minutes=90, target_overlap_minutes=180, reference_date=MONDAY
        ),
    )
    result = solve(problem)
    assert pairs_of(result) == {(1, 11)}
    assert result.pairs[0].breakdown["availability"] == 0.5
    strict = replace(problem, settings=replace(problem.settings, min_overlap_minutes=91))
    assert solve(strict).pairs == ()


def test_no_feasible_mentor_reports_how_many_mentors_each_rule_excludes() -> None:
    problem = Problem(
        mentees=(mentee(1, languages=frozenset({"fi"}), experience_level=5),),
        mentors=(
            mentor(11),
            mentor(12, paused=True, languages=frozenset({"fi"}), experience_level=5),
            mentor(13, capacity=1, current_load=1, languages=frozenset({"fi"}), experience_level=5),
        ),
        settings=needs_only(),
    )
    (entry,) = solve(problem).unmatched
    assert entry.reason == "no_feasible_mentor"
    excluded = entry.details["excluded_by"]
    assert isinstance(excluded, dict)
    assert excluded["no_shared_language"] == 1
    assert excluded["experience_gap"] == 1  # level 2 mentor for a level 5 mentee
    assert excluded["mentor_paused"] == 1
    assert excluded["mentor_full"] == 1
    assert excluded["forbidden"] == 0
    assert entry.details["mentor_count"] == 3


def test_empty_sides_give_empty_results() -> None:
    empty = solve(Problem())
    assert empty.pairs == () and empty.unmatched == () and empty.stats.matched_count == 0
    no_mentors = solve(Problem(mentees=(mentee(1),), settings=needs_only()))
    assert no_mentors.pairs == ()
    assert [u.reason for u in no_mentors.unmatched] == ["no_feasible_mentor"]
    no_mentees = solve(Problem(mentors=(mentor(11),), settings=needs_only()))
    assert no_mentees.pairs == () and no_mentees.stats.match_rate == 0.0


def test_statistics_describe_the_result() -> None:
    result = solve(replace(two_by_two(), mentees=(*two_by_two().mentees, mentee(3, needs=ABC))))
    stats = result.stats
    assert stats.mentee_count == 3 and stats.mentor_count == 2
    assert stats.matched_count == 2 and stats.match_rate == pytest.approx(2 / 3, abs=1e-6)
    assert stats.mean_score == pytest.approx(stats.total_score / 2, abs=1e-6)  # type: ignore[operator]
    assert stats.feasible_pairs == 6
    assert stats.mentor_load["histogram"] == {"1": 2}
    assert stats.mentor_load["utilisation"] == 1.0
    assert 0.0 <= stats.needs_coverage <= 1.0  # type: ignore[operator]
    assert stats.solve_seconds >= 0 and stats.scoring_seconds >= 0
    assert set(stats.to_dict()) >= {"blocking_pairs", "solve_seconds", "needs_coverage"}


def test_needs_coverage_is_priority_weighted() -> None:
    # Needs a (priority 3) and b (priority 1); the mentor covers only a: 3 / 4.
    problem = Problem(
        mentees=(mentee(1, needs=(("a", 3), ("b", 1))),),
        mentors=(mentor(11, strengths=(("a", 1),)),),
        settings=needs_only(),
    )
    assert solve(problem).stats.needs_coverage == 0.75


def test_blocking_pairs_are_counted() -> None:
    # max_participation picks {E1-M1, E2-M2}; E2 would rather have M1 (5/9 > 1/9) but M1
    # prefers E1 (9/9 > 5/9): no blocking pair. Under fair, {E1-M2, E2-M1}: E1 prefers M1
    # (9/9 > 4/9) and M1 prefers E1 (9/9 > 5/9): one blocking pair.
    assert solve(two_by_two()).stats.blocking_pairs == 0
    assert solve(two_by_two(objective="fair")).stats.blocking_pairs == 1


def test_progress_is_reported_in_phases_up_to_done() -> None:
    seen: list[tuple[str, float]] = []
    solve(two_by_two(), progress=lambda phase, fraction: seen.append((phase, fraction)))
    fractions = [f for _, f in seen]
    assert fractions == sorted(fractions)
    assert seen[0] == ("validating", 0.0) and seen[-1] == ("done", 1.0)
    assert {"scoring", "solving", "reporting"} <= {phase for phase, _ in seen}


def test_the_result_is_plain_json() -> None:
    problem = replace(two_by_two(), pins=((1, 11),), mentees=(*two_by_two().mentees, mentee(3)))
    payload = solve(problem).to_dict()
    assert json.loads(json.dumps(payload)) == payload
    pair = payload["pairs"][0]  # type: ignore[index]
    assert pair == {
        "mentee_id": 1,
        "mentor_id": 11,
        "score": 1.0,
        "breakdown": {
            "needs": 1.0,
            "availability": 1.0,
            "language": 1.0,
            "culture": 0.5,
            "experience": 1.0,
            "preference": 0.5,
        },
        "pinned": True,
    }
