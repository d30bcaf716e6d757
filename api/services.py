"""What the API holds for its lifetime: settings, the stores (from activities/) and the Temporal client."""

from __future__ import annotations

from dataclasses import dataclass

from temporalio.client import Client
from temporalio.contrib.pydantic import pydantic_data_converter

from activities.accounts import AccountStore
from activities.cvs import CvStore
from activities.health import HealthChecks
from activities.improvements import ImprovementStore
from activities.progress import ProgressBus
from activities.quota import QuotaStore
from activities.stores import Stores
from models.settings import Settings


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

    async def connect_temporal(self) -> Client:
        """Connect once and keep the client; a failed attempt is retried by the next request."""
        if self.temporal is None:
            self.temporal = await Client.connect(
                self.settings.temporal_address,
                namespace=self.settings.temporal_namespace,
                data_converter=pydantic_data_converter,
            )
        return self.temporal

    async def close(self) -> None:
        await self.stores.close()
