"""The service's few HTML pages: what the links of its messages open.

A GET never changes anything (mail scanners and link previews fetch links): it shows
what the link is for, with a form whose button POSTs the link's single-use token. The
pages work without JavaScript and run none: a strict Content-Security-Policy allows
only the service's own stylesheet and forms posting back to the service; nothing is
inline. Links carry their token in the query string, which the access log never writes,
and the pages send no Referer, so the token does not leak to other sites.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from flask import Blueprint, Response, request, send_from_directory, url_for

from api.adapters import templates
from api.domain.vocabulary import OPEN_MATCH_STATUSES, LinkPurpose, ProgramRole, Side
from api.errors import ApiError
from api.http import context
from api.http.database import session
from api.http.policy import policy
from api.services import (
    invitations,
    links,
    load,
    messages,
    passwords,
    preferences,
    relationships,
)

STATIC = Path(templates.__file__).resolve().parents[1] / "templates" / "pages" / "static"

blp = Blueprint("pages", __name__, url_prefix="/pages")

CSP = (
    "default-src 'none'; style-src 'self'; img-src 'self'; form-action 'self'; "
    "base-uri 'none'; frame-ancestors 'none'"
)


def _page(name: str, status: int = 200, **context_: Any) -> Response:
    context_.setdefault("css_url", url_for("pages.static_file", filename="page.css"))
    body = templates.render(f"pages/{name}.html", context_)
    response = Response(body, status=status, mimetype="text/html")
    response.headers["Content-Security-Policy"] = CSP
    response.headers["Cache-Control"] = "no-store"
    response.headers["Referrer-Policy"] = "no-referrer"
    response.headers["X-Content-Type-Options"] = "nosniff"
    response.headers["X-Frame-Options"] = "DENY"
    return response


def _message(title: str, *lines: str, status: int = 200, error: bool = False) -> Response:
    return _page("message", status, title=title, lines=lines, error=error)


def _problem(exc: ApiError) -> Response:
    if isinstance(exc, links.LinkInvalid):
        return _message("This link no longer works", exc.detail, status=410, error=True)
    return _message("That did not work", exc.detail, status=exc.status, error=True)


def _token() -> str:
    token = (request.form.get("token") or request.args.get("token") or "").strip()
    if not 20 <= len(token) <= 200:
        raise ApiError("This link is incomplete: open it exactly as the message gave it.")
    return token


@blp.get("/static/<path:filename>")
@policy("anonymous")
def static_file(filename: str) -> Response:
    """The pages' stylesheet."""
    return send_from_directory(STATIC, filename, max_age=3600)


# --- answering a proposal ---------------------------------------------------------------


def _choice() -> str:
    choice = request.form.get("choice") or request.args.get("choice") or ""
    if choice not in (relationships.ACCEPT, relationships.DECLINE):
        raise ApiError("This link is incomplete: it says neither accept nor decline.")
    return choice


@blp.get("/answer")
@policy("anonymous")
def answer_form() -> Response:
    """Confirm an answer to a proposal (nothing changes until the button is pressed)."""
    try:
        token, choice = _token(), _choice()
        view = relationships.by_link(session(), token)
    except ApiError as exc:
        return _problem(exc)
    partner = view.partner.display_name
    if view.match.status not in OPEN_MATCH_STATUSES:
        return _message(
            "Nothing to answer any more", f"This proposal with {partner} is {view.match.status}."
        )
    other = relationships.DECLINE if choice == relationships.ACCEPT else relationships.ACCEPT
    me = view.match.mentee if view.side == Side.MENTEE else view.match.mentor
    return _page(
        "answer",
        title="Accept the match?" if choice == relationships.ACCEPT else "Decline the match?",
        token=token,
        choice=choice,
        partner_name=partner,
        my_side=view.side.value,
        program_name=me.program.name,
        deadline=messages.local_time(view.match.expires_at, me.timezone),
        action=url_for("pages.answer"),
        other_url=url_for("pages.answer_form", token=token, choice=other),
    )


@blp.post("/answer")
@policy("anonymous")
def answer() -> Response:
    """Accept or decline with the link's single-use token."""
    try:
        view = relationships.answer_by_link(session(), _token(), _choice())
    except ApiError as exc:
        return _problem(exc)
    partner = view.partner.display_name
    if view.match.status == "declined":
        return _message(
            "Declined",
            f"You declined the match with {partner}. Thank you for "
            "answering: you stay in the pool for the next round.",
        )
    if view.match.status == "active":
        return _message(
            "You are matched",
            f"You and {partner} have both accepted: your "
            "relationship has started. A message with the details is on its way.",
        )
    return _message(
        "Accepted",
        f"You accepted the match with {partner}. It starts when "
        f"{partner} accepts too; we will let you know.",
    )


