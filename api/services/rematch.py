"""The nightly rematch: expire stale proposals, re-pair whoever is waiting.

Each program's rematch is one transaction: expiring, the round, its pairs and (by
policy) the published matches commit together or not at all, so a crash at any point
leaves either the whole rematch or nothing, and the next run completes it. Only one
rematch of a program runs at a time: a transaction-level advisory lock on PostgreSQL,
the database write lock taken at BEGIN IMMEDIATE on SQLite. A night is done at most once
per program (the round's `run_key`), so running it twice changes nothing the second time.
"""

from __future__ import annotations

import hashlib
import logging
from collections import Counter
from dataclasses import asdict, dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import Engine, func, select
from sqlalchemy.exc import OperationalError
from sqlalchemy.orm import Session

from api.adapters.db import lock_program_matches, utcnow
from api.adapters.models import Account, CheckIn, Match, Program, Round
from api.domain.settings import ProgramSettings
from api.domain.vocabulary import (
    Closer,
    MatchStatus,
    RematchPolicy,
    RoundKind,
    RoundStatus,
    Side,
    Signal,
)
from api.services import access, publishing, relationships, round_results, status

log = logging.getLogger("peermatch.rematch")


@dataclass
class Summary:
    """What a rematch did (or would do) for one program."""

    program_id: int
    program: str = ""
    outcome: str = "done"  # done, dry_run, already_done, locked, skipped, failed
    night: str = ""
    expired: int = 0
    pool_mentees: int = 0
    pool_mentors: int = 0
    matched: int = 0
    still_waiting: dict[str, int] = field(default_factory=dict)
    deprioritised: list[int] = field(default_factory=list)
    drained_mentors: list[int] = field(default_factory=list)
    superseded_rounds: list[int] = field(default_factory=list)
    round_id: int | None = None
    published: bool = False
    detail: str = ""

    def describe(self) -> str:
        head = f"program {self.program_id} {self.program!r} night {self.night}: {self.outcome}"
        if self.outcome in ("locked", "already_done", "skipped", "failed"):
            return f"{head} ({self.detail})" if self.detail else head
        waiting = ", ".join(f"{n} {r}" for r, n in sorted(self.still_waiting.items())) or "none"
        return (
            f"{head}\n  expired proposals: {self.expired}\n"
            f"  pool: {self.pool_mentees} mentees, {self.pool_mentors} mentors with free capacity"
            f"\n  matched: {self.matched} ({'published' if self.published else 'proposed'}"
            f"{', round ' + str(self.round_id) if self.round_id else ''})\n"
            f"  still waiting: {waiting}\n"
            f"  deprioritised after two declines: {len(self.deprioritised)}; "
            f"drained mentors left out: {len(self.drained_mentors)}"
        )


def _lock_key(program_id: int) -> int:
    digest = hashlib.blake2b(f"peermatch-rematch:{program_id}".encode(), digest_size=8).digest()
    return int.from_bytes(digest, "big", signed=True)


def programs_due(engine: Engine, program_id: int | None) -> list[int]:
    with Session(engine) as session:
        if program_id is not None:
            return [program_id] if session.get(Program, program_id) else []
        return [
            p.id
            for p in session.scalars(select(Program).order_by(Program.id))
            if ProgramSettings.from_stored(p.settings).rematch_policy != RematchPolicy.OFF
        ]


def run(
    engine: Engine,
    *,
    program_id: int | None = None,
    dry_run: bool = False,
    as_of: datetime | None = None,
) -> list[Summary]:
    as_of = as_of or utcnow()
    ids = programs_due(engine, program_id)
    if program_id is not None and not ids:
        return [Summary(program_id, outcome="failed", detail="no such program")]
    return [run_program(engine, pid, as_of=as_of, dry_run=dry_run) for pid in ids]


