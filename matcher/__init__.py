"""peermatch matching core: exact optimal mentor-mentee assignment.

Pure numpy + scipy + stdlib. Inputs are frozen dataclasses carrying ids;
outputs carry ids and plain JSON-friendly values. Indices never leave the
package.

Public API
----------
Window, Mentee, Mentor, Settings, Problem
    Inputs (:mod:`matcher.model`).
solve(problem, progress=None) -> Result
    Exact matching for the configured objective.
explain(problem, mentee_id, mentor_id) -> Explanation
    Score breakdown and failing hard rules of any pair.
explain_pairs(problem, pairs) -> tuple of Explanation
    The same for many pairs at once (one preparation, vectorised).
Result, Pair, Unmatched, InfeasiblePin, Stats, Explanation
    Outputs (:mod:`matcher.results`), each with ``to_dict()``.
SolveOptions, SparseOptions
    Tuning of ``solve`` (:mod:`matcher.backend`, :mod:`matcher.sparse`); the
    optimum never depends on it.
MatcherError
    Raised on bad input (``ValueError`` subclass with ``field`` and ``details``).
CRITERIA, RULES, OBJECTIVES, WAITING_PRIORITIES, CULTURAL_PREFERENCES, DEFAULT_WEIGHTS
    Vocabulary constants.
"""

from matcher.backend import SolveOptions
from matcher.engine import explain, explain_pairs, solve
from matcher.errors import MatcherError
from matcher.model import (
    CRITERIA,
    CULTURAL_PREFERENCES,
    DEFAULT_WEIGHTS,
    OBJECTIVES,
    RULES,
    WAITING_PRIORITIES,
    Mentee,
    Mentor,
    Problem,
    Settings,
    Window,
)
from matcher.results import Explanation, InfeasiblePin, Pair, Result, Stats, Unmatched
from matcher.sparse import SparseOptions

__all__ = [
    "CRITERIA",
    "CULTURAL_PREFERENCES",
    "DEFAULT_WEIGHTS",
    "OBJECTIVES",
    "RULES",
    "WAITING_PRIORITIES",
    "Explanation",
    "InfeasiblePin",
    "MatcherError",
    "Mentee",
    "Mentor",
    "Pair",
    "Problem",
    "Result",
    "Settings",
    "SolveOptions",
    "SparseOptions",
    "Stats",
    "Unmatched",
    "Window",
    "explain",
    "explain_pairs",
    "solve",
]
