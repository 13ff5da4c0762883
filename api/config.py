"""Configuration, read from environment variables in this one place (house rule 5)."""

from __future__ import annotations

import os
import secrets
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

INSTANCE_DIR = Path(os.environ.get("PEERMATCH_INSTANCE_DIR", Path.cwd() / "instance"))


def _int(name: str, default: int) -> int:
    raw = os.environ.get(name)
    if raw is None or raw == "":
        return default
    try:
        return int(raw)
    except ValueError as exc:
        raise RuntimeError(f"environment variable {name} must be an integer, got {raw!r}") from exc


def round_job_timeout(max_round_size: int) -> int:
    """RQ's time limit for one round of up to `max_round_size` mentees: ten minutes of
    headroom plus 20 ms a mentee (a 100,000-mentee round takes three to four minutes on
    the README's machine; this gives it 2,600 s; the default 20,000 gets 1,000 s)."""
    return 600 + max(0, max_round_size) // 50


def _database_url() -> str:
    url = os.environ.get("DATABASE_URL")
    if url:
        # Hosted platforms hand out postgres:// URLs; SQLAlchemy wants an explicit driver.
        if url.startswith("postgres://"):
            url = "postgresql+psycopg://" + url[len("postgres://") :]
        elif url.startswith("postgresql://"):
            url = "postgresql+psycopg://" + url[len("postgresql://") :]
        return url
    return f"sqlite:///{INSTANCE_DIR / 'peermatch.sqlite3'}"


def _secret_key() -> str:
    key = os.environ.get("SECRET_KEY")
    if key:
        return key
    # Tokens are opaque random values stored hashed, so the key only guards Flask's own
    # signing; a per-process random key is safe for the embedded default.
    return secrets.token_hex(32)


