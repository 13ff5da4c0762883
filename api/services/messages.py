"""What each message says: its facts gathered from the database, rendered from the
templates of `api/templates/messages/`.

A message is rendered when it is delivered, so its links carry tokens minted then (no
secret waits in the outbox) and it tells the state of things at that moment: a proposal
that was answered or withdrawn before its message left is not announced any more
(`Skip`).

Privacy: the templates get only the dictionaries built here, from the fields a partner
may see (`SharedProfileSchema`'s: name, bio, languages, time zone, tags, experience) and
from counts and statuses. Cultural background, wellbeing needs, consent records and
check-in notes, concern notes and survey comments are never read here (a concern's
message to coordinators names its category only), and free-text reasons (a decline's, an end's) are
not repeated either: they are for the coordinators.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any
from urllib.parse import urlencode
from zoneinfo import ZoneInfo

import pycountry
from sqlalchemy import select
from sqlalchemy.orm import Session, object_session

from api.adapters import templates
from api.adapters.mail import Attachment
from api.adapters.models import (
    Account,
    Concern,
    LinkToken,
    Match,
    NotificationSettings,
    OutboxMessage,
    Participant,
    Program,
    Round,
)
from api.domain import explanations, meeting
from api.domain.settings import ProgramSettings
from api.domain.vocabulary import (
    LIVE_MATCH_STATUSES,
    MENTEE_ROLES,
    OPEN_MATCH_STATUSES,
    OPTIONAL_MESSAGES,
    Closer,
    FitAnswer,
    LinkPurpose,
    MatchStatus,
    MessageKind,
    ParticipantStatus,
    Role,
    RoundKind,
    RoundStatus,
    Side,
    TagKind,
)
from api.services import attention, links

ERASED_DOMAIN = "@erased.invalid"
UNSUBSCRIBE_DAYS = 365
CAPACITY_LINK_DAYS = 14


@dataclass(frozen=True)
class Links:
    """Where links point and how long the tokens they carry live."""

    public_url: str
    invitation_ttl: timedelta
    reset_ttl: timedelta


@dataclass(frozen=True)
class Rendered:
    subject: str
    text: str
    html: str
    headers: dict[str, str] = field(default_factory=dict)
    attachments: tuple[Attachment, ...] = ()


class Skip(Exception):
    """Nothing to send any more; `reason` says why (stored with the message)."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


def local_time(when: datetime, tz_name: str | None) -> str:
    """`Tuesday 8 December 2026, 18:00 (Europe/Berlin)`: in the reader's own zone."""
    name = tz_name or "UTC"
    local = when.astimezone(ZoneInfo(name))
    return f"{local:%A} {local.day} {local:%B %Y, %H:%M} ({name})"


def _language(code: str) -> str:
    found = pycountry.languages.get(alpha_2=code) if len(code) == 2 else None
    found = found or pycountry.languages.get(alpha_3=code)
    return str(found.name) if found else code


def _shared_profile(p: Participant, side: Side) -> dict[str, Any]:
    """What a partner may see (the fields of SharedProfileSchema), for the templates."""
    if side == Side.MENTEE:
        tags = [
            {
                "tag": t.tag,
                "weight": t.weight,
                "label": ("nice to have", "important", "essential")[t.weight - 1],
            }
            for t in p.tag_list(TagKind.NEED)
        ]
    else:
        tags = [
            {
                "tag": t.tag,
                "weight": t.weight,
                "label": ("some experience", "solid", "expert")[t.weight - 1],
            }
            for t in p.tag_list(TagKind.STRENGTH)
        ]
    return {
        "display_name": p.account.display_name,
        "bio": p.bio or "",
        "languages": [_language(c) for c in p.languages or []],
        "timezone": p.timezone or "UTC",
        "experience_level": p.experience_level,
        "tags": tags,
        "side": side.value,
    }


def _why(match: Match) -> dict[str, Any]:
    needs = {t.tag for t in match.mentee.tag_list(TagKind.NEED)}
    strengths = {t.tag for t in match.mentor.tag_list(TagKind.STRENGTH)}
    shared = sorted(set(match.mentee.languages or []) & set(match.mentor.languages or []))
    # The score a partner may see: without the special-category criterion.
    round_ = object_session(match).get(Round, match.round_id)  # type: ignore[union-attr]
    weights = ProgramSettings.from_stored(round_.parameters if round_ else None).weights
    score, _breakdown = explanations.for_partner(match.breakdown, weights)
    return {
        "score_percent": round(100 * score),
        "covered_needs": sorted(needs & strengths),
        "shared_languages": [_language(c) for c in shared],
    }


