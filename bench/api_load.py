"""HTTP load on the API under gunicorn (2 workers) and PostgreSQL; prints its figures.

Seeds a generated program of 10,000 participants into a fresh PostgreSQL database, runs
and publishes a round (so match listings have content), starts gunicorn with 2 workers,
and drives it from a separate process with wrk at fixed concurrency: profile reads,
profile updates and match listings, each request as a different participant (bearer
tokens written for the bench), and the same run for GET /healthz as the ceiling (same
app, no database). Prints throughput, p50/p99 latency and errors per endpoint, and the
ratio of each endpoint's throughput to the ceiling.

Every endpoint, the ceiling included, is measured the same way: the same wrk settings
and Lua script, a warm-up run that is not counted, then the measured run. The server
runs as the Dockerfile runs it (2 sync workers, access log on). The database gets its
planner statistics after seeding (ANALYZE), as autovacuum would give a production one.
With --rounds N the endpoints are measured N times in turn; each ratio is taken against
the ceiling of its own round, and the medians are printed.

Needs wrk (Debian: `apt-get install wrk`) and the `postgres` and `server` extras.
Target (issue 7): profile reads >= 40% of the ceiling's throughput, p99 < 100 ms at 32
concurrent clients, no errors.

Usage::

    python bench/api_load.py [--mentees 8000 --mentors 2000] [--connections 32] [--seconds 15]
                             [--warmup 3] [--rounds 1]
"""

from __future__ import annotations

import argparse
import os
import re
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
import uuid
from datetime import timedelta
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from sqlalchemy import create_engine, insert, select, text  # noqa: E402
from sqlalchemy.engine import make_url  # noqa: E402

from api.adapters import migrate  # noqa: E402
from api.adapters.db import utcnow  # noqa: E402
from api.adapters.hashing import new_token  # noqa: E402
from api.adapters.models import Account, Participant, Token  # noqa: E402
from api.http import database as db  # noqa: E402
from api.http.app import create_app  # noqa: E402
from api.services import publishing, round_runs  # noqa: E402
from api.synthetic import program as synthetic  # noqa: E402

LUA = """
local tokens = {}
for line in io.lines(os.getenv("TOKENS_FILE")) do tokens[#tokens + 1] = line end
local method, path, body = os.getenv("METHOD"), os.getenv("PATH_"), os.getenv("BODY")
math.randomseed(os.time() + tonumber(tostring({}):sub(8), 16))
wrk.headers["Content-Type"] = "application/json"
request = function()
  wrk.headers["Authorization"] = "Bearer " .. tokens[math.random(#tokens)]
  if body == "" then body = nil end
  return wrk.format(method, path, nil, body)
end
"""


# As the Dockerfile and docker-compose.yml run the API (keep them in step).
SERVER_ARGS = ("--workers", "2", "--access-logfile", "-")


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def prepare(url: str, mentees: int, mentors: int, tokens_file: Path) -> int:
    migrate.upgrade(url)
    # The published round's messages stay in the outbox: sending them (a thread of this
    # process by default) would compete with the server for the cores while it is measured.
    app = create_app({"DATABASE_URL": url, "REDIS_URL": None, "OUTBOX_INLINE": "off"})
    with app.app_context():
        session = db.session()
        program_id = synthetic.generate(session, mentees, mentors)
        admin = session.scalar(select(Account).limit(1))
        assert admin is not None
        admin.is_admin = True
        session.commit()
        r = round_runs.start(session, admin, program_id, {}, max_round_size=mentees)
        done = round_runs.execute(session, r.id)
        assert done is not None and done.status == "proposed", done and done.error
        publishing.publish(session, admin, program_id, done.id, None)
        admin.is_admin = False
        account_ids = session.scalars(
            select(Participant.account_id).where(Participant.program_id == program_id)
        ).all()
        secrets, rows = [], []
        expires = utcnow() + timedelta(hours=6)
        for account_id in account_ids:
            secret, digest = new_token()
            secrets.append(secret)
            rows.append({"account_id": account_id, "token_hash": digest, "expires_at": expires})
        session.execute(insert(Token), rows)
        session.commit()
        tokens_file.write_text("\n".join(secrets) + "\n")
    engine = db.database(app).engine
    with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
        conn.execute(text("ANALYZE"))  # planner statistics, as autovacuum would gather
    engine.dispose()
    return program_id


