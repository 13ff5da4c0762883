"""Matching rounds: start, run (inline or on a worker), review, discard, publish."""

from __future__ import annotations

import csv
import io
import logging
import time
from collections import Counter
from collections.abc import Callable, Sequence
from datetime import datetime, timedelta
from typing import Any

from flask import current_app
from marshmallow import ValidationError
from sqlalchemy import func, select, update
from sqlalchemy.exc import IntegrityError, OperationalError
from sqlalchemy.orm import Session, aliased, selectinload

import matcher
from api.db import utcnow
from api.errors import ApiError, Conflict, NotFound, ValidationFailed, flatten_messages
from api.models import (
    Account,
    Match,
    Participant,
    Program,
    Round,
    RoundPair,
)
from api.schemas import check_settings
from api.services import access, idempotency, matching
from api.services.programs import full_settings

log = logging.getLogger("peermatch.rounds")

OVERRIDABLE = (
    "objective",
    "weights",
    "min_overlap_minutes",
    "target_overlap_minutes",
    "min_experience_gap",
    "max_experience_gap",
    "ideal_experience_gap",
    "forbid_same_org_unit",
    "load_penalty",
)


# --- views --------------------------------------------------------------------------------


def round_view(r: Round) -> dict[str, Any]:
    return {
        "id": r.id,
        "program_id": r.program_id,
        "kind": r.kind,
        "status": r.status,
        "parameters": r.parameters,
        "progress": r.progress or {"phase": r.status, "percent": 0},
        "stats": r.stats,
        "error": r.error,
        "created_at": r.created_at,
        "started_at": r.started_at,
        "finished_at": r.finished_at,
        "published_at": r.published_at,
        "discarded_at": r.discarded_at,
    }


def _person(p: Participant) -> dict[str, Any]:
    return {"participant_id": p.id, "display_name": p.account.display_name}


# --- start and run -------------------------------------------------------------------------


def start(session: Session, account: Account, program_id: int, overrides: dict[str, Any]) -> Round:
    """Snapshot the settings (with overrides), queue the round and hand it to a runner."""
    program = access.program_for_coordinator(session, account, program_id)
    parameters = full_settings(program)
    parameters.update({k: v for k, v in overrides.items() if k in OVERRIDABLE})
    try:
        check_settings(parameters)
    except ValidationError as exc:
        raise ValidationFailed(flatten_messages(exc.messages)) from exc
    _check_size(session, program)
    return queue(session, program, parameters, kind="manual", created_by=account.id)


def _check_size(session: Session, program: Program) -> None:
    """Refuse a round larger than this deployment is sized for (MAX_ROUND_SIZE)."""
    limit = current_app.config["MAX_ROUND_SIZE"]
    mentees = (
        session.scalar(
            select(func.count())
            .select_from(Participant)
            .where(
                Participant.program_id == program.id,
                Participant.role.in_(("mentee", "both")),
                Participant.status == "active",
                Participant.profile_completed_at.is_not(None),
            )
        )
        or 0
    )
    if mentees > limit:
        raise ApiError(
            f"This round would match {mentees} mentees; this service runs rounds of at "
            f"most {limit}. Split the program into cohorts or ask the operator to raise "
            "the limit.",
            title="Round too large",
            slug="round-too-large",
            mentees=mentees,
            limit=limit,
        ).with_status(422)


def queue(
    session: Session,
    program: Program,
    parameters: dict[str, Any],
    *,
    kind: str,
    created_by: int | None,
) -> Round:
    round_ = Round(
        program_id=program.id,
        kind=kind,
        status="queued",
        parameters=parameters,
        progress={"phase": "queued", "percent": 0},
        created_by=created_by,
    )
    session.add(round_)
    try:
        session.commit()
    except IntegrityError as exc:
        session.rollback()
        busy = session.scalar(
            select(Round.id).where(
                Round.program_id == program.id, Round.status.in_(("queued", "running"))
            )
        )
        raise Conflict(
            f"Round {busy} of this program is still queued or running; wait for it to "
            "finish or discard it.",
            round_id=busy,
        ) from exc
    return round_


