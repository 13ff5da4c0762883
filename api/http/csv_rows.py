"""A CSV upload, read row by row with the API's own profile schema.

Each data row becomes an `ImportRow` for `api.services.csv_import`: the person (email,
name, role), the coordinator-owned values it sets (status, capacity, org unit,
manager), and the profile it would give a person new to the program, or the field
errors that make it invalid. Columns of special category data and consent are refused
on every row that fills them: people give those themselves, with their consent, in
their own profile. A file that is not a readable CSV is refused naming the row where
reading stopped; nothing of it is imported.
"""

from __future__ import annotations

import csv
import io
from typing import Any

from marshmallow import ValidationError

from api.domain.vocabulary import ParticipantStatus, Role, values
from api.errors import ValidationFailed
from api.http.problems import flatten_messages
from api.http.schemas import fields
from api.http.schemas.profiles import ProfileSchema
from api.services import csv_import
from api.services.csv_import import ImportRow

#: Columns a coordinator may fill; the special category and consent ones are refused.
COLUMNS = (
    "email",
    "display_name",
    "role",
    "status",
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
)
REFUSED = {
    "cultural_background": "Special category data is given by the person, with their consent, "
    "in their own profile; an import never records it.",
    "wellbeing_needs": "Special category data is given by the person, with their consent, "
    "in their own profile; an import never records it.",
    "consent_special_category": "Consent is given by the person; an import never records it.",
    "consent_text_version": "Consent is given by the person; an import never records it.",
}
REQUIRED = ("email", "role")
#: What a new participant's row must give (people in the program already need none).
PROFILE_REQUIRED = ("display_name", "languages", "timezone", "availability", "experience_level")
#: Longest cell read (the longest field, a bio, takes 2,000 characters).
MAX_CELL = 4000
MAX_NAME = 120
MAX_EMAIL = 254


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


def _whole(row: dict[str, str], column: str) -> int | None:
    raw = row.get(column, "").strip()
    if not raw:
        return None
    try:
        return int(raw)
    except ValueError as exc:
        raise RowError({column: ["Must be a whole number."]}) from exc


def _person(row: dict[str, str]) -> dict[str, Any]:
    missing = [c for c in REQUIRED if not row.get(c, "").strip()]
    if missing:
        raise RowError({c: ["Missing value."] for c in missing})
    person: dict[str, Any] = {
        "email": row["email"].strip().lower(),
        "display_name": row.get("display_name", "").strip(),
        "role": row["role"].strip().lower(),
    }
    errors: dict[str, list[str]] = {}
    if person["role"] not in values(Role):
        errors["role"] = ["Must be mentor, mentee or both."]
    if len(person["email"]) > MAX_EMAIL:
        errors["email"] = [f"At most {MAX_EMAIL} characters."]
    else:
        try:
            fields.Email().deserialize(person["email"])
        except ValidationError:
            errors["email"] = ["Not a valid email address."]
    if len(person["display_name"]) > MAX_NAME:
        errors["display_name"] = [f"At most {MAX_NAME} characters."]
    status = row.get("status", "").strip().lower()
    if status and status not in values(ParticipantStatus):
        errors["status"] = [f"Must be one of: {', '.join(values(ParticipantStatus))}."]
    # What a coordinator owns: set on new and existing participants (empty: unchanged).
    owned: dict[str, Any] = {}
    if status:
        owned["status"] = status
    for column in ("org_unit", "manager_email"):
        value = row.get(column, "").strip()
        if value:
            owned[column] = value.lower() if column == "manager_email" else value
    if len(owned.get("org_unit", "")) > MAX_NAME:
        errors["org_unit"] = [f"At most {MAX_NAME} characters."]
    if "manager_email" in owned:
        try:
            fields.Email().deserialize(owned["manager_email"])
        except ValidationError:
            errors["manager_email"] = ["Not a valid email address."]
    try:
        capacity = _whole(row, "capacity")
    except RowError as exc:
        errors.update(exc.errors)
        capacity = None
    if capacity is not None:
        owned["capacity"] = capacity
    if errors:
        raise RowError(errors)
    person["owned"] = owned
    return person


def _profile_body(row: dict[str, str]) -> dict[str, Any]:
    """A CSV row as a profile body for ProfileSchema (a new participant's profile)."""
    missing = [c for c in PROFILE_REQUIRED if not row.get(c, "").strip()]
    if missing:
        raise RowError({c: ["Missing value."] for c in missing})
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
        value = _whole(row, column)
        if value is not None:
            body[column] = value
    return body


