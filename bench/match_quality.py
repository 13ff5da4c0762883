"""Match quality benchmark: what each objective gives a coordinator (prints its figures).

For the synthetic cohorts 1,000 x 250 and 2,000 x 500 (``api.synthetic.cohort``) and the
demo program (``seed_data/``, loaded into a temporary SQLite database and pooled as a
round would pool it), solves the same problem under every objective (and waiting priority, with the
service's 14-day waiting classes) and prints, per run:

* ``matched``: mentees matched, of the pool;
* ``total`` / ``mean`` / ``min``: pair scores of the matching (reports keep the raw score);
* ``Δtotal``: total against the best-fit optimum at the same participation: the
  ``max_participation/none`` total (the best total among maximum matchings);
* ``no need``: pairs in which the mentor offers none of the mentee's needs;
* ``blocking``: blocking pairs (a mentee and a mentor who would both rather have each
  other than what they got);
* ``mono`` / ``multi``: match rate of mentees who speak only the cohort's most common
  language vs those who speak it and more (so the comparison isolates how the criteria
  treat speaking more languages from how many partners a rarer language allows);
* ``solve``: seconds of ``Stats.solve_seconds`` (median of ``--repeat`` runs).

Usage::

    python bench/match_quality.py              # both cohorts and the demo
    python bench/match_quality.py --quick      # 1,000 x 250 and the demo
    python bench/match_quality.py --repeat 3
"""

from __future__ import annotations

import argparse
import dataclasses
import statistics
import sys
import tempfile
from collections import Counter
from collections.abc import Iterable
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

import matcher  # noqa: E402
from api.synthetic.cohort import cohort  # noqa: E402

#: (objective, waiting priority) runs; the service's default first.
RUNS = (
    ("max_participation", "tie_break"),
    ("max_participation", "strong"),
    ("max_participation", "none"),
    ("fair", "tie_break"),
    ("fair", "strong"),
    ("max_score", "tie_break"),
    ("stable", "tie_break"),
)
#: The service's default waiting class (ProgramSettings.waiting_class_days).
WAITING_CLASS_DAYS = 14.0


def demo_problem() -> matcher.Problem:
    """The demo program's pool, as its first round would see it."""
    from sqlalchemy import select

    from api.adapters import migrate
    from api.adapters.db import utcnow
    from api.adapters.models import Program
    from api.domain.settings import ProgramSettings
    from api.entrypoints import seeding
    from api.http import database
    from api.http.app import create_app
    from api.services import pool

    with tempfile.TemporaryDirectory() as tmp:
        url = f"sqlite:///{tmp}/demo.db"
        app = create_app({"DATABASE_URL": url, "REDIS_URL": None, "TESTING": True})
        with app.app_context():
            migrate.upgrade(url)
            session = database.session()
            seeding.seed(session, seeding.resolve_dir(None))
            program = session.scalar(
                select(Program).where(Program.join_code == seeding.DEMO_JOIN_CODE)
            )
            assert program is not None
            settings = ProgramSettings.from_stored(program.settings)
            problem = pool.build_pool(session, program, settings, utcnow()).problem
            session.close()
            database.database(app).engine.dispose()
    return problem


def _needs_covered(mentee: matcher.Mentee, mentor: matcher.Mentor) -> bool:
    offered = {tag for tag, _ in mentor.strengths}
    return any(tag in offered for tag, _ in mentee.needs)


def measure(
    problem: matcher.Problem, objective: str, priority: str, repeat: int
) -> dict[str, object]:
    settings = dataclasses.replace(problem.settings, objective=objective, waiting_priority=priority)
    run = dataclasses.replace(problem, settings=settings)
    times: list[float] = []
    result = None
    for _ in range(repeat):
        result = matcher.solve(run)
        times.append(result.stats.solve_seconds)
    assert result is not None
    mentees = {m.id: m for m in problem.mentees}
    mentors = {m.id: m for m in problem.mentors}
    matched = {p.mentee_id for p in result.pairs}
    spoken = Counter(lang for m in problem.mentees for lang in m.languages)
    common = spoken.most_common(1)[0][0] if spoken else ""
    mono = [m for m in problem.mentees if set(m.languages) == {common}]
    multi = [m for m in problem.mentees if common in m.languages and len(m.languages) > 1]
    stats = result.stats
    return {
        "objective": objective
        if objective in ("max_score", "stable")
        else (f"{objective}/{priority}"),
        "pool": len(problem.mentees),
        "matched": stats.matched_count,
        "total": stats.total_score or 0.0,
        "mean": stats.mean_score or 0.0,
        "min": stats.min_score or 0.0,
        "no_need": sum(
            1
            for p in result.pairs
            if not _needs_covered(mentees[p.mentee_id], mentors[p.mentor_id])
        ),
        "blocking": stats.blocking_pairs,
        "mono": _rate(mono, matched),
        "multi": _rate(multi, matched),
        "solve": statistics.median(times),
    }


def _rate(people: Iterable[matcher.Mentee], matched: set[int]) -> float:
    group = list(people)
    return sum(1 for m in group if m.id in matched) / len(group) if group else float("nan")


def report(name: str, problem: matcher.Problem, repeat: int) -> None:
    rows = [measure(problem, objective, priority, repeat) for objective, priority in RUNS]
    best = {r["matched"]: r["total"] for r in rows if r["objective"] == "max_participation/none"}
    print(f"\n== {name}: {len(problem.mentees)} mentees x {len(problem.mentors)} mentors")
    header = (
        f"{'objective':<28} {'matched':>9} {'total':>9} {'Δtotal':>7} {'mean':>6} {'min':>6} "
        f"{'no need':>7} {'blocking':>8} {'mono':>6} {'multi':>6} {'solve':>7}"
    )
    print(header)
    print("-" * len(header))
    for r in rows:
        ref = best.get(r["matched"])
        delta = f"{100 * (float(r['total']) / ref - 1):+.1f}%" if ref else ""
        print(
            f"{r['objective']:<28} {r['matched']:>4}/{r['pool']:<4} {r['total']:>9.2f} "
            f"{delta:>7} {r['mean']:>6.3f} {r['min']:>6.3f} {r['no_need']:>7} "
            f"{r['blocking']:>8} {100 * float(r['mono']):>5.1f}% {100 * float(r['multi']):>5.1f}% "
            f"{r['solve']:>6.2f}s"
        )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--quick", action="store_true", help="1,000 x 250 and the demo only")
    parser.add_argument("--repeat", type=int, default=3, help="solves per objective (median)")
    args = parser.parse_args()
    sizes = [(1000, 250)] if args.quick else [(1000, 250), (2000, 500)]
    for n, m in sizes:
        problem = cohort(n, m, seed=0)
        settings = dataclasses.replace(problem.settings, waiting_class_days=WAITING_CLASS_DAYS)
        report(f"synthetic {n} x {m}", dataclasses.replace(problem, settings=settings), args.repeat)
    report("demo program (seed_data/)", demo_problem(), args.repeat)


if __name__ == "__main__":
    main()
