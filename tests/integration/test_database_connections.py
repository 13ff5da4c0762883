"""How the service uses its database connections, on a real database (not the tests'
shared transaction): pings only for connections that rested."""

from __future__ import annotations

import pytest
from sqlalchemy import create_engine, text
from sqlalchemy.exc import DBAPIError

from api import db
from tests.conftest import TEST_DATABASE_URL

postgres_only = pytest.mark.skipif(
    TEST_DATABASE_URL.startswith("sqlite"), reason="connection handling of PostgreSQL"
)


def _backend_pid(engine) -> int:
    with engine.connect() as conn:
        return int(conn.execute(text("SELECT pg_backend_pid()")).scalar_one())


@postgres_only
def test_a_pooled_connection_the_server_closed_while_it_rested_is_replaced(
    empty_database_url, monkeypatch
):
    engine = db.make_engine(empty_database_url)
    admin = create_engine(empty_database_url, isolation_level="AUTOCOMMIT")
    try:
        first = _backend_pid(engine)
        with admin.connect() as conn:
            conn.execute(text("SELECT pg_terminate_backend(:pid)"), {"pid": first})
        # Rested long enough: pinged, found dead, replaced; the request never sees it.
        monkeypatch.setattr(db, "PING_AFTER_IDLE", 0.0)
        second = _backend_pid(engine)
        assert second != first

        # Handed back moments ago: used without a ping. A server that went away meanwhile
        # fails that one statement; the pool then reconnects for the next.
        monkeypatch.setattr(db, "PING_AFTER_IDLE", 3600.0)
        with admin.connect() as conn:
            conn.execute(text("SELECT pg_terminate_backend(:pid)"), {"pid": second})
        with pytest.raises(DBAPIError) as failed:
            _backend_pid(engine)
        assert failed.value.connection_invalidated
        assert _backend_pid(engine) not in (first, second)
    finally:
        engine.dispose()
        admin.dispose()
