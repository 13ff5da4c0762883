"""A round stopped by its host's time limit (RQ's job timeout) is failed saying so,
wherever the limit strikes: its exception can arrive raw, wrapped by SQLAlchemy, or
not at all (swallowed by the code it interrupted), and the statement it stopped can
still hold the connection. The real worker's timeout is tested end to end in
test_round_recovery.py; here the limit strikes at chosen statements, in process.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from rq.timeouts import JobTimeoutException
from sqlalchemy import event, update
from sqlalchemy.exc import OperationalError, StatementError

from api.adapters import migrate
from api.adapters.db import Database, make_engine
from api.adapters.models import Participant, Program, Round
from api.domain.settings import ProgramSettings
from api.services import round_leases, round_runs
from api.synthetic import program as synthetic

RUNNERS = round_leases.Runners(jobs=None, lease_seconds=30, job_timeout=7)


class Limit:
    """A stand-in for RQ's SIGALRM at a chosen point: `strike()` marks the limit as gone
    off and (unless `swallowed`) raises RQ's exception there."""

    def __init__(self, swallowed: bool = False) -> None:
        self.swallowed, self.went_off = swallowed, False

    def strike(self) -> None:
        self.went_off = True
        if not self.swallowed:
            raise JobTimeoutException("Task exceeded maximum timeout value (7 seconds)")

    def time_limit(self) -> round_runs.TimeLimit:
        return round_runs.TimeLimit((JobTimeoutException,), lambda: self.went_off)


@pytest.fixture
def database(empty_database_url: str) -> Iterator[Database]:
    migrate.upgrade(empty_database_url)
    db = Database(make_engine(empty_database_url, False))
    with db.session_factory() as session:
        synthetic.generate(session, 120, 30, seed=3)
        session.commit()
    yield db
    db.dispose()


def _queue(db: Database) -> int:
    with db.session_factory() as session:
        program = session.query(Program).one()
        parameters = ProgramSettings.from_stored(program.settings).for_round({})
        return round_runs.queue(session, program, parameters, created_by=None).id


def _run(db: Database, round_id: int, time_limit: round_runs.TimeLimit) -> Round:
    with db.session_factory() as session:
        round_runs.execute(session, round_id, runners=RUNNERS, time_limit=time_limit)
    with db.session_factory() as session:
        found = session.get(Round, round_id)
        assert found is not None
        session.expunge(found)
        return found


def _statements(db: Database) -> int:
    """How many statements a run sends up to the one that proposes the round (its last
    `UPDATE rounds`; then the result is committed). The round is then discarded."""
    sent: list[str] = []

    def counted(_conn: Any, _cursor: Any, statement: str, *_: Any) -> None:
        sent.append(statement)

    round_id = _queue(db)
    event.listen(db.engine, "before_cursor_execute", counted)
    try:
        done = _run(db, round_id, round_runs.NO_TIME_LIMIT)
    finally:
        event.remove(db.engine, "before_cursor_execute", counted)
    assert done.status == "proposed", done.error
    with db.session_factory() as session:
        session.get(Round, round_id).status = "discarded"  # type: ignore[union-attr]
        session.commit()
    return max(i for i, statement in enumerate(sent, 1) if statement.startswith("UPDATE rounds"))


def _assert_failed_for_its_time_limit(done: Round) -> None:
    assert done.status == "failed", done.error
    assert done.error is not None
    assert "ran longer than this service allows (7 s)" in done.error["detail"]
    assert "ROUND_JOB_TIMEOUT_SECONDS" in done.error["detail"]
    assert done.lease_expires_at is None


@pytest.mark.parametrize("swallowed", [False, True], ids=["raised", "swallowed"])
@pytest.mark.parametrize("where", [0.1, 0.5, 0.9, 1.0], ids=lambda w: f"at-{w:.0%}")
def test_a_round_stopped_at_any_statement_fails_for_its_time_limit(database, where, swallowed):
    total = _statements(database)
    # The statement the limit strikes: the first ones start the run (the status change
    # to `running`, left to the job's failure handler), the last one proposes the round.
    strike_at = max(3, min(total, round(total * where)))
    limit, seen = Limit(swallowed), 0

    def strike(*_: Any) -> None:
        nonlocal seen
        seen += 1
        if seen == strike_at:
            limit.strike()

    round_id = _queue(database)
    event.listen(database.engine, "before_cursor_execute", strike)
    try:
        done = _run(database, round_id, limit.time_limit())
    finally:
        event.remove(database.engine, "before_cursor_execute", strike)
    assert limit.went_off
    _assert_failed_for_its_time_limit(done)


def test_a_limit_that_stops_reading_rows_mid_way_fails_the_round_and_frees_the_database(
    database, empty_database_url
):
    # Stopped while the pool's rows stream in: the read statement is left open; on
    # SQLite it holds a lock that no other writer (the lease's heartbeat) gets past
    # while the failure is recorded, unless the connection is dropped.
    limit, loaded = Limit(), 0
    other = make_engine(empty_database_url, False)
    others_wrote: list[bool] = []

    def strike(*_: Any) -> None:
        nonlocal loaded
        loaded += 1
        if loaded == 50:
            limit.strike()

    def another_writer(*_: Any) -> None:
        if not limit.went_off or others_wrote:
            return
        try:
            with other.connect() as conn:
                if conn.dialect.name == "sqlite":
                    conn.exec_driver_sql("PRAGMA busy_timeout=500")
                conn.execute(update(Program).values(name=Program.name))
                conn.commit()
            others_wrote.append(True)
        except OperationalError:
            others_wrote.append(False)

    round_id = _queue(database)
    event.listen(Participant, "load", strike)
    event.listen(database.engine, "before_cursor_execute", another_writer)
    try:
        done = _run(database, round_id, limit.time_limit())
    finally:
        event.remove(Participant, "load", strike)
        event.remove(database.engine, "before_cursor_execute", another_writer)
        other.dispose()
    _assert_failed_for_its_time_limit(done)
    assert others_wrote == [True]
    # The program is free: a new round runs to the end.
    again = _run(database, _queue(database), round_runs.NO_TIME_LIMIT)
    assert again.status == "proposed", again.error


def test_the_time_limit_is_recognised_through_the_exceptions_that_wrap_it():
    limit = round_runs.TimeLimit((JobTimeoutException,))
    timeout = JobTimeoutException("Task exceeded maximum timeout value (7 seconds)")
    wrapped = StatementError("stopped", "SELECT 1", None, timeout)
    try:
        try:
            raise wrapped from timeout
        except StatementError as exc:
            raise RuntimeError("while cleaning up") from exc
    except RuntimeError as chained:
        assert limit.reached(chained)
    assert limit.reached(StatementError("stopped", "SELECT 1", None, timeout))  # .orig
    assert not limit.reached(RuntimeError("something else"))
    assert not limit.reached(None)
    assert round_runs.TimeLimit((JobTimeoutException,), lambda: True).reached(None)
