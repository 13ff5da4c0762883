"""A real SMTP server in the test process (aiosmtpd on 127.0.0.1) that keeps what it
receives; it can refuse messages or take its time, like real servers do."""

from __future__ import annotations

import email
import socket
import threading
import time
from email.message import EmailMessage
from email.policy import default

from aiosmtpd.controller import Controller


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class Mailbox:
    """What the server received, parsed; `refuse` answers every DATA with that code."""

    def __init__(self) -> None:
        self.received: list[EmailMessage] = []
        self.raw: list[bytes] = []
        self.refuse: int | None = None
        self.delay = 0.0
        self.lock = threading.Lock()
        self.refused = 0

    async def handle_DATA(self, server, session, envelope):  # noqa: N802 (aiosmtpd's name)
        if self.delay:
            time.sleep(self.delay)  # a slow server: the client waits for the answer
        if self.refuse:
            self.refused += 1
            return f"{self.refuse} Refused by the test server"
        with self.lock:
            self.raw.append(bytes(envelope.content))
            self.received.append(
                email.message_from_bytes(envelope.content, policy=default)  # type: ignore[arg-type]
            )
        return "250 OK"

    def to(self, address: str) -> list[EmailMessage]:
        return [m for m in self.received if m["To"] == address]

    def outbox_ids(self) -> list[int]:
        return [int(m["X-Peermatch-Outbox-Id"]) for m in self.received]


def text_of(message: EmailMessage) -> str:
    part = message.get_body(preferencelist=("plain",))
    assert part is not None
    return str(part.get_content())


def html_of(message: EmailMessage) -> str:
    part = message.get_body(preferencelist=("html",))
    assert part is not None
    return str(part.get_content())


class SmtpServer:
    def __init__(self) -> None:
        self.mailbox = Mailbox()
        self.port = free_port()
        self.controller = Controller(self.mailbox, hostname="127.0.0.1", port=self.port)

    @property
    def url(self) -> str:
        return f"smtp://127.0.0.1:{self.port}"

    def __enter__(self) -> SmtpServer:
        self.controller.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.controller.stop()
