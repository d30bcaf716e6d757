"""User accounts: registration and password sign-in (argon2id via pwdlib)."""

from __future__ import annotations

import uuid
from dataclasses import dataclass

from pwdlib import PasswordHash
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from uuid6 import uuid7

from activities.database import Sessions
from activities.errors import Conflict, DomainError, InvalidCredentials, NotFound
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


def account_of(user: User) -> Account:
    return Account(id=user.id, email=user.email, name=user.name, plan_code=user.plan_code)


def normalize_email(email: str) -> str:
    return email.strip().lower()


def hash_password(password: str) -> str:
    return _hasher.hash(password)


class WrongCurrentPassword(DomainError):
    status = 403
    code = "wrong_current_password"
    title = "Current password required"


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
        return account_of(user)

    async def authenticate(self, email: str, password: str) -> Account:
        async with self._sessions() as session:
            user = await session.scalar(select(User).where(User.email == normalize_email(email)))
        if user is None or user.password_hash is None or user.deletion_requested_at is not None:
            _hasher.verify(password, _DUMMY_HASH)
            raise InvalidCredentials("The e-mail address or the password is wrong.")
        if not _hasher.verify(password, user.password_hash):
            raise InvalidCredentials("The e-mail address or the password is wrong.")
        return account_of(user)

    async def update(
        self,
        user_id: uuid.UUID,
        *,
        current_password: str | None,
        name: str | None = None,
        set_name: bool = False,
        email: str | None = None,
        password: str | None = None,
    ) -> Account:
        """Changes name, e-mail and/or password. A new e-mail or password needs the current password
        (WrongCurrentPassword, also for an account without one: it sets one through a password reset)."""
        new_hash = hash_password(password) if password is not None else None
        try:
            async with self._sessions.begin() as session:
                user = await session.get(User, user_id, with_for_update=True)
                if user is None:
                    raise NotFound("This account no longer exists.")
                if email is not None or password is not None:
                    if current_password is None:
                        raise WrongCurrentPassword(
                            "Changing the e-mail address or the password needs current_password."
                        )
                    if user.password_hash is None or not _hasher.verify(current_password, user.password_hash):
                        raise WrongCurrentPassword("The current password is wrong.")
                if set_name:
                    user.name = name
                if email is not None:
                    user.email = normalize_email(email)
                if new_hash is not None:
                    user.password_hash = new_hash
                await session.flush()
        except IntegrityError as exc:
            raise Conflict("An account with this e-mail address already exists.") from exc
        return account_of(user)

    async def get(self, user_id: uuid.UUID) -> Account | None:
        async with self._sessions() as session:
            user = await session.get(User, user_id)
        # An account being deleted is gone for every caller: its tokens answer 401.
        return account_of(user) if user and user.deletion_requested_at is None else None
