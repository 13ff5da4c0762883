"""While the database cannot be reached, answers are 503 with Retry-After, never 500.

A real connection attempt to a port nothing listens on (refused at once), and a real
TCP proxy in front of the test database that is cut mid-life and restored.
"""

from __future__ import annotations

import logging
import socket
import threading

import pytest

from tests.api.conftest import assert_problem
from tests.conftest import TEST_DATABASE_URL
from tests.races import app_on

pytest.importorskip("psycopg")
BEARER = {"Authorization": "Bearer " + "x" * 43}


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _assert_unavailable(response) -> None:
    assert_problem(response, 503)
    assert response.get_json()["type"].endswith("unavailable")
    assert int(response.headers["Retry-After"]) > 0


def test_every_kind_of_request_answers_503_while_the_database_is_unreachable(caplog):
    app = app_on(f"postgresql+psycopg://postgres@127.0.0.1:{_free_port()}/peermatch")
    client = app.test_client()
    with caplog.at_level(logging.DEBUG):
        _assert_unavailable(
            client.post("/api/v1/tokens", json={"email": "a@example.org", "password": "x" * 12})
        )
        _assert_unavailable(client.get("/api/v1/me", headers=BEARER))
        # The owner's profile read goes through the reader engine, without a session.
        _assert_unavailable(client.get("/api/v1/programs/1/profile", headers=BEARER))
        _assert_unavailable(
            client.post("/api/v1/matches/1/decline", json={"reason": "x"}, headers=BEARER)
        )
    assert not [r for r in caplog.records if r.exc_info], "no traceback in the logs"
    lines = [r.getMessage() for r in caplog.records if r.name == "peermatch.errors"]
    assert lines and all(line.startswith("database unavailable") for line in lines)
    assert all("127.0.0.1" not in line for line in lines)


class _Proxy:
    """A TCP proxy to the database that can be cut (every connection closed) and restored."""

    def __init__(self, target: tuple[str, int]) -> None:
        self.target, self.port = target, _free_port()
        self.sockets: list[socket.socket] = []
        self.listener: socket.socket | None = None

    def start(self) -> None:
        self.listener = socket.create_server(("127.0.0.1", self.port))
        threading.Thread(target=self._accept, args=(self.listener,), daemon=True).start()

    def _accept(self, listener: socket.socket) -> None:
        while True:
            try:
                client, _ = listener.accept()
            except OSError:
                return
            upstream = socket.create_connection(self.target)
            self.sockets += [client, upstream]
            for a, b in ((client, upstream), (upstream, client)):
                threading.Thread(target=self._pipe, args=(a, b), daemon=True).start()

    @staticmethod
    def _pipe(a: socket.socket, b: socket.socket) -> None:
        try:
            while data := a.recv(65536):
                b.sendall(data)
        except OSError:
            pass
        finally:
            for s in (a, b):
                try:
                    s.shutdown(socket.SHUT_RDWR)
                except OSError:
                    pass

    def cut(self) -> None:
        assert self.listener is not None
        # shutdown wakes the thread blocked in accept() (close alone does not, on Linux).
        self.listener.shutdown(socket.SHUT_RDWR)
        self.listener.close()
        for s in self.sockets:
            try:
                s.shutdown(socket.SHUT_RDWR)
                s.close()
            except OSError:
                pass
        self.sockets.clear()


@pytest.mark.skipif(not TEST_DATABASE_URL.startswith("postgresql"), reason="PostgreSQL only")
def test_a_database_that_goes_away_mid_life_gives_503_then_service_resumes(engine):
    from sqlalchemy.engine import make_url

    url = make_url(TEST_DATABASE_URL)
    proxy = _Proxy((url.host or "127.0.0.1", url.port or 5432))
    proxy.start()
    app = app_on(url.set(host="127.0.0.1", port=proxy.port).render_as_string(False))
    client = app.test_client()
    # Up: an unknown token is a 401 (the database answered).
    assert client.get("/api/v1/me", headers=BEARER).status_code == 401
    proxy.cut()
    for _ in range(3):
        _assert_unavailable(client.get("/api/v1/me", headers=BEARER))
    proxy.start()
    assert client.get("/api/v1/me", headers=BEARER).status_code == 401
    from api.http.database import database

    database(app).dispose()
    proxy.cut()
