"""Helpers of the session and password-reset tests: an in-memory mail sink swapped into the running stack,
login, and SQL access to the token tables."""

from __future__ import annotations

import re
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

import httpx
from sqlalchemy import text

from activities.mail import LogMailer, Mailer
from tests.conftest import Stack

PASSWORD = "correct horse battery"


@dataclass(frozen=True)
class SentMail:
    to: str
    subject: str
    body: str
    purpose: str

    @property
    def reset_token(self) -> str:
        match = re.search(r"/reset-password\?token=([A-Za-z0-9_\-]+)", self.body)
        assert match, self.body
        return match.group(1)


@dataclass
class MemoryMailer:
    """Keeps what it sends; also logs it like LogMailer, so log tests see the production log line."""

    sent: list[SentMail] = field(default_factory=list)

    async def send(self, to: str, subject: str, body: str, *, purpose: str) -> None:
        self.sent.append(SentMail(to, subject, body, purpose))
        await LogMailer().send(to, subject, body, purpose=purpose)


@contextmanager
def capture_mail(stack: Stack) -> Iterator[MemoryMailer]:
    mailer = MemoryMailer()
    previous: Mailer = stack.services.stores.mailer
    stack.services.stores.mailer = mailer
    try:
        yield mailer
    finally:
        stack.services.stores.mailer = previous


def new_email() -> str:
    return f"acct-{uuid.uuid4().hex[:12]}@example.com"


async def register(http: httpx.AsyncClient, email: str, password: str = PASSWORD) -> None:
    r = await http.post("/auth/register", json={"email": email, "password": password})
    assert r.status_code == 201, r.text


async def login(http: httpx.AsyncClient, email: str, password: str = PASSWORD) -> dict[str, Any]:
    r = await http.post("/auth/login", json={"email": email, "password": password})
    assert r.status_code == 200, r.text
    body = dict(r.json())
    assert body["token_type"] == "bearer" and body["refresh_token"] and body["access_token"]
    return body


def bearer(tokens: dict[str, Any]) -> dict[str, str]:
    return {"Authorization": f"Bearer {tokens['access_token']}"}


def assert_problem(r: httpx.Response, status: int, code: str) -> dict[str, Any]:
    assert r.status_code == status, r.text
    assert r.headers["content-type"].startswith("application/problem+json")
    body = dict(r.json())
    assert body["status"] == status and body["code"] == code and body["detail"], body
    return body


async def sql(stack: Stack, statement: str, **params: Any) -> None:
    async with stack.services.stores.engine.begin() as conn:
        await conn.execute(text(statement), params)
