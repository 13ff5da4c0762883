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
from sqlalchemy.exc import IntegrityError, OperationalError
from sqlalchemy.orm import Session

import matcher
from api.adapters.db import lock_program_matches, utcnow
from api.adapters.models import Account, CheckIn, Match, Participant, Program, Round
from api.domain.settings import ProgramSettings
from api.domain.vocabulary import (
    BUSY_ROUND_STATUSES,
    Closer,
    MatchStatus,
    RematchPolicy,
    RoundKind,
    RoundStatus,
    Side,
    Signal,
)
from api.services import (
    access,
    publishing,
    relationships,
    round_leases,
    round_results,
    status,
)

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
    matched_first: list[int] = field(default_factory=list)
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
            f"  matched first (their match failed through no fault of theirs): "
            f"{len(self.matched_first)}\n"
            f"  deprioritised after two declines: {len(self.deprioritised)}; "
            f"drained mentors left out: {len(self.drained_mentors)}"
        )


def _lock_key(program_id: int) -> int:
    digest = hashlib.blake2b(f"peermatch-rematch:{program_id}".encode(), digest_size=8).digest()
    return int.from_bytes(digest, "big", signed=True)


def _policy_on(stored: dict[str, Any]) -> bool:
    try:
        return ProgramSettings.from_stored(stored).rematch_policy != RematchPolicy.OFF
    except Exception:
        # A setting that does not parse: the program's own run fails and says so; the
        # others still run.
        return True


def programs_due(engine: Engine, program_id: int | None) -> list[int]:
    with Session(engine) as session:
        if program_id is not None:
            return [program_id] if session.get(Program, program_id) else []
        return [
            p.id
            for p in session.scalars(select(Program).order_by(Program.id))
            if _policy_on(p.settings)
        ]


def run(
    engine: Engine,
    *,
    program_id: int | None = None,
    dry_run: bool = False,
    as_of: datetime | None = None,
    runners: round_leases.Runners | None = None,
) -> list[Summary]:
    """Each due program's rematch as a unit of its own: one that fails (a stuck round, a
    bad setting, a publish landing meanwhile) is recorded as a failed rematch run of that
    program, and the others still run."""
    as_of = as_of or utcnow()
    ids = programs_due(engine, program_id)
    if program_id is not None and not ids:
        return [Summary(program_id, outcome="failed", detail="no such program")]
    summaries = []
    for pid in ids:
        try:
            summary = run_program(engine, pid, as_of=as_of, dry_run=dry_run, runners=runners)
        except Exception as exc:
            log.exception("rematch of program %s failed", pid)
            summary = Summary(pid, night=as_of.date().isoformat(), outcome="failed")
            summary.detail = _failure_detail(exc, pid)
        if summary.outcome == "failed" and not dry_run:
            _record_failure(engine, summary, as_of)
        summaries.append(summary)
    return summaries


def _failure_detail(exc: Exception, program_id: int) -> str:
    again = f"`peermatch rematch --program {program_id}` runs it again; nothing of it was kept"
    if isinstance(exc, IntegrityError):
        return (
            "the program changed while its rematch ran (for example, a coordinator "
            f"published a round at that moment); {again}"
        )
    if isinstance(exc, _Busy):
        return str(exc)
    if isinstance(exc, matcher.MatcherError):
        return f"the matcher rejected the program's input ({exc.message}); {again}"
    return f"the rematch failed unexpectedly ({type(exc).__name__}, logged); {again}"


def _record_failure(engine: Engine, summary: Summary, as_of: datetime) -> None:
    """A failed rematch run of the program, so coordinators see it with the others."""
    problem = {
        "type": "urn:peermatch:problem:rematch-failed",
        "title": "Rematch failed",
        "status": 500,
        "detail": f"Tonight's rematch of this program did not run: {summary.detail}.",
    }
    try:
        with Session(engine, expire_on_commit=False) as session:
            program = session.get(Program, summary.program_id)
            if program is None:
                return
            summary.program = program.name
            now = utcnow()
            round_ = Round(
                program_id=program.id,
                kind=RoundKind.REMATCH,
                status=RoundStatus.FAILED,
                # The failure record holds no night's run key: running again redoes it.
                run_key=None,
                parameters={},
                progress={"phase": RoundStatus.FAILED.value, "percent": 100},
                stats={"rematch": {k: v for k, v in asdict(summary).items() if k != "program"}},
                error=problem,
                created_at=as_of,
                finished_at=now,
            )
            session.add(round_)
            session.flush()
            status.created(session, round_, "fail_to_start", at=now, actor=Closer.SYSTEM)
            session.commit()
            summary.round_id = round_.id
    except Exception:
        log.exception("the failed rematch of program %s could not be recorded", summary.program_id)