def run_program(engine: Engine, program_id: int, *, as_of: datetime, dry_run: bool) -> Summary:
    summary = Summary(program_id, night=as_of.date().isoformat())
    sqlite = engine.dialect.name == "sqlite"
    with engine.connect() as conn:
        if sqlite:
            # Fail fast instead of queueing behind another writer (likely the other rematch).
            conn.connection.dbapi_connection.execute("PRAGMA busy_timeout=200")  # type: ignore[union-attr]
            conn = conn.execution_options(sqlite_begin="BEGIN IMMEDIATE")
        with Session(bind=conn, expire_on_commit=False) as session:
            try:
                _rematch(session, program_id, as_of, dry_run, summary)
            except _Locked:
                session.rollback()
                summary.outcome, summary.detail = "locked", "another rematch of it is running"
            except OperationalError as exc:
                session.rollback()
                if sqlite and "locked" in str(exc.orig):
                    summary.outcome, summary.detail = "locked", "the database is being written"
                else:
                    raise
            if dry_run:
                session.rollback()
    return summary


class _Locked(Exception):
    pass


def _lock(session: Session, program_id: int) -> None:
    """Only one rematch of a program at a time (_Locked when another one runs)."""
    if session.get_bind().dialect.name == "postgresql":
        if not session.scalar(select(func.pg_try_advisory_xact_lock(_lock_key(program_id)))):
            raise _Locked()
    else:
        # BEGIN IMMEDIATE: the write lock now (or OperationalError after the short busy
        # timeout set by run_program); then wait normally for readers at commit time.
        session.connection().exec_driver_sql("PRAGMA busy_timeout=10000")


def _supersede(session: Session, program: Program, as_of: datetime) -> list[int]:
    """A new night supersedes rematch proposals the coordinator did not review."""
    superseded = status.change_many(
        session,
        Round,
        "discard",
        at=as_of,
        where=[
            Round.program_id == program.id,
            Round.kind == RoundKind.REMATCH,
            Round.status == RoundStatus.PROPOSED,
        ],
        values={"discarded_at": as_of},
        actor=Closer.SYSTEM,
    )
    return sorted(e.entity_id for e in superseded)


def _start_round(
    session: Session, program: Program, settings: ProgramSettings, run_key: str, as_of: datetime
) -> Round:
    """The night's round, queued and at once running in this transaction."""
    round_ = Round(
        program_id=program.id,
        kind=RoundKind.REMATCH,
        status=RoundStatus.QUEUED,
        run_key=run_key,
        parameters=settings.to_stored(),
        progress={"phase": RoundStatus.QUEUED.value, "percent": 0},
        created_at=as_of,
    )
    session.add(round_)
    session.flush()
    status.created(session, round_, "queue", at=as_of, actor=Closer.SYSTEM)
    status.change(
        session,
        Round,
        round_.id,
        "run",
        at=as_of,
        values={"started_at": as_of, "progress": {"phase": "running", "percent": 0}},
        actor=Closer.SYSTEM,
    )
    return round_


