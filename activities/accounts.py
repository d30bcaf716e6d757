"""User accounts: registration and password sign-in (argon2id via pwdlib)."""

from __future__ import annotations

import uuid
from dataclasses import dataclass

from pwdlib import PasswordHash
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from uuid6 import uuid7

from activities.database import Sessions
from activities.errors import Conflict, InvalidCredentials
from models.tables import User

_hasher = PasswordHash.recommended()
# Verified against when the e-mail is unknown, so both paths cost the same time.
_DUMMY_HASH = _hasher.hash("not-a-real-password")


@dataclass(frozen=True)
class Account:
    id: uuid.UUID
    email: str
    name: str | None
    plan_code: str


def _account(user: User) -> Account:
    return Account(id=user.id, email=user.email, name=user.name, plan_code=user.plan_code)


def normalize_email(email: str) -> str:
    return email.strip().lower()


class AccountStore:
    def __init__(self, sessions: Sessions) -> None:
        self._sessions = sessions

    async def register(self, email: str, password: str, name: str | None) -> Account:
        user = User(id=uuid7(), email=normalize_email(email), name=name, password_hash=_hasher.hash(password))
        try:
            async with self._sessions.begin() as session:
                session.add(user)
                await session.flush()
                await session.refresh(user)
        except IntegrityError as exc:
            raise Conflict("An account with this e-mail address already exists.") from exc
        return _account(user)

    async def authenticate(self, email: str, password: str) -> Account:
        async with self._sessions() as session:
            user = await session.scalar(select(User).where(User.email == normalize_email(email)))
        if user is None or user.password_hash is None:
            _hasher.verify(password, _DUMMY_HASH)
            raise InvalidCredentials("The e-mail address or the password is wrong.")
        if not _hasher.verify(password, user.password_hash):
            raise InvalidCredentials("The e-mail address or the password is wrong.")
        return _account(user)

    async def get(self, user_id: uuid.UUID) -> Account | None:
        async with self._sessions() as session:
            user = await session.get(User, user_id)
        return _account(user) if user else None
