"""Load and burnout: what a mentor's wellbeing signals set off.

Two `stretched` check-ins in a row (as a mentor, across their matches of the program)
ask them once whether to lower their capacity: one message with one action link, its
dedupe key naming the first check-in of the streak (`capacity_question:<participant>:
<check-in>`), so a streak asks once however long it runs. A `drained` check-in tells
the program's coordinators at once; a drained mentor gets no new proposals (the nightly
rematch leaves them out) until they resume (`resume`) or check in again without it.
"""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from api.adapters.models import CheckIn, Match, Participant, ProgramCoordinator
from api.domain.settings import ProgramSettings
from api.domain.vocabulary import LinkPurpose, MessageKind, Side, Signal
from api.services import links, outbox


def _coordinators(session: Session, program_id: int) -> list[int]:
    return sorted(
        session.scalars(
            select(ProgramCoordinator.account_id).where(ProgramCoordinator.program_id == program_id)
        )
    )


def stretched_streak(session: Session, mentor_id: int) -> list[int]:
    """Ids of the mentor's latest run of `stretched` check-ins (as a mentor), oldest first."""
    signals = session.execute(
        select(CheckIn.id, CheckIn.signal)
        .where(CheckIn.author_id == mentor_id, CheckIn.author_side == Side.MENTOR)
        .order_by(CheckIn.id.desc())
        .limit(50)
    ).all()
    streak: list[int] = []
    for check_in_id, signal in signals:
        if signal != Signal.STRETCHED:
            break
        streak.append(check_in_id)
    return streak[::-1]


def after_check_in(session: Session, match: Match, row: CheckIn) -> None:
    """In the check-in's transaction: the messages its signal calls for."""
    messages: list[outbox.Message] = []
    if row.author_side == Side.MENTOR and row.signal == Signal.STRETCHED:
        streak = stretched_streak(session, row.author_id)
        if len(streak) >= 2:
            mentor = session.get(Participant, row.author_id)
            assert mentor is not None
            messages.append(
                outbox.Message(
                    dedupe_key=f"capacity_question:{mentor.id}:{streak[0]}",
                    kind=MessageKind.CAPACITY_QUESTION,
                    account_id=mentor.account_id,
                    program_id=match.program_id,
                    match_id=match.id,
                    payload={"side": Side.MENTOR.value},
                )
            )
    if row.signal == Signal.DRAINED:
        for account_id in _coordinators(session, match.program_id):
            messages.append(
                outbox.Message(
                    dedupe_key=f"mentor_drained:{row.id}:{account_id}",
                    kind=MessageKind.MENTOR_DRAINED,
                    account_id=account_id,
                    program_id=match.program_id,
                    match_id=match.id,
                    # The side only: the note stays in the API for coordinators.
                    payload={"drained_side": row.author_side},
                )
            )
    outbox.write(session, messages)


def capacity_of(participant: Participant, settings: ProgramSettings) -> int:
    return participant.capacity if participant.capacity is not None else settings.default_capacity


# --- the capacity question's action link ---------------------------------------------------


def capacity_by_link(session: Session, token: str) -> tuple[Participant, int]:
    """The mentor a capacity link is for and the capacity it would set (changes nothing)."""
    link = links.peek(session, token, LinkPurpose.LOWER_CAPACITY)
    return _lowered(session, link.account_id, link.program_id)


def lower_by_link(session: Session, token: str) -> tuple[Participant, int]:
    """Lower the mentor's capacity by one (the link is single use)."""
    link = links.take(session, token, LinkPurpose.LOWER_CAPACITY)
    participant, lowered = _lowered(session, link.account_id, link.program_id)
    participant.capacity = lowered
    session.commit()
    return participant, lowered


def _lowered(session: Session, account_id: int, program_id: int | None) -> tuple[Participant, int]:
    participant = session.scalar(
        select(Participant).where(
            Participant.account_id == account_id, Participant.program_id == program_id
        )
    )
    if participant is None:
        raise links.LinkInvalid()
    settings = ProgramSettings.from_stored(participant.program.settings)
    return participant, max(0, capacity_of(participant, settings) - 1)
