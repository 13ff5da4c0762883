"""A request's database work is kept only when its service commits it: reads that change
something by mistake, or fail half way, leave the database as it was."""

from __future__ import annotations

import pytest
from sqlalchemy import update

from api.adapters.models import Account, Program
from api.errors import NotFound
from api.http import database as db
from tests.api.conftest import assert_problem


@pytest.fixture
def account_id(session):
    account = Account(email="reader@example.org", display_name="Original", password_hash="")
    session.add(account)
    session.commit()
    return account.id


def _name(session, account_id):
    session.expire_all()
    return session.get(Account, account_id).display_name


def test_a_change_a_read_leaves_unflushed_is_not_written(app, client, session, account_id):
    @app.get("/test/rename-unflushed")
    def rename():
        db.session().get(Account, account_id).display_name = "Changed"
        return {"ok": True}

    assert client.get("/test/rename-unflushed").status_code == 200
    assert _name(session, account_id) == "Original"


def test_a_change_a_read_flushes_without_committing_is_not_written(
    app, client, session, account_id
):
    @app.get("/test/rename-flushed")
    def rename():
        s = db.session()
        s.get(Account, account_id).display_name = "Changed"
        s.flush()
        s.get(Program, 1)  # more reading after the flush
        return {"ok": True}

    assert client.get("/test/rename-flushed").status_code == 200
    assert _name(session, account_id) == "Original"


def test_a_read_that_fails_after_writing_leaves_nothing_behind(app, client, session, account_id):
    @app.get("/test/rename-then-fail")
    def rename():
        s = db.session()
        s.get(Account, account_id).display_name = "Changed"
        s.flush()
        raise NotFound("Nothing here.")

    assert_problem(client.get("/test/rename-then-fail"), 404)
    assert _name(session, account_id) == "Original"


def test_a_read_that_fails_after_a_bulk_update_leaves_nothing_behind(
    app, client, session, account_id
):
    @app.get("/test/bulk-rename-then-fail")
    def rename():
        db.session().execute(
            update(Account).where(Account.id == account_id).values(display_name="Changed")
        )
        raise NotFound("Nothing here.")

    assert_problem(client.get("/test/bulk-rename-then-fail"), 404)
    assert _name(session, account_id) == "Original"
