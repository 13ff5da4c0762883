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
    """Criteria and rules of a block of pairs (outer block or pair vector)."""

    criteria: dict[str, FloatArray]
    score: Int32Array  # quantised to 1/SCORE_SCALE
    rules: dict[str, BoolArray]
    overlap: FloatArray

    @property
    def feasible(self) -> BoolArray:
        """True where no hard rule holds."""
        bad = np.zeros(self.score.shape, dtype=np.bool_)
        for mask in self.rules.values():
            bad |= mask
        return ~bad


class Evaluator:
    """Computes rules and criteria for pairs of a prepared problem."""

    def __init__(self, prep: Prepared) -> None:
        self.prep = prep

    def outer(self, rows: IntArray) -> Block:
        """Evaluate mentees ``rows`` against every mentor (shape ``(len(rows), m)``)."""
        return self._evaluate(rows, None)

    def pairs(self, rows: IntArray, cols: IntArray) -> Block:
        """Evaluate the pairs ``(rows[k], cols[k])`` (shape ``(len(rows),)``)."""
        return self._evaluate(rows, cols)

    def _evaluate(self, rows: IntArray, cols: IntArray | None) -> Block:
        prep = self.prep
        e, r = prep.mentees, prep.mentors
        settings = prep.settings
        outer = cols is None
        m = prep.m
        all_cols = np.arange(m, dtype=np.int64)
        c_idx = all_cols if cols is None else cols

        def R(x: AnyArray) -> AnyArray:
            v = x[rows]
            return v[:, None] if outer else v

        def C(y: AnyArray) -> AnyArray:
            return y[None, :] if outer else y[c_idx]

        def dot(a: Float32Array, b: Float32Array) -> FloatArray:
            left = a[rows]
            if outer:
                return np.asarray(left @ b.T, dtype=np.float64)
            summed: Float32Array = np.einsum("ij,ij->i", left, b[c_idx])
            return summed.astype(np.float64)

        def member(matrix: sp.csr_array, codes: IntArray) -> BoolArray:
            if outer:
                if len(codes) == 0:
                    return np.zeros((len(rows), m), dtype=np.bool_)
                return np.asarray(matrix[rows].toarray(), dtype=np.bool_)
            return np.isin(rows * max(m, 1) + c_idx, codes)

        shape = (len(rows), m) if outer else (len(rows),)

        def full(x: AnyArray | float) -> FloatArray:
            return np.broadcast_to(np.asarray(x, dtype=np.float64), shape)

        # Needs covered by strengths: sum(priority * level) / (3 * sum(priority)).
        num = dot(e.tags, r.tags)
        den = R(prep.need_den)
        needs = np.where(den > 0, num / np.where(den > 0, den, 1.0), NEUTRAL)

        overlap = dot(e.cover, r.cover)
        target = float(settings.target_overlap_minutes)
        availability = np.minimum(1.0, overlap / target) if target > 0 else full(1.0)

        shared = dot(e.languages, r.languages)
        n_lang = R(e.n_languages)
        language = np.where(n_lang > 0, shared / np.where(n_lang > 0, n_lang, 1.0), 0.0)

        inter = dot(e.culture, r.culture)
        ne, nr = R(e.n_culture), C(r.n_culture)
        pe, pr = R(e.cultural_pref), C(r.cultural_pref)
        frac_e = inter / np.where(ne > 0, ne, 1.0)
        frac_r = inter / np.where(nr > 0, nr, 1.0)
        unknown = (ne == 0) | (nr == 0)
        side_e = np.where(
            unknown | (pe == PREF_OPEN), NEUTRAL, np.where(pe == PREF_SHARED, frac_e, 1.0 - frac_e)
        )
        side_r = np.where(
            unknown | (pr == PREF_OPEN), NEUTRAL, np.where(pr == PREF_SHARED, frac_r, 1.0 - frac_r)
        )
        culture = (side_e + side_r) / 2.0

        gap = C(r.level) - R(e.level)
        experience = np.clip(
            1.0 - np.abs(gap - settings.ideal_experience_gap).astype(np.float64) / 4.0, 0.0, 1.0
        )

        wants_e = np.where(R(e.has_prefs), member(prep.mentee_prefers, prep.mentee_prefers_codes)
                           .astype(np.float64), NEUTRAL)
        wants_r = np.where(C(r.has_prefs), member(prep.mentor_prefers, prep.mentor_prefers_codes)
                           .astype(np.float64), NEUTRAL)
        preference = (wants_e + wants_r) / 2.0

        values = {
            "needs": needs,
            "availability": availability,
            "language": language,
            "culture": culture,
            "experience": experience,
            "preference": preference,
        }
        criteria = {name: full(values[name]) for name in CRITERIA}
        total = np.zeros(shape, dtype=np.float64)
        for weight, name in zip(prep.weights, CRITERIA, strict=True):
            total += float(weight) * criteria[name]
        score = np.rint(np.clip(total, 0.0, 1.0) * SCORE_SCALE).astype(np.int32)

        e_email, r_email = R(e.email), C(r.email)
        # Same manager, or one is above the other (chains were followed in `prepare`).
        reporting = (R(e.manager) >= 0) & (R(e.manager) == C(r.manager))
        reporting |= member(prep.reporting, prep.reporting_codes)
        if settings.forbid_same_org_unit:
            same_org = (R(e.org) >= 0) & (R(e.org) == C(r.org))
        else:
            same_org = np.zeros(shape, dtype=np.bool_)

        raw_rules: dict[str, AnyArray] = {
            "same_person": (R(e.ids) == C(r.ids)) | ((e_email >= 0) & (e_email == r_email)),
            "no_shared_language": shared == 0,
            "insufficient_overlap": overlap < settings.min_overlap_minutes,
            "previous_partner": member(prep.previous, prep.previous_codes),
            "forbidden": member(prep.forbidden, prep.forbidden_codes),
            "mentor_paused": C(prep.paused),
            "mentor_full": C(prep.free <= 0),
            "reporting_line": reporting,
            "experience_gap": (gap < settings.min_experience_gap)
            | (gap > settings.max_experience_gap),
            "same_org_unit": same_org,
        }
        rules = {
            name: np.broadcast_to(np.asarray(raw_rules[name], dtype=np.bool_), shape)
            for name in RULES
        }
        return Block(criteria=criteria, score=score, rules=rules, overlap=full(overlap))


def score_matrix(
    prep: Prepared, progress: Callable[[float], None] | None = None
) -> Int32Array:
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
        block = evaluator.outer(rows)
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
