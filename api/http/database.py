"""The database of a Flask app: its engines, and one session per request."""

from __future__ import annotations

from typing import Any

from flask import Flask, Response, current_app, g, has_request_context, request
from sqlalchemy import event
from sqlalchemy.orm import Session, SessionTransaction

from api.adapters.db import Database, make_engine, make_reader
from api.services import outbox


def init_app(app: Flask) -> None:
    url = app.config["DATABASE_URL"]
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
        db = database()
        writes = has_request_context() and request.method not in SAFE_METHODS
        g.db_session = db.writing_session() if writes else db.session_factory()
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
        committed = outbox.take_committed(s)
        s.close()
        # Messages written by this request are committed: hand them to delivery.
        sender = current_app.extensions.get("peermatch.outbox")
        if committed and sender is not None:
            sender.kick()
