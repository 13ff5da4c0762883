"""HTTP load on the API under gunicorn (2 workers) and PostgreSQL; prints its figures.

Seeds a generated program of 10,000 participants into a fresh PostgreSQL database, runs
and publishes a round (so match listings have content), starts gunicorn with 2 workers,
and drives it from a separate process with wrk at fixed concurrency: profile reads,
profile updates and match listings, each request as a different participant (bearer
tokens written for the bench), and the same run for GET /healthz as the ceiling (same
app, no database). Prints throughput, p50/p99 latency and errors per endpoint, and the
ratio of each endpoint's throughput to the ceiling.

Needs wrk (Debian: `apt-get install wrk`) and the `postgres` and `server` extras.
Target (issue 7): profile reads >= 40% of the ceiling's throughput, p99 < 100 ms at 32
concurrent clients, no errors.

Usage::

    python bench/api_load.py [--mentees 8000 --mentors 2000] [--connections 32] [--seconds 15]
"""

from __future__ import annotations

import argparse
import os
import re
import shutil
import signal
import socket
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

from api import create_app, db, migrate, synthetic  # noqa: E402
from api.db import utcnow  # noqa: E402
from api.models import Account, Participant, Token  # noqa: E402
from api.security import new_token  # noqa: E402
from api.services import rounds  # noqa: E402

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


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def prepare(url: str, mentees: int, mentors: int, tokens_file: Path) -> int:
    migrate.upgrade(url)
    app = create_app({"DATABASE_URL": url, "REDIS_URL": None})
    with app.app_context():
        session = db.session()
        program_id = synthetic.generate(session, mentees, mentors)
        admin = session.scalar(select(Account).limit(1))
        assert admin is not None
        admin.is_admin = True
        session.commit()
        r = rounds.start(session, admin, program_id, {})
        done = rounds.execute(session, r.id)
        assert done is not None and done.status == "proposed", done and done.error
        rounds.publish(session, admin, program_id, done.id, None)
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
    db.database(app).engine.dispose()
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
) -> dict[str, Any]:
    env = os.environ | {
        "TOKENS_FILE": str(tokens),
        "METHOD": method,
        "PATH_": path,
        "BODY": body,
    }
    out = subprocess.run(
        [
            "wrk",
            "-t2",
            f"-c{connections}",
            f"-d{seconds}s",
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
        "errors": int(non2xx.group(1)) if non2xx else 0,
        "socket": socket_errors.group(0) if socket_errors else "",
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--mentees", type=int, default=8000)
    parser.add_argument("--mentors", type=int, default=2000)
    parser.add_argument("--connections", type=int, default=32)
    parser.add_argument("--seconds", type=int, default=15)
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
            env = os.environ | {"DATABASE_URL": url, "REDIS_URL": "", "RATELIMIT_ENABLED": "0"}
            server = subprocess.Popen(
                [
                    sys.executable,
                    "-m",
                    "gunicorn",
                    "--workers",
                    "2",
                    "--bind",
                    f"127.0.0.1:{port}",
                    "--log-level",
                    "warning",
                    "api:create_app()",
                ],
                env=env,
                cwd=ROOT,
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
            results = []
            for label, method, path, body in scenarios:
                results.append(
                    (
                        label,
                        wrk(
                            port, method, path, body, tokens, script, args.connections, args.seconds
                        ),
                    )
                )
            ceiling = results[0][1]["rps"]
            print(
                f"\napi load: gunicorn 2 workers, PostgreSQL, wrk 2 threads, "
                f"{args.connections} connections, {args.seconds} s each"
            )
            print(
                f"{'endpoint':34} {'req/s':>8} {'of ceiling':>10} {'p50 ms':>8} "
                f"{'p99 ms':>8} {'errors':>7}"
            )
            for label, r in results:
                print(
                    f"{label:34} {r['rps']:8.0f} {r['rps'] / ceiling:10.0%} {r['p50']:8.1f} "
                    f"{r['p99']:8.1f} {r['errors']:7d} {r['socket']}"
                )
            read = results[1][1]
            met = read["rps"] >= 0.4 * ceiling and read["p99"] < 100 and read["errors"] == 0
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
