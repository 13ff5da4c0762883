"""The console's pages: one view per page or form, each calling the API's own services.

The views are as thin as the API's: a policy, the form read with the API's own
schemas, one service call, a template. Forms answer with a redirect (303) to the page
that shows the outcome, with a one-line notice.
"""

from __future__ import annotations

from typing import Any

from flask import Response, flash, redirect, request, url_for
from flask import session as cookie
from marshmallow import ValidationError
from werkzeug.datastructures import MultiDict

from api.domain.settings import OVERRIDABLE, ProgramSettings
from api.domain.vocabulary import (
    BUSY_ROUND_STATUSES,
    CRITERIA,
    LIVE_MATCH_STATUSES,
    OPEN_MATCH_STATUSES,
    ConstraintKind,
    MatchStatus,
    Objective,
    ParticipantStatus,
    Role,
    RoundStatus,
    values,
)
from api.errors import Conflict, Unauthorized, ValidationFailed
from api.http import context, csv_rows, limits
from api.http.console import charts, text
from api.http.console.base import TOKEN_KEY, blp, console_policy, page
from api.http.database import session
from api.http.limits import limiter, login_limit
from api.http.policy import current_account, current_token
from api.http.problems import flatten_messages
from api.http.schemas.matches import CoordinatorCloseSchema
from api.http.schemas.profiles import ParticipantQuerySchema, ParticipantSchema
from api.http.schemas.rounds import RoundStartSchema
from api.services import (
    access,
    accounts,
    attention,
    constraints,
    csv_import,
    funnel,
    participants,
    program_matches,
    programs,
    publishing,
    round_review,
    round_runs,
)

PAGE_PAIRS = 50
PAGE_PEOPLE = 50
PAGE_MATCHES = 50


def _see(endpoint: str, **values_: Any) -> Response:
    return redirect(url_for(endpoint, **values_), code=303)  # type: ignore[return-value]


def _invalid(err: ValidationError) -> ValidationFailed:
    return ValidationFailed(flatten_messages(err.messages))


def _form(schema: Any, data: dict[str, Any]) -> dict[str, Any]:
    try:
        loaded: dict[str, Any] = schema.load(data)
    except ValidationError as err:
        raise _invalid(err) from err
    return loaded


def _safe_next(target: str | None) -> str | None:
    # Only a page of the console itself: never another site (an open redirect).
    if target and target.startswith("/console/") and not target.startswith("//"):
        return target
    return None


# --- log in, log out ---------------------------------------------------------------------


@blp.get("/login")
@console_policy("anonymous")
def login_form() -> Response:
    """The log-in form."""
    return page("login", next=_safe_next(request.args.get("next")))


@blp.post("/login")
@console_policy("anonymous")
@limiter.shared_limit(login_limit, scope=limits.LOGIN_SCOPE)
def login() -> Response:
    """Log in with email and password: the same accounts, limits and failure counting
    as the API's tokens."""
    email = (request.form.get("email") or "").strip()[:254]
    password = (request.form.get("password") or "")[:1024]
    target = _safe_next(request.form.get("next"))
    guard = limits.LoginGuard(email)
    guard.check()
    try:
        if not email or not password:
            raise Unauthorized(text.LOGIN_FAILED)
        issued = accounts.log_in(
            session(), email=email, password=password, token_ttl=context.token_ttl()
        )
    except Unauthorized:
        session().rollback()
        guard.failed()
        return page("login", 401, error=text.LOGIN_FAILED, email=email, next=target)
    cookie.clear()  # a new session for the new log-in (no fixation)
    cookie[TOKEN_KEY] = issued.token
    return redirect(target or url_for("console.program_list"), code=303)  # type: ignore[return-value]


@blp.post("/logout")
@console_policy("authenticated")
def logout() -> Response:
    """Log out: the session's token is revoked, the cookie emptied."""
    accounts.revoke(session(), current_token())
    cookie.clear()
    flash(text.LOGGED_OUT)
    return _see("console.login_form")


# --- programs ----------------------------------------------------------------------------


@blp.get("/")
@console_policy("authenticated")
def program_list() -> Response:
    """The programs the caller coordinates (and takes part in)."""
    db, account = session(), current_account()
    rows = []
    for program in programs.list_visible(db, account):
        rows.append(
            {
                "program": program,
                "role": program.my_role.value,
                "coordinates": access.is_coordinator(db, account, program.id),
                "count": programs.participant_count(db, program.id),
            }
        )
    return page("programs", rows=rows)


def _program(program_id: int) -> Any:
    return programs.get(session(), current_account(), program_id)


