"""Criteria and hard rules: hand-worked values and a pure-Python reference."""

from __future__ import annotations

import math
from dataclasses import replace

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings

from matcher import CRITERIA, Mentee, Mentor, Problem, Window, explain, solve
from matcher.features import prepare
from matcher.scoring import Evaluator, score_matrix
from tests.unit.helpers import mentee, mentor, needs_only, problems
from tests.unit.test_time_windows import reference_minutes


def one_pair(e: Mentee, r: Mentor, **settings: object) -> Problem:
    return Problem(mentees=(e,), mentors=(r,), settings=needs_only(**settings))


def test_needs_are_weighted_by_priority_and_strength_level() -> None:
    # (3 * 2 + 1 * 0) / (3 * (3 + 1)) = 0.5
    e = mentee(1, needs=(("python", 3), ("career", 1)))
    r = mentor(2, strengths=(("Python", 2), ("cooking", 3)))
    ex = explain(one_pair(e, r), 1, 2)
    assert ex.breakdown["needs"] == 0.5
    assert ex.score == 0.5  # needs is the only weighted criterion


def test_a_mentee_without_needs_scores_neutral_on_needs() -> None:
    assert (
        explain(one_pair(mentee(1), mentor(2, strengths=(("a", 3),))), 1, 2).breakdown["needs"]
        == 0.5
    )


def test_availability_is_overlap_relative_to_the_target() -> None:
    e = mentee(1, availability=(Window(0, "09:00", "10:30"),))
    r = mentor(2, availability=(Window(0, "10:00", "12:00"),))
    ex = explain(one_pair(e, r, target_overlap_minutes=120), 1, 2)
    assert ex.overlap_minutes == 30
    assert ex.breakdown["availability"] == 0.25
    capped = explain(one_pair(e, r, target_overlap_minutes=20), 1, 2)
    assert capped.breakdown["availability"] == 1.0
    no_target = explain(one_pair(e, r, target_overlap_minutes=0), 1, 2)
    assert no_target.breakdown["availability"] == 1.0


def test_language_is_full_for_any_common_language_and_never_lower_for_speaking_more() -> None:
    r = mentor(2, languages=frozenset({"de", "en", "pt"}))
    for spoken in ({"en"}, {"en", "de"}, {"en", "de", "fr", "es"}, {"pt", "ja"}):
        e = mentee(1, languages=frozenset(spoken))
        assert explain(one_pair(e, r), 1, 2).breakdown["language"] == 1.0


@pytest.mark.parametrize(
    ("mentee_tags", "mentee_pref", "mentor_tags", "mentor_pref", "expected"),
    [
        # Mentee wants shared and has a tag in common (more tags never dilute it): 1;
        # mentor open: 0.5.
        ({"x", "y"}, "shared", {"x", "z", "w"}, "open", 0.75),
        # Mentee wants shared (1), mentor wants different but they share x (0).
        ({"x"}, "shared", {"x", "y"}, "different", 0.5),
        # Both want shared and share everything.
        ({"x"}, "shared", {"x"}, "shared", 1.0),
        # Mentee wants different and shares nothing.
        ({"x"}, "different", {"y"}, "open", 0.75),
        # No consent on the mentee's side: neutral for both sides, whatever the preferences.
        (set(), "shared", {"x"}, "different", 0.5),
        # No consent on the mentor's side.
        ({"x"}, "shared", set(), "shared", 0.5),
    ],
)
def test_culture_follows_each_sides_preference_and_is_neutral_without_consent(
    mentee_tags: set[str],
    mentee_pref: str,
    mentor_tags: set[str],
    mentor_pref: str,
    expected: float,
) -> None:
    e = mentee(1, cultural_tags=frozenset(mentee_tags), cultural_preference=mentee_pref)
    r = mentor(2, cultural_tags=frozenset(mentor_tags), cultural_preference=mentor_pref)
    assert explain(one_pair(e, r), 1, 2).breakdown["culture"] == expected


