"""What the services get from the app's configuration (they never read it themselves)."""

from __future__ import annotations

from datetime import timedelta

from flask import current_app

from api.adapters.queue import RoundQueue


def round_queue() -> RoundQueue | None:
    """The workers' queue, or None when rounds run inline (no REDIS_URL)."""
    redis_url = current_app.config.get("REDIS_URL")
    return RoundQueue(redis_url, current_app.config["RQ_QUEUE"]) if redis_url else None


def max_round_size() -> int:
    return int(current_app.config["MAX_ROUND_SIZE"])


def token_ttl() -> timedelta:
    return timedelta(hours=current_app.config["TOKEN_TTL_HOURS"])
