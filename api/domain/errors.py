"""Errors of the domain: a broken rule, and a status change that is not allowed."""

from __future__ import annotations

from collections.abc import Mapping


class DomainError(Exception):
    """Base of the errors the domain raises; `api.http` answers them as problems."""


class RuleViolation(DomainError):
    """Input that breaks a rule of the program: field path -> messages (answered 422)."""

    def __init__(self, errors: Mapping[str, list[str]], detail: str | None = None) -> None:
        self.errors = {key: list(messages) for key, messages in errors.items()}
        self.detail = detail or f"Invalid input in: {', '.join(sorted(self.errors))}."
        super().__init__(self.detail)

    def prefixed(self, prefix: str) -> RuleViolation:
        """The same violation with every field path under `prefix` (e.g. `settings`)."""
        return RuleViolation({f"{prefix}.{k}": v for k, v in self.errors.items()})


class IllegalTransition(DomainError):
    """An event that the entity's current status does not allow (answered 409)."""

    def __init__(self, entity: str, entity_id: int | None, status: str, event: str) -> None:
        self.entity, self.entity_id, self.status, self.event = entity, entity_id, status, event
        super().__init__(f"{entity} {entity_id} is {status}; it cannot be {event}.")
