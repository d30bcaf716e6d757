"""The SMTP mailer against a minimal SMTP server on a local socket, and its URL parsing."""

from __future__ import annotations

import asyncio
import base64

import pytest

from activities.mail import LogMailer, SmtpMailer, mailer_from_settings
from models.settings import Settings


class TinySmtpServer:
    """Enough SMTP for smtplib: EHLO, AUTH PLAIN, MAIL, RCPT, DATA, QUIT."""

    def __init__(self) -> None:
        self.messages: list[bytes] = []
        self.auth: list[str] = []

    async def handle(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        writer.write(b"220 tiny ESMTP\r\n")
        while line := await reader.readline():
            verb = line.split(b" ", 1)[0].strip().upper()
            if verb == b"EHLO":
                writer.write(b"250-tiny\r\n250 AUTH PLAIN\r\n")
            elif verb == b"AUTH":
                self.auth.append(base64.b64decode(line.split()[2]).decode())
                writer.write(b"235 ok\r\n")
            elif verb == b"DATA":
                writer.write(b"354 go on\r\n")
                await writer.drain()
                self.messages.append(await reader.readuntil(b"\r\n.\r\n"))
                writer.write(b"250 queued\r\n")
            elif verb == b"QUIT":
                writer.write(b"221 bye\r\n")
                await writer.drain()
                break
            else:
                writer.write(b"250 ok\r\n")
            await writer.drain()
        writer.close()


async def test_smtp_mailer_sends_through_a_server() -> None:
    server = TinySmtpServer()
    listener = await asyncio.start_server(server.handle, "127.0.0.1", 0)
    port = listener.sockets[0].getsockname()[1]
    async with listener:
        mailer = SmtpMailer.from_url(f"smtp://mailer:p%40ss@127.0.0.1:{port}", "CV Improver <no-reply@example.com>")
        await mailer.send("ada@example.com", "Hello", "The body.\n", purpose="a test mail")
    [message] = server.messages
    assert b"To: ada@example.com" in message and b"Subject: Hello" in message and b"The body." in message
    assert server.auth == ["\0mailer\0p@ss"]


def test_mailer_from_settings() -> None:
    assert isinstance(mailer_from_settings(Settings(_env_file=None)), LogMailer)
    mailer = mailer_from_settings(Settings(smtp_url="smtp+starttls://u:pw@mail.example.com", _env_file=None))
    assert isinstance(mailer, SmtpMailer)
    assert (mailer.host, mailer.port, mailer.starttls, mailer.username) == ("mail.example.com", 587, True, "u")
    with pytest.raises(ValueError, match="smtp://"):
        SmtpMailer.from_url("http://example.com", "x@example.com")
