"""The fair bottleneck search: the highest threshold a ``feasible_at`` oracle accepts.

``fair`` matches as many mentees as possible, then maximises the lowest score
among the optimised pairs: the highest threshold ``t`` such that the pairs
scoring ``>= t`` still admit a matching of the participation optimum's size.
Feasibility is monotone in ``t`` (a lower threshold keeps more pairs), so a
search over the distinct score values finds it with a few oracle calls. Each
backend brings its oracle (a maximum matching on the dense slot graph, or a
certified maximum matching by König covers on the sparse path) and, where it
knows one, a cheaper first probe.
"""

from __future__ import annotations

from collections.abc import Callable

from matcher.types import IntArray


def highest_feasible(
    values: IntArray,
    feasible_at: Callable[[int], bool],
    ok: int,
    failed: int = -1,
    probe: Callable[[int], int] | None = None,
) -> int:
    """Index of the highest value the oracle accepts.

    Parameters
    ----------
    values : ndarray of int64
        Distinct thresholds, highest first; ``feasible_at`` is monotone over them
        (once it holds, it holds for every lower value).
    feasible_at : callable
        ``feasible_at(threshold) -> bool``.
    ok : int
        Index of a value known to be feasible.
    failed : int
        Index of a value known to be infeasible (-1: none, or the one above ``values[0]``).
    probe : callable, optional
        ``probe(failed) -> index``: the next value to try before bisecting
        (galloping up from ``ok``); the search bisects as soon as a probe is
        feasible or falls outside ``(failed, ok)``. Without it, bisection only.

    Returns
    -------
    int
        The index into ``values`` of the highest feasible value.
    """
    while probe is not None:
        at = probe(failed)
        if at <= failed or at >= ok:
            break
        if feasible_at(int(values[at])):
            ok = at
            break
        failed = at
    while ok - failed > 1:
        mid = (ok + failed) // 2
        if feasible_at(int(values[mid])):
            ok = mid
        else:
            failed = mid
    return ok