class _Progress:
    """Writes the matcher's progress to the round, at most every half second."""

    def __init__(self, session: Session, round_: Round) -> None:
        self.session, self.round, self.last = session, round_, 0.0

    def __call__(self, phase: str, fraction: float) -> None:
        now = time.monotonic()
        if now - self.last < 0.5 and phase == self.round.progress.get("phase"):
            return
        self.last = now
        self.round.progress = {"phase": phase, "percent": round(100 * fraction, 1)}
        self.session.commit()


def execute(session: Session, round_id: int, as_of: datetime | None = None) -> Round | None:
    """Run a queued round to `proposed` (or `failed`). Safe to call twice."""
    claimed = session.execute(
        update(Round)
        .where(Round.id == round_id, Round.status == "queued")
        .values(status="running", started_at=utcnow(), progress={"phase": "loading", "percent": 0})
    )
    session.commit()
    round_ = session.get(Round, round_id)
    if round_ is None or claimed.rowcount != 1:
        return round_  # discarded meanwhile, or another runner has it
    try:
        _run(session, round_, as_of or utcnow())
    except matcher.MatcherError as exc:
        _fail(session, round_id, "The matcher rejected the input: " + exc.message, exc.field)
    except Exception:
        log.exception("round %s failed", round_id)
        _fail(session, round_id, "The round failed unexpectedly; the failure has been logged.")
    return session.get(Round, round_id)


def mark_failed(session: Session, round_id: int, detail: str) -> None:
    """Fail a round that could not be handed to a runner."""
    _fail(session, round_id, detail)


def _fail(session: Session, round_id: int, detail: str, field: str | None = None) -> None:
    session.rollback()
    round_ = session.get(Round, round_id)
    assert round_ is not None
    round_.status = "failed"
    round_.finished_at = utcnow()
    round_.progress = {"phase": "failed", "percent": 100}
    round_.error = {
        "type": "urn:peermatch:problem:round-failed",
        "title": "Round failed",
        "status": 500 if field is None else 422,
        "detail": detail,
        **({"field": field} if field else {}),
    }
    session.commit()


def _run(session: Session, round_: Round, as_of: datetime) -> None:
    program = session.get(Program, round_.program_id)
    assert program is not None
    compute(session, program, round_, as_of, progress=_Progress(session, round_))
    session.commit()
    stats = round_.stats or {}
    log.info(
        "round %s of program %s proposed: %s of %s mentees matched in %.2fs",
        round_.id,
        program.id,
        stats.get("matched_count"),
        stats.get("mentee_count"),
        stats.get("total_seconds", 0.0),
    )


def compute(
    session: Session,
    program: Program,
    round_: Round,
    as_of: datetime,
    *,
    progress: Callable[[str, float], None] | None = None,
    blocked_mentors: frozenset[int] = frozenset(),
    deprioritised: frozenset[int] = frozenset(),
) -> matching.Pool:
    """Load the pool, solve, write the pairs and results to `round_` (no commit)."""
    started = time.perf_counter()
    pool = matching.build_pool(
        session,
        program,
        round_.parameters,
        as_of,
        blocked_mentors=blocked_mentors,
        deprioritised=deprioritised,
    )
    loaded = time.perf_counter()
    result = matcher.solve(pool.problem, progress=progress)
    solved = time.perf_counter()
    people = pool.participants
    session.add_all(
        RoundPair(
            round_id=round_.id,
            mentee_id=pair.mentee_id,
            mentor_id=pair.mentor_id,
            score=pair.score,
            breakdown=dict(pair.breakdown),
            pinned=pair.pinned,
        )
        for pair in result.pairs
    )
    round_.unmatched = [
        {
            "mentee": _person(people[u.mentee_id]),
            "reason": u.reason,
            "details": _with_names(u.details, people),
        }
        for u in result.unmatched
    ]
    round_.infeasible_pins = [
        {
            "mentee": _person(people[p.mentee_id]),
            "mentor": _person(people[p.mentor_id]),
            "rules": list(p.rules),
        }
        for p in result.infeasible_pins
    ]
    stats = result.stats.to_dict()
    stats["excluded_mentees"] = dict(Counter(pool.excluded_mentees.values()))
    session.flush()
    stats["phase_seconds"] = {
        "load": round(loaded - started, 4),
        "match": round(solved - loaded, 4),
        "persist": round(time.perf_counter() - solved, 4),
    }
    round_.stats = stats
    round_.status = "proposed"
    round_.finished_at = utcnow()
    round_.progress = {"phase": "proposed", "percent": 100}
    return pool