class Renderer:
    """Renders one outbox message (minting the tokens its links carry, uncommitted)."""

    def __init__(self, session: Session, links_: Links) -> None:
        self.session, self.links = session, links_
        #: Tokens minted by the last render (the caller adds them when it succeeded).
        self.minted: list[LinkToken] = []
        self._programs: dict[int, Program] = {}

    def program(self, program_id: int | None) -> Program | None:
        """The program (once per batch: the identity map forgets what nobody holds)."""
        if program_id is None:
            return None
        if program_id not in self._programs:
            found = self.session.get(Program, program_id)
            if found is None:
                return None
            self._programs[program_id] = found
        return self._programs[program_id]

    def render(self, message: OutboxMessage) -> tuple[Account, Rendered]:
        self.minted = []
        account = self.session.get(Account, message.account_id)
        if account is None or account.email.endswith(ERASED_DOMAIN):
            raise Skip("recipient erased")
        kind = MessageKind(message.kind)
        optional = OPTIONAL_MESSAGES.get(kind)
        if optional and not self._wants(account.id, optional):
            raise Skip(f"{optional} turned off")
        build = self._BUILDERS[kind]
        context = build(self, message, account)
        context.update(
            recipient_name=account.display_name,
            public_url=self.links.public_url,
            kind=kind.value,
        )
        headers: dict[str, str] = {}
        if optional:
            unsubscribe = self._url(
                "/pages/unsubscribe",
                links.mint(
                    self.minted,
                    LinkPurpose.UNSUBSCRIBE,
                    account.id,
                    expires_at=links.lifetime(24 * UNSUBSCRIBE_DAYS),
                    scope=optional,
                ),
            )
            context["unsubscribe_url"] = unsubscribe
            context["unsubscribe_what"] = optional.replace("_", " ")
            # RFC 2369 and RFC 8058: mail clients offer a one-click unsubscribe button.
            headers["List-Unsubscribe"] = f"<{unsubscribe}>"
            headers["List-Unsubscribe-Post"] = "List-Unsubscribe=One-Click"
        else:
            context["unsubscribe_url"] = None
        subject = templates.render(f"messages/{kind.value}.subject.txt", context).strip()
        context["subject"] = subject
        rendered = Rendered(
            subject=subject,
            text=templates.render(f"messages/{kind.value}.txt", context),
            html=templates.render(f"messages/{kind.value}.html", context),
            headers=headers,
            attachments=tuple(context.pop("_attachments", ())),
        )
        return account, rendered

    # --- helpers ----------------------------------------------------------------------

    def _url(self, path: str, token: str, **query: str) -> str:
        return f"{self.links.public_url}{path}?{urlencode({'token': token, **query})}"

    def _wants(self, account_id: int, setting: str) -> bool:
        row = self.session.get(NotificationSettings, account_id)
        return row is None or bool(getattr(row, setting))

    def _match(self, message: OutboxMessage, account: Account) -> tuple[Match, Side]:
        match = self.session.get(Match, message.match_id) if message.match_id else None
        if match is None:
            raise Skip("match gone")
        side = Side(
            message.payload.get("side")
            or (Side.MENTEE if match.mentee.account_id == account.id else Side.MENTOR)
        )
        return match, side

    def _pair(self, match: Match, side: Side, account: Account) -> dict[str, Any]:
        me = match.mentee if side == Side.MENTEE else match.mentor
        partner = match.mentor if side == Side.MENTEE else match.mentee
        partner_side = Side.MENTOR if side == Side.MENTEE else Side.MENTEE
        program = self.program(match.program_id)
        assert program is not None
        return {
            "program_name": program.name,
            "match_id": match.id,
            "my_side": side.value,
            "partner_side": partner_side.value,
            "partner": _shared_profile(partner, partner_side),
            "my_timezone": me.timezone or "UTC",
            "why": _why(match),
            "deadline": local_time(match.expires_at, me.timezone),
            "api_url": f"{self.links.public_url}/api/v1/matches/{match.id}",
        }

    def _answer_links(self, match: Match, account: Account) -> dict[str, str]:
        token = links.mint(
            self.minted,
            LinkPurpose.MATCH_ANSWER,
            account.id,
            expires_at=match.expires_at,
            match_id=match.id,
        )
        return {
            "accept_url": self._url("/pages/answer", token, choice="accept"),
            "decline_url": self._url("/pages/answer", token, choice="decline"),
        }

    def _open_match(self, message: OutboxMessage, account: Account) -> tuple[Match, Side]:
        match, side = self._match(message, account)
        if match.status not in OPEN_MATCH_STATUSES:
            raise Skip(f"match {match.status}")
        return match, side

    # --- one builder per kind ---------------------------------------------------------

    def _proposal(self, message: OutboxMessage, account: Account) -> dict[str, Any]:
        match, side = self._open_match(message, account)
        return self._pair(match, side, account) | self._answer_links(match, account)

    def _reminder(self, message: OutboxMessage, account: Account) -> dict[str, Any]:
        match, side = self._open_match(message, account)
        mine = match.mentee_accepted_at if side == Side.MENTEE else match.mentor_accepted_at
        if mine is not None:
            raise Skip("already accepted")
        return self._pair(match, side, account) | self._answer_links(match, account)

    def _partner_answered(self, message: OutboxMessage, account: Account) -> dict[str, Any]:
        match, side = self._match(message, account)
        answer = "declined" if message.payload.get("event") == "decline" else "accepted"
        context = self._pair(match, side, account) | {"answer": answer}
        mine = match.mentee_accepted_at if side == Side.MENTEE else match.mentor_accepted_at
        context["waiting_for_me"] = (
            answer == "accepted" and match.status in OPEN_MATCH_STATUSES and mine is None
        )
        if context["waiting_for_me"]:
            context |= self._answer_links(match, account)
        return context

    def _active(self, message: OutboxMessage, account: Account) -> dict[str, Any]:
        match, side = self._match(message, account)
        if match.status != MatchStatus.ACTIVE:
            raise Skip(f"match {match.status}")
        context = self._pair(match, side, account)
        partner = match.mentor if side == Side.MENTEE else match.mentee
        me = match.mentee if side == Side.MENTEE else match.mentor
        # Active: both said yes, so each may write to the other.
        context["partner_email"] = partner.account.email
        program = self.program(match.program_id)
        assert program is not None
        weeks = ProgramSettings.from_stored(program.settings).relationship_weeks
        context["weeks"] = weeks
        first = meeting.first_meeting(
            match.mentee.availability,
            match.mentee.timezone,
            match.mentor.availability,
            match.mentor.timezone,
            match.activated_at or match.proposed_at,
        )
        context["first_meeting"] = None
        if first is not None:
            tz = me.timezone or "UTC"
            context["first_meeting"] = {
                "when": local_time(first.start, tz),
                "partner_when": local_time(first.start, partner.timezone),
                "minutes": first.minutes,
            }
            names = f"{match.mentee.account.display_name} and {match.mentor.account.display_name}"
            data = meeting.ics(
                first,
                uid=f"match-{match.id}-meetings@peermatch",
                tz_name=tz,
                summary=f"Mentoring: {names}",
                description=f"Your weekly mentoring meeting ({program.name}). Move it to "
                "a time that suits you both.",
                weeks=weeks,
                stamp=match.activated_at or match.proposed_at,
            )
            context["_attachments"] = [
                Attachment(
                    "first-meeting.ics",
                    "text/calendar",
                    data.encode("utf-8"),
                    {"method": "PUBLISH"},
                )
            ]
        return context

    def _closed(self, message: OutboxMessage, account: Account) -> dict[str, Any]:
        match, side = self._match(message, account)
        context = self._pair(match, side, account)
        closer = match.closed_by
        if message.payload.get("event") == "close_on_erasure":
            context["ended_by"] = "erasure"
        elif closer == side.value:
            context["ended_by"] = "you"
        elif closer in (Side.MENTEE, Side.MENTOR):
            context["ended_by"] = "partner"
        else:
            context["ended_by"] = closer or Closer.SYSTEM.value
        return context

    def _check_in_due(self, message: OutboxMessage, account: Account) -> dict[str, Any]:
        match, side = self._match(message, account)
        if match.status != MatchStatus.ACTIVE:
            raise Skip(f"match {match.status}")
        return self._pair(match, side, account) | {
            "weeks": message.payload.get("weeks"),
            "check_in_url": f"{self.links.public_url}/api/v1/matches/{match.id}/check-ins",
        }

    def _invitation(self, message: OutboxMessage, account: Account) -> dict[str, Any]:
        program = self.program(message.program_id)
        if program is None:
            raise Skip("program gone")
        role = str(message.payload.get("role"))
        token = links.mint(
            self.minted,
            LinkPurpose.INVITATION,
            account.id,
            expires_at=links.lifetime(self.links.invitation_ttl.total_seconds() / 3600),
            program_id=program.id,
            scope=role,
        )
        return {
            "program_name": program.name,
            "role": role,
            "has_password": bool(account.password_hash),
            "accept_url": self._url("/pages/invitation", token),
            "token": token,
            "api_url": f"{self.links.public_url}/api/v1/invitations/accept",
            "valid_until": local_time(
                links.lifetime(self.links.invitation_ttl.total_seconds() / 3600), None
            ),
        }

    def _password_reset(self, message: OutboxMessage, account: Account) -> dict[str, Any]:
        expires = links.lifetime(self.links.reset_ttl.total_seconds() / 3600)
        token = links.mint(self.minted, LinkPurpose.PASSWORD_RESET, account.id, expires_at=expires)
        return {
            "reset_url": self._url("/pages/password-reset", token),
            "token": token,
            "api_url": f"{self.links.public_url}/api/v1/password-resets/confirm",
            "minutes": int(self.links.reset_ttl.total_seconds() // 60),
        }

    def _digest(self, message: OutboxMessage, account: Account) -> dict[str, Any]:
        program = self.program(message.program_id)
        if program is None:
            raise Skip("program gone")
        return digest_facts(self.session, program, message.created_at) | {
            "program_name": program.name,
            "week": message.payload.get("week"),
        }

    # --- relationship health ----------------------------------------------------------

    def _active_match(self, message: OutboxMessage, account: Account) -> tuple[Match, Side]:
        match, side = self._match(message, account)
        if match.status != MatchStatus.ACTIVE:
            raise Skip(f"match {match.status}")
        return match, side

    def _fit_check(self, message: OutboxMessage, account: Account) -> dict[str, Any]:
        match, side = self._active_match(message, account)
        api_url = f"{self.links.public_url}/api/v1/matches/{match.id}"
        return self._pair(match, side, account) | {
            "fit_check_url": f"{api_url}/fit-check",
            "answers": [a.value for a in FitAnswer],
        }

    def _quiet_nudge(self, message: OutboxMessage, account: Account) -> dict[str, Any]:
        match, side = self._active_match(message, account)
        if match.paused_at is not None:
            raise Skip("match paused")
        return self._pair(match, side, account) | {
            "weeks": message.payload.get("weeks"),
            "check_in_url": f"{self.links.public_url}/api/v1/matches/{match.id}/check-ins",
        }

    def _closing_survey(self, message: OutboxMessage, account: Account) -> dict[str, Any]:
        match, side = self._match(message, account)
        if match.status != MatchStatus.ENDED:
            raise Skip(f"match {match.status}")
        return self._pair(match, side, account) | {
            "survey_url": f"{self.links.public_url}/api/v1/matches/{match.id}/survey",
        }

    def _for_coordinators(self, message: OutboxMessage) -> dict[str, Any]:
        program = self.program(message.program_id)
        if program is None:
            raise Skip("program gone")
        return {
            "program_name": program.name,
            "match_id": message.match_id,
            "attention_url": f"{self.links.public_url}/api/v1/programs/{program.id}/attention",
            "concerns_url": f"{self.links.public_url}/api/v1/programs/{program.id}/concerns",
        }

    def _concern_raised(self, message: OutboxMessage, account: Account) -> dict[str, Any]:
        # The category only: the note is read in the API (never in a mailbox or a log).
        concern = self.session.get(Concern, message.payload.get("concern_id"))
        if concern is None:
            raise Skip("concern gone")
        return self._for_coordinators(message) | {
            "category": concern.category.replace("_", " "),
            "paused": concern.pause,
            "raiser_side": concern.raiser_side,
        }

    def _mentor_drained(self, message: OutboxMessage, account: Account) -> dict[str, Any]:
        return self._for_coordinators(message) | {
            "drained_side": message.payload.get("drained_side", Side.MENTOR.value),
        }

    def _capacity_question(self, message: OutboxMessage, account: Account) -> dict[str, Any]:
        program = self.program(message.program_id)
        if program is None:
            raise Skip("program gone")
        me = self.session.scalar(
            select(Participant).where(
                Participant.account_id == account.id, Participant.program_id == program.id
            )
        )
        if me is None:
            raise Skip("not in the program any more")
        settings = ProgramSettings.from_stored(program.settings)
        capacity = me.capacity if me.capacity is not None else settings.default_capacity
        if capacity <= 0:
            raise Skip("capacity is 0 already")
        token = links.mint(
            self.minted,
            LinkPurpose.LOWER_CAPACITY,
            account.id,
            expires_at=links.lifetime(24 * CAPACITY_LINK_DAYS),
            program_id=program.id,
        )
        return {
            "program_name": program.name,
            "capacity": capacity,
            "lowered": capacity - 1,
            "capacity_url": self._url("/pages/capacity", token),
            "resume_url": f"{self.links.public_url}/api/v1/programs/{program.id}/profile/resume",
        }

    _BUILDERS: dict[MessageKind, Callable[[Renderer, OutboxMessage, Account], dict[str, Any]]] = {
        MessageKind.PROPOSAL: _proposal,
        MessageKind.REMINDER: _reminder,
        MessageKind.PARTNER_ANSWERED: _partner_answered,
        MessageKind.ACTIVE: _active,
        MessageKind.EXPIRED: _closed,
        MessageKind.CANCELLED: _closed,
        MessageKind.ENDED: _closed,
        MessageKind.CHECK_IN_DUE: _check_in_due,
        MessageKind.INVITATION: _invitation,
        MessageKind.PASSWORD_RESET: _password_reset,
        MessageKind.DIGEST: _digest,
        MessageKind.FIT_CHECK: _fit_check,
        MessageKind.QUIET_NUDGE: _quiet_nudge,
        MessageKind.CLOSING_SURVEY: _closing_survey,
        MessageKind.CONCERN_RAISED: _concern_raised,
        MessageKind.MENTOR_DRAINED: _mentor_drained,
        MessageKind.CAPACITY_QUESTION: _capacity_question,
    }


#: Proposals expiring within this are "about to expire" in a digest.
EXPIRING_SOON = timedelta(days=2)
#: Longest list of names a digest shows per section (the rest are counted).
DIGEST_NAMES = 20


def digest_facts(session: Session, program: Program, now: datetime) -> dict[str, Any]:
    """A coordinator's week: attention items, people waiting and why, proposals about to
    expire (names, statuses and reasons only; notes stay in the API)."""
    active = session.scalars(
        select(Match).where(Match.program_id == program.id, Match.status == MatchStatus.ACTIVE)
    ).all()
    items = []
    for m in active:
        reasons = attention.reasons(m, now, timedelta(weeks=4), 2)
        if reasons:
            items.append(
                {
                    "mentee": m.mentee.account.display_name,
                    "mentor": m.mentor.account.display_name,
                    "reasons": [r.replace("_", " ") for r in reasons],
                }
            )
    live = select(Match.mentee_id).where(
        Match.program_id == program.id, Match.status.in_(LIVE_MATCH_STATUSES)
    )
    waiting = session.scalars(
        select(Participant)
        .where(
            Participant.program_id == program.id,
            Participant.role.in_([r.value for r in MENTEE_ROLES]),
            Participant.status == ParticipantStatus.ACTIVE,
            Participant.profile_completed_at.is_not(None),
            Participant.id.not_in(live),
        )
        .order_by(Participant.profile_completed_at, Participant.id)
    ).all()
    last_round = session.scalar(
        select(Round)
        .where(
            Round.program_id == program.id,
            Round.status.in_([RoundStatus.PROPOSED, RoundStatus.PUBLISHED]),
        )
        .order_by(Round.id.desc())
        .limit(1)
    )
    why = (
        {u["mentee"]["participant_id"]: u["reason"] for u in (last_round.unmatched or [])}
        if (last_round)
        else {}
    )
    reasons = Counter(why.get(p.id, "not in a round yet") for p in waiting)
    expiring = session.scalars(
        select(Match)
        .where(
            Match.program_id == program.id,
            Match.status.in_(OPEN_MATCH_STATUSES),
            Match.expires_at <= now + EXPIRING_SOON,
        )
        .order_by(Match.expires_at)
    ).all()
    return {
        "attention": items[:DIGEST_NAMES],
        "attention_total": len(items),
        "waiting_total": len(waiting),
        "waiting_reasons": sorted(
            ((r.replace("_", " "), n) for r, n in reasons.items()), key=lambda x: -x[1]
        ),
        "waiting": [
            {
                "name": p.account.display_name,
                "reason": why.get(p.id, "not in a round yet").replace("_", " "),
                "since": local_time(p.profile_completed_at, None) if p.profile_completed_at else "",
            }
            for p in waiting[:DIGEST_NAMES]
        ],
        "expiring": [
            {
                "mentee": m.mentee.account.display_name,
                "mentor": m.mentor.account.display_name,
                "status": m.status,
                "expires": local_time(m.expires_at, None),
            }
            for m in expiring[:DIGEST_NAMES]
        ],
        "expiring_total": len(expiring),
        "rematch_round": last_round is not None and last_round.kind == RoundKind.REMATCH,
        "roles": [r.value for r in Role],
    }
