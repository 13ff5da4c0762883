"""Abuse limits on log-in, registration and joining (Flask-Limiter).

Counters live in Redis when REDIS_URL is set; without it, in the database on PostgreSQL
(`api.adapters.limit_counters`), so the limits hold across gunicorn workers either way;
in memory on SQLite (the embedded single-process setup: run one process there).

Log-in failures are counted per (account, address) (LOGIN_FAILURE_RATE_LIMIT), and per
account with a much higher ceiling (LOGIN_ACCOUNT_RATE_LIMIT) that only addresses which
have failed on that account are held to: nobody can lock a person out by guessing, as a
correct password from an address that has not failed is never refused.
"""

from __future__ import annotations

import functools
import math
import time
from collections.abc import Callable
from typing import Any, TypeVar

from flask import Flask, current_app, g, request
from flask_limiter import Limiter
from flask_limiter.util import get_remote_address
from limits import parse_many
from limits.strategies import FixedWindowRateLimiter

from api.errors import TooManyRequests

F = TypeVar("F", bound=Callable[..., Any])

limiter = Limiter(key_func=get_remote_address, headers_enabled=True)


#: One budget per address for every way of logging in (the API's tokens, the console's
#: form); failures are counted per (account, address) by `LoginGuard`.
LOGIN_SCOPE = "login"


def reset_key() -> str:
    """Per email asked for, whatever the address (no mail bombing of one person)."""
    body = request.get_json(silent=True)
    email = body.get("email") if isinstance(body, dict) else None
    return f"reset:{str(email or '').strip().lower()}"


def password_reset_limit() -> str:
    return str(_config("PASSWORD_RESET_RATE_LIMIT"))


def login_limit() -> str:
    return str(_config("LOGIN_RATE_LIMIT"))


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


def join_limit() -> str:
    return str(_config("JOIN_RATE_LIMIT"))


def join_account_limit() -> str:
    return str(_config("JOIN_ACCOUNT_RATE_LIMIT"))


def account_key() -> str:
    """Per calling account (the view's policy has authenticated it)."""
    return f"account:{g.get('account_id', '-')}"


class LoginGuard:
    """The failure limits of one log-in attempt (see the module's docstring)."""

    def __init__(self, email: str) -> None:
        account = str(email).strip().lower()
        prefix = str(current_app.config.get("RATELIMIT_KEY_PREFIX") or "")
        self.pair = f"{prefix}login-failures/{account}/{get_remote_address()}"
        self.account = f"{prefix}login-failures/{account}"
        self.enabled = bool(current_app.config.get("RATELIMIT_ENABLED", True))
        if not self.enabled:
            return  # (the limiter has no storage then)
        self.strategy = FixedWindowRateLimiter(limiter.storage)
        self.pair_limits = parse_many(str(_config("LOGIN_FAILURE_RATE_LIMIT")))
        self.account_limits = parse_many(str(_config("LOGIN_ACCOUNT_RATE_LIMIT")))

    def check(self) -> None:
        """429 when this address has failed too often on this account, or has failed
        at all while the account is at its ceiling."""
        if not self.enabled:
            return
        pair_failed = False
        for item in self.pair_limits:
            stats = self.strategy.get_window_stats(item, self.pair)
            pair_failed = pair_failed or stats.remaining < item.amount
            if stats.remaining <= 0:
                raise _too_many(stats.reset_time)
        if not pair_failed:
            return  # an address that has not failed: never refused here
        for item in self.account_limits:
            stats = self.strategy.get_window_stats(item, self.account)
            if stats.remaining <= 0:
                raise _too_many(stats.reset_time)

    def failed(self) -> None:
        if not self.enabled:
            return
        for item in self.pair_limits:
            self.strategy.hit(item, self.pair)
        for item in self.account_limits:
            self.strategy.hit(item, self.account)


def _too_many(reset_time: float) -> TooManyRequests:
    wait = max(1, math.ceil(reset_time - time.time()))
    return TooManyRequests(
        f"Too many failed log-ins; try again in {wait} seconds.",
        headers={"Retry-After": str(wait)},
    )


def storage_uri(config: Any) -> tuple[str, dict[str, Any]]:
    """Where the counters live: Redis, else PostgreSQL (the service's database), else
    this process's memory (SQLite: one process)."""
    if config.get("REDIS_URL"):
        return str(config["REDIS_URL"]), {}
    url = str(config.get("DATABASE_URL") or "")
    if url.startswith("postgresql"):
        return "peermatch+sql://", {"database_url": url}
    return "memory://", {}


def init_app(app: Flask) -> None:
    import api.adapters.limit_counters  # noqa: F401  (registers peermatch+sql://)

    uri, options = storage_uri(app.config)
    app.config.setdefault("RATELIMIT_STORAGE_URI", uri)
    if app.config["RATELIMIT_STORAGE_URI"] == uri:
        app.config.setdefault("RATELIMIT_STORAGE_OPTIONS", options)
    limiter.init_app(app)
