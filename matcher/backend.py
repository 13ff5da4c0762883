"""The one interface of the two backends (:func:`matcher.engine.select` chooses by size).

A backend takes a validated problem with its pins placed and goes through the
same steps: score the pairs, choose the candidate edges (all feasible pairs on
the dense path, a few per mentee and mentor plus what pricing brings in on the
sparse one), solve exactly, certify, and hand over an :class:`Outcome` that
:func:`matcher.report.build_result` turns into the result.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Protocol

from matcher.features import Prepared
from matcher.pool import Pins
from matcher.report import RowSummary
from matcher.scoring import Evaluator
from matcher.sparse.options import SparseOptions
from matcher.types import IntArray

Progress = Callable[[str, float], None]


@dataclass(frozen=True)
class Certificate:
    """What the stop condition of a solve proves.

    Attributes
    ----------
    certified : bool
        The matching is the exact optimum of the full problem at ``grid``: the
        dense solve saw every feasible pair; the sparse one stopped because no
        pair left out had a positive reduced profit against its LP duals (and,
        for ``fair``, every threshold probe was certified by a König cover).
    grid : int
        Score units per 1 at which the optimum holds (``1 / score_resolution``).
    waiting_classes : int
        Waiting classes in the objective.
    pricing_rounds : int
        Passes over all pairs (0 on the dense path).
    pairs_considered : int
        Pairs the exact solver saw.
    first_solve_gap : float
        Relative gap of the first restricted solve (0 on the dense path).
    """

    certified: bool
    grid: int
    waiting_classes: int
    pricing_rounds: int
    pairs_considered: int
    first_solve_gap: float = 0.0


@dataclass(frozen=True)
class Outcome:
    """What a backend found: optimised pairs (global indices) and the facts to report.

    Attributes
    ----------
    rows, cols : ndarray of int64
        Mentee and mentor of each optimised pair (pins excluded).
    unmatched : RowSummary
        The unmatched mentees' feasible mentors.
    blocking_pairs : int
        Blocking pairs of the full matching.
    feasible_pairs : int
        Pairs passing every hard rule.
    certificate : Certificate
        What the solve proves.
    solver : str
        The exact solver used.
    scoring_seconds, solve_seconds : float
        Time scoring and solving.
    """

    rows: IntArray
    cols: IntArray
    unmatched: RowSummary
    blocking_pairs: int
    feasible_pairs: int
    certificate: Certificate
    solver: str
    scoring_seconds: float
    solve_seconds: float


class Backend(Protocol):
    """Score the pairs, choose candidate edges, solve exactly, certify."""

    def solve(self, prep: Prepared, evaluator: Evaluator, pins: Pins, report: Progress) -> Outcome:
        """Solve the pool of a problem whose pins are placed."""
        ...


@dataclass(frozen=True)
class SolveOptions:
    """Tuning of :func:`matcher.solve` (the optimum never depends on it).

    Attributes
    ----------
    dense_pair_limit : int
        Problems with more mentee-mentor pairs than this are solved without a
        dense score matrix (:mod:`matcher.sparse`): the dense path holds the
        int32 scores plus a float64 slot-expanded cost matrix, about 30 bytes
        per pair at realistic capacities, so 40e6 pairs stay near 1.2 GB.
    sparse_density : float
        Dense path: below this share of feasible pairs LAPJVsp is used instead
        of ``linear_sum_assignment``.
    sparse : SparseOptions
        Tuning of the large-problem path.
    """

    dense_pair_limit: int = 40_000_000
    sparse_density: float = 0.5
    sparse: SparseOptions = field(default_factory=SparseOptions)