@blp.get("/programs/<int:program_id>")
@console_policy("coordinator")
def program_home(program_id: int) -> Response:
    """Program home: the funnel as a chart, the attention list with its actions."""
    db, account = session(), current_account()
    f = funnel.funnel(db, account, program_id)
    stages = [
        ("joined", f.participants["joined"]),
        ("profile_complete", f.participants["profile_complete"]),
        ("waiting", f.waiting),
        ("proposed", f.matches["proposed"] + f.matches["accepted"]),
        ("active", f.matches["active"]),
        ("ended", f.matches["ended"]),
    ]
    chart = charts.bars(text.FUNNEL_CHART_LABEL, [(text.FUNNEL_STAGES[k], v) for k, v in stages])
    items = attention.needs_attention(db, account, program_id, weeks=3, low_rating=2)
    rounds = round_review.list_rounds(db, account, program_id)
    return page(
        "home",
        program=_program(program_id),
        funnel=f,
        chart=chart,
        items=items,
        latest=rounds[0] if rounds else None,
        active=MatchStatus.ACTIVE,
    )


# --- participants ------------------------------------------------------------------------


@blp.get("/programs/<int:program_id>/participants")
@console_policy("coordinator")
def participant_list(program_id: int) -> Response:
    """The program's participants, filtered by role, status and tag."""
    args = {k: v for k, v in request.args.items() if v and k in ("role", "status", "tag", "cursor")}
    query = _form(ParticipantQuerySchema(), {**args, "limit": PAGE_PEOPLE})
    found = participants.list_for_coordinator(session(), current_account(), program_id, query)
    program = _program(program_id)
    return page(
        "participants",
        program=program,
        people=found.items,
        next_cursor=found.next_cursor,
        filters=args,
        roles=values(Role),
        statuses=values(ParticipantStatus),
        tags=program.taxonomy,
    )


@blp.get("/programs/<int:program_id>/participants/<int:participant_id>")
@console_policy("coordinator")
def participant_profile(program_id: int, participant_id: int) -> Response:
    """One participant's profile, exactly as the API shows it to coordinators."""
    person = participants.get_for_coordinator(
        session(), current_account(), program_id, participant_id
    )
    shown = ParticipantSchema().dump(person)
    fields_ = {**shown, **(shown.get("profile") or {})}
    return page("profile", program=_program(program_id), person=fields_)


@blp.get("/programs/<int:program_id>/participants/import")
@console_policy("coordinator")
def import_form(program_id: int) -> Response:
    """The CSV import form."""
    return page("import", program=_program(program_id))


@blp.post("/programs/<int:program_id>/participants/import")
@console_policy("coordinator")
@limits.body_limit("IMPORT_MAX_BYTES")
def import_file(program_id: int) -> Response:
    """Import a CSV file, all or nothing; a refused file shows each row's errors."""
    program = _program(program_id)
    upload = request.files.get("file")
    if upload is None or not upload.filename:
        return page("import", 422, program=program, error=text.IMPORT_NO_FILE)
    invite, dry_run = bool(request.form.get("invite")), bool(request.form.get("dry_run"))
    rows: list[Any] = []
    try:
        rows = csv_rows.read_upload(upload)
        summary = csv_import.import_rows(
            session(), current_account(), program_id, rows, invite=invite, dry_run=dry_run
        )
    except ValidationFailed as exc:
        by_row = {r["row"]: r["errors"] for r in exc.extra.get("rows", [])}
        return page(
            "import",
            422,
            program=program,
            error=exc.detail,
            file_errors=(exc.errors or {}).get("file") if not by_row else None,
            rows=[(r, by_row.get(r.number)) for r in rows],
        )
    message = text.IMPORT_CHECKED if dry_run else text.IMPORT_DONE
    flash(message.format(**vars(summary)))
    return _see("console.participant_list", program_id=program_id)


# --- rounds ------------------------------------------------------------------------------


def _setting_fields(settings: ProgramSettings) -> list[dict[str, Any]]:
    out = []
    for name in OVERRIDABLE:
        if name in ("objective", "weights"):
            continue
        value = getattr(settings, name)
        kind = "checkbox" if isinstance(value, bool) else "number"
        step = "any" if isinstance(value, float) else "1"
        out.append({"name": name, "value": value, "kind": kind, "step": step})
    return out


@blp.get("/programs/<int:program_id>/rounds")
@console_policy("coordinator")
def round_list(program_id: int) -> Response:
    """The program's rounds, and the form that starts one."""
    db, account = session(), current_account()
    rounds = round_review.list_rounds(db, account, program_id)
    program = _program(program_id)
    settings = ProgramSettings.from_stored(program.program.settings)
    return page(
        "rounds",
        program=program,
        rounds=rounds,
        settings=settings,
        objectives=values(Objective),
        setting_fields=_setting_fields(settings),
        criteria=CRITERIA,
        errors=None,
    )