def test_a_mentee_without_consent_scores_the_same_culture_with_every_mentor() -> None:
    e = mentee(1, cultural_preference="shared")
    mentors = tuple(
        mentor(10 + k, cultural_tags=frozenset(tags), cultural_preference=pref)
        for k, (tags, pref) in enumerate(
            [({"x"}, "shared"), ({"y", "z"}, "different"), (set(), "open")]
        )
    )
    problem = Problem(mentees=(e,), mentors=mentors, settings=needs_only())
    values = {explain(problem, 1, r.id).breakdown["culture"] for r in mentors}
    assert values == {0.5}


def test_experience_fit_peaks_at_the_ideal_gap() -> None:
    def fit(mentee_level: int, mentor_level: int) -> float:
        problem = one_pair(
            mentee(1, experience_level=mentee_level),
            mentor(2, experience_level=mentor_level),
            ideal_experience_gap=1,
            max_experience_gap=4,
        )
        return explain(problem, 1, 2).breakdown["experience"]

    assert fit(2, 3) == 1.0
    assert fit(2, 2) == 0.75
    assert fit(1, 5) == 0.25


def test_preference_counts_both_sides() -> None:
    def value(e_pref: set[int], r_pref: set[int]) -> float:
        problem = one_pair(
            mentee(1, preferred_partners=frozenset(e_pref)),
            mentor(2, preferred_partners=frozenset(r_pref)),
        )
        return explain(problem, 1, 2).breakdown["preference"]

    assert value({2}, {1}) == 1.0
    assert value({2}, set()) == 0.75
    assert value(set(), set()) == 0.5
    assert value({3}, set()) == 0.5  # 3 is not in the run: ignored, so neutral
    assert value(set(), {5}) == 0.5
    # Naming someone else in the run never counts against this pair.
    problem = Problem(
        mentees=(mentee(1, preferred_partners=frozenset({3})),),
        mentors=(mentor(2), mentor(3)),
        settings=needs_only(),
    )
    assert explain(problem, 1, 2).breakdown["preference"] == 0.5
    assert explain(problem, 1, 3).breakdown["preference"] == 0.75


def test_the_score_is_the_weighted_mean_of_the_breakdown() -> None:
    e = mentee(1, needs=(("a", 2),), languages=frozenset({"en", "de"}))
    r = mentor(2, strengths=(("a", 1),))
    weights = {"needs": 2.0, "language": 1.0, "experience": 1.0}
    ex = explain(one_pair(e, r, weights=weights), 1, 2)
    assert ex.weights == {
        "needs": 0.5,
        "availability": 0.0,
        "language": 0.25,
        "culture": 0.0,
        "experience": 0.25,
        "preference": 0.0,
    }
    expected = sum(ex.weights[c] * ex.breakdown[c] for c in CRITERIA)
    assert ex.score == pytest.approx(expected, abs=1e-6)


@pytest.mark.parametrize(
    ("change", "rule"),
    [
        ({"mentor": {"id": 1}}, "same_person"),
        ({"mentor": {"email": "E1@X"}}, "same_person"),
        ({"mentor": {"languages": frozenset({"fr"})}}, "no_shared_language"),
        ({"mentor": {"availability": (Window(3, "09:00", "09:30"),)}}, "insufficient_overlap"),
        ({"mentor": {"paused": True}}, "mentor_paused"),
        ({"mentor": {"capacity": 2, "current_load": 2}}, "mentor_full"),
        ({"mentor": {"capacity": 0}}, "mentor_full"),
        ({"mentor": {"manager_email": "boss@x"}}, "reporting_line"),
        ({"mentor": {"email": "boss@x"}}, "reporting_line"),
        (
            {"mentee": {"manager_email": None}, "mentor": {"manager_email": "e1@x"}},
            "reporting_line",
        ),
        ({"mentor": {"experience_level": 5}}, "experience_gap"),
        ({"mentor": {"experience_level": 1}, "mentee": {"experience_level": 2}}, "experience_gap"),
    ],
)
def test_each_hard_rule_is_reported_by_explain(
    change: dict[str, dict[str, object]], rule: str
) -> None:
    e = mentee(1, email="e1@x", manager_email="boss@x", availability=(Window(0, "09:00", "11:00"),))
    r = mentor(2, email="m2@x", availability=(Window(0, "09:00", "11:00"),))
    e = replace(e, **change.get("mentee", {}))  # type: ignore[arg-type]
    r = replace(r, **change.get("mentor", {}))  # type: ignore[arg-type]
    ex = explain(one_pair(e, r, min_overlap_minutes=60, max_experience_gap=2), 1, r.id)
    assert ex.failed_rules == (rule,)
    assert not ex.feasible


