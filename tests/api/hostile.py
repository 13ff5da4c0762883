"""Hostile request bodies, shared by the URL-map sweep and the Schemathesis run.

Each is what a fuzzer sends: nesting far beyond any real body, JSON's non-standard
constants, integers of thousands of digits, NUL characters and lone surrogates in text
fields, integers beyond the columns' range, a body of the wrong media type, no body.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from marshmallow import Schema, fields

DEEP_ARRAY = b"[" * 1000 + b"]" * 1000
DEEP_OBJECT = b'{"a":' * 1000 + b"1" + b"}" * 1000
#: (name, raw body, content type) sent to every writable route.
RAW_BODIES: list[tuple[str, bytes, str | None]] = [
    ("nested 1,000 deep (array)", DEEP_ARRAY, "application/json"),
    ("nested 1,000 deep (object)", DEEP_OBJECT, "application/json"),
    ("NaN", b'{"reason": NaN, "rating": Infinity}', "application/json"),
    ("a 5,000-digit integer", b'{"rating": ' + b"9" * 5000 + b"}", "application/json"),
    ("not UTF-8", b'{"reason": "\xff\xfe"}', "application/json"),
    ("text/plain", b"reason=I changed my mind", "text/plain"),
    ("no content type", b'{"reason": "x"}', None),
    ("empty JSON body", b"", "application/json"),
]
NUL = "nul\x00byte"
SURROGATE = "lone\ud800surrogate"
HUGE = 2**40


def _json_text(value: Any) -> str:
    import json

    # ensure_ascii: a lone surrogate becomes the escape "\ud800", as a client sends it.
    return json.dumps(value, ensure_ascii=True)


def poisoned(schema: Schema, bad: Any, kinds: tuple[type, ...]) -> Iterator[tuple[str, Any]]:
    """(field path, body) for every loadable field of `kinds` in `schema`, nested
    objects and lists included: a body with only that field, holding `bad`."""
    for name, field in schema.fields.items():
        if field.dump_only:
            continue
        key = field.data_key or name
        if isinstance(field, kinds):
            yield key, {key: bad}
        elif isinstance(field, fields.List) and isinstance(field.inner, kinds):
            yield key, {key: [bad]}
        elif isinstance(field, fields.Nested):
            for path, body in poisoned(field.schema, bad, kinds):
                yield f"{key}.{path}", {key: [body] if field.many else body}
        elif isinstance(field, fields.List) and isinstance(field.inner, fields.Nested):
            for path, body in poisoned(field.inner.schema, bad, kinds):
                yield f"{key}.{path}", {key: [body]}
        elif isinstance(field, fields.Dict) and isinstance(bad, str):
            yield key, {key: {bad: 1}}


def field_cases(schema: Schema) -> Iterator[tuple[str, str, bytes]]:
    """(case name, field path, raw JSON body) poisoning each text and integer field."""
    for bad, label in ((NUL, "NUL"), (SURROGATE, "lone surrogate")):
        for path, body in poisoned(schema, bad, (fields.String,)):
            yield label, path, _json_text(body).encode()
    for path, body in poisoned(schema, HUGE, (fields.Integer,)):
        yield "2**40", path, _json_text(body).encode()
