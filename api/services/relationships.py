"""Matches as participants live them: accept, decline, end, check in.

Every status change goes through `api.services.status` (a conditional update), so two
partners answering at once never lose each other's answer.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import bindparam, func, or_, select
from sqlalchemy.orm import InstrumentedAttribute, Session, joinedload, object_session
from sqlalchemy.orm.attributes import set_committed_value

from api.adapters.db import utcnow
from api.adapters.models import (
    Account,
    CheckIn,
    ClosingSurvey,
    FitAnswerRecord,
    Match,
    Participant,
    ParticipantTag,
    Round,
)
from api.domain import explanations
from api.domain.errors import IllegalTransition
from api.domain.settings import ProgramSettings
from api.domain.vocabulary import (
    OPEN_MATCH_STATUSES,
    Closer,
    LinkPurpose,
    MatchStatus,
    Side,
    TagKind,
)
from api.errors import Conflict
from api.services import access, links, load, status

NO_ANSWER = "no answer"


@dataclass(frozen=True)
class FitCheck:
    """The first-meeting fit check as one partner sees it (never the partner's answer)."""

    asked_at: datetime | None
    my_answer: str | None
    pending: bool


@dataclass(frozen=True)
class Why:
    """Why two people were matched, as either of them may see it."""

    score: float
    breakdown: dict[str, float]
    covered_needs: list[str]
    shared_languages: list[str]


@dataclass(frozen=True)
class MatchView:
    """A match as one of its partners sees it."""

    match: Match
    side: Side
    #: The criterion weights of the match's round (loaded when not given).
    weights: Mapping[str, float] | None = None

    def __getattr__(self, name: str) -> Any:
        # The match's own fields (id, status, timestamps ...), for the schema.
        return getattr(self.match, name)

    @property
    def my_side(self) -> Side:
        return self.side

    @property
    def close_reason(self) -> str | None:
        # A partner's reason for declining or ending is for themselves and the program's
        # coordinators, never shown to the other partner (the API says so where it is
        # written); a coordinator's or the system's reason is shown to both.
        closer = self.match.closed_by
        if closer in (Side.MENTEE, Side.MENTOR) and closer != self.side:
            return None
        return self.match.close_reason

    @property
    def partner(self) -> Participant:
        return self.match.mentor if self.side == Side.MENTEE else self.match.mentee

    @property
    def i_accepted(self) -> bool:
        return _accepted_at(self.match, self.side) is not None

    @property
    def partner_accepted(self) -> bool:
        other = Side.MENTOR if self.side == Side.MENTEE else Side.MENTEE
        return _accepted_at(self.match, other) is not None

    @property
    def fit_check(self) -> FitCheck:
        mine = [a.answer for a in self.match.fit_answers if a.author_side == self.side]
        asked = self.match.fit_check_asked_at
        return FitCheck(
            asked_at=asked,
            my_answer=mine[-1] if mine else None,
            pending=asked is not None and not mine and self.match.status == MatchStatus.ACTIVE,
        )

    @property
    def paused(self) -> bool:
        return self.match.paused_at is not None

    @property
    def survey_pending(self) -> bool:
        """The match ended and the caller has not answered its closing survey."""
        return self.match.status == MatchStatus.ENDED and not any(
            s.author_side == self.side for s in self.match.closing_surveys
        )

    @property
    def why(self) -> Why:
        mentee, mentor = self.match.mentee, self.match.mentor
        needs = {t.tag for t in mentee.tag_list(TagKind.NEED)}
        strengths = {t.tag for t in mentor.tag_list(TagKind.STRENGTH)}
        score, breakdown = partner_explanation(self.match, self.weights)
        return Why(
            score=score,
            breakdown=breakdown,
            covered_needs=sorted(needs & strengths),
            shared_languages=sorted(set(mentee.languages) & set(mentor.languages)),
        )


def partner_explanation(
    match: Match, weights: Mapping[str, float] | None = None
) -> tuple[float, dict[str, float]]:
    """The score and breakdown a partner of `match` may see (api.domain.explanations),
    with the weights of its round (read when not given)."""
    if weights is None:
        session = object_session(match)
        parameters = (
            session.scalar(select(Round.parameters).where(Round.id == match.round_id))
            if session is not None
            else None
        )
        weights = ProgramSettings.from_stored(parameters).weights
    return explanations.for_partner(match.breakdown, weights)


def _accepted_at(match: Match, side: Side) -> datetime | None:
    return match.mentee_accepted_at if side == Side.MENTEE else match.mentor_accepted_at


def _acceptance(side: Side) -> tuple[InstrumentedAttribute[Any], InstrumentedAttribute[Any]]:
    """The caller's acceptance column and the partner's."""
    if side == Side.MENTEE:
        return Match.mentee_accepted_at, Match.mentor_accepted_at
    return Match.mentor_accepted_at, Match.mentee_accepted_at


def _closing(now: datetime, by: str, reason: str | None) -> dict[str, Any]:
    return {"closed_at": now, "closed_by": by, "close_reason": reason}


_DUE = Match.expires_at <= bindparam("now")
_EXPIRED = _closing(bindparam("now"), Closer.SYSTEM, NO_ANSWER)  # type: ignore[arg-type]
_EXPIRE_DUE = status.Batch(Match, "expire", where=[_DUE], values=_EXPIRED)
_EXPIRE_DUE_IN_PROGRAM = status.Batch(
    Match, "expire", where=[_DUE, Match.program_id == bindparam("in_program")], values=_EXPIRED
)


def expire_due(session: Session, now: datetime, program_id: int | None = None) -> int:
    """Mark unanswered proposals past their expiry as expired; returns how many."""
    if program_id is None:
        expired = _EXPIRE_DUE.run(session, {"now": now}, at=now, actor=Closer.SYSTEM)
    else:
        expired = _EXPIRE_DUE_IN_PROGRAM.run(
            session, {"now": now, "in_program": program_id}, at=now, actor=Closer.SYSTEM
        )
    return len(expired)


# The caller's matches (through their participations), newest first, with both sides and
# their accounts joined (one row per match). Built once: constructing a statement costs
# more than running a cached one.
_MY_MATCHES = (
    select(Match, Round.parameters)
    .join(Round, Round.id == Match.round_id)
    .join(Participant, or_(Participant.id == Match.mentee_id, Participant.id == Match.mentor_id))
    .where(Participant.account_id == bindparam("account_id"))
    .options(
        joinedload(Match.mentee).joinedload(Participant.account),
        joinedload(Match.mentor).joinedload(Participant.account),
    )
    .order_by(Match.id.desc())
)
_TAGS_OF = (
    select(ParticipantTag)
    .where(ParticipantTag.participant_id.in_(bindparam("ids", expanding=True)))
    .order_by(ParticipantTag.kind, ParticipantTag.tag)  # as Participant.tags is ordered
)


def _load_tags(session: Session, people: list[Participant]) -> None:
    """Load the tags of many participants (both sides of many matches) in one query.

    A selectinload per side would take one query each and cost more Python time.
    """
    if not people:
        return
    by_participant: dict[int, list[ParticipantTag]] = defaultdict(list)
    for tag in session.scalars(_TAGS_OF, {"ids": sorted({p.id for p in people})}):
        by_participant[tag.participant_id].append(tag)
    for p in people:
        # As if loaded with the participant (SQLAlchemy's documented use of it).
        set_committed_value(p, "tags", by_participant[p.id])


_FIT_ANSWERS_OF = (
    select(FitAnswerRecord)
    .where(FitAnswerRecord.match_id.in_(bindparam("ids", expanding=True)))
    .order_by(FitAnswerRecord.id)
)
_SURVEYS_OF = (
    select(ClosingSurvey)
    .where(ClosingSurvey.match_id.in_(bindparam("ids", expanding=True)))
    .order_by(ClosingSurvey.id)
)


def _load_health(session: Session, matches: list[Match]) -> None:
    """Fit answers of matches whose fit check was asked, surveys of ended matches: one
    query each, and none when no match needs them."""
    for attribute, statement, wanted in (
        ("fit_answers", _FIT_ANSWERS_OF, [m for m in matches if m.fit_check_asked_at]),
        ("closing_surveys", _SURVEYS_OF, [m for m in matches if m.status == MatchStatus.ENDED]),
    ):
        found: dict[int, list[Any]] = defaultdict(list)
        if wanted:
            for row in session.scalars(statement, {"ids": [m.id for m in wanted]}):
                found[row.match_id].append(row)
        for m in matches:
            set_committed_value(m, attribute, found[m.id])


def my_matches(session: Session, account: Account) -> list[MatchView]:
    if expire_due(session, utcnow()):
        session.commit()
    # With each match, its round's parameters (the weights of the partners' explanations).
    rows = session.execute(_MY_MATCHES, {"account_id": account.id}).all()
    matches = [m for m, _ in rows]
    weights = {m.id: ProgramSettings.from_stored(p).weights for m, p in rows}
    _load_tags(session, [p for m in matches for p in (m.mentee, m.mentor)])
    _load_health(session, list(matches))
    # The mentee and the mentor of a match are in the same program, so never both the caller.
    return [
        MatchView(
            m,
            Side.MENTEE if m.mentee.account_id == account.id else Side.MENTOR,
            weights[m.id],
        )
        for m in matches
    ]


def _refuse(session: Session, match: Match, exc: IllegalTransition, what: str) -> Conflict:
    """The 409 for an answer the match no longer takes; a proposal found past its expiry
    is marked expired on the way."""
    session.rollback()
    now = utcnow()
    if exc.status in OPEN_MATCH_STATUSES:
        try:
            status.change(
                session,
                Match,
                match.id,
                "expire",
                at=now,
                where=(Match.expires_at <= now,),
                values=_closing(now, Closer.SYSTEM, NO_ANSWER),
                actor=Closer.SYSTEM,
            )
            session.commit()
            found = MatchStatus.EXPIRED.value
        except IllegalTransition as again:
            session.rollback()
            found = again.status
    else:
        found = exc.status
    return Conflict(f"This match is {found}; {what}.", current_status=found)


def accept(session: Session, account: Account, match_id: int) -> MatchView:
    """Accept a proposal; the second acceptance makes the match active."""
    match, side = access.match_side(session, account, match_id)
    now = utcnow()
    mine, partners = _acceptance(side)
    stamp = {mine.key: func.coalesce(mine, now)}
    in_time = Match.expires_at > now
    try:
        try:
            # The partner has not accepted: only the caller's acceptance is recorded.
            status.change(
                session,
                Match,
                match.id,
                "accept",
                at=now,
                values=stamp,
                where=(in_time, partners.is_(None)),
                actor=side,
            )
        except IllegalTransition:
            # The partner has (perhaps a moment ago): the match becomes active.
            status.change(
                session,
                Match,
                match.id,
                "activate",
                at=now,
                values={**stamp, "activated_at": now},
                where=(in_time, partners.is_not(None)),
                actor=side,
            )
    except IllegalTransition as exc:
        raise _refuse(session, match, exc, "only a proposal can be accepted") from exc
    session.commit()
    return MatchView(match, side)


def decline(session: Session, account: Account, match_id: int, reason: str | None) -> MatchView:
    """Decline a proposal as the caller saw it.

    The decline applies only while the match is in the status this request read: when
    the partner accepted meanwhile (both answered at once), the decline is refused with
    409 naming the new status, so the person reads what changed and answers again. Of an
    accept and a decline racing, exactly one wins; the other is told what it lost to.
    """
    match, side = access.match_side(session, account, match_id)
    seen = match.status
    now = utcnow()
    try:
        status.change(
            session,
            Match,
            match.id,
            "decline",
            at=now,
            values=_closing(now, side, reason or None),
            where=(Match.expires_at > now, Match.status == seen),
            actor=side,
        )
    except IllegalTransition as exc:
        if exc.status != seen and exc.status in OPEN_MATCH_STATUSES:
            session.rollback()
            raise Conflict(
                f"This match is {exc.status} now (it was {seen} when you answered: your "
                "partner answered meanwhile); read it again before declining.",
                current_status=exc.status,
            ) from exc
        raise _refuse(session, match, exc, "only a proposal can be declined") from exc
    session.commit()
    return MatchView(match, side)


def end(session: Session, account: Account, match_id: int, reason: str) -> MatchView:
    match, side = access.match_side(session, account, match_id)
    now = utcnow()
    try:
        status.change(
            session,
            Match,
            match.id,
            "end",
            at=now,
            values=_closing(now, side, reason),
            actor=side,
        )
    except IllegalTransition as exc:
        session.rollback()
        raise Conflict(
            f"This match is {exc.status}; only an active match can be ended.",
            current_status=exc.status,
        ) from exc
    session.commit()
    return MatchView(match, side)


def check_in(session: Session, account: Account, match_id: int, data: dict[str, Any]) -> CheckIn:
    match, side = access.match_side(session, account, match_id)
    if match.status != MatchStatus.ACTIVE:
        raise Conflict(
            f"This match is {match.status}; check-ins are for active matches.",
            current_status=match.status,
        )
    author = match.mentee_id if side == Side.MENTEE else match.mentor_id
    row = CheckIn(
        match_id=match.id,
        author_id=author,
        author_side=side,
        rating=data["rating"],
        signal=data.get("signal"),
        note=data.get("note") or "",
    )
    session.add(row)
    session.flush()
    # Load and burnout: a capacity question, coordinators told of a drained partner.
    load.after_check_in(session, match, row)
    session.commit()
    # The author sees what they sent, including their own note.
    return row


# --- answering from the link of a message ---------------------------------------------

ACCEPT, DECLINE = "accept", "decline"


def by_link(session: Session, token: str) -> MatchView:
    """The match an answer link is for, as its recipient sees it (changes nothing)."""
    link = links.peek(session, token, LinkPurpose.MATCH_ANSWER)
    account = session.get(Account, link.account_id)
    if account is None or link.match_id is None:
        raise links.LinkInvalid()
    match, side = access.match_side(session, account, link.match_id)
    return MatchView(match, side)


def answer_by_link(session: Session, token: str, choice: str) -> MatchView:
    """Accept or decline with the single-use token of a message's link."""
    link = links.take(session, token, LinkPurpose.MATCH_ANSWER)
    account = session.get(Account, link.account_id)
    if account is None or link.match_id is None:
        session.rollback()
        raise links.LinkInvalid()
    # The token's use and the answer commit together (or, refused, neither).
    if choice == ACCEPT:
        return accept(session, account, link.match_id)
    return decline(session, account, link.match_id, None)
