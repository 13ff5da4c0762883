"""The one exact integer encoding of every objective, with its precision budget.

Every objective is lexicographic. Its tiers are folded into one integer weight
per (mentee, slot) edge, maximised by one exact assignment (both backends use
this encoding; :mod:`matcher.reference` states the same objectives as plain
code). All weights and all sums stay below ``2**50``, so float64 arithmetic
inside the solvers is exact and the optimum is exact for the integer
objective. Scores enter it on the grid ``1/Q`` (``Q = 10**6``, the reporting
grid, unless the problem is so large that the budget needs a coarser grid:
:func:`choose_grid`; ``Stats.score_resolution`` says at which resolution the
optimum is certified).

Tiers (``w`` = waiting class rank, 1 for the shortest wait, ``v`` = slot
score ``s - penalty`` on the grid, ``N`` = most pairs possible). With waiting
priority ``strong``:

* ``max_participation``: ``M * w + v`` with ``M = N * (Q + max penalty) + 1``.
  Because every ``w >= 1`` and the matched mentee sets are the independent
  sets of a (transversal) matroid, maximising ``sum(w)`` gives a maximum
  matching that matches the longest waiters first, whatever the positive
  increasing ranks; ``M`` exceeds any possible difference in ``sum(v)``.
* ``fair``: the ``max_participation`` weights restricted to pairs scoring at
  least the bottleneck threshold (:mod:`matcher.bottleneck`).
* ``max_score``: ``M * v + w`` with ``M = N * K + 1`` (``K`` waiting classes):
  the highest total, ties going to more and longer-waiting mentees.

With ``tie_break``, ``max_participation`` and ``fair`` put the score before waiting:
``B + M * v + w`` with ``M = N * K + 1`` and ``B = N * (M * (Q + max penalty) + K) + 1``
(``B`` exceeds any difference in ``sum(M * v + w)``, so the most pairs come first; then
the highest total; waiting only breaks ties of equal total on the grid). With ``none``
every row has the same waiting class (the pool does it), so ``w`` is constant.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol

import numpy as np

from matcher.errors import MatcherError
from matcher.pool import Slots
from matcher.scoring import SCORE_SCALE
from matcher.types import IntArray

#: Largest integer objective value (float64 adds integers exactly below 2**53).
BUDGET = 1 << 50
#: Score grids tried, finest first.
GRIDS = (SCORE_SCALE, SCORE_SCALE // 10, SCORE_SCALE // 100, SCORE_SCALE // 1000, 100)


class PoolTerms(Protocol):
    """What the encoding reads of a pool (:class:`matcher.pool.Pool` and the backends' pools)."""

    @property
    def slots(self) -> IntArray: ...
    @property
    def first_penalty_k(self) -> IntArray: ...
    @property
    def waiting_class(self) -> IntArray: ...
    @property
    def objective(self) -> str: ...
    @property
    def load_penalty(self) -> float: ...
    @property
    def waiting_priority(self) -> str: ...


#: Tier orders of the encoding (see the module docstring).
WAIT_FIRST, SCORE_FIRST, COUNT_FIRST = "wait_first", "score_first", "count_first"


def mode_of(objective: str, waiting_priority: str) -> str:
    """Which tier order encodes `objective` under `waiting_priority`."""
    if objective == "max_score":
        return SCORE_FIRST
    return COUNT_FIRST if waiting_priority == "tie_break" else WAIT_FIRST


def waiting_ranks(waiting_class: IntArray) -> tuple[IntArray, int]:
    """Dense rank of each waiting class, 1 for the shortest wait, and the number of classes."""
    if len(waiting_class) == 0:
        return np.zeros(0, dtype=np.int64), 0
    _, rank = np.unique(waiting_class, return_inverse=True)
    omega = rank.astype(np.int64).reshape(-1) + 1
    return omega, int(omega.max())


def choose_grid(
    mode: str, n_pairs: int, classes: int, load_penalty: float, penalty_k: IntArray
) -> tuple[int, int, int, IntArray]:
    """Finest score grid whose integer objective stays below :data:`BUDGET`.

    Parameters
    ----------
    mode : str
        The tier order (:func:`mode_of`).
    n_pairs : int
        Most pairs a matching can have.
    classes : int
        Waiting classes (at least 1).
    load_penalty : float
        lambda.
    penalty_k : ndarray of int64
        ``k - 1`` of every slot.

    Returns
    -------
    grid, multiplier, offset, penalty
        Score units per 1, the tier multiplier ``M``, the cardinality offset ``B``
        (0 unless ``count_first``) and each slot's penalty on the grid.

    Raises
    ------
    MatcherError
        When even the coarsest grid does not fit.
    """
    max_k = int(penalty_k.max()) if len(penalty_k) else 0
    for grid in GRIDS:
        penalty = np.rint(load_penalty * penalty_k.astype(np.float64) * grid).astype(np.int64)
        pmax = int(round(load_penalty * max_k * grid))
        offset = 0
        if mode == SCORE_FIRST:
            multiplier = n_pairs * classes + 1
            bound = n_pairs * (max(grid, pmax) * multiplier + classes)
        elif mode == COUNT_FIRST:
            multiplier = n_pairs * classes + 1
            offset = n_pairs * (multiplier * (grid + pmax) + classes) + 1
            bound = n_pairs * (offset + grid * multiplier + classes)
        else:
            multiplier = n_pairs * (grid + pmax) + 1
            bound = n_pairs * (multiplier * classes + grid)
        if bound <= BUDGET:
            return grid, multiplier, offset, penalty
    raise MatcherError(
        "problem too large to solve exactly (too many mentees or waiting classes)",
        details={"pairs_bound": n_pairs, "waiting_classes": classes},
    )


@dataclass(frozen=True)
class Objective:
    """The integer objective of a pool, edge by edge.

    Attributes
    ----------
    slots : Slots
        The pool's slot layout.
    omega : ndarray of int64
        Waiting rank of each pool row.
    classes : int
        Waiting classes.
    grid : int
        Score units per 1 inside the objective.
    multiplier : int
        The tier multiplier ``M``.
    slot_penalty : ndarray of int64
        What each slot subtracts from an edge's base weight.
    factor : int
        ``SCORE_SCALE // grid``.
    max_score : bool
        The score tier comes before waiting (``max_score``, or ``tie_break``).
    offset : int
        ``B``: added to every edge so that the most pairs come first (``tie_break``).
    cardinality_first : bool
        Every optimum is a maximum-cardinality matching (all but ``max_score``).
    """

    slots: Slots
    omega: IntArray
    classes: int
    grid: int
    multiplier: int
    slot_penalty: IntArray
    factor: int
    max_score: bool
    offset: int = 0
    cardinality_first: bool = True

    @classmethod
    def for_pool(cls, pool: PoolTerms) -> Objective:
        """The encoding of a pool's objective.

        Parameters
        ----------
        pool : PoolTerms
            Slots, penalties, waiting classes, objective and lambda.

        Returns
        -------
        Objective
        """
        slots = Slots.of(pool.slots, pool.first_penalty_k)
        omega, classes = waiting_ranks(pool.waiting_class)
        n_pairs = min(len(pool.waiting_class), len(slots))
        mode = mode_of(pool.objective, pool.waiting_priority)
        grid, multiplier, offset, penalty = choose_grid(
            mode, n_pairs, max(classes, 1), pool.load_penalty, slots.penalty_k
        )
        score_tier = mode != WAIT_FIRST
        return cls(
            slots=slots,
            omega=omega,
            classes=classes,
            grid=grid,
            multiplier=multiplier,
            slot_penalty=penalty * multiplier if score_tier else penalty,
            factor=SCORE_SCALE // grid,
            max_score=score_tier,
            offset=offset,
            cardinality_first=mode != SCORE_FIRST,
        )

    @property
    def n_slots(self) -> int:
        """Slots of the pool."""
        return len(self.slots)

    def on_grid(self, s: IntArray) -> IntArray:
        """Scores (1e-6 units) on the objective's grid, rounded half up."""
        return s if self.factor == 1 else (s + self.factor // 2) // self.factor

    def base(self, s: IntArray, w: IntArray) -> IntArray:
        """Weight of a mentee-mentor pair of score ``s`` and waiting rank ``w``, before the slot."""
        s_obj = self.on_grid(s)
        out: IntArray = (
            self.offset + s_obj * self.multiplier + w
            if self.max_score
            else s_obj + w * self.multiplier
        )
        return out

    def doubled_score_part(self, s: IntArray) -> IntArray:
        """The score's share of ``2 * base(s, w)``; the rest is :meth:`doubled_wait_part`."""
        s_obj = self.on_grid(s)
        out: IntArray = 2 * (self.offset + s_obj * self.multiplier) if self.max_score else 2 * s_obj
        return out

    def doubled_wait_part(self, w: IntArray) -> IntArray:
        """The waiting rank's share of ``2 * base(s, w)``."""
        out: IntArray = 2 * w if self.max_score else 2 * w * self.multiplier
        return out

    def slot_edges(
        self, p: IntArray, c: IntArray, a: IntArray, by_slot: bool = False
    ) -> tuple[IntArray, IntArray, IntArray]:
        """Mentee-mentor edges of base weight ``a`` as mentee-slot edges of positive weight.

        Parameters
        ----------
        p, c, a : ndarray of int64
            Pool mentee, pool mentor and :meth:`base` weight of each edge.
        by_slot : bool
            See :meth:`matcher.pool.Slots.expand`.

        Returns
        -------
        mentee, slot, weight : ndarray of int64
            The slot edges whose weight ``a - slot penalty`` is positive (a
            pair worth less than nothing is never chosen).
        """
        slot, source = self.slots.expand(p, c, by_slot)
        w = a[source] - self.slot_penalty[slot]
        keep = w > 0
        if bool(keep.all()):
            return p[source], slot, w
        return p[source][keep], slot[keep], w[keep]
