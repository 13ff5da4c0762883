"""The large-problem backend: exact solving without a dense score matrix.

Used when the whole ``n x m`` score matrix would not fit the memory budget
(``SolveOptions.dense_pair_limit``). The pool (:mod:`matcher.pool`) and the
objective's integer encoding (:mod:`matcher.objective`) are exactly those of
the dense backend; only the way the optimum is found differs:

1. :mod:`~matcher.sparse.scan`: the scores are computed once, in row chunks
   (:mod:`~matcher.sparse.pairs`: by a few threads, and kept compactly while
   they fit), and each pool mentee keeps its best few feasible mentors and
   each mentor its best few pool mentees;
2. :mod:`~matcher.sparse.restricted`: the restricted problem (candidate edges
   only) is solved exactly with ``min_weight_full_bipartite_matching``, warm
   from the previous duals in the tail of pricing, or not at all when the
   previous matching is still optimal;
3. :mod:`~matcher.sparse.duals`: optimal LP duals of the restricted problem
   are computed from the matching and checked exactly;
4. :mod:`~matcher.sparse.pricing`: every feasible pair is priced against them;
   violators join the candidates and step 2 runs again. When no pair has a
   positive reduced profit, the duals are feasible for the full problem and
   the matching is optimal: certified, not approximate.

``fair`` searches its bottleneck with maximum matchings certified by König
covers (:mod:`~matcher.sparse.cover`). Tuning is one frozen
:class:`SparseOptions`; the backend is
:class:`matcher.sparse.backend.SparseBackend`.
"""

from matcher.sparse.options import SparseOptions

__all__ = ["SparseOptions"]
