"""The large-problem path: candidates, duals and pricing give the dense optimum."""

from __future__ import annotations

import json
import random
from dataclasses import replace

import numpy as np
import pytest
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

import matcher.bipartite
import matcher.sparse.duals
import matcher.sparse.pairs
import matcher.sparse.pricing
import matcher.sparse.scan
from matcher import Problem, Result, solve
from matcher.backend import SolveOptions
from matcher.features import prepare
from matcher.objective import Objective
from matcher.scoring import Evaluator, score_matrix
from matcher.sparse import SparseOptions
from matcher.sparse.restricted import SparsePool
from matcher.types import IntArray
from tests.unit.helpers import (
    mentee,
    mentor,
    needs_only,
    objective_key,
    pair_table,
    place_pins,
    problems,
)
from tests.unit.test_solve_properties import check_invariants

OBJECTIVES = ("max_participation", "max_score", "fair")
FAST = settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])


def with_objective(problem: Problem, objective: str) -> Problem:
    return replace(problem, settings=replace(problem.settings, objective=objective))


def solve_sparse(
    problem: Problem,
    candidates: int = 1,
    per_row: int = 1,
    chunk: int = 7,
    store: int = 1 << 40,
    per_mentor: int = 0,
    threads: int = 2,
    warm: float = 0.05,
) -> Result:
    # Tiny candidate sets, so that the first solve misses pairs and pricing must find them;
    # store=0 makes every pass rescore instead of reading the kept pairs; warm=inf starts
    # every solve after the first from the previous duals, warm=0 none.
    options = SparseOptions(
        candidates_per_row=candidates,
        candidates_per_mentor=per_mentor,
        pricing_per_row=per_row,
        working_per_row=1,
        store_bytes=store,
        scoring_threads=threads,
        chunk_elements=chunk,
        warm_violators_share=warm,
    )
    return solve(problem, options=SolveOptions(dense_pair_limit=-1, sparse=options))


COMPARED = (
    "matched_count",
    "pinned_count",
    "objective_total",
    "fair_min_score",
    "blocking_pairs",
    "feasible_pairs",
    "score_resolution",
    "waiting_classes",
)


@FAST
@given(
    st.one_of(problems(), problems(contested=True)),
    st.integers(1, 3),
    st.integers(1, 2),
    st.sampled_from([1, 7, 1 << 20]),
    st.sampled_from([0, 100, 1 << 40]),
    st.integers(0, 2),
    st.integers(1, 2),
    st.sampled_from([0.0, float("inf")]),
)
def test_the_sparse_path_reaches_the_dense_optimum_for_every_objective(
    problem: Problem,
    candidates: int,
    per_row: int,
    chunk: int,
    store: int,
    per_mentor: int,
    threads: int,
    warm: float,
) -> None:
    table = pair_table(problem)
    setup = place_pins(problem, table)
    for objective in OBJECTIVES:
        current = with_objective(problem, objective)
        dense = solve(current)
        sparse = solve_sparse(current, candidates, per_row, chunk, store, per_mentor, threads, warm)
        check_invariants(current, sparse)
        keys = [
            objective_key(
                current,
                table,
                setup,
                [(p.mentee_id, p.mentor_id) for p in r.pairs if not p.pinned],
                objective,
            )
            for r in (dense, sparse)
        ]
        assert keys[0] == keys[1], objective
        d, s = dense.stats.to_dict(), sparse.stats.to_dict()
        assert s["certified_optimal"] is True
        assert s["pricing_rounds"] >= 1 or not (problem.mentees and problem.mentors)
        assert 0.0 <= s["first_solve_gap"] <= 1.0
        if dense.stats.matched_count == sparse.stats.matched_count and {
            (p.mentee_id, p.mentor_id) for p in dense.pairs
        } == {(p.mentee_id, p.mentor_id) for p in sparse.pairs}:
            # Same matching: every figure and every reason agrees too.
            for key in COMPARED:
                assert d[key] == s[key], key
            assert [u.to_dict() for u in dense.unmatched] == [u.to_dict() for u in sparse.unmatched]
        else:
            for key in ("matched_count", "objective_total", "fair_min_score", "feasible_pairs"):
                assert d[key] == s[key], key
        json.dumps(sparse.to_dict())


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(problems(contested=True))
def test_sparse_progress_never_goes_down_and_ends_at_one(problem: Problem) -> None:
    seen: list[tuple[str, float]] = []
    options = SolveOptions(
        dense_pair_limit=-1, sparse=SparseOptions(candidates_per_row=1, chunk_elements=5)
    )
    solve(
        with_objective(problem, "fair"),
        progress=lambda p, f: seen.append((p, f)),
        options=options,
    )
    fractions = [f for _, f in seen]
    assert fractions == sorted(fractions)
    assert seen[-1] == ("done", 1.0)
    assert all(0.0 <= f <= 1.0 for f in fractions)


