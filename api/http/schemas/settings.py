"""Schemas of the matching settings, generated from `api.domain.settings`.

A setting is declared once, as a field of `ProgramSettings`; these schemas take its
type, range, vocabulary, default and description from there:

- `ProgramSettingsSchema`: a new program's settings; what is left out gets its default;
- `ProgramSettingsPatchSchema`: a change; no defaults, what is left out stays as it is;
- `ProgramSettingsOutSchema`: the settings as answers show them (all present);
- `RoundStartSchema`: the settings a round may override, none required.

The cross-field rules are the domain's (`ProgramSettings.check`), run by the services on
the merged result.
"""

from __future__ import annotations

from enum import StrEnum
from typing import Any

from marshmallow import Schema, validate

from api.domain import settings as domain
from api.domain.vocabulary import CRITERIA, values
from api.http.schemas import fields


def _field(name: str, *, mode: str) -> fields.Field:
    spec = domain.SPECS[name]
    kind = domain.kind_of(name)
    kw: dict[str, Any] = {"metadata": {"description": spec.description}}
    if mode == "create":
        default = domain.new_program_default_of(name)
        kw["load_default"] = (lambda d=default: dict(d)) if isinstance(default, dict) else default
    elif mode == "out":
        kw["required"] = True
    bounds = validate.Range(spec.minimum, spec.maximum) if spec.minimum is not None else None
    if kind is bool:
        return fields.Boolean(**kw)
    if kind is int:
        return fields.Integer(validate=bounds, **kw)
    if kind is float:
        return fields.Float(allow_nan=False, validate=bounds, **kw)
    if isinstance(kind, type) and issubclass(kind, StrEnum):
        if mode == "out":
            kw["metadata"]["enum"] = list(values(kind))
            return fields.String(**kw)
        return fields.String(validate=validate.OneOf(values(kind)), **kw)
    # The criterion weights.
    return fields.Dict(
        keys=fields.String(validate=validate.OneOf(CRITERIA)),
        values=fields.Float(allow_nan=False, validate=bounds),
        **kw,
    )


def _schema(class_name: str, names: tuple[str, ...], mode: str, doc: str) -> type[Schema]:
    attrs: dict[str, Any] = {name: _field(name, mode=mode) for name in names}
    attrs["__doc__"] = doc
    return type(class_name, (Schema,), attrs)


ProgramSettingsSchema = _schema(
    "ProgramSettingsSchema",
    tuple(domain.SPECS),
    "create",
    "Matching settings of a new program; every setting left out gets its default.",
)
ProgramSettingsPatchSchema = _schema(
    "ProgramSettingsPatchSchema",
    tuple(domain.SPECS),
    "patch",
    "A change of matching settings: only the settings named change.",
)
ProgramSettingsOutSchema = _schema(
    "ProgramSettingsOutSchema",
    tuple(domain.SPECS),
    "out",
    "The program's matching settings.",
)
RoundStartSchema = _schema(
    "RoundStartSchema",
    domain.OVERRIDABLE,
    "patch",
    "Optional overrides of the program's matching settings for this round only.",
)
