"""Profile rules that need the program: taxonomy, role, capacity, consent, oneself.

Each rule is a small function returning field errors (path -> messages); `check` runs
them all on a profile and either returns what is to be stored or raises one
`RuleViolation` naming every broken rule. Shape checks of single values (formats,
ranges, ISO codes) are the input schemas' work and have happened before.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from enum import StrEnum
from typing import Any

from api.domain.errors import RuleViolation
from api.domain.settings import ProgramSettings
from api.domain.vocabulary import MENTEE_ROLES, MENTOR_ROLES, CulturalPreference, Role

Errors = dict[str, list[str]]

#: Special category data (GDPR art. 9): stored only with a live consent.
SENSITIVE_FIELDS = ("cultural_background", "wellbeing_needs")
#: Everything a participant writes about themselves in one program.
PROFILE_FIELDS = (
    "bio",
    "needs",
    "strengths",
    "languages",
    "timezone",
    "availability",
    "capacity",
    "experience_level",
    "org_unit",
    "manager_email",
    "preferred_partners",
    "cultural_preference",
    *SENSITIVE_FIELDS,
)


class ConsentChange(StrEnum):
    """What a profile write does to the special-category consent."""

    NONE = "none"
    GRANT = "grant"
    WITHDRAW = "withdraw"


@dataclass(frozen=True)
class Checked:
    """A profile that passed every rule: the values to store and the consent change."""

    values: dict[str, Any]
    consent: ConsentChange
    consent_text_version: str | None = None


def merge(current: Mapping[str, Any], sent: Mapping[str, Any], *, partial: bool) -> dict[str, Any]:
    """The profile after a write: a PATCH keeps what it does not name, a PUT/POST not."""
    merged = dict(current) if partial else dict.fromkeys(PROFILE_FIELDS)
    merged.update(sent)
    return merged


def taxonomy_errors(profile: Mapping[str, Any], taxonomy: Iterable[str]) -> Errors:
    allowed = set(taxonomy)
    errors: Errors = {}
    for kind in ("needs", "strengths"):
        for i, item in enumerate(profile.get(kind) or []):
            if item["tag"] not in allowed:
                errors[f"{kind}.{i}.tag"] = [f"{item['tag']!r} is not in the program's taxonomy."]
    return errors


def role_errors(role: Role | str, profile: Mapping[str, Any]) -> Errors:
    errors: Errors = {}
    if role in MENTEE_ROLES and not profile.get("needs"):
        errors["needs"] = ["Mentees need at least one need."]
    if role in MENTOR_ROLES and not profile.get("strengths"):
        errors["strengths"] = ["Mentors need at least one strength."]
    return errors


def capacity(
    role: Role | str, value: int | None, *, sent: bool, settings: ProgramSettings
) -> tuple[int | None, Errors]:
    """The capacity to store: mentors get the program default when they give none."""
    if role in MENTOR_ROLES:
        if value is None:
            return settings.default_capacity, {}
        if value > settings.max_capacity:
            return value, {
                "capacity": [f"Must be between 0 and the program maximum {settings.max_capacity}."]
            }
        return value, {}
    if value is not None and sent:
        return value, {"capacity": ["Capacity applies to mentors only."]}
    return None, {}


def capacity_after_role_change(
    current: int | None, live_load: int, settings: ProgramSettings
) -> int:
    """A mentor's capacity when a coordinator makes them one (again): the capacity they
    have, else the program default, and never below the matches they carry now (a flip
    mentor -> mentee -> mentor must not leave someone with more matches than capacity)."""
    return max(settings.default_capacity if current is None else current, live_load)


def self_reference_errors(own_email: str, profile: Mapping[str, Any]) -> Errors:
    errors: Errors = {}
    if profile.get("manager_email") and profile["manager_email"] == own_email:
        errors["manager_email"] = ["You cannot be your own manager."]
    if own_email in (profile.get("preferred_partners") or []):
        errors["preferred_partners"] = ["You cannot prefer yourself."]
    return errors


def consent_change(consent: Mapping[str, Any] | None) -> ConsentChange:
    if consent is None:
        return ConsentChange.NONE
    return ConsentChange.GRANT if consent["special_category"] else ConsentChange.WITHDRAW


def consent_errors(
    change: ConsentChange,
    *,
    has_live_consent: bool,
    sent: Mapping[str, Any],
    profile: Mapping[str, Any],
) -> Errors:
    """Special category data needs a live consent: one on record, or one given now."""
    errors: Errors = {}
    for key in SENSITIVE_FIELDS:
        if change is ConsentChange.WITHDRAW and sent.get(key):
            errors[key] = ["Cannot be stored while withdrawing consent (withdrawal erases it)."]
        elif change is ConsentChange.NONE and not has_live_consent and profile.get(key):
            errors[key] = [
                "Special category data is stored only with your consent: send "
                '"consent": {"special_category": true, "text_version": "..."} with it.'
            ]
    return errors


def check(
    *,
    role: Role | str,
    current: Mapping[str, Any],
    sent: Mapping[str, Any],
    partial: bool,
    own_email: str,
    taxonomy: Iterable[str],
    settings: ProgramSettings,
    has_live_consent: bool,
) -> Checked:
    """Every rule on a profile write; the values to store, or one RuleViolation."""
    sent = dict(sent)
    consent = sent.pop("consent", None)
    change = consent_change(consent)
    profile = merge(current, sent, partial=partial)
    profile["capacity"], capacity_errors = capacity(
        role, profile.get("capacity"), sent="capacity" in sent, settings=settings
    )
    errors: Errors = {}
    for found in (
        taxonomy_errors(profile, taxonomy),
        role_errors(role, profile),
        capacity_errors,
        self_reference_errors(own_email, profile),
        consent_errors(change, has_live_consent=has_live_consent, sent=sent, profile=profile),
    ):
        for key, messages in found.items():
            errors.setdefault(key, []).extend(messages)
    if errors:
        raise RuleViolation(errors)
    if profile.get("cultural_preference") is None:
        profile["cultural_preference"] = CulturalPreference.OPEN.value
    if change is ConsentChange.WITHDRAW:
        profile.update(dict.fromkeys(SENSITIVE_FIELDS))
    for key in SENSITIVE_FIELDS:
        profile[key] = profile.get(key) or None
    return Checked(
        values=profile,
        consent=change,
        consent_text_version=consent["text_version"] if consent else None,
    )
