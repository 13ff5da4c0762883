"""Every closed vocabulary of the service, in one place.

The database check constraints (`api.adapters.models`), the API's enums (`api.http`)
and the services all use these; none of them spells the words out again.
"""

from __future__ import annotations

from enum import StrEnum

import matcher


class Role(StrEnum):
    MENTOR = "mentor"
    MENTEE = "mentee"
    BOTH = "both"


MENTOR_ROLES = frozenset({Role.MENTOR, Role.BOTH})
MENTEE_ROLES = frozenset({Role.MENTEE, Role.BOTH})


class ParticipantStatus(StrEnum):
    ACTIVE = "active"
    PAUSED = "paused"
    WITHDRAWN = "withdrawn"


class CulturalPreference(StrEnum):
    SHARED = "shared"
    OPEN = "open"
    DIFFERENT = "different"


class TagKind(StrEnum):
    NEED = "need"
    STRENGTH = "strength"


class ConsentPurpose(StrEnum):
    SPECIAL_CATEGORY = "special_category"


class RoundStatus(StrEnum):
    QUEUED = "queued"
    RUNNING = "running"
    PROPOSED = "proposed"
    PUBLISHED = "published"
    FAILED = "failed"
    DISCARDED = "discarded"


#: A round in one of these holds its program: at most one per program at a time.
BUSY_ROUND_STATUSES = frozenset({RoundStatus.QUEUED, RoundStatus.RUNNING})
#: A round in one of these has results to review.
ROUND_RESULT_STATUSES = frozenset({RoundStatus.PROPOSED, RoundStatus.PUBLISHED})


class RoundKind(StrEnum):
    MANUAL = "manual"
    REMATCH = "rematch"


class MatchStatus(StrEnum):
    PROPOSED = "proposed"
    ACCEPTED = "accepted"
    ACTIVE = "active"
    ENDED = "ended"
    DECLINED = "declined"
    EXPIRED = "expired"
    CANCELLED = "cancelled"


#: A live match holds a mentor slot and the mentee (one live match per mentee).
LIVE_MATCH_STATUSES = frozenset({MatchStatus.PROPOSED, MatchStatus.ACCEPTED, MatchStatus.ACTIVE})
#: A match waiting for answers: it can be accepted, declined, cancelled or expire.
OPEN_MATCH_STATUSES = frozenset({MatchStatus.PROPOSED, MatchStatus.ACCEPTED})


class Side(StrEnum):
    """Which partner of a match a person is."""

    MENTEE = "mentee"
    MENTOR = "mentor"


class Closer(StrEnum):
    """Who closed a match (declined, ended, cancelled it, or let it expire)."""

    MENTEE = "mentee"
    MENTOR = "mentor"
    COORDINATOR = "coordinator"
    SYSTEM = "system"


class ConstraintKind(StrEnum):
    PIN = "pin"
    FORBID = "forbid"


class Signal(StrEnum):
    """How a partner feels the relationship weighs on them, given with a check-in."""

    OK = "ok"
    STRETCHED = "stretched"
    DRAINED = "drained"


class FitAnswer(StrEnum):
    """How the first meeting went, asked `fit_check_days` after a match became active."""

    GOOD_FIT = "good_fit"
    NOT_SURE = "not_sure"
    NOT_A_FIT = "not_a_fit"
    NOT_MET_YET = "not_met_yet"


class CloseReason(StrEnum):
    """Close reasons the service itself writes (partners' own reasons are free text)."""

    #: Either partner found it was not a fit: nobody's fault, both go back to the pool.
    NO_FAULT = "no_fault"


class Health(StrEnum):
    """How a live relationship is doing, for coordinators; worst first."""

    AT_RISK = "at_risk"  # an open concern, a drained partner, or a not_a_fit answer
    NEVER_STARTED = "never_started"  # not_met_yet twice, or nobody answered the fit check
    QUIET = "quiet"  # no check-in from either side for quiet_after_weeks
    NEEDS_CHECK_IN = "needs_check_in"  # no check-in for a check-in period
    ON_TRACK = "on_track"


