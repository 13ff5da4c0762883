"""Server time of the console's round review page for a 1,000 x 250 round (prints figures).

Generates a program (api/synthetic), runs a round through the services, logs in to the
console and requests the review page in-process (Flask's test client: the time is the
server's, with no network or browser), several times; prints the median and the 90th
percentile of each variant. Baselines from the same run: the API's JSON of the same
round (its first page of pairs, and its report), the reads the review page is built on.

Target: the review page under 300 ms (median) on this 2-core machine.

Usage::

    python bench/console_review.py
    python bench/console_review.py --mentees 1000 --mentors 250 --repeat 15
    python bench/console_review.py --database postgresql+psycopg://postgres@127.0.0.1:5432/db
"""

from __future__ import annotations

import argparse
import re
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from api.adapters import migrate  # noqa: E402
from api.http import database as db  # noqa: E402
from api.http.app import create_app  # noqa: E402
from api.services import accounts, round_runs  # noqa: E402
from api.synthetic import program as synthetic  # noqa: E402

EMAIL, PASSWORD = "bench-coordinator@example.org", "bench-password-123"


def _timed(client, path: str, repeat: int, headers: dict[str, str] | None = None) -> list[float]:
    client.get(path, headers=headers)  # warm: templates compiled, statements cached
    out = []
    for _ in range(repeat):
        started = time.perf_counter()
        r = client.get(path, headers=headers)
        out.append((time.perf_counter() - started) * 1000)
        assert r.status_code == 200, (path, r.status_code, r.text[:500])
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--mentees", type=int, default=1000)
    parser.add_argument("--mentors", type=int, default=250)
    parser.add_argument("--repeat", type=int, default=15)
    parser.add_argument("--database", default=None, help="default: a fresh SQLite file")
    args = parser.parse_args()
    tmp = tempfile.TemporaryDirectory()
    url = args.database or f"sqlite:///{Path(tmp.name) / 'bench.sqlite3'}"
    migrate.upgrade(url)
    app = create_app(
        {
            "DATABASE_URL": url,
            "REDIS_URL": None,
            "RATELIMIT_ENABLED": False,
            "CONSOLE_SECURE_COOKIE": False,
            "OUTBOX_INLINE": "off",
        }
    )
    with app.app_context():
        session = db.session()
        coordinator = accounts.create_admin(
            session, email=EMAIL, password=PASSWORD, display_name="Bench"
        )
        program_id = synthetic.generate(session, args.mentees, args.mentors)
        started = time.perf_counter()
        queued = round_runs.start(session, coordinator, program_id, {}, max_round_size=10**6)
        done = round_runs.execute(session, queued.id)
        assert done is not None and done.stats
        round_seconds = time.perf_counter() - started
        stats = dict(done.stats)
        round_id = done.id
    client = app.test_client()
    login = client.get("/console/login").text
    csrf = re.search(r'name="csrf_token" value="([^"]+)"', login).group(1)
    r = client.post(
        "/console/login", data={"email": EMAIL, "password": PASSWORD, "csrf_token": csrf}
    )
    assert r.status_code == 303, r.text
    token = client.post("/api/v1/tokens", json={"email": EMAIL, "password": PASSWORD}).json["token"]
    bearer = {"Authorization": f"Bearer {token}"}
    base = f"/console/programs/{program_id}/rounds/{round_id}"
    api = f"/api/v1/programs/{program_id}/rounds/{round_id}"
    print(
        f"{args.mentees} mentees x {args.mentors} mentors on {url.split(':')[0]}: round "
        f"{round_id} in {round_seconds:.1f} s, {stats['matched_count']} pairs, "
        f"{len(done.unmatched or [])} unmatched"
    )
    rows = [
        ("console review page (best first)", base, None),
        ("console review, sorted by mentor", f"{base}?sort=mentor", None),
        ("console review, last page", f"{base}?sort=score&offset=700", None),
        ("baseline: API pairs, first 50 (JSON)", f"{api}/pairs?limit=50", bearer),
        ("baseline: API report (JSON)", f"{api}/report", bearer),
    ]
    print(f"{'request':42} {'median ms':>10} {'p90 ms':>8}   (n={args.repeat})")
    medians = {}
    for label, path, headers in rows:
        times = sorted(_timed(client, path, args.repeat, headers))
        medians[label] = statistics.median(times)
        p90 = times[min(len(times) - 1, int(0.9 * len(times)))]
        print(f"{label:42} {medians[label]:10.1f} {p90:8.1f}")
    page = medians["console review page (best first)"]
    verdict = "meets" if page < 300 else "MISSES"
    print(f"review page median {page:.1f} ms: {verdict} the 300 ms target")
    tmp.cleanup()


if __name__ == "__main__":
    main()
