"""Exact solving without a dense score matrix: candidates, duals and pricing.

Used when the whole ``n x m`` score matrix would not fit the memory budget
(:data:`matcher.engine.DENSE_PAIR_LIMIT`). The objective, its integer
encoding and the pool (rows, mentor columns, slots, penalties, waiting
ranks) are exactly those of :mod:`matcher.solver`; only the way the optimum
is found differs:

1. the scores are computed in row chunks and each pool mentee keeps its
   :data:`CANDIDATES_PER_ROW` best feasible mentors;
2. the restricted problem (candidate edges only) is solved exactly with
   ``min_weight_full_bipartite_matching``;
3. optimal LP duals of the restricted problem are computed from the matching
   (``u`` per mentee, ``v`` per slot, by a vectorised int64 Bellman-Ford on the
   difference constraints that complementary slackness imposes) and checked
   exactly;
4. every pair left out is priced, chunk by chunk: ``w - u_i - v_s > 0`` for
   some slot ``s`` of its mentor means the duals are not feasible for the
   full problem, so the most profitable such pairs join the candidates and
   the restricted problem is solved again (step 2).

When no pair has a positive reduced profit, ``(u, v)`` is a feasible dual of
the full assignment LP whose value equals the matching's weight, so the
matching is optimal for the full problem: the result is certified, not
approximate. ``fair`` does its bottleneck search with such certified solves.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass, field

import numpy as np
import scipy.sparse as sp
from scipy.sparse.csgraph import maximum_bipartite_matching, min_weight_full_bipartite_matching

from matcher.features import Prepared
from matcher.scoring import SCORE_SCALE, Evaluator
from matcher.solver import _choose_grid, _omega
from matcher.types import BoolArray, Int32Array, IntArray

#: Best feasible mentors kept per mentee before the first sparse solve.
CANDIDATES_PER_ROW = 16
#: Best pool mentees kept per mentor (so that every slot has candidates).
CANDIDATES_PER_MENTOR = 8
#: Most violating pairs added per mentee in one pricing round.
PRICING_PER_ROW = 8
#: Further pairs per mentee kept aside by a pricing pass for cheap re-pricing.
RESERVE_PER_ROW = 16
#: Elements per scoring chunk of the sparse path.
CHUNK_ELEMENTS = 1 << 21

Tell = Callable[[str, float], None]


def chunks(prep: Prepared, evaluator: Evaluator) -> Iterator[tuple[int, Int32Array]]:
    """Yield ``(first_row, scores)`` blocks of the full score matrix, by rows.

    Parameters
    ----------
    prep : Prepared
        The validated problem.
    evaluator : Evaluator
        Its evaluator.

    Yields
    ------
    tuple of (int, ndarray of int32)
        First mentee row of the block, and the scores of those rows against
        every mentor (-1 where a hard rule excludes the pair), the same
        values :func:`matcher.scoring.score_matrix` gives.
    """
    n, m = prep.n, prep.m
    step = max(1, CHUNK_ELEMENTS // max(m, 1))
    for start in range(0, n, step):
        rows = np.arange(start, min(n, start + step), dtype=np.int64)
        block = evaluator.outer(rows, detail=False)
        yield start, np.where(block.feasible, block.score, -1).astype(np.int32)


def chunk_count(prep: Prepared) -> int:
    """Number of blocks :func:`chunks` yields."""
    step = max(1, CHUNK_ELEMENTS // max(prep.m, 1))
    return -(-prep.n // step)


@dataclass
class FirstScan:
    """What one pass over all scores leaves behind (no dense matrix)."""

    has_any: BoolArray  # (n,) some mentor is feasible
    count: IntArray  # (n,) feasible mentors
    best_col: IntArray  # (n,) argmax of the score row (first maximum)
    best_score: IntArray  # (n,) its score (-1 when none)
    pool_row: BoolArray  # (n,) in the pool
    degree: IntArray  # (m,) feasible pool rows per open mentor
    row_top: IntArray  # (n,) best score over open mentors
    histogram: IntArray  # (SCORE_SCALE + 1,) pool scores
    feasible_pairs: int
    cand_rows: IntArray  # global rows
    cand_cols: IntArray  # global cols
    cand_scores: IntArray


def first_scan(
    prep: Prepared,
    evaluator: Evaluator,
    open_cols: BoolArray,
    is_pinned: BoolArray,
    tell: Tell,
    lo: float,
    hi: float,
) -> FirstScan:
    """Score everything once, chunk by chunk, keeping only what is needed.

    Parameters
    ----------
    prep, evaluator
        The problem and its evaluator.
    open_cols : ndarray of bool, shape (m,)
        Mentors with a free slot left after the pins.
    is_pinned : ndarray of bool, shape (n,)
        Mentees placed by a pin.
    tell : callable
        ``tell(phase, fraction)``.
    lo, hi : float
        Progress fractions at the start and the end of the scan.

    Returns
    -------
    FirstScan
        Per-row and per-column summaries and each pool row's best candidates.
    """
    n, m = prep.n, prep.m
    out = FirstScan(
        has_any=np.zeros(n, dtype=np.bool_),
        count=np.zeros(n, dtype=np.int64),
        best_col=np.zeros(n, dtype=np.int64),
        best_score=np.full(n, -1, dtype=np.int64),
        pool_row=np.zeros(n, dtype=np.bool_),
        degree=np.zeros(m, dtype=np.int64),
        row_top=np.full(n, -1, dtype=np.int64),
        histogram=np.zeros(SCORE_SCALE + 1, dtype=np.int64),
        feasible_pairs=0,
        cand_rows=np.zeros(0, dtype=np.int64),
        cand_cols=np.zeros(0, dtype=np.int64),
        cand_scores=np.zeros(0, dtype=np.int64),
    )
    total = chunk_count(prep)
    k = min(CANDIDATES_PER_ROW, m)
    rows_parts: list[IntArray] = []
    cols_parts: list[IntArray] = []
    score_parts: list[IntArray] = []
    depth = CANDIDATES_PER_MENTOR
    col_scores = np.full((depth, m), -1, dtype=np.int32)
    col_rows = np.full((depth, m), -1, dtype=np.int64)
    for number, (start, block) in enumerate(chunks(prep, evaluator)):
        r = block.shape[0]
        rows = np.arange(start, start + r, dtype=np.int64)
        feasible = block >= 0
        out.has_any[rows] = feasible.any(axis=1)
        counts = feasible.sum(axis=1)
        out.count[rows] = counts
        out.feasible_pairs += int(counts.sum())
        best = np.argmax(block, axis=1).astype(np.int64)
        out.best_col[rows] = best
        out.best_score[rows] = block[np.arange(r), best]
        masked = np.where(open_cols[None, :], block, -1)
        del feasible
        top = masked.max(axis=1).astype(np.int64)
        in_pool = ~is_pinned[rows] & (top >= 0)
        out.pool_row[rows] = in_pool
        out.row_top[rows] = top
        sub = masked[in_pool]
        del masked
        if len(sub):
            out.degree += (sub >= 0).sum(axis=0)
            values = sub[sub >= 0]
            out.histogram += np.bincount(values, minlength=SCORE_SCALE + 1)
            del values
            if k < m:
                idx = np.argpartition(-sub, k - 1, axis=1)[:, :k]
            else:
                idx = np.broadcast_to(np.arange(m), sub.shape)
            vals = np.take_along_axis(sub, idx, axis=1)
            keep = vals >= 0
            pool_rows_here = rows[in_pool]
            if depth:
                # Running best `depth` pool mentees of every mentor.
                both = np.concatenate([col_scores, sub])
                both_rows = np.concatenate(
                    [col_rows, np.broadcast_to(pool_rows_here[:, None], sub.shape)]
                )
                if len(both) > depth:
                    pick = np.argpartition(-both, depth - 1, axis=0)[:depth]
                    col_scores = np.take_along_axis(both, pick, axis=0)
                    col_rows = np.take_along_axis(both_rows, pick, axis=0)
                else:
                    col_scores, col_rows = both, both_rows
            rows_parts.append(np.broadcast_to(pool_rows_here[:, None], idx.shape)[keep])
            cols_parts.append(np.asarray(idx, dtype=np.int64)[keep])
            score_parts.append(vals[keep].astype(np.int64))
        tell("scoring", lo + (hi - lo) * (number + 1) / total)
    found = col_scores >= 0
    rows_parts.append(col_rows[found])
    cols_parts.append(np.broadcast_to(np.arange(m, dtype=np.int64)[None, :], found.shape)[found])
    score_parts.append(col_scores[found].astype(np.int64))
    cand_rows = np.concatenate(rows_parts).astype(np.int64)
    cand_cols = np.concatenate(cols_parts).astype(np.int64)
    _, first = np.unique(cand_rows * max(m, 1) + cand_cols, return_index=True)
    out.cand_rows = cand_rows[first]
    out.cand_cols = cand_cols[first]
    out.cand_scores = np.concatenate(score_parts).astype(np.int64)[first]
    return out


@dataclass
class SparsePool:
    """The pool of a sparse solve: same meaning as :class:`matcher.solver.PoolProblem`."""

    rows: IntArray  # global mentee rows
    cols: IntArray  # global mentor cols
    slots: IntArray
    first_penalty_k: IntArray
    waiting_class: IntArray
    objective: str
    load_penalty: float
    row_top: IntArray  # best pool score per pool row
    histogram: IntArray
    # candidate edges, pool-local
    cand_p: IntArray
    cand_c: IntArray
    cand_s: IntArray


@dataclass
class Report:
    """What a pricing scan measures for the current full matching."""

    blocking_pairs: int = 0
    spare_any: BoolArray = field(default_factory=lambda: np.zeros(0, dtype=np.bool_))


@dataclass(frozen=True)
class Current:
    """The full matching (pins included) a pricing scan reports on."""

    own: IntArray  # (n,) score of each mentee's pair, -1 when unmatched
    worst: IntArray  # (m,) worst score among a mentor's mentees, -1 if it has a free slot
    spare: BoolArray  # (m,) mentor still has a free slot


@dataclass
class Certified:
    """A certified optimum of the pool (pool-local rows and mentor columns)."""

    rows: IntArray
    cols: IntArray
    value: int
    first_value: int
    rounds: int
    grid: int
    waiting_classes: int
    report: Report


class Weights:
    """The integer objective of :func:`matcher.solver.encode`, edge by edge."""

    def __init__(self, pool: SparsePool) -> None:
        slots = pool.slots
        self.slot_mentor = np.repeat(np.arange(len(slots), dtype=np.int64), slots)
        self.slot_start = np.cumsum(slots) - slots
        within = np.arange(len(self.slot_mentor), dtype=np.int64) - np.repeat(
            self.slot_start, slots
        )
        penalty_k = pool.first_penalty_k[self.slot_mentor] + within
        self.omega, self.classes = _omega(pool.waiting_class)
        n_pairs = min(len(pool.rows), len(self.slot_mentor))
        self.grid, self.multiplier, penalty = _choose_grid(
            pool.objective, n_pairs, max(self.classes, 1), pool.load_penalty, penalty_k
        )
        self.max_score = pool.objective == "max_score"
        self.slot_penalty: IntArray = penalty * self.multiplier if self.max_score else penalty
        self.factor = SCORE_SCALE // self.grid
        self.n_slots = len(self.slot_mentor)

    def base(self, s: IntArray, w: IntArray) -> IntArray:
        """Weight of a mentee-mentor pair before the slot penalty."""
        s_obj = s if self.factor == 1 else (s + self.factor // 2) // self.factor
        out: IntArray = (
            s_obj * self.multiplier + w if self.max_score else s_obj + w * self.multiplier
        )
        return out


def _expand(
    weights: Weights, pool: SparsePool, p: IntArray, c: IntArray, a: IntArray
) -> tuple[IntArray, IntArray, IntArray]:
    # Mentee-mentor edges of base weight ``a`` -> mentee-slot edges of positive weight.
    rep = pool.slots[c]
    src = np.repeat(np.arange(len(p), dtype=np.int64), rep)
    offsets = np.cumsum(rep) - rep
    slot = np.repeat(weights.slot_start[c] - offsets, rep) + np.arange(len(src), dtype=np.int64)
    w = a[src] - weights.slot_penalty[slot]
    keep = w > 0
    return p[src][keep], slot[keep], w[keep]


def _match(
    n_p: int, n_slots: int, ep: IntArray, es: IntArray, w: IntArray
) -> tuple[IntArray, IntArray]:
    """Maximum-weight matching of mentees to slots (LAPJVsp with private dummies)."""
    slot_major = n_slots <= n_p
    row, col = (es, ep) if slot_major else (ep, es)
    n_rows, n_cols = (n_slots, n_p) if slot_major else (n_p, n_slots)
    if n_rows == 0 or len(w) == 0:
        empty = np.zeros(0, dtype=np.int64)
        return empty, empty
    order = np.argsort(row, kind="stable")
    row, col, w = row[order], col[order], w[order]
    big = int(w.max()) + 1
    counts = np.bincount(row, minlength=n_rows).astype(np.int64) + 1
    indptr = np.zeros(n_rows + 1, dtype=np.int64)
    np.cumsum(counts, out=indptr[1:])
    size = int(indptr[-1])
    indices = np.empty(size, dtype=np.int32)
    data = np.empty(size, dtype=np.float64)
    real = np.arange(len(row), dtype=np.int64) + row
    indices[real] = col
    data[real] = (big - w).astype(np.float64)
    dummy = indptr[1:] - 1
    indices[dummy] = n_cols + np.arange(n_rows, dtype=np.int32)
    data[dummy] = float(big)
    graph = sp.csr_array((data, indices, indptr), shape=(n_rows, n_cols + n_rows))
    r, c = min_weight_full_bipartite_matching(graph)
    r = np.asarray(r, dtype=np.int64)
    c = np.asarray(c, dtype=np.int64)
    used = c < n_cols
    r, c = r[used], c[used]
    return (c, r) if slot_major else (r, c)  # (mentee, slot)


def _duals(
    n_p: int,
    n_slots: int,
    ep: IntArray,
    es: IntArray,
    w: IntArray,
    mentee: IntArray,
    slot: IntArray,
) -> tuple[IntArray, IntArray]:
    """Optimal LP duals of a maximum-weight matching, checked exactly.

    Complementary slackness fixes ``v_s = W_q - u_q`` for the slot ``s`` of a
    matched mentee ``q`` (weight ``W_q``) and ``u = 0`` / ``v = 0`` for
    unmatched mentees / slots; dual feasibility then reads as difference
    constraints on ``u`` (``u_q - u_p <= W_q - w_ps``, ``L_p <= u_p <= W_p``),
    solved by shortest paths (Bellman-Ford from the upper bounds, so the
    largest solution) and then checked edge by edge.
    """
    mate = np.full(n_slots, -1, dtype=np.int64)
    mate[slot] = mentee
    own_w = np.zeros(n_p, dtype=np.int64)
    key_matched = np.zeros(n_p, dtype=np.bool_)
    # weight of each matched edge: look it up among the edges
    edge_key = ep * n_slots + es
    order = np.argsort(edge_key, kind="stable")
    pos = order[np.searchsorted(edge_key[order], mentee * n_slots + slot)]
    own_w[mentee] = w[pos]
    key_matched[mentee] = True
    q = mate[es]
    to_mate = (q >= 0) & (q != ep)
    lower = np.zeros(n_p, dtype=np.int64)
    free_slot = q < 0
    np.maximum.at(lower, ep[free_slot], w[free_slot])
    # Largest u with u_p <= W_p (u = 0 unmatched) and u_q <= u_p + W_q - w_ps:
    # Bellman-Ford from these upper bounds, vectorised, in exact int64.
    src, dst = ep[to_mate], q[to_mate]
    length = own_w[dst] - w[to_mate]
    order = np.argsort(dst, kind="stable")
    src, dst, length = src[order], dst[order], length[order]
    heads = np.flatnonzero(np.r_[True, dst[1:] != dst[:-1]]) if len(dst) else np.zeros(0, np.int64)
    targets = dst[heads]
    u = own_w.copy()
    for _ in range(n_p + 1):
        if not len(heads):
            break
        best = np.minimum.reduceat(u[src] + length, heads)
        lower_now = best < u[targets]
        if not lower_now.any():
            break
        u[targets[lower_now]] = best[lower_now]
    else:  # pragma: no cover - a negative cycle: the matching was not optimal
        raise AssertionError("sparse solver: no dual for the matching")
    v = np.zeros(n_slots, dtype=np.int64)
    v[slot] = own_w[mentee] - u[mentee]
    ok = (
        bool((u >= 0).all())
        and bool((v >= 0).all())
        and bool((u[~key_matched] == 0).all())
        and bool((u >= lower).all())
        and bool((u[ep] + v[es] >= w).all())
    )
    if not ok:  # pragma: no cover - would be a bug, never an approximation
        raise AssertionError("sparse solver: dual certificate failed")
    return u, v


def certified_solve(
    prep: Prepared,
    evaluator: Evaluator,
    pool: SparsePool,
    threshold: int | None,
    current_of: Callable[[IntArray, IntArray], Current],
    tell: Tell,
    label: str,
) -> Certified:
    """Solve the pool exactly by candidates, duals and pricing.

    Parameters
    ----------
    prep, evaluator
        The problem and its evaluator.
    pool : SparsePool
        The pool; its candidate edges grow with each pricing round.
    threshold : int or None
        Pairs scoring below it are excluded (``fair``).
    current_of : callable
        Maps a pool solution (pool rows, pool cols) to the full matching the
        pricing scan reports blocking pairs and spare mentors for.
    tell : callable
        ``tell(phase, fraction)`` (fractions are clamped by the caller).
    label : str
        Prefix of the progress phase.

    Returns
    -------
    Certified
        The optimal matching, its integer objective value, the value of the
        first restricted solve and the number of pricing rounds.
    """
    weights = Weights(pool)
    n_p, n_slots = len(pool.rows), weights.n_slots
    thr = 0 if threshold is None else max(threshold, 0)
    pool_index = np.full(prep.n, -1, dtype=np.int64)
    pool_index[pool.rows] = np.arange(n_p, dtype=np.int64)
    rounds = 0
    total_chunks = chunk_count(prep)

    def solve_restricted() -> tuple[IntArray, IntArray, IntArray, IntArray, int]:
        use = pool.cand_s >= thr
        ep, es, w = _expand(
            weights,
            pool,
            pool.cand_p[use],
            pool.cand_c[use],
            weights.base(pool.cand_s[use], weights.omega[pool.cand_p[use]]),
        )
        tell(f"{label}solving round {rounds + 1}", 1.0 - 0.5**rounds)
        mentee, slot = _match(n_p, n_slots, ep, es, w)
        if len(mentee):
            u, v = _duals(n_p, n_slots, ep, es, w, mentee, slot)
            edge_key = ep * n_slots + es
            order = np.argsort(edge_key, kind="stable")
            pos = order[np.searchsorted(edge_key[order], mentee * n_slots + slot)]
            value = int(w[pos].sum())
        else:
            u, v = np.zeros(n_p, dtype=np.int64), np.zeros(n_slots, dtype=np.int64)
            value = 0
        cols = weights.slot_mentor[slot]
        ordered = np.argsort(mentee, kind="stable")
        # Mentor-level dual: the cheapest slot of each mentor (every pool mentor has one).
        big_v = np.minimum.reduceat(weights.slot_penalty + v, weights.slot_start)
        return u, big_v, mentee[ordered], cols[ordered], value

    state = solve_restricted()
    first_value = state[4]
    while True:
        u, big_v, sol_rows, sol_cols, value = state
        current = current_of(sol_rows, sol_cols)
        report = Report(spare_any=np.zeros(prep.n, dtype=np.bool_))
        rounds += 1
        new_p: list[IntArray] = []
        new_c: list[IntArray] = []
        new_s: list[IntArray] = []
        res_p: list[IntArray] = []
        res_c: list[IntArray] = []
        res_s: list[IntArray] = []
        for number, (start, block) in enumerate(chunks(prep, evaluator)):
            r = block.shape[0]
            own = current.own[start : start + r]
            feasible = block >= 0
            wide = block.astype(np.int64)
            report.blocking_pairs += int(
                np.count_nonzero(feasible & (wide > own[:, None]) & (wide > current.worst[None, :]))
            )
            report.spare_any[start : start + r] = (feasible & current.spare[None, :]).any(axis=1)
            del feasible, wide
            p_here = pool_index[start : start + r]
            in_pool = p_here >= 0
            if in_pool.any():
                p_in = p_here[in_pool]
                sub = block[in_pool][:, pool.cols].astype(np.int64)
                reduced = (
                    weights.base(sub, weights.omega[p_in][:, None])
                    - u[p_in][:, None]
                    - big_v[None, :]
                )
                valid = sub >= thr
                if valid.any():
                    # The most profitable pairs of each row: the violating ones join
                    # the candidates, the others wait in the reserve.
                    masked = np.where(valid, reduced, -(1 << 62))  # negation must not overflow
                    k = min(PRICING_PER_ROW + RESERVE_PER_ROW, masked.shape[1])
                    if k < masked.shape[1]:
                        top = np.argpartition(-masked, k - 1, axis=1)[:, :k]
                    else:
                        top = np.broadcast_to(np.arange(masked.shape[1]), masked.shape)
                    rr = np.repeat(np.arange(len(p_in)), top.shape[1])
                    cc = np.asarray(top, dtype=np.int64).reshape(-1)
                    red = masked[rr, cc]
                    ok = valid[rr, cc]
                    add = ok & (red > 0)
                    wait = ok & (red <= 0)
                    new_p.append(p_in[rr[add]])
                    new_c.append(cc[add])
                    new_s.append(sub[rr[add], cc[add]])
                    res_p.append(p_in[rr[wait]])
                    res_c.append(cc[wait])
                    res_s.append(sub[rr[wait], cc[wait]])
            done = (number + 1) / total_chunks
            tell(f"{label}pricing round {rounds}", 1.0 - 0.5 ** (rounds - 1) + 0.5**rounds * done)
        if not sum(len(x) for x in new_p):
            return Certified(
                rows=sol_rows,
                cols=sol_cols,
                value=value,
                first_value=first_value,
                rounds=rounds,
                grid=weights.grid,
                waiting_classes=weights.classes,
                report=report,
            )
        pool.cand_p = np.concatenate([pool.cand_p, *new_p])
        pool.cand_c = np.concatenate([pool.cand_c, *new_c])
        pool.cand_s = np.concatenate([pool.cand_s, *new_s])
        reserve = (np.concatenate(res_p), np.concatenate(res_c), np.concatenate(res_s))
        # Cheap rounds first: re-solve and price only the reserve until it is clean;
        # the next full pass then usually certifies at once.
        state = solve_restricted()
        while len(reserve[0]):
            u, big_v = state[0], state[1]
            rp, rc, rs = reserve
            profit = weights.base(rs, weights.omega[rp]) - u[rp] - big_v[rc]
            move = profit > 0
            if not move.any():
                break
            pool.cand_p = np.concatenate([pool.cand_p, rp[move]])
            pool.cand_c = np.concatenate([pool.cand_c, rc[move]])
            pool.cand_s = np.concatenate([pool.cand_s, rs[move]])
            reserve = (rp[~move], rc[~move], rs[~move])
            state = solve_restricted()


def candidate_matching_size(pool: SparsePool, threshold: int) -> int:
    """Size of a maximum matching using only candidate pairs scoring >= threshold.

    A lower bound of the same size over all pairs (the candidates are a
    subset), computed without any pass over the scores.

    Parameters
    ----------
    pool : SparsePool
        The pool and its current candidates.
    threshold : int
        Minimum score.

    Returns
    -------
    int
        Matched mentees.
    """
    weights = Weights(pool)
    use = pool.cand_s >= max(threshold, 0)
    p, c = pool.cand_p[use], pool.cand_c[use]
    # Every slot-level edge, whatever its weight: only the cardinality counts.
    ep, es, _ = _expand(weights, pool, p, c, np.ones(len(p), dtype=np.int64) << 62)
    n_p, n_slots = len(pool.rows), weights.n_slots
    if len(ep) == 0:
        return 0
    slot_major = n_slots <= n_p
    row, col = (es, ep) if slot_major else (ep, es)
    n_rows, n_cols = (n_slots, n_p) if slot_major else (n_p, n_slots)
    order = np.argsort(row, kind="stable")
    indptr = np.zeros(n_rows + 1, dtype=np.int64)
    np.cumsum(np.bincount(row, minlength=n_rows), out=indptr[1:])
    graph = sp.csr_array(
        (np.ones(len(row), dtype=np.int8), col[order].astype(np.int32), indptr),
        shape=(n_rows, n_cols),
    )
    match = maximum_bipartite_matching(graph, perm_type="column")
    return int(np.count_nonzero(np.asarray(match) >= 0))
