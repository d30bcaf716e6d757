"""Sign-in identities from outside providers (Google): find, create with a new account, or link to an existing
account once its password is confirmed. Never links silently: a verified e-mail that matches a password account
only yields a PendingLink."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from uuid6 import uuid7

from activities.accounts import Account, AccountStore, account_of, normalize_email
from activities.database import Sessions
from activities.errors import Conflict
from models.tables import OAuthIdentity, User


@dataclass(frozen=True)
class ExternalIdentity:
    """What a provider vouched for: its stable subject and a verified e-mail address."""

    provider: str
    subject: str
    email: str
    name: str | None = None


@dataclass(frozen=True)
class PendingLink:
    """The identity is new and its e-mail belongs to a password account: the owner must confirm the password."""

    identity: ExternalIdentity
    email: str


class IdentityConflict(Conflict):
    code = "identity_conflict"
    title = "This sign-in belongs to another account"


class IdentityStore:
    def __init__(self, sessions: Sessions, accounts: AccountStore) -> None:
        self._sessions = sessions
        self._accounts = accounts

    async def find(self, provider: str, subject: str) -> Account | None:
        async with self._sessions() as session:
            user = await session.scalar(
                select(User)
                .join(OAuthIdentity, OAuthIdentity.user_id == User.id)
                .where(OAuthIdentity.provider == provider, OAuthIdentity.subject == subject)
                .where(User.deletion_requested_at.is_(None))  # an account being deleted signs in no more
            )
        return account_of(user) if user else None

    async def sign_in(self, identity: ExternalIdentity) -> Account | PendingLink:
        """The account of a known identity; a new password-less account for a new identity whose e-mail is
        unknown; a PendingLink when the e-mail belongs to a password account."""
        for _ in range(2):  # a concurrent first sign-in of the same identity loses the insert race once
            account = await self.find(identity.provider, identity.subject)
            if account is not None:
                return account
            email = normalize_email(identity.email)
            async with self._sessions() as session:
                existing = await session.scalar(select(User).where(User.email == email))
            if existing is not None:
                if existing.deletion_requested_at is not None:
                    raise IdentityConflict("The account with this e-mail address is being deleted.")
                if existing.password_hash is not None:
                    return PendingLink(identity=identity, email=email)
                # A password-less account comes from another identity of a provider; nothing proves the holder
                # of this one owns it, and there is no password to confirm.
                raise IdentityConflict(
                    "An account with this e-mail address already exists and signs in with another "
                    f"{identity.provider.title()} identity."
                )
            try:
                return await self._create(identity, email)
            except IntegrityError:
                continue
        raise IdentityConflict("This sign-in raced with another one; try again.")

    async def link(self, identity: ExternalIdentity, password: str) -> Account:
        """Link the identity to the account of its e-mail after checking that account's password
        (InvalidCredentials otherwise). Linking the same identity to the same account again is a no-op."""
        account = await self._accounts.authenticate(identity.email, password)
        try:
            async with self._sessions.begin() as session:
                session.add(
                    OAuthIdentity(
                        user_id=account.id,
                        provider=identity.provider,
                        subject=identity.subject,
                        email=normalize_email(identity.email),
                    )
                )
        except IntegrityError:
            owner = await self.find(identity.provider, identity.subject)
            if owner is None or owner.id != account.id:
                raise IdentityConflict(
                    f"This {identity.provider.title()} identity is already linked to another account."
                ) from None
        return account

    async def _create(self, identity: ExternalIdentity, email: str) -> Account:
        user = User(id=uuid7(), email=email, name=identity.name, password_hash=None)
        async with self._sessions.begin() as session:
            session.add(user)
            await session.flush()
            session.add(
                OAuthIdentity(user_id=user.id, provider=identity.provider, subject=identity.subject, email=email)
            )
            await session.flush()
            await session.refresh(user)
        return account_of(user)
