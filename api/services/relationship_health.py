"""Relationship health: the facts of many matches at once, their health, and the
time-based steps of the health loop (fit checks, quiet nudges, concern retention).

`due(session, now)` runs from `notify.due`: the scheduler's NOTIFY_CRON job and
`peermatch notify --due [--as-of]` (not from the rematch, which must exit cleanly when
another writer holds the database). Each message it writes names its cause
in its dedupe key, so running it again in the same period writes nothing:

    fit_check:<match>:<account>                 once per match (fit_check_asked_at too)
    quiet_nudge:<match>:<account>:<last contact> once per quiet spell
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import delete, func, select, update
from sqlalchemy.orm import Session, aliased

from api.adapters.models import (
    CheckIn,
    Concern,
    FitAnswerRecord,
    Match,
    OutboxMessage,
    Participant,
    Program,
    ProgramCoordinator,
)
from api.domain import health as rules
from api.domain.settings import ProgramSettings
from api.domain.vocabulary import (
    LIVE_MATCH_STATUSES,
    ConcernStatus,
    Health,
    MatchStatus,
    MessageKind,
    Side,
)
from api.services import outbox


def _chunks(ids: Sequence[int], size: int = 900) -> Iterable[list[int]]:
    for start in range(0, len(ids), size):
        yield list(ids[start : start + size])


def facts_of(session: Session, matches: Sequence[Match]) -> dict[int, rules.Facts]:
    """The health facts of many matches: three queries, however many matches."""
    ids = sorted({m.id for m in matches})
    answers: dict[int, list[str]] = defaultdict(list)
    signals: dict[int, dict[str, str | None]] = defaultdict(dict)
    last: dict[int, datetime] = {}
    concerns: dict[int, int] = defaultdict(int)
    for part in _chunks(ids):
        for match_id, answer in session.execute(
            select(FitAnswerRecord.match_id, FitAnswerRecord.answer)
            .where(FitAnswerRecord.match_id.in_(part))
            .order_by(FitAnswerRecord.id)
        ):
            answers[match_id].append(answer)
        for match_id, side, signal, at in session.execute(
            select(CheckIn.match_id, CheckIn.author_side, CheckIn.signal, CheckIn.created_at)
            .where(CheckIn.match_id.in_(part))
            .order_by(CheckIn.id)
        ):
            signals[match_id][side] = signal
            last[match_id] = max(last.get(match_id, at), at)
        for match_id, n in session.execute(
            select(Concern.match_id, func.count())
            .where(Concern.match_id.in_(part), Concern.status == ConcernStatus.OPEN)
            .group_by(Concern.match_id)
        ):
            concerns[match_id] = n
    return {
        m.id: rules.Facts(
            status=m.status,
            activated_at=m.activated_at,
            proposed_at=m.proposed_at,
            fit_check_asked_at=m.fit_check_asked_at,
            fit_answers=tuple(answers[m.id]),
            latest_signals=tuple(signals[m.id].values()),
            last_check_in_at=last.get(m.id),
            open_concerns=concerns[m.id],
        )
        for m in matches
    }


def health_of(
    session: Session, matches: Sequence[Match], now: datetime
) -> dict[int, Health | None]:
    """Match id -> its health (None for a match that is no longer live)."""
    facts = facts_of(session, matches)
    settings: dict[int, ProgramSettings] = {}
    out: dict[int, Health | None] = {}
    for m in matches:
        if m.status not in LIVE_MATCH_STATUSES:
            out[m.id] = None
            continue
        if m.program_id not in settings:
            program = session.get(Program, m.program_id)
            settings[m.program_id] = ProgramSettings.from_stored(
                program.settings if program else {}
            )
        out[m.id] = rules.health_of(facts[m.id], now, settings[m.program_id])
    return out


def coordinator_accounts(session: Session, program_id: int) -> list[int]:
    return sorted(
        session.scalars(
            select(ProgramCoordinator.account_id).where(ProgramCoordinator.program_id == program_id)
        )
    )


# --- the time-based steps ---------------------------------------------------------------


@dataclass
class HealthDue:
    fit_checks: int = 0
    quiet_nudges: int = 0
    concerns_purged: int = 0

    def describe(self) -> str:
        return (
            f"health: {self.fit_checks} fit checks asked, {self.quiet_nudges} quiet nudges, "
            f"{self.concerns_purged} resolved concerns past their retention deleted"
        )


_MENTEE, _MENTOR = aliased(Participant), aliased(Participant)


def _active(session: Session, program_id: int) -> list[tuple[Match, int, int]]:
    rows = session.execute(
        select(Match, _MENTEE.account_id, _MENTOR.account_id)
        .join(_MENTEE, _MENTEE.id == Match.mentee_id)
        .join(_MENTOR, _MENTOR.id == Match.mentor_id)
        .where(Match.program_id == program_id, Match.status == MatchStatus.ACTIVE)
        .order_by(Match.id)
    ).all()
    return [(m, a, b) for m, a, b in rows]


def _to_both(
    kind: MessageKind, key: str, match: Match, mentee: int, mentor: int, **payload: object
) -> list[outbox.Message]:
    return [
        outbox.Message(
            dedupe_key=f"{kind.value}:{match.id}:{account_id}{key}",
            kind=kind,
            account_id=account_id,
            program_id=match.program_id,
            match_id=match.id,
            payload={"side": side.value, **payload},
        )
        for side, account_id in ((Side.MENTEE, mentee), (Side.MENTOR, mentor))
    ]


def _program_due(
    session: Session, program: Program, now: datetime, found: HealthDue
) -> list[outbox.Message]:
    settings = ProgramSettings.from_stored(program.settings)
    rows = _active(session, program.id)
    facts = facts_of(session, [m for m, _, _ in rows])
    messages: list[outbox.Message] = []
    fit_after = timedelta(days=settings.fit_check_days)
    for match, mentee, mentor in rows:
        if match.paused_at is not None:
            continue
        started = match.activated_at or match.proposed_at
        if match.fit_check_asked_at is None and now - started >= fit_after:
            # Asked once: the conditional update makes a concurrent run a no-op.
            asked = session.execute(
                update(Match)
                .where(Match.id == match.id, Match.fit_check_asked_at.is_(None))
                .values(fit_check_asked_at=now)
                .execution_options(synchronize_session=False)
            )
            if asked.rowcount:  # type: ignore[attr-defined]
                messages += _to_both(MessageKind.FIT_CHECK, "", match, mentee, mentor)
                found.fit_checks += 1
            continue
        f = facts[match.id]
        if rules.is_quiet(f, now, settings):
            spell = f":{rules.last_contact(f).isoformat(timespec='seconds')}"
            messages += _to_both(
                MessageKind.QUIET_NUDGE,
                spell,
                match,
                mentee,
                mentor,
                weeks=settings.quiet_after_weeks,
            )
    # Resolved concerns past the program's retention go (open ones stay until resolved).
    purged = session.execute(
        delete(Concern)
        .where(
            Concern.program_id == program.id,
            Concern.status == ConcernStatus.RESOLVED,
            Concern.resolved_at <= now - timedelta(days=settings.concern_retention_days),
        )
        .execution_options(synchronize_session=False)
    )
    found.concerns_purged += purged.rowcount  # type: ignore[attr-defined]
    return messages


def due(session: Session, now: datetime) -> HealthDue:
    """Ask due fit checks, nudge quiet matches, delete concerns past retention (in the
    caller's transaction; the caller commits)."""
    found = HealthDue()
    messages: list[outbox.Message] = []
    for program in session.scalars(select(Program).order_by(Program.id)):
        messages += _program_due(session, program, now, found)
    if messages:
        keys = [m.dedupe_key for m in messages if m.kind == MessageKind.QUIET_NUDGE]
        known = _known_keys(session, keys)
        # Matches nudged now (two partners each), not counting nudges of earlier runs.
        found.quiet_nudges += sum(1 for k in keys if k not in known) // 2
        # Due from the moment they are found (`now` may be a simulated moment: --as-of).
        outbox.write(session, messages)
    return found


def _known_keys(session: Session, keys: list[str]) -> set[str]:
    out: set[str] = set()
    for start in range(0, len(keys), 900):
        out |= set(
            session.scalars(
                select(OutboxMessage.dedupe_key).where(
                    OutboxMessage.dedupe_key.in_(keys[start : start + 900])
                )
            )
        )
    return out
