"""The request-scoped stores the API calls in-process, built once per process with their connections."""

from __future__ import annotations

from dataclasses import dataclass

from redis.asyncio import Redis
from sqlalchemy.ext.asyncio import AsyncEngine

from activities.accounts import AccountStore
from activities.cvs import CvStore
from activities.database import create_engine, create_sessions
from activities.health import HealthChecks
from activities.improvements import ImprovementStore
from activities.progress import ProgressBus
from activities.quota import QuotaStore
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
    health: HealthChecks

    @classmethod
    def open(cls, settings: Settings) -> Stores:
        engine = create_engine(settings.database_url)
        sessions = create_sessions(engine)
        redis = Redis.from_url(settings.redis_url, socket_timeout=5, socket_connect_timeout=2)
        return cls(
            engine=engine,
            redis=redis,
            accounts=AccountStore(sessions),
            cvs=CvStore(sessions, max_pages=settings.max_pages),
            improvements=ImprovementStore(sessions),
            quota=QuotaStore(sessions),
            progress=ProgressBus(redis),
            health=HealthChecks(engine, redis),
        )

    async def close(self) -> None:
        await self.redis.aclose()
        await self.engine.dispose()
