"""A worker killed with SIGKILL inside each Stripe call of SubscriptionWorkflow; a new worker finishes the work
with exactly one side effect at Stripe and in our tables.

"Inside" is made deterministic by the fake Stripe: `hold_next` lets the matching request run (state changed,
answer stored under its idempotency key) and then holds its answer back, like an answer lost while the worker
dies. Three users are held at once in one worker, killed with one SIGKILL and taken over by one new worker (the
Stripe activities heartbeat with a 10 s timeout, so the dead attempts are retried ~10 s after the kill):

    checkout: `POST /v1/checkout/sessions` of an Update-with-Start checkout a user waits for; the user repeats a
        503 with the same Idempotency-Key; one Checkout Session, every retry replayed by Stripe
    renewal: `GET /v1/subscriptions/{id}` after a delivered `invoice.paid`; the renewal counted once
    cancel: `POST /v1/subscriptions/{id}` (cancel_at_period_end); one update at Stripe, the retry replayed
"""

from __future__ import annotations

import asyncio
import signal
import time
import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import pytest
import pytest_asyncio
from sqlalchemy import text
from sqlalchemy.ext.asyncio import create_async_engine
from temporalio.testing import WorkflowEnvironment

from models.settings import Settings
from tests.billing.conftest import PRICES, WEBHOOK_SECRET, Billing, billing_settings
from tests.conftest import open_stack
from tests.fakes.stripe_server import FakeStripe, RecordedRequest
from tests.worker_process import start_worker

QUEUE = "cv-improver-subscription-kills"
# Longer than seeing the three requests arrive and killing the worker (~1 s), shorter than the takeover (~12 s):
# the held answers are gone before the fake stops.
HOLD_SECONDS = 8.0
NO_LLM = "http://127.0.0.1:9/v1"  # billing never calls the LLM


@dataclass
class Campaign:
    stripe: FakeStripe
    settings: Settings
    log: Path
    users: dict[str, uuid.UUID] = field(default_factory=dict)
    subscriptions: dict[str, str] = field(default_factory=dict)
    checkout_key: str = ""
    checkout_answers: list[httpx.Response] = field(default_factory=list)
    cancel_answer: httpx.Response | None = None
    paid_event: str = ""
    final: dict[str, dict[str, Any]] = field(default_factory=dict)
    armed_at: int = 0  # index in the fake's request log when the holds were set


async def reached(stripe: FakeStripe, since: int, method: str, prefix: str, log: Path, timeout: float = 20) -> None:
    """Until a request matching (method, path prefix) has reached the fake after index `since`."""
    deadline = time.monotonic() + timeout
    while not any(r.method == method and r.path.startswith(prefix) for r in stripe.requests[since:]):
        assert time.monotonic() < deadline, f"{method} {prefix} never reached Stripe:\n" + log.read_text()[-3000:]
        await asyncio.sleep(0.02)


