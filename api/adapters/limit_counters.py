"""Rate-limit counters in the database: Flask-Limiter's storage without Redis.

Each worker process used to count in its own memory, so two workers let through twice
the configured limit. This storage (`peermatch+sql://`, registered with the `limits`
library by its scheme) keeps one fixed-window counter per key in `limit_counters`; an
increment is one atomic `INSERT … ON CONFLICT DO UPDATE … RETURNING` (PostgreSQL and
SQLite 3.35+), which starts a new window when the old one has ended.
"""

from __future__ import annotations

import random
import time
from typing import Any

from limits.storage import Storage
from sqlalchemy import Engine, text

from api.adapters.db import make_engine

_INCR = text(
    "INSERT INTO limit_counters (key, count, expires_at) VALUES (:key, :amount, :ends) "
    "ON CONFLICT (key) DO UPDATE SET "
    "count = CASE WHEN limit_counters.expires_at <= :now THEN :amount "
    "ELSE limit_counters.count + :amount END, "
    "expires_at = CASE WHEN limit_counters.expires_at <= :now THEN :ends "
    "ELSE limit_counters.expires_at END "
    "RETURNING count"
)
_GET = text("SELECT count FROM limit_counters WHERE key = :key AND expires_at > :now")
_EXPIRY = text("SELECT expires_at FROM limit_counters WHERE key = :key")
_CLEAR = text("DELETE FROM limit_counters WHERE key = :key")
_SWEEP = text("DELETE FROM limit_counters WHERE expires_at < :before")


class DatabaseStorage(Storage):
    """`peermatch+sql://`; option `database_url`: the service's own database."""

    STORAGE_SCHEME = ["peermatch+sql"]

    def __init__(
        self, uri: str | None = None, wrap_exceptions: bool = False, **options: Any
    ) -> None:
        super().__init__(uri, wrap_exceptions=wrap_exceptions)
        self.engine: Engine = make_engine(str(options["database_url"]))

    @property
    def base_exceptions(self) -> type[Exception] | tuple[type[Exception], ...]:
        from sqlalchemy.exc import DBAPIError

        return DBAPIError

    def incr(self, key: str, expiry: int, amount: int = 1) -> int:
        now = time.time()
        with self.engine.begin() as conn:
            count = conn.execute(
                _INCR, {"key": key, "amount": amount, "now": now, "ends": now + expiry}
            ).scalar_one()
            if random.random() < 0.01:  # now and then, drop windows long ended
                conn.execute(_SWEEP, {"before": now - 86400})
        return int(count)

    def get(self, key: str) -> int:
        with self.engine.connect() as conn:
            return int(conn.execute(_GET, {"key": key, "now": time.time()}).scalar() or 0)

    def get_expiry(self, key: str) -> float:
        with self.engine.connect() as conn:
            found = conn.execute(_EXPIRY, {"key": key}).scalar()
        return float(found) if found is not None else time.time()

    def clear(self, key: str) -> None:
        with self.engine.begin() as conn:
            conn.execute(_CLEAR, {"key": key})

    def check(self) -> bool:
        try:
            with self.engine.connect() as conn:
                conn.execute(text("SELECT 1"))
            return True
        except Exception:
            return False

    def reset(self) -> int | None:
        with self.engine.begin() as conn:
            return conn.execute(text("DELETE FROM limit_counters")).rowcount
