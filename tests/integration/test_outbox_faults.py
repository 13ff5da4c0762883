"""A worker killed while it delivers a batch: after a restart every message is sent, and
none twice except the one in flight at the kill.

Real parts: a migrated database, Redis, `peermatch worker` processes (SIGKILLed with
their work horse), and an SMTP server in this process on 127.0.0.1.
"""

from __future__ import annotations

import os
import signal
import subprocess
import time
import uuid
from collections import Counter

from sqlalchemy import func, insert, select

from api.adapters import migrate
from api.adapters.db import make_engine
from api.adapters.models import Account, OutboxMessage
from api.domain.vocabulary import MessageKind
from api.services import outbox
from tests.integration.test_worker import REDIS_URL, _peermatch, _redis_or_skip
from tests.mailbox import SmtpServer

MESSAGES = 60


def _children(pid: int) -> list[int]:
    """Processes whose parent is `pid` (RQ's work horse calls setsid: not in our group)."""
    found = []
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                with open(f"/proc/{entry}/stat") as stat:
                    ppid = int(stat.read().rsplit(")", 1)[1].split()[1])
            except (OSError, ValueError, IndexError):
                continue
            if ppid == pid:
                found.append(int(entry))
    return found


def _kill_worker_and_horse(pid: int) -> list[int]:
    horses = _children(pid)
    for victim in (*horses, pid):
        try:
            os.kill(victim, signal.SIGKILL)
        except ProcessLookupError:
            pass
    return horses


def _statuses(engine) -> dict[str, int]:
    with engine.connect() as conn:
        return dict(
            conn.execute(
                select(OutboxMessage.status, func.count()).group_by(OutboxMessage.status)
            ).all()
        )


def test_a_worker_killed_mid_batch_leaves_nothing_unsent_and_only_the_in_flight_one_twice(
    empty_database_url, tmp_path
):
    _redis_or_skip()
    migrate.upgrade(empty_database_url)
    engine = make_engine(empty_database_url)
    from sqlalchemy.orm import Session

    with Session(engine) as session:
        ids = session.scalars(
            insert(Account).returning(Account.id),
            [
                {"email": f"p{i}@example.org", "display_name": f"P {i}", "password_hash": ""}
                for i in range(MESSAGES)
            ],
        ).all()
        outbox.write(
            session,
            [outbox.Message(f"test:{a}", MessageKind.PASSWORD_RESET, account_id=a) for a in ids],
        )
        session.commit()
    queue = f"peermatch-test-{uuid.uuid4().hex[:8]}"
    with SmtpServer() as smtp:
        smtp.mailbox.delay = 0.05  # a server that takes its time: the kill lands mid-batch
        env = os.environ | {
            "DATABASE_URL": empty_database_url,
            "REDIS_URL": REDIS_URL,
            "RQ_QUEUE": queue,
            "SMTP_URL": smtp.url,
            "OUTBOX_LEASE_SECONDS": "3",
            "OUTBOX_BATCH": str(MESSAGES),  # one batch: the whole outbox leased at once
            "PEERMATCH_INSTANCE_DIR": str(tmp_path),
        }
        worker = subprocess.Popen(
            [_peermatch(), "worker"],
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            start_new_session=True,
        )
        try:
            deadline = time.monotonic() + 60
            while len(smtp.mailbox.received) < 10 and time.monotonic() < deadline:
                time.sleep(0.02)
            assert len(smtp.mailbox.received) >= 10, "the worker never started sending"
            horses = _kill_worker_and_horse(worker.pid)
            assert horses, "no work horse found to kill"
        finally:
            if worker.poll() is None:
                os.killpg(worker.pid, signal.SIGKILL)
            worker.wait(timeout=30)
        time.sleep(0.2)  # the server answers the message it was taking when the kill came
        at_kill = len(smtp.mailbox.received)
        left = _statuses(engine)
        assert at_kill < MESSAGES and left.get("sending", 0) >= MESSAGES - at_kill, left

        # A restart before the lease lapses sends none of the leased messages; after it,
        # the next worker takes them over.
        time.sleep(3.2)
        done = subprocess.run(
            [_peermatch(), "worker", "--burst"],
            env=env,
            capture_output=True,
            text=True,
            timeout=300,
        )
        assert done.returncode == 0, done.stdout + done.stderr
        received = Counter(smtp.mailbox.outbox_ids())
    with engine.connect() as conn:
        all_ids = set(conn.scalars(select(OutboxMessage.id)))
    final = _statuses(engine)
    engine.dispose()
    twice = {i: n for i, n in received.items() if n > 1}
    print(
        f"\noutbox fault: {MESSAGES} messages, {at_kill} received before the SIGKILL, "
        f"{sum(received.values())} deliveries in all, sent more than once: {twice}"
    )
    assert set(received) == all_ids  # every message arrived
    assert len(twice) <= 1 and all(n == 2 for n in twice.values())  # only the one in flight
    assert final == {"sent": MESSAGES}
