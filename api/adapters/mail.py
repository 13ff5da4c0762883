"""Mail out: RFC 5322 messages built with the standard library, sent by SMTP or kept
as `.eml` files.

The standard library's `email` (EmailMessage, the `default` policy: RFC 5322/6532,
MIME alternatives, attachments) and `smtplib` (STARTTLS, implicit TLS, AUTH) do all the
service needs; they are maintained with Python itself, so no third-party mail library
is added.

`SMTP_URL` names the server: `smtp://user:pass@host:587?starttls=true`, `smtps://host:465`
(TLS from the first byte), `smtp://127.0.0.1:1025` (no TLS, no login). Without it the
embedded default writes each message to a file of `OUTBOX_DIR`.

Logs name the subject and the recipient's account id, never an address or a body.
"""

from __future__ import annotations

import logging
import os
import smtplib
import ssl
import tempfile
from collections.abc import Iterator, Mapping
from contextlib import AbstractContextManager, contextmanager
from dataclasses import dataclass, field
from email.message import EmailMessage
from email.utils import format_datetime
from pathlib import Path
from typing import Protocol
from urllib.parse import parse_qs, unquote, urlsplit

from api.adapters.db import utcnow

log = logging.getLogger("peermatch.mail")


@dataclass(frozen=True)
class Attachment:
    filename: str
    content_type: str  # "text/calendar"
    data: bytes
    params: Mapping[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class Mail:
    """One rendered message for one account."""

    outbox_id: int
    account_id: int
    to: str
    subject: str
    text: str
    html: str
    headers: Mapping[str, str] = field(default_factory=dict)
    attachments: tuple[Attachment, ...] = ()


def build(mail: Mail, sender: str) -> EmailMessage:
    """The RFC 5322 message: plain text and HTML alternatives, then attachments."""
    message = EmailMessage()
    message["From"] = sender
    message["To"] = mail.to
    message["Subject"] = mail.subject
    message["Date"] = format_datetime(utcnow())
    domain = sender.rpartition("@")[2].strip("> ") or "localhost"
    # The same for every attempt: a message that goes twice (a crash between the
    # server's acceptance and the state write) is the same message to mail clients.
    message["Message-ID"] = f"<peermatch.outbox.{mail.outbox_id}@{domain}>"
    # Operators find a message by its outbox id (`peermatch outbox`).
    message["X-Peermatch-Outbox-Id"] = str(mail.outbox_id)
    message["Auto-Submitted"] = "auto-generated"
    for name, value in mail.headers.items():
        message[name] = value
    message.set_content(mail.text)
    message.add_alternative(mail.html, subtype="html")
    for attachment in mail.attachments:
        maintype, _, subtype = attachment.content_type.partition("/")
        message.add_attachment(
            attachment.data,
            maintype=maintype,
            subtype=subtype,
            filename=attachment.filename,
            params=dict(attachment.params),
        )
    return message


class SendError(Exception):
    """The message was not accepted; `reason` is safe to store and log (no server text)."""

    def __init__(self, reason: str, *, permanent: bool = False) -> None:
        super().__init__(reason)
        self.reason = reason
        self.permanent = permanent


class Connection(Protocol):
    def send(self, mail: Mail) -> None: ...


class Transport(Protocol):
    """Where messages go; `open()` gives a connection for a batch of messages."""

    @property
    def description(self) -> str: ...

    def open(self) -> AbstractContextManager[Connection]: ...


# --- SMTP ------------------------------------------------------------------------------


@dataclass(frozen=True)
class SmtpSettings:
    host: str
    port: int
    implicit_tls: bool = False
    starttls: bool = False
    username: str | None = None
    password: str | None = None
    timeout: float = 30.0

    @classmethod
    def from_url(cls, url: str, timeout: float = 30.0) -> SmtpSettings:
        parts = urlsplit(url)
        if parts.scheme not in ("smtp", "smtps"):
            raise ValueError("SMTP_URL must start with smtp:// or smtps://")
        if not parts.hostname:
            raise ValueError("SMTP_URL names no host")
        query = {k: v[-1].lower() for k, v in parse_qs(parts.query).items()}
        implicit = parts.scheme == "smtps"
        return cls(
            host=parts.hostname,
            port=parts.port or (465 if implicit else 587 if "starttls" in query else 25),
            implicit_tls=implicit,
            starttls=query.get("starttls") in ("true", "1", "yes"),
            username=unquote(parts.username) if parts.username else None,
            password=unquote(parts.password) if parts.password else None,
            timeout=timeout,
        )


def _reason(exc: Exception) -> SendError:
    if isinstance(exc, smtplib.SMTPRecipientsRefused):
        codes = sorted({code for code, _ in exc.recipients.values()})
        code = codes[0] if codes else 550
        return SendError(f"smtp {code} recipient refused", permanent=code >= 500)
    if isinstance(exc, smtplib.SMTPResponseException):
        return SendError(f"smtp {exc.smtp_code}", permanent=exc.smtp_code >= 500)
    if isinstance(exc, smtplib.SMTPException):
        return SendError(f"smtp {type(exc).__name__}")
    return SendError(f"connection {type(exc).__name__}")


class _SmtpConnection:
    def __init__(self, settings: SmtpSettings, sender: str) -> None:
        self.settings, self.sender = settings, sender
        self.client: smtplib.SMTP | None = None

    def _connect(self) -> smtplib.SMTP:
        s = self.settings
        context = ssl.create_default_context()
        client: smtplib.SMTP
        if s.implicit_tls:
            client = smtplib.SMTP_SSL(s.host, s.port, timeout=s.timeout, context=context)
        else:
            client = smtplib.SMTP(s.host, s.port, timeout=s.timeout)
            if s.starttls:
                client.starttls(context=context)
        if s.username:
            client.login(s.username, s.password or "")
        return client

    def send(self, mail: Mail) -> None:
        message = build(mail, self.sender)
        for attempt in (1, 2):
            try:
                if self.client is None:
                    self.client = self._connect()
                self.client.send_message(message)
                break
            except smtplib.SMTPServerDisconnected as exc:
                # A kept connection the server closed meanwhile: one fresh try.
                self.client = None
                if attempt == 2:
                    raise _reason(exc) from exc
            except (smtplib.SMTPException, OSError) as exc:
                self.close()
                raise _reason(exc) from exc
        log.info(
            "mail sent: %r to account %s (outbox %s)", mail.subject, mail.account_id, mail.outbox_id
        )

    def close(self) -> None:
        client, self.client = self.client, None
        if client is not None:
            try:
                client.quit()
            except (smtplib.SMTPException, OSError):
                client.close()


@dataclass(frozen=True)
class SmtpTransport:
    settings: SmtpSettings
    sender: str

    @property
    def description(self) -> str:
        return f"SMTP server {self.settings.host}:{self.settings.port}"

    @contextmanager
    def open(self) -> Iterator[Connection]:
        connection = _SmtpConnection(self.settings, self.sender)
        try:
            yield connection
        finally:
            connection.close()


# --- files (the embedded default) ------------------------------------------------------


class _FileConnection:
    def __init__(self, folder: Path, sender: str) -> None:
        self.folder, self.sender = folder, sender

    def send(self, mail: Mail) -> None:
        data = bytes(build(mail, self.sender))
        try:
            self.folder.mkdir(parents=True, exist_ok=True)
            # Written whole or not at all: a reader never sees half a message.
            fd, tmp = tempfile.mkstemp(dir=self.folder, suffix=".tmp")
            with os.fdopen(fd, "wb") as out:
                out.write(data)
            final = self.folder / f"{mail.outbox_id:08d}.eml"
            os.replace(tmp, final)
        except OSError as exc:
            raise SendError(f"file {type(exc).__name__}") from exc
        log.info(
            "mail written: %r to account %s (outbox %s, %s)",
            mail.subject,
            mail.account_id,
            mail.outbox_id,
            final.name,
        )


@dataclass(frozen=True)
class FileTransport:
    folder: Path
    sender: str

    @property
    def description(self) -> str:
        return f".eml files in {self.folder}"

    @contextmanager
    def open(self) -> Iterator[Connection]:
        yield _FileConnection(self.folder, self.sender)


def transport(smtp_url: str | None, outbox_dir: str, sender: str, timeout: float) -> Transport:
    """The transport the configuration names: SMTP when SMTP_URL is set, files otherwise."""
    if smtp_url:
        return SmtpTransport(SmtpSettings.from_url(smtp_url, timeout), sender)
    return FileTransport(Path(outbox_dir), sender)
