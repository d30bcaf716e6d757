"""Password reset tokens: random, stored as SHA-256 hex, single use, valid PASSWORD_RESET_TTL_SECONDS.

A reset sets the new password, uses up every outstanding reset token of the user and revokes every refresh
family, in one transaction."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from sqlalchemy import select, update

from activities.accounts import hash_password, normalize_email
from activities.database import Sessions
from activities.errors import DomainError
from activities.sessions import hash_token, new_token
from models.tables import PasswordResetToken, RefreshToken, User


class InvalidResetToken(DomainError):
    status = 400
    code = "invalid_reset_token"
    title = "Invalid password reset token"


@dataclass(frozen=True)
class ResetRequest:
    user_id: uuid.UUID
    email: str
    token: str


class PasswordResetStore:
    def __init__(self, sessions: Sessions, *, ttl_seconds: int) -> None:
        self._sessions = sessions
        self._ttl = timedelta(seconds=ttl_seconds)

    async def issue(self, email: str) -> ResetRequest | None:
        """A new reset token for the account of this e-mail address; None when there is no such account."""
        async with self._sessions.begin() as session:
            user = await session.scalar(select(User).where(User.email == normalize_email(email)))
            if user is None:
                return None
            raw = new_token()
            session.add(
                PasswordResetToken(
                    token_hash=hash_token(raw), user_id=user.id, expires_at=datetime.now(UTC) + self._ttl
                )
            )
            return ResetRequest(user.id, user.email, raw)

    async def reset(self, raw: str, new_password: str) -> uuid.UUID:
        """Sets the password of the token's user; returns the user id. InvalidResetToken when the token is
        unknown, used or expired."""
        now = datetime.now(UTC)
        password_hash = hash_password(new_password)
        async with self._sessions.begin() as session:
            row = await session.scalar(
                select(PasswordResetToken).where(PasswordResetToken.token_hash == hash_token(raw)).with_for_update()
            )
            if row is None or row.used_at is not None or row.expires_at <= now:
                raise InvalidResetToken(
                    "This password reset link is unknown, already used or expired; ask for a new one."
                )
            user_id = row.user_id
            await session.execute(update(User).where(User.id == user_id).values(password_hash=password_hash))
            await session.execute(
                update(PasswordResetToken)
                .where(PasswordResetToken.user_id == user_id, PasswordResetToken.used_at.is_(None))
                .values(used_at=now)
            )
            await session.execute(
                update(RefreshToken)
                .where(RefreshToken.user_id == user_id, RefreshToken.revoked_at.is_(None))
                .values(revoked_at=now)
            )
        return user_id
