"""How the service uses its database connections: reads without a session, pings only for
connections that rested, on a real app and database (not the tests' shared transaction)."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import create_engine, event, select, text
from sqlalchemy.exc import DBAPIError

from api.adapters import db as adapters_db
from api.adapters import migrate
from api.adapters.db import make_engine, utcnow
from api.adapters.hashing import new_token
from api.adapters.models import Participant, Token
from api.entrypoints.cli import create_app
from api.http import database as db
from api.http.schemas.profiles import ParticipantSchema
from api.synthetic import program as synthetic
from tests.conftest import TEST_DATABASE_URL

postgres_only = pytest.mark.skipif(
    TEST_DATABASE_URL.startswith("sqlite"), reason="connection handling of PostgreSQL"
)


def test_an_owners_profile_read_is_one_statement_outside_any_transaction(empty_database_url):
    migrate.upgrade(empty_database_url)
    app = create_app({"TESTING": True, "DATABASE_URL": empty_database_url, "REDIS_URL": None})
    database = db.database(app)
    with app.app_context():
        session = db.session()
        program_id = synthetic.generate(session, 8, 2, seed=3)
        person = session.scalars(select(Participant).order_by(Participant.id)).first()
        assert person is not None
        secret, digest = new_token()
        session.add(
            Token(
                account_id=person.account_id,
                token_hash=digest,
                expires_at=utcnow() + timedelta(hours=1),
            )
        )
        session.commit()
        expected = ParticipantSchema().dump(person)
        session.close()

    statements: list[str] = []
    autocommit: list[bool] = []

    def record(conn, cursor, statement, parameters, context, executemany):
        statements.append(statement)
        autocommit.append(bool(getattr(conn.connection.dbapi_connection, "autocommit", False)))

    event.listen(database.reader, "before_cursor_execute", record)
    try:
        r = app.test_client().get(
            f"/api/v1/programs/{program_id}/profile", headers={"Authorization": f"Bearer {secret}"}
        )
    finally:
        event.remove(database.reader, "before_cursor_execute", record)
    assert r.status_code == 200, r.json
    assert (
        r.json["id"] == expected["id"]
        and r.json["profile"]["needs"] == expected["profile"]["needs"]
    )
    # One statement (on SQLite, SQLAlchemy's own BEGIN goes through the hook too).
    assert len([s for s in statements if s != "BEGIN"]) == 1
    if not TEST_DATABASE_URL.startswith("sqlite"):
        assert database.reader is not database.engine and autocommit == [True]
    database.dispose()


def _backend_pid(engine) -> int:
    with engine.connect() as conn:
        return int(conn.execute(text("SELECT pg_backend_pid()")).scalar_one())


@postgres_only
def test_a_pooled_connection_the_server_closed_while_it_rested_is_replaced(
    empty_database_url, monkeypatch
):
    engine = make_engine(empty_database_url)
    admin = create_engine(empty_database_url, isolation_level="AUTOCOMMIT")
    try:
        first = _backend_pid(engine)
        with admin.connect() as conn:
            conn.execute(text("SELECT pg_terminate_backend(:pid)"), {"pid": first})
        # Rested long enough: pinged, found dead, replaced; the request never sees it.
        monkeypatch.setattr(adapters_db, "PING_AFTER_IDLE", 0.0)
        second = _backend_pid(engine)
        assert second != first

        # Handed back moments ago: used without a ping. A server that went away meanwhile
        # fails that one statement; the pool then reconnects for the next.
        monkeypatch.setattr(adapters_db, "PING_AFTER_IDLE", 3600.0)
        with admin.connect() as conn:
            conn.execute(text("SELECT pg_terminate_backend(:pid)"), {"pid": second})
        with pytest.raises(DBAPIError) as failed:
            _backend_pid(engine)
        assert failed.value.connection_invalidated
        assert _backend_pid(engine) not in (first, second)
    finally:
        engine.dispose()
        admin.dispose()
