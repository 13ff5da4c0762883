"""Bad input raises MatcherError naming the problem, never a scipy traceback."""

from __future__ import annotations

import math
from dataclasses import replace

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from matcher import (
    MatcherError,
    Mentee,
    Mentor,
    Problem,
    Settings,
    Window,
    explain,
    explain_pairs,
    solve,
)
from tests.unit.helpers import mentee, mentor, needs_only, problems


def base() -> Problem:
    return Problem(mentees=(mentee(1), mentee(2)), mentors=(mentor(11),), settings=needs_only())


def raises(problem: Problem, field: str | None, words: str) -> MatcherError:
    with pytest.raises(MatcherError) as caught:
        solve(problem)
    assert caught.value.field == field
    assert words in str(caught.value)
    assert isinstance(caught.value, ValueError)
    return caught.value


def test_duplicate_mentee_ids_are_rejected() -> None:
    error = raises(replace(base(), mentees=(mentee(1), mentee(1))), "mentees[1].id", "duplicate")
    assert error.details == {"id": 1}


def test_duplicate_mentor_ids_are_rejected() -> None:
    raises(replace(base(), mentors=(mentor(11), mentor(11))), "mentors[1].id", "duplicate mentor")


def test_ids_must_be_integers() -> None:
    raises(replace(base(), mentees=(Mentee(id="7"),)), "mentees[0].id", "integer")  # type: ignore[arg-type]
    raises(replace(base(), mentees=(Mentee(id=True),)), "mentees[0].id", "integer")


def test_negative_capacity_and_load_are_rejected() -> None:
    raises(replace(base(), mentors=(mentor(11, capacity=-1),)), "mentors[0].capacity", "-1")
    raises(replace(base(), mentors=(mentor(11, current_load=-2),)), "mentors[0].current_load", "-2")


@pytest.mark.parametrize("value", [math.nan, math.inf, -1.0, "heavy"])
def test_bad_weights_are_rejected(value: object) -> None:
    settings = needs_only(weights={"needs": 1.0, "language": value})
    raises(replace(base(), settings=settings), "settings.weights.language", "settings.weights")


def test_weights_must_name_known_criteria_and_not_all_be_zero() -> None:
    raises(
        replace(base(), settings=needs_only(weights={"charm": 1.0})),
        "settings.weights",
        "unknown criterion 'charm'",
    )
    raises(
        replace(base(), settings=needs_only(weights={"needs": 0.0})),
        "settings.weights",
        "at least one weight",
    )


def test_unknown_objective_is_rejected() -> None:
    error = raises(
        replace(base(), settings=needs_only(objective="happiness")),
        "settings.objective",
        "unknown objective",
    )
    assert error.details["allowed"] == ["max_participation", "max_score", "fair", "stable"]


@pytest.mark.parametrize(
    ("window", "field", "words"),
    [
        (Window(0, "25:00", "26:00"), "mentees[0].availability[0].start", "outside"),
        (Window(0, "9am", "10:00"), "mentees[0].availability[0].start", "cannot parse"),
        (Window(0, "09:00", "10:75"), "mentees[0].availability[0].end", "minutes out of range"),
        (Window(0, "09:00", 1500), "mentees[0].availability[0].end", "outside"),
        (Window(7, "09:00", "10:00"), "mentees[0].availability[0].weekday", "weekday"),
        (Window(0, "09:00", "09:00"), "mentees[0].availability[0]", "empty window"),
        (Window(0, "24:00", "02:00"), "mentees[0].availability[0]", "cannot start at 24:00"),
        (Window(0, 9.5, "10:00"), "mentees[0].availability[0].start", "expected"),  # type: ignore[arg-type]
    ],
)
def test_windows_that_do_not_parse_are_rejected(window: Window, field: str, words: str) -> None:
    raises(replace(base(), mentees=(mentee(1, availability=(window,)),)), field, words)


def test_unknown_time_zones_are_rejected() -> None:
    raises(
        replace(base(), mentors=(mentor(11, timezone="Mars/Olympus"),)),
        "mentors[0].timezone",
        "unknown time zone",
    )


