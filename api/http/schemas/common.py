"""Field helpers shared by the schema modules."""

from __future__ import annotations

import copy
from enum import StrEnum
from typing import Any

from marshmallow import Schema, ValidationError, missing, validate

from api.domain.values import TAG_RE
from api.domain.vocabulary import values
from api.http.schemas import fields

PAGE_SIZE_MAX = 200
PAGE_SIZE_DEFAULT = 50
ID_MAX = 2**31 - 1


def tag_field(required: bool = True, **kw: Any) -> fields.String:
    return fields.String(
        required=required,
        validate=[
            validate.Length(1, 60),
            validate.Regexp(TAG_RE, error="Must be a lowercase kebab-case tag."),
        ],
        **kw,
    )


def one_of(enum: type[StrEnum], **kw: Any) -> fields.String:
    """A string field taking one word of a vocabulary (an `enum` in the document)."""
    return fields.String(validate=validate.OneOf(values(enum)), **kw)


def word(enum: type[StrEnum], **kw: Any) -> fields.String:
    """An output field holding one word of a vocabulary: documented as an enum."""
    kw.setdefault("required", True)
    metadata = dict(kw.pop("metadata", {}))
    # OpenAPI 3.0: a nullable enum lists null among its values.
    metadata["enum"] = list(values(enum)) + ([None] if kw.get("allow_none") else [])
    return fields.String(metadata=metadata, **kw)


def reject_fields(data: Any, forbidden: dict[str, str]) -> None:
    if not isinstance(data, dict):
        return
    errors = {name: [reason] for name, reason in forbidden.items() if name in data}
    if errors:
        raise ValidationError(errors)


def unique(items: list[Any], key: str | None = None) -> bool:
    # Items that failed their own validation lack the key; they are reported already.
    values_ = [i[key] if key else i for i in items if key is None or key in i]
    return len(values_) == len(set(values_))


class PersonRefSchema(Schema):
    participant_id = fields.Integer(required=True)
    display_name = fields.String(required=True)


def patch_schema(base: type[Schema], name: str) -> type[Schema]:
    """`base` for partial updates: nothing required, no defaults (an omitted field is
    unchanged), the same validation. Its own class, so the document shows no defaults."""
    attrs: dict[str, Any] = {"__doc__": f"A change of some fields of {base.__name__}."}
    for field_name, declared in base._declared_fields.items():
        changed = copy.deepcopy(declared)
        changed.required = False
        changed.load_default = missing
        attrs[field_name] = changed
    return type(name, (base,), attrs)
