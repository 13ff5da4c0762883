"""A :class:`Problem` validated (:mod:`~matcher.features.validation`) and as arrays
(:mod:`~matcher.features.encoding`)."""

from matcher.features.encoding import (
    PREF_DIFFERENT,
    PREF_OPEN,
    PREF_SHARED,
    Prepared,
    Side,
    prepare,
)
from matcher.features.validation import check_settings, is_int

__all__ = [
    "PREF_DIFFERENT",
    "PREF_OPEN",
    "PREF_SHARED",
    "Prepared",
    "Side",
    "check_settings",
    "is_int",
    "prepare",
]