def test_out_of_range_levels_and_priorities_are_rejected() -> None:
    raises(
        replace(base(), mentees=(mentee(1, experience_level=6),)),
        "mentees[0].experience_level",
        "6",
    )
    raises(replace(base(), mentees=(mentee(1, needs=(("a", 4),)),)), "mentees[0].needs[0]", "4")
    raises(
        replace(base(), mentors=(mentor(11, strengths=(("a", 1), ("A", 2))),)),
        "mentors[0].strengths",
        "appears twice",
    )


def test_unknown_cultural_preference_is_rejected() -> None:
    raises(
        replace(base(), mentees=(mentee(1, cultural_preference="same"),)),
        "mentees[0].cultural_preference",
        "same",
    )


def test_bad_settings_are_named() -> None:
    raises(
        replace(base(), settings=needs_only(min_overlap_minutes=-5)),
        "settings.min_overlap_minutes",
        "-5",
    )
    raises(
        replace(base(), settings=needs_only(min_experience_gap=2, max_experience_gap=1)),
        "settings.min_experience_gap",
        "larger",
    )
    raises(
        replace(base(), settings=needs_only(load_penalty=math.nan)),
        "settings.load_penalty",
        "finite",
    )
    raises(
        replace(base(), settings=needs_only(waiting_class_days=0.0)),
        "settings.waiting_class_days",
        "> 0",
    )
    raises(
        replace(base(), settings=needs_only(reference_date="2025-01-01")),
        "settings.reference_date",
        "date",
    )


def test_negative_or_nan_waiting_time_is_rejected() -> None:
    raises(
        replace(base(), mentees=(mentee(1, waiting_days=-1.0),)),
        "mentees[0].waiting_days",
        "finite",
    )
    raises(
        replace(base(), mentees=(mentee(1, waiting_days=math.nan),)),
        "mentees[0].waiting_days",
        "finite",
    )


def test_pins_must_name_people_in_the_run_and_a_mentee_only_once() -> None:
    raises(replace(base(), pins=((9, 11),)), "pins[0]", "unknown mentee id 9")
    raises(replace(base(), pins=((1, 99),)), "pins[0]", "unknown mentor id 99")
    raises(replace(base(), pins=((1, 11), (1, 11))), "pins[1]", "pinned more than once")
    raises(replace(base(), pins=((1,),)), "pins[0]", "expected (mentee_id, mentor_id)")  # type: ignore[arg-type]


def test_forbids_and_previous_pairs_naming_absent_people_are_ignored() -> None:
    problem = replace(base(), forbids=((77, 11),), previous_pairs=((1, 88),))
    assert len(solve(problem).pairs) == 1


def test_wrong_types_are_named() -> None:
    raises(replace(base(), mentees=(mentor(3),)), "mentees[0]", "matcher.Mentee")  # type: ignore[arg-type]
    raises(replace(base(), settings=None), "settings", "matcher.Settings")  # type: ignore[arg-type]
    raises(replace(base(), mentors=(mentor(11, paused="no"),)), "mentors[0].paused", "bool")
    raises(replace(base(), mentees=(mentee(1, languages="en"),)), "mentees[0].languages", "set")
    with pytest.raises(MatcherError):
        solve("not a problem")  # type: ignore[arg-type]


def test_explain_rejects_unknown_ids() -> None:
    with pytest.raises(MatcherError) as caught:
        explain(base(), 1, 99)
    assert caught.value.field == "mentor_id"
    with pytest.raises(MatcherError):
        explain(base(), 99, 11)


def test_errors_serialise_to_json_data() -> None:
    with pytest.raises(MatcherError) as caught:
        solve(replace(base(), mentors=(mentor(11, capacity=-3),)))
    assert caught.value.to_dict() == {
        "message": caught.value.message,
        "field": "mentors[0].capacity",
        "details": {"value": -3},
    }


def test_defaults_make_a_valid_problem() -> None:
    problem = Problem(
        mentees=(
            Mentee(id=1, languages=frozenset({"en"}), availability=(Window(0, "09:00", "12:00"),)),
        ),
        mentors=(
            Mentor(
                id=2,
                languages=frozenset({"EN"}),
                experience_level=2,
                availability=(Window(0, 540, 720),),
            ),
        ),
        settings=Settings(),
    )
    assert len(solve(problem).pairs) == 1


