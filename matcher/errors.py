"""The one exception the matcher raises for bad input."""

from __future__ import annotations

from collections.abc import Mapping

from matcher.types import JSONValue


class MatcherError(ValueError):
    """Bad matcher input, with a message that names the problem.

    Parameters
    ----------
    message : str
        Human-readable description naming the offending input.
    field : str or None
        Dotted path of the offending input, e.g. ``"mentors[3].capacity"`` or
        ``"settings.weights.needs"``; ``None`` when the problem is not one field.
    details : mapping, optional
        JSON-serialisable extra facts (the offending value, allowed values...).
    """

    def __init__(
        self,
        message: str,
        *,
        field: str | None = None,
        details: Mapping[str, JSONValue] | None = None,
    ) -> None:
        super().__init__(message)
        self.message = message
        self.field = field
        self.details: dict[str, JSONValue] = dict(details or {})

    def to_dict(self) -> dict[str, JSONValue]:
        """Return ``{"message", "field", "details"}`` as plain JSON data.

        Returns
        -------
        dict
            The error as JSON-serialisable data.
        """
        return {"message": self.message, "field": self.field, "details": dict(self.details)}
