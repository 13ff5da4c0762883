"""A CSV upload, read row by row with the API's own profile schema.

Each data row becomes an `ImportRow` for `api.services.csv_import`: its values, or the
field errors that make it invalid (the service adds the errors of the program's rules
and imports all rows or none).
"""

from __future__ import annotations

import csv
import io
from typing import Any

from marshmallow import ValidationError, fields

from api.domain.vocabulary import Role, values
from api.errors import ValidationFailed
from api.http.problems import flatten_messages
from api.http.schemas.profiles import ProfileSchema
from api.services import csv_import
from api.services.csv_import import ImportRow

COLUMNS = (
    "email",
    "display_name",
    "role",
    "bio",
    "needs",
    "strengths",
    "languages",
    "timezone",
    "availability",
    "experience_level",
    "capacity",
    "org_unit",
    "manager_email",
    "preferred_partners",
    "cultural_preference",
    "cultural_background",
    "wellbeing_needs",
    "consent_special_category",
    "consent_text_version",
)
REQUIRED = ("email", "display_name", "role", "languages", "timezone", "availability")
YES = {"yes", "y", "true", "1", "x"}
NO = {"no", "n", "false", "0", ""}


class RowError(Exception):
    def __init__(self, errors: dict[str, list[str]]) -> None:
        super().__init__(errors)
        self.errors = errors


def _items(cell: str) -> list[str]:
    return [part.strip() for part in cell.replace(",", ";").split(";") if part.strip()]


def _tagged(cell: str, key: str, column: str) -> list[dict[str, Any]]:
    out = []
    for item in _items(cell):
        tag, _, weight = item.partition(":")
        try:
            value = int(weight) if weight.strip() else 2
        except ValueError as exc:
            raise RowError({column: [f"{item!r}: write tag:1, tag:2 or tag:3."]}) from exc
        out.append({"tag": tag.strip(), key: value})
    return out


def _windows(cell: str) -> list[dict[str, str]]:
    out = []
    for item in _items(cell.replace(",", ";")):
        day, _, span = item.partition(" ")
        start, _, end = span.strip().partition("-")
        if not (day and start and end):
            raise RowError({"availability": [f"{item!r}: write e.g. 'mon 18:00-19:30'."]})
        out.append({"day": day.strip().lower()[:3], "start": start.strip(), "end": end.strip()})
    return out


def _person(row: dict[str, str]) -> dict[str, str]:
    missing = [c for c in REQUIRED if not row.get(c, "").strip()]
    if missing:
        raise RowError({c: ["Missing value."] for c in missing})
    person = {
        "email": row["email"].strip().lower(),
        "display_name": row["display_name"].strip(),
        "role": row["role"].strip().lower(),
    }
    if person["role"] not in values(Role):
        raise RowError({"role": ["Must be mentor, mentee or both."]})
    try:
        fields.Email().deserialize(person["email"])
    except ValidationError as exc:
        raise RowError({"email": ["Not a valid email address."]}) from exc
    return person


def _profile_body(row: dict[str, str]) -> dict[str, Any]:
    """A CSV row as a profile body for ProfileSchema."""
    body: dict[str, Any] = {
        "bio": row.get("bio", "").strip(),
        "needs": _tagged(row.get("needs", ""), "priority", "needs"),
        "strengths": _tagged(row.get("strengths", ""), "level", "strengths"),
        "languages": _items(row["languages"]),
        "timezone": row["timezone"].strip(),
        "availability": _windows(row["availability"]),
        "org_unit": row.get("org_unit", "").strip() or None,
        "manager_email": row.get("manager_email", "").strip() or None,
        "preferred_partners": _items(row.get("preferred_partners", "")),
        "cultural_preference": row.get("cultural_preference", "").strip().lower() or "open",
    }
    for column in ("experience_level", "capacity"):
        raw = row.get(column, "").strip()
        if raw:
            try:
                body[column] = int(raw)
            except ValueError as exc:
                raise RowError({column: ["Must be a whole number."]}) from exc
    if "experience_level" not in body:
        raise RowError({"experience_level": ["Missing value."]})
    for column in ("cultural_background", "wellbeing_needs"):
        values = _items(row.get(column, ""))
        if values:
            body[column] = values
    consent = row.get("consent_special_category", "").strip().lower()
    if consent in YES:
        body["consent"] = {
            "special_category": True,
            "text_version": row.get("consent_text_version", "").strip() or "csv-import",
        }
    elif consent not in NO:
        raise RowError({"consent_special_category": ["Write yes or no."]})
    return body


def _read_row(number: int, row: dict[str, str], seen: set[str]) -> ImportRow:
    try:
        person = _person(row)
        body = _profile_body(row)
        if person["email"] in seen:
            raise RowError({"email": ["This email appears on an earlier row."]})
        seen.add(person["email"])
        profile = ProfileSchema().load(body)
    except RowError as exc:
        return ImportRow(number, errors=exc.errors)
    except ValidationError as exc:
        return ImportRow(number, errors=flatten_messages(exc.messages))
    return ImportRow(
        number,
        email=person["email"],
        display_name=person["display_name"],
        role=person["role"],
        profile=profile,
    )


def read(content: bytes) -> list[ImportRow]:
    """Every data row of the file (file-level problems: ValidationFailed)."""
    try:
        text = content.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise ValidationFailed({"file": ["The file is not UTF-8 text."]}) from exc
    reader = csv.DictReader(io.StringIO(text))
    header = [h.strip() for h in reader.fieldnames or []]
    unknown = sorted(set(header) - set(COLUMNS))
    missing = sorted(set(REQUIRED) - set(header))
    if unknown or missing:
        errors: dict[str, list[str]] = {}
        if unknown:
            errors["file"] = [f"Unknown columns: {', '.join(unknown)}."]
        if missing:
            errors.setdefault("file", []).append(f"Missing columns: {', '.join(missing)}.")
        raise ValidationFailed(errors)
    reader.fieldnames = header
    rows = list(reader)
    if not rows:
        raise ValidationFailed({"file": ["The file has no data rows."]})
    if len(rows) > csv_import.MAX_ROWS:
        raise ValidationFailed({"file": [f"At most {csv_import.MAX_ROWS} rows per import."]})
    seen: set[str] = set()
    # Spreadsheet row numbers: 1 is the header.
    return [_read_row(number, row, seen) for number, row in enumerate(rows, start=2)]
