"""marshmallow's fields, with the two the database cannot take made safe once, here.

Every schema module imports `fields` from this module instead of marshmallow, so each
text field of every body, query string and header refuses NUL characters and lone
surrogates (PostgreSQL cannot store either: a 500 before), and each integer field
refuses values outside the 32-bit range of the id and count columns; both answer 422
naming the field.
"""

from __future__ import annotations

import re
from typing import Any

from marshmallow import fields as _fields
from marshmallow.fields import *  # noqa: F403  (the rest of marshmallow's fields, unchanged)

#: What no text column can hold: NUL, and UTF-16 surrogates standing alone (JSON's
#: "\ud800" escapes decode to them; they are not characters and cannot be encoded).
UNSTORABLE = re.compile("[\x00\ud800-\udfff]")
INT_MIN, INT_MAX = -(2**31), 2**31 - 1
TEXT_ERROR = "Must not contain NUL characters or unpaired surrogates."


class _StorableText:
    """Refuses text no database column can store (a mixin before a marshmallow String)."""

    def _deserialize(self, value: Any, attr: str | None, data: Any, **kwargs: Any) -> Any:
        text = super()._deserialize(value, attr, data, **kwargs)  # type: ignore[misc]
        if isinstance(text, str) and UNSTORABLE.search(text):
            raise self.make_error("unstorable")  # type: ignore[attr-defined]
        return text


class String(_StorableText, _fields.String):
    default_error_messages = {"unstorable": TEXT_ERROR}


class Email(_StorableText, _fields.Email):
    default_error_messages = {"unstorable": TEXT_ERROR}


class Integer(_fields.Integer):
    """An integer that fits the database's integer columns (ids, counts, levels)."""

    default_error_messages = {"out_of_range": f"Must be between {INT_MIN} and {INT_MAX}."}

    def _deserialize(self, value: Any, attr: str | None, data: Any, **kwargs: Any) -> Any:
        number = super()._deserialize(value, attr, data, **kwargs)
        if number is not None and not INT_MIN <= number <= INT_MAX:
            raise self.make_error("out_of_range")
        return number


Str = String
Int = Integer