class ConcernCategory(StrEnum):
    BOUNDARIES = "boundaries"
    POWER_IMBALANCE = "power_imbalance"
    CONDUCT = "conduct"
    WORKLOAD = "workload"
    SAFETY = "safety"
    OTHER = "other"


class ConcernStatus(StrEnum):
    OPEN = "open"
    RESOLVED = "resolved"


class ConcernOutcome(StrEnum):
    """What a coordinator recorded when resolving a concern."""

    RESOLVED_WITH_PAIR = "resolved_with_pair"
    RELATIONSHIP_RESUMED = "relationship_resumed"
    RELATIONSHIP_ENDED = "relationship_ended"
    REFERRED = "referred"
    NO_ACTION_NEEDED = "no_action_needed"


class Objective(StrEnum):
    MAX_PARTICIPATION = "max_participation"
    MAX_SCORE = "max_score"
    FAIR = "fair"
    STABLE = "stable"


class WaitingPriority(StrEnum):
    STRONG = "strong"
    TIE_BREAK = "tie_break"
    NONE = "none"


class RematchPolicy(StrEnum):
    OFF = "off"
    PROPOSE = "propose"
    PUBLISH = "publish"


class OutboxStatus(StrEnum):
    """Where a notification is on its way out (`api.domain.lifecycle.OUTBOX`)."""

    PENDING = "pending"
    SENDING = "sending"
    SENT = "sent"
    FAILED = "failed"
    #: Nothing to send any more (the match moved on, the person erased their account).
    SKIPPED = "skipped"


class MessageKind(StrEnum):
    """What a notification says; each has its templates in `api/templates/messages/`."""

    PROPOSAL = "proposal"
    PARTNER_ANSWERED = "partner_answered"
    ACTIVE = "active"
    REMINDER = "reminder"
    EXPIRED = "expired"
    CANCELLED = "cancelled"
    ENDED = "ended"
    CHECK_IN_DUE = "check_in_due"
    DIGEST = "digest"
    INVITATION = "invitation"
    PASSWORD_RESET = "password_reset"
    #: Relationship health (issue 22).
    FIT_CHECK = "fit_check"
    QUIET_NUDGE = "quiet_nudge"
    CONCERN_RAISED = "concern_raised"
    CAPACITY_QUESTION = "capacity_question"
    MENTOR_DRAINED = "mentor_drained"
    CLOSING_SURVEY = "closing_survey"


#: Messages a person may turn off (they carry List-Unsubscribe); the others always go.
OPTIONAL_MESSAGES = {
    MessageKind.REMINDER: "reminders",
    MessageKind.CHECK_IN_DUE: "check_in_prompts",
    MessageKind.DIGEST: "digests",
    MessageKind.QUIET_NUDGE: "check_in_prompts",
}


class LinkPurpose(StrEnum):
    """What a link token in a message lets its holder do (once)."""

    INVITATION = "invitation"
    PASSWORD_RESET = "password_reset"
    MATCH_ANSWER = "match_answer"
    UNSUBSCRIBE = "unsubscribe"
    LOWER_CAPACITY = "lower_capacity"


class ProgramRole(StrEnum):
    """The caller's part in a program, as the program view says it."""

    ADMIN = "admin"
    COORDINATOR = "coordinator"
    MENTOR = "mentor"
    MENTEE = "mentee"
    BOTH = "both"
    NONE = "none"


#: Score criteria, in the matcher's order (breakdowns, weights, exports).
CRITERIA: tuple[str, ...] = tuple(matcher.CRITERIA)

# The matcher has its own copy of these words; they must agree.
assert {o.value for o in Objective} <= set(matcher.OBJECTIVES)
assert {c.value for c in CulturalPreference} == set(matcher.CULTURAL_PREFERENCES)


def values(enum: type[StrEnum]) -> tuple[str, ...]:
    """The words of a vocabulary, in declaration order."""
    return tuple(member.value for member in enum)


def sql_in(column: str, enum: type[StrEnum], only: frozenset[StrEnum] | None = None) -> str:
    """`column IN ('a', 'b')`: a check constraint's (or partial index's) SQL, from a
    vocabulary or the part `only` of it, in declaration order."""
    words = [w for w in values(enum) if only is None or w in only]
    return f"{column} IN ({', '.join(repr(w) for w in words)})"
