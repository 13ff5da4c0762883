"""Messages that are due by the calendar: reminders, check-in prompts, weekly digests,
and the relationship-health steps (`relationship_health.due`: fit checks, quiet nudges,
concern retention).

`due` finds them and writes them to the outbox. Each carries the person and the period
in its dedupe key (`reminder:<match>:<account>`, `check_in_due:<match>:<account>:<n>`,
`digest:<program>:<account>:<ISO week>`), so the task may run as often as it likes:
a second run in the same period writes nothing. `peermatch scheduler` runs it every
NOTIFY_CRON; `peermatch notify --due` runs it by hand or from cron.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session, aliased

from api.adapters.db import utcnow
from api.adapters.models import (
    CheckIn,
    Match,
    NotificationSettings,
    Participant,
    Program,
    ProgramCoordinator,
)
from api.domain.settings import ProgramSettings
from api.domain.vocabulary import OPEN_MATCH_STATUSES, MatchStatus, MessageKind, Side
from api.services import outbox, relationship_health


@dataclass
class Due:
    reminders: int = 0
    check_in_prompts: int = 0
    digests: int = 0
    health: relationship_health.HealthDue | None = None

    def describe(self) -> str:
        out = (
            f"due: {self.reminders} reminders, {self.check_in_prompts} check-in prompts, "
            f"{self.digests} digests (before removing those already sent this period)"
        )
        return out + (f"\n{self.health.describe()}" if self.health else "")


def _turned_off(session: Session, setting: str) -> set[int]:
    column = getattr(NotificationSettings, setting)
    return set(session.scalars(select(NotificationSettings.account_id).where(column.is_(False))))


_MENTEE, _MENTOR = aliased(Participant), aliased(Participant)


def _matches(session: Session, program_id: int, statuses: frozenset[str]):  # type: ignore[no-untyped-def]
    return session.execute(
        select(Match, _MENTEE.account_id, _MENTOR.account_id)
        .join(_MENTEE, _MENTEE.id == Match.mentee_id)
        .join(_MENTOR, _MENTOR.id == Match.mentor_id)
        .where(Match.program_id == program_id, Match.status.in_(statuses))
        .order_by(Match.id)
    ).all()


def _reminders(
    session: Session, program: Program, settings: ProgramSettings, now: datetime, off: set[int]
) -> list[outbox.Message]:
    if settings.reminder_days <= 0:
        return []
    after = timedelta(days=settings.reminder_days)
    out = []
    for match, mentee, mentor in _matches(session, program.id, OPEN_MATCH_STATUSES):
        if not (match.proposed_at + after <= now < match.expires_at):
            continue
        for side, account_id, accepted in (
            (Side.MENTEE, mentee, match.mentee_accepted_at),
            (Side.MENTOR, mentor, match.mentor_accepted_at),
        ):
            if accepted is None and account_id not in off:
                out.append(
                    outbox.Message(
                        dedupe_key=f"reminder:{match.id}:{account_id}",
                        kind=MessageKind.REMINDER,
                        account_id=account_id,
                        program_id=program.id,
                        match_id=match.id,
                        payload={"side": side.value},
                    )
                )
    return out


def _check_ins(
    session: Session, program: Program, settings: ProgramSettings, now: datetime, off: set[int]
) -> list[outbox.Message]:
    if settings.checkin_every_weeks <= 0:
        return []
    period = timedelta(weeks=settings.checkin_every_weeks)
    rows = _matches(session, program.id, frozenset({MatchStatus.ACTIVE}))
    last: dict[tuple[int, str], datetime] = {}
    ids = [m.id for m, _, _ in rows]
    for chunk in range(0, len(ids), 1000):
        for match_id, side, at in session.execute(
            select(CheckIn.match_id, CheckIn.author_side, CheckIn.created_at).where(
                CheckIn.match_id.in_(ids[chunk : chunk + 1000])
            )
        ):
            key = (match_id, side)
            last[key] = max(last.get(key, at), at)
    out = []
    for match, mentee, mentor in rows:
        started = match.activated_at or match.proposed_at
        n = int((now - started) / period)
        if n < 1:
            continue
        period_start = started + n * period
        for side, account_id in ((Side.MENTEE, mentee), (Side.MENTOR, mentor)):
            checked = last.get((match.id, side.value))
            # Checked in within the last period: nothing to prompt for.
            if account_id in off or (checked is not None and checked >= period_start - period):
                continue
            out.append(
                outbox.Message(
                    dedupe_key=f"check_in_due:{match.id}:{account_id}:{n}",
                    kind=MessageKind.CHECK_IN_DUE,
                    account_id=account_id,
                    program_id=program.id,
                    match_id=match.id,
                    payload={
                        "side": side.value,
                        "period": n,
                        "weeks": settings.checkin_every_weeks,
                    },
                )
            )
    return out


def _digests(
    session: Session, programs: list[Program], now: datetime, off: set[int]
) -> list[outbox.Message]:
    year, week, _ = now.isocalendar()
    label = f"{year}-W{week:02d}"
    coordinators: dict[int, list[int]] = defaultdict(list)
    for program_id, account_id in session.execute(
        select(ProgramCoordinator.program_id, ProgramCoordinator.account_id)
    ):
        coordinators[program_id].append(account_id)
    out = []
    for program in programs:
        for account_id in sorted(coordinators[program.id]):
            if account_id in off:
                continue
            out.append(
                outbox.Message(
                    dedupe_key=f"digest:{program.id}:{account_id}:{label}",
                    kind=MessageKind.DIGEST,
                    account_id=account_id,
                    program_id=program.id,
                    payload={"week": label},
                )
            )
    return out


def due(session: Session, now: datetime | None = None) -> Due:
    """Write every message due now to the outbox (what was sent this period: skipped)."""
    now = now or utcnow()
    programs = list(session.scalars(select(Program).order_by(Program.id)))
    found = Due()
    messages: list[outbox.Message] = []
    off_reminders = _turned_off(session, "reminders")
    off_check_ins = _turned_off(session, "check_in_prompts")
    for program in programs:
        settings = ProgramSettings.from_stored(program.settings)
        reminders = _reminders(session, program, settings, now, off_reminders)
        check_ins = _check_ins(session, program, settings, now, off_check_ins)
        found.reminders += len(reminders)
        found.check_in_prompts += len(check_ins)
        messages += reminders + check_ins
    digests = _digests(session, programs, now, _turned_off(session, "digests"))
    found.digests = len(digests)
    # Due from the moment they are found (`now` may be a given moment: --as-of).
    outbox.write(session, messages + digests)
    # The health loop's time-based steps: fit checks, quiet nudges, concern retention.
    found.health = relationship_health.due(session, now)
    session.commit()
    return found