def _overrides(form: MultiDict[str, str], settings: ProgramSettings) -> dict[str, Any]:
    """The start form as the API's round-start body: only what differs from the program."""
    data: dict[str, Any] = {}
    if form.get("objective"):
        data["objective"] = form["objective"]
    weights = {c: form[f"weight_{c}"] for c in CRITERIA if form.get(f"weight_{c}")}
    if weights:
        data["weights"] = weights
    for field in _setting_fields(settings):
        name = field["name"]
        if field["kind"] == "checkbox":
            data[name] = bool(form.get(name))
        elif form.get(name, "") != "":
            data[name] = form[name]
    loaded = _form(RoundStartSchema(), data)
    # Unchanged values are no override: the round keeps following the program's setting.
    return {k: v for k, v in loaded.items() if k == "objective" or v != getattr(settings, k, None)}


@blp.post("/programs/<int:program_id>/rounds")
@console_policy("coordinator")
def round_start(program_id: int) -> Response:
    """Start a round with the form's objective and overrides."""
    db, account = session(), current_account()
    program = _program(program_id)
    overrides = _overrides(request.form, ProgramSettings.from_stored(program.program.settings))
    round_ = round_runs.start(
        db, account, program_id, overrides, max_round_size=context.max_round_size()
    )
    round_runs.dispatch(db, round_.id, context.round_queue())
    return _see("console.round_page", program_id=program_id, round_id=round_.id)


@blp.get("/programs/<int:program_id>/rounds/<int:round_id>")
@console_policy("coordinator")
def round_page(program_id: int, round_id: int) -> Response:
    """A round: its progress while it runs, its review once it has results."""
    db, account = session(), current_account()
    round_ = round_review.get(db, account, program_id, round_id)
    program = _program(program_id)
    if round_.status in BUSY_ROUND_STATUSES or round_.status == RoundStatus.FAILED:
        return page(
            "progress", program=program, round=round_, failed=round_.status == RoundStatus.FAILED
        )
    sort = request.args.get("sort", "-score")
    if sort not in text.SORT_BY:
        sort = "-score"
    try:
        offset = min(10**7, max(0, int(request.args.get("offset", "0"))))
    except ValueError:
        offset = 0
    report = round_review.report(db, account, program_id, round_id)
    found = round_review.list_pairs(
        db, account, program_id, round_id, {"sort": sort, "limit": PAGE_PAIRS, "offset": offset}
    )
    stats = report.stats or {}
    load = (stats.get("mentor_load") or {}).get("histogram") or {}
    return page(
        "review",
        program=program,
        round=round_,
        stats=stats,
        pairs=found.items,
        total=found.total,
        offset=offset,
        page_size=PAGE_PAIRS,
        sort=sort,
        criteria=CRITERIA,
        histogram=charts.bars(
            text.SCORE_HISTOGRAM_LABEL,
            charts.score_bands(round_review.scores(db, account, program_id, round_id)),
        ),
        load=charts.bars(
            text.MENTOR_LOAD_LABEL,
            [
                (text.MENTEES_PER_MENTOR.format(n=k), int(v))
                for k, v in sorted(load.items(), key=lambda kv: int(kv[0]))
            ],
        ),
        unmatched=round_review.list_unmatched(db, account, program_id, round_id),
        open=round_.status == RoundStatus.PROPOSED,
    )


@blp.get("/programs/<int:program_id>/rounds/<int:round_id>/progress")
@console_policy("coordinator")
def round_progress(program_id: int, round_id: int) -> Response:
    """The progress part of a running round's page (htmx polls it); done: go to the round."""
    round_ = round_review.get(session(), current_account(), program_id, round_id)
    target = url_for("console.round_page", program_id=program_id, round_id=round_id)
    if round_.status not in BUSY_ROUND_STATUSES:
        if request.headers.get("HX-Request"):
            response = Response("", 200)
            response.headers["HX-Redirect"] = target
            return response
        return redirect(target, code=303)  # type: ignore[return-value]
    return page("_progress", round=round_, program_id=program_id)


