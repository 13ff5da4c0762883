"""The notification outbox under load (prints figures, compares in the same run).

1. Publish time of a generated 1,000 x 250 round with and without the outbox writes
   (the listener uninstalled), alternating runs; medians and their ratio.
   Target: the outbox adds at most 30 %.
2. Delivery throughput of one sender (the loop the worker's job runs: lease a batch,
   render each message, mint its links, send, settle) to a local SMTP server in its
   own process (aiosmtpd's sink on 127.0.0.1). Target: at least 50 messages a second.

Usage::

    python bench/notifications.py                       # SQLite and PostgreSQL
    python bench/notifications.py --backends sqlite --repeat 3
    PG_URL=postgresql+psycopg://postgres@127.0.0.1:5432/postgres python bench/notifications.py
"""

from __future__ import annotations

import argparse
import os
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from sqlalchemy import create_engine, delete, func, select, text, update  # noqa: E402
from sqlalchemy.engine import make_url  # noqa: E402

from api.adapters import migrate  # noqa: E402
from api.adapters.models import (  # noqa: E402
    Account,
    LinkToken,
    Match,
    OutboxMessage,
    Program,
    Round,
)
from api.domain.settings import ProgramSettings  # noqa: E402
from api.http import database as db  # noqa: E402
from api.http.app import create_app  # noqa: E402
from api.services import delivery, outbox, publishing, round_runs  # noqa: E402
from api.synthetic import program as synthetic  # noqa: E402


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _smtp_sink() -> tuple[subprocess.Popen[bytes], int]:
    port = _free_port()
    server = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "aiosmtpd",
            "-n",
            "-c",
            "aiosmtpd.handlers.Sink",
            "-l",
            f"127.0.0.1:{port}",
        ],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    for _ in range(100):
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.2):
                return server, port
        except OSError:
            time.sleep(0.05)
    server.kill()
    raise RuntimeError("the SMTP sink did not start")


def _reset(session: Any, round_id: int) -> None:
    session.execute(delete(OutboxMessage))
    session.execute(delete(LinkToken))
    session.execute(delete(Match).where(Match.round_id == round_id))
    session.execute(update(Round).where(Round.id == round_id).values(status="proposed"))
    session.commit()


def bench_backend(name: str, url: str, mentees: int, mentors: int, repeat: int) -> dict[str, Any]:
    migrate.upgrade(url)
    outdir = tempfile.mkdtemp(prefix="peermatch-bench-outbox-")
    app = create_app(
        {"DATABASE_URL": url, "REDIS_URL": None, "OUTBOX_DIR": outdir, "OUTBOX_INLINE": "sync"}
    )
    out: dict[str, Any] = {"backend": name}
    with app.app_context():
        session = db.session()
        program_id = synthetic.generate(session, mentees, mentors)
        account = session.scalar(select(Account).limit(1))
        assert account is not None
        account.is_admin = True
        session.commit()
        program = session.get(Program, program_id)
        assert program is not None
        queued = round_runs.queue(
            session, program, ProgramSettings.from_stored(program.settings), created_by=None
        )
        done = round_runs.execute(session, queued.id)
        assert done is not None and done.status == "proposed", done and done.error
        round_id = done.id
        times: dict[bool, list[float]] = {True: [], False: []}
        messages = 0
        # Alternate: with, without, with, without ... (one warm-up of each first).
        for k in range(2 * (repeat + 1)):
            with_outbox = k % 2 == 0
            (outbox.install if with_outbox else outbox.uninstall)()
            t = time.perf_counter()
            published = publishing.publish(session, account, program_id, round_id, None)
            took = time.perf_counter() - t
            if k >= 2:
                times[with_outbox].append(took)
            if with_outbox:
                messages = session.scalar(select(func.count()).select_from(OutboxMessage)) or 0
            pairs = published.matches_created
            outbox.take_committed(session)  # nobody delivers these
            _reset(session, round_id)
        outbox.install()
        out["pairs"] = pairs
        out["messages"] = messages
        out["with"] = statistics.median(times[True])
        out["without"] = statistics.median(times[False])

        # Delivery: publish once more, then one sender delivers every message.
        publishing.publish(session, account, program_id, round_id, None)
        outbox.take_committed(session)
        session.commit()  # as a request's session ends before delivery starts
        server, port = _smtp_sink()
        try:
            config = dict(app.config) | {"SMTP_URL": f"smtp://127.0.0.1:{port}"}
            settings = delivery.Delivery.from_config(config)
            t = time.perf_counter()
            report = delivery.deliver_due(db.database(app).session_factory, settings)
            took = time.perf_counter() - t
        finally:
            server.terminate()
            server.wait(timeout=10)
        assert report.sent == messages, report
        out["sent"] = report.sent
        out["delivery_seconds"] = took
        out["per_second"] = report.sent / took
    db.database(app).engine.dispose()
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--mentees", type=int, default=1000)
    parser.add_argument("--mentors", type=int, default=250)
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--backends", default="sqlite,postgresql")
    args = parser.parse_args()
    results = []
    backends = args.backends.split(",")
    if "sqlite" in backends:
        with tempfile.TemporaryDirectory() as tmp:
            url = f"sqlite:///{tmp}/bench.sqlite3"
            results.append(bench_backend("sqlite", url, args.mentees, args.mentors, args.repeat))
    if "postgresql" in backends:
        base = make_url(
            os.environ.get("PG_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/postgres")
        )
        name = f"peermatch_bench_{uuid.uuid4().hex[:8]}"
        admin = create_engine(base, isolation_level="AUTOCOMMIT")
        with admin.connect() as conn:
            conn.execute(text(f'CREATE DATABASE "{name}"'))
        try:
            url = base.set(database=name).render_as_string(hide_password=False)
            results.append(
                bench_backend("postgresql", url, args.mentees, args.mentors, args.repeat)
            )
        finally:
            with admin.connect() as conn:
                conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
            admin.dispose()

    print(
        f"notifications: {args.mentees} mentees x {args.mentors} mentors, publish median of "
        f"{args.repeat} alternating runs each"
    )
    header = ("backend", "pairs", "messages", "publish", "no outbox", "added", "sent", "msg/s")
    print(" ".join(f"{h:>10}" for h in header))
    for r in results:
        added = r["with"] / r["without"] - 1
        cells = [
            r["backend"],
            str(r["pairs"]),
            str(r["messages"]),
            f"{r['with']:.3f}",
            f"{r['without']:.3f}",
            f"{100 * added:+.0f}%",
            str(r["sent"]),
            f"{r['per_second']:.0f}",
        ]
        print(" ".join(f"{c:>10}" for c in cells))
    for r in results:
        added = r["with"] / r["without"] - 1
        print(
            f"targets on {r['backend']}: outbox adds {100 * added:.0f} % to the publish "
            f"(<= 30 %: {'met' if added <= 0.30 else 'MISSED'}); one sender delivers "
            f"{r['per_second']:.0f} messages/s (>= 50: "
            f"{'met' if r['per_second'] >= 50 else 'MISSED'})"
        )


if __name__ == "__main__":
    main()