def test_the_baseline_pair_of_the_rule_table_is_feasible() -> None:
    e = mentee(1, email="e1@x", manager_email="boss@x", availability=(Window(0, "09:00", "11:00"),))
    r = mentor(2, email="m2@x", availability=(Window(0, "09:00", "11:00"),))
    ex = explain(one_pair(e, r, min_overlap_minutes=60, max_experience_gap=2), 1, 2)
    assert ex.feasible and ex.failed_rules == ()


def test_the_reporting_line_is_followed_through_people_in_the_run() -> None:
    # Mentee 1 reports to lead@x (a mentee too), who reports to the mentor.
    e = mentee(1, email="e1@x", manager_email="lead@x")
    lead = mentee(3, email="lead@x", manager_email="m2@x")
    r = mentor(2, email="m2@x")
    problem = Problem(mentees=(e, lead), mentors=(r,), settings=needs_only())
    assert explain(problem, 1, 2).failed_rules == ("reporting_line",)
    assert explain(problem, 3, 2).failed_rules == ("reporting_line",)


def test_same_org_unit_is_a_rule_only_when_the_program_asks() -> None:
    problem = one_pair(mentee(1, org_unit="Sales"), mentor(2, org_unit="sales "))
    assert explain(problem, 1, 2).feasible
    strict = replace(problem, settings=replace(problem.settings, forbid_same_org_unit=True))
    assert explain(strict, 1, 2).failed_rules == ("same_org_unit",)


def test_forbids_and_previous_partners_are_rules() -> None:
    problem = replace(one_pair(mentee(1), mentor(2)), forbids=((1, 2),), previous_pairs=((1, 2),))
    assert explain(problem, 1, 2).failed_rules == ("previous_partner", "forbidden")


# ------------------------------------------------------------------ reference implementation


