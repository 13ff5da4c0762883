"""What coordinators review of a round: the round, its pairs, the unmatched, the report."""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session, aliased, selectinload

from api.adapters.models import Account, Participant, Round, RoundPair
from api.domain.vocabulary import BUSY_ROUND_STATUSES, RoundStatus, TagKind
from api.errors import Conflict
from api.services import access, round_leases


def get(
    session: Session,
    account: Account,
    program_id: int,
    round_id: int,
    runners: round_leases.Runners | None = None,
) -> Round:
    """A round as it is now: a lost one is handed on (re-queued or failed) first."""
    round_ = access.round_of_program(session, account, program_id, round_id)
    round_leases.recover_loaded(session, runners or round_leases.INLINE, [round_])
    return round_


def list_rounds(
    session: Session,
    account: Account,
    program_id: int,
    runners: round_leases.Runners | None = None,
) -> Sequence[Round]:
    program = access.program_for_coordinator(session, account, program_id)
    rounds = session.scalars(
        select(Round).where(Round.program_id == program.id).order_by(Round.id.desc())
    ).all()
    round_leases.recover_loaded(session, runners or round_leases.INLINE, rounds)
    return rounds


def require_results(round_: Round) -> None:
    if round_.status in BUSY_ROUND_STATUSES:
        raise Conflict(f"Round {round_.id} is {round_.status}; its results are not ready.")
    if round_.status == RoundStatus.FAILED:
        raise Conflict(f"Round {round_.id} failed and has no results.")


@dataclass(frozen=True)
class PairView:
    """A proposed pair with what explains it: the needs covered, the shared languages."""

    pair: RoundPair
    mentee: Participant
    mentor: Participant

    @property
    def id(self) -> int:
        return self.pair.id

    @property
    def score(self) -> float:
        return self.pair.score

    @property
    def breakdown(self) -> dict[str, Any]:
        return self.pair.breakdown

    @property
    def pinned(self) -> bool:
        return self.pair.pinned

    @property
    def covered_needs(self) -> list[dict[str, Any]]:
        needs = {t.tag: t.weight for t in self.mentee.tag_list(TagKind.NEED)}
        strengths = {t.tag: t.weight for t in self.mentor.tag_list(TagKind.STRENGTH)}
        return [
            {"tag": tag, "priority": needs[tag], "level": strengths[tag]}
            for tag in sorted(needs, key=lambda t: (-needs[t], t))
            if tag in strengths
        ]

    @property
    def shared_languages(self) -> list[str]:
        return sorted(set(self.mentee.languages) & set(self.mentor.languages))


@dataclass(frozen=True)
class PairPage:
    items: list[PairView]
    total: int
    next_offset: int | None


def _by_name(side: Any) -> Any:
    """The pairs' order by the display name of one side (mentee or mentor)."""
    person, who = aliased(Participant), aliased(Account)
    return (
        select(RoundPair)
        .join(person, person.id == side)
        .join(who, who.id == person.account_id)
        .order_by(func.lower(who.display_name), RoundPair.id)
    )


#: The orders a page of pairs can come in: the API's (by score), and the console's
#: (by either person's name) too.
PAIR_ORDERS: dict[str, Any] = {
    "-score": lambda: select(RoundPair).order_by(RoundPair.score.desc(), RoundPair.id),
    "score": lambda: select(RoundPair).order_by(RoundPair.score.asc(), RoundPair.id),
    "mentee": lambda: _by_name(RoundPair.mentee_id),
    "mentor": lambda: _by_name(RoundPair.mentor_id),
}


def list_pairs(
    session: Session, account: Account, program_id: int, round_id: int, query: dict[str, Any]
) -> PairPage:
    round_ = access.round_of_program(session, account, program_id, round_id)
    require_results(round_)
    offset = query.get("offset", 0)
    limit = query["limit"]
    total = (
        session.scalar(
            select(func.count()).select_from(RoundPair).where(RoundPair.round_id == round_.id)
        )
        or 0
    )
    pairs = session.scalars(
        PAIR_ORDERS[query["sort"]]()
        .where(RoundPair.round_id == round_.id)
        .offset(offset)
        .limit(limit)
    ).all()
    ids = {p.mentee_id for p in pairs} | {p.mentor_id for p in pairs}
    people = {
        p.id: p
        for p in session.scalars(
            select(Participant)
            .where(Participant.id.in_(ids))
            .options(selectinload(Participant.account), selectinload(Participant.tags))
        )
    }
    items = [PairView(p, people[p.mentee_id], people[p.mentor_id]) for p in pairs]
    next_offset = offset + limit if offset + limit < total else None
    return PairPage(items, total, next_offset)


def scores(session: Session, account: Account, program_id: int, round_id: int) -> list[float]:
    """Every pair's score (for a distribution), without loading the pairs."""
    round_ = access.round_of_program(session, account, program_id, round_id)
    require_results(round_)
    return list(session.scalars(select(RoundPair.score).where(RoundPair.round_id == round_.id)))


def list_unmatched(
    session: Session, account: Account, program_id: int, round_id: int
) -> list[dict[str, Any]]:
    round_ = access.round_of_program(session, account, program_id, round_id)
    require_results(round_)
    return list(round_.unmatched or [])


@dataclass(frozen=True)
class Report:
    round: Round

    @property
    def id(self) -> int:
        return self.round.id

    @property
    def status(self) -> str:
        return self.round.status

    @property
    def stats(self) -> dict[str, Any] | None:
        return self.round.stats

    @property
    def unmatched_by_reason(self) -> dict[str, int]:
        return dict(Counter(u["reason"] for u in self.round.unmatched or []))

    @property
    def infeasible_pins(self) -> list[Any]:
        return list(self.round.infeasible_pins or [])


def report(session: Session, account: Account, program_id: int, round_id: int) -> Report:
    round_ = access.round_of_program(session, account, program_id, round_id)
    require_results(round_)
    return Report(round_)
