"""Engine, declarative base and request-scoped sessions (plain SQLAlchemy 2)."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from typing import Any

from flask import Flask, Response, current_app, g, request
from sqlalchemy import (
    JSON,
    Connection,
    DateTime,
    Engine,
    MetaData,
    TypeDecorator,
    create_engine,
    event,
)
from sqlalchemy.exc import DisconnectionError
from sqlalchemy.orm import DeclarativeBase, Session, SessionTransaction, sessionmaker
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


def init_app(app: Flask) -> None:
    url = app.config["DATABASE_URL"]
    if url.startswith("sqlite:///") and not url.startswith("sqlite:///:memory:"):
        from pathlib import Path

        Path(url[len("sqlite:///") :]).parent.mkdir(parents=True, exist_ok=True)
    echo = app.config["SQL_ECHO"]
    app.extensions["peermatch.db"] = Database(make_engine(url, echo), make_reader(url, echo))
    app.after_request(_end_read_only_transaction)
    app.teardown_appcontext(_close_session)


def database(app: Flask | None = None) -> Database:
    db: Database = (app or current_app).extensions["peermatch.db"]
    return db


def session() -> Session:
    """The session of the current request (or app context), created on first use."""
    if "db_session" not in g:
        g.db_session = database().session_factory()
    s: Session = g.db_session
    return s


SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})


def _end_read_only_transaction(response: Response) -> Response:
    # Closing a session rolls its transaction back, and psycopg 3 drops all prepared
    # statements of the connection on every ROLLBACK: requests that ended that way had
    # every query parsed and planned afresh by PostgreSQL (most of its time per profile
    # read). A successful request of a safe method writes nothing it has not committed
    # itself (the services commit their writes), so its transaction ends with COMMIT,
    # which for a transaction without writes is the same as a rollback and keeps the
    # statements prepared. Anything else (an error answer, an exception, changes made in
    # the session and not committed, another method) still ends with the rollback of
    # close().
    s: Session | None = g.get("db_session")
    if (
        s is None
        or response.status_code >= 400
        or request.method not in SAFE_METHODS
        or not s.in_transaction()
        or s.new
        or s.dirty
        or s.deleted
        or s.info.get(_FLUSHED)
    ):
        return response
    s.commit()
    return response


# Set while a session's transaction holds flushed ORM changes it has not committed.
_FLUSHED = "peermatch.flushed"


@event.listens_for(Session, "after_flush")
def _note_flush(session: Session, _context: Any) -> None:
    session.info[_FLUSHED] = True


@event.listens_for(Session, "after_transaction_end")
def _forget_flush(session: Session, transaction: SessionTransaction) -> None:
    if transaction.parent is None:  # the session's own transaction, not a savepoint
        session.info.pop(_FLUSHED, None)


def _close_session(_exc: BaseException | None) -> None:
    s = g.pop("db_session", None)
    if s is not None:
        s.close()


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