def test_pricing_adds_the_pairs_the_first_solve_left_out_and_certifies() -> None:
    # Both mentees' best mentor is A (one slot): with one candidate each, the first
    # solve matches one mentee; pricing finds B for the other.
    problem = Problem(
        mentees=(mentee(1, needs=(("a", 2),)), mentee(2, needs=(("a", 3),))),
        mentors=(
            mentor(10, strengths=(("a", 3),), capacity=1),
            mentor(11, strengths=(("a", 1),), capacity=1),
        ),
        settings=needs_only(),
    )
    for objective in OBJECTIVES:
        current = with_objective(problem, objective)
        result = solve_sparse(current)
        dense = solve(current)
        assert result.stats.matched_count == 2
        assert result.stats.objective_total == dense.stats.objective_total
        assert result.stats.certified_optimal
        assert result.stats.pricing_rounds >= 2
        # fair: the gap of the solve at the final threshold, by then already warm.
        assert result.stats.first_solve_gap > 0 or objective == "fair"
        assert result.stats.pairs_considered == 4  # both mentees priced B in
        assert result.stats.solver == "min_weight_full_bipartite_matching+pricing"


def test_the_dense_path_reports_itself_certified_without_pricing() -> None:
    problem = Problem(
        mentees=(mentee(1, needs=(("a", 2),)),),
        mentors=(mentor(10, strengths=(("a", 3),), capacity=1),),
        settings=needs_only(),
    )
    stats = solve(problem).stats.to_dict()
    assert stats["certified_optimal"] is True
    assert stats["pricing_rounds"] == 0
    assert stats["first_solve_gap"] == 0.0
    assert stats["pairs_considered"] == stats["feasible_pairs"] == 1


@FAST
@given(problems(contested=True), st.sampled_from([1, 5, 1 << 20]), st.integers(1, 2))
def test_every_pass_sees_each_feasible_pair_once_with_its_dense_score(
    problem: Problem, chunk: int, threads: int
) -> None:
    prep = prepare(problem)
    evaluator = Evaluator(prep)
    dense = score_matrix(prep)
    expected = sorted(zip(*np.nonzero(dense >= 0), dense[dense >= 0], strict=True))
    options = SparseOptions(chunk_elements=chunk, scoring_threads=threads)
    scan = matcher.sparse.scan.first_scan(
        prep,
        evaluator,
        np.ones(prep.m, dtype=np.bool_),
        np.zeros(prep.n, dtype=np.bool_),
        lambda phase, fraction: None,
        0.0,
        1.0,
        options,
    )
    assert scan.store is not None
    for store in (scan.store, None):  # kept pairs, then rescored
        seen = [
            (int(r), int(c), int(s))
            for block in matcher.sparse.pairs.map_pairs(
                prep,
                evaluator,
                store,
                lambda rows, cols, scores: (rows, cols, scores),
                options,
            )
            for r, c, s in zip(*block, strict=True)
        ]
        assert sorted(seen) == [(int(r), int(c), int(s)) for r, c, s in expected]
    assert scan.feasible_pairs == len(expected)