def _rematch(
    session: Session, program_id: int, as_of: datetime, dry_run: bool, summary: Summary
) -> None:
    _lock(session, program_id)
    # Its capacity check and matches serialise with a coordinator's publish.
    lock_program_matches(session, program_id)
    program = session.get(Program, program_id)
    assert program is not None
    summary.program = program.name
    settings = ProgramSettings.from_stored(program.settings)
    run_key = f"rematch:{summary.night}"
    done = session.scalar(
        select(Round.id).where(Round.program_id == program.id, Round.run_key == run_key)
    )
    if done is not None:
        summary.outcome, summary.round_id = "already_done", done
        summary.detail = f"round {done} already did this night"
        session.rollback()
        return

    summary.expired = relationships.expire_due(session, as_of, program.id)
    summary.superseded_rounds = _supersede(session, program, as_of)
    drained = _drained_mentors(session, program.id)
    deprioritised = _declined_twice(session, program.id)
    summary.drained_mentors = sorted(drained)
    summary.deprioritised = sorted(deprioritised)

    round_ = _start_round(session, program, settings, run_key, as_of)
    pool = round_results.compute(
        session,
        program,
        round_,
        as_of,
        blocked_mentors=frozenset(drained),
        deprioritised=frozenset(deprioritised),
    )
    stats = dict(round_.stats or {})
    summary.round_id = round_.id
    summary.pool_mentees = len(pool.problem.mentees)
    summary.pool_mentors = sum(
        1 for m in pool.problem.mentors if not m.paused and m.capacity > m.current_load
    )
    summary.matched = int(stats.get("matched_count", 0))
    summary.still_waiting = dict(Counter(u["reason"] for u in round_.unmatched or []))
    if settings.rematch_policy == RematchPolicy.PUBLISH:
        status.change(
            session,
            Round,
            round_.id,
            "publish",
            at=as_of,
            values={"published_at": as_of},
            actor=Closer.SYSTEM,
        )
        publishing.create_matches(session, program, round_, list(round_.pairs), as_of)
        summary.published = True
    summary.outcome = "dry_run" if dry_run else "done"
    stats["rematch"] = {k: v for k, v in asdict(summary).items() if k not in ("program",)}
    round_.stats = stats
    if dry_run:
        session.rollback()
        summary.round_id = None  # nothing was written
    else:
        session.commit()


def _drained_mentors(session: Session, program_id: int) -> set[int]:
    """Mentors whose latest check-in (as a mentor) says they are drained."""
    rows = session.execute(
        select(Match.mentor_id, CheckIn.signal, CheckIn.id)
        .join(CheckIn, CheckIn.match_id == Match.id)
        .where(Match.program_id == program_id, CheckIn.author_side == Side.MENTOR)
        .order_by(CheckIn.id)
    ).all()
    latest: dict[int, str | None] = {}
    for mentor_id, signal, _ in rows:
        latest[mentor_id] = signal
    return {m for m, s in latest.items() if s == Signal.DRAINED}


def _declined_twice(session: Session, program_id: int) -> set[int]:
    """Mentees whose last two proposals they declined, since the last rematch round.

    They are deprioritised for one run: once a rematch round has run after their second
    decline, they are back to normal priority.
    """
    last_rematch = session.scalar(
        select(func.max(Round.created_at)).where(
            Round.program_id == program_id, Round.kind == RoundKind.REMATCH
        )
    )
    rows = session.execute(
        select(Match.mentee_id, Match.status, Match.closed_by, Match.closed_at)
        .where(Match.program_id == program_id, Match.closed_at.is_not(None))
        .order_by(Match.mentee_id, Match.closed_at)
    ).all()
    history: dict[int, list[Any]] = {}
    for row in rows:
        history.setdefault(row.mentee_id, []).append(row)
    out: set[int] = set()
    for mentee_id, closed in history.items():
        last_two = closed[-2:]
        if len(last_two) == 2 and all(
            r.status == MatchStatus.DECLINED and r.closed_by == Closer.MENTEE for r in last_two
        ):
            if last_rematch is None or last_two[-1].closed_at > last_rematch:
                out.add(mentee_id)
    return out


@dataclass(frozen=True)
class RematchRun:
    """A past nightly rematch of a program, from its round."""

    round: Round

    @property
    def round_id(self) -> int:
        return self.round.id

    @property
    def night(self) -> str:
        return (self.round.run_key or "").removeprefix("rematch:")

    @property
    def status(self) -> str:
        return self.round.status

    @property
    def created_at(self) -> datetime:
        return self.round.created_at

    @property
    def summary(self) -> dict[str, Any]:
        found: dict[str, Any] = (self.round.stats or {}).get("rematch", {})
        return found


def runs(session: Session, account: Account, program_id: int) -> list[RematchRun]:
    program = access.program_for_coordinator(session, account, program_id)
    rows = session.scalars(
        select(Round)
        .where(Round.program_id == program.id, Round.kind == RoundKind.REMATCH)
        .order_by(Round.id.desc())
    )
    return [RematchRun(r) for r in rows]
