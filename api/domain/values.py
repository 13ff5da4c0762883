"""Value checks shared by the schemas and the CSV/seed importers."""

from __future__ import annotations

import math
import re
import zoneinfo
from functools import lru_cache

import pycountry

DAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
TAG_RE = re.compile(r"^[a-z0-9]+(?:-[a-z0-9]+)*$")
HHMM_RE = re.compile(r"^([01]\d|2[0-3]):([0-5]\d)$|^24:00$")


@lru_cache(maxsize=1)
def _timezones() -> frozenset[str]:
    return frozenset(zoneinfo.available_timezones())


def is_iana_timezone(name: str) -> bool:
    return name in _timezones()


@lru_cache(maxsize=4096)
def normalise_language(code: str) -> str | None:
    """Return the ISO 639-1 code (or 639-3 when there is none) for `code`, else None."""
    code = code.strip().lower()
    if len(code) == 2:
        lang = pycountry.languages.get(alpha_2=code)
    elif len(code) == 3:
        lang = pycountry.languages.get(alpha_3=code)
    else:
        return None
    if lang is None:
        return None
    return str(getattr(lang, "alpha_2", None) or lang.alpha_3)


def minutes(hhmm: str) -> int:
    """`"HH:MM"` (00:00..24:00) to minutes after midnight; the caller checked the format."""
    hours, mins = hhmm.split(":")
    return int(hours) * 60 + int(mins)


#: The largest id (and count) the database's integer columns hold.
ID_MAX = 2**31 - 1


def join_code_weakness(code: str) -> str | None:
    """Why an admin-chosen join code is too easy to guess (None: strong enough).

    A join code is the one secret that lets an account into a program, so it must hold
    against guessing even where the rate limits are generous: at least 10 letters or
    digits (dashes do not count), at least 6 different ones, and an estimated strength
    of 48 bits (the generated codes: 10 of 32 symbols, 50 bits).
    """
    symbols = [c for c in code if c.isalnum()]
    if len(symbols) < 10:
        return "Use at least 10 letters or digits (dashes do not count)."
    if len(set(symbols)) < 6:
        return "Use at least 6 different letters or digits."
    alphabet = (
        10 * any(c.isdigit() for c in symbols)
        + 26 * any(c.isupper() for c in symbols)
        + 26 * any(c.islower() for c in symbols)
    )
    if len(symbols) * math.log2(alphabet) < 48:
        return "Too easy to guess: mix letters and digits, or make it longer."
    return None
