"""Handing committed messages to delivery, after the request's transaction.

With REDIS_URL a delivery job goes to the workers. Without it the app delivers itself:
on a thread of its own (OUTBOX_INLINE=thread, the default: the answer does not wait
for a mail server, and how long it takes says nothing about the messages), or before
the answer leaves (OUTBOX_INLINE=sync, for tests and scripts), or not at all
(OUTBOX_INLINE=off: `peermatch outbox deliver` from cron does it). Either way each message
is leased to one sender, so several processes never send one twice.
"""

from __future__ import annotations

import logging
import threading

from flask import Flask, current_app

from api.adapters.queue import QueueError, RoundQueue
from api.http import database
from api.services import delivery

log = logging.getLogger("peermatch.outbox")


class Sender:
    """Starts delivery when a request committed messages."""

    def __init__(self, app: Flask) -> None:
        self.app = app
        self.lock = threading.Lock()
        self.again = False
        self.thread: threading.Thread | None = None

    def settings(self) -> delivery.Delivery:
        found: delivery.Delivery | None = self.app.extensions.get("peermatch.delivery")
        if found is None:
            found = delivery.Delivery.from_config(self.app.config)
            self.app.extensions["peermatch.delivery"] = found
        return found

    def kick(self) -> None:
        config = self.app.config
        if config.get("REDIS_URL"):
            try:
                RoundQueue(config["REDIS_URL"], config["RQ_QUEUE"]).enqueue_delivery()
            except QueueError as exc:
                # The scheduler's sweep delivers them once the queue is back.
                log.warning("delivery job not queued (%s); the next sweep sends them", exc)
            return
        if config.get("OUTBOX_INLINE") == "off":
            return  # another process delivers (`peermatch outbox deliver` from cron)
        if config.get("OUTBOX_INLINE") == "sync":
            self.deliver()
            return
        with self.lock:
            self.again = True
            if self.thread is not None and self.thread.is_alive():
                return
            self.thread = threading.Thread(target=self._loop, name="outbox", daemon=True)
            self.thread.start()

    def _loop(self) -> None:
        while True:
            with self.lock:
                if not self.again:
                    self.thread = None
                    return
                self.again = False
            self.deliver()

    def deliver(self) -> delivery.Report | None:
        try:
            return delivery.deliver_due(
                database.database(self.app).session_factory, self.settings()
            )
        except Exception as exc:  # never the request's failure; the messages wait
            # The class only at error level (messages may carry data); the trace at debug.
            log.error("outbox delivery stopped: %s", type(exc).__name__)
            log.debug("outbox delivery stopped", exc_info=exc)
            return None

    def wait(self, timeout: float = 30.0) -> None:
        """Until the delivery thread is done (tests, the demo)."""
        thread = self.thread
        if thread is not None:
            thread.join(timeout)


def init_app(app: Flask) -> None:
    app.extensions["peermatch.outbox"] = Sender(app)


def sender(app: Flask | None = None) -> Sender:
    found: Sender = (app or current_app).extensions["peermatch.outbox"]
    return found