def wrk(
    port: int,
    method: str,
    path: str,
    body: str,
    tokens: Path,
    script: Path,
    connections: int,
    seconds: int,
    warmup: int,
) -> dict[str, Any]:
    env = os.environ | {
        "TOKENS_FILE": str(tokens),
        "METHOD": method,
        "PATH_": path,
        "BODY": body,
    }

    def run(duration: int) -> str:
        return subprocess.run(
            [
                "wrk",
                "-t2",
                f"-c{connections}",
                f"-d{duration}s",
                "--latency",
                "-s",
                str(script),
                f"http://127.0.0.1:{port}{path}",
            ],
            env=env,
            capture_output=True,
            text=True,
            check=True,
        ).stdout

    if warmup > 0:
        run(warmup)  # same settings, not counted: connections, caches, prepared statements
    out = run(seconds)

    def latency(pct: str) -> float:
        m = re.search(rf"^\s+{pct}%\s+([\d.]+)(us|ms|s)\s*$", out, re.M)
        if not m:
            return float("nan")
        value, unit = float(m.group(1)), m.group(2)
        return value / 1000 if unit == "us" else value * 1000 if unit == "s" else value

    rps = float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1))  # type: ignore[union-attr]
    non2xx = re.search(r"Non-2xx or 3xx responses:\s+(\d+)", out)
    socket_errors = re.search(r"Socket errors:.*", out)
    return {
        "rps": rps,
        "p50": latency("50"),
        "p99": latency("99"),
        # Failed requests: non-2xx answers and socket errors (connect, read, write, timeout).
        "errors": (int(non2xx.group(1)) if non2xx else 0)
        + (sum(map(int, re.findall(r"\d+", socket_errors.group(0)))) if socket_errors else 0),
        "socket": socket_errors.group(0) if socket_errors else "",
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--mentees", type=int, default=8000)
    parser.add_argument("--mentors", type=int, default=2000)
    parser.add_argument("--connections", type=int, default=32)
    parser.add_argument("--seconds", type=int, default=15)
    parser.add_argument("--warmup", type=int, default=3, help="seconds before each run")
    parser.add_argument("--rounds", type=int, default=1, help="measure everything N times")
    args = parser.parse_args()
    if shutil.which("wrk") is None:
        sys.exit("wrk is not installed (Debian: apt-get install wrk)")
    base = make_url(
        os.environ.get("PG_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/postgres")
    )
    name = f"peermatch_load_{uuid.uuid4().hex[:8]}"
    admin = create_engine(base, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    url = base.set(database=name).render_as_string(hide_password=False)
    server = None
    try:
        with tempfile.TemporaryDirectory() as tmp:
            tokens, script = Path(tmp) / "tokens.txt", Path(tmp) / "load.lua"
            script.write_text(LUA)
            t = time.perf_counter()
            program_id = prepare(url, args.mentees, args.mentors, tokens)
            print(
                f"seeded {args.mentees + args.mentors} participants, a published round and "
                f"tokens in {time.perf_counter() - t:.1f} s"
            )
            port = _free_port()
            env = os.environ | {
                "DATABASE_URL": url,
                "REDIS_URL": "",
                "RATELIMIT_ENABLED": "0",
                "OUTBOX_INLINE": "off",  # workers deliver in production (REDIS_URL)
            }
            # The Dockerfile's server command (workers, access log), on a local port; the
            # access log goes to stdout there and is discarded here.
            server = subprocess.Popen(
                [
                    sys.executable,
                    "-m",
                    "gunicorn",
                    *SERVER_ARGS,
                    "--bind",
                    f"127.0.0.1:{port}",
                    "--log-level",
                    "warning",
                    "api.entrypoints.wsgi:app",
                ],
                env=env,
                cwd=ROOT,
                stdout=subprocess.DEVNULL,
            )
            for _ in range(100):
                try:
                    urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz", timeout=1)
                    break
                except OSError:
                    time.sleep(0.2)
            profile = f"/api/v1/programs/{program_id}/profile"
            scenarios = [
                ("trivial GET /healthz (ceiling)", "GET", "/healthz", ""),
                ("profile read", "GET", profile, ""),
                ("profile update (PATCH bio)", "PATCH", profile, '{"bio": "load test bio"}'),
                ("match listing GET /me/matches", "GET", "/api/v1/me/matches", ""),
            ]
            runs: list[list[dict[str, Any]]] = [[] for _ in scenarios]
            for _ in range(max(1, args.rounds)):
                for i, (_, method, path, body) in enumerate(scenarios):
                    r = wrk(
                        port,
                        method,
                        path,
                        body,
                        tokens,
                        script,
                        args.connections,
                        args.seconds,
                        args.warmup,
                    )
                    runs[i].append(r)
                for i in range(len(scenarios)):
                    # Against the ceiling of the same round (the machine may change meanwhile).
                    runs[i][-1]["ratio"] = runs[i][-1]["rps"] / runs[0][-1]["rps"]
            results = [
                (
                    label,
                    {
                        key: statistics.median(r[key] for r in rs)
                        for key in ("rps", "p50", "p99", "ratio")
                    }
                    | {
                        "errors": sum(r["errors"] for r in rs),
                        "socket": " ".join(r["socket"] for r in rs if r["socket"]),
                    },
                )
                for (label, *_), rs in zip(scenarios, runs, strict=True)
            ]
            rounds = max(1, args.rounds)
            print(
                f"\napi load: gunicorn {' '.join(SERVER_ARGS)} (sync workers), PostgreSQL, "
                f"wrk 2 threads, {args.connections} connections, {args.warmup} s warm-up + "
                f"{args.seconds} s each"
                + (f"; medians of {rounds} rounds, errors summed" if rounds > 1 else "")
            )
            print(
                f"{'endpoint':34} {'req/s':>8} {'of ceiling':>10} {'p50 ms':>8} "
                f"{'p99 ms':>8} {'errors':>7}"
            )
            for label, r in results:
                print(
                    f"{label:34} {r['rps']:8.0f} {r['ratio']:10.0%} {r['p50']:8.1f} "
                    f"{r['p99']:8.1f} {r['errors']:7d} {r['socket']}"
                )
            read = results[1][1]
            met = read["ratio"] >= 0.4 and read["p99"] < 100 and read["errors"] == 0
            print(
                f"target (profile reads >= 40% of ceiling, p99 < 100 ms, no errors): "
                f"{'met' if met else 'MISSED'}"
            )
    finally:
        if server is not None:
            server.send_signal(signal.SIGTERM)
            server.wait(timeout=30)
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


if __name__ == "__main__":
    main()
