"""The restricted problem: the candidate edges only, solved exactly, cold or warm.

The working set (``SparsePool.cand_*``) starts with the first scan's
candidates and grows with each pricing round. :class:`Restricted` solves it
with ``min_weight_full_bipartite_matching``
(:func:`matcher.bipartite.max_weight_matching`); in the tail of pricing, when
few pairs violate the previous round's duals, on costs reduced by those duals
(:func:`match_warm`), which leaves the optimum where it is and spares the
solver most of its work; and not at all when the previous matching is still
optimal on the grown working set (its duals are then recomputed,
:func:`matcher.sparse.duals.duals`).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import scipy.sparse as sp
from scipy.sparse.csgraph import min_weight_full_bipartite_matching

from matcher.bipartite import max_weight_matching
from matcher.objective import Objective
from matcher.sparse.duals import NoDual, duals
from matcher.sparse.options import SparseOptions
from matcher.sparse.pairs import first_per_group
from matcher.types import IntArray


@dataclass
class SparsePool:
    """The pool of a sparse solve (:class:`matcher.pool.Pool`) with its working set."""

    rows: IntArray  # global mentee rows
    cols: IntArray  # global mentor cols
    slots: IntArray
    first_penalty_k: IntArray
    waiting_class: IntArray
    objective: str
    load_penalty: float
    row_top: IntArray  # best pool score per pool row
    histogram: IntArray
    # candidate edges (the working set of the restricted problem), pool-local
    cand_p: IntArray
    cand_c: IntArray
    cand_s: IntArray
    considered: int = 0  # first candidates plus every pair pricing brought in
    waiting_priority: str = "strong"  # see matcher.model.WAITING_PRIORITIES

    def local_index(self, n: int, m: int) -> tuple[IntArray, IntArray]:
        """Pool row of each of the ``n`` mentees and pool column of each of the ``m``
        mentors (-1 outside the pool)."""
        rows = np.full(n, -1, dtype=np.int64)
        rows[self.rows] = np.arange(len(self.rows), dtype=np.int64)
        cols = np.full(m, -1, dtype=np.int64)
        cols[self.cols] = np.arange(len(self.cols), dtype=np.int64)
        return rows, cols

    def add(self, p: IntArray, c: IntArray, s: IntArray, key: IntArray, per_row: int) -> None:
        """Add each mentee's ``per_row`` pairs of least ``key`` to the working set."""
        keep = first_per_group(p, key, per_row)
        self.cand_p = np.concatenate([self.cand_p, p[keep]])
        self.cand_c = np.concatenate([self.cand_c, c[keep]])
        self.cand_s = np.concatenate([self.cand_s, s[keep]])
        self.considered += int(np.count_nonzero(keep))


def match_warm(
    n_p: int,
    n_slots: int,
    ep: IntArray,
    es: IntArray,
    reduced: IntArray,
    u: IntArray,
    v: IntArray,
) -> tuple[IntArray, IntArray]:
    """A maximum-weight matching of the working set, solved on costs reduced by earlier duals.

    ``u``, ``v`` are optimal duals of the doubled weights ``2 w`` of an earlier
    working set, and ``reduced`` is ``u[ep] + v[es] - 2 w`` edge by edge. The
    problem is made square: every mentee has a private dummy slot, every slot a
    private dummy mentee, and the dummies pair up along the real edges, so that
    every full matching covers each mentee and each slot exactly once. Then the
    reduced costs (plus one constant, to keep them positive) change every full
    matching's cost by the same amount and leave the optimum where it was; the
    pairs that were tight cost nothing, and the solver only repairs around the
    few that violate the old duals.
    """
    if len(reduced) == 0:
        empty = np.zeros(0, dtype=np.int64)
        return empty, empty
    base = max(int(-reduced.min()), 0) + 1  # costs stay > 0 (zeros would vanish)
    n_edges = len(ep)
    p_all = np.arange(n_p, dtype=np.int64)
    s_all = np.arange(n_slots, dtype=np.int64)
    rows = np.concatenate([ep, p_all, n_p + es, n_p + s_all])
    cols = np.concatenate([es, n_slots + p_all, n_slots + ep, s_all])
    costs = np.concatenate(
        [reduced + base, u + base, np.full(n_edges, base, dtype=np.int64), v + base]
    ).astype(np.float64)
    size = n_p + n_slots
    graph = sp.csr_array((costs, (rows, cols)), shape=(size, size))
    r, c = min_weight_full_bipartite_matching(graph)
    r = np.asarray(r, dtype=np.int64)
    c = np.asarray(c, dtype=np.int64)
    real = (r < n_p) & (c < n_slots)
    return r[real], c[real]


