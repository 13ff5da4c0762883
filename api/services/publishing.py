"""Publishing a round: its pairs become match proposals, all or none, exactly once.

`create_matches` is shared with the nightly rematch (policy `publish`).
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError, OperationalError
from sqlalchemy.orm import Session

import matcher
from api.adapters.db import lock_program_matches, utcnow
from api.adapters.models import Account, Match, Program, Round, RoundPair
from api.domain.errors import IllegalTransition
from api.domain.settings import ProgramSettings
from api.domain.vocabulary import Closer, MatchStatus
from api.errors import ApiError, Conflict
from api.services import access, idempotency, status
from api.services import pool as pools


@dataclass(frozen=True)
class Published:
    """A published round and how many match proposals its publish created."""

    round: Round
    matches_created: int

    def __getattr__(self, name: str) -> Any:
        # The round's own fields, for the schema that dumps it.
        return getattr(self.round, name)


def publish(
    session: Session,
    account: Account,
    program_id: int,
    round_id: int,
    idempotency_key: str | None,
) -> Published:
    """Turn a proposed round into matches, all or nothing, exactly once."""
    round_ = access.round_of_program(session, account, program_id, round_id)
    fingerprint = f"publish:{program_id}:{round_id}"
    if idempotency_key:
        replay = idempotency.find(session, account.id, idempotency_key, fingerprint)
        if replay is not None:
            # A published round never changes, so its view now is the first response.
            return Published(round_, replay["matches_created"])
    try:
        created = _publish(session, round_)
        if idempotency_key:
            stored = {"round_id": round_.id, "matches_created": created}
            idempotency.store(session, account.id, idempotency_key, fingerprint, stored)
        session.commit()
    except ApiError:
        session.rollback()
        raise
    except (IntegrityError, OperationalError) as exc:
        # Another publish of this round (or a match made meanwhile) won the race.
        session.rollback()
        raise Conflict(
            f"Round {round_id} is being published by another request; read it again."
        ) from exc
    session.refresh(round_)
    return Published(round_, created)


def _publish(session: Session, round_: Round) -> int:
    # Two rounds of one program published at once: the second waits here and then sees
    # the first's matches in the mentors' loads (its pairs stale: 409), never overfills.
    lock_program_matches(session, round_.program_id)
    now = utcnow()
    # The conditional update is the lock: of two concurrent publishes, one changes the row
    # and the other finds it no longer `proposed` (PostgreSQL waits on the row lock first).
    try:
        status.change(
            session,
            Round,
            round_.id,
            "publish",
            at=now,
            values={"published_at": now},
            actor=Closer.COORDINATOR,
        )
    except IllegalTransition as exc:
        session.rollback()
        raise Conflict(
            f"Round {round_.id} is {exc.status}; only a proposed round can be published."
        ) from exc
    program = session.get(Program, round_.program_id)
    assert program is not None
    pairs = session.scalars(select(RoundPair).where(RoundPair.round_id == round_.id)).all()
    stale = _stale_pairs(session, program, round_, pairs, now)
    if stale:
        raise Conflict(
            f"{len(stale)} proposed pairs are no longer possible; start a new round.",
            slug="stale-round",
            stale_pairs=stale,
        )
    create_matches(session, program, round_, pairs, now)
    return len(pairs)


def create_matches(
    session: Session, program: Program, round_: Round, pairs: Sequence[RoundPair], now: datetime
) -> list[Match]:
    """Match proposals for the round's pairs (the caller has the round locked)."""
    expiry = timedelta(days=ProgramSettings.from_stored(program.settings).proposal_expiry_days)
    matches = [
        Match(
            program_id=program.id,
            round_id=round_.id,
            mentee_id=pair.mentee_id,
            mentor_id=pair.mentor_id,
            score=pair.score,
            breakdown=pair.breakdown,
            status=MatchStatus.PROPOSED,
            proposed_at=now,
            expires_at=now + expiry,
        )
        for pair in pairs
    ]
    session.add_all(matches)
    session.flush()
    for match in matches:
        status.created(session, match, "propose", at=now, actor=Closer.COORDINATOR)
    return matches


def _stale_pairs(
    session: Session,
    program: Program,
    round_: Round,
    pairs: Sequence[RoundPair],
    now: datetime,
) -> list[dict[str, Any]]:
    """Pairs of the round that the current state of the program no longer allows."""
    if not pairs:
        return []
    pool = pools.build_pool(session, program, ProgramSettings.from_stored(round_.parameters), now)
    mentees = {m.id for m in pool.problem.mentees}
    mentor_rows = {m.id: m for m in pool.problem.mentors}
    new_load = Counter(p.mentor_id for p in pairs)
    stale: list[dict[str, Any]] = []
    reasons_of: dict[int, list[str]] = {}
    to_check: list[tuple[int, int]] = []
    for pair in pairs:
        reasons: list[str] = []
        mentor = mentor_rows.get(pair.mentor_id)
        if pair.mentee_id not in mentees:
            reasons.append(pool.excluded_mentees.get(pair.mentee_id, "mentee_unavailable"))
        if mentor is None:
            reasons.append("mentor_unavailable")
        elif mentor.paused:
            reasons.append("mentor_paused")
        elif mentor.current_load + new_load[pair.mentor_id] > mentor.capacity:
            reasons.append("mentor_full")
        reasons_of[pair.id] = reasons
        if not reasons:
            to_check.append((pair.mentee_id, pair.mentor_id))
    # Every hard rule again, on the program as it is now (one vectorised evaluation).
    failed = {
        (e.mentee_id, e.mentor_id): [r for r in e.failed_rules if r != "mentor_full"]
        for e in matcher.explain_pairs(pool.problem, to_check)
    }
    for pair in pairs:
        reasons = reasons_of[pair.id] or failed.get((pair.mentee_id, pair.mentor_id), [])
        if reasons:
            stale.append(
                {"mentee_id": pair.mentee_id, "mentor_id": pair.mentor_id, "reasons": reasons}
            )
    return stale
