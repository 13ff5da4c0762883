"""Profile rules that need the program: taxonomy, role, capacity, consent, oneself."""

from __future__ import annotations

import pytest

from api.domain import profiles
from api.domain.errors import RuleViolation
from api.domain.settings import ProgramSettings

SETTINGS = ProgramSettings().changed({"default_capacity": 2, "max_capacity": 4})
PROFILE = {
    "bio": "",
    "needs": [{"tag": "python", "priority": 2}],
    "strengths": [{"tag": "python", "level": 3}],
    "languages": ["en"],
    "timezone": "UTC",
    "availability": [],
    "experience_level": 2,
    "preferred_partners": [],
}


def check(role="mentee", sent=None, current=None, partial=False, consent=False, **kw):
    return profiles.check(
        role=role,
        current=current or {},
        sent=PROFILE | (sent or {}) if not partial else (sent or {}),
        partial=partial,
        own_email="me@example.org",
        taxonomy=kw.pop("taxonomy", ["python", "go"]),
        settings=SETTINGS,
        has_live_consent=consent,
    )


def errors_of(**kw):
    with pytest.raises(RuleViolation) as raised:
        check(**kw)
    return raised.value.errors


def test_tags_outside_the_taxonomy_are_named_by_position():
    assert "needs.0.tag" in errors_of(sent={"needs": [{"tag": "cooking", "priority": 1}]})


def test_mentees_need_a_need_and_mentors_a_strength():
    assert "needs" in errors_of(sent={"needs": []})
    assert "strengths" in errors_of(role="mentor", sent={"strengths": []})
    both = errors_of(role="both", sent={"needs": [], "strengths": []})
    assert {"needs", "strengths"} <= set(both)


def test_mentors_get_the_program_default_capacity_and_no_more_than_its_maximum():
    assert check(role="mentor").values["capacity"] == 2
    assert check(role="mentor", sent={"capacity": 4}).values["capacity"] == 4
    assert "capacity" in errors_of(role="mentor", sent={"capacity": 5})
    assert "capacity" in errors_of(sent={"capacity": 1})  # mentees have none
    assert check(sent={}).values["capacity"] is None


def test_nobody_is_their_own_manager_or_preferred_partner():
    assert "manager_email" in errors_of(sent={"manager_email": "me@example.org"})
    assert "preferred_partners" in errors_of(sent={"preferred_partners": ["me@example.org"]})


def test_special_category_data_needs_a_consent_and_withdrawing_erases_all_of_it():
    assert "cultural_background" in errors_of(sent={"cultural_background": ["x"]})
    given = check(
        sent={
            "cultural_background": ["x"],
            "consent": {"special_category": True, "text_version": "v1"},
        }
    )
    assert given.consent is profiles.ConsentChange.GRANT and given.consent_text_version == "v1"
    assert check(sent={"wellbeing_needs": ["quiet"]}, consent=True).values["wellbeing_needs"]
    current = PROFILE | {"cultural_background": ["x"], "wellbeing_needs": ["quiet"]}
    withdrawn = check(
        current=current,
        sent={"consent": {"special_category": False, "text_version": "v1"}},
        partial=True,
        consent=True,
    )
    assert withdrawn.consent is profiles.ConsentChange.WITHDRAW
    assert all(withdrawn.values[k] is None for k in profiles.SENSITIVE_FIELDS)
    refused = errors_of(
        sent={
            "wellbeing_needs": ["quiet"],
            "consent": {"special_category": False, "text_version": "v1"},
        },
        consent=True,
    )
    assert "wellbeing_needs" in refused


def test_a_partial_write_keeps_what_it_does_not_name():
    current = PROFILE | {"bio": "kept", "cultural_preference": "shared"}
    checked = check(current=current, sent={"experience_level": 3}, partial=True)
    assert checked.values["bio"] == "kept" and checked.values["cultural_preference"] == "shared"
    assert checked.values["experience_level"] == 3