@given(
    st.lists(st.lists(st.integers(0, 5), max_size=9), min_size=1, max_size=6),
    st.integers(1, 4),
    # scores in one histogram bin, or spread over bins (and across bin edges)
    st.sampled_from([1, 4095, 4096, 4097, 199_999]),
    st.integers(0, 20),
)
def test_each_mentee_keeps_its_best_scoring_candidates_ties_by_mentor_order(
    rows_scores: list[list[int]], count: int, spread: int, first_row: int
) -> None:
    rows_scores = [[s * spread for s in row] for row in rows_scores]
    rows = np.array(
        [first_row + r for r, row in enumerate(rows_scores) for _ in row], dtype=np.int64
    )
    scores = np.array([s for row in rows_scores for s in row], dtype=np.int32)
    picked = set(matcher.sparse.scan._top_per_row(rows, scores, count).tolist())
    position = 0
    for row in rows_scores:
        # Python's sort is stable: the first of equal scores wins, as in the scan.
        best = sorted(range(len(row)), key=lambda j: -row[j])[:count]
        assert {position + j for j in best} == {
            k for k in picked if position <= k < position + len(row)
        }
        position += len(row)


def small_graph(
    n_p: int, n_slots: int, edges: list[tuple[int, int, int]], offset: int
) -> tuple[dict[tuple[int, int], int], IntArray, IntArray, IntArray, np.ndarray, float]:
    # Mentee-slot edges (ids folded into range, last weight wins) of weight offset + w,
    # their dense matrix (0: no edge) and the weight of a maximum-weight matching.
    from scipy.optimize import linear_sum_assignment

    table = {(p % n_p, s % n_slots): offset + weight for p, s, weight in edges}
    ep = np.array([p for p, _ in table], dtype=np.int64)
    es = np.array([s for _, s in table], dtype=np.int64)
    w = np.array(list(table.values()), dtype=np.int64)
    dense = np.zeros((n_p, n_slots))
    dense[ep, es] = w
    r, c = linear_sum_assignment(dense, maximize=True)
    return table, ep, es, w, dense, float(dense[r, c].sum())


@FAST
@given(
    st.integers(1, 6),
    st.integers(1, 6),
    st.lists(st.tuples(st.integers(0, 5), st.integers(0, 5), st.integers(0, 9)), max_size=30),
)
def test_a_restricted_solve_that_puts_participation_first_finds_the_maximum_weight_matching(
    n_p: int, n_slots: int, edges: list[tuple[int, int, int]]
) -> None:
    # Every edge weighs more than all the score parts together, as in max_participation:
    # only the rows some maximum matching leaves unmatched get a dummy, and the optimum
    # must be the same as with a dummy for every row (checked against a dense solve).
    table, ep, es, w, dense, best = small_graph(n_p, n_slots, edges, 1000)
    for cardinality_first in (True, False):
        mentee, slot = matcher.bipartite.max_weight_matching(
            n_p, n_slots, ep, es, w, cardinality_first
        )
        assert len(set(mentee.tolist())) == len(mentee) and len(set(slot.tolist())) == len(slot)
        assert all((p, s) in table for p, s in zip(mentee.tolist(), slot.tolist(), strict=True))
        assert dense[mentee, slot].sum() == best


