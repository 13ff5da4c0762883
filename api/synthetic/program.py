"""A generated cohort written to the database as a program (bulk inserts, one commit).

The people of `cohort.cohort` become participants: a person in both lists is `both`;
their windows are merged per day into the API's local-time form; cultural tags come with
a consent record; a mentee who waited has completed their profile that long ago. What
only a matching run knows (current loads, pins, forbids, previous pairs, paused mentors)
is not written: a new program has none. The values bypass the API's validation but are
valid by construction.
"""

from __future__ import annotations

import uuid
from datetime import timedelta
from typing import Any

from sqlalchemy import insert
from sqlalchemy.orm import Session

from api.adapters.db import utcnow
from api.adapters.models import Account, ConsentRecord, Participant, ParticipantTag, Program
from api.domain.settings import ProgramSettings
from api.domain.values import DAYS
from api.domain.vocabulary import ConsentPurpose, ParticipantStatus, Role, TagKind
from api.synthetic.cohort import TOPICS, cohort
from matcher import Mentee, Mentor, Window


def _clock(minute: int) -> str:
    return f"{minute // 60:02d}:{minute % 60:02d}"


def _local_windows(windows: tuple[Window, ...]) -> list[dict[str, str]]:
    """The person's windows, overlapping ones of a day merged, in the API's form."""
    by_day: dict[int, list[tuple[int, int]]] = {}
    for w in windows:
        by_day.setdefault(w.weekday, []).append((int(w.start), int(w.end)))
    out = []
    for day in sorted(by_day):
        merged: list[list[int]] = []
        for start, end in sorted(by_day[day]):
            if merged and start <= merged[-1][1]:
                merged[-1][1] = max(merged[-1][1], end)
            else:
                merged.append([start, end])
        out += [{"day": DAYS[day], "start": _clock(s), "end": _clock(e)} for s, e in merged]
    return out


class _Emails:
    """The cohort's `person12@example.org` as `p12.<program>@synthetic.example.org`, so
    that every generated program has addresses of its own."""

    def __init__(self, tag: str) -> None:
        self.tag = tag

    def of(self, pid: int) -> str:
        return f"p{pid}.{self.tag}@synthetic.example.org"

    def mapped(self, cohort_email: str | None) -> str | None:
        if cohort_email is None:
            return None
        return self.of(int(cohort_email.split("@")[0].removeprefix("person")))


def generate(
    session: Session,
    mentees: int,
    mentors: int,
    *,
    seed: int = 7,
    settings: dict[str, Any] | None = None,
) -> int:
    """Insert a program with a generated cohort; returns the program id (commits)."""
    problem = cohort(mentees, mentors, seed)
    program = Program(
        name=f"Synthetic program ({mentees} x {mentors})",
        slug=f"synthetic-{uuid.uuid4().hex[:8]}",
        join_code=uuid.uuid4().hex[:12],
        taxonomy=list(TOPICS),
        settings=ProgramSettings.parse({"max_capacity": 5} | (settings or {})).to_stored(),
    )
    session.add(program)
    session.flush()
    emails = _Emails(program.slug.removeprefix("synthetic-"))
    as_mentee = {m.id: m for m in problem.mentees}
    as_mentor = {m.id: m for m in problem.mentors}
    ids = sorted(as_mentee.keys() | as_mentor.keys())
    # Generated people cannot log in (no usable password hash).
    account_ids = session.scalars(
        insert(Account).returning(Account.id),
        [
            {"email": emails.of(pid), "display_name": f"Person {pid}", "password_hash": ""}
            for pid in ids
        ],
    ).all()
    now = utcnow()
    rows = [
        _participant(program.id, account_id, pid, as_mentee.get(pid), as_mentor.get(pid), emails)
        | {"profile_completed_at": now - timedelta(days=_waited(as_mentee.get(pid)))}
        for pid, account_id in zip(ids, account_ids, strict=True)
    ]
    participant_ids = session.scalars(insert(Participant).returning(Participant.id), rows).all()
    tags: list[dict[str, Any]] = []
    consents: list[dict[str, Any]] = []
    for participant_id, pid, row in zip(participant_ids, ids, rows, strict=True):
        mentee, mentor = as_mentee.get(pid), as_mentor.get(pid)
        for kind, tagged in (
            (TagKind.NEED, mentee.needs if mentee else ()),
            (TagKind.STRENGTH, mentor.strengths if mentor else ()),
        ):
            tags += [
                {"participant_id": participant_id, "kind": kind, "tag": name, "weight": w}
                for name, w in tagged
            ]
        if row["cultural_background"]:
            consents.append(
                {
                    "participant_id": participant_id,
                    "purpose": ConsentPurpose.SPECIAL_CATEGORY,
                    "text_version": "synthetic",
                }
            )
    session.execute(insert(ParticipantTag), tags)
    if consents:
        session.execute(insert(ConsentRecord), consents)
    session.commit()
    return program.id


def _waited(mentee: Mentee | None) -> float:
    return mentee.waiting_days if mentee else 0.0


def _participant(
    program_id: int,
    account_id: int,
    pid: int,
    mentee: Mentee | None,
    mentor: Mentor | None,
    emails: _Emails,
) -> dict[str, Any]:
    person: Mentee | Mentor | None = mentee or mentor
    assert person is not None
    role = Role.BOTH if mentee and mentor else (Role.MENTEE if mentee else Role.MENTOR)
    manager = emails.mapped(person.manager_email)
    preferred = mentor.preferred_partners if mentor else mentee.preferred_partners  # type: ignore[union-attr]
    return {
        "program_id": program_id,
        "account_id": account_id,
        "role": role,
        "status": ParticipantStatus.ACTIVE,
        "languages": sorted(person.languages),
        "timezone": person.timezone,
        "availability": _local_windows(person.availability),
        "capacity": mentor.capacity if mentor else None,
        "experience_level": person.experience_level,
        "org_unit": person.org_unit,
        # Nobody is their own manager (the API refuses it).
        "manager_email": None if manager == emails.of(pid) else manager,
        "preferred_partners": sorted(emails.of(p) for p in preferred if p != pid),
        "cultural_preference": person.cultural_preference,
        "cultural_background": sorted(person.cultural_tags) or None,
    }
