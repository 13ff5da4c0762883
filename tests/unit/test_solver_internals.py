"""The exact solver's building blocks: bottleneck search, encodings, integer budget."""

from __future__ import annotations

import itertools

import numpy as np
import pytest

from matcher import MatcherError
from matcher.dense import (
    PoolProblem,
    assign,
    encode,
    fair_threshold,
    matching_size,
    solve_pool,
)
from matcher.objective import choose_grid as _choose_grid


def pool(
    scores: list[list[int]],
    slots: list[int],
    objective: str = "fair",
    waiting: list[int] | None = None,
    load_penalty: float = 0.0,
) -> PoolProblem:
    matrix = np.asarray(scores, dtype=np.int32)
    return PoolProblem(
        scores=matrix,
        slots=np.asarray(slots, dtype=np.int64),
        first_penalty_k=np.zeros(len(slots), dtype=np.int64),
        waiting_class=np.asarray(waiting or [0] * matrix.shape[0], dtype=np.int64),
        objective=objective,
        load_penalty=load_penalty,
    )


def brute_matching_size(scores: np.ndarray, threshold: int, slots: np.ndarray) -> int:
    columns = [j for j, c in enumerate(slots.tolist()) for _ in range(c)]
    rows = range(scores.shape[0])
    for size in range(min(len(columns), scores.shape[0]), 0, -1):
        for chosen in itertools.combinations(rows, size):
            for perm in itertools.permutations(range(len(columns)), size):
                if all(
                    scores[i, columns[c]] >= max(threshold, 0)
                    for i, c in zip(chosen, perm, strict=True)
                ):
                    return size
    return 0


def test_the_bottleneck_search_runs_when_the_cheap_bound_is_not_tight() -> None:
    # Rows 1 and 2 both want column 1 (0.9); the bound says 0.9 but only 0.4 matches all.
    p = pool([[900, 300, -1], [900, -1, 400], [-1, 900, 900]], [1, 1, 1])
    assert matching_size(p.scores, 0, p.slots) == 3
    assert matching_size(p.scores, 900, p.slots) == 2
    assert fair_threshold(p, 3) == 400
    solution = solve_pool(p)
    assert solution.fair_threshold == 400
    assert sorted(zip(solution.rows.tolist(), solution.cols.tolist(), strict=True)) == [
        (0, 0),
        (1, 2),
        (2, 1),
    ]


def test_the_bottleneck_equals_a_linear_scan_on_random_pools() -> None:
    rng = np.random.default_rng(7)
    for _ in range(150):
        n, m = int(rng.integers(1, 9)), int(rng.integers(1, 5))
        values = rng.choice(np.arange(0, 1_000_001, 50_000), size=(n, m))
        scores = np.where(rng.random((n, m)) < 0.6, values, -1).astype(np.int32)
        slots = rng.integers(1, 3, size=m).astype(np.int64)
        keep = (scores >= 0).any(axis=1)
        if not keep.any():
            continue
        scores = scores[keep]
        slots = np.minimum(slots, (scores >= 0).sum(axis=0))
        if not slots.any():
            continue
        p = PoolProblem(
            scores, slots, np.zeros(m, np.int64), np.zeros(scores.shape[0], np.int64), "fair", 0.0
        )
        target = matching_size(scores, 0, slots)
        best = max(
            int(t)
            for t in np.unique(scores[scores >= 0])
            if matching_size(scores, int(t), slots) == target
        )
        assert fair_threshold(p, target) == best


def test_matching_size_equals_brute_force_with_capacities() -> None:
    rng = np.random.default_rng(3)
    for _ in range(60):
        n, m = int(rng.integers(1, 5)), int(rng.integers(1, 4))
        scores = np.where(rng.random((n, m)) < 0.5, 500, -1).astype(np.int32)
        slots = rng.integers(0, 3, size=m).astype(np.int64)
        assert matching_size(scores, 0, slots) == brute_matching_size(scores, 0, slots)


@pytest.mark.parametrize("method", ["dense", "sparse"])
@pytest.mark.parametrize("slot_major", [True, False])
def test_both_encodings_in_both_orientations_agree(method: str, slot_major: bool) -> None:
    # Mentee 0 scores 0.6 / 0.5, mentee 1 0.7 with M1 only, mentee 2 0.4 with M2 only.
    scores = [[600, 500], [700, -1], [-1, 400]]
    # One slot each: fewer slots than mentees, so rows are slots.
    # Two slots each: the k-th slot costs 0.15 * (k - 1).
    p = pool(
        scores, [1, 1] if slot_major else [2, 2], objective="max_participation", load_penalty=0.15
    )
    encoding = encode(p, method=method)
    assert encoding.method == method
    assert encoding.slot_major == slot_major
    rows, cols = assign(encoding)
    pairs = set(zip(rows.tolist(), cols.tolist(), strict=True))
    if slot_major:
        # Two pairs at most; 0.7 + 0.5 beats 0.6 + 0.4 and 0.7 + 0.4.
        assert pairs == {(0, 1), (1, 0)}
    else:
        # Mentee 0 takes M1's second slot (0.6 - 0.15) rather than M2's (0.5 - 0.15).
        assert pairs == {(0, 0), (1, 0), (2, 1)}


def test_max_score_never_uses_a_pair_whose_penalised_value_is_negative() -> None:
    p = pool([[500], [50]], [2], objective="max_score", load_penalty=0.1)
    for method in ("dense", "sparse"):
        rows, _ = assign(encode(p, method=method))
        assert rows.tolist() == [0]


def test_the_score_grid_coarsens_only_when_the_integer_budget_requires_it() -> None:
    k = np.arange(5, dtype=np.int64)
    assert _choose_grid("max_participation", 7, 3, 0.05, k)[0] == 1_000_000
    assert _choose_grid("max_participation", 10_000, 1, 0.05, k)[0] == 1_000_000
    assert _choose_grid("max_participation", 10_000, 60, 0.05, k)[0] == 100_000
    assert _choose_grid("max_score", 10_000, 60, 0.05, k)[0] == 100_000
    with pytest.raises(MatcherError, match="too large"):
        _choose_grid("fair", 10_000_000, 5_000, 0.05, k)


def test_an_empty_pool_solves_to_nothing() -> None:
    empty = PoolProblem(
        np.zeros((0, 0), np.int32),
        np.zeros(0, np.int64),
        np.zeros(0, np.int64),
        np.zeros(0, np.int64),
        "fair",
        0.0,
    )
    solution = solve_pool(empty)
    assert len(solution.rows) == 0 and solution.fair_threshold is None