@FAST
@given(
    st.sampled_from(OBJECTIVES),
    st.lists(st.tuples(st.integers(0, 3), st.integers(1, 3)), min_size=1, max_size=5),
    st.lists(st.integers(0, 4), min_size=1, max_size=6),
    st.sampled_from([0.0, 0.25, 1.0]),
    st.sampled_from([1, 10, 1000]),
    st.data(),
)
def test_pricing_sees_each_pairs_reduced_profit_against_the_solved_weights(
    objective: str,
    mentors: list[tuple[int, int]],
    waits: list[int],
    load_penalty: float,
    factor: int,
    data: st.DataObject,
) -> None:
    # The pricing pass splits 2 * base(s, omega) - u - big_v into a score term and a row
    # and a column term; a pair must look exactly as profitable as the weights the
    # restricted solve maximises say, and pairs outside the pool never profitable.
    n, m = len(waits) + 2, len(mentors) + 1
    rows = np.arange(1, len(waits) + 1, dtype=np.int64)  # rows 0 and n - 1: not in the pool
    cols = np.arange(1, m, dtype=np.int64)  # column 0: not in the pool
    empty = np.zeros(0, dtype=np.int64)
    pool = SparsePool(
        rows=rows,
        cols=cols,
        slots=np.array([s for _, s in mentors], dtype=np.int64),
        first_penalty_k=np.array([k for k, _ in mentors], dtype=np.int64),
        waiting_class=np.array(waits, dtype=np.int64),
        objective=objective,
        load_penalty=load_penalty,
        row_top=empty,
        histogram=empty,
        cand_p=empty,
        cand_c=empty,
        cand_s=empty,
    )
    weights = replace(Objective.for_pool(pool), factor=factor)  # as on a coarser score grid
    ints = st.integers(0, 1 << 40)
    u = np.array(data.draw(st.lists(ints, min_size=len(rows), max_size=len(rows))))
    big_v = np.array(data.draw(st.lists(ints, min_size=len(cols), max_size=len(cols))))
    row_term, col_term = matcher.sparse.pricing.pricing_terms(n, m, pool, weights, u, big_v)
    scores = np.array(data.draw(st.lists(st.integers(0, 1_000_000), min_size=1, max_size=8)))
    for r in range(n):
        for c in range(m):
            got = weights.doubled_score_part(scores) - row_term[r] - col_term[c]
            if 1 <= r <= len(waits) and c >= 1:
                p, k = r - 1, c - 1
                want = 2 * weights.base(scores, weights.omega[p]) - u[p] - big_v[k]
                assert got.tolist() == want.tolist()
            else:
                assert (got < 0).all()


@FAST
@given(
    st.integers(1, 5),
    st.integers(1, 5),
    st.lists(st.tuples(st.integers(0, 4), st.integers(0, 4), st.integers(1, 9)), max_size=20),
    st.randoms(use_true_random=False),
)
def test_a_matching_keeps_its_place_between_rounds_only_if_it_is_still_optimal(
    n_p: int, n_slots: int, edges: list[tuple[int, int, int]], rnd: random.Random
) -> None:
    # Between pricing rounds the previous matching is kept when duals for it exist on
    # the grown working set: they must exist for an optimal matching and never for
    # one that is not (a greedy matching in random order stands for a stale one).
    _, ep, es, w, dense, best = small_graph(n_p, n_slots, edges, 0)
    order = list(range(len(w)))
    rnd.shuffle(order)
    chosen: dict[int, int] = {}
    for k in order:
        if int(ep[k]) not in chosen and int(es[k]) not in chosen.values():
            chosen[int(ep[k])] = int(es[k])
    mentee = np.array(list(chosen), dtype=np.int64)
    slot = np.array(list(chosen.values()), dtype=np.int64)
    if dense[mentee, slot].sum() == best:
        u, v = matcher.sparse.duals.duals(n_p, n_slots, ep, es, w, mentee, slot, limit=50)
        assert (u[ep] + v[es] >= 2 * w).all()
        assert u.sum() + v.sum() == 2 * best
    else:
        with pytest.raises(matcher.sparse.duals.NoDual):
            matcher.sparse.duals.duals(n_p, n_slots, ep, es, w, mentee, slot, limit=50)