def trim(
    pool: SparsePool,
    weights: Objective,
    per_row: int,
    u: IntArray,
    big_v: IntArray,
    thr: int,
    matched_p: IntArray,
    matched_c: IntArray,
) -> None:
    """Keep the matched pairs and each mentee's and mentor's ``per_row`` candidates
    of least reduced cost; pairs under the threshold are kept as they are."""
    p, c, s = pool.cand_p, pool.cand_c, pool.cand_s
    usable = s >= thr
    slack = u[p] + big_v[c] - 2 * weights.base(s, weights.omega[p])
    slack = np.where(usable, slack, np.iinfo(np.int64).max)
    n_cols = max(len(pool.cols), 1)
    keep = ~usable | np.isin(p * n_cols + c, matched_p * n_cols + matched_c)
    keep |= first_per_group(p, slack, per_row)
    keep |= first_per_group(c, slack, per_row)
    pool.cand_p, pool.cand_c, pool.cand_s = p[keep], c[keep], s[keep]


@dataclass(frozen=True)
class Solved:
    """An optimum of the restricted problem with its duals (of the doubled weights).

    Attributes
    ----------
    u : ndarray of int64
        Dual per pool mentee.
    big_v : ndarray of int64
        Mentor-level dual: the cheapest slot's ``2 * penalty + v`` per pool mentor.
    rows, cols : ndarray of int64
        The matching (pool mentee, pool mentor), by mentee.
    value : int
        Its integer objective value.
    """

    u: IntArray
    big_v: IntArray
    rows: IntArray
    cols: IntArray
    value: int


class Restricted:
    """Solves the working set of a pool exactly, reusing the last solve where it can.

    Parameters
    ----------
    pool : SparsePool
        The pool (its working set grows between solves).
    weights : Objective
        Its integer objective.
    threshold : int
        Pairs scoring below it are left out (``fair``).
    options : SparseOptions
        ``warm_violators_share`` and ``keep_dual_rounds``.
    """

    def __init__(
        self, pool: SparsePool, weights: Objective, threshold: int, options: SparseOptions
    ) -> None:
        self.pool, self.weights, self.threshold, self.options = pool, weights, threshold, options
        self.last_duals: tuple[IntArray, IntArray] | None = None
        self.last_match: tuple[IntArray, IntArray] | None = None

    def _edges(self) -> tuple[IntArray, IntArray, IntArray]:
        pool, weights = self.pool, self.weights
        use = pool.cand_s >= self.threshold
        p, c = pool.cand_p[use], pool.cand_c[use]
        return weights.slot_edges(p, c, weights.base(pool.cand_s[use], weights.omega[p]))

    def _kept(self, ep: IntArray, es: IntArray, w: IntArray) -> tuple[IntArray, IntArray] | None:
        # Duals for the previous matching on the grown working set, if it is still optimal.
        if self.last_match is None or not len(self.last_match[0]):
            return None
        mentee, slot = self.last_match
        n_p, n_slots = len(self.pool.rows), self.weights.n_slots
        try:
            return duals(n_p, n_slots, ep, es, w, mentee, slot, self.options.keep_dual_rounds)
        except NoDual:
            return None

    def _match(self, ep: IntArray, es: IntArray, w: IntArray) -> tuple[IntArray, IntArray]:
        n_p, n_slots = len(self.pool.rows), self.weights.n_slots
        if self.last_duals is not None:
            u_old, v_old = self.last_duals
            reduced = u_old[ep] + v_old[es] - 2 * w
            violators = int(np.count_nonzero(reduced < 0))
            if violators < self.options.warm_violators_share * n_p:
                return match_warm(n_p, n_slots, ep, es, reduced, u_old, v_old)
        return max_weight_matching(n_p, n_slots, ep, es, w, self.weights.cardinality_first)

    def solve(self, try_keep: bool, before_solve: Callable[[], None]) -> Solved:
        """Solve the working set; with ``try_keep``, keep the last matching if still optimal.

        Parameters
        ----------
        try_keep : bool
            Try new duals for the previous matching before solving again.
        before_solve : callable
            Called just before an actual solve (for progress).

        Returns
        -------
        Solved
        """
        weights = self.weights
        n_p, n_slots = len(self.pool.rows), weights.n_slots
        ep, es, w = self._edges()
        kept = self._kept(ep, es, w) if try_keep else None
        if kept is not None:
            assert self.last_match is not None
            mentee, slot = self.last_match
            u, v = kept
        else:
            before_solve()
            mentee, slot = self._match(ep, es, w)
            self.last_match = (mentee, slot)
            if len(mentee):
                u, v = duals(n_p, n_slots, ep, es, w, mentee, slot)
        if len(mentee):
            self.last_duals = (u, v)
            # Strong duality, exact by construction: each of the two duals `duals` sums
            # is 0 off the matching and adds up to each matched weight on it.
            value = (int(u.sum()) + int(v.sum())) // 2
        else:
            u, v = np.zeros(n_p, dtype=np.int64), np.zeros(n_slots, dtype=np.int64)
            value = 0
        cols = weights.slots.slot_mentor[slot]
        ordered = np.argsort(mentee, kind="stable")
        # Mentor-level dual (of the doubled weights): the cheapest slot of each mentor
        # (every pool mentor has one).
        big_v = np.minimum.reduceat(2 * weights.slot_penalty + v, weights.slots.slot_start)
        return Solved(u, big_v, mentee[ordered], cols[ordered], value)