@dataclass
class Settings:
    """Every setting the service reads, with the embedded defaults."""

    DATABASE_URL: str = field(default_factory=_database_url)
    SECRET_KEY: str = field(default_factory=_secret_key)
    REDIS_URL: str | None = field(default_factory=lambda: os.environ.get("REDIS_URL") or None)
    RQ_QUEUE: str = field(default_factory=lambda: os.environ.get("RQ_QUEUE") or "peermatch")
    MAX_CONTENT_LENGTH: int = field(default_factory=lambda: _int("MAX_CONTENT_LENGTH", 1024 * 1024))
    TOKEN_TTL_HOURS: int = field(default_factory=lambda: _int("TOKEN_TTL_HOURS", 24))
    PAGE_SIZE_MAX: int = field(default_factory=lambda: _int("PAGE_SIZE_MAX", 200))
    RATELIMIT_ENABLED: bool = field(
        default_factory=lambda: os.environ.get("RATELIMIT_ENABLED", "1") != "0"
    )
    LOGIN_RATE_LIMIT: str = field(
        default_factory=lambda: os.environ.get("LOGIN_RATE_LIMIT") or "10 per minute;100 per hour"
    )
    #: Failed log-ins per (account, address); the account's own ceiling is much higher
    #: and applies only to addresses that have failed on it.
    LOGIN_FAILURE_RATE_LIMIT: str = field(
        default_factory=lambda: (
            os.environ.get("LOGIN_FAILURE_RATE_LIMIT") or "5 per minute;20 per hour"
        )
    )
    LOGIN_ACCOUNT_RATE_LIMIT: str = field(
        default_factory=lambda: os.environ.get("LOGIN_ACCOUNT_RATE_LIMIT") or "100 per hour"
    )
    JOIN_RATE_LIMIT: str = field(
        default_factory=lambda: os.environ.get("JOIN_RATE_LIMIT") or "10 per minute;50 per hour"
    )
    JOIN_ACCOUNT_RATE_LIMIT: str = field(
        default_factory=lambda: (
            os.environ.get("JOIN_ACCOUNT_RATE_LIMIT") or "10 per minute;30 per hour"
        )
    )
    REGISTER_RATE_LIMIT: str = field(
        default_factory=lambda: os.environ.get("REGISTER_RATE_LIMIT") or "5 per minute;50 per day"
    )
    MAX_ROUND_SIZE: int = field(default_factory=lambda: _int("MAX_ROUND_SIZE", 20000))
    #: Reverse proxies in front of the app that set X-Forwarded-For/-Proto/-Host (0: none,
    #: the headers are ignored); the limits then key on the real client address.
    TRUSTED_PROXY_COUNT: int = field(default_factory=lambda: _int("TRUSTED_PROXY_COUNT", 0))
    #: A running round's runner renews its lease (with each progress update and on a
    #: heartbeat every min(30, lease/4) s); a round whose lease has lapsed this long is
    #: lost (its runner died) and is re-queued or failed.
    ROUND_LEASE_SECONDS: int = field(default_factory=lambda: _int("ROUND_LEASE_SECONDS", 120))
    #: Runs of one round (the first and its retries after a lost runner) before it fails.
    ROUND_MAX_ATTEMPTS: int = field(default_factory=lambda: _int("ROUND_MAX_ATTEMPTS", 2))
    #: Longest a round may run on a worker before RQ stops it (default: sized for
    #: MAX_ROUND_SIZE, about ten times what a round of that size takes here).
    ROUND_JOB_TIMEOUT_SECONDS: int = field(
        default_factory=lambda: _int(
            "ROUND_JOB_TIMEOUT_SECONDS", round_job_timeout(_int("MAX_ROUND_SIZE", 20000))
        )
    )
    SQL_ECHO: bool = field(default_factory=lambda: os.environ.get("SQL_ECHO", "") == "1")
    REMATCH_CRON: str = field(
        default_factory=lambda: os.environ.get("REMATCH_CRON") or "30 2 * * *"
    )
    # --- messages ----------------------------------------------------------------------
    #: smtp://user:pass@host:587?starttls=true, smtps://host:465; unset: .eml files in
    #: OUTBOX_DIR (the embedded default, no server needed).
    SMTP_URL: str | None = field(default_factory=lambda: os.environ.get("SMTP_URL") or None)
    SMTP_TIMEOUT_SECONDS: int = field(default_factory=lambda: _int("SMTP_TIMEOUT_SECONDS", 30))
    OUTBOX_DIR: str = field(
        default_factory=lambda: os.environ.get("OUTBOX_DIR") or str(INSTANCE_DIR / "outbox")
    )
    MAIL_FROM: str = field(
        default_factory=lambda: os.environ.get("MAIL_FROM") or "peermatch <peermatch@localhost>"
    )
    #: Where the links in messages point (the address people open the service at).
    PUBLIC_URL: str = field(
        default_factory=lambda: (os.environ.get("PUBLIC_URL") or "http://127.0.0.1:5000").rstrip(
            "/"
        )
    )
    INVITATION_TTL_HOURS: int = field(default_factory=lambda: _int("INVITATION_TTL_HOURS", 14 * 24))
    PASSWORD_RESET_TTL_MINUTES: int = field(
        default_factory=lambda: _int("PASSWORD_RESET_TTL_MINUTES", 60)
    )
    #: Attempts to deliver one message before it is marked failed.
    OUTBOX_MAX_ATTEMPTS: int = field(default_factory=lambda: _int("OUTBOX_MAX_ATTEMPTS", 6))
    #: First retry after this; each further one waits twice as long (at most 6 hours).
    OUTBOX_RETRY_SECONDS: int = field(default_factory=lambda: _int("OUTBOX_RETRY_SECONDS", 60))
    #: A sender holds the messages it took this long; a dead sender's are then retried.
    OUTBOX_LEASE_SECONDS: int = field(default_factory=lambda: _int("OUTBOX_LEASE_SECONDS", 300))
    OUTBOX_BATCH: int = field(default_factory=lambda: _int("OUTBOX_BATCH", 50))
    #: Without REDIS_URL: deliver after the commit on a thread of the process ("thread",
    #: the answer does not wait), before the answer leaves ("sync": tests, scripts), or
    #: not at all ("off": `peermatch outbox deliver` runs from cron).
    OUTBOX_INLINE: str = field(default_factory=lambda: os.environ.get("OUTBOX_INLINE") or "thread")
    #: When the scheduler looks for due reminders, check-in prompts and digests.
    NOTIFY_CRON: str = field(default_factory=lambda: os.environ.get("NOTIFY_CRON") or "0 * * * *")
    #: Seconds between the scheduler's sweeps of due (retried, leased-out) messages.
    OUTBOX_SWEEP_SECONDS: int = field(default_factory=lambda: _int("OUTBOX_SWEEP_SECONDS", 60))
    PASSWORD_RESET_RATE_LIMIT: str = field(
        default_factory=lambda: (
            os.environ.get("PASSWORD_RESET_RATE_LIMIT") or "5 per minute;30 per hour"
        )
    )
    #: Request body limit of the CSV import (its 5,000 rows fit well inside).
    #: The console's session cookie is Secure (HTTPS only) unless this is 0 or in debug.
    CONSOLE_SECURE_COOKIE: bool = field(
        default_factory=lambda: os.environ.get("CONSOLE_SECURE_COOKIE", "1") != "0"
    )
    IMPORT_MAX_BYTES: int = field(
        default_factory=lambda: _int("IMPORT_MAX_BYTES", 16 * 1024 * 1024)
    )

    def as_flask_config(self) -> dict[str, Any]:
        return {
            "DATABASE_URL": self.DATABASE_URL,
            "SECRET_KEY": self.SECRET_KEY,
            "REDIS_URL": self.REDIS_URL,
            "RQ_QUEUE": self.RQ_QUEUE,
            "MAX_CONTENT_LENGTH": self.MAX_CONTENT_LENGTH,
            "TOKEN_TTL_HOURS": self.TOKEN_TTL_HOURS,
            "PAGE_SIZE_MAX": self.PAGE_SIZE_MAX,
            "SQL_ECHO": self.SQL_ECHO,
            "RATELIMIT_ENABLED": self.RATELIMIT_ENABLED,
            "RATELIMIT_HEADERS_ENABLED": True,
            "LOGIN_RATE_LIMIT": self.LOGIN_RATE_LIMIT,
            "LOGIN_ACCOUNT_RATE_LIMIT": self.LOGIN_ACCOUNT_RATE_LIMIT,
            "LOGIN_FAILURE_RATE_LIMIT": self.LOGIN_FAILURE_RATE_LIMIT,
            "JOIN_RATE_LIMIT": self.JOIN_RATE_LIMIT,
            "JOIN_ACCOUNT_RATE_LIMIT": self.JOIN_ACCOUNT_RATE_LIMIT,
            "REGISTER_RATE_LIMIT": self.REGISTER_RATE_LIMIT,
            "MAX_ROUND_SIZE": self.MAX_ROUND_SIZE,
            "TRUSTED_PROXY_COUNT": self.TRUSTED_PROXY_COUNT,
            "ROUND_LEASE_SECONDS": self.ROUND_LEASE_SECONDS,
            "ROUND_MAX_ATTEMPTS": self.ROUND_MAX_ATTEMPTS,
            "ROUND_JOB_TIMEOUT_SECONDS": self.ROUND_JOB_TIMEOUT_SECONDS,
            "REMATCH_CRON": self.REMATCH_CRON,
            "SMTP_URL": self.SMTP_URL,
            "SMTP_TIMEOUT_SECONDS": self.SMTP_TIMEOUT_SECONDS,
            "OUTBOX_DIR": self.OUTBOX_DIR,
            "MAIL_FROM": self.MAIL_FROM,
            "PUBLIC_URL": self.PUBLIC_URL,
            "INVITATION_TTL_HOURS": self.INVITATION_TTL_HOURS,
            "PASSWORD_RESET_TTL_MINUTES": self.PASSWORD_RESET_TTL_MINUTES,
            "OUTBOX_MAX_ATTEMPTS": self.OUTBOX_MAX_ATTEMPTS,
            "OUTBOX_RETRY_SECONDS": self.OUTBOX_RETRY_SECONDS,
            "OUTBOX_LEASE_SECONDS": self.OUTBOX_LEASE_SECONDS,
            "OUTBOX_BATCH": self.OUTBOX_BATCH,
            "OUTBOX_INLINE": self.OUTBOX_INLINE,
            "NOTIFY_CRON": self.NOTIFY_CRON,
            "OUTBOX_SWEEP_SECONDS": self.OUTBOX_SWEEP_SECONDS,
            "PASSWORD_RESET_RATE_LIMIT": self.PASSWORD_RESET_RATE_LIMIT,
            "IMPORT_MAX_BYTES": self.IMPORT_MAX_BYTES,
            "CONSOLE_SECURE_COOKIE": self.CONSOLE_SECURE_COOKIE,
            # flask-smorest / OpenAPI
            "API_TITLE": "peermatch",
            "API_VERSION": "v1",
            "OPENAPI_VERSION": "3.0.3",
            "OPENAPI_URL_PREFIX": "/api",
            "OPENAPI_JSON_PATH": "openapi.json",
            "OPENAPI_SWAGGER_UI_PATH": "/docs",
            # Swagger UI is served from the swagger-ui-bundle package, so the docs work
            # offline and browsers of coordinators never call a third-party CDN.
            "OPENAPI_SWAGGER_UI_URL": "/api/docs/static/",
            "JSON_SORT_KEYS": False,
        }


def load() -> dict[str, Any]:
    """Read the environment now and return a Flask config mapping."""
    return Settings().as_flask_config()


def admin_password() -> str | None:
    """PEERMATCH_ADMIN_PASSWORD, read when `peermatch create-admin` runs (never kept in the
    app's configuration)."""
    return os.environ.get("PEERMATCH_ADMIN_PASSWORD") or None
