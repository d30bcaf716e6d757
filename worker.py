"""The Temporal worker: builds clients and activity instances once, runs the workflows, shuts down gracefully."""

from __future__ import annotations

import asyncio
import logging
import signal
from dataclasses import dataclass
from datetime import timedelta
from typing import TYPE_CHECKING

# Only the standard library at import time: the render processes are spawned, and a spawned child re-imports
# the main module. Importing Temporal, SQLAlchemy and OpenAI here cost each render process ~150 MB for nothing.
if TYPE_CHECKING:
    from redis.asyncio import Redis
    from sqlalchemy.ext.asyncio import AsyncEngine
    from temporalio.client import Client
    from temporalio.worker import Worker

    from activities.billing.stripe_gateway import StripeGateway
    from activities.billing.subscription_activities import SubscriptionActivities
    from activities.pipeline import CvPipelineActivities
    from activities.rendering import PdfRenderer
    from models.settings import Settings

log = logging.getLogger("cvimprover.worker")


@dataclass
class WorkerResources:
    """Everything the activities share; closed once when the worker stops."""

    engine: AsyncEngine
    redis: Redis
    renderer: PdfRenderer
    pipeline: CvPipelineActivities
    subscriptions: SubscriptionActivities
    stripe: StripeGateway | None

    async def close(self) -> None:
        self.renderer.close()
        await self.redis.aclose()
        await self.engine.dispose()


def create_resources(settings: Settings) -> WorkerResources:
    from redis.asyncio import Redis

    from activities.billing.entitlements import EntitlementCache
    from activities.billing.store import BillingStore
    from activities.billing.stripe_gateway import StripeGateway
    from activities.billing.subscription_activities import SubscriptionActivities
    from activities.database import create_engine, create_sessions
    from activities.llm import build_engine
    from activities.pipeline import CvPipelineActivities
    from activities.progress import ProgressBus
    from activities.rendering import PdfRenderer

    engine = create_engine(settings.database_url)
    redis = Redis.from_url(settings.redis_url)
    renderer = PdfRenderer(max_workers=settings.render_processes)
    sessions = create_sessions(engine)
    pipeline = CvPipelineActivities(
        sessions,
        ProgressBus(redis),
        build_engine(settings),
        renderer,
        max_pages=settings.max_pages,
    )
    stripe = StripeGateway.from_settings(settings)
    subscriptions = SubscriptionActivities(
        BillingStore(sessions, settings.stripe_price_overrides()),
        EntitlementCache(sessions, redis),
        stripe,
        success_url=f"{settings.public_app_url}/billing/success?session_id={{CHECKOUT_SESSION_ID}}",
        cancel_url=f"{settings.public_app_url}/billing",
    )
    return WorkerResources(engine, redis, renderer, pipeline, subscriptions, stripe)


async def connect_temporal(settings: Settings) -> Client:
    from ops.metrics import worker_runtime
    from ops.temporal import connect

    # Its runtime's Prometheus exporter serves the SDK's metrics and the business counters (WORKER_METRICS_PORT).
    return await connect(settings, runtime=worker_runtime(settings))


def create_worker(client: Client, settings: Settings, resources: WorkerResources) -> Worker:
    from temporalio.worker import Worker

    from activities.account_deletion import AccountDeletionActivities
    from activities.database import create_sessions
    from workflows.registry import WORKFLOWS

    p = resources.pipeline
    s = resources.subscriptions
    # Built here rather than in create_resources: canceling the user's workflows needs the worker's client.
    d = AccountDeletionActivities(create_sessions(resources.engine), client, resources.stripe)
    return Worker(
        client,
        task_queue=settings.temporal_task_queue,
        workflows=list(WORKFLOWS),
        activities=[
            p.reserve_quota,
            p.extract_cv,
            p.rewrite_cv,
            p.verify_rewrite,
            p.score_cv,
            p.render_pdf,
            p.complete_improvement,
            p.fail_improvement,
            d.mark_account_deleting,
            d.cancel_user_workflows,
            d.cancel_billing,
            d.erase_account_data,
            d.delete_user_row,
            s.create_checkout_session,
            s.fetch_subscription,
            s.update_subscription,
            s.load_subscription,
            s.record_subscription,
        ],
        # Most activity time is spent waiting on the LLM: many can be in flight at once.
        max_concurrent_activities=200,
        graceful_shutdown_timeout=timedelta(seconds=settings.worker_shutdown_grace_seconds),
    )


async def run(settings: Settings) -> None:
    client = await connect_temporal(settings)
    resources = create_resources(settings)
    resources.renderer.start()
    worker = create_worker(client, settings, resources)
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)
    log.info("worker polling task queue %s on %s", settings.temporal_task_queue, settings.temporal_address)
    try:
        async with worker:
            await stop.wait()
            log.info(
                "worker stopping: finishing in-flight activities (up to %.0f s)", settings.worker_shutdown_grace_seconds
            )
        log.info("worker stopped")
    finally:
        await resources.close()


def main() -> None:
    from models.settings import get_settings
    from ops.logging import configure_logging
    from ops.tracing import configure_tracing

    settings = get_settings()
    configure_logging(settings)
    # Before the client is built: its interceptors include Temporal's tracing one only when tracing is on.
    configure_tracing(settings, "cvimprover-worker")
    asyncio.run(run(settings))


if __name__ == "__main__":
    main()
