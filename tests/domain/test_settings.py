"""Program settings: one declaration each, defaults, value checks and cross-field rules."""

from __future__ import annotations

import datetime as dt
import typing

import pytest

import matcher
from api.domain.errors import RuleViolation
from api.domain.settings import OVERRIDABLE, SPECS, ProgramSettings, check_value


def test_every_setting_has_a_description_and_a_default_that_passes_its_own_checks():
    defaults = ProgramSettings().to_stored()
    assert set(defaults) == set(SPECS)
    for name, spec in SPECS.items():
        assert spec.description, name
        assert check_value(name, defaults[name]) is None, name
    ProgramSettings().check()


def test_stored_settings_read_back_the_same_and_missing_ones_get_their_default():
    changed = ProgramSettings().changed({"objective": "fair", "load_penalty": 0.05})
    assert ProgramSettings.from_stored(changed.to_stored()) == changed
    old = {"objective": "max_score", "a_setting_since_removed": 1}
    read = ProgramSettings.from_stored(old)
    assert read.objective == "max_score"
    assert read.proposal_expiry_days == ProgramSettings().proposal_expiry_days


@pytest.mark.parametrize(
    ("changes", "field"),
    [
        ({"weights": {}}, "weights"),
        ({"weights": {"needs": 0, "language": 0}}, "weights"),
        ({"weights": {"charm": 1}}, "weights"),
        ({"min_overlap_minutes": 200, "target_overlap_minutes": 100}, "target_overlap_minutes"),
        ({"min_experience_gap": 2, "max_experience_gap": 1}, "max_experience_gap"),
        ({"default_capacity": 6, "max_capacity": 5}, "default_capacity"),
        ({"load_penalty": 0.5}, "load_penalty"),
        ({"objective": "luck"}, "objective"),
        ({"proposal_expiry_days": True}, "proposal_expiry_days"),
        ({"forbid_same_org_unit": "yes"}, "forbid_same_org_unit"),
        ({"no_such_setting": 1}, "no_such_setting"),
    ],
)
def test_a_change_that_breaks_a_rule_names_the_setting(changes, field):
    with pytest.raises(RuleViolation) as raised:
        ProgramSettings().changed(changes)
    assert field in raised.value.errors


def test_a_round_overrides_only_what_a_round_may_override():
    settings = ProgramSettings()
    assert settings.for_round({"objective": "fair"}).objective == "fair"
    with pytest.raises(RuleViolation) as raised:
        settings.for_round({"proposal_expiry_days": 3})
    assert "proposal_expiry_days" in raised.value.errors
    assert "objective" in OVERRIDABLE and "rematch_policy" not in OVERRIDABLE


def test_the_matcher_gets_every_setting_it_takes_explicitly_never_its_own_defaults():
    settings = ProgramSettings().changed({"target_overlap_minutes": 240, "ideal_experience_gap": 2})
    converted = settings.to_matcher(dt.date(2026, 12, 1))
    taken = {name for name, spec in SPECS.items() if spec.matcher}
    for name in taken:
        expected = getattr(settings, name)
        assert getattr(converted, name) == (dict(expected) if name == "weights" else expected)
    # Every field of matcher.Settings comes from the program (or the round's date).
    matcher_fields = set(typing.get_type_hints(matcher.Settings))
    assert matcher_fields == taken | {"reference_date"}
    assert converted.reference_date == dt.date(2026, 12, 1)
