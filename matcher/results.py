"""Matcher outputs: frozen dataclasses of plain ints, floats and strings.

Nothing here holds a numpy scalar or an index: ids only (house rule 1), so a
service can persist ``to_dict()`` as JSON directly.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from matcher.types import JSONValue


@dataclass(frozen=True)
class Pair:
    """A proposed mentor-mentee pair.

    Attributes
    ----------
    mentee_id, mentor_id : int
        Participant ids.
    score : float
        Score in [0, 1] (rounded to 1e-6, the grid the objective uses),
        without the load-spreading penalty.
    breakdown : dict of str to float
        Criterion name to its value in [0, 1]; ``score`` is their weighted mean.
    pinned : bool
        True when the pair comes from a coordinator pin.
    """

    mentee_id: int
    mentor_id: int
    score: float
    breakdown: dict[str, float]
    pinned: bool = False

    def to_dict(self) -> dict[str, JSONValue]:
        """Return the pair as JSON data.

        Returns
        -------
        dict
            ``mentee_id, mentor_id, score, breakdown, pinned``.
        """
        return {
            "mentee_id": self.mentee_id,
            "mentor_id": self.mentor_id,
            "score": self.score,
            "breakdown": dict(self.breakdown),
            "pinned": self.pinned,
        }


@dataclass(frozen=True)
class Unmatched:
    """A mentee left without a mentor, with a machine-readable reason.

    Attributes
    ----------
    mentee_id : int
        Participant id.
    reason : str
        ``"no_feasible_mentor"``: every mentor is excluded by a hard rule;
        ``details["excluded_by"]`` maps each rule to the number of mentors it
        excludes (a mentor excluded by two rules counts for both).
        ``"capacity_taken"``: feasible mentors exist but all their free slots
        went to others; ``details["best_alternative"]`` names the best one.
        ``"not_selected"`` (``max_score`` only): a feasible mentor still has
        room, but leaving the mentee out gave the higher total.
    details : dict
        JSON-serialisable facts supporting the reason.
    """

    mentee_id: int
    reason: str
    details: dict[str, JSONValue] = field(default_factory=dict)

    def to_dict(self) -> dict[str, JSONValue]:
        """Return the entry as JSON data.

        Returns
        -------
        dict
            ``mentee_id, reason, details``.
        """
        return {"mentee_id": self.mentee_id, "reason": self.reason, "details": dict(self.details)}


@dataclass(frozen=True)
class InfeasiblePin:
    """A coordinator pin that could not be honoured.

    Attributes
    ----------
    mentee_id, mentor_id : int
        The pinned pair.
    rules : tuple of str
        The hard rules that exclude it (``"mentor_full"`` also when earlier
        pins used the mentor's last free slot). The mentee then takes part in
        the optimisation like everyone else.
    """

    mentee_id: int
    mentor_id: int
    rules: tuple[str, ...]

    def to_dict(self) -> dict[str, JSONValue]:
        """Return the entry as JSON data.

        Returns
        -------
        dict
            ``mentee_id, mentor_id, rules``.
        """
        return {"mentee_id": self.mentee_id, "mentor_id": self.mentor_id, "rules": list(self.rules)}


@dataclass(frozen=True)
class Stats:
    """Figures describing a result.

    Attributes
    ----------
    objective : str
        The objective that was optimised.
    mentee_count, mentor_count : int
        Sizes of the two sides.
    matched_count, pinned_count : int
        Pairs in the result, and how many of them are pins.
    match_rate : float
        ``matched_count / mentee_count`` (0 without mentees).
    total_score, mean_score, min_score : float or None
        Sum, mean and minimum of the pair scores (None without pairs).
    objective_total : float
        Sum of the penalised slot scores ``s - lambda * (k - 1)`` of all pairs.
    fair_min_score : float or None
        ``fair`` only: the optimal minimum score over the non-pinned pairs.
    needs_coverage : float or None
        Priority-weighted share of the matched mentees' needs that their mentor
        lists as a strength (None when they have no needs).
    mentor_load : dict
        Load after this result of the mentors who are not paused:
        ``histogram`` (load as a string to the number of mentors), ``max``,
        ``mean``, ``utilisation`` (total load / total capacity) and
        ``new_max`` (most new mentees given to one mentor).
    blocking_pairs : int
        Feasible unmatched pairs whose mentee prefers the mentor to their own
        (or to having none) and whose mentor prefers the mentee to their worst
        current mentee of this result (or has a free slot); strict
        preferences on the unpenalised score.
    feasible_pairs : int
        Mentee-mentor pairs passing every hard rule.
    score_resolution : float
        Grid of the scores inside the exact integer objective (1e-6 unless the
        problem is so large that the integer budget forces a coarser grid): the
        resolution at which the optimum is certified.
    waiting_classes : int
        Distinct waiting-time classes among the mentees that were optimised.
    solver : str
        ``"linear_sum_assignment"`` (dense) or ``"min_weight_full_bipartite_matching"``
        (sparse, below 50% feasible pairs); ``"min_weight_full_bipartite_matching+pricing"``
        on the large-problem path; ``"none"`` when nothing was optimised.
    scoring_seconds, solve_seconds, total_seconds : float
        Wall-clock time spent building the feasibility mask and scores, in
        the exact solve, and overall.
    certified_optimal : bool
        The stop condition of the solve proves the matching is the exact
        optimum of the full problem at ``score_resolution``: solved on the
        whole score matrix (dense), or on a candidate subset whose LP duals
        were checked against every pair left out with none found profitable
        (sparse, large problems; false when ``SparseOptions.max_pricing_rounds``
        stopped pricing first).
    pricing_rounds : int
        Sparse path: passes over all pairs to price the ones left out (0 on
        the dense path).
    pairs_considered : int
        Mentee-mentor pairs the exact solver saw: all feasible pairs (dense),
        or the candidates plus the pairs added by pricing (sparse).
    first_solve_gap : float
        Sparse path: relative gap ``(opt - first) / opt`` of the exact integer
        objective between the first candidate-only solve and the certified
        optimum (0 on the dense path; for ``fair``, of the solve at the final
        threshold, which starts from the candidates the search gathered).
    """

    objective: str
    mentee_count: int
    mentor_count: int
    matched_count: int
    pinned_count: int
    match_rate: float
    total_score: float | None
    mean_score: float | None
    min_score: float | None
    objective_total: float
    fair_min_score: float | None
    needs_coverage: float | None
    mentor_load: dict[str, JSONValue]
    blocking_pairs: int
    feasible_pairs: int
    score_resolution: float
    waiting_classes: int
    solver: str
    scoring_seconds: float
    solve_seconds: float
    total_seconds: float
    certified_optimal: bool = False
    pricing_rounds: int = 0
    pairs_considered: int = 0
    first_solve_gap: float = 0.0

    def to_dict(self) -> dict[str, JSONValue]:
        """Return the statistics as JSON data.

        Returns
        -------
        dict
            One key per attribute.
        """
        return {
            "objective": self.objective,
            "mentee_count": self.mentee_count,
            "mentor_count": self.mentor_count,
            "matched_count": self.matched_count,
            "pinned_count": self.pinned_count,
            "match_rate": self.match_rate,
            "total_score": self.total_score,
            "mean_score": self.mean_score,
            "min_score": self.min_score,
            "objective_total": self.objective_total,
            "fair_min_score": self.fair_min_score,
            "needs_coverage": self.needs_coverage,
            "mentor_load": dict(self.mentor_load),
            "blocking_pairs": self.blocking_pairs,
            "feasible_pairs": self.feasible_pairs,
            "score_resolution": self.score_resolution,
            "waiting_classes": self.waiting_classes,
            "solver": self.solver,
            "scoring_seconds": self.scoring_seconds,
            "solve_seconds": self.solve_seconds,
            "total_seconds": self.total_seconds,
            "certified_optimal": self.certified_optimal,
            "pricing_rounds": self.pricing_rounds,
            "pairs_considered": self.pairs_considered,
            "first_solve_gap": self.first_solve_gap,
        }


@dataclass(frozen=True)
class Result:
    """The outcome of :func:`matcher.solve`.

    Attributes
    ----------
    pairs : tuple of Pair
        Pins first (in pin order), then the optimised pairs in mentee input order.
    unmatched : tuple of Unmatched
        In mentee input order.
    infeasible_pins : tuple of InfeasiblePin
        In pin order.
    stats : Stats
        Figures describing the result.
    """

    pairs: tuple[Pair, ...]
    unmatched: tuple[Unmatched, ...]
    infeasible_pins: tuple[InfeasiblePin, ...]
    stats: Stats

    def to_dict(self) -> dict[str, JSONValue]:
        """Return the whole result as JSON data.

        Returns
        -------
        dict
            ``pairs, unmatched, infeasible_pins, stats``.
        """
        return {
            "pairs": [p.to_dict() for p in self.pairs],
            "unmatched": [u.to_dict() for u in self.unmatched],
            "infeasible_pins": [p.to_dict() for p in self.infeasible_pins],
            "stats": self.stats.to_dict(),
        }


@dataclass(frozen=True)
class Explanation:
    """Why a given mentee-mentor pair scores what it does.

    Attributes
    ----------
    mentee_id, mentor_id : int
        The pair.
    feasible : bool
        True when no hard rule excludes the pair.
    failed_rules : tuple of str
        Hard rules that exclude it (empty when feasible). ``mentor_full`` looks
        at ``capacity - current_load`` only, not at pins or other proposals.
    score : float
        Score in [0, 1] on the 1e-6 grid (computed even when infeasible).
    breakdown : dict of str to float
        Criterion values in [0, 1].
    weights : dict of str to float
        Normalised weights (summing to 1) that turn the breakdown into the score.
    overlap_minutes : int
        Weekly availability overlap in minutes.
    """

    mentee_id: int
    mentor_id: int
    feasible: bool
    failed_rules: tuple[str, ...]
    score: float
    breakdown: dict[str, float]
    weights: dict[str, float]
    overlap_minutes: int

    def to_dict(self) -> dict[str, JSONValue]:
        """Return the explanation as JSON data.

        Returns
        -------
        dict
            One key per attribute.
        """
        return {
            "mentee_id": self.mentee_id,
            "mentor_id": self.mentor_id,
            "feasible": self.feasible,
            "failed_rules": list(self.failed_rules),
            "score": self.score,
            "breakdown": dict(self.breakdown),
            "weights": dict(self.weights),
            "overlap_minutes": self.overlap_minutes,
        }
