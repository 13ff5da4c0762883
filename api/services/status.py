"""The one place a match or a round changes status.

A transition of `api.domain.lifecycle` becomes one conditional
`UPDATE … SET status = <target> WHERE id = :id AND status IN (<sources>)`: of two
requests acting on one row at once, the second waits for the first (PostgreSQL's row
lock, SQLite's write lock) and then finds the status it left, so no update is lost and
an event that no longer applies is refused with the status found. The change's `Event`
goes to the listeners of `api.services.events` in the same transaction.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import ColumnElement, select, update
from sqlalchemy.orm import Session
from sqlalchemy.orm.util import identity_key

from api.adapters.models import Concern, Match, Round
from api.domain.lifecycle import CONCERN, MATCH, ROUND, Event, Lifecycle
from api.services import events
from api.services import outbox as _outbox  # noqa: F401  (it listens to every change here)
from api.services import surveys as _surveys  # noqa: F401  (closing surveys on match.end)

Entity = type[Match] | type[Round] | type[Concern]
_LIFECYCLES: dict[Any, Lifecycle[Any]] = {Match: MATCH, Round: ROUND, Concern: CONCERN}


def change(
    session: Session,
    model: Entity,
    entity_id: int,
    event: str,
    *,
    at: datetime,
    values: dict[str, Any] | None = None,
    where: Sequence[ColumnElement[bool]] = (),
    actor: str | None = None,
    **data: Any,
) -> Event:
    """Apply `event` to one row; IllegalTransition (with the status found) if it does not
    apply. `where` adds conditions (a guard); `values` sets other columns with it."""
    lifecycle = _LIFECYCLES[model]
    transition = lifecycle[event]
    stmt = (
        update(model)
        .where(model.id == entity_id, model.status.in_(transition.sources), *where)
        .values(status=transition.target.value, **(values or {}))
        .returning(model.program_id)
        .execution_options(synchronize_session=False)
    )
    program_id = session.execute(stmt).scalar_one_or_none()
    if program_id is None:
        found = session.scalar(select(model.status).where(model.id == entity_id))
        raise lifecycle.refuse(found or "gone", event, entity_id)
    _sync(session, model, entity_id)
    happened = lifecycle.event(
        event, entity_id, at, source=None, actor=actor, program_id=program_id, **data
    )
    events.publish(session, happened)
    return happened


class Batch:
    """A transition for every row a condition selects, as one statement built once.

    `where` and `values` may hold bind parameters (`bindparam("now")`), given to `run`:
    constructing a statement costs more than running a cached one, and a batch such as
    the expiry of due proposals runs on every match listing.
    """

    def __init__(
        self,
        model: Entity,
        event: str,
        *,
        where: Sequence[ColumnElement[bool]],
        values: dict[str, Any] | None = None,
    ) -> None:
        self.model, self.event = model, event
        self.lifecycle = _LIFECYCLES[model]
        transition = self.lifecycle[event]
        self.statement = (
            update(model)
            .where(model.status.in_(transition.sources), *where)
            .values(status=transition.target.value, **(values or {}))
            .returning(model.id, model.program_id)
            .execution_options(synchronize_session=False)
        )

    def run(
        self,
        session: Session,
        params: dict[str, Any] | None = None,
        *,
        at: datetime,
        actor: str | None = None,
        **data: Any,
    ) -> list[Event]:
        changed = session.execute(self.statement, params or {}).all()
        happened = []
        for entity_id, program_id in changed:
            _sync(session, self.model, entity_id)
            event = self.lifecycle.event(
                self.event, entity_id, at, source=None, actor=actor, program_id=program_id, **data
            )
            events.publish(session, event)
            happened.append(event)
        return happened


def change_many(
    session: Session,
    model: Entity,
    event: str,
    *,
    at: datetime,
    where: Sequence[ColumnElement[bool]],
    values: dict[str, Any] | None = None,
    actor: str | None = None,
    **data: Any,
) -> list[Event]:
    """Apply `event` to every row matching `where` whose status allows it (one UPDATE)."""
    batch = Batch(model, event, where=where, values=values)
    return batch.run(session, at=at, actor=actor, **data)


def created(
    session: Session,
    entity: Match | Round | Concern,
    event: str,
    *,
    at: datetime,
    actor: str | None = None,
) -> Event:
    """The event of a row just inserted in the status `event` creates (flushed first)."""
    lifecycle = _LIFECYCLES[type(entity)]
    transition = lifecycle[event]
    assert not transition.sources and entity.status == transition.target, event
    happened = lifecycle.event(
        event, entity.id, at, source=None, actor=actor, program_id=entity.program_id
    )
    events.publish(session, happened)
    return happened


def _sync(session: Session, model: Entity, entity_id: int) -> None:
    # A row this session holds is stale after the UPDATE: expire it, so the next access
    # reads what the statement wrote.
    held = session.identity_map.get(identity_key(model, entity_id))
    if held is not None:
        session.expire(held)
