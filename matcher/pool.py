"""The pool: pins placed first, then the mentees and mentor slots left to optimise.

Built once for both backends (:mod:`matcher.dense`, :mod:`matcher.sparse`): a
mentee joins the pool when no pin placed it and some mentor with a free slot
is feasible for it; a mentor joins with ``min(free slots, feasible pool
mentees)`` slots. The ``k``-th slot of a mentor (``k`` counting its current
load and its pins) carries the load penalty ``lambda * (k - 1)``.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from matcher.features import Prepared
from matcher.model import RULES
from matcher.results import InfeasiblePin
from matcher.scoring import Evaluator
from matcher.types import BoolArray, IntArray


@dataclass(frozen=True)
class Pins:
    """Pins placed in order.

    Attributes
    ----------
    fixed : tuple of (int, int)
        Placed pins as (mentee index, mentor index).
    infeasible : tuple of InfeasiblePin
        Pins that break a hard rule or find their mentor full.
    used : ndarray of int64, shape (m,)
        Slots each mentor gives to pins.
    """

    fixed: tuple[tuple[int, int], ...]
    infeasible: tuple[InfeasiblePin, ...]
    used: IntArray

    @property
    def rows(self) -> IntArray:
        """Mentee index of each placed pin."""
        return np.asarray([i for i, _ in self.fixed], dtype=np.int64)

    @property
    def cols(self) -> IntArray:
        """Mentor index of each placed pin."""
        return np.asarray([j for _, j in self.fixed], dtype=np.int64)

    def pinned(self, n: int) -> BoolArray:
        """Mask of the mentees placed by a pin."""
        out = np.zeros(n, dtype=np.bool_)
        out[self.rows] = True
        return out


def place_pins(prep: Prepared, evaluator: Evaluator) -> Pins:
    """Place the pins in order.

    Parameters
    ----------
    prep : Prepared
        The validated problem.
    evaluator : Evaluator
        Its evaluator.

    Returns
    -------
    Pins
        The placed and the infeasible pins, and the slots they use.
    """
    pin_rows = np.asarray([p[0] for p in prep.pins], dtype=np.int64)
    pin_cols = np.asarray([p[1] for p in prep.pins], dtype=np.int64)
    pin_block = evaluator.pairs(pin_rows, pin_cols)
    used = np.zeros(prep.m, dtype=np.int64)
    fixed: list[tuple[int, int]] = []
    infeasible: list[InfeasiblePin] = []
    for k, (i, j) in enumerate(prep.pins):
        failed = [rule for rule in RULES if bool(pin_block.rules[rule][k])]
        if not failed and used[j] >= prep.free[j]:
            failed = ["mentor_full"]
        if failed:
            infeasible.append(
                InfeasiblePin(int(prep.mentees.ids[i]), int(prep.mentors.ids[j]), tuple(failed))
            )
        else:
            fixed.append((i, j))
            used[j] += 1
    return Pins(tuple(fixed), tuple(infeasible), used)


def open_mentors(prep: Prepared, pins: Pins) -> BoolArray:
    """Mentors with a free slot left after the pins."""
    out: BoolArray = np.maximum(prep.free - pins.used, 0) > 0
    return out


@dataclass(frozen=True)
class Pool:
    """The mentees and mentor slots that are optimised (global indices).

    Attributes
    ----------
    rows : ndarray of int64
        Mentee index of each pool row.
    cols : ndarray of int64
        Mentor index of each pool column.
    slots : ndarray of int64
        Free slots per pool mentor (at most its feasible pool mentees).
    first_penalty_k : ndarray of int64
        ``k - 1`` of each pool mentor's first free slot (current load + pins).
    waiting_class : ndarray of int64
        Waiting-time class per pool row (larger waited longer).
    objective : str
        One of the objectives.
    load_penalty : float
        lambda.
    waiting_priority : str
        How waiting counts: see :data:`matcher.model.WAITING_PRIORITIES`.
    """

    rows: IntArray
    cols: IntArray
    slots: IntArray
    first_penalty_k: IntArray
    waiting_class: IntArray
    objective: str
    load_penalty: float
    waiting_priority: str = "strong"


def build_pool(prep: Prepared, pins: Pins, in_pool: BoolArray, degree: IntArray) -> Pool:
    """The pool from the backend's two summaries of the feasible pairs.

    Parameters
    ----------
    prep : Prepared
        The problem.
    pins : Pins
        The placed pins.
    in_pool : ndarray of bool, shape (n,)
        Mentees not pinned with a feasible mentor that has a free slot.
    degree : ndarray of int64, shape (m,)
        Feasible pool mentees per mentor (0 for mentors without a free slot).

    Returns
    -------
    Pool
    """
    remaining = np.maximum(prep.free - pins.used, 0)
    rows = np.flatnonzero(in_pool).astype(np.int64)
    cols = np.flatnonzero((remaining > 0) & (degree > 0)).astype(np.int64)
    settings = prep.settings
    waiting_class = np.floor(prep.waiting[rows] / settings.waiting_class_days).astype(np.int64)
    if settings.waiting_priority == "none":
        waiting_class = np.zeros_like(waiting_class)  # one class: waiting plays no part
    return Pool(
        rows=rows,
        cols=cols,
        slots=np.minimum(remaining[cols], degree[cols]),
        first_penalty_k=prep.load[cols] + pins.used[cols],
        waiting_class=waiting_class,
        objective=settings.objective,
        load_penalty=float(settings.load_penalty),
        waiting_priority=settings.waiting_priority,
    )


@dataclass(frozen=True)
class Slots:
    """The slot layout of pool mentors: slot ``s`` belongs to mentor ``slot_mentor[s]``.

    Attributes
    ----------
    counts : ndarray of int64
        Slots of each pool mentor.
    slot_mentor : ndarray of int64
        Pool mentor of each slot (a mentor's slots are consecutive).
    slot_start : ndarray of int64
        First slot of each pool mentor.
    penalty_k : ndarray of int64
        ``k - 1`` of each slot (its load-penalty multiple).
    """

    counts: IntArray
    slot_mentor: IntArray
    slot_start: IntArray
    penalty_k: IntArray

    @classmethod
    def of(cls, slots: IntArray, first_penalty_k: IntArray) -> Slots:
        """The layout of mentors with ``slots`` free slots starting at ``first_penalty_k``."""
        slot_mentor = np.repeat(np.arange(len(slots), dtype=np.int64), slots)
        slot_start = np.cumsum(slots) - slots
        within = np.arange(len(slot_mentor), dtype=np.int64) - np.repeat(slot_start, slots)
        return cls(
            slots.astype(np.int64),
            slot_mentor,
            slot_start.astype(np.int64),
            first_penalty_k[slot_mentor] + within,
        )

    def __len__(self) -> int:
        return len(self.slot_mentor)

    def expand(self, p: IntArray, c: IntArray, by_slot: bool) -> tuple[IntArray, IntArray]:
        """Mentee-mentor edges as mentee-slot edges: one copy per slot of the mentor.

        Parameters
        ----------
        p, c : ndarray of int64
            Mentee and mentor of each edge.
        by_slot : bool
            The edges are grouped by mentor and the copies are wanted grouped
            by slot (slot-major graph rows); else the copies of each edge stay
            together (grouped as the edges are).

        Returns
        -------
        slot, source : ndarray of int64
            Slot of each copy and the edge it copies.
        """
        slots = self.counts
        if by_slot:
            degree = np.bincount(c, minlength=len(slots)).astype(np.int64)
            block_start = np.cumsum(degree) - degree
            lens = degree[self.slot_mentor]
            offsets = np.cumsum(lens) - lens
            source = np.repeat(block_start[self.slot_mentor] - offsets, lens)
            source += np.arange(len(source), dtype=np.int64)
            slot = np.repeat(np.arange(len(self.slot_mentor), dtype=np.int64), lens)
            return slot, source
        rep = slots[c]
        offsets = np.cumsum(rep) - rep
        slot = np.repeat(self.slot_start[c] - offsets, rep) + np.arange(int(rep.sum()))
        source = np.repeat(np.arange(len(p), dtype=np.int64), rep)
        return slot.astype(np.int64), source