def _with_names(details: dict[str, Any], people: dict[int, Participant]) -> dict[str, Any]:
    out = dict(details)
    alt = out.get("best_alternative")
    if isinstance(alt, dict) and alt.get("mentor_id") in people:
        alt = dict(alt)
        alt["display_name"] = people[alt["mentor_id"]].account.display_name
        out["best_alternative"] = alt
    return out


# --- review --------------------------------------------------------------------------------


def _round(session: Session, account: Account, program_id: int, round_id: int) -> Round:
    program = access.program_for_coordinator(session, account, program_id)
    round_ = session.get(Round, round_id)
    if round_ is None or round_.program_id != program.id:
        raise NotFound(f"Round {round_id} is not a round of this program.")
    return round_


def get(session: Session, account: Account, program_id: int, round_id: int) -> dict[str, Any]:
    return round_view(_round(session, account, program_id, round_id))


def rematch_runs(session: Session, account: Account, program_id: int) -> list[dict[str, Any]]:
    from api.services import rematch

    program = access.program_for_coordinator(session, account, program_id)
    return rematch.runs(session, program)


def list_rounds(session: Session, account: Account, program_id: int) -> list[dict[str, Any]]:
    program = access.program_for_coordinator(session, account, program_id)
    rows = session.scalars(
        select(Round).where(Round.program_id == program.id).order_by(Round.id.desc())
    )
    return [round_view(r) for r in rows]


def _require_results(round_: Round) -> None:
    if round_.status in ("queued", "running"):
        raise Conflict(f"Round {round_.id} is {round_.status}; its results are not ready.")
    if round_.status == "failed":
        raise Conflict(f"Round {round_.id} failed and has no results.")


def _pair_view(pair: RoundPair, mentee: Participant, mentor: Participant) -> dict[str, Any]:
    needs = {t.tag: t.weight for t in mentee.tag_list("need")}
    strengths = {t.tag: t.weight for t in mentor.tag_list("strength")}
    return {
        "id": pair.id,
        "mentee": _person(mentee),
        "mentor": _person(mentor),
        "score": pair.score,
        "breakdown": pair.breakdown,
        "pinned": pair.pinned,
        "covered_needs": [
            {"tag": tag, "priority": needs[tag], "level": strengths[tag]}
            for tag in sorted(needs, key=lambda t: (-needs[t], t))
            if tag in strengths
        ],
        "shared_languages": sorted(set(mentee.languages) & set(mentor.languages)),
    }


