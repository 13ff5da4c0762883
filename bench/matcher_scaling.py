"""Matcher scaling benchmark: prints its figures (not a timed test).

Generates cohorts of realistic shape (skewed topic and language frequencies,
3-6 time zones with evening/lunch/weekend windows on half-hour boundaries,
capacities 1-5 with some current load, a management hierarchy, optional
cultural tags, a pool of people who waited) and solves each size with each
objective, one fresh subprocess per run so the peak memory is that run's.

Per size and objective it prints the median over the repeats of:

* ``scoring``: building the feasibility mask and the score matrix;
* ``solve``: building the pool, the exact solve (and for ``fair`` the
  bottleneck search), i.e. ``Stats.solve_seconds``;
* ``total``: ``solve()`` end to end (validation, pins, reasons, statistics);
* ``peak``: peak resident memory of the run (ru_maxrss, measured before the
  baseline below is run);
* ``bare LSA``: a bare ``linear_sum_assignment`` on the same slot-expanded
  ``max_participation`` matrix, timed in the same process after our run;
* ``ratio``: ``solve / bare LSA`` (the target is < 1.5);
* ``bare sp``: a bare ``min_weight_full_bipartite_matching`` on the same
  problem's sparse graph (what ``solve`` calls when under 50% of the pairs are
  feasible), so ``solve / bare sp`` is the overhead of our own machinery
  (pool, encoding, fair threshold search, extraction) over the raw solver;
* ``solver``: the exact solver ``solve`` used.

Usage::

    python bench/matcher_scaling.py                 # all sizes, both objectives
    python bench/matcher_scaling.py --quick         # 1,000 x 250 only
    python bench/matcher_scaling.py --sizes 1000x250,5000x1250 --repeat 3
    python bench/matcher_scaling.py --scale         # the certified sparse path

``--scale`` runs the large-problem path (``matcher.sparse``: chunked scoring,
candidates, duals, pricing) at 10,000 x 2,500, 50,000 x 12,500 and
100,000 x 25,000 (or ``--sizes``) for every objective, once each in a fresh
process, and prints per run: the total time against the target (20 s, 2 min,
5 min), peak memory against 8 GB, pricing passes, the first-solve gap and
whether the result is certified optimal. It first checks at 5,000 x 1,250
that the sparse and the dense path reach the same objective value.

By default a size is repeated 5 times up to 1e6 pairs, 3 times up to 1e7 and
once above (10,000 x 2,500 takes about two minutes per run with baselines).
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import resource
import statistics
import subprocess
import sys
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from matcher import Mentee, Mentor, Problem, Settings, Window, solve  # noqa: E402

DEFAULT_SIZES = ((1000, 250), (5000, 1250), (10000, 2500))
OBJECTIVES = ("max_participation", "fair")
ZONES = (
    "Europe/London",
    "Europe/Berlin",
    "America/New_York",
    "Asia/Kolkata",
    "America/Sao_Paulo",
    "Asia/Singapore",
    "America/Los_Angeles",
)
SECOND_LANGUAGES = ("de", "fr", "es", "hi", "pt", "zh", "ar")
CULTURE_TAGS = tuple(f"culture-{k}" for k in range(12))
TOPICS = tuple(f"topic-{k}" for k in range(40))
REFERENCE_DATE = dt.date(2025, 3, 10)  # between the US and EU daylight-saving switches


def _zipf(rng: np.random.Generator, count: int, exponent: float = 1.1) -> np.ndarray:
    weights = 1.0 / np.arange(1, count + 1) ** exponent
    return weights / weights.sum()


def _windows(rng: np.random.Generator) -> tuple[Window, ...]:
    out: list[Window] = []
    for _ in range(int(rng.integers(2, 6))):
        kind = rng.random()
        if kind < 0.5:  # weekday evening
            day = int(rng.integers(0, 5))
            start = int(rng.integers(34, 41)) * 30  # 17:00 .. 20:00
            length = int(rng.integers(2, 7)) * 30
        elif kind < 0.8:  # weekday working hours / lunch
            day = int(rng.integers(0, 5))
            start = int(rng.integers(16, 34)) * 30  # 08:00 .. 16:30
            length = int(rng.integers(2, 5)) * 30
        else:  # weekend morning or afternoon
            day = int(rng.integers(5, 7))
            start = int(rng.integers(18, 32)) * 30
            length = int(rng.integers(2, 9)) * 30
        out.append(Window(day, start, min(start + length, 1440)))
    return tuple(out)


def generate(n_mentees: int, n_mentors: int, seed: int = 0) -> Problem:
    """Generate a cohort of realistic shape.

    Parameters
    ----------
    n_mentees, n_mentors : int
        Side sizes.
    seed : int
        Random seed.

    Returns
    -------
    Problem
        Mentees, mentors, settings and a few pins, forbids and previous pairs.
    """
    rng = np.random.default_rng(seed)
    zones = list(rng.choice(ZONES, size=int(rng.integers(3, 7)), replace=False))
    zone_p = rng.dirichlet(np.full(len(zones), 2.0))
    topic_p = _zipf(rng, len(TOPICS))
    lang_p = _zipf(rng, len(SECOND_LANGUAGES), 1.3)
    culture_p = _zipf(rng, len(CULTURE_TAGS), 1.2)
    n_managers = max(1, (n_mentees + n_mentors) // 12)

    def common(pid: int) -> dict[str, object]:
        languages = {"en"} if rng.random() < 0.92 else set()
        if rng.random() < 0.4 or not languages:
            languages.add(str(rng.choice(SECOND_LANGUAGES, p=lang_p)))
        consent = rng.random() < 0.6
        tags = (
            frozenset(
                rng.choice(CULTURE_TAGS, size=int(rng.integers(1, 3)), replace=False, p=culture_p)
            )
            if consent
            else frozenset()
        )
        roll = rng.random()
        preference = "open" if roll < 0.7 else ("shared" if roll < 0.9 else "different")
        return {
            "languages": frozenset(languages),
            "timezone": str(rng.choice(zones, p=zone_p)),
            "availability": _windows(rng),
            "org_unit": f"unit-{int(rng.integers(0, 30))}",
            "email": f"person{pid}@example.org",
            "manager_email": f"person{int(rng.integers(1, n_managers + 1))}@example.org",
            "cultural_tags": tags,
            "cultural_preference": preference,
        }

    mentees: list[Mentee] = []
    for pid in range(1, n_mentees + 1):
        k = int(rng.integers(1, 5))
        topics = rng.choice(TOPICS, size=k, replace=False, p=topic_p)
        waited = rng.random() < 0.25
        mentees.append(
            Mentee(
                id=pid,
                needs=tuple((str(t), int(rng.integers(1, 4))) for t in topics),
                experience_level=int(rng.integers(1, 4)),
                preferred_partners=frozenset(),
                waiting_days=float(rng.integers(1, 61)) if waited else 0.0,
                **common(pid),  # type: ignore[arg-type]
            )
        )
    mentors: list[Mentor] = []
    taken: set[int] = set()
    for k in range(n_mentors):
        # About 5% of mentors are also mentees (same participant id).
        pid = int(rng.integers(1, n_mentees + 1)) if rng.random() < 0.05 else n_mentees + 1 + k
        if pid in taken:
            pid = n_mentees + 1 + k
        taken.add(pid)
        s = int(rng.integers(2, 7))
        topics = rng.choice(TOPICS, size=s, replace=False, p=topic_p)
        capacity = int(rng.choice([1, 2, 3, 4, 5], p=[0.2, 0.3, 0.25, 0.15, 0.1]))
        load = int(rng.integers(0, capacity)) if rng.random() < 0.2 else 0
        mentors.append(
            Mentor(
                id=pid,
                strengths=tuple((str(t), int(rng.integers(1, 4))) for t in topics),
                experience_level=int(rng.integers(2, 6)),
                capacity=capacity,
                current_load=load,
                paused=bool(rng.random() < 0.03),
                preferred_partners=(
                    frozenset({int(rng.integers(1, n_mentees + 1))})
                    if rng.random() < 0.05
                    else frozenset()
                ),
                **common(pid),  # type: ignore[arg-type]
            )
        )
    mentor_ids = [m.id for m in mentors]
    previous = tuple(
        (int(rng.integers(1, n_mentees + 1)), int(rng.choice(mentor_ids)))
        for _ in range(n_mentees // 50)
    )
    forbids = tuple(
        (int(rng.integers(1, n_mentees + 1)), int(rng.choice(mentor_ids)))
        for _ in range(n_mentees // 200)
    )
    pinned = rng.choice(np.arange(1, n_mentees + 1), size=n_mentees // 500, replace=False)
    pins = tuple((int(e), int(rng.choice(mentor_ids))) for e in pinned)
    return Problem(
        mentees=tuple(mentees),
        mentors=tuple(mentors),
        settings=Settings(
            reference_date=REFERENCE_DATE,
            min_overlap_minutes=60,
            target_overlap_minutes=180,
            waiting_class_days=7.0,
        ),
        pins=pins,
        forbids=forbids,
        previous_pairs=previous,
    )


def _peak_mib() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0


def run_one(n_mentees: int, n_mentors: int, objective: str, seed: int) -> dict[str, float]:
    """Generate, solve and time one cohort in this process.

    Returns
    -------
    dict
        ``scoring, solve, total, peak_mib, bare, ratio, bare_sparse,
        sparse_ratio, sparse, matched, min_score, shape``.
    """
    from dataclasses import replace

    from scipy.optimize import linear_sum_assignment
    from scipy.sparse.csgraph import min_weight_full_bipartite_matching

    from matcher.engine import stage
    from matcher.solver import encode

    problem = generate(n_mentees, n_mentors, seed)
    problem = replace(problem, settings=replace(problem.settings, objective=objective))
    start = time.perf_counter()
    result = solve(problem)
    total = time.perf_counter() - start
    peak = _peak_mib()
    stats = result.stats
    del result

    # The baseline: a bare linear_sum_assignment on the same slot-expanded matrix.
    baseline = replace(problem.settings, objective="max_participation")
    staged = stage(replace(problem, settings=baseline))
    sparse = encode(staged.pool, method="sparse")
    start = time.perf_counter()
    min_weight_full_bipartite_matching(sparse.graph)
    bare_sparse = time.perf_counter() - start
    del sparse
    encoding = encode(staged.pool, method="dense")
    del staged
    start = time.perf_counter()
    linear_sum_assignment(encoding.cost)
    bare = time.perf_counter() - start
    return {
        "scoring": stats.scoring_seconds,
        "solve": stats.solve_seconds,
        "total": total,
        "peak_mib": peak,
        "bare": bare,
        "ratio": stats.solve_seconds / bare if bare > 0 else float("nan"),
        "bare_sparse": bare_sparse,
        "sparse_ratio": stats.solve_seconds / bare_sparse if bare_sparse > 0 else float("nan"),
        "sparse": 1.0 if stats.solver == "min_weight_full_bipartite_matching" else 0.0,
        "matched": float(stats.matched_count),
        "min_score": float(stats.min_score or 0.0),
        "shape": float(encoding.cost.shape[0] * encoding.cost.shape[1]),
    }


SCALE_SIZES = ((10000, 2500), (50000, 12500), (100000, 25000))
SCALE_TARGETS = {10000 * 2500: 20.0, 50000 * 12500: 120.0, 100000 * 25000: 300.0}
PEAK_TARGET_MIB = 8 * 1024
SCALE_OBJECTIVES = ("max_participation", "max_score", "fair")


def run_scale(
    n_mentees: int, n_mentors: int, objective: str, seed: int, path: str
) -> dict[str, object]:
    """Solve one cohort on the given path (``sparse``, ``dense`` or ``auto``) in this process.

    Returns
    -------
    dict
        Timings, peak memory and the sparse-path statistics.
    """
    from dataclasses import replace
    from unittest import mock

    import matcher.engine

    problem = generate(n_mentees, n_mentors, seed)
    problem = replace(problem, settings=replace(problem.settings, objective=objective))
    limit = {"sparse": -1, "dense": 1 << 62}.get(path, matcher.engine.DENSE_PAIR_LIMIT)
    phases: list[str] = []

    def progress(phase: str, fraction: float) -> None:
        if not phases or phases[-1] != phase:
            phases.append(phase)

    start = time.perf_counter()
    with mock.patch.object(matcher.engine, "DENSE_PAIR_LIMIT", limit):
        result = solve(problem, progress=progress)
    total = time.perf_counter() - start
    stats = result.stats
    return {
        "total": total,
        "scoring": stats.scoring_seconds,
        "solve": stats.solve_seconds,
        "peak_mib": _peak_mib(),
        "objective_total": stats.objective_total,
        "matched": stats.matched_count,
        "fair_min_score": stats.fair_min_score,
        "certified": stats.certified_optimal,
        "rounds": stats.pricing_rounds,
        "gap": stats.first_solve_gap,
        "considered": stats.pairs_considered,
        "feasible": stats.feasible_pairs,
        "solver": stats.solver,
        "phases": len(phases),
    }


def _worker(spec: str) -> dict[str, object]:
    cmd = [sys.executable, str(Path(__file__).resolve()), "--scale-worker", spec]
    out = subprocess.run(cmd, check=True, capture_output=True, text=True)
    result: dict[str, object] = json.loads(out.stdout.strip().splitlines()[-1])
    return result


def scale(sizes: list[tuple[int, int]], objectives: list[str], seed: int) -> int:
    """Run the ``--scale`` benchmark; return 1 when a check fails."""
    failed = 0
    print(f"cpus={os.cpu_count()} python={sys.version.split()[0]} reference={REFERENCE_DATE}")
    print("same objective value, sparse vs dense, 5,000 x 1,250:")
    for objective in objectives:
        runs = {
            path: _worker(f"5000:1250:{objective}:{seed}:{path}") for path in ("sparse", "dense")
        }
        same = all(
            runs["sparse"][k] == runs["dense"][k]
            for k in ("objective_total", "matched", "fair_min_score")
        )
        failed += not same
        print(
            f"  {objective:>17}: sparse {runs['sparse']['objective_total']} "
            f"({runs['sparse']['total']:.1f} s, {runs['sparse']['rounds']} passes) "
            f"dense {runs['dense']['objective_total']} ({runs['dense']['total']:.1f} s) "
            f"{'SAME' if same else 'DIFFERENT'}",
            flush=True,
        )
    print(
        f"{'size':>15} {'objective':>17} {'total s':>8} {'target':>6} {'scoring':>8} "
        f"{'solve':>7} {'peak MiB':>8} {'passes':>6} {'first gap':>10} {'certified':>9} "
        f"{'considered':>10} {'matched':>7}  ok"
    )
    for n, m in sizes:
        target = SCALE_TARGETS.get(n * m, float("inf"))
        for objective in objectives:
            run = _worker(f"{n}:{m}:{objective}:{seed}:sparse")
            ok = (
                float(run["total"]) <= target  # type: ignore[arg-type]
                and float(run["peak_mib"]) <= PEAK_TARGET_MIB  # type: ignore[arg-type]
                and bool(run["certified"])
            )
            failed += not ok
            print(
                f"{n:>7}x{m:<7} {objective:>17} {run['total']:>8.1f} {target:>6.0f} "
                f"{run['scoring']:>8.1f} {run['solve']:>7.1f} {run['peak_mib']:>8.0f} "
                f"{run['rounds']:>6} {run['gap']:>10.3g} {run['certified']!s:>9} "
                f"{run['considered']:>10} {run['matched']:>7}  {'yes' if ok else 'NO'}",
                flush=True,
            )
    return 1 if failed else 0


def _parse_sizes(text: str) -> list[tuple[int, int]]:
    out: list[tuple[int, int]] = []
    for part in text.split(","):
        a, b = part.lower().replace(" ", "").split("x")
        out.append((int(a.replace("_", "")), int(b.replace("_", ""))))
    return out


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--sizes", help="comma-separated MENTEESxMENTORS, e.g. 1000x250,5000x1250")
    parser.add_argument("--quick", action="store_true", help="only 1,000 x 250")
    parser.add_argument("--objectives", default=",".join(OBJECTIVES))
    parser.add_argument("--repeat", type=int, default=None, help="runs per size (median shown)")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--scale", action="store_true", help="the certified sparse path")
    parser.add_argument("--worker", help=argparse.SUPPRESS)
    parser.add_argument("--scale-worker", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)

    if args.scale_worker:
        n, m, objective, seed, path = args.scale_worker.split(":")
        print(json.dumps(run_scale(int(n), int(m), objective, int(seed), path)))
        return 0
    if args.scale:
        objectives = (
            [o.strip() for o in args.objectives.split(",") if o.strip()]
            if args.objectives != ",".join(OBJECTIVES)
            else list(SCALE_OBJECTIVES)
        )
        sizes = _parse_sizes(args.sizes) if args.sizes else list(SCALE_SIZES)
        return scale(sizes, objectives, args.seed)

    if args.worker:
        n, m, objective, seed = args.worker.split(":")
        print(json.dumps(run_one(int(n), int(m), objective, int(seed))))
        return 0

    sizes = _parse_sizes(args.sizes) if args.sizes else list(DEFAULT_SIZES)
    if args.quick:
        sizes = [(1000, 250)]
    objectives = [o.strip() for o in args.objectives.split(",") if o.strip()]
    print(f"cpus={os.cpu_count()} python={sys.version.split()[0]} reference={REFERENCE_DATE}")
    header = (
        f"{'size':>13} {'objective':>17} {'runs':>4} {'scoring s':>9} {'solve s':>8} "
        f"{'total s':>8} {'peak MiB':>8} {'bare LSA s':>10} {'ratio':>6} "
        f"{'bare sp s':>9} {'/sp':>5} {'matched':>7} {'min score':>9}  solver"
    )
    print(header)
    for n, m in sizes:
        repeat = args.repeat or (5 if n * m <= 1_000_000 else 3 if n * m <= 10_000_000 else 1)
        for objective in objectives:
            runs: list[dict[str, float]] = []
            for r in range(repeat):
                cmd = [
                    sys.executable,
                    str(Path(__file__).resolve()),
                    "--worker",
                    f"{n}:{m}:{objective}:{args.seed + r}",
                ]
                out = subprocess.run(cmd, check=True, capture_output=True, text=True)
                runs.append(json.loads(out.stdout.strip().splitlines()[-1]))

            def med(key: str, runs: list[dict[str, float]] = runs) -> float:
                return statistics.median(run[key] for run in runs)

            solver = "sparse" if med("sparse") > 0.5 else "dense"
            print(
                f"{n:>6}x{m:<6} {objective:>17} {repeat:>4} {med('scoring'):>9.3f} "
                f"{med('solve'):>8.3f} {med('total'):>8.3f} {med('peak_mib'):>8.0f} "
                f"{med('bare'):>10.3f} {med('ratio'):>6.2f} {med('bare_sparse'):>9.3f} "
                f"{med('sparse_ratio'):>5.2f} {med('matched'):>7.0f} {med('min_score'):>9.3f}"
                f"  {solver}",
                flush=True,
            )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