JUNK = [
    None,
    "x",
    "",
    -1,
    0,
    1.5,
    math.nan,
    math.inf,
    [],
    {},
    (),
    ("a",),
    (("a", 9),),
    object(),
    True,
    10**20,
    -(10**20),
    frozenset({None}),
    Window(9, "x", "y"),
]
MENTEE_FIELDS = [
    "id",
    "needs",
    "languages",
    "timezone",
    "availability",
    "experience_level",
    "org_unit",
    "email",
    "manager_email",
    "preferred_partners",
    "cultural_tags",
    "cultural_preference",
    "waiting_days",
]
MENTOR_FIELDS = [f for f in MENTEE_FIELDS if f not in ("needs", "waiting_days")] + [
    "strengths",
    "capacity",
    "current_load",
    "paused",
]
SETTINGS_FIELDS = [
    "weights",
    "objective",
    "min_overlap_minutes",
    "target_overlap_minutes",
    "min_experience_gap",
    "max_experience_gap",
    "ideal_experience_gap",
    "load_penalty",
    "reference_date",
    "waiting_class_days",
    "forbid_same_org_unit",
]
PROBLEM_FIELDS = ["mentees", "mentors", "pins", "forbids", "previous_pairs"]


@settings(max_examples=150, deadline=None)
@given(
    st.sampled_from(["mentee", "mentor", "settings", "problem"]),
    st.data(),
    st.sampled_from(JUNK),
)
def test_corrupted_input_raises_only_matcher_errors(
    where: str, data: st.DataObject, junk: object
) -> None:
    problem = Problem(
        mentees=(mentee(1, needs=(("a", 2),)), mentee(2)),
        mentors=(mentor(11, strengths=(("a", 3),), capacity=2),),
        settings=needs_only(),
        pins=((1, 11),),
    )
    if where == "mentee":
        field = data.draw(st.sampled_from(MENTEE_FIELDS))
        problem = replace(
            problem, mentees=(replace(problem.mentees[0], **{field: junk}), problem.mentees[1])
        )
    elif where == "mentor":
        field = data.draw(st.sampled_from(MENTOR_FIELDS))
        problem = replace(problem, mentors=(replace(problem.mentors[0], **{field: junk}),))
    elif where == "settings":
        field = data.draw(st.sampled_from(SETTINGS_FIELDS))
        problem = replace(problem, settings=replace(problem.settings, **{field: junk}))
    else:
        field = data.draw(st.sampled_from(PROBLEM_FIELDS))
        problem = replace(problem, **{field: junk})
    for call in (lambda: solve(problem), lambda: explain(problem, 1, 11)):
        try:
            call()
        except MatcherError as error:
            assert error.message
        # Any other exception type fails the test.


@settings(max_examples=40, deadline=None)
@given(problem=problems())
def test_explain_pairs_agrees_with_explain_pair_by_pair(problem: Problem) -> None:
    pairs = [(e.id, r.id) for e in problem.mentees for r in problem.mentors]
    batch = explain_pairs(problem, pairs)
    assert [(b.mentee_id, b.mentor_id) for b in batch] == pairs
    assert list(batch) == [explain(problem, e, r) for e, r in pairs]


def test_explain_pairs_of_nothing_is_empty_and_names_bad_ids() -> None:
    problem = Problem(mentees=(mentee(1),), mentors=(mentor(2),))
    assert explain_pairs(problem, []) == ()
    with pytest.raises(MatcherError) as caught:
        explain_pairs(problem, [(1, 2), (1, 99)])
    assert caught.value.field == "pairs[1].mentor_id"


def test_explain_pairs_rejects_malformed_pairs_with_matcher_errors() -> None:
    problem = Problem(mentees=(mentee(1),), mentors=(mentor(2),))
    for pairs, field in (
        ("12", "pairs"),
        ([(1,)], "pairs[0]"),
        ([[1], 2], "pairs[0]"),
        ([([1], 2)], "pairs[0].mentee_id"),
        ([(1, 2.0)], "pairs[0].mentor_id"),
    ):
        with pytest.raises(MatcherError) as caught:
            explain_pairs(problem, pairs)  # type: ignore[arg-type]
        assert caught.value.field == field