def list_pairs(
    session: Session, account: Account, program_id: int, round_id: int, query: dict[str, Any]
) -> dict[str, Any]:
    round_ = _round(session, account, program_id, round_id)
    _require_results(round_)
    offset = query.get("offset", 0)
    limit = query["limit"]
    order = RoundPair.score.asc() if query["sort"] == "score" else RoundPair.score.desc()
    total = session.scalar(
        select(func.count()).select_from(RoundPair).where(RoundPair.round_id == round_.id)
    )
    pairs = session.scalars(
        select(RoundPair)
        .where(RoundPair.round_id == round_.id)
        .order_by(order, RoundPair.id)
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
    items = [_pair_view(p, people[p.mentee_id], people[p.mentor_id]) for p in pairs]
    next_offset = offset + limit if offset + limit < (total or 0) else None
    return {"items": items, "total": total, "next_offset": next_offset}


def list_unmatched(
    session: Session, account: Account, program_id: int, round_id: int
) -> list[dict[str, Any]]:
    round_ = _round(session, account, program_id, round_id)
    _require_results(round_)
    return list(round_.unmatched or [])


def report(session: Session, account: Account, program_id: int, round_id: int) -> dict[str, Any]:
    round_ = _round(session, account, program_id, round_id)
    _require_results(round_)
    reasons = Counter(u["reason"] for u in round_.unmatched or [])
    return {
        "round_id": round_.id,
        "status": round_.status,
        "stats": round_.stats,
        "unmatched_by_reason": dict(reasons),
        "infeasible_pins": round_.infeasible_pins or [],
    }


def discard(session: Session, account: Account, program_id: int, round_id: int) -> dict[str, Any]:
    round_ = _round(session, account, program_id, round_id)
    if round_.status in ("published", "discarded"):
        raise Conflict(f"Round {round_.id} is {round_.status} and cannot be discarded.")
    if round_.status == "running":
        raise Conflict(f"Round {round_.id} is running; discard it when it has finished.")
    round_.status = "discarded"
    round_.discarded_at = utcnow()
    session.commit()
    return round_view(round_)


# --- publish -------------------------------------------------------------------------------


def publish(
    session: Session,
    account: Account,
    program_id: int,
    round_id: int,
    idempotency_key: str | None,
) -> dict[str, Any]:
    """Turn a proposed round into matches, all or nothing, exactly once."""
    round_ = _round(session, account, program_id, round_id)
    fingerprint = f"publish:{program_id}:{round_id}"
    if idempotency_key:
        replay = idempotency.find(session, account.id, idempotency_key, fingerprint)
        if replay is not None:
            # A published round never changes, so its view now is the first response.
            view = round_view(round_)
            view["matches_created"] = replay["matches_created"]
            return view
    try:
        body = _publish(session, round_)
        if idempotency_key:
            stored = {"round_id": round_.id, "matches_created": body["matches_created"]}
            idempotency.store(session, account.id, idempotency_key, fingerprint, stored)
        session.commit()
    except ApiError:
        session.rollback()
        raise
    except (IntegrityError, OperationalError) as exc:
        # Another publish of this round (or a match made meanwhile) won the race.
        session.rollback()
        raise Conflict(
            f"Round {round_id} is being published by another request; read it again."
        ) from exc
    return body


def _publish(session: Session, round_: Round) -> dict[str, Any]:
    now = utcnow()
    # The conditional update is the lock: of two concurrent publishes, one changes the row
    # and the other finds it no longer `proposed` (PostgreSQL waits on the row lock first).
    won = session.execute(
        update(Round)
        .where(Round.id == round_.id, Round.status == "proposed")
        .values(status="published", published_at=now)
        .execution_options(synchronize_session=False)
    )
    if won.rowcount != 1:
        session.rollback()
        current = session.get(Round, round_.id)
        state = current.status if current else "gone"
        raise Conflict(f"Round {round_.id} is {state}; only a proposed round can be published.")
    program = session.get(Program, round_.program_id)
    assert program is not None
    pairs = session.scalars(select(RoundPair).where(RoundPair.round_id == round_.id)).all()
    stale = _stale_pairs(session, program, round_, pairs, now)
    if stale:
        raise Conflict(
            f"{len(stale)} proposed pairs are no longer possible; start a new round.",
            slug="stale-round",
            stale_pairs=stale,
        )
    create_matches(session, program, round_, pairs, now)
    session.expire(round_)
    view = round_view(round_)
    view["matches_created"] = len(pairs)
    return view


def create_matches(
    session: Session, program: Program, round_: Round, pairs: Sequence[RoundPair], now: datetime
) -> None:
    """Match proposals for the round's pairs (the caller has the round locked)."""
    expiry = timedelta(days=full_settings(program)["proposal_expiry_days"])
    session.add_all(
        Match(
            program_id=program.id,
            round_id=round_.id,
            mentee_id=pair.mentee_id,
            mentor_id=pair.mentor_id,
            score=pair.score,
            breakdown=pair.breakdown,
            status="proposed",
            proposed_at=now,
            expires_at=now + expiry,
        )
        for pair in pairs
    )
    session.flush()


def _stale_pairs(
    session: Session,
    program: Program,
    round_: Round,
    pairs: Sequence[RoundPair],
    now: datetime,
) -> list[dict[str, Any]]:
    """Pairs of the round that the current state of the program no longer allows."""
    if not pairs:
        return []
    pool = matching.build_pool(session, program, round_.parameters, now)
    mentees = {m.id for m in pool.problem.mentees}
    mentor_rows = {m.id: m for m in pool.problem.mentors}
    new_load = Counter(p.mentor_id for p in pairs)
    stale: list[dict[str, Any]] = []
    reasons_of: dict[int, list[str]] = {}
    to_check: list[tuple[int, int]] = []
    for pair in pairs:
        reasons: list[str] = []
        mentor = mentor_rows.get(pair.mentor_id)
        if pair.mentee_id not in mentees:
            reasons.append(pool.excluded_mentees.get(pair.mentee_id, "mentee_unavailable"))
        if mentor is None:
            reasons.append("mentor_unavailable")
        elif mentor.paused:
            reasons.append("mentor_paused")
        elif mentor.current_load + new_load[pair.mentor_id] > mentor.capacity:
            reasons.append("mentor_full")
        reasons_of[pair.id] = reasons
        if not reasons:
            to_check.append((pair.mentee_id, pair.mentor_id))
    # Every hard rule again, on the program as it is now (one vectorised evaluation).
    failed = {
        (e.mentee_id, e.mentor_id): [r for r in e.failed_rules if r != "mentor_full"]
        for e in matcher.explain_pairs(pool.problem, to_check)
    }
    for pair in pairs:
        reasons = reasons_of[pair.id] or failed.get((pair.mentee_id, pair.mentor_id), [])
        if reasons:
            stale.append(
                {"mentee_id": pair.mentee_id, "mentor_id": pair.mentor_id, "reasons": reasons}
            )
    return stale


# --- export --------------------------------------------------------------------------------


def export_csv(session: Session, account: Account, program_id: int, round_id: int) -> str:
    round_ = _round(session, account, program_id, round_id)
    _require_results(round_)
    mentee, mentor = aliased(Participant), aliased(Participant)
    mentee_acc, mentor_acc = aliased(Account), aliased(Account)
    rows = session.execute(
        select(RoundPair, mentee_acc.display_name, mentor_acc.display_name, Match.status)
        .join(mentee, mentee.id == RoundPair.mentee_id)
        .join(mentee_acc, mentee_acc.id == mentee.account_id)
        .join(mentor, mentor.id == RoundPair.mentor_id)
        .join(mentor_acc, mentor_acc.id == mentor.account_id)
        .outerjoin(
            Match, (Match.round_id == RoundPair.round_id) & (Match.mentee_id == RoundPair.mentee_id)
        )
        .where(RoundPair.round_id == round_.id)
        .order_by(RoundPair.score.desc(), RoundPair.id)
    ).all()
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(
        ["round_id", "mentee_id", "mentee_name", "mentor_id", "mentor_name", "score", "pinned"]
        + [f"criterion_{c}" for c in matcher.CRITERIA]
        + ["match_status"]
    )
    for pair, mentee_name, mentor_name, status in rows:
        writer.writerow(
            [round_.id, pair.mentee_id, _cell(mentee_name), pair.mentor_id, _cell(mentor_name)]
            + [f"{pair.score:.6f}", "yes" if pair.pinned else "no"]
            + [f"{pair.breakdown.get(c, 0.0):.6f}" for c in matcher.CRITERIA]
            + [status or round_.status]
        )
    return out.getvalue()


def _cell(value: str) -> str:
    # Spreadsheets run cells starting with these as formulas (CSV injection).
    return "'" + value if value[:1] in ("=", "+", "-", "@", "\t", "\r") else value