@FAST
@given(
    st.one_of(problems(), problems(contested=True)),
    st.sampled_from([1, 7, 1 << 20]),
    st.integers(1, 2),
    st.integers(1, 3),
    st.data(),
)
def test_each_mentor_keeps_its_best_pool_mentees_across_chunks_ties_by_mentee_order(
    problem: Problem, chunk: int, threads: int, depth: int, data: st.DataObject
) -> None:
    prep = prepare(problem)
    assume(prep.n and prep.m)  # the sparse path is never taken without both sides
    evaluator = Evaluator(prep)
    dense = score_matrix(prep)
    open_cols = np.array(data.draw(st.lists(st.booleans(), min_size=prep.m, max_size=prep.m)))
    pinned = np.array(data.draw(st.lists(st.booleans(), min_size=prep.n, max_size=prep.n)))
    open_cols = open_cols.astype(np.bool_).reshape(prep.m)
    pinned = pinned.astype(np.bool_).reshape(prep.n)
    options = SparseOptions(
        chunk_elements=chunk,
        scoring_threads=threads,
        candidates_per_row=0,
        candidates_per_mentor=depth,
    )
    scan = matcher.sparse.scan.first_scan(
        prep, evaluator, open_cols, pinned, lambda phase, fraction: None, 0.0, 1.0, options
    )
    in_pool = ~pinned & (np.where(open_cols[None, :], dense, -1).max(axis=1, initial=-1) >= 0)
    expected = set()
    for c in np.flatnonzero(open_cols):
        rows = [r for r in range(prep.n) if in_pool[r] and dense[r, c] >= 0]
        rows.sort(key=lambda r: (-dense[r, c], r))  # best score, then the earlier mentee
        expected |= {(r, int(c)) for r in rows[:depth]}
    assert set(zip(scan.cand_rows.tolist(), scan.cand_cols.tolist(), strict=True)) == expected


TAGS = tuple(f"t{k}" for k in range(12))
#: Tiny working sets, so that pricing has to bring in most of the optimum.
TIGHT = SparseOptions(
    candidates_per_row=1,
    candidates_per_mentor=0,
    pricing_per_row=1,
    working_per_row=1,
    chunk_elements=1000,
)


def medium_problem(seed: int, n: int = 150, m: int = 50) -> Problem:
    # A seeded cohort where many mentees want the same few mentors.
    rng = random.Random(seed)
    mentees = tuple(
        mentee(
            i,
            needs=tuple((t, rng.randint(1, 3)) for t in rng.sample(TAGS, 3)),
            waiting_days=float(rng.randint(0, 3)),
        )
        for i in range(1, n + 1)
    )
    mentors = tuple(
        mentor(
            1000 + j,
            strengths=tuple((t, rng.randint(1, 3)) for t in rng.sample(TAGS, 4)),
            capacity=rng.randint(1, 3),
        )
        for j in range(m)
    )
    return Problem(mentees=mentees, mentors=mentors, settings=needs_only(load_penalty=0.05))


@pytest.mark.parametrize("objective", OBJECTIVES)
def test_a_medium_problem_is_priced_round_after_round_to_the_dense_optimum(
    objective: str,
) -> None:
    problem = with_objective(medium_problem(0), objective)
    dense = solve(problem)
    sparse = solve(problem, options=SolveOptions(dense_pair_limit=-1, sparse=TIGHT))
    check_invariants(problem, sparse)
    assert sparse.stats.pricing_rounds >= 4
    assert sparse.stats.certified_optimal is True
    for key in ("matched_count", "objective_total", "fair_min_score", "blocking_pairs"):
        if key != "blocking_pairs" or {(p.mentee_id, p.mentor_id) for p in dense.pairs} == {
            (p.mentee_id, p.mentor_id) for p in sparse.pairs
        }:
            assert getattr(sparse.stats, key) == getattr(dense.stats, key), key


@pytest.mark.parametrize("objective", OBJECTIVES)
def test_a_solve_stopped_before_pricing_is_done_is_not_reported_optimal(objective: str) -> None:
    # The certificate comes from the stop condition: a pass that still finds pairs with
    # a positive reduced profit (here: the only pass allowed) certifies nothing.
    problem = with_objective(medium_problem(0), objective)
    dense = solve(problem)
    capped = replace(TIGHT, max_pricing_rounds=1)
    result = solve(problem, options=SolveOptions(dense_pair_limit=-1, sparse=capped))
    check_invariants(problem, result)
    assert result.stats.certified_optimal is False
    assert result.stats.objective_total < dense.stats.objective_total
