"""The objectives as plain code on a dense score matrix: a specification to check by eye.

Keys -> index lists -> matrix -> ``linear_sum_assignment`` -> keys, as in
networkx's bipartite matching. Slow (a dense matrix per solve, a loop over
thresholds for ``fair``) and only for small problems, where float64 holds the
tier constants exactly; the property tests use it as the oracle next to brute
force. :func:`matcher.solve` reaches the same objective values with the
encoding of :mod:`matcher.objective`.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import numpy as np
from scipy.optimize import linear_sum_assignment

Q = 1_000_000  # scores are integers on the 1e-6 grid


def _best(weight: np.ndarray, keep: np.ndarray) -> list[tuple[int, int]]:
    # A maximum-weight matching among the pairs in `keep` with a positive weight.
    gain = np.where(keep & (weight > 0), weight, 0.0)
    rows, cols = linear_sum_assignment(gain, maximize=True)
    return [(int(r), int(c)) for r, c in zip(rows, cols, strict=True) if gain[r, c] > 0]


def reference_pairs(
    scores: Mapping[tuple[int, int], int],
    mentees: Sequence[int],
    waiting_class: Mapping[int, int],
    slots: Mapping[int, tuple[int, int]],
    objective: str,
    load_penalty: float,
) -> list[tuple[int, int]]:
    """The optimal (mentee id, mentor id) pairs of the pool for ``objective``.

    Parameters
    ----------
    scores : mapping of (mentee id, mentor id) to int
        Score of every feasible pair on the 1e-6 grid (absent: infeasible).
    mentees : sequence of int
        The pool's mentees.
    waiting_class : mapping of mentee id to int
        Larger waited longer.
    slots : mapping of mentor id to (free slots, k - 1 of the first free slot)
        The pool's mentors.
    objective : {"max_participation", "max_score", "fair"}
    load_penalty : float
        The ``k``-th slot of a mentor scores ``s - load_penalty * (k - 1)``.
    """
    # keys -> index lists -> matrices: s (score, -1 infeasible) and v = s - penalty per slot
    columns = [(r, k0 + t) for r, (free, k0) in slots.items() for t in range(free)]
    n = len(mentees)
    s = np.array([[scores.get((e, r), -1) for r, _ in columns] for e in mentees], dtype=float)
    s = s.reshape(n, len(columns))
    feasible = s >= 0
    v = s - np.array([round(load_penalty * k * Q) for _, k in columns], dtype=float)
    rank, classes = _waiting_ranks(mentees, waiting_class, feasible)
    spread = n * (Q + round(max([k for _, k in columns], default=0) * load_penalty * Q)) + 1

    def participation(keep: np.ndarray) -> list[tuple[int, int]]:
        # Most pairs, then the most longest-waiters (counts compared from the longest
        # class down: (n + 1) ** rank), then the highest total of v.
        everyone = (n + 1) ** classes
        return _best(((everyone + (n + 1) ** rank) * spread + v) * keep, keep)

    if objective == "max_score":
        # The highest total of v, then the most (1 + rank)-weighted mentees.
        chosen = _best(v * (n * (classes + 1) + 1) + 1 + rank, feasible)
    elif objective == "max_participation":
        chosen = participation(feasible)
    else:  # fair: the highest threshold that keeps the most pairs, then participation
        chosen = participation(s >= _bottleneck(s)) if feasible.any() else []
    # -> keys
    return [(mentees[i], columns[j][0]) for i, j in chosen]


def _waiting_ranks(
    mentees: Sequence[int], waiting_class: Mapping[int, int], feasible: np.ndarray
) -> tuple[np.ndarray, int]:
    # Dense rank (0 = shortest wait) of each mentee among those with a feasible slot.
    open_classes = {waiting_class[e] for e, row in zip(mentees, feasible, strict=True) if row.any()}
    classes = sorted(open_classes)
    ranks = [classes.index(waiting_class[e]) if waiting_class[e] in classes else 0 for e in mentees]
    return np.array(ranks, dtype=float).reshape(len(mentees), 1), len(classes)


def _bottleneck(s: np.ndarray) -> float:
    # The highest t such that the pairs scoring >= t still match as many as all pairs.
    feasible = s >= 0
    most = len(_best(feasible.astype(float), feasible))
    for t in sorted({float(x) for x in s[feasible]}, reverse=True):
        if len(_best(feasible.astype(float), s >= t)) == most:
            return t
    return 0.0
