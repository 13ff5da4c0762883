"""Committed data for tests that race real threads against a real database.

The usual fixtures run each test in a transaction that is rolled back, which cannot show
two requests serialising: these tests commit, so they get a database of their own on
SQLite (a file) or, on PostgreSQL, the test database emptied again afterwards. People are
inserted directly (no argon2 per person), with tokens a client can use at once.
"""

from __future__ import annotations

import itertools
import shutil
import tempfile
import threading
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import timedelta
from pathlib import Path
from typing import Any

from flask import Flask
from sqlalchemy import Engine, delete, insert, text
from sqlalchemy.orm import Session

from api.adapters.db import Base, make_engine, utcnow
from api.adapters.hashing import new_token
from api.adapters.models import (
    Account,
    Match,
    Participant,
    ParticipantTag,
    Program,
    Round,
    RoundPair,
    Token,
)
from api.domain.settings import ProgramSettings
from api.domain.vocabulary import MatchStatus, Role, RoundStatus, TagKind

_serial = itertools.count(1)
WINDOW = [{"day": "mon", "start": "09:00", "end": "17:00"}]


@contextmanager
def race_database(url: str, tmp_path: Any) -> Iterator[str]:
    """A database URL the test may commit to; emptied (PostgreSQL) or dropped afterwards."""
    if url.startswith("sqlite"):
        # In memory where the machine has a tmpfs: every commit syncs the file otherwise.
        folder = Path(tempfile.mkdtemp(dir="/dev/shm")) if Path("/dev/shm").is_dir() else tmp_path
        url = f"sqlite:///{folder}/race.sqlite3"
        engine = make_engine(url)
        Base.metadata.create_all(engine)
        engine.dispose()
        try:
            yield url
        finally:
            shutil.rmtree(folder, ignore_errors=True)
        return
    # The session's test database: its tables exist (the `engine` fixture made them) and
    # are empty between tests, as every other test rolls back.
    yield url
    engine = make_engine(url)
    with engine.begin() as conn:
        for table in reversed(Base.metadata.sorted_tables):
            conn.execute(delete(table))
    engine.dispose()


def app_on(url: str, **config: Any) -> Flask:
    from api.entrypoints.cli import create_app

    return create_app(
        {
            "TESTING": True,
            "DATABASE_URL": url,
            "RATELIMIT_ENABLED": False,
            "SMTP_URL": None,
            "OUTBOX_INLINE": "off",
        }
        | config
    )


class World:
    """Programs, people and matches inserted with one session (each call commits)."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine

    def program(self, **settings: Any) -> int:
        n = next(_serial)
        with Session(self.engine) as s:
            program = Program(
                name=f"Race {n}",
                slug=f"race-{n}-{uuid.uuid4().hex[:6]}",
                join_code=uuid.uuid4().hex[:12],
                taxonomy=["python"],
                settings=ProgramSettings.parse(settings).to_stored(),
            )
            s.add(program)
            s.commit()
            return program.id

    def people(self, program_id: int, roles: list[str], capacity: int = 1) -> list[dict[str, Any]]:
        """Participants with matching profiles, each with a bearer token."""
        out = []
        with Session(self.engine) as s:
            for role in roles:
                n = next(_serial)
                account = Account(
                    email=f"race{n}.{uuid.uuid4().hex[:6]}@example.org",
                    display_name=f"Racer {n}",
                    password_hash="",
                )
                s.add(account)
                s.flush()
                secret, digest = new_token()
                s.add(
                    Token(
                        account_id=account.id,
                        token_hash=digest,
                        expires_at=utcnow() + timedelta(hours=1),
                    )
                )
                mentor = role in (Role.MENTOR, Role.BOTH)
                participant = Participant(
                    program_id=program_id,
                    account_id=account.id,
                    role=role,
                    languages=["en"],
                    timezone="UTC",
                    availability=WINDOW,
                    experience_level=4 if mentor else 2,
                    capacity=capacity if mentor else None,
                    profile_completed_at=utcnow() - timedelta(days=1),
                )
                s.add(participant)
                s.flush()
                kind = TagKind.STRENGTH if mentor else TagKind.NEED
                s.execute(
                    insert(ParticipantTag),
                    [
                        {
                            "participant_id": participant.id,
                            "kind": kind,
                            "tag": "python",
                            "weight": 2,
                        }
                    ],
                )
                out.append(
                    {
                        "account_id": account.id,
                        "participant_id": participant.id,
                        "email": account.email,
                        "headers": {"Authorization": f"Bearer {secret}"},
                    }
                )
            s.commit()
        return out

    def coordinator(self, program_id: int) -> dict[str, Any]:
        from api.adapters.models import ProgramCoordinator

        person = self.people(program_id, [Role.MENTEE])[0]
        with Session(self.engine) as s:
            s.execute(delete(Participant).where(Participant.id == person["participant_id"]))
            s.add(ProgramCoordinator(program_id=program_id, account_id=person["account_id"]))
            s.commit()
        return person

    def proposed_round(self, program_id: int, pairs: list[tuple[int, int]]) -> int:
        with Session(self.engine) as s:
            program = s.get(Program, program_id)
            assert program is not None
            round_ = Round(
                program_id=program_id,
                status=RoundStatus.PROPOSED,
                parameters=program.settings,
                stats={},
                unmatched=[],
                finished_at=utcnow(),
            )
            s.add(round_)
            s.flush()
            s.add_all(
                RoundPair(
                    round_id=round_.id, mentee_id=mentee, mentor_id=mentor, score=0.5, breakdown={}
                )
                for mentee, mentor in pairs
            )
            s.commit()
            return round_.id

    def match(self, program_id: int, mentee_id: int, mentor_id: int) -> int:
        return self.matches(program_id, [(mentee_id, mentor_id)])[0]

    def matches(self, program_id: int, pairs: list[tuple[int, int]]) -> list[int]:
        """Proposals (of one published round) for (mentee, mentor) pairs."""
        round_id = self.proposed_round(program_id, [])
        now = utcnow()
        with Session(self.engine) as s:
            ids = s.scalars(
                insert(Match).returning(Match.id),
                [
                    {
                        "program_id": program_id,
                        "round_id": round_id,
                        "mentee_id": mentee,
                        "mentor_id": mentor,
                        "score": 0.5,
                        "breakdown": {},
                        "status": MatchStatus.PROPOSED,
                        "proposed_at": now,
                        "expires_at": now + timedelta(days=7),
                    }
                    for mentee, mentor in pairs
                ],
            ).all()
            s.commit()
        return list(ids)

    def row(self, sql: str, **params: Any) -> Any:
        with self.engine.connect() as conn:
            return conn.execute(text(sql), params).mappings().one()


def at_once(calls: list[Callable[[], Any]], timeout: float = 30.0) -> list[Any]:
    """Run the calls on threads released together; their results in order."""
    barrier = threading.Barrier(len(calls))
    results: list[Any] = [None] * len(calls)

    def run(k: int) -> None:
        barrier.wait()
        try:
            results[k] = calls[k]()
        except BaseException as exc:  # the test sees it as the result
            results[k] = exc

    threads = [threading.Thread(target=run, args=(k,)) for k in range(len(calls))]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout)
    assert not any(t.is_alive() for t in threads), "a request hung"
    return results