def reference(problem: Problem, e: Mentee, r: Mentor) -> tuple[dict[str, float], set[str]]:
    """Criteria and failing rules of one pair, straight from the documented definitions."""
    s = problem.settings
    assert s.reference_date is not None
    mentee_ids = {x.id for x in problem.mentees}
    mentor_ids = {x.id for x in problem.mentors}
    levels = {t.lower(): v for t, v in r.strengths}
    needs = {t.lower(): v for t, v in e.needs}
    den = 3 * sum(needs.values())
    crit: dict[str, float] = {}
    crit["needs"] = sum(p * levels.get(t, 0) for t, p in needs.items()) / den if den else 0.5
    overlap = len(
        reference_minutes(e.availability, e.timezone, s.reference_date)
        & reference_minutes(r.availability, r.timezone, s.reference_date)
    )
    target = s.target_overlap_minutes
    crit["availability"] = min(1.0, overlap / target) if target > 0 else 1.0
    le = {x.lower() for x in e.languages}
    lr = {x.lower() for x in r.languages}
    crit["language"] = 1.0 if le & lr else 0.0

    def side(mine: frozenset[str], theirs: frozenset[str], pref: str) -> float:
        if not mine or not theirs or pref == "open":
            return 0.5
        common = bool(mine & theirs)
        return float(common) if pref == "shared" else float(not common)

    crit["culture"] = (
        side(e.cultural_tags, r.cultural_tags, e.cultural_preference)
        + side(r.cultural_tags, e.cultural_tags, r.cultural_preference)
    ) / 2
    gap = r.experience_level - e.experience_level
    crit["experience"] = min(1.0, max(0.0, 1 - abs(gap - s.ideal_experience_gap) / 4))
    e_pref = {x for x in e.preferred_partners if x in mentor_ids}
    r_pref = {x for x in r.preferred_partners if x in mentee_ids}
    crit["preference"] = 0.5 + 0.25 * (r.id in e_pref) + 0.25 * (e.id in r_pref)

    def norm(x: str | None) -> str | None:
        return x.strip().lower() or None if x else None

    manager_of: dict[str, str] = {}
    for person in (*problem.mentees, *problem.mentors):
        em, mg = norm(person.email), norm(person.manager_email)
        if em and mg:
            manager_of.setdefault(em, mg)

    def chain(person: Mentee | Mentor) -> set[str]:
        out: set[str] = set()
        current = norm(person.manager_email)
        seen = {norm(person.email)}
        while current and current not in seen and len(out) < 16:
            out.add(current)
            seen.add(current)
            current = manager_of.get(current)
        return out

    em_e, em_r = norm(e.email), norm(r.email)
    rules: set[str] = set()
    if e.id == r.id or (em_e is not None and em_e == em_r):
        rules.add("same_person")
    if not le & lr:
        rules.add("no_shared_language")
    if overlap < s.min_overlap_minutes:
        rules.add("insufficient_overlap")
    if (e.id, r.id) in set(problem.previous_pairs):
        rules.add("previous_partner")
    if (e.id, r.id) in set(problem.forbids):
        rules.add("forbidden")
    if r.paused:
        rules.add("mentor_paused")
    if r.capacity - r.current_load <= 0:
        rules.add("mentor_full")
    mg_e, mg_r = norm(e.manager_email), norm(r.manager_email)
    if (mg_e is not None and mg_e == mg_r) or (em_r in chain(e)) or (em_e in chain(r)):
        rules.add("reporting_line")
    if not s.min_experience_gap <= gap <= s.max_experience_gap:
        rules.add("experience_gap")
    org_e = (e.org_unit or "").strip().lower()
    if s.forbid_same_org_unit and org_e and org_e == (r.org_unit or "").strip().lower():
        rules.add("same_org_unit")
    if len(set(needs) & set(levels)) < min(s.min_needs_covered, len(needs)):
        rules.add("too_few_needs_covered")
    total_w = sum(s.weights.values())
    score = sum(s.weights.get(c, 0.0) * crit[c] for c in CRITERIA) / total_w
    if round(min(1.0, max(0.0, score)) * 1_000_000) < round(s.min_score * 1_000_000):
        rules.add("below_min_score")
    return crit, rules


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(problems(max_mentees=4, max_mentors=4))
def test_explain_agrees_with_a_pure_python_reference(problem: Problem) -> None:
    weights = problem.settings.weights
    total_w = sum(weights.values())
    for e in problem.mentees:
        for r in problem.mentors:
            ex = explain(problem, e.id, r.id)
            crit, rules = reference(problem, e, r)
            for name in CRITERIA:
                assert ex.breakdown[name] == pytest.approx(crit[name], abs=1e-6), name
            score = sum(weights.get(c, 0.0) * crit[c] for c in CRITERIA) / total_w
            assert ex.score == pytest.approx(score, abs=1.5e-6)
            assert set(ex.failed_rules) == rules
            assert ex.feasible == (not rules)


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(problems())
def test_block_scores_are_bit_identical_to_pair_scores(problem: Problem) -> None:
    prep = prepare(problem)
    matrix = score_matrix(prep)
    rows, cols = np.meshgrid(np.arange(prep.n), np.arange(prep.m), indexing="ij")
    block = Evaluator(prep).pairs(rows.ravel().astype(np.int64), cols.ravel().astype(np.int64))
    expected = np.where(block.feasible, block.score, -1).reshape(prep.n, prep.m)
    assert np.array_equal(matrix, expected)


def test_reported_pair_scores_match_explain_exactly() -> None:
    e = mentee(
        1,
        needs=(("a", 3), ("b", 2), ("c", 1)),
        languages=frozenset({"en", "de"}),
        cultural_tags=frozenset({"x"}),
        cultural_preference="shared",
    )
    r = mentor(
        2,
        strengths=(("a", 2), ("c", 3)),
        cultural_tags=frozenset({"x", "y"}),
        preferred_partners=frozenset({1}),
    )
    problem = Problem(mentees=(e,), mentors=(r,))
    problem = replace(problem, settings=replace(problem.settings, reference_date=None))
    (pair,) = solve(problem).pairs
    ex = explain(problem, 1, 2)
    assert (pair.score, pair.breakdown) == (ex.score, ex.breakdown)
    assert math.isclose(sum(ex.weights.values()), 1.0)
