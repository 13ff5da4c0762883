"""Engines, the declarative base and the session factory (plain SQLAlchemy 2, no Flask)."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from sqlalchemy import (
    JSON,
    Connection,
    DateTime,
    Engine,
    MetaData,
    TypeDecorator,
    create_engine,
    event,
    text,
)
from sqlalchemy.exc import DisconnectionError
from sqlalchemy.orm import DeclarativeBase, Session, sessionmaker
from sqlalchemy.pool import StaticPool

NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING_CONVENTION)
    type_annotation_map = {dict[str, Any]: JSON, list[Any]: JSON}


def utcnow() -> datetime:
    return datetime.now(UTC)


def make_engine(url: str, echo: bool = False) -> Engine:
    """Create an engine with the per-backend settings the service relies on."""
    if url.startswith("sqlite:///") and not url.startswith("sqlite:///:memory:"):
        # The embedded default keeps its file under instance/, which may not exist yet.
        Path(url[len("sqlite:///") :]).parent.mkdir(parents=True, exist_ok=True)
    if url.startswith("sqlite"):
        kwargs: dict[str, Any] = {"connect_args": {"check_same_thread": False}}
        if url in ("sqlite://", "sqlite:///:memory:"):
            kwargs["poolclass"] = StaticPool
        engine = create_engine(url, echo=echo, hide_parameters=not echo, **kwargs)
        _fix_sqlite_transactions(engine)
        return engine
    engine = create_engine(url, echo=echo, hide_parameters=not echo)
    _ping_when_idle(engine)
    return engine


def make_reader(url: str, echo: bool = False) -> Engine | None:
    """An engine for requests that only read, outside any session (None: use the main one).

    On PostgreSQL its connections are in autocommit mode: a read is its one statement,
    with no BEGIN and no COMMIT round trip (and no ROLLBACK, which would make psycopg
    drop its prepared statements). SQLite reads go through the main engine.
    """
    if url.startswith("sqlite"):
        return None
    engine = create_engine(
        url, echo=echo, hide_parameters=not echo, isolation_level="AUTOCOMMIT", pool_size=2
    )
    _ping_when_idle(engine)
    return engine


#: A pooled connection that has rested longer than this (seconds) is pinged before use.
PING_AFTER_IDLE = 10.0


def _ping_when_idle(engine: Engine) -> None:
    # What `pool_pre_ping` does, but only for connections that have rested in the pool:
    # a server restart or an idle timeout closes those, and the ping replaces them before
    # a request sees it. A connection handed back moments ago is used as it is (pinging it
    # cost a database round trip on every request); if the server went away meanwhile, the
    # request's error marks the pool invalid and the next checkouts reconnect.
    @event.listens_for(engine, "checkin")
    def _rested_since(_dbapi_connection: Any, record: Any) -> None:
        record.info[_CHECKED_IN] = time.monotonic()

    @event.listens_for(engine, "checkout")
    def _ping(dbapi_connection: Any, record: Any, _proxy: Any) -> None:
        rested = record.info.get(_CHECKED_IN)
        if rested is None or time.monotonic() - rested < PING_AFTER_IDLE:
            return
        try:
            engine.dialect.do_ping(dbapi_connection)
        except engine.dialect.loaded_dbapi.Error as exc:
            # The pool drops this connection and checks out (or opens) another one.
            raise DisconnectionError(f"pooled connection lost: {type(exc).__name__}") from exc


_CHECKED_IN = "peermatch.checked_in"


def _fix_sqlite_transactions(engine: Engine) -> None:
    # Statement parameters can hold personal data, so errors never echo them (hide_parameters).
    # pysqlite's own transaction handling breaks SAVEPOINT and defers BEGIN; let
    # SQLAlchemy emit BEGIN itself (SQLAlchemy docs, "Serializable isolation /
    # Savepoints / Transactional DDL"), and turn foreign keys on.
    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection: Any, _record: Any) -> None:
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute("PRAGMA busy_timeout=10000")
        cursor.close()

    @event.listens_for(engine, "begin")
    def _on_begin(conn: Any) -> None:
        # `sqlite_begin="BEGIN IMMEDIATE"` takes the write lock up front (rematch guard).
        conn.exec_driver_sql(conn.get_execution_options().get("sqlite_begin", "BEGIN"))


class Database:
    """Holds the engines and the session factory of one app."""

    def __init__(self, engine: Engine, reader: Engine | None = None) -> None:
        self.engine = engine
        self.session_factory: Callable[[], Session] = sessionmaker(
            bind=engine, expire_on_commit=False
        )
        # What `read()` connects with: an engine, or one open connection (the tests').
        self.reader: Engine | Connection = reader if reader is not None else engine
        # SQLite: a transaction that reads first and writes later cannot wait for another
        # writer (it fails at once with "database is locked", SQLite's deadlock rule), so
        # sessions that will write take the write lock at BEGIN: writers queue behind
        # each other (busy_timeout) and each sees what the one before it committed.
        self._immediate: tuple[Engine, Callable[[], Session]] | None = None
        if engine.dialect.name == "sqlite":
            immediate = engine.execution_options(sqlite_begin="BEGIN IMMEDIATE")
            self._immediate = (engine, sessionmaker(bind=immediate, expire_on_commit=False))

    def writing_session(self) -> Session:
        """A session for a unit of work that writes (on SQLite: BEGIN IMMEDIATE)."""
        if self._immediate is not None and self._immediate[0] is self.engine:
            return self._immediate[1]()
        # Another engine was put in place (the tests' connection): its own sessions.
        return self.session_factory()

    @contextmanager
    def read(self) -> Iterator[Connection]:
        """A connection for one read-only statement that needs no session."""
        if isinstance(self.reader, Connection):
            yield self.reader
            return
        with self.reader.connect() as conn:
            yield conn

    def dispose(self) -> None:
        self.engine.dispose()
        if isinstance(self.reader, Engine) and self.reader is not self.engine:
            self.reader.dispose()


#: pg_advisory_xact_lock's first key: the lock on the matches of one program.
PROGRAM_MATCHES_LOCK = 0x70_6D_01


def lock_program_matches(session: Session, program_id: int) -> None:
    """Serialise, until the transaction ends, whoever checks a program's capacity and
    creates its matches (a publish, a rematch): the second waits, then reads the first's.

    PostgreSQL: a transaction-level advisory lock keyed by the program (other programs go
    on in parallel). SQLite: one writer at a time already, as writing sessions begin
    with BEGIN IMMEDIATE (`Database.writing_session`, the rematch's own BEGIN IMMEDIATE).
    """
    if session.get_bind().dialect.name == "postgresql":
        session.execute(
            text("SELECT pg_advisory_xact_lock(:space, :program)"),
            {"space": PROGRAM_MATCHES_LOCK, "program": program_id},
        )


class UTCDateTime(TypeDecorator[datetime]):
    """Timezone-aware UTC timestamps on every backend (SQLite drops the offset otherwise)."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Any) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given to a UTC column")
        return value.astimezone(UTC)

    def process_result_value(self, value: datetime | None, dialect: Any) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            return value.replace(tzinfo=UTC)
        return value.astimezone(UTC)
