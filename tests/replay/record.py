"""(Re)record the histories the replay tests run: `python -m tests.replay.record [CASE ...]`.

Runs real workflows on a Temporal dev server, with the worker and API the suite uses, against a fresh database
(TEST_DATABASE_URL, dropped and migrated like the suite's) and Redis (TEST_REDIS_URL), the offline engine, the
OpenAI test server and the Stripe test server, then writes each run's history to
`tests/replay/histories/<workflow-type>-<case>.json` (the JSON `temporal workflow show --output json` writes).

Re-record when a workflow gains a code path worth covering, after its change is compatible (or guarded by
`workflow.patched`), and keep the histories of code already deployed: replaying those is the point. Never
re-record to make a failing replay pass. Histories recorded before a patch (`*-before-*.json`) are not
re-recorded by this script.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from alembic.config import Config
from temporalio.client import Client, WorkflowHistory
from temporalio.common import SearchAttributeKey, SearchAttributePair, TypedSearchAttributes
from temporalio.testing import WorkflowEnvironment

from alembic import command
from devstack.binaries import temporal_cli_path
from devstack.services import create_database_if_missing, drop_database, ensure_postgres, ensure_redis
from models.billing import SUBSCRIPTION_WORKFLOW, BillingTimings, SubscriptionInput, subscription_workflow_id
from models.settings import Environment, Settings
from models.workflow_io import SA_CV_USER_ID, SEARCH_ATTRIBUTES
from ops.temporal import data_converter
from tests.billing.conftest import PRICES, WEBHOOK_SECRET, Billing, billing_settings
from tests.conftest import ROOT, SAMPLES, TEST_DATABASE_URL, Stack, llm_settings, open_stack
from tests.fakes.openai_server import FakeOpenAI, Reply
from tests.fakes.stripe_server import FakeStripe

HISTORIES = Path(__file__).resolve().parent / "histories"
# Handled Stripe events per run before continue-as-new: a checkout (2) and a renewal (2) fill the first run.
EVENTS_PER_RUN = 4


def history_path(workflow_type: str, case: str) -> Path:
    return HISTORIES / f"{workflow_type}-{case}.json"


SCRUBBED = {"identity": "recorder", "stackTrace": ""}


def scrub(node: Any) -> Any:
    """Worker identities, sticky queues (pid@host) and stack traces (paths) describe the recording machine, not the
    workflow: not worth checking in, and replay does not read them."""
    if isinstance(node, dict):
        if node.get("kind") == "TASK_QUEUE_KIND_STICKY":
            return {**node, "name": "recorder-sticky"}
        return {k: (SCRUBBED[k] if k in SCRUBBED and isinstance(v, str) else scrub(v)) for k, v in node.items()}
    if isinstance(node, list):
        return [scrub(v) for v in node]
    return node


async def save(client: Client, workflow_type: str, case: str, workflow_id: str, run_id: str | None = None) -> Path:
    history = await client.get_workflow_handle(workflow_id, run_id=run_id).fetch_history()
    path = history_path(workflow_type, case)
    path.write_text(json.dumps(scrub(history.to_json_dict()), indent=1) + "\n", encoding="utf-8")
    print(f"recorded {path.relative_to(ROOT)}: {len(history.events)} events")
    return path


def load(path: Path) -> WorkflowHistory:
    """A checked-in history; its workflow id is the file name (the events do not carry it)."""
    return WorkflowHistory.from_json(path.stem, path.read_text(encoding="utf-8"))


@dataclass
class Recorder:
    env: WorkflowEnvironment
    settings: Settings
    llm: FakeOpenAI
    stripe: FakeStripe

    @asynccontextmanager
    async def stack(self, settings: Settings) -> AsyncIterator[Stack]:
        async with open_stack(self.env, settings) as stack:
            yield stack


async def _improve(stack: Stack, headers: dict[str, str]) -> str:
    cv = await stack.upload(headers, "cv.md", (SAMPLES / "jane-doe-cv.md").read_bytes())
    job = (SAMPLES / "job-senior-backend.txt").read_text(encoding="utf-8")
    r = await stack.http.post(
        f"/cvs/{cv['id']}/improvements",
        headers=headers,
        json={"position": "Senior Backend Engineer", "job_description": job},
    )
    assert r.status_code == 202, r.text
    return str(r.json()["improvement_id"])


async def improvement_completed(rec: Recorder) -> None:
    """Offline engine, every step, then a re-render in another theme."""
    async with rec.stack(rec.settings.model_copy(update={"temporal_task_queue": "record-offline"})) as stack:
        headers = await stack.user()
        iid = await _improve(stack, headers)
        assert (await stack.wait_finished(headers, iid))["stage"] == "completed"
        await save(stack.client, "CvImprovementWorkflow", "completed", f"cv-improvement-{iid}")
        r = await stack.http.post(f"/improvements/{iid}/render", headers=headers, json={"theme": "modern"})
        assert r.status_code == 202, r.text
        workflow_id = r.json()["workflow_id"]
        await stack.client.get_workflow_handle(workflow_id).result()
        await save(stack.client, "CvRenderWorkflow", "completed", workflow_id)


async def improvement_failed(rec: Recorder) -> None:
    """The OpenAI engine; the model refuses the request for good (400): the run fails and refunds."""
    settings = llm_settings(rec.settings, "record-llm", rec.llm.base_url)
    async with rec.stack(settings) as stack:
        rec.llm.script(Reply.server_error(503), Reply.bad_request())
        headers = await stack.user()
        iid = await _improve(stack, headers)
        assert (await stack.wait_finished(headers, iid))["stage"] == "failed"
        await save(stack.client, "CvImprovementWorkflow", "failed", f"cv-improvement-{iid}")


async def account_deleted(rec: Recorder) -> None:
    async with rec.stack(rec.settings.model_copy(update={"temporal_task_queue": "record-offline"})) as stack:
        headers = await stack.user()
        iid = await _improve(stack, headers)
        await stack.wait_finished(headers, iid)
        r = await stack.http.delete("/me", headers=headers)
        assert r.status_code == 202, r.text
        workflow_id = r.json()["workflow_id"]
        await stack.client.get_workflow_handle(workflow_id).result()
        await save(stack.client, "AccountDeletionWorkflow", "completed", workflow_id)


async def subscription(rec: Recorder) -> None:
    """Checkout, a renewal, continue-as-new, a second renewal in the next run, a cancel at period end."""
    async with rec.stack(billing_settings(rec.settings, rec.stripe, "record-billing")) as stack:
        billing = Billing(stack, rec.stripe)
        headers, user_id = await billing.user()
        workflow_id = subscription_workflow_id(user_id)
        # Started ahead of the checkout (as the API would) with a short run, to cross continue-as-new.
        handle = await stack.client.start_workflow(
            SUBSCRIPTION_WORKFLOW,
            SubscriptionInput(user_id, BillingTimings(max_events_per_run=EVENTS_PER_RUN)),
            id=workflow_id,
            task_queue=stack.settings.temporal_task_queue,
            search_attributes=TypedSearchAttributes(
                [SearchAttributePair(SearchAttributeKey.for_keyword(SA_CV_USER_ID), str(user_id))]
            ),
        )
        first_run = handle.result_run_id
        subscription_id = await billing.subscribe(headers)
        for renewals in (1, 2):
            await billing.deliver(await asyncio.to_thread(rec.stripe.renew, subscription_id))
            await billing.wait_for(headers, lambda s, n=renewals: s["renewals"] == n)  # type: ignore[misc]
        r = await billing.http.post("/billing/cancel", headers=headers)
        assert r.status_code == 200, r.text
        second_run = (await stack.client.get_workflow_handle(workflow_id).describe()).run_id
        assert second_run != first_run, "the subscription should have continued as new"
        await save(stack.client, SUBSCRIPTION_WORKFLOW, "checkout-renewal-continue-as-new", workflow_id, first_run)
        await save(stack.client, SUBSCRIPTION_WORKFLOW, "renewal-cancel-after-continue-as-new", workflow_id, second_run)
        await stack.client.get_workflow_handle(workflow_id).terminate("recorded")


CASES: dict[str, Callable[[Recorder], Awaitable[None]]] = {
    "improvement-completed": improvement_completed,
    "improvement-failed": improvement_failed,
    "account-deleted": account_deleted,
    "subscription": subscription,
}


async def record(cases: list[str]) -> None:
    url = os.environ.get("TEST_DATABASE_URL", TEST_DATABASE_URL)
    pg = await ensure_postgres(url, ROOT / ".dev" / "test-pgdata")
    await drop_database(pg.url)
    await create_database_if_missing(pg.url)
    config = Config(str(ROOT / "alembic.ini"))
    config.attributes["database_url"] = pg.url
    config.attributes["configure_logging"] = False
    await asyncio.to_thread(command.upgrade, config, "head")
    redis = await ensure_redis(
        os.environ.get("TEST_REDIS_URL", "redis://127.0.0.1:6379/15"), ROOT / ".dev" / "test-redis"
    )
    settings = Settings(
        env=Environment.TEST,
        database_url=pg.url,
        redis_url=redis.url,
        openai_api_key=None,
        render_processes=1,
        _env_file=None,
    )
    env = await WorkflowEnvironment.start_local(
        dev_server_existing_path=temporal_cli_path(),
        ui=False,
        search_attributes=[SearchAttributeKey.for_keyword(name) for name in SEARCH_ATTRIBUTES],
        data_converter=data_converter(settings),
        dev_server_log_level="error",
    )
    HISTORIES.mkdir(parents=True, exist_ok=True)
    try:
        with FakeOpenAI() as llm, FakeStripe(prices=PRICES, webhook_secret=WEBHOOK_SECRET) as stripe:
            recorder = Recorder(env, settings, llm, stripe)
            for name in cases:
                await CASES[name](recorder)
    finally:
        await env.shutdown()
        redis.stop()
        pg.stop()


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("cases", nargs="*", metavar="CASE", help=f"cases to record (default: all): {', '.join(CASES)}")
    args = parser.parse_args(argv)
    unknown = set(args.cases) - set(CASES)
    if unknown:
        parser.error(f"unknown case(s): {', '.join(sorted(unknown))}")
    asyncio.run(record(args.cases or list(CASES)))


if __name__ == "__main__":
    main()
