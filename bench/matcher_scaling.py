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
import json
import os
import resource
import statistics
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from api.synthetic.cohort import REFERENCE_DATE  # noqa: E402
from api.synthetic.cohort import cohort as generate  # noqa: E402
from matcher import solve  # noqa: E402

DEFAULT_SIZES = ((1000, 250), (5000, 1250), (10000, 2500))
OBJECTIVES = ("max_participation", "fair")


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

    from matcher.dense import encode, stage
    from matcher.features import prepare
    from matcher.pool import place_pins
    from matcher.scoring import Evaluator

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
    prep = prepare(replace(problem, settings=baseline))
    evaluator = Evaluator(prep)
    staged = stage(prep, evaluator, place_pins(prep, evaluator))
    sparse = encode(staged.problem, method="sparse")
    start = time.perf_counter()
    min_weight_full_bipartite_matching(sparse.graph)
    bare_sparse = time.perf_counter() - start
    del sparse
    encoding = encode(staged.problem, method="dense")
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

    from matcher import SolveOptions

    problem = generate(n_mentees, n_mentors, seed)
    problem = replace(problem, settings=replace(problem.settings, objective=objective))
    limit = {"sparse": -1, "dense": 1 << 62}.get(path, SolveOptions().dense_pair_limit)
    phases: list[str] = []

    def progress(phase: str, fraction: float) -> None:
        if not phases or phases[-1] != phase:
            phases.append(phase)

    start = time.perf_counter()
    result = solve(problem, progress=progress, options=SolveOptions(dense_pair_limit=limit))
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
