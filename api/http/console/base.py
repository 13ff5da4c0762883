"""The console's frame: its blueprint, who may open a page, the answers' headers, CSRF.

Pages are server-rendered; the only script is htmx (vendored, served from the console's
own static folder) for the progress of a running round, and every page works without
it. The Content-Security-Policy allows the service's own stylesheet and scripts only:
nothing inline, nothing from elsewhere, no framing.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar

from flask import (
    Blueprint,
    Response,
    g,
    redirect,
    render_template,
    request,
    send_from_directory,
    url_for,
)
from flask import session as cookie
from flask_wtf.csrf import CSRFError, CSRFProtect
from werkzeug.exceptions import HTTPException

from api.domain.errors import IllegalTransition, RuleViolation
from api.errors import ApiError, Unauthorized
from api.http import policy as policies
from api.http.console import text

F = TypeVar("F", bound=Callable[..., Any])

blp = Blueprint(
    "console",
    __name__,
    url_prefix="/console",
    template_folder="templates",
)
STATIC = Path(__file__).resolve().parent / "static"
csrf = CSRFProtect()

#: Where the console keeps the caller's bearer token: the signed session cookie
#: (HttpOnly, SameSite=Lax, Secure outside debug). Logging out revokes the token.
TOKEN_KEY = "console_token"

CSP = (
    "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self'; "
    "connect-src 'self'; form-action 'self'; base-uri 'none'; frame-ancestors 'none'"
)


def console_policy(name: str) -> Callable[[F], F]:
    """Declare who may open a console page, as `api.http.policy.policy` does for the API
    (the same policies, the same checks); the token comes from the session cookie."""
    if name not in policies.POLICIES:
        raise ValueError(f"unknown policy {name!r}")

    def decorator(view: F) -> F:
        @functools.wraps(view)
        def wrapper(*args: Any, **kwargs: Any) -> Any:
            if name != "anonymous":
                secret = cookie.get(TOKEN_KEY)
                if not isinstance(secret, str) or not secret:
                    raise Unauthorized(text.SESSION_NEEDED)
                account, token = policies.authenticate_secret(secret)
                g.account, g.token, g.account_id = account, token, account.id
                policies.enforce(name, account, kwargs)
            return view(*args, **kwargs)

        wrapper._policy = name  # type: ignore[attr-defined]
        wrapper._uses_database = True  # type: ignore[attr-defined]
        return wrapper  # type: ignore[return-value]

    return decorator


def page(template: str, status: int = 200, **context: Any) -> Response:
    """A console page (the layout adds navigation for the program in `program`)."""
    body = render_template(f"console/{template}.html", t=text, **context)
    return Response(body, status=status, mimetype="text/html")


@blp.get("/static/<path:filename>")
@console_policy("anonymous")
def static_file(filename: str) -> Response:
    """The console's stylesheet and its one script (htmx), from the package."""
    return send_from_directory(STATIC, filename, max_age=3600)


@blp.before_request
def _check_csrf() -> None:
    # Every form of the console carries the session's CSRF token (Flask-WTF).
    if request.method not in ("GET", "HEAD", "OPTIONS"):
        csrf.protect()


@blp.after_request
def _headers(response: Response) -> Response:
    response.headers["Content-Security-Policy"] = CSP
    response.headers["X-Frame-Options"] = "DENY"
    response.headers["X-Content-Type-Options"] = "nosniff"
    response.headers["Referrer-Policy"] = "same-origin"
    if request.endpoint != "console.static_file":
        # Pages carry personal data: no shared or browser caching.
        response.headers["Cache-Control"] = "no-store"
    return response


def _error_page(status: int, title: str, detail: str, **extra: Any) -> Response:
    return page("error", status, title=title, detail=detail, **extra)


@blp.errorhandler(Unauthorized)
def _login_first(_exc: Unauthorized) -> Response:
    cookie.pop(TOKEN_KEY, None)
    target = request.full_path if request.method == "GET" else None
    return redirect(url_for("console.login_form", next=target))  # type: ignore[return-value]


@blp.errorhandler(CSRFError)
def _csrf_failed(_exc: CSRFError) -> Response:
    return _error_page(400, text.ERROR_TITLE, text.CSRF_FAILED)


@blp.errorhandler(ApiError)
def _api_error(exc: ApiError) -> Response:
    titles = {403: text.FORBIDDEN_TITLE, 404: text.NOT_FOUND_TITLE}
    return _error_page(
        exc.status, titles.get(exc.status, text.ERROR_TITLE), exc.detail, errors=exc.errors
    )


@blp.errorhandler(RuleViolation)
def _rule_violation(exc: RuleViolation) -> Response:
    return _error_page(422, text.ERROR_TITLE, exc.detail, errors=exc.errors)


@blp.errorhandler(IllegalTransition)
def _illegal(exc: IllegalTransition) -> Response:
    return _error_page(
        409,
        text.ERROR_TITLE,
        f"This {exc.entity.lower()} is {exc.status}; it cannot be {exc.event}.",
    )


@blp.errorhandler(HTTPException)
def _http_error(exc: HTTPException) -> Response:
    if exc.code == 429:
        return _error_page(429, text.ERROR_TITLE, text.LOGIN_TOO_MANY)
    return _error_page(exc.code or 500, exc.name, exc.description or exc.name)
