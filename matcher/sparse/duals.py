"""Optimal LP duals of a restricted optimum, computed from the matching and checked exactly.

``u`` per mentee and ``v`` per slot, by a vectorised int64 Bellman-Ford on the
difference constraints that complementary slackness imposes
(:func:`duals`); pricing (:mod:`matcher.sparse.pricing`) checks them against
every pair left out.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from matcher.types import BoolArray, IntArray


class NoDual(Exception):
    """The matching admits no dual within the iteration limit (it may not be optimal)."""


def _no_dual(limit: int | None) -> None:
    if limit is None:  # pragma: no cover - would be a bug, never an approximation
        raise AssertionError("sparse solver: no dual certificate for the matching")
    raise NoDual


@dataclass(frozen=True)
class _Constraints:
    # u_q - u_p <= length along each arc p -> q, lower <= u <= own_w (u = 0 unmatched).
    own_w: IntArray
    matched: BoolArray
    lower: IntArray
    src: IntArray
    dst: IntArray
    length: IntArray


def _constraints(
    n_p: int,
    n_slots: int,
    edges: tuple[IntArray, IntArray, IntArray],
    matching: tuple[IntArray, IntArray],
) -> _Constraints:
    ep, es, w = edges
    mentee, slot = matching
    mate = np.full(n_slots, -1, dtype=np.int64)
    mate[slot] = mentee
    own_w = np.zeros(n_p, dtype=np.int64)
    matched = np.zeros(n_p, dtype=np.bool_)
    # weight of each matched edge: look it up among the edges
    edge_key = ep * n_slots + es
    order = np.argsort(edge_key, kind="stable")
    pos = order[np.searchsorted(edge_key[order], mentee * n_slots + slot)]
    own_w[mentee] = w[pos]
    matched[mentee] = True
    q = mate[es]
    to_mate = (q >= 0) & (q != ep)
    lower = np.zeros(n_p, dtype=np.int64)
    free_slot = q < 0
    np.maximum.at(lower, ep[free_slot], w[free_slot])
    src, dst = ep[to_mate], q[to_mate]
    length = own_w[dst] - w[to_mate]
    return _Constraints(own_w, matched, lower, src, dst, length)


def _heads(keys: IntArray) -> IntArray:
    # Start of each run of equal (sorted) keys.
    if not len(keys):
        return np.zeros(0, np.int64)
    return np.flatnonzero(np.r_[True, keys[1:] != keys[:-1]])


def _largest(k: _Constraints, rounds: int, limit: int | None) -> IntArray:
    # Largest u with u_p <= W_p (u = 0 unmatched) and u_q <= u_p + W_q - w_ps:
    # Bellman-Ford from these upper bounds, vectorised, in exact int64.
    order = np.argsort(k.dst, kind="stable")
    src, dst, length = k.src[order], k.dst[order], k.length[order]
    heads = _heads(dst)
    targets = dst[heads]
    u = k.own_w.copy()
    # Every iterate bounds the largest solution from above, so one below a mentee's
    # lower bound proves there is none (the matching is not optimal): stop there.
    floor = np.maximum(k.lower, 0)
    for _ in range(rounds):
        if not len(heads):
            return u
        best = np.minimum.reduceat(u[src] + length, heads)
        lower_now = best < u[targets]
        if not lower_now.any():
            return u
        changed = targets[lower_now]
        u[changed] = best[lower_now]
        if bool((u[changed] < floor[changed]).any()):
            _no_dual(limit)
    _no_dual(limit)
    return u  # pragma: no cover - _no_dual raised


def _smallest(k: _Constraints, rounds: int, limit: int | None) -> IntArray:
    # Smallest u: longest paths upwards from the lower bounds (u_p >= u_q + w_ps - W_q).
    order = np.argsort(k.src, kind="stable")
    up_src, up_dst, up_gain = k.src[order], k.dst[order], -k.length[order]
    heads = _heads(up_src)
    targets = up_src[heads]
    u = np.where(k.matched, k.lower, 0)
    for _ in range(rounds):
        if not len(heads):
            return u
        best = np.maximum.reduceat(u[up_dst] + up_gain, heads)
        higher = best > u[targets]
        if not higher.any():
            return u
        u[targets[higher]] = best[higher]
    _no_dual(limit)
    return u  # pragma: no cover - _no_dual raised


def duals(
    n_p: int,
    n_slots: int,
    ep: IntArray,
    es: IntArray,
    w: IntArray,
    mentee: IntArray,
    slot: IntArray,
    limit: int | None = None,
) -> tuple[IntArray, IntArray]:
    """Twice the midpoint of two optimal LP duals of a maximum-weight matching.

    Complementary slackness fixes ``v_s = W_q - u_q`` for the slot ``s`` of a
    matched mentee ``q`` (weight ``W_q``) and ``u = 0`` / ``v = 0`` for
    unmatched mentees / slots; dual feasibility then reads as difference
    constraints on ``u`` (``u_q - u_p <= W_q - w_ps``, ``L_p <= u_p <= W_p``),
    solved by shortest paths (Bellman-Ford from the upper bounds, so the
    largest solution) and by longest paths from the lower bounds (the
    smallest), each checked edge by edge.

    Parameters
    ----------
    n_p, n_slots : int
        Mentees and slots.
    ep, es, w : ndarray of int64
        The mentee-slot edges and their weights.
    mentee, slot : ndarray of int64
        The matching.
    limit : int, optional
        Relaxation rounds allowed.

    Returns
    -------
    u, v : ndarray of int64
        The sums ``u_high + u_low`` and ``v_high + v_low``, an optimal dual of
        the doubled weights ``2 w``.

    Raises
    ------
    NoDual
        With ``limit``, when a search has not settled after that many rounds
        (a matching that is not optimal leaves a negative cycle, which never
        settles). Such duals exist exactly when the matching is optimal on
        these edges; without ``limit``, failing is a bug.
    """
    rounds = n_p + 1 if limit is None else min(limit, n_p + 1)
    k = _constraints(n_p, n_slots, (ep, es, w), (mentee, slot))
    # Both extremes are optimal duals; their sum (twice the midpoint) is what pricing
    # uses: fewer pairs look profitable against it than against either extreme.
    total_u, total_v = np.zeros(n_p, dtype=np.int64), np.zeros(n_slots, dtype=np.int64)
    for dual in (_largest(k, rounds, limit), _smallest(k, rounds, limit)):
        v = np.zeros(n_slots, dtype=np.int64)
        v[slot] = k.own_w[mentee] - dual[mentee]
        ok = (
            bool((dual >= 0).all())
            and bool((v >= 0).all())
            and bool((dual[~k.matched] == 0).all())
            and bool((dual >= k.lower).all())
            and bool((dual[ep] + v[es] >= w).all())
        )
        if not ok:
            _no_dual(limit)
        total_u += dual
        total_v += v
    return total_u, total_v
