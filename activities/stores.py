"""The request-scoped stores the API calls in-process, built once per process with their connections."""

from __future__ import annotations

from dataclasses import dataclass

from redis.asyncio import Redis
from sqlalchemy.ext.asyncio import AsyncEngine

from activities.accounts import AccountStore
from activities.billing.entitlements import EntitlementCache
from activities.billing.store import BillingStore
from activities.billing.stripe_gateway import StripeGateway
from activities.cvs import CvStore
from activities.database import create_engine, create_sessions
from activities.health import HealthChecks
from activities.identities import IdentityStore
from activities.improvements import ImprovementStore
from activities.mail import Mailer, mailer_from_settings
from activities.password_reset import PasswordResetStore
from activities.progress import ProgressBus
from activities.quota import QuotaStore
from activities.ratelimit import RateLimiter
from activities.revocation import TokenDenyList
from activities.sessions import SessionStore
from activities.versions import VersionStore
from models.settings import Settings


@dataclass
class Stores:
    engine: AsyncEngine
    redis: Redis
    accounts: AccountStore
    cvs: CvStore
    improvements: ImprovementStore
    quota: QuotaStore
    progress: ProgressBus
    sessions: SessionStore
    password_resets: PasswordResetStore
    deny_list: TokenDenyList
    rate_limiter: RateLimiter
    mailer: Mailer
    health: HealthChecks
    identities: IdentityStore
    billing: BillingStore
    entitlements: EntitlementCache
    stripe: StripeGateway | None  # None when billing is not configured
    versions: VersionStore

    @classmethod
    def open(cls, settings: Settings) -> Stores:
        engine = create_engine(settings.database_url)
        sessions = create_sessions(engine)
        redis = Redis.from_url(settings.redis_url, socket_timeout=5, socket_connect_timeout=2)
        accounts = AccountStore(sessions)
        return cls(
            engine=engine,
            redis=redis,
            accounts=accounts,
            cvs=CvStore(sessions, max_pages=settings.max_pages),
            improvements=ImprovementStore(sessions),
            quota=QuotaStore(sessions),
            progress=ProgressBus(redis),
            sessions=SessionStore(sessions, ttl_seconds=settings.refresh_token_ttl_seconds),
            password_resets=PasswordResetStore(sessions, ttl_seconds=settings.password_reset_ttl_seconds),
            deny_list=TokenDenyList(redis, access_token_ttl_seconds=settings.access_token_ttl_seconds),
            rate_limiter=RateLimiter(redis),
            mailer=mailer_from_settings(settings),
            health=HealthChecks(engine, redis),
            identities=IdentityStore(sessions, accounts),
            billing=BillingStore(sessions, settings.stripe_price_overrides()),
            entitlements=EntitlementCache(sessions, redis),
            stripe=StripeGateway.from_settings(settings),
            versions=VersionStore(sessions),
        )

    async def close(self) -> None:
        await self.redis.aclose()
        await self.engine.dispose()