def run_program(
    engine: Engine,
    program_id: int,
    *,
    as_of: datetime,
    dry_run: bool,
    runners: round_leases.Runners | None = None,
) -> Summary:
    summary = Summary(program_id, night=as_of.date().isoformat())
    if not dry_run:
        # A coordinator's round whose runner died is handed on first (re-queued or failed).
        with Session(engine) as session:
            round_leases.recover(session, runners or round_leases.INLINE, program_id=program_id)
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
            except _Busy as exc:
                session.rollback()
                summary.outcome, summary.detail = "failed", str(exc)
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


class _Busy(Exception):
    """The program cannot be rematched now: a coordinator's round of it is queued or
    running, or its settings do not parse. The message says what to do."""


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
    try:
        settings = ProgramSettings.from_stored(program.settings)
    except Exception as exc:
        raise _Busy(
            f"a matching setting of the program is not valid ({type(exc).__name__}: {exc}); "
            "correct the program's settings, then run its rematch again"
        ) from exc
    run_key = f"rematch:{summary.night}"
    done = session.scalar(
        select(Round.id).where(Round.program_id == program.id, Round.run_key == run_key)
    )
    if done is not None:
        summary.outcome, summary.round_id = "already_done", done
        summary.detail = f"round {done} already did this night"
        session.rollback()
        return

    busy = session.execute(
        select(Round.id, Round.status).where(
            Round.program_id == program.id, Round.status.in_(BUSY_ROUND_STATUSES)
        )
    ).first()
    if busy is not None:
        raise _Busy(
            f"round {busy.id} of the program is {busy.status}; the rematch runs once it has "
            f"finished (next night, or `peermatch rematch --program {program.id}`)"
        )
    summary.expired = relationships.expire_due(session, as_of, program.id)
    summary.superseded_rounds = _supersede(session, program, as_of)
    drained = _drained_mentors(session, program.id)
    last_rematch = session.scalar(
        select(func.max(Round.created_at)).where(
            Round.program_id == program.id,
            Round.kind == RoundKind.REMATCH,
            Round.run_key.is_not(None),  # not the record of a night that failed
        )
    )
    deprioritised = _declined_twice(session, program.id, last_rematch)
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
        no_fault_first=True,
        since=last_rematch,
    )
    summary.matched_first = sorted(pool.first)
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
        select(Match.mentor_id, CheckIn.signal, CheckIn.created_at, Participant.resumed_at)
        .join(CheckIn, CheckIn.match_id == Match.id)
        .join(Participant, Participant.id == Match.mentor_id)
        .where(Match.program_id == program_id, CheckIn.author_side == Side.MENTOR)
        .order_by(CheckIn.id)
    ).all()
    latest: dict[int, Any] = {}
    for row in rows:
        latest[row.mentor_id] = row
    # A mentor who resumed after saying so is back (`api.services.load.resume`).
    return {
        m
        for m, r in latest.items()
        if r.signal == Signal.DRAINED and (r.resumed_at is None or r.created_at > r.resumed_at)
    }


def _declined_twice(session: Session, program_id: int, last_rematch: datetime | None) -> set[int]:
    """Mentees whose last two proposals they declined, since the last rematch round.

    They are deprioritised for one run: once a rematch round has run after their second
    decline, they are back to normal priority.
    """
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
        if self.round.run_key:
            return self.round.run_key.removeprefix("rematch:")
        return str(self.summary.get("night", ""))

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


def run_in_session(session: Session, program_id: int, *, as_of: datetime) -> Summary:
    """One program's rematch in the caller's session (the caller holds the transaction:
    scenario tests drive simulated nights with it)."""
    summary = Summary(program_id, night=as_of.date().isoformat())
    _rematch(session, program_id, as_of, False, summary)
    return summary
