"""A live relationship's health, from plain facts: the rule in one place.

The services gather the facts of a match (`Facts`) and ask `health_of`; coordinators'
answers, exports, the attention list's order and the funnel's counts all use it.

    at_risk        an open concern, a partner whose latest signal is drained, or a
                   not_a_fit answer to the fit check
    never_started  not_met_yet twice, or the fit check was asked and nobody answered
                   within another fit_check_days
    quiet          no check-in from either side for quiet_after_weeks
    needs_check_in no check-in for a check-in period (checkin_every_weeks)
    on_track       none of these
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from api.domain.settings import ProgramSettings
from api.domain.vocabulary import FitAnswer, Health, MatchStatus, Signal

#: Worst first: the attention list sorts by this.
SEVERITY: dict[Health, int] = {h: i for i, h in enumerate(Health)}


@dataclass(frozen=True)
class Facts:
    status: str
    activated_at: datetime | None
    proposed_at: datetime
    fit_check_asked_at: datetime | None
    #: Every fit answer given on the match (a partner may answer again), oldest first.
    fit_answers: Sequence[str]
    #: The latest signal of each side (None: no signal, or no check-in).
    latest_signals: Sequence[str | None]
    last_check_in_at: datetime | None
    open_concerns: int


def last_contact(facts: Facts) -> datetime:
    return facts.last_check_in_at or facts.activated_at or facts.proposed_at


def is_quiet(facts: Facts, now: datetime, settings: ProgramSettings) -> bool:
    return facts.status == MatchStatus.ACTIVE and now - last_contact(facts) >= timedelta(
        weeks=settings.quiet_after_weeks
    )


def never_started(facts: Facts, now: datetime, settings: ProgramSettings) -> bool:
    if list(facts.fit_answers).count(FitAnswer.NOT_MET_YET) >= 2:
        return True
    asked = facts.fit_check_asked_at
    return (
        asked is not None
        and not facts.fit_answers
        and now - asked >= timedelta(days=settings.fit_check_days)
    )


def health_of(facts: Facts, now: datetime, settings: ProgramSettings) -> Health:
    """The health of a live match (proposed and accepted ones are on track unless a
    concern is open)."""
    if (
        facts.open_concerns
        or Signal.DRAINED in facts.latest_signals
        or FitAnswer.NOT_A_FIT in facts.fit_answers
    ):
        return Health.AT_RISK
    if facts.status != MatchStatus.ACTIVE:
        return Health.ON_TRACK
    if never_started(facts, now, settings):
        return Health.NEVER_STARTED
    if is_quiet(facts, now, settings):
        return Health.QUIET
    every = settings.checkin_every_weeks
    if every > 0 and now - last_contact(facts) >= timedelta(weeks=every):
        return Health.NEEDS_CHECK_IN
    return Health.ON_TRACK
