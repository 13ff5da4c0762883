"""Abuse limits on log-in and registration (Flask-Limiter).

Counters live in Redis when REDIS_URL is set, so the limits hold across gunicorn workers
and hosts; in memory otherwise (the embedded single-process setup).
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any, TypeVar

from flask import Flask, current_app, request
from flask_limiter import Limiter
from flask_limiter.util import get_remote_address

F = TypeVar("F", bound=Callable[..., Any])

limiter = Limiter(key_func=get_remote_address, headers_enabled=True)


#: One budget per address and one per account for every way of logging in (the API's
#: tokens, the console's form).
LOGIN_SCOPE = "login"
LOGIN_ACCOUNT_SCOPE = "login-account"


def login_key() -> str:
    """Per account being tried, whatever the address (credential stuffing), whether the
    email comes in a JSON body (the API) or a form (the console)."""
    body = request.get_json(silent=True)
    email = body.get("email") if isinstance(body, dict) else request.form.get("email")
    return f"login:{str(email or '').strip().lower()}"


def reset_key() -> str:
    """Per email asked for, whatever the address (no mail bombing of one person)."""
    body = request.get_json(silent=True)
    email = body.get("email") if isinstance(body, dict) else None
    return f"reset:{str(email or '').strip().lower()}"


def password_reset_limit() -> str:
    return str(_config("PASSWORD_RESET_RATE_LIMIT"))


def login_limit() -> str:
    return str(_config("LOGIN_RATE_LIMIT"))


def login_account_limit() -> str:
    return str(_config("LOGIN_ACCOUNT_RATE_LIMIT"))


def register_limit() -> str:
    return str(_config("REGISTER_RATE_LIMIT"))


def _config(key: str) -> object:
    return current_app.config[key]


def body_limit(config_key: str) -> Callable[[F], F]:
    """This view reads bodies up to the configured size (MAX_CONTENT_LENGTH elsewhere)."""

    def decorator(view: F) -> F:
        @functools.wraps(view)
        def wrapper(*args: Any, **kwargs: Any) -> Any:
            # Before anything reads the body (Flask 3.1: per request).
            request.max_content_length = int(current_app.config[config_key])
            return view(*args, **kwargs)

        return wrapper  # type: ignore[return-value]

    return decorator


def init_app(app: Flask) -> None:
    app.config.setdefault("RATELIMIT_STORAGE_URI", app.config.get("REDIS_URL") or "memory://")
    limiter.init_app(app)
