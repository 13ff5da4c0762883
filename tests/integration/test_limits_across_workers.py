"""The log-in limits under gunicorn with two workers and no Redis (PostgreSQL).

The counters live in the database (api.adapters.limit_counters), so the two worker
processes share one budget. Requests come from several loopback source addresses
(127.0.0.x) to the one server on 127.0.0.1, as different clients would.
"""

from __future__ import annotations

import http.client
import json
import os
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from typing import Any

import pytest
from sqlalchemy.orm import Session

from api.adapters.db import make_engine
from api.adapters.hashing import hash_password
from api.adapters.models import Account
from tests.conftest import TEST_DATABASE_URL
from tests.races import race_database

pytestmark = pytest.mark.skipif(
    not TEST_DATABASE_URL.startswith("postgresql"), reason="counters in PostgreSQL"
)
PASSWORD = "the-victims-own-passphrase"


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture(scope="module")
def server(engine: Any, tmp_path_factory: Any) -> Iterator[dict[str, Any]]:
    pytest.importorskip("gunicorn")
    tmp_path = tmp_path_factory.mktemp("workers")
    with race_database(TEST_DATABASE_URL, tmp_path) as url:
        db = make_engine(url)
        with Session(db) as s:
            s.add(
                Account(
                    email="victim@example.org",
                    display_name="Victim",
                    password_hash=hash_password(PASSWORD),
                )
            )
            s.commit()
        db.dispose()
        port = _free_port()
        env = {k: v for k, v in os.environ.items() if k != "REDIS_URL"} | {
            "DATABASE_URL": url,
            "RATELIMIT_ENABLED": "1",
            "LOGIN_RATE_LIMIT": "10 per minute",
            "LOGIN_FAILURE_RATE_LIMIT": "5 per minute",
            "LOGIN_ACCOUNT_RATE_LIMIT": "20 per hour",
            "OUTBOX_INLINE": "off",
        }
        process = subprocess.Popen(
            [sys.executable, "-m", "gunicorn", "--workers", "2", "--bind", f"127.0.0.1:{port}"]
            + ["api.entrypoints.wsgi:app"],
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        try:
            deadline = time.monotonic() + 60
            while time.monotonic() < deadline:
                try:
                    socket.create_connection(("127.0.0.1", port), timeout=1).close()
                    break
                except OSError:
                    time.sleep(0.2)
            yield {"port": port, "process": process}
        finally:
            process.terminate()
            process.wait(30)


def _log_in(port: int, source: str, email: str, password: str) -> int:
    """The status of one log-in from `source`, on a new connection (any worker)."""
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30, source_address=(source, 0))
    body = json.dumps({"email": email, "password": password})
    conn.request("POST", "/api/v1/tokens", body, {"Content-Type": "application/json"})
    response = conn.getresponse()
    response.read()
    conn.close()
    return response.status


def test_the_address_limit_holds_across_two_workers(server):
    statuses = [
        _log_in(server["port"], "127.0.0.30", f"nobody{k}@example.org", "wrong-wrong-1")
        for k in range(40)
    ]
    # 10 a minute from one address, whichever worker answers (per worker: up to 20).
    assert statuses.count(401) == 10 and statuses.count(429) == 30, statuses


def test_a_victims_correct_password_works_after_50_failures_from_another_address(server):
    port = server["port"]
    victim = "victim@example.org"
    attacks = [_log_in(port, "127.0.0.2", victim, f"guess-guess-{k}") for k in range(50)]
    # Five failures a minute per (account, address); the address limit (10) stops the rest.
    assert attacks[:5] == [401] * 5 and set(attacks[5:]) == {429}, attacks
    # Spread over more addresses, the account's ceiling (20 an hour) holds them back:
    # after it, each further address gets one guess and is then refused.
    spread = [_log_in(port, f"127.0.0.{3 + k // 5}", victim, "guess-again-1") for k in range(25)]
    # 15 more reach the ceiling (3 addresses); the next 2 addresses: one guess each.
    assert spread.count(401) == 15 + 2 and spread[-1] == 429, spread
    # The victim, from an address that has not failed: the correct password works.
    assert _log_in(port, "127.0.0.99", victim, PASSWORD) == 201
