"""The sparse backend: the certified optimum without a dense score matrix."""

from __future__ import annotations

import time
from dataclasses import dataclass, replace

import numpy as np
from threadpoolctl import threadpool_limits

from matcher.backend import Certificate, Outcome, Progress
from matcher.bottleneck import highest_feasible
from matcher.features import Prepared
from matcher.pool import Pins, build_pool, open_mentors
from matcher.report import RowSummary, Standing
from matcher.scoring import SCORE_SCALE, Evaluator
from matcher.sparse.cover import candidate_matching_size, certified_max_matching
from matcher.sparse.options import SparseOptions
from matcher.sparse.pricing import Certified, Pricing, Report, certified_solve, report_pass
from matcher.sparse.restricted import SparsePool
from matcher.sparse.scan import FirstScan, first_scan
from matcher.types import IntArray

SOLVER = "min_weight_full_bipartite_matching+pricing"


def _sparse_pool(prep: Prepared, pins: Pins, scan: FirstScan) -> SparsePool:
    pool = build_pool(prep, pins, scan.pool_row, scan.degree)
    row_index = np.full(prep.n, -1, dtype=np.int64)
    row_index[pool.rows] = np.arange(len(pool.rows), dtype=np.int64)
    col_index = np.full(prep.m, -1, dtype=np.int64)
    col_index[pool.cols] = np.arange(len(pool.cols), dtype=np.int64)
    return SparsePool(
        rows=pool.rows,
        cols=pool.cols,
        slots=pool.slots,
        first_penalty_k=pool.first_penalty_k,
        waiting_class=pool.waiting_class,
        objective=pool.objective,
        load_penalty=pool.load_penalty,
        waiting_priority=pool.waiting_priority,
        row_top=scan.row_top[pool.rows],
        histogram=scan.histogram,
        cand_p=row_index[scan.cand_rows],
        cand_c=col_index[scan.cand_cols],
        cand_s=scan.cand_scores,
        considered=len(scan.cand_rows),
    )


class _Fair:
    """The ``fair`` search with certified oracles; counts passes and certificates."""

    def __init__(self, context: Pricing) -> None:
        self.context = context
        self.passes, self.certified = 0, True

    def size(self, threshold: int, label: str, enough: int | None = None) -> int:
        covered = certified_max_matching(replace(self.context, label=label), threshold, enough)
        self.passes += covered.passes
        self.certified &= covered.certified
        return covered.size

    def threshold(self) -> int | None:
        """The bottleneck threshold, None when nothing can be matched."""
        pool = self.context.pool
        # The most mentees that can be matched, certified by a König cover checked
        # against every pair (no weighted solve needed for a count).
        target = self.size(0, "fair count: ")
        if target == 0:
            return None
        n_p = len(pool.rows)
        upper = int(np.partition(pool.row_top, n_p - target)[n_p - target])
        # Distinct pool scores up to the bound, highest first. Search the candidates
        # alone first (no pass over the scores): they already hold a maximum
        # matching, so the lowest value fits, and a value that fits there fits
        # everywhere. The true threshold is at or above theirs.
        values = np.flatnonzero(pool.histogram[: upper + 1])[::-1]
        cheap = highest_feasible(
            values, lambda t: candidate_matching_size(pool, t) == target, len(values) - 1
        )

        def fits(t: int) -> bool:
            # Certified: the maximum matching over all pairs >= t reaches target.
            label = f"fair threshold {t / SCORE_SCALE:.6f}: "
            return self.size(t, label, enough=target) >= target

        # Then certified probes above it; usually the next value up fails at once.
        best = highest_feasible(
            values, fits, cheap, probe=lambda failed: cheap - 1 if failed < 0 else cheap
        )
        return int(values[best])


