"""What the services get from the app's configuration (they never read it themselves)."""

from __future__ import annotations

from datetime import timedelta

from flask import current_app

from api.adapters.queue import RoundQueue
from api.services.round_leases import Runners


def round_queue() -> RoundQueue | None:
    """The workers' queue, or None when rounds run inline (no REDIS_URL)."""
    redis_url = current_app.config.get("REDIS_URL")
    return RoundQueue(redis_url, current_app.config["RQ_QUEUE"]) if redis_url else None


def runners() -> Runners:
    """How rounds run here: the queue (or inline), their lease, attempts and time limit."""
    return Runners.from_config(current_app.config, round_queue())


def max_round_size() -> int:
    return int(current_app.config["MAX_ROUND_SIZE"])


def token_ttl() -> timedelta:
    return timedelta(hours=current_app.config["TOKEN_TTL_HOURS"])
