"""SQLAlchemy 2 models. Schema changes go through Alembic revisions (migrations/)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import (
    Boolean,
    CheckConstraint,
    Float,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    UniqueConstraint,
    text,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from api.adapters.db import Base, UTCDateTime, utcnow
from api.domain.settings import ProgramSettings
from api.domain.vocabulary import (
    BUSY_ROUND_STATUSES,
    LIVE_MATCH_STATUSES,
    MENTEE_ROLES,
    MENTOR_ROLES,
    ConcernCategory,
    ConcernOutcome,
    ConcernStatus,
    ConsentPurpose,
    ConstraintKind,
    CulturalPreference,
    FitAnswer,
    LinkPurpose,
    MatchStatus,
    MessageKind,
    OutboxStatus,
    ParticipantStatus,
    Role,
    RoundKind,
    RoundStatus,
    Signal,
    TagKind,
    sql_in,
)


class Account(Base):
    __tablename__ = "accounts"

    id: Mapped[int] = mapped_column(primary_key=True)
    email: Mapped[str] = mapped_column(String(254), unique=True)
    display_name: Mapped[str] = mapped_column(String(120))
    password_hash: Mapped[str] = mapped_column(String(255))
    is_admin: Mapped[bool] = mapped_column(Boolean, default=False)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)

    tokens: Mapped[list[Token]] = relationship(
        back_populates="account", cascade="all, delete-orphan", passive_deletes=True
    )


class Token(Base):
    """A bearer token; only the SHA-256 of the secret value is stored."""

    __tablename__ = "tokens"

    id: Mapped[int] = mapped_column(primary_key=True)
    account_id: Mapped[int] = mapped_column(
        ForeignKey("accounts.id", ondelete="CASCADE"), index=True
    )
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime())
    revoked_at: Mapped[datetime | None] = mapped_column(UTCDateTime())

    account: Mapped[Account] = relationship(back_populates="tokens")


class Program(Base):
    __tablename__ = "programs"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(200))
    slug: Mapped[str] = mapped_column(String(80), unique=True)
    description: Mapped[str] = mapped_column(Text, default="")
    join_code: Mapped[str] = mapped_column(String(40), unique=True)
    # The allowed needs/strengths tags, kept sorted.
    taxonomy: Mapped[list[Any]] = mapped_column(default=list)
    # Matching settings validated by api.schemas.ProgramSettingsSchema.
    settings: Mapped[dict[str, Any]] = mapped_column(default=dict)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow, onupdate=utcnow)

    coordinators: Mapped[list[ProgramCoordinator]] = relationship(
        back_populates="program", cascade="all, delete-orphan", passive_deletes=True
    )


class ProgramCoordinator(Base):
    __tablename__ = "program_coordinators"

    program_id: Mapped[int] = mapped_column(
        ForeignKey("programs.id", ondelete="CASCADE"), primary_key=True
    )
    account_id: Mapped[int] = mapped_column(
        ForeignKey("accounts.id", ondelete="CASCADE"), primary_key=True, index=True
    )
    appointed_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)

    program: Mapped[Program] = relationship(back_populates="coordinators")
    account: Mapped[Account] = relationship()


class Participant(Base):
    """An account enrolled in a program, with its profile for that program."""

    __tablename__ = "participants"
    __table_args__ = (
        UniqueConstraint("program_id", "account_id"),
        CheckConstraint(sql_in("role", Role), name="role"),
        CheckConstraint(sql_in("status", ParticipantStatus), name="status"),
        CheckConstraint(
            sql_in("cultural_preference", CulturalPreference), name="cultural_preference"
        ),
        CheckConstraint("capacity IS NULL OR capacity >= 0", name="capacity_non_negative"),
        Index("ix_participants_program_id_role_status", "program_id", "role", "status"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    program_id: Mapped[int] = mapped_column(ForeignKey("programs.id", ondelete="CASCADE"))
    account_id: Mapped[int] = mapped_column(
        ForeignKey("accounts.id", ondelete="CASCADE"), index=True
    )
    role: Mapped[str] = mapped_column(String(10))
    status: Mapped[str] = mapped_column(String(10), default=ParticipantStatus.ACTIVE.value)
    joined_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow, onupdate=utcnow)
    # Set when the participant first submits a complete profile; matching uses only these.
    profile_completed_at: Mapped[datetime | None] = mapped_column(UTCDateTime())

    bio: Mapped[str] = mapped_column(Text, default="")
    languages: Mapped[list[Any]] = mapped_column(default=list)
    timezone: Mapped[str | None] = mapped_column(String(64))
    # [{"day": "mon", "start": "HH:MM", "end": "HH:MM"}] in the participant's local time.
    availability: Mapped[list[Any]] = mapped_column(default=list)
    capacity: Mapped[int | None] = mapped_column(Integer)
    experience_level: Mapped[int | None] = mapped_column(Integer)
    org_unit: Mapped[str | None] = mapped_column(String(120))
    manager_email: Mapped[str | None] = mapped_column(String(254))
    preferred_partners: Mapped[list[Any]] = mapped_column(default=list)
    cultural_preference: Mapped[str] = mapped_column(
        String(10), default=CulturalPreference.OPEN.value
    )
    # Special category data: only with a live consent record, shown only to the owner and
    # the program's coordinators, never logged.
    cultural_background: Mapped[list[Any] | None] = mapped_column()
    wellbeing_needs: Mapped[list[Any] | None] = mapped_column()
    # A mentor who said they were drained is left out of new proposals until they
    # resume (a check-in after this moment decides again).
    resumed_at: Mapped[datetime | None] = mapped_column(UTCDateTime())

    account: Mapped[Account] = relationship()
    program: Mapped[Program] = relationship()
    tags: Mapped[list[ParticipantTag]] = relationship(
        back_populates="participant",
        cascade="all, delete-orphan",
        passive_deletes=True,
        order_by="(ParticipantTag.kind, ParticipantTag.tag)",
    )
    consents: Mapped[list[ConsentRecord]] = relationship(
        back_populates="participant",
        cascade="all, delete-orphan",
        passive_deletes=True,
        order_by="ConsentRecord.id",
    )

    @property
    def is_mentor(self) -> bool:
        return self.role in MENTOR_ROLES

    @property
    def is_mentee(self) -> bool:
        return self.role in MENTEE_ROLES

    def tag_list(self, kind: str) -> list[ParticipantTag]:
        return [t for t in self.tags if t.kind == kind]

    @property
    def needs(self) -> list[dict[str, Any]]:
        """`[{"tag", "priority"}]`, as profiles show them."""
        return [{"tag": t.tag, "priority": t.weight} for t in self.tag_list(TagKind.NEED)]

    @property
    def strengths(self) -> list[dict[str, Any]]:
        """`[{"tag", "level"}]`, as profiles show them."""
        return [{"tag": t.tag, "level": t.weight} for t in self.tag_list(TagKind.STRENGTH)]

    @property
    def participant_id(self) -> int:
        return self.id

    @property
    def display_name(self) -> str:
        return self.account.display_name

    @property
    def email(self) -> str:
        return self.account.email

    @property
    def profile_complete(self) -> bool:
        return self.profile_completed_at is not None

    def live_consent(self, purpose: str = ConsentPurpose.SPECIAL_CATEGORY) -> ConsentRecord | None:
        for record in reversed(self.consents):
            if record.purpose == purpose and record.withdrawn_at is None:
                return record
        return None

    @property
    def consent(self) -> ConsentRecord | None:
        """The live special-category consent, if any."""
        return self.live_consent()


class ParticipantTag(Base):
    """A need (weight = priority 1..3) or strength (weight = level 1..3) of a participant."""

    __tablename__ = "participant_tags"
    __table_args__ = (
        CheckConstraint(sql_in("kind", TagKind), name="kind"),
        CheckConstraint("weight BETWEEN 1 AND 3", name="weight"),
        Index("ix_participant_tags_tag_kind", "tag", "kind"),
    )

    participant_id: Mapped[int] = mapped_column(
        ForeignKey("participants.id", ondelete="CASCADE"), primary_key=True
    )
    kind: Mapped[str] = mapped_column(String(10), primary_key=True)
    tag: Mapped[str] = mapped_column(String(60), primary_key=True)
    weight: Mapped[int] = mapped_column(Integer)

    participant: Mapped[Participant] = relationship(back_populates="tags")


class ConsentRecord(Base):
    """A participant's consent to processing for one purpose, with the text version agreed."""

    __tablename__ = "consent_records"
    __table_args__ = (CheckConstraint(sql_in("purpose", ConsentPurpose), name="purpose"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    participant_id: Mapped[int] = mapped_column(
        ForeignKey("participants.id", ondelete="CASCADE"), index=True
    )
    purpose: Mapped[str] = mapped_column(String(40))
    text_version: Mapped[str] = mapped_column(String(40))
    granted_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    withdrawn_at: Mapped[datetime | None] = mapped_column(UTCDateTime())

    participant: Mapped[Participant] = relationship(back_populates="consents")


_BUSY_ROUND = text(sql_in("status", RoundStatus, BUSY_ROUND_STATUSES))
_LIVE_MATCH = text(sql_in("status", MatchStatus, LIVE_MATCH_STATUSES))


class Round(Base):
    """One matching run of a program: a snapshot of its parameters and its proposals."""

    __tablename__ = "rounds"
    __table_args__ = (
        CheckConstraint(sql_in("status", RoundStatus), name="status"),
        CheckConstraint(sql_in("kind", RoundKind), name="kind"),
        UniqueConstraint("program_id", "run_key"),
        # At most one round of a program is queued or running at a time.
        Index(
            "uq_rounds_one_active_per_program",
            "program_id",
            unique=True,
            sqlite_where=_BUSY_ROUND,
            postgresql_where=_BUSY_ROUND,
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    program_id: Mapped[int] = mapped_column(
        ForeignKey("programs.id", ondelete="CASCADE"), index=True
    )
    kind: Mapped[str] = mapped_column(String(10), default=RoundKind.MANUAL.value)
    status: Mapped[str] = mapped_column(String(10), default=RoundStatus.QUEUED.value)
    # Rematch rounds carry "rematch:<date>" so a night is done at most once per program.
    run_key: Mapped[str | None] = mapped_column(String(40))
    # The program's matching settings with the round's overrides, frozen at start.
    parameters: Mapped[dict[str, Any]] = mapped_column(default=dict)
    progress: Mapped[dict[str, Any]] = mapped_column(default=dict)
    stats: Mapped[dict[str, Any] | None] = mapped_column()
    unmatched: Mapped[list[Any] | None] = mapped_column()
    infeasible_pins: Mapped[list[Any] | None] = mapped_column()
    error: Mapped[dict[str, Any] | None] = mapped_column()
    #: Runs started (the `run` event counts them): the fencing token of a runner, and
    #: what ROUND_MAX_ATTEMPTS limits when a lost round is re-queued.
    attempts: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    #: While running: the runner's heartbeat extends this; once it lapses the round is lost.
    lease_expires_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    created_by: Mapped[int | None] = mapped_column(ForeignKey("accounts.id", ondelete="SET NULL"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    started_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    finished_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    published_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    discarded_at: Mapped[datetime | None] = mapped_column(UTCDateTime())

    pairs: Mapped[list[RoundPair]] = relationship(
        back_populates="round", cascade="all, delete-orphan", passive_deletes=True
    )

    @property
    def settings(self) -> dict[str, Any]:
        """The settings the round runs with, every setting present (stored ones over the
        defaults of settings added since)."""
        return ProgramSettings.from_stored(self.parameters).to_stored()


class RoundPair(Base):
    """A pair proposed by a round, under the coordinator's review until published."""

    __tablename__ = "round_pairs"
    __table_args__ = (
        UniqueConstraint("round_id", "mentee_id"),
        Index("ix_round_pairs_round_id_score", "round_id", "score"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    round_id: Mapped[int] = mapped_column(ForeignKey("rounds.id", ondelete="CASCADE"))
    mentee_id: Mapped[int] = mapped_column(ForeignKey("participants.id", ondelete="CASCADE"))
    mentor_id: Mapped[int] = mapped_column(
        ForeignKey("participants.id", ondelete="CASCADE"), index=True
    )
    score: Mapped[float] = mapped_column(Float)
    breakdown: Mapped[dict[str, Any]] = mapped_column(default=dict)
    pinned: Mapped[bool] = mapped_column(Boolean, default=False)

    round: Mapped[Round] = relationship(back_populates="pairs")


class Match(Base):
    """A mentor–mentee relationship, from proposal to its end."""

    __tablename__ = "matches"
    __table_args__ = (
        CheckConstraint(sql_in("status", MatchStatus), name="status"),
        UniqueConstraint("round_id", "mentee_id"),
        # A mentee has at most one live relationship (proposed, accepted or active).
        Index(
            "uq_matches_one_live_per_mentee",
            "mentee_id",
            unique=True,
            sqlite_where=_LIVE_MATCH,
            postgresql_where=_LIVE_MATCH,
        ),
        Index("ix_matches_mentee_id_status", "mentee_id", "status"),
        Index("ix_matches_mentor_id_status", "mentor_id", "status"),
        Index("ix_matches_program_id_status", "program_id", "status"),
        # Expiring due proposals (on every match listing and nightly) looks up by these.
        Index("ix_matches_status_expires_at", "status", "expires_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    program_id: Mapped[int] = mapped_column(ForeignKey("programs.id", ondelete="CASCADE"))
    round_id: Mapped[int] = mapped_column(ForeignKey("rounds.id", ondelete="CASCADE"))
    mentee_id: Mapped[int] = mapped_column(ForeignKey("participants.id", ondelete="CASCADE"))
    mentor_id: Mapped[int] = mapped_column(ForeignKey("participants.id", ondelete="CASCADE"))
    score: Mapped[float] = mapped_column(Float)
    breakdown: Mapped[dict[str, Any]] = mapped_column(default=dict)
    status: Mapped[str] = mapped_column(String(10), default=MatchStatus.PROPOSED.value)
    proposed_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime())
    mentee_accepted_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    mentor_accepted_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    activated_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    closed_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    closed_by: Mapped[str | None] = mapped_column(String(16))  # mentee, mentor, coordinator, system
    close_reason: Mapped[str | None] = mapped_column(Text)
    # When both partners were asked how the first meeting went (once per match).
    fit_check_asked_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    # Paused by a partner raising a concern (no prompts or nudges until resumed).
    paused_at: Mapped[datetime | None] = mapped_column(UTCDateTime())

    mentee: Mapped[Participant] = relationship(foreign_keys=[mentee_id])
    mentor: Mapped[Participant] = relationship(foreign_keys=[mentor_id])
    check_ins: Mapped[list[CheckIn]] = relationship(
        back_populates="match",
        cascade="all, delete-orphan",
        passive_deletes=True,
        order_by="CheckIn.id",
    )
    fit_answers: Mapped[list[FitAnswerRecord]] = relationship(
        cascade="all, delete-orphan", passive_deletes=True, order_by="FitAnswerRecord.id"
    )
    closing_surveys: Mapped[list[ClosingSurvey]] = relationship(
        cascade="all, delete-orphan", passive_deletes=True, order_by="ClosingSurvey.id"
    )


class Constraint(Base):
    """A coordinator's pin (must pair) or forbid (never pair) for a mentee and a mentor."""

    __tablename__ = "constraints"
    __table_args__ = (
        CheckConstraint(sql_in("kind", ConstraintKind), name="kind"),
        UniqueConstraint("program_id", "mentee_id", "mentor_id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    program_id: Mapped[int] = mapped_column(ForeignKey("programs.id", ondelete="CASCADE"))
    kind: Mapped[str] = mapped_column(String(10))
    mentee_id: Mapped[int] = mapped_column(ForeignKey("participants.id", ondelete="CASCADE"))
    mentor_id: Mapped[int] = mapped_column(ForeignKey("participants.id", ondelete="CASCADE"))
    note: Mapped[str] = mapped_column(Text, default="")
    created_by: Mapped[int | None] = mapped_column(ForeignKey("accounts.id", ondelete="SET NULL"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)


class CheckIn(Base):
    """Feedback on an active match. The note is for the program's coordinators only."""

    __tablename__ = "check_ins"
    __table_args__ = (
        CheckConstraint("rating BETWEEN 1 AND 5", name="rating"),
        CheckConstraint(f"signal IS NULL OR {sql_in('signal', Signal)}", name="signal"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    match_id: Mapped[int] = mapped_column(ForeignKey("matches.id", ondelete="CASCADE"), index=True)
    author_id: Mapped[int] = mapped_column(ForeignKey("participants.id", ondelete="CASCADE"))
    author_side: Mapped[str] = mapped_column(String(10))  # mentee or mentor
    rating: Mapped[int] = mapped_column(Integer)
    signal: Mapped[str | None] = mapped_column(String(10))
    note: Mapped[str] = mapped_column(Text, default="")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)

    match: Mapped[Match] = relationship(back_populates="check_ins")


class FitAnswerRecord(Base):
    """A partner's answer to the fit check (a partner may answer again; all are kept)."""

    __tablename__ = "fit_answers"
    __table_args__ = (CheckConstraint(sql_in("answer", FitAnswer), name="answer"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    match_id: Mapped[int] = mapped_column(ForeignKey("matches.id", ondelete="CASCADE"), index=True)
    author_side: Mapped[str] = mapped_column(String(10))
    answer: Mapped[str] = mapped_column(String(12))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)


class Concern(Base):
    """A concern a partner raised about a relationship: for the program's coordinators
    only (the partner never sees it, nor that it exists)."""

    __tablename__ = "concerns"
    __table_args__ = (
        CheckConstraint(sql_in("category", ConcernCategory), name="category"),
        CheckConstraint(sql_in("status", ConcernStatus), name="status"),
        CheckConstraint(f"outcome IS NULL OR {sql_in('outcome', ConcernOutcome)}", name="outcome"),
        Index("ix_concerns_program_id_status", "program_id", "status"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    program_id: Mapped[int] = mapped_column(ForeignKey("programs.id", ondelete="CASCADE"))
    match_id: Mapped[int] = mapped_column(ForeignKey("matches.id", ondelete="CASCADE"), index=True)
    raised_by: Mapped[int] = mapped_column(
        ForeignKey("participants.id", ondelete="CASCADE"), index=True
    )
    raiser_side: Mapped[str] = mapped_column(String(10))
    category: Mapped[str] = mapped_column(String(20))
    note: Mapped[str] = mapped_column(Text, default="")
    pause: Mapped[bool] = mapped_column(Boolean, default=False)
    status: Mapped[str] = mapped_column(String(10), default=ConcernStatus.OPEN.value)
    coordinator_note: Mapped[str] = mapped_column(Text, default="")
    outcome: Mapped[str | None] = mapped_column(String(30))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    resolved_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    resolved_by: Mapped[int | None] = mapped_column(ForeignKey("accounts.id", ondelete="SET NULL"))

    match: Mapped[Match] = relationship()
    raiser: Mapped[Participant] = relationship()


class ClosingSurvey(Base):
    """A partner's answer to the closing survey of an ended match (one per side)."""

    __tablename__ = "closing_surveys"
    __table_args__ = (
        UniqueConstraint("match_id", "author_side"),
        CheckConstraint("goals BETWEEN 1 AND 5", name="goals"),
        CheckConstraint("recommend BETWEEN 1 AND 5", name="recommend"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    program_id: Mapped[int] = mapped_column(
        ForeignKey("programs.id", ondelete="CASCADE"), index=True
    )
    match_id: Mapped[int] = mapped_column(ForeignKey("matches.id", ondelete="CASCADE"))
    author_id: Mapped[int] = mapped_column(
        ForeignKey("participants.id", ondelete="CASCADE"), index=True
    )
    author_side: Mapped[str] = mapped_column(String(10))
    goals: Mapped[int] = mapped_column(Integer)
    recommend: Mapped[int] = mapped_column(Integer)
    # For the program's coordinators only.
    comment: Mapped[str] = mapped_column(Text, default="")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)


class IdempotencyRecord(Base):
    """The first response to a request sent with an Idempotency-Key, replayed on retries."""

    __tablename__ = "idempotency_records"
    __table_args__ = (UniqueConstraint("account_id", "key"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    account_id: Mapped[int] = mapped_column(ForeignKey("accounts.id", ondelete="CASCADE"))
    key: Mapped[str] = mapped_column(String(200))
    request_fingerprint: Mapped[str] = mapped_column(String(64))
    status_code: Mapped[int] = mapped_column(Integer)
    body: Mapped[dict[str, Any]] = mapped_column(default=dict)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)


_DUE_MESSAGE = text(sql_in("status", OutboxStatus, frozenset({OutboxStatus.PENDING})))


class OutboxMessage(Base):
    """A notification to one account, written in the transaction of what caused it.

    It carries references, never a body: the message is rendered when it is delivered
    (`api.services.delivery`), so no link secret and no text waits in the database.
    `dedupe_key` names the cause (`match.propose:<match>:<account>`): the same cause
    never produces two messages for one person.
    """

    __tablename__ = "outbox_messages"
    __table_args__ = (
        CheckConstraint(sql_in("status", OutboxStatus), name="status"),
        CheckConstraint(sql_in("kind", MessageKind), name="kind"),
        # The senders look up pending messages by when they are due.
        Index(
            "ix_outbox_messages_due",
            "next_attempt_at",
            sqlite_where=_DUE_MESSAGE,
            postgresql_where=_DUE_MESSAGE,
        ),
        Index("ix_outbox_messages_status_lease_until", "status", "lease_until"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    dedupe_key: Mapped[str] = mapped_column(String(200), unique=True)
    kind: Mapped[str] = mapped_column(String(20))
    status: Mapped[str] = mapped_column(String(10), default=OutboxStatus.PENDING.value)
    account_id: Mapped[int] = mapped_column(
        ForeignKey("accounts.id", ondelete="CASCADE"), index=True
    )
    program_id: Mapped[int | None] = mapped_column(ForeignKey("programs.id", ondelete="CASCADE"))
    match_id: Mapped[int | None] = mapped_column(ForeignKey("matches.id", ondelete="CASCADE"))
    payload: Mapped[dict[str, Any]] = mapped_column(default=dict)
    # Set when rendered: subjects name no person and no sensitive value.
    subject: Mapped[str | None] = mapped_column(String(300))
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    next_attempt_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    lease_until: Mapped[datetime | None] = mapped_column(UTCDateTime())
    # A class of error (`smtp 451`, `connection refused`), never a server's text.
    last_error: Mapped[str | None] = mapped_column(String(200))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    sent_at: Mapped[datetime | None] = mapped_column(UTCDateTime())


class LinkToken(Base):
    """A link in a message: 256 random bits, stored only as their SHA-256; single use
    (except unsubscribe links, which may be followed again)."""

    __tablename__ = "link_tokens"
    __table_args__ = (CheckConstraint(sql_in("purpose", LinkPurpose), name="purpose"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    purpose: Mapped[str] = mapped_column(String(20))
    account_id: Mapped[int] = mapped_column(
        ForeignKey("accounts.id", ondelete="CASCADE"), index=True
    )
    program_id: Mapped[int | None] = mapped_column(ForeignKey("programs.id", ondelete="CASCADE"))
    match_id: Mapped[int | None] = mapped_column(ForeignKey("matches.id", ondelete="CASCADE"))
    # Invitations: the role offered (mentor, mentee, both, coordinator); unsubscribe
    # links: the setting they turn off.
    scope: Mapped[str | None] = mapped_column(String(20))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime())
    used_at: Mapped[datetime | None] = mapped_column(UTCDateTime())


class NotificationSettings(Base):
    """Which optional messages an account gets (no row: all of them)."""

    __tablename__ = "notification_settings"

    account_id: Mapped[int] = mapped_column(
        ForeignKey("accounts.id", ondelete="CASCADE"), primary_key=True
    )
    reminders: Mapped[bool] = mapped_column(Boolean, default=True)
    check_in_prompts: Mapped[bool] = mapped_column(Boolean, default=True)
    digests: Mapped[bool] = mapped_column(Boolean, default=True)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow, onupdate=utcnow)


class LimitCounter(Base):
    """A rate-limit counter shared by every worker when there is no Redis
    (api.adapters.limit_counters): one fixed window per key."""

    __tablename__ = "limit_counters"

    key: Mapped[str] = mapped_column(String(600), primary_key=True)
    count: Mapped[int] = mapped_column(Integer)
    #: Unix time (seconds) at which the window ends.
    expires_at: Mapped[float] = mapped_column(Float, index=True)