@dataclass(frozen=True)
class SparseBackend:
    """Chunked scoring, candidates, duals and pricing (:mod:`matcher.sparse`)."""

    options: SparseOptions

    def solve(self, prep: Prepared, evaluator: Evaluator, pins: Pins, report: Progress) -> Outcome:
        """Solve the pool of a problem whose pins are placed (:class:`~matcher.backend.Backend`)."""
        # The scans run their own threads; OpenBLAS threads on top of them busy-wait
        # for cores those threads need (measured: ~70% more CPU per pair).
        limit = 1 if self.options.scoring_threads > 1 else None
        with threadpool_limits(limits=limit, user_api="blas"):
            return self._solve(prep, evaluator, pins, report)

    def _solve(self, prep: Prepared, evaluator: Evaluator, pins: Pins, report: Progress) -> Outcome:
        options = self.options
        report("scoring", 0.05)
        scoring_start = time.perf_counter()
        open_cols = open_mentors(prep, pins)
        is_pinned = pins.pinned(prep.n)
        scan = first_scan(prep, evaluator, open_cols, is_pinned, report, 0.05, 0.4, options)
        scoring_seconds = time.perf_counter() - scoring_start
        solve_start = time.perf_counter()
        pool = _sparse_pool(prep, pins, scan)

        def standing_of(rows: IntArray, cols: IntArray) -> Standing:
            all_rows = np.concatenate([pins.rows, pool.rows[rows]])
            all_cols = np.concatenate([pins.cols, pool.cols[cols]])
            scores = evaluator.pairs(all_rows, all_cols).score.astype(np.int64)
            return Standing.of(prep, all_rows, all_cols, scores)

        def tell(phase: str, fraction: float) -> None:
            # Each certified solve reports 0 -> 1, and `report` keeps the fraction
            # from ever going down.
            report(phase, 0.45 + 0.45 * fraction * 0.999)

        context = Pricing(prep, evaluator, pool, scan.store, options, tell, "")
        if len(pool.rows) == 0 or len(pool.cols) == 0:
            empty = np.zeros(0, dtype=np.int64)
            facts = report_pass(
                prep,
                evaluator,
                scan.store,
                standing_of(empty, empty),
                lambda f: report("reporting", 0.45 + 0.45 * f),
                options,
            )
            final = Certified(empty, empty, 0, 0, 1, SCORE_SCALE, 0, True, facts)
            fair = _Fair(context)
            solver = "none"
        else:
            fair = _Fair(context)
            threshold = fair.threshold() if prep.settings.objective == "fair" else None
            label = "" if threshold is None else f"fair threshold {threshold / SCORE_SCALE:.6f}: "
            final = certified_solve(replace(context, label=label), threshold, standing_of)
            solver = SOLVER
        return self._outcome(
            prep,
            pins,
            scan,
            pool,
            final,
            fair,
            solver,
            scoring_seconds,
            time.perf_counter() - solve_start,
        )

    @staticmethod
    def _outcome(
        prep: Prepared,
        pins: Pins,
        scan: FirstScan,
        pool: SparsePool,
        final: Certified,
        fair: _Fair,
        solver: str,
        scoring_seconds: float,
        solve_seconds: float,
    ) -> Outcome:
        rows, cols = pool.rows[final.rows], pool.cols[final.cols]
        matched = np.zeros(prep.n, dtype=np.bool_)
        matched[pins.rows] = True
        matched[rows] = True
        gap = (final.value - final.first_value) / final.value if final.value > 0 else 0.0
        return Outcome(
            rows=rows,
            cols=cols,
            unmatched=_row_summary(scan, final.report, np.flatnonzero(~matched).astype(np.int64)),
            blocking_pairs=final.report.blocking_pairs,
            feasible_pairs=scan.feasible_pairs,
            certificate=Certificate(
                certified=final.certified and fair.certified,
                grid=final.grid,
                waiting_classes=final.waiting_classes,
                pricing_rounds=fair.passes + final.rounds,
                pairs_considered=pool.considered,
                first_solve_gap=gap,
            ),
            solver=solver,
            scoring_seconds=scoring_seconds,
            solve_seconds=solve_seconds,
        )


def _row_summary(scan: FirstScan, facts: Report, rows: IntArray) -> RowSummary:
    # The unmatched reasons' facts from the scans' per-row summaries.
    return RowSummary(
        rows=rows,
        count=scan.count[rows],
        best_col=scan.best_col[rows],
        best_score=scan.best_score[rows],
        spare_any=facts.spare_any[rows],
    )
