"""A generated program of any size, written straight to the database.

For benchmarks, load tests and fault tests: realistic shape (skewed topic frequencies,
six time zones, evening/lunch/weekend windows, capacities 1-5, managers, cultural
tags with consent), deterministic for a seed. Rows are inserted in bulk, bypassing the
API's validation (the values are valid by construction).
"""

from __future__ import annotations

import random
import uuid
from datetime import timedelta
from typing import Any

from sqlalchemy import insert
from sqlalchemy.orm import Session

from api.adapters.db import utcnow
from api.adapters.models import Account, ConsentRecord, Participant, ParticipantTag, Program
from api.domain.settings import ProgramSettings

TOPICS = [f"topic-{k:02d}" for k in range(40)]
ZONES = [
    "Europe/London",
    "Europe/Berlin",
    "America/New_York",
    "Asia/Kolkata",
    "America/Sao_Paulo",
    "Asia/Singapore",
]
DAYS = ["mon", "tue", "wed", "thu", "fri", "sat", "sun"]


def _windows(rng: random.Random) -> list[dict[str, str]]:
    out: dict[str, tuple[int, int]] = {}
    for _ in range(rng.randint(2, 5)):
        day = rng.choice(DAYS)
        start = rng.choice([8, 12, 17, 18, 19, 20]) * 60 + rng.choice([0, 30])
        out[day] = (start, start + rng.choice([60, 90, 120, 180]))
    return [
        {"day": d, "start": f"{s // 60:02d}:{s % 60:02d}", "end": f"{e // 60:02d}:{e % 60:02d}"}
        for d, (s, e) in sorted(out.items(), key=lambda kv: DAYS.index(kv[0]))
    ]


def _someone_else(drawn: int, k: int, total: int) -> int:
    # Nobody is their own manager (the API rejects it); the draw is kept as it is otherwise,
    # so a seed still gives the same program as before.
    return (drawn + 1) % total if drawn == k and total > 1 else drawn


def generate(
    session: Session,
    mentees: int,
    mentors: int,
    *,
    seed: int = 7,
    settings: dict[str, Any] | None = None,
) -> int:
    """Insert a program with `mentees` and `mentors`; returns the program id (commits)."""
    rng = random.Random(seed)
    weights = [1 / (k + 1) ** 1.1 for k in range(len(TOPICS))]
    program = Program(
        name=f"Synthetic program ({mentees} x {mentors})",
        slug=f"synthetic-{uuid.uuid4().hex[:8]}",
        join_code=uuid.uuid4().hex[:12],
        taxonomy=TOPICS,
        settings=ProgramSettings.parse({"max_capacity": 5} | (settings or {})).to_stored(),
    )
    session.add(program)
    session.flush()
    tag = program.slug.removeprefix("synthetic-")
    now = utcnow()
    total = mentees + mentors

    def email(k: int) -> str:
        return f"p{k}.{tag}@synthetic.example.org"

    # Generated people cannot log in (no usable password hash).
    accounts = [
        {"email": email(k), "display_name": f"Person {k}", "password_hash": ""}
        for k in range(total)
    ]
    account_ids = session.scalars(insert(Account).returning(Account.id), accounts).all()
    rows, tags, consents = [], [], []
    for k, account_id in enumerate(account_ids):
        is_mentor = k >= mentees
        rows.append(
            {
                "program_id": program.id,
                "account_id": account_id,
                "role": "mentor" if is_mentor else "mentee",
                "status": "active",
                "profile_completed_at": now - timedelta(days=rng.randint(0, 60)),
                "languages": ["en"]
                + ([rng.choice(["es", "de", "hi", "pt"])] if rng.random() < 0.4 else []),
                "timezone": rng.choice(ZONES),
                "availability": _windows(rng),
                "capacity": rng.randint(1, 5) if is_mentor else None,
                "experience_level": rng.randint(3, 5) if is_mentor else rng.randint(1, 3),
                "org_unit": f"unit-{rng.randint(0, 9)}",
                "manager_email": email(_someone_else(rng.randint(0, total - 1), k, total)),
                "preferred_partners": [],
                "cultural_preference": rng.choice(["open"] * 6 + ["shared", "different"]),
                "cultural_background": [f"culture-{rng.randint(0, 7)}"]
                if rng.random() < 0.6
                else None,
            }
        )
    ids = session.scalars(insert(Participant).returning(Participant.id), rows).all()
    for pid, row in zip(ids, rows, strict=True):
        kind = "strength" if row["role"] == "mentor" else "need"
        for tag in set(rng.choices(TOPICS, weights, k=rng.randint(1, 4 if kind == "need" else 6))):
            tags.append(
                {"participant_id": pid, "kind": kind, "tag": tag, "weight": rng.randint(1, 3)}
            )
        if row["cultural_background"]:
            consents.append(
                {"participant_id": pid, "purpose": "special_category", "text_version": "b"}
            )
    session.execute(insert(ParticipantTag), tags)
    session.execute(insert(ConsentRecord), consents)
    session.commit()
    return program.id
