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
    LOGIN_ACCOUNT_RATE_LIMIT: str = field(
        default_factory=lambda: os.environ.get("LOGIN_ACCOUNT_RATE_LIMIT") or "5 per minute"
    )
    REGISTER_RATE_LIMIT: str = field(
        default_factory=lambda: os.environ.get("REGISTER_RATE_LIMIT") or "5 per minute;50 per day"
    )
    MAX_ROUND_SIZE: int = field(default_factory=lambda: _int("MAX_ROUND_SIZE", 20000))
    SQL_ECHO: bool = field(default_factory=lambda: os.environ.get("SQL_ECHO", "") == "1")
    REMATCH_CRON: str = field(
        default_factory=lambda: os.environ.get("REMATCH_CRON") or "30 2 * * *"
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
            "REGISTER_RATE_LIMIT": self.REGISTER_RATE_LIMIT,
            "MAX_ROUND_SIZE": self.MAX_ROUND_SIZE,
            "REMATCH_CRON": self.REMATCH_CRON,
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
