"""The console's charts as plain geometry for small hand-written SVG templates.

Three bar charts (the funnel, the score histogram, the mentor load) need no charting
library: each is a list of bars with their label, value and length, drawn by
`templates/console/_bars.svg.html` with SVG presentation attributes (no inline style, so
the strict Content-Security-Policy holds) and shown with the same numbers as text.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass


@dataclass(frozen=True)
class Bar:
    label: str
    value: int
    length: float  # in [0, 1] of the longest bar


@dataclass(frozen=True)
class Chart:
    title: str
    bars: list[Bar]
    #: Drawing units of the SVG's view box.
    width: int = 640
    bar_height: int = 28
    label_width: int = 200

    @property
    def height(self) -> int:
        return self.bar_height * max(1, len(self.bars)) + 8

    @property
    def plot_width(self) -> int:
        return self.width - self.label_width - 70


def bars(title: str, items: Iterable[tuple[str, int]]) -> Chart:
    pairs = list(items)
    top = max((v for _, v in pairs), default=0)
    return Chart(title, [Bar(label, v, v / top if top else 0.0) for label, v in pairs])


def score_bands(scores: Sequence[float], bands: int = 10) -> list[tuple[str, int]]:
    """How many scores fall in each of `bands` equal bands of [0, 1]."""
    counts = [0] * bands
    for s in scores:
        counts[min(bands - 1, max(0, int(s * bands)))] += 1
    step = 1 / bands
    return [(f"{i * step:.1f}–{(i + 1) * step:.1f}", c) for i, c in enumerate(counts)]
