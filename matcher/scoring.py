"""Hard rules and criteria, vectorised over blocks of pairs.

Two modes share every formula so that a score is bit-identical whichever way
it is computed:

* *outer*: a set of mentee rows against all mentors (a 2-D block), used to
  score the whole problem chunk by chunk;
* *pairs*: two equally long index vectors (one value per pair), used for the
  breakdowns of chosen pairs and for :func:`matcher.explain`.

Every inner product is between small integer matrices (needs priorities x
strength levels, 0/1 languages and cultural tags, availability minutes), so it
is exact in float32 and both modes see the same integers.

The rule each criterion follows (each in [0, 1]; the pair score is their weighted
mean). No criterion may fall for a person because they offer or ask for *more*
(more languages, more cultural tags, a named partner): a pair is judged by what the
two have in common, never diluted by the rest.

* ``needs``: how well the mentor's strengths cover what the mentee asked for,
  ``sum(priority * level) / (3 * sum(priority))`` over the mentee's needs (a
  priority-weighted mean, so it measures the share of the mentee's own request;
  0.5 when the mentee named none).
* ``availability``: weekly shared minutes over ``target_overlap_minutes``, capped at 1.
* ``language``: 1 when the two share a language (the best common language counts;
  room for a proficiency level later). Sharing none is a hard rule.
* ``culture``: the mean of both sides. A side that is ``open``, or either side without
  consent to use cultural data, is neutral (0.5). ``shared`` is 1 when the two have a
  cultural tag in common, else 0; ``different`` is 1 when they have none in common.
* ``experience``: 1 at ``ideal_experience_gap``, minus 1/4 per level away from it.
* ``preference``: 0.5, plus 0.25 for each side that named the other as a preferred
  partner. Naming someone never lowers the criterion with anyone else.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import scipy.sparse as sp

from matcher.features import PREF_OPEN, PREF_SHARED, Prepared
from matcher.model import CRITERIA, RULES
from matcher.types import AnyArray, BoolArray, Float32Array, FloatArray, Int32Array, IntArray

#: Scores are reported, and compared by the objective, on this grid.
SCORE_SCALE = 1_000_000
NEUTRAL = 0.5
# Elements per scoring chunk: bounds the temporaries (~20 arrays of this size).
_CHUNK_ELEMENTS = 1 << 21


@dataclass(frozen=True)
class Block:
    """Criteria and rules of a block of pairs (outer block or pair vector).

    ``criteria`` and ``rules`` are empty when the block was computed without
    detail (the fast path used to score the whole problem).
    """

    criteria: dict[str, FloatArray]
    score: Int32Array  # quantised to 1/SCORE_SCALE
    rules: dict[str, BoolArray]
    feasible: BoolArray
    overlap: AnyArray  # float64; float32 from the outer fast path (exact integers)
    # Outer fast path: the feasible pairs (block row, column, score), in row-major order.
    found: tuple[IntArray, IntArray, Int32Array] | None = None


def _unique_codes(codes: IntArray, offset: int) -> IntArray:
    # Unknown (-1) codes become distinct negatives, so equality needs no ">= 0" test.
    out: IntArray = np.where(codes >= 0, codes, -1 - offset - np.arange(len(codes)))
    return out


def _inverse(x: FloatArray) -> FloatArray:
    out: FloatArray = np.where(x > 0, 1.0 / np.where(x > 0, x, 1.0), 0.0)
    return out


class Evaluator:
    """Computes rules and criteria for pairs of a prepared problem.

    Per-person constants are folded in advance so that a block costs a few
    dozen elementwise operations per pair; the same expressions run in both
    modes, in the same order, so both give bit-identical floats.
    """

    def __init__(self, prep: Prepared) -> None:
        self.prep = prep
        e, r = prep.mentees, prep.mentors
        settings = prep.settings
        n = prep.n
        self.e_inv_den = _inverse(prep.need_den)
        self.e_need_neutral = np.where(prep.need_den > 0, 0.0, NEUTRAL)
        target = float(settings.target_overlap_minutes)
        self.inv_target = 1.0 / target if target > 0 else 0.0
        # Culture, one side: NEUTRAL when open or without consent, else a + b * any shared
        # tag, with (a, b) = (0, 1) for "shared" and (1, -1) for "different".
        self.e_cult_a, self.e_cult_b = self._culture_side(e.cultural_pref, e.n_culture)
        self.r_cult_a, self.r_cult_b = self._culture_side(r.cultural_pref, r.n_culture)
        self.e_no_culture = e.n_culture == 0
        self.r_no_culture = r.n_culture == 0
        gaps = np.arange(-4, 5, dtype=np.float64)
        self.fit_lut = np.clip(1.0 - np.abs(gaps - settings.ideal_experience_gap) / 4.0, 0.0, 1.0)
        self.gap_bad_lut = (gaps < settings.min_experience_gap) | (
            gaps > settings.max_experience_gap
        )
        self.e_email = _unique_codes(e.email, 0)
        self.r_email = _unique_codes(r.email, n)
        self.e_manager = _unique_codes(e.manager, 0)
        self.r_manager = _unique_codes(r.manager, n)
        self.e_org = _unique_codes(e.org, 0)
        self.r_org = _unique_codes(r.org, n)
        self.r_unavailable = prep.paused | (prep.free <= 0)
        # Minimum fit: needs the mentor offers at all (0/1 on both sides), and the score.
        self.e_needs01 = (e.tags > 0).astype(np.float32)
        self.r_offers01 = (r.tags > 0).astype(np.float32)
        self.e_needs_required = np.minimum(
            float(settings.min_needs_covered), self.e_needs01.sum(axis=1, dtype=np.float64)
        )
        self.min_score = int(round(float(settings.min_score) * SCORE_SCALE))

    @staticmethod
    def _culture_side(pref: IntArray, count: FloatArray) -> tuple[FloatArray, FloatArray]:
        # One side's value is a + b * (1 if any tag is shared else 0).
        neutral = (pref == PREF_OPEN) | (count == 0)
        a = np.where(neutral, NEUTRAL, np.where(pref == PREF_SHARED, 0.0, 1.0))
        b = np.where(neutral, 0.0, np.where(pref == PREF_SHARED, 1.0, -1.0))
        return a, b

    def outer(self, rows: IntArray, detail: bool = True) -> Block:
        """Evaluate mentees ``rows`` against every mentor (shape ``(len(rows), m)``).

        Without ``detail`` the hard rules come first and the criteria are
        computed for the feasible pairs only (``score`` is -1 elsewhere): the
        same expressions on the same values, so the same scores.
        """
        return self._evaluate(rows, None, detail)

    def pairs(self, rows: IntArray, cols: IntArray) -> Block:
        """Evaluate the pairs ``(rows[k], cols[k])`` (shape ``(len(rows),)``)."""
        return self._evaluate(rows, cols, True)

    def _evaluate(
        self,
        rows: IntArray,
        cols: IntArray | None,
        detail: bool,
        given: dict[str, FloatArray] | None = None,
    ) -> Block:
        # `given`: inner products already computed for these pairs (by the outer
        # fast path, which has applied the hard rules itself).
        prep = self.prep
        e, r = prep.mentees, prep.mentors
        settings = prep.settings
        outer = cols is None
        m = prep.m
        c_idx = np.arange(m, dtype=np.int64) if cols is None else cols
        shape = (len(rows), m) if outer else (len(rows),)

        def R(x: AnyArray) -> AnyArray:
            v = x[rows]
            return v[:, None] if outer else v

        def C(y: AnyArray) -> AnyArray:
            return y[None, :] if outer else y[c_idx]

        def dot(name: str, a: Float32Array, b: Float32Array) -> FloatArray:
            if given is not None:
                return given[name]
            left = a[rows]
            if outer:
                return np.asarray(left @ b.T, dtype=np.float64)
            summed: Float32Array = np.einsum("ij,ij->i", left, b[c_idx])
            return summed.astype(np.float64)

        def hits(matrix: sp.csr_array, codes: IntArray) -> tuple[IntArray, IntArray] | BoolArray:
            # Outer: the (row, col) positions of the pairs in the set; pairs: a mask.
            if outer:
                if len(codes) == 0:
                    empty = np.zeros(0, dtype=np.int64)
                    return empty, empty
                sub = matrix[rows].tocoo()
                return sub.row.astype(np.int64), sub.col.astype(np.int64)
            return np.isin(rows * max(m, 1) + c_idx, codes)

        def mask_of(matrix: sp.csr_array, codes: IntArray) -> BoolArray:
            found = hits(matrix, codes)
            if isinstance(found, tuple):
                out = np.zeros(shape, dtype=np.bool_)
                out[found] = True
                return out
            return found

        def full(x: AnyArray | float) -> FloatArray:
            return np.broadcast_to(np.asarray(x, dtype=np.float64), shape)

        gap_index = C(r.level) - R(e.level) + 4
        prefers = (
            ("mentee_prefers", prep.mentee_prefers, prep.mentee_prefers_codes),
            ("mentor_prefers", prep.mentor_prefers, prep.mentor_prefers_codes),
        )
        if outer and not detail:
            # Inner products stay float32 (exact: small integers) until compressed.
            overlap32 = e.cover[rows] @ r.cover.T
            shared32 = e.languages[rows] @ r.languages.T
            bad = np.asarray(R(e.ids) == C(r.ids), dtype=np.bool_)
            bad |= R(self.e_email) == C(self.r_email)
            bad |= shared32 == 0
            if settings.min_overlap_minutes > 0:
                bad |= overlap32 < settings.min_overlap_minutes
            bad |= C(self.r_unavailable)
            bad |= R(self.e_manager) == C(self.r_manager)
            bad |= self.gap_bad_lut[gap_index]
            if settings.forbid_same_org_unit:
                bad |= R(self.e_org) == C(self.r_org)
            if settings.min_needs_covered > 0:
                bad |= (self.e_needs01[rows] @ self.r_offers01.T) < R(self.e_needs_required)
            for matrix, codes in (
                (prep.previous, prep.previous_codes),
                (prep.forbidden, prep.forbidden_codes),
                (prep.reporting, prep.reporting_codes),
            ):
                found = hits(matrix, codes)
                if isinstance(found, tuple):
                    bad[found] = True
            feasible = ~bad
            del bad
            # One flat index and a division: a quarter of the time of a 2-D nonzero.
            ri, ci = np.divmod(np.flatnonzero(feasible), m)
            inner = {
                "tags": (e.tags[rows] @ r.tags.T)[ri, ci].astype(np.float64),
                "cover": overlap32[ri, ci].astype(np.float64),
                "languages": shared32[ri, ci].astype(np.float64),
                "culture": (e.culture[rows] @ r.culture.T)[ri, ci].astype(np.float64),
            }
            # Preferred partners from the block's rows of the sparse matrices: much
            # cheaper than looking every feasible pair up among the codes.
            for name, matrix, codes in prefers:
                inner[name] = mask_of(matrix, codes)[ri, ci].astype(np.float64)
            del shared32
            scored = self._evaluate(rows[ri], ci.astype(np.int64), False, inner)
            kept = scored.score
            if self.min_score > 0:
                low = kept < self.min_score
                feasible[ri[low], ci[low]] = False
                ri, ci, kept = ri[~low], ci[~low], kept[~low]
            score = np.full(shape, -1, dtype=np.int32)
            score[ri, ci] = kept
            listed = (ri.astype(np.int64), ci.astype(np.int64), kept)
            return Block({}, score, {}, feasible, overlap32, listed)

        overlap = dot("cover", e.cover, r.cover)
        shared = dot("languages", e.languages, r.languages)
        total = np.zeros(shape, dtype=np.float64)
        criteria: dict[str, FloatArray] = {}
        weights = dict(zip(CRITERIA, prep.weights.tolist(), strict=True))

        def add(name: str, value: AnyArray | float) -> None:
            nonlocal total
            if detail:
                criteria[name] = full(value)
            if weights[name] != 0.0:
                total += weights[name] * value

        # Needs covered by strengths: sum(priority * level) / (3 * sum(priority)).
        add("needs", dot("tags", e.tags, r.tags) * R(self.e_inv_den) + R(self.e_need_neutral))
        if self.inv_target > 0:
            add("availability", np.minimum(1.0, overlap * self.inv_target))
        else:
            add("availability", 1.0)
        add("language", np.minimum(shared, 1.0))
        inter = np.minimum(dot("culture", e.culture, r.culture), 1.0)
        side_e = inter * R(self.e_cult_b) + R(self.e_cult_a)
        side_e = np.where(C(self.r_no_culture), NEUTRAL, side_e)  # partner without consent
        side_r = inter * C(self.r_cult_b) + C(self.r_cult_a)
        side_r = np.where(R(self.e_no_culture), NEUTRAL, side_r)
        add("culture", (side_e + side_r) * 0.5)
        del side_e, side_r, inter
        add("experience", self.fit_lut[gap_index])
        preference = full(NEUTRAL).copy()
        for name, matrix, codes in prefers:
            named = given[name] if given is not None else mask_of(matrix, codes)
            preference += (NEUTRAL / 2) * named
        add("preference", preference)
        score = np.rint(np.clip(total, 0.0, 1.0) * SCORE_SCALE).astype(np.int32)
        del total
        if given is not None:  # the caller applied the hard rules
            return Block({}, score, {}, np.ones(shape, dtype=np.bool_), overlap)

        same_org = (
            R(self.e_org) == C(self.r_org)
            if settings.forbid_same_org_unit
            else np.zeros(shape, dtype=np.bool_)
        )
        raw_rules: dict[str, AnyArray] = {
            "same_person": (R(e.ids) == C(r.ids)) | (R(self.e_email) == C(self.r_email)),
            "no_shared_language": shared == 0,
            "insufficient_overlap": overlap < settings.min_overlap_minutes,
            "previous_partner": mask_of(prep.previous, prep.previous_codes),
            "forbidden": mask_of(prep.forbidden, prep.forbidden_codes),
            "mentor_paused": C(prep.paused),
            "mentor_full": C(prep.free <= 0),
            # Same manager, or one above the other (chains were followed in `prepare`).
            "reporting_line": (R(self.e_manager) == C(self.r_manager))
            | mask_of(prep.reporting, prep.reporting_codes),
            "experience_gap": self.gap_bad_lut[gap_index],
            "same_org_unit": same_org,
            "too_few_needs_covered": (
                dot("needs01", self.e_needs01, self.r_offers01) < R(self.e_needs_required)
                if settings.min_needs_covered > 0
                else np.zeros(shape, dtype=np.bool_)
            ),
            "below_min_score": score < self.min_score,
        }
        rules = {
            name: np.broadcast_to(np.asarray(raw_rules[name], dtype=np.bool_), shape)
            for name in RULES
        }
        bad = np.zeros(shape, dtype=np.bool_)
        for mask in rules.values():
            bad |= mask
        return Block(criteria, score, rules, ~bad, full(overlap))


def score_matrix(prep: Prepared, progress: Callable[[float], None] | None = None) -> Int32Array:
    """Score every mentee against every mentor.

    Parameters
    ----------
    prep : Prepared
        The validated problem.
    progress : callable, optional
        Called with the fraction of rows done.

    Returns
    -------
    ndarray of int32, shape (n, m)
        Score in units of 1/SCORE_SCALE for feasible pairs, -1 for pairs that
        break a hard rule.
    """
    n, m = prep.n, prep.m
    out = np.full((n, m), -1, dtype=np.int32)
    if n == 0 or m == 0:
        return out
    evaluator = Evaluator(prep)
    step = max(1, _CHUNK_ELEMENTS // m)
    for start in range(0, n, step):
        rows = np.arange(start, min(n, start + step), dtype=np.int64)
        block = evaluator.outer(rows, detail=False)
        out[start : start + len(rows)] = np.where(block.feasible, block.score, -1)
        if progress is not None:
            progress(min(1.0, (start + len(rows)) / n))
    return out


def rule_counts(prep: Prepared, rows: IntArray) -> dict[str, IntArray]:
    """Count, for each mentee row, the mentors each hard rule excludes.

    Parameters
    ----------
    prep : Prepared
        The validated problem.
    rows : ndarray of int64
        Mentee indices.

    Returns
    -------
    dict of str to ndarray of int64
        Rule name to one count per row.
    """
    counts = {name: np.zeros(len(rows), dtype=np.int64) for name in RULES}
    if len(rows) == 0 or prep.m == 0:
        return counts
    evaluator = Evaluator(prep)
    step = max(1, _CHUNK_ELEMENTS // prep.m)
    for start in range(0, len(rows), step):
        block = evaluator.outer(rows[start : start + step])
        for name in RULES:
            counts[name][start : start + step] = block.rules[name].sum(axis=1)
    return counts
