"""Participants from a spreadsheet export (CSV): same rules as the API, all or nothing."""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass
from typing import Any

from marshmallow import ValidationError, fields
from sqlalchemy import select
from sqlalchemy.orm import Session

from api.errors import ApiError, ValidationFailed, flatten_messages
from api.models import Account, Participant, Program
from api.schemas import ProfileSchema
from api.services import access, profiles

MAX_ROWS = 5000
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


def _row_to_profile(row: dict[str, str]) -> tuple[dict[str, Any], dict[str, Any]]:
    """Split a CSV row into (account fields, profile body for ProfileSchema)."""
    missing = [c for c in REQUIRED if not row.get(c, "").strip()]
    if missing:
        raise RowError({c: ["Missing value."] for c in missing})
    person = {
        "email": row["email"].strip().lower(),
        "display_name": row["display_name"].strip(),
        "role": row["role"].strip().lower(),
    }
    if person["role"] not in ("mentor", "mentee", "both"):
        raise RowError({"role": ["Must be mentor, mentee or both."]})
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
    return person, body


@dataclass
class ImportSummary:
    rows: int = 0
    accounts_created: int = 0
    participants_created: int = 0
    profiles_written: int = 0


def import_csv(
    session: Session, account: Account, program_id: int, content: bytes
) -> dict[str, Any]:
    program = access.program_for_coordinator(session, account, program_id)
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
    if len(rows) > MAX_ROWS:
        raise ValidationFailed({"file": [f"At most {MAX_ROWS} rows per import."]})

    summary = ImportSummary(rows=len(rows))
    row_errors: list[dict[str, Any]] = []
    seen: set[str] = set()
    try:
        for number, row in enumerate(rows, start=2):  # spreadsheet row numbers; 1 is the header
            try:
                _import_row(session, program, row, seen, summary)
            except RowError as exc:
                row_errors.append({"row": number, "errors": exc.errors})
            except ValidationError as exc:
                row_errors.append({"row": number, "errors": flatten_messages(exc.messages)})
            except ApiError as exc:
                row_errors.append({"row": number, "errors": exc.errors or {"row": [exc.detail]}})
        if row_errors:
            raise ValidationFailed(
                {"file": [f"{len(row_errors)} of {len(rows)} rows are invalid."]},
                detail=f"{len(row_errors)} rows are invalid; nothing was imported.",
                rows=row_errors,
            )
        session.commit()
    except BaseException:
        session.rollback()
        raise
    return summary.__dict__


def _import_row(
    session: Session,
    program: Program,
    row: dict[str, str],
    seen: set[str],
    summary: ImportSummary,
) -> None:
    person, body = _row_to_profile(row)
    if person["email"] in seen:
        raise RowError({"email": ["This email appears on an earlier row."]})
    seen.add(person["email"])
    try:
        fields.Email().deserialize(person["email"])
    except ValidationError as exc:
        raise RowError({"email": ["Not a valid email address."]}) from exc
    data = ProfileSchema().load(body)
    target = session.scalar(select(Account).where(Account.email == person["email"]))
    if target is None:
        # Imported people cannot log in until they set a password (no usable hash).
        target = Account(
            email=person["email"], display_name=person["display_name"], password_hash=""
        )
        session.add(target)
        session.flush()
        summary.accounts_created += 1
    participant = access.own_participant(session, target, program.id)
    if participant is None:
        participant = Participant(program=program, account=target, role=person["role"])
        session.add(participant)
        summary.participants_created += 1
    participant.role = person["role"]
    profiles.apply_profile(session, program, participant, data)
    summary.profiles_written += 1
