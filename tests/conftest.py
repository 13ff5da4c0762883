"""Shared fixtures: one database per run, one rolled-back transaction per test.

SQLite in memory by default; PostgreSQL when TEST_DATABASE_URL is set (house rule 6).
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient, FlaskCliRunner
from sqlalchemy import Connection, Engine
from sqlalchemy.orm import Session, sessionmaker

TEST_DATABASE_URL = os.environ.get("TEST_DATABASE_URL") or "sqlite://"
#: (url rule, method, status) of every answer the tests' apps gave in this run; the
#: contract test (run last) checks each against the OpenAPI document.
ANSWERS: list[tuple[str, str, int]] = []


def _record_answer(response: Any) -> Any:
    from flask import request

    if request.url_rule is not None:
        ANSWERS.append((request.url_rule.rule, request.method, response.status_code))
    return response


def pytest_configure(config: pytest.Config) -> None:
    # Every app and subprocess the tests start keeps its messages in a folder of the run
    # (never ./instance/outbox), delivered before the answer leaves (no threads behind
    # a test's back); a test's own config or env still says otherwise.
    import tempfile

    os.environ.setdefault("OUTBOX_DIR", tempfile.mkdtemp(prefix="peermatch-test-outbox-"))
    os.environ.setdefault("OUTBOX_INLINE", "sync")


def pytest_report_header(config: pytest.Config) -> str:
    from sqlalchemy.engine import make_url

    url = make_url(TEST_DATABASE_URL)
    return f"peermatch test database: {url.render_as_string(hide_password=True)}"


@pytest.fixture(scope="session")
def engine() -> Iterator[Engine]:
    import api.adapters.models  # noqa: F401
    from api.adapters.db import Base, make_engine

    eng = make_engine(TEST_DATABASE_URL)
    Base.metadata.drop_all(eng)
    Base.metadata.create_all(eng)
    yield eng
    Base.metadata.drop_all(eng)
    eng.dispose()


@pytest.fixture
def connection(engine: Engine) -> Iterator[Connection]:
    conn = engine.connect()
    outer = conn.begin()
    yield conn
    outer.rollback()
    conn.close()


@pytest.fixture
def session_factory(connection: Connection) -> sessionmaker[Session]:
    # Services commit; inside a test that only releases a SAVEPOINT of the outer
    # transaction, which the connection fixture rolls back.
    return sessionmaker(
        bind=connection, join_transaction_mode="create_savepoint", expire_on_commit=False
    )


@pytest.fixture
def session(session_factory: sessionmaker[Session]) -> Iterator[Session]:
    s = session_factory()
    yield s
    s.close()


@pytest.fixture
def app(engine: Engine, session_factory: sessionmaker[Session], tmp_path: object) -> Flask:
    from api.entrypoints.cli import create_app
    from api.http.database import database

    flask_app = create_app(
        {
            "TESTING": True,
            "DATABASE_URL": TEST_DATABASE_URL,
            "MAX_CONTENT_LENGTH": 64 * 1024,
            # Fixtures register and log in many people from one address; the limits
            # have a test of their own.
            "RATELIMIT_ENABLED": False,
            # Messages go to files of the test's own folder, delivered before the answer
            # leaves (tests/api/test_notifications.py runs a real SMTP server).
            "SMTP_URL": None,
            "OUTBOX_DIR": str(tmp_path / "outbox"),  # type: ignore[operator]
            "OUTBOX_INLINE": "sync",
        }
    )
    # Registered first, so it runs last: it sees the final answer.
    flask_app.after_request_funcs.setdefault(None, []).insert(0, _record_answer)
    db = database(flask_app)
    db.dispose()
    db.engine = engine
    db.session_factory = session_factory
    # Reads outside the session go through the test's connection too (its transaction).
    db.reader = session_factory.kw["bind"]
    return flask_app


@pytest.fixture
def client(app: Flask) -> FlaskClient:
    return app.test_client()


@pytest.fixture
def runner(app: Flask) -> FlaskCliRunner:
    return app.test_cli_runner()


@pytest.fixture
def smtp():
    """A real SMTP server on 127.0.0.1 in this process (tests/mailbox.py)."""
    from tests.mailbox import SmtpServer

    with SmtpServer() as server:
        yield server


@pytest.fixture
def mailbox(app: Flask, smtp):
    """The app's messages go to the test SMTP server; its mailbox."""
    app.config["SMTP_URL"] = smtp.url
    app.extensions.pop("peermatch.delivery", None)
    return smtp.mailbox