def _profile(row: dict[str, str]) -> tuple[dict[str, Any] | None, dict[str, list[str]] | None]:
    try:
        return ProfileSchema().load(_profile_body(row)), None
    except RowError as exc:
        return None, exc.errors
    except ValidationError as exc:
        return None, flatten_messages(exc.messages)


def _read_row(number: int, row: dict[str, Any], seen: set[str]) -> ImportRow:
    extra = row.pop(None, None)  # cells beyond the header's columns
    # A short row lacks its last cells (None): they are empty.
    cells: dict[str, str] = {k: v or "" for k, v in row.items()}
    errors: dict[str, list[str]] = {}
    if extra:
        errors["row"] = [f"{len(extra)} more cells than the header has columns (a missing quote?)."]
    for column, reason in REFUSED.items():
        if cells.get(column, "").strip():
            errors[column] = [reason]
    for column, value in cells.items():
        if len(value) > MAX_CELL:
            errors.setdefault(column, []).append(f"At most {MAX_CELL} characters.")
    if errors:
        return ImportRow(number, errors=errors)
    try:
        person = _person(cells)
    except RowError as exc:
        return ImportRow(number, errors=exc.errors)
    if person["email"] in seen:
        return ImportRow(number, errors={"email": ["This email appears on an earlier row."]})
    seen.add(person["email"])
    profile, profile_errors = _profile(cells)
    return ImportRow(
        number,
        email=person["email"],
        display_name=person["display_name"],
        role=person["role"],
        owned=person["owned"],
        profile=profile or {},
        profile_errors=profile_errors,
    )


def _file_error(number: int, line: int, reason: str) -> ValidationFailed:
    return ValidationFailed(
        {"file": [f"Row {number} (line {line}): {reason}"]},
        detail=f"The file cannot be read from row {number} on; nothing was imported.",
        rows=[{"row": number, "errors": {"row": [reason]}}],
    )


def read_upload(upload: Any) -> list[ImportRow]:
    """The rows of an uploaded file (a large upload is spooled to a temporary file,
    closed here at once)."""
    try:
        content = upload.read()
    finally:
        upload.close()
    return read(content)


def read(content: bytes) -> list[ImportRow]:
    """Every data row of the file (file-level problems: ValidationFailed)."""
    try:
        text = content.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise ValidationFailed({"file": ["The file is not UTF-8 text."]}) from exc
    if "\x00" in text:
        line = text[: text.index("\x00")].count("\n") + 1
        raise ValidationFailed(
            {"file": [f"Line {line} holds a NUL byte: this is not a CSV text file."]}
        )
    # strict: a stray or unclosed quote is an error, not a cell that swallows the file.
    reader = csv.DictReader(io.StringIO(text, newline=""), strict=True)
    try:
        header = [h.strip() for h in reader.fieldnames or []]
    except csv.Error as exc:
        raise _file_error(1, reader.reader.line_num, str(exc)) from exc
    unknown = sorted(set(header) - set(COLUMNS) - set(REFUSED))
    missing = sorted(set(REQUIRED) - set(header))
    duplicated = sorted({h for h in header if header.count(h) > 1})
    if unknown or missing or duplicated:
        problems = []
        if unknown:
            problems.append(f"Unknown columns: {', '.join(unknown)}.")
        if missing:
            problems.append(f"Missing columns: {', '.join(missing)}.")
        if duplicated:
            problems.append(f"Columns named twice: {', '.join(duplicated)}.")
        raise ValidationFailed({"file": problems})
    reader.fieldnames = header
    rows: list[dict[str, Any]] = []
    while True:
        number = len(rows) + 2  # spreadsheet row numbers: 1 is the header
        try:
            row = next(reader)
        except StopIteration:
            break
        except csv.Error as exc:
            raise _file_error(number, reader.reader.line_num, str(exc)) from exc
        if len(rows) >= csv_import.MAX_ROWS:
            raise ValidationFailed({"file": [f"At most {csv_import.MAX_ROWS} rows per import."]})
        rows.append(row)
    if not rows:
        raise ValidationFailed({"file": ["The file has no data rows."]})
    seen: set[str] = set()
    return [_read_row(number, row, seen) for number, row in enumerate(rows, start=2)]