@blp.post("/programs/<int:program_id>/constraints")
@console_policy("coordinator")
def constraint_add(program_id: int) -> Response:
    """Pin or forbid a pair from a round's review."""
    kind = request.form.get("kind", "")
    try:
        data = {
            "kind": ConstraintKind(kind).value,
            "mentee_id": int(request.form.get("mentee_id", "")),
            "mentor_id": int(request.form.get("mentor_id", "")),
            "note": "",
        }
    except ValueError as exc:
        raise ValidationFailed({"kind": ["Pin or forbid a pair of this program."]}) from exc
    made = constraints.add(session(), current_account(), program_id, data)
    db = session()
    names = {
        "mentee": participants.get_for_coordinator(
            db, current_account(), program_id, made.mentee_id
        ).account.display_name,
        "mentor": participants.get_for_coordinator(
            db, current_account(), program_id, made.mentor_id
        ).account.display_name,
    }
    done = text.PINNED_DONE if made.kind == ConstraintKind.PIN else text.FORBIDDEN_DONE
    flash(done.format(**names))
    back = _safe_next(request.form.get("next"))
    if back:
        return redirect(back, code=303)  # type: ignore[return-value]
    return _see("console.round_list", program_id=program_id)


@blp.post("/programs/<int:program_id>/rounds/<int:round_id>/discard")
@console_policy("coordinator")
def round_discard(program_id: int, round_id: int) -> Response:
    """Discard a round that will not be published."""
    round_runs.discard(session(), current_account(), program_id, round_id)
    flash(text.DISCARDED.format(id=round_id))
    return _see("console.round_list", program_id=program_id)


@blp.get("/programs/<int:program_id>/rounds/<int:round_id>/publish")
@console_policy("coordinator")
def publish_confirm(program_id: int, round_id: int) -> Response:
    """What publishing will do, and the button that does it."""
    db, account = session(), current_account()
    report = round_review.report(db, account, program_id, round_id)
    program = _program(program_id)
    stats = report.stats or {}
    return page(
        "publish",
        program=program,
        round=report.round,
        pairs=stats.get("matched_count", 0),
        unmatched=len(report.round.unmatched or []),
        days=ProgramSettings.from_stored(program.program.settings).proposal_expiry_days,
        stale=None,
    )


@blp.post("/programs/<int:program_id>/rounds/<int:round_id>/publish")
@console_policy("coordinator")
def publish(program_id: int, round_id: int) -> Response:
    """Publish: the pairs become proposals, all or none (stale pairs: nothing)."""
    db, account = session(), current_account()
    try:
        done = publishing.publish(db, account, program_id, round_id, None)
    except Conflict as exc:
        if "stale_pairs" not in exc.extra:
            raise
        report = round_review.report(db, account, program_id, round_id)
        return page(
            "publish",
            409,
            program=_program(program_id),
            round=report.round,
            pairs=0,
            unmatched=0,
            days=0,
            stale=exc.extra["stale_pairs"],
        )
    flash(text.PUBLISHED.format(id=round_id, count=done.matches_created))
    return _see("console.match_list", program_id=program_id)


# --- matches -----------------------------------------------------------------------------


@blp.get("/programs/<int:program_id>/matches")
@console_policy("coordinator")
def match_list(program_id: int) -> Response:
    """The program's matches: live ones by default, with their last check-in."""
    show = "all" if request.args.get("show") == "all" else "live"
    query: dict[str, Any] = {"limit": PAGE_MATCHES}
    if show == "live":
        query["status"] = sorted(LIVE_MATCH_STATUSES)
    if request.args.get("cursor"):
        query["cursor"] = request.args["cursor"]
    found = program_matches.list_matches(session(), current_account(), program_id, query)
    return page(
        "matches",
        program=_program(program_id),
        matches=found.items,
        next_cursor=found.next_cursor,
        show=show,
        open_statuses=OPEN_MATCH_STATUSES,
        active=MatchStatus.ACTIVE,
    )


def _close(program_id: int, match_id: int, how: str) -> Response:
    data = _form(CoordinatorCloseSchema(), {"reason": (request.form.get("reason") or "").strip()})
    service = program_matches.end if how == "end" else program_matches.cancel
    closed = service(session(), current_account(), program_id, match_id, data["reason"])
    names = {
        "mentee": closed.mentee.account.display_name,
        "mentor": closed.mentor.account.display_name,
    }
    flash((text.ENDED if how == "end" else text.CANCELLED).format(**names))
    back = _safe_next(request.form.get("next"))
    if back:
        return redirect(back, code=303)  # type: ignore[return-value]
    return _see("console.match_list", program_id=program_id)


@blp.post("/programs/<int:program_id>/matches/<int:match_id>/end")
@console_policy("coordinator")
def match_end(program_id: int, match_id: int) -> Response:
    """End an active match (the partners are told)."""
    return _close(program_id, match_id, "end")


@blp.post("/programs/<int:program_id>/matches/<int:match_id>/cancel")
@console_policy("coordinator")
def match_cancel(program_id: int, match_id: int) -> Response:
    """Cancel a proposal (the partners are told)."""
    return _close(program_id, match_id, "cancel")

