"""The closing survey: when a match ends (any reason), both sides are asked how it went.

Goals reached (1–5), would recommend (1–5) and free text for the coordinators only.
The ask is written to the outbox in the transaction that ended the match (a listener of
`match.end` and `match.close_on_erasure`); the program report aggregates the answers
(response rate, means, distributions) and exports them as CSV.
"""

from __future__ import annotations

import csv
import io
import statistics
from dataclasses import dataclass
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, aliased

from api.adapters.models import Account, ClosingSurvey, Match, Participant
from api.domain.lifecycle import Event
from api.domain.vocabulary import MatchStatus, MessageKind, Side
from api.errors import Conflict
from api.services import access, events, outbox

_MENTEE, _MENTOR = aliased(Participant), aliased(Participant)


def _on_end(session: Session, happened: Event) -> None:
    row = session.execute(
        select(_MENTEE.account_id, _MENTOR.account_id)
        .join(Match, Match.mentee_id == _MENTEE.id)
        .join(_MENTOR, _MENTOR.id == Match.mentor_id)
        # Only relationships that started: a proposal closed by an erasure asks nothing.
        .where(Match.id == happened.entity_id, Match.activated_at.is_not(None))
    ).one_or_none()
    if row is None:
        return
    outbox.write(
        session,
        [
            outbox.Message(
                dedupe_key=f"closing_survey:{happened.entity_id}:{account_id}",
                kind=MessageKind.CLOSING_SURVEY,
                account_id=account_id,
                program_id=happened.program_id,
                match_id=happened.entity_id,
                payload={"side": side.value},
            )
            for side, account_id in ((Side.MENTEE, row[0]), (Side.MENTOR, row[1]))
        ],
        happened.at,
    )


events.subscribe("match.end", _on_end)
events.subscribe("match.close_on_erasure", _on_end)


def answer(
    session: Session, account: Account, match_id: int, data: dict[str, Any]
) -> ClosingSurvey:
    """The caller's closing survey of an ended match (once per side)."""
    match, side = access.match_side(session, account, match_id)
    if match.status != MatchStatus.ENDED:
        raise Conflict(
            f"This match is {match.status}; the closing survey is for ended relationships.",
            current_status=match.status,
        )
    author = match.mentee_id if side == Side.MENTEE else match.mentor_id
    done = session.scalar(
        select(ClosingSurvey.id).where(
            ClosingSurvey.match_id == match.id, ClosingSurvey.author_side == side.value
        )
    )
    if done is not None:
        raise Conflict(
            "You have answered this closing survey already.", current_status=match.status
        )
    row = ClosingSurvey(
        program_id=match.program_id,
        match_id=match.id,
        author_id=author,
        author_side=side.value,
        goals=data["goals"],
        recommend=data["recommend"],
        comment=data.get("comment") or "",
    )
    session.add(row)
    try:
        session.commit()
    except IntegrityError as exc:
        session.rollback()
        raise Conflict(
            "You have answered this closing survey already.", current_status=match.status
        ) from exc
    return row


@dataclass(frozen=True)
class Scale:
    mean: float | None
    distribution: dict[str, int]


@dataclass(frozen=True)
class SurveyReport:
    ended_matches: int
    asked: int
    responses: int
    response_rate: float | None
    goals: Scale
    recommend: Scale


def _scale(values: list[int]) -> Scale:
    return Scale(
        mean=round(statistics.fmean(values), 2) if values else None,
        distribution={str(k): values.count(k) for k in range(1, 6)},
    )


def report(session: Session, account: Account, program_id: int) -> SurveyReport:
    program = access.program_for_coordinator(session, account, program_id)
    ended = (
        session.scalar(
            select(func.count())
            .select_from(Match)
            .where(Match.program_id == program.id, Match.status == MatchStatus.ENDED)
        )
        or 0
    )
    rows = session.execute(
        select(ClosingSurvey.goals, ClosingSurvey.recommend).where(
            ClosingSurvey.program_id == program.id
        )
    ).all()
    asked = 2 * ended
    return SurveyReport(
        ended_matches=ended,
        asked=asked,
        responses=len(rows),
        response_rate=round(len(rows) / asked, 4) if asked else None,
        goals=_scale([r.goals for r in rows]),
        recommend=_scale([r.recommend for r in rows]),
    )


def _cell(value: str) -> str:
    # A spreadsheet runs cells starting with these as formulas (CSV injection).
    return "'" + value if value[:1] in ("=", "+", "-", "@", "\t", "\r") else value


def surveys_csv(session: Session, account: Account, program_id: int) -> str:
    """Every answer of the program's closing surveys (the comments are for coordinators)."""
    program = access.program_for_coordinator(session, account, program_id)
    rows = session.scalars(
        select(ClosingSurvey)
        .where(ClosingSurvey.program_id == program.id)
        .order_by(ClosingSurvey.match_id, ClosingSurvey.id)
    ).all()
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(["match_id", "side", "goals", "recommend", "comment", "answered_at"])
    for r in rows:
        writer.writerow(
            [
                r.match_id,
                r.author_side,
                r.goals,
                r.recommend,
                _cell(r.comment),
                r.created_at.isoformat(),
            ]
        )
    return out.getvalue()