@pytest_asyncio.fixture(scope="module")
async def campaign(
    temporal_env: WorkflowEnvironment, base_settings: Settings, tmp_path_factory: pytest.TempPathFactory
) -> AsyncIterator[Campaign]:
    address = temporal_env.client.service_client.config.target_host
    log = tmp_path_factory.mktemp("subscription-kills") / "worker.log"
    with FakeStripe(prices=PRICES, webhook_secret=WEBHOOK_SECRET) as fake:
        settings = billing_settings(base_settings, fake, QUEUE)
        env = {"STRIPE_SECRET_KEY": "sk_test_billing", "STRIPE_WEBHOOK_SECRET": WEBHOOK_SECRET}
        env["STRIPE_API_BASE"] = fake.url
        c = Campaign(fake, settings, log)
        async with open_stack(temporal_env, settings, worker=False) as stack:
            billing = Billing(stack, fake)
            headers: dict[str, dict[str, str]] = {}
            for name in ("checkout", "renewal", "cancel"):
                headers[name], c.users[name] = await billing.user()
            worker = start_worker(settings, address, QUEUE, NO_LLM, log, **env)
            try:
                for name in ("renewal", "cancel"):
                    c.subscriptions[name] = await billing.subscribe(headers[name])
                renewal_events = await asyncio.to_thread(fake.renew, c.subscriptions["renewal"])
                paid = next(e for e in renewal_events if e["type"] == "invoice.paid")
                c.paid_event = paid["id"]

                c.armed_at, held_since = len(fake.requests), time.monotonic()
                fake.hold_next("POST", "/v1/checkout/sessions", seconds=HOLD_SECONDS)
                fake.hold_next("GET", f"/v1/subscriptions/{c.subscriptions['renewal']}", seconds=HOLD_SECONDS)
                fake.hold_next("POST", f"/v1/subscriptions/{c.subscriptions['cancel']}", seconds=HOLD_SECONDS)
                c.checkout_key = f"kill-{uuid.uuid4()}"
                checkout_headers = {**headers["checkout"], "Idempotency-Key": c.checkout_key}
                body = {"plan": "pro", "interval": "month"}
                checkout_call = stack.http.post("/billing/checkout", headers=checkout_headers, json=body)
                checkout = asyncio.create_task(checkout_call)
                cancel = asyncio.create_task(stack.http.post("/billing/cancel", headers=headers["cancel"]))
                await billing.deliver([paid])
                await reached(fake, c.armed_at, "POST", "/v1/checkout/sessions", log)
                await reached(fake, c.armed_at, "GET", f"/v1/subscriptions/{c.subscriptions['renewal']}", log)
                await reached(fake, c.armed_at, "POST", f"/v1/subscriptions/{c.subscriptions['cancel']}", log)

                assert time.monotonic() - held_since < HOLD_SECONDS / 2, "too slow to kill while the answers are held"
                worker.send_signal(signal.SIGKILL)
                await asyncio.to_thread(worker.wait, 10)
                worker = start_worker(settings, address, QUEUE, NO_LLM, log, **env)

                answer = await checkout
                c.checkout_answers.append(answer)
                deadline = time.monotonic() + 30
                while answer.status_code == 503 and time.monotonic() < deadline:
                    await asyncio.sleep(1)  # the user tries again with the same key
                    answer = await stack.http.post("/billing/checkout", headers=checkout_headers, json=body)
                    c.checkout_answers.append(answer)
                c.cancel_answer = await cancel
                statuses = [a.status_code for a in c.checkout_answers]
                print(f"after the kill: checkout answered {statuses}, cancel {c.cancel_answer.status_code}")
                c.final["renewal"] = await billing.wait_for(headers["renewal"], lambda s: s["renewals"] == 1, 30)
                c.final["cancel"] = await billing.wait_for(headers["cancel"], lambda s: s["status"] == "canceling", 30)
                c.final["checkout"] = await billing.subscription(headers["checkout"])
            finally:
                worker.terminate()
                await asyncio.to_thread(worker.wait, 30)
            yield c


def posts(c: Campaign, method: str, path: str) -> list[RecordedRequest]:
    return [r for r in c.stripe.requests[c.armed_at :] if r.method == method and r.path == path]


async def test_checkout_killed_mid_call_makes_one_session(campaign: Campaign) -> None:
    c = campaign
    user = str(c.users["checkout"])
    assert [a.status_code for a in c.checkout_answers][-1] == 200, (c.checkout_answers[-1].text, c.log.read_text())
    assert {a.status_code for a in c.checkout_answers[:-1]} <= {503}
    sessions = [s for s in c.stripe.checkout_sessions if s["client_reference_id"] == user]
    assert len(sessions) == 1, sessions
    assert all(a.json()["session_id"] == sessions[0]["id"] for a in c.checkout_answers if a.status_code == 200)
    created = [r for r in posts(c, "POST", "/v1/checkout/sessions") if r.form.get("client_reference_id") == user]
    # The held call ran once; the new worker's attempt sent the same key and got the stored answer.
    assert len(created) >= 2, created
    assert len({r.idempotency_key for r in created}) == 1 and created[0].idempotency_key
    assert [r.replayed for r in created] == [False] + [True] * (len(created) - 1)
    assert c.final["checkout"]["status"] == "checkout_pending"


async def test_renewal_fetch_killed_mid_call_counts_once(campaign: Campaign) -> None:
    c = campaign
    reads = posts(c, "GET", f"/v1/subscriptions/{c.subscriptions['renewal']}")
    assert len(reads) >= 2, reads  # the held read and the new worker's
    assert c.final["renewal"]["renewals"] == 1 and c.final["renewal"]["status"] == "active"
    engine = create_async_engine(c.settings.database_url)
    async with engine.connect() as conn:
        rows = (
            await conn.execute(
                text("select outcome from stripe_events where event_id = :e and user_id = :u"),
                {"e": c.paid_event, "u": c.users["renewal"]},
            )
        ).all()
    await engine.dispose()
    assert [r.outcome for r in rows] == ["applied"]


async def test_cancel_killed_mid_call_updates_stripe_once(campaign: Campaign) -> None:
    c = campaign
    subscription_id = c.subscriptions["cancel"]
    assert c.cancel_answer is not None
    assert c.cancel_answer.status_code in (200, 503), c.cancel_answer.text
    assert c.stripe.get(subscription_id)["cancel_at_period_end"] is True
    updates = posts(c, "POST", f"/v1/subscriptions/{subscription_id}")
    assert len(updates) >= 2, updates
    assert len({r.idempotency_key for r in updates}) == 1 and updates[0].idempotency_key
    assert [r.replayed for r in updates] == [False] + [True] * (len(updates) - 1)
    assert c.final["cancel"]["status"] == "canceling" and c.final["cancel"]["cancel_at_period_end"] is True
