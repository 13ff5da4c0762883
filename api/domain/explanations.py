"""What a match's explanation may show to whom.

The culture criterion rests on special category data (cultural background, and whether
consent is live: without it the criterion is neutral), so its value, and any total that
includes it, would let one partner infer the other's background or consent. Partners see
the criteria that rest on nothing special and a score over those alone; the program's
coordinators keep the whole breakdown and the matcher's score.
"""

from __future__ import annotations

from collections.abc import Mapping

from api.domain.vocabulary import CRITERIA

#: Criteria computed from special category data.
SPECIAL_CATEGORY_CRITERIA = frozenset({"culture"})
#: What a partner may see of a pair's explanation, in the matcher's order.
SHAREABLE_CRITERIA: tuple[str, ...] = tuple(
    c for c in CRITERIA if c not in SPECIAL_CATEGORY_CRITERIA
)


def for_partner(
    breakdown: Mapping[str, float], weights: Mapping[str, float]
) -> tuple[float, dict[str, float]]:
    """(score, breakdown) a partner may see: the shareable criteria, and their weighted
    mean with the round's weights (the plain mean when they all weigh nothing)."""
    shown = {c: float(breakdown[c]) for c in SHAREABLE_CRITERIA if c in breakdown}
    if not shown:
        return 0.0, shown
    total = sum(max(float(weights.get(c, 0.0)), 0.0) for c in shown)
    if total > 0:
        score = sum(max(float(weights.get(c, 0.0)), 0.0) * v for c, v in shown.items()) / total
    else:
        score = sum(shown.values()) / len(shown)
    return round(score, 6), shown
