"""The ``stable`` objective: a matching no mentee and mentor would both leave.

Deferred acceptance (Gale and Shapley; Roth's hospital-resident form for mentors with
several slots), mentees proposing, so the result is the *mentee-optimal* stable
matching: every mentee gets the best mentor they can have in any stable matching.

Both sides rank the other by the pair score (the same number the other objectives
optimise; infeasible pairs are unacceptable to both). Ties are broken
deterministically, the same way on both sides: a mentee prefers the mentor of the
lower pool column, a mentor the mentee of the lower pool row (pool order is the
order of the problem's ids). With the ties broken, preferences are strict, so no
pair (i, j) exists where both strictly prefer each other to what they have; a
fortiori no *blocking pair* as :func:`matcher.engine.count_blocking_pairs` counts
them (strictly higher scores on both sides, or a mentor with a free slot).

Capacities are the pool's free slots; pins were placed before (their mentees are
not in the pool and their slots are taken), hard rules made pairs infeasible. The
load penalty and waiting priority play no part: a stable matching is defined by
the two sides' rankings alone.
"""

from __future__ import annotations

import numpy as np

from matcher.types import Int32Array, IntArray


def deferred_acceptance(scores: Int32Array, slots: IntArray) -> tuple[IntArray, IntArray]:
    """The mentee-optimal stable matching of a pool.

    Parameters
    ----------
    scores : ndarray of int32, shape (n, m)
        Pair scores on the score grid, ``-1`` for infeasible pairs.
    slots : ndarray of int64, shape (m,)
        Free slots per mentor.

    Returns
    -------
    rows, cols : ndarray of int64
        The matched pairs (row i with mentor column j), sorted by row.

    Notes
    -----
    Each round, every mentee who is free and has a mentor left to ask proposes to
    their best such mentor; each mentor keeps the best ``slots[j]`` of the mentees
    holding or proposing, and rejects the rest. It ends when nobody free has anyone
    left to ask: at most one proposal per feasible pair, vectorised per round.
    """
    n, m = scores.shape
    mentor_of = np.full(n, -1, dtype=np.int64)
    if n == 0 or m == 0:
        empty = np.zeros(0, dtype=np.int64)
        return empty, empty
    # Each mentee's mentors from best to worst; a stable sort keeps lower columns first.
    order = np.argsort(-scores.astype(np.int64), axis=1, kind="stable")
    degree = (scores >= 0).sum(axis=1)
    asked = np.zeros(n, dtype=np.int64)
    free = np.flatnonzero(degree > 0)
    while len(free):
        cols = order[free, asked[free]]
        asked[free] += 1
        touched = np.unique(cols)
        holders = np.flatnonzero(np.isin(mentor_of, touched))
        rows = np.concatenate([holders, free])
        want = np.concatenate([mentor_of[holders], cols])
        score = scores[rows, want].astype(np.int64)
        # Per mentor: best score first, then lower row.
        rank = np.lexsort((rows, -score, want))
        rows, want = rows[rank], want[rank]
        starts = np.flatnonzero(np.r_[True, want[1:] != want[:-1]])
        place = np.arange(len(want)) - np.repeat(starts, np.diff(np.r_[starts, len(want)]))
        keep = place < slots[want]
        mentor_of[rows[keep]] = want[keep]
        mentor_of[rows[~keep]] = -1
        rejected = rows[~keep]
        free = np.sort(rejected[asked[rejected] < degree[rejected]])
    matched = np.flatnonzero(mentor_of >= 0)
    return matched.astype(np.int64), mentor_of[matched]
