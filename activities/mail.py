"""Outgoing mail. `SmtpMailer` (standard-library smtplib in a thread) when SMTP_URL is set, else `LogMailer`,
which logs that a mail was sent but never its content: mails carry secrets (reset links)."""

from __future__ import annotations

import asyncio
import logging
import smtplib
from dataclasses import dataclass
from email.message import EmailMessage
from typing import Protocol
from urllib.parse import unquote, urlsplit

from models.settings import Settings

log = logging.getLogger(__name__)


class Mailer(Protocol):
    async def send(self, to: str, subject: str, body: str, *, purpose: str) -> None:
        """`purpose` is a log-safe description of the mail, e.g. "password reset mail for user <id>"."""


class LogMailer:
    async def send(self, to: str, subject: str, body: str, *, purpose: str) -> None:
        log.info("mail not sent (SMTP_URL unset): %s", purpose)


@dataclass(frozen=True)
class SmtpMailer:
    host: str
    port: int
    username: str | None
    password: str | None
    starttls: bool
    sender: str
    timeout: float = 20.0

    @classmethod
    def from_url(cls, url: str, sender: str) -> SmtpMailer:
        parts = urlsplit(url)
        if parts.scheme not in ("smtp", "smtp+starttls"):
            raise ValueError("SMTP_URL must start with smtp:// or smtp+starttls://")
        return cls(
            host=parts.hostname or "localhost",
            port=parts.port or (587 if parts.scheme == "smtp+starttls" else 25),
            username=unquote(parts.username) if parts.username else None,
            password=unquote(parts.password) if parts.password else None,
            starttls=parts.scheme == "smtp+starttls",
            sender=sender,
        )

    def _send(self, message: EmailMessage) -> None:
        with smtplib.SMTP(self.host, self.port, timeout=self.timeout) as smtp:
            if self.starttls:
                smtp.starttls()
            if self.username:
                smtp.login(self.username, self.password or "")
            smtp.send_message(message)

    async def send(self, to: str, subject: str, body: str, *, purpose: str) -> None:
        message = EmailMessage()
        message["From"], message["To"], message["Subject"] = self.sender, to, subject
        message.set_content(body)
        await asyncio.to_thread(self._send, message)
        log.info("mail sent over SMTP: %s", purpose)


def mailer_from_settings(settings: Settings) -> Mailer:
    if settings.smtp_url is None:
        return LogMailer()
    return SmtpMailer.from_url(settings.smtp_url.get_secret_value(), settings.smtp_from)
