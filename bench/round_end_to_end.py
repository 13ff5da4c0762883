"""A matching round through the service layer on SQLite and PostgreSQL (prints figures).

Seeds a generated program (default 1,000 mentees and 250 mentors) into a fresh database
of each backend, then runs a round the way the API does (load rows → matcher → persist
pairs) and publishes it (staleness checks → match rows), each several times, and prints
the median of each phase. Baselines from the same run: the matcher alone on the same
problem (what the service adds around it), and a bare bulk insert of as many match rows
as the publish writes (what the publish adds around the writing).

Targets (this 2-core machine, PostgreSQL): round under 3 s, publish under 2 s.

Usage::

    python bench/round_end_to_end.py
    python bench/round_end_to_end.py --mentees 500 --mentors 125 --repeat 5 --backends sqlite
    PG_URL=postgresql+psycopg://postgres@127.0.0.1:5432/postgres python bench/round_end_to_end.py
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
import time
import uuid
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from sqlalchemy import create_engine, delete, insert, select, text, update  # noqa: E402
from sqlalchemy.engine import make_url  # noqa: E402

import matcher  # noqa: E402
from api.adapters import migrate  # noqa: E402
from api.adapters.db import utcnow  # noqa: E402
from api.adapters.models import (  # noqa: E402
    Account,
    Match,
    Program,
    Round,
)
from api.domain.settings import ProgramSettings  # noqa: E402
from api.http import database as db  # noqa: E402
from api.http.app import create_app  # noqa: E402
from api.services import pool as pools  # noqa: E402
from api.services import publishing, round_runs  # noqa: E402
from api.synthetic import program as synthetic  # noqa: E402


def _median(values: list[float]) -> float:
    return statistics.median(values) if values else float("nan")


def bench_backend(name: str, url: str, mentees: int, mentors: int, repeat: int) -> dict[str, Any]:
    migrate.upgrade(url)
    # The publish writes its messages to the outbox in its own transaction (counted);
    # sending them is bench/notifications.py's, not a thread racing this one's resets.
    app = create_app({"DATABASE_URL": url, "REDIS_URL": None, "OUTBOX_INLINE": "off"})
    out: dict[str, Any] = {"backend": name}
    with app.app_context():
        session = db.session()
        t = time.perf_counter()
        program_id = synthetic.generate(session, mentees, mentors)
        out["seed"] = time.perf_counter() - t
        program = session.get(Program, program_id)
        assert program is not None
        parameters = ProgramSettings.from_stored(program.settings)

        round_times, phases, bare = [], [], []
        round_id = 0
        for k in range(repeat):
            t = time.perf_counter()
            queued = round_runs.queue(session, program, parameters, created_by=None)
            done = round_runs.execute(session, queued.id)
            round_times.append(time.perf_counter() - t)
            assert done is not None and done.status == "proposed", done and done.error
            phases.append(done.stats["phase_seconds"])
            round_id = done.id
            if k < repeat - 1:
                session.execute(
                    update(Round).where(Round.id == round_id).values(status="discarded")
                )
                session.commit()
            # Baseline: the matcher alone on the same problem.
            pool = pools.build_pool(session, program, parameters, utcnow())
            t = time.perf_counter()
            matcher.solve(pool.problem)
            bare.append(time.perf_counter() - t)
        out["round"] = _median(round_times)
        for phase in ("load", "match", "persist"):
            out[f"round.{phase}"] = _median([p[phase] for p in phases])
        out["matcher_alone"] = _median(bare)
        out["pairs"] = done.stats["matched_count"]

        publish_times, insert_times = [], []
        account = session.scalar(select(Account).limit(1))
        assert account is not None
        account.is_admin = True
        session.commit()
        for _ in range(repeat):
            t = time.perf_counter()
            published = publishing.publish(session, account, program_id, round_id, None)
            publish_times.append(time.perf_counter() - t)
            assert published.matches_created == out["pairs"]
            rows = [
                {
                    k: getattr(m, k)
                    for k in (
                        "program_id",
                        "mentee_id",
                        "mentor_id",
                        "score",
                        "breakdown",
                        "status",
                        "proposed_at",
                        "expires_at",
                    )
                }
                for m in session.scalars(select(Match).where(Match.round_id == round_id))
            ]
            # Reset for the next repeat, then time the baseline: the same rows, bare insert.
            session.execute(delete(Match).where(Match.round_id == round_id))
            session.execute(update(Round).where(Round.id == round_id).values(status="proposed"))
            session.commit()
            t = time.perf_counter()
            session.execute(insert(Match), [r | {"round_id": round_id} for r in rows])
            session.commit()
            insert_times.append(time.perf_counter() - t)
            session.execute(delete(Match).where(Match.round_id == round_id))
            session.commit()
        out["publish"] = _median(publish_times)
        out["bare_insert"] = _median(insert_times)
    db.database(app).engine.dispose()
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--mentees", type=int, default=1000)
    parser.add_argument("--mentors", type=int, default=250)
    parser.add_argument("--repeat", type=int, default=3)
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
        f"round end to end: {args.mentees} mentees x {args.mentors} mentors, "
        f"median of {args.repeat} (seconds)"
    )
    header = (
        "backend",
        "seed",
        "round",
        "load",
        "match",
        "persist",
        "matcher",
        "overhead",
        "publish",
        "bare ins.",
        "ratio",
        "pairs",
    )
    print(" ".join(f"{h:>10}" for h in header))
    for r in results:
        cells = [
            r["backend"],
            f"{r['seed']:.2f}",
            f"{r['round']:.3f}",
            f"{r['round.load']:.3f}",
            f"{r['round.match']:.3f}",
            f"{r['round.persist']:.3f}",
            f"{r['matcher_alone']:.3f}",
            f"{r['round'] / r['matcher_alone']:.1f}x",
            f"{r['publish']:.3f}",
            f"{r['bare_insert']:.3f}",
            f"{r['publish'] / r['bare_insert']:.1f}x",
            str(r["pairs"]),
        ]
        print(" ".join(f"{c:>10}" for c in cells))
    pg = next((r for r in results if r["backend"] == "postgresql"), None)
    if pg:
        print(
            f"targets on PostgreSQL: round {pg['round']:.2f} s (< 3 s: "
            f"{'met' if pg['round'] < 3 else 'MISSED'}), publish {pg['publish']:.2f} s "
            f"(< 2 s: {'met' if pg['publish'] < 2 else 'MISSED'})"
        )


if __name__ == "__main__":
    main()
