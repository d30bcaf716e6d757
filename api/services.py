"""What the API holds for its lifetime: settings, the stores (from activities/) and the Temporal client."""

from __future__ import annotations

from dataclasses import dataclass

from temporalio.client import Client

from activities.accounts import AccountStore
from activities.billing.entitlements import EntitlementCache
from activities.billing.store import BillingStore
from activities.billing.stripe_gateway import StripeGateway
from activities.cvs import CvStore
from activities.health import HealthChecks
from activities.identities import IdentityStore
from activities.improvements import ImprovementStore
from activities.mail import Mailer
from activities.password_reset import PasswordResetStore
from activities.progress import ProgressBus
from activities.quota import QuotaStore
from activities.ratelimit import RateLimiter
from activities.revocation import TokenDenyList
from activities.sessions import SessionStore
from activities.stores import Stores
from activities.versions import VersionStore
from models.settings import Settings
from ops.temporal import connect


@dataclass
class Services:
    settings: Settings
    stores: Stores
    temporal: Client | None = None

    @classmethod
    def build(cls, settings: Settings) -> Services:
        return cls(settings=settings, stores=Stores.open(settings))

    @property
    def accounts(self) -> AccountStore:
        return self.stores.accounts

    @property
    def cvs(self) -> CvStore:
        return self.stores.cvs

    @property
    def improvements(self) -> ImprovementStore:
        return self.stores.improvements

    @property
    def quota(self) -> QuotaStore:
        return self.stores.quota

    @property
    def progress(self) -> ProgressBus:
        return self.stores.progress

    @property
    def health(self) -> HealthChecks:
        return self.stores.health

    @property
    def sessions(self) -> SessionStore:
        return self.stores.sessions

    @property
    def password_resets(self) -> PasswordResetStore:
        return self.stores.password_resets

    @property
    def deny_list(self) -> TokenDenyList:
        return self.stores.deny_list

    @property
    def rate_limiter(self) -> RateLimiter:
        return self.stores.rate_limiter

    @property
    def mailer(self) -> Mailer:
        return self.stores.mailer

    @property
    def identities(self) -> IdentityStore:
        return self.stores.identities

    @property
    def billing(self) -> BillingStore:
        return self.stores.billing

    @property
    def entitlements(self) -> EntitlementCache:
        return self.stores.entitlements

    @property
    def stripe(self) -> StripeGateway | None:
        return self.stores.stripe

    @property
    def versions(self) -> VersionStore:
        return self.stores.versions

    async def connect_temporal(self) -> Client:
        """Connect once and keep the client; a failed attempt is retried by the next request."""
        if self.temporal is None:
            self.temporal = await connect(self.settings)
        return self.temporal

    async def close(self) -> None:
        await self.stores.close()
