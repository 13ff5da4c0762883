"""Tuning of the large-problem path, one frozen value instead of module globals."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class SparseOptions:
    """How the sparse path works; the certified optimum never depends on it.

    Attributes
    ----------
    candidates_per_row : int
        Best feasible mentors kept per mentee before the first sparse solve (few:
        the restricted solve's time grows with its edges; pricing brings in what
        is missing).
    candidates_per_mentor : int
        Best pool mentees kept per mentor (so that every slot has candidates).
        Where slots are scarce these decide the first solve: at 50,000 x 12,500
        max_participation, 16 instead of 8 took its gap from 1.06% to 1e-7 and
        the solve phase from 98 s to 71 s.
    pricing_per_row : int
        Most violating pairs added per mentee in one pricing round.
    working_per_row : int
        Candidates a mentee (and a mentor) keeps, by reduced cost, when a pricing
        round trims the working set; the pairs of the current matching are always
        kept.
    warm_violators_share : float
        A restricted solve starts from the previous round's duals when fewer of its
        pairs than this share of the mentees violate them (the thin tail of
        pricing); with more, a cold solve is faster (measured at 50,000 x 12,500:
        56 violators 1.7 s warm vs 8.3 s cold, 1,780 4.5 s vs 8.3 s, 18,527 23 s vs
        8.4 s).
    keep_dual_rounds : int
        Relaxation rounds the duals of an unchanged matching may take on a grown
        working set before it is solved again (a matching that is no longer
        optimal never settles; it is usually caught earlier, when an iterate falls
        below a lower bound).
    chunk_elements : int
        Elements per scoring chunk.
    store_bytes : int
        Memory the first scan may use to keep every feasible pair's score.
    scoring_threads : int
        Threads scoring chunks side by side.
    max_pricing_rounds : int or None
        Stop pricing after this many passes over all pairs even if some pair
        still has a positive reduced profit; the result is then feasible but
        ``certified_optimal`` is false (None: price until certified).
    """

    candidates_per_row: int = 6
    candidates_per_mentor: int = 16
    pricing_per_row: int = 8
    working_per_row: int = 4
    warm_violators_share: float = 0.05
    keep_dual_rounds: int = 400
    chunk_elements: int = 1 << 21
    store_bytes: int = 4 << 30
    scoring_threads: int = 2
    max_pricing_rounds: int | None = None
