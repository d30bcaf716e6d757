"""Refresh tokens: random, stored as SHA-256 hex, rotated on every use, grouped in families (one per sign-in).

A refresh token presented a second time means two parties hold it (the user and a thief): the whole family is
revoked, so neither can go on refreshing, and the user signs in again.
"""

from __future__ import annotations

import hashlib
import secrets
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from sqlalchemy import select, update
from uuid6 import uuid7

from activities.database import Sessions
from activities.errors import DomainError
from models.tables import RefreshToken


class InvalidRefreshToken(DomainError):
    status = 401
    code = "invalid_refresh_token"
    title = "Invalid refresh token"


class RefreshTokenReused(DomainError):
    status = 401
    code = "refresh_token_reused"
    title = "Refresh token reused"


def hash_token(raw: str) -> str:
    return hashlib.sha256(raw.encode()).hexdigest()


def new_token() -> str:
    return secrets.token_urlsafe(32)


@dataclass(frozen=True)
class IssuedRefresh:
    user_id: uuid.UUID
    family_id: uuid.UUID
    token: str


class SessionStore:
    def __init__(self, sessions: Sessions, *, ttl_seconds: int) -> None:
        self._sessions = sessions
        self._ttl = timedelta(seconds=ttl_seconds)

    def _row(self, user_id: uuid.UUID, family_id: uuid.UUID, raw: str, now: datetime) -> RefreshToken:
        return RefreshToken(
            id=uuid7(), user_id=user_id, family_id=family_id, token_hash=hash_token(raw), expires_at=now + self._ttl
        )

    async def start(self, user_id: uuid.UUID) -> IssuedRefresh:
        """A new family (a new sign-in) and its first refresh token."""
        raw, family_id, now = new_token(), uuid7(), datetime.now(UTC)
        async with self._sessions.begin() as session:
            session.add(self._row(user_id, family_id, raw, now))
        return IssuedRefresh(user_id, family_id, raw)

    async def rotate(self, raw: str) -> IssuedRefresh:
        """Marks the token used and issues its successor in the same family. A token already used revokes
        the family (RefreshTokenReused); unknown, expired or revoked tokens raise InvalidRefreshToken."""
        now = datetime.now(UTC)
        reused = False
        async with self._sessions.begin() as session:
            row = await session.scalar(
                select(RefreshToken).where(RefreshToken.token_hash == hash_token(raw)).with_for_update()
            )
            if row is None or row.revoked_at is not None or row.expires_at <= now:
                raise InvalidRefreshToken("The refresh token is unknown, expired or revoked; sign in again.")
            if row.used_at is not None:
                reused = True
                await session.execute(
                    update(RefreshToken)
                    .where(RefreshToken.family_id == row.family_id, RefreshToken.revoked_at.is_(None))
                    .values(revoked_at=now)
                )
            else:
                row.used_at = now
                fresh = new_token()
                session.add(self._row(row.user_id, row.family_id, fresh, now))
                issued = IssuedRefresh(row.user_id, row.family_id, fresh)
        if reused:  # raised after the commit, so the revocation sticks
            raise RefreshTokenReused(
                "This refresh token was already used, so it may have been stolen: every session started with it "
                "has been signed out. Sign in again."
            )
        return issued

    async def family_of(self, raw: str, user_id: uuid.UUID) -> uuid.UUID | None:
        """The family of a refresh token, if it belongs to this user."""
        async with self._sessions() as session:
            return await session.scalar(
                select(RefreshToken.family_id).where(
                    RefreshToken.token_hash == hash_token(raw), RefreshToken.user_id == user_id
                )
            )

    async def signed_out(self, user_id: uuid.UUID, family_id: uuid.UUID) -> bool:
        """Whether a sign-in was ended (logout, reset, reuse): no token of its family is left unrevoked.
        The PostgreSQL copy of what the Redis deny-list says, for when Redis is away."""
        async with self._sessions() as session:
            live = await session.scalar(
                select(RefreshToken.id)
                .where(
                    RefreshToken.user_id == user_id,
                    RefreshToken.family_id == family_id,
                    RefreshToken.revoked_at.is_(None),
                )
                .limit(1)
            )
        return live is None

    async def revoke_family(self, user_id: uuid.UUID, family_id: uuid.UUID) -> None:
        async with self._sessions.begin() as session:
            await session.execute(
                update(RefreshToken)
                .where(
                    RefreshToken.user_id == user_id,
                    RefreshToken.family_id == family_id,
                    RefreshToken.revoked_at.is_(None),
                )
                .values(revoked_at=datetime.now(UTC))
            )

    async def revoke_all(self, user_id: uuid.UUID, *, except_family: uuid.UUID | None = None) -> None:
        """Every refresh family of the user (but one, when given)."""
        query = update(RefreshToken).where(RefreshToken.user_id == user_id, RefreshToken.revoked_at.is_(None))
        if except_family is not None:
            query = query.where(RefreshToken.family_id != except_family)
        async with self._sessions.begin() as session:
            await session.execute(query.values(revoked_at=datetime.now(UTC)))