# --- invitations and password resets ----------------------------------------------------

_ROLE_TEXT = {
    "mentor": "a mentor",
    "mentee": "a mentee",
    "both": "mentor and mentee",
    ProgramRole.COORDINATOR.value: "a coordinator",
}


@blp.get("/invitation")
@policy("anonymous")
def invitation_form() -> Response:
    """Accept an invitation: your name and password."""
    try:
        token = _token()
        link, account, program = invitations.by_link(session(), token)
    except ApiError as exc:
        return _problem(exc)
    return _page(
        "invitation",
        title=f"Join {program.name}",
        token=token,
        program_name=program.name,
        role_text=_ROLE_TEXT.get(link.scope or "", "a participant"),
        display_name=account.display_name,
        has_password=bool(account.password_hash),
        action=url_for("pages.invitation"),
    )


@blp.post("/invitation")
@policy("anonymous")
def invitation() -> Response:
    """Take the invitation."""
    password = request.form.get("password", "")
    name = (request.form.get("display_name") or "").strip()[:120] or None
    try:
        if not 10 <= len(password) <= 1024:
            raise ApiError("The password needs at least 10 characters.")
        invitations.accept(
            session(),
            token=_token(),
            password=password,
            display_name=name,
            token_ttl=context.token_ttl(),
        )
    except ApiError as exc:
        return _problem(exc)
    return _message(
        "Welcome", "You have joined. Log in with your email and password (POST /api/v1/tokens)."
    )


@blp.get("/password-reset")
@policy("anonymous")
def password_reset_form() -> Response:
    """Choose a new password."""
    try:
        token = _token()
        links.peek(session(), token, LinkPurpose.PASSWORD_RESET)
    except ApiError as exc:
        return _problem(exc)
    return _page(
        "password_reset",
        title="Choose a new password",
        token=token,
        action=url_for("pages.password_reset"),
    )


@blp.post("/password-reset")
@policy("anonymous")
def password_reset() -> Response:
    """Set the new password."""
    password = request.form.get("password", "")
    try:
        if not 10 <= len(password) <= 1024:
            raise ApiError("The password needs at least 10 characters.")
        passwords.confirm(session(), token=_token(), password=password)
    except ApiError as exc:
        return _problem(exc)
    return _message("Password changed", "Your new password is set; log in with it again.")


# --- unsubscribing (RFC 8058 one-click, or the page's button) ---------------------------


@blp.get("/unsubscribe")
@policy("anonymous")
def unsubscribe_form() -> Response:
    """Confirm turning off a kind of optional message."""
    try:
        token = _token()
        link = links.peek(session(), token, LinkPurpose.UNSUBSCRIBE)
    except ApiError as exc:
        return _problem(exc)
    what = (link.scope or "these messages").replace("_", " ")
    return _page(
        "unsubscribe",
        title=f"Turn off {what}?",
        token=token,
        what=what,
        action=url_for("pages.unsubscribe", token=token),
    )


@blp.post("/unsubscribe")
@policy("anonymous")
def unsubscribe() -> Response:
    """Turn it off (the one-click POST of mail clients, or the page's button)."""
    try:
        link = preferences.unsubscribe(session(), _token())
    except ApiError as exc:
        return _problem(exc)
    what = (link.scope or "these messages").replace("_", " ")
    return _message(
        f"{what.capitalize()} turned off",
        f"You will get no more {what}. Turn them on again with PATCH "
        "/api/v1/me/notification-settings.",
    )


# --- the capacity question (load and burnout) -------------------------------------------


@blp.get("/capacity")
@policy("anonymous")
def capacity_form() -> Response:
    """Confirm lowering your capacity by one."""
    try:
        token = _token()
        participant, lowered = load.capacity_by_link(session(), token)
    except ApiError as exc:
        return _problem(exc)
    return _page(
        "capacity",
        title="Take fewer mentees?",
        token=token,
        program_name=participant.program.name,
        capacity=lowered + 1,
        lowered=lowered,
        action=url_for("pages.capacity"),
    )


@blp.post("/capacity")
@policy("anonymous")
def capacity() -> Response:
    """Lower the capacity with the link's single-use token."""
    try:
        _, lowered = load.lower_by_link(session(), _token())
    except ApiError as exc:
        return _problem(exc)
    return _message(
        "Capacity lowered",
        f"You now take at most {lowered} mentees at once. Thank you for saying how it "
        "weighs on you; change it again in your profile whenever you like.",
    )
