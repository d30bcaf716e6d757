"""What operators see in the Temporal UI, checked in a real headless Chromium (Debian's chromium driven by
playwright-core from npm, `tests/ui/inspect_ui.mjs`): the workflow list and the pages of an improvement and a
subscription with their search attributes, summaries and current details; and, with payload encryption on, clear
JSON through the codec server while the Temporal server keeps ciphertext. Screenshots land in `.dev/ui/`."""

from __future__ import annotations

import asyncio
import base64
import json
import os
import random
import shutil
import socket
import subprocess
import threading
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import uvicorn
from google.protobuf.message import Message
from pydantic import SecretStr
from temporalio.api.common.v1 import Payload
from temporalio.api.history.v1 import History
from temporalio.client import Client
from temporalio.common import SearchAttributeKey
from temporalio.contrib.pydantic import pydantic_data_converter
from temporalio.testing import WorkflowEnvironment

from api.app import create_app
from devstack.binaries import temporal_cli_path
from models.settings import Settings
from models.workflow_io import SEARCH_ATTRIBUTES
from tests.billing.conftest import PRICES, WEBHOOK_SECRET, Billing, billing_settings
from tests.conftest import ROOT, SAMPLES, Stack, open_stack
from tests.fakes.stripe_server import FakeStripe

pytestmark = pytest.mark.slow

UI_DIR = ROOT / "tests" / "ui"
SCREENSHOTS = ROOT / ".dev" / "ui"
CHROMIUM = os.environ.get("CHROMIUM_PATH", "/usr/bin/chromium")
CODEC_TOKEN = "operator-token-for-the-ui-test-0123456789"
ENCRYPTED = b"binary/encrypted"
LIST_COLUMNS = ["Status", "Workflow ID", "Type", "CvUserId", "CvStage", "CvPlan", "CvSubscriptionStatus"]
TARGET = {
    "position": "Senior Backend Engineer",
    "job_description": (SAMPLES / "job-senior-backend.txt").read_text(),
    "theme": "modern",
    "paper": "A4",
    "output_language": "en",
}


def _ensure_browser() -> None:
    if not Path(CHROMIUM).is_file():
        pytest.skip(f"{CHROMIUM} is missing: `make test` installs Debian's chromium (scripts/install-system-deps.sh)")
    if shutil.which("node") is None:
        pytest.skip("node is not installed: the Temporal UI test drives Chromium with playwright-core")
    if not (UI_DIR / "node_modules" / "playwright-core").is_dir():
        # `make test` installs it; a bare pytest run does it here.
        if shutil.which("npm") is None:
            pytest.skip("npm is not installed and tests/ui/node_modules is missing (playwright-core)")
        subprocess.run(["npm", "ci", "--no-audit", "--no-fund", "--prefix", str(UI_DIR)], check=True)


def _free_port() -> int:
    """A free port below Linux's ephemeral range (32768-60999): a port the kernel hands out for `bind(0)` or an
    outgoing connection (the dev server opens several) could be taken again before the UI or the API binds it."""
    for _ in range(100):
        port = random.randrange(20_000, 32_000)
        with socket.socket() as s:
            try:
                s.bind(("127.0.0.1", port))
            except OSError:
                continue
            return port
    raise RuntimeError("no free port between 20000 and 32000")


async def inspect_ui(job: dict[str, Any]) -> dict[str, Any]:
    """Run `inspect_ui.mjs` on a job; asynchronously, so that the worker on this event loop answers the UI's
    queries (current details) meanwhile."""
    job = {"out_dir": str(SCREENSHOTS), "timeout_ms": 20_000, **job}
    process = await asyncio.create_subprocess_exec(
        "node",
        str(UI_DIR / "inspect_ui.mjs"),
        stdin=asyncio.subprocess.PIPE,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
        env={**os.environ, "CHROMIUM_PATH": CHROMIUM, "NODE_NO_WARNINGS": "1"},
    )
    out, err = await asyncio.wait_for(process.communicate(json.dumps(job).encode()), timeout=120)
    assert process.returncode == 0, err.decode()
    return dict(json.loads(out))


def missing_in(report: dict[str, Any]) -> dict[str, Any]:
    """Every expected text a view did not show and every unwanted text it did, by view; empty when all is well."""
    problems: dict[str, Any] = {}
    for workflow_id, row in report.get("list", {}).get("rows", {}).items():
        if row["missing"] or row["count"] != 1:
            problems[f"list row {workflow_id}"] = {"missing": row["missing"], "rows": row["count"], "text": row["text"]}
    for page in report.get("pages", []):
        for tab in page["tabs"]:
            if tab["missing"] or tab["present"]:
                problems[f"{page['workflow_id']} {tab['tab']}"] = {
                    "missing": tab["missing"],
                    "unwanted": tab["present"],
                    "text": tab["text"][-1500:],
                    "screenshot": tab["screenshot"],
                }
    return problems


@asynccontextmanager
async def dev_server_with_ui(*extra_args: str) -> AsyncIterator[tuple[WorkflowEnvironment, str]]:
    """A Temporal dev server of its own with its Web UI on a free port and our search attributes."""
    port = _free_port()
    env = await WorkflowEnvironment.start_local(
        dev_server_existing_path=temporal_cli_path(),
        ui=True,
        ui_port=port,
        search_attributes=[SearchAttributeKey.for_keyword(name) for name in SEARCH_ATTRIBUTES],
        data_converter=pydantic_data_converter,
        dev_server_log_level="error",
        dev_server_extra_args=["--ui-disable-news-fetch", *extra_args],
    )
    try:
        yield env, f"http://127.0.0.1:{port}"
    finally:
        await env.shutdown()


@dataclass
class Operated:
    """One finished improvement and one active subscription, as the API answered them."""

    improvement_id: str
    improvement_workflow: str
    improvement_user: str
    cv_id: str
    subscription_workflow: str
    subscription_user: str


async def improve_and_subscribe(stack: Stack, stripe: FakeStripe) -> Operated:
    headers = await stack.user()
    me = (await stack.http.get("/me", headers=headers)).json()
    cv = await stack.upload(headers, "jane.md", (SAMPLES / "jane-doe-cv.md").read_bytes())
    r = await stack.http.post(f"/cvs/{cv['id']}/improvements", headers=headers, json=TARGET)
    assert r.status_code == 202, r.text
    accepted = r.json()
    finished = await stack.wait_finished(headers, accepted["improvement_id"])
    assert finished["stage"] == "completed", finished

    billing = Billing(stack, stripe)
    subscriber, subscriber_id = await billing.user()
    await billing.subscribe(subscriber, "pro")
    return Operated(
        improvement_id=accepted["improvement_id"],
        improvement_workflow=accepted["workflow_id"],
        improvement_user=me["id"],
        cv_id=cv["id"],
        subscription_workflow=f"subscription-{subscriber_id}",
        subscription_user=str(subscriber_id),
    )


@pytest.fixture(scope="module")
def browser_ready() -> None:
    _ensure_browser()


@pytest.fixture(scope="module")
def stripe() -> Iterator[FakeStripe]:
    with FakeStripe(prices=PRICES, webhook_secret=WEBHOOK_SECRET) as fake:
        yield fake


async def test_operators_find_an_improvement_and_a_subscription_with_search_attributes_and_summaries(
    browser_ready: None, base_settings: Settings, stripe: FakeStripe
) -> None:
    queue = "cv-improver-ui"
    async with (
        dev_server_with_ui() as (env, ui),
        open_stack(env, billing_settings(base_settings, stripe, queue)) as stack,
    ):
        run = await improve_and_subscribe(stack, stripe)
        report = await inspect_ui(
            {
                "ui": ui,
                "name": "plain",
                "columns": LIST_COLUMNS,
                "list": {
                    # An operator's visibility query: everything of these two users.
                    "query": f'CvUserId IN ("{run.improvement_user}", "{run.subscription_user}")',
                    "rows": {
                        run.improvement_workflow: [
                            "COMPLETED",
                            "CvImprovementWorkflow",
                            run.improvement_user,
                            "completed",
                            "free",
                        ],
                        run.subscription_workflow: [
                            "RUNNING",
                            "SubscriptionWorkflow",
                            run.subscription_user,
                            "pro",
                            "active",
                        ],
                    },
                },
                "pages": [
                    {
                        "workflow_id": run.improvement_workflow,
                        "label": "improvement",
                        "tabs": [
                            {
                                "tab": "User Metadata",
                                "expect": [
                                    "Summary",
                                    f"Improve CV {run.cv_id} for user {run.improvement_user}: theme modern, A4,"
                                    " language en",
                                    "Current Details",
                                    "Completed with offline:",
                                    "keyword score",
                                ],
                            },
                            {
                                "tab": "Search Attributes",
                                "expect": [
                                    f'"CvUserId": "{run.improvement_user}"',
                                    '"CvStage": "completed"',
                                    '"CvPlan": "free"',
                                ],
                            },
                            {"tab": "Timeline", "expect": ["render_pdf • Render the PDF (modern, A4)"]},
                        ],
                    },
                    {
                        "workflow_id": run.subscription_workflow,
                        "label": "subscription",
                        "tabs": [
                            {
                                "tab": "User Metadata",
                                "expect": [
                                    f"Subscription of user {run.subscription_user}: Stripe checkout, renewals",
                                    "Status: active · plan: pro (monthly)",
                                    "Period ends:",
                                ],
                            },
                            {
                                "tab": "Search Attributes",
                                "expect": [
                                    f'"CvUserId": "{run.subscription_user}"',
                                    '"CvPlan": "pro"',
                                    '"CvSubscriptionStatus": "active"',
                                ],
                            },
                        ],
                    },
                ],
            }
        )
    assert report["list"]["headers"][-len(LIST_COLUMNS) :] == LIST_COLUMNS
    assert missing_in(report) == {}


@asynccontextmanager
async def serve_api(settings: Settings, port: int) -> AsyncIterator[str]:
    """The API app over real HTTP (uvicorn in a thread), so that the browser reaches its codec server."""
    server = uvicorn.Server(
        uvicorn.Config(create_app(settings), host="127.0.0.1", port=port, log_level="warning", lifespan="on")
    )
    thread = threading.Thread(target=server.run, name="ui-test-api", daemon=True)
    thread.start()
    try:
        deadline = asyncio.get_running_loop().time() + 20
        while not server.started:
            assert thread.is_alive(), "the API did not start"
            assert asyncio.get_running_loop().time() < deadline, "the API did not start in 20 s"
            await asyncio.sleep(0.05)
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        await asyncio.to_thread(thread.join, 10)


def payloads_in(message: Message, path: str = "") -> Iterator[tuple[str, Payload]]:
    """Every Payload in a protobuf message with its path: field names, map keys and list indexes in brackets."""
    if isinstance(message, Payload):
        yield path, message
        return
    for field, value in message.ListFields():
        if field.message_type is None:
            continue
        if field.message_type.GetOptions().map_entry:
            items = [(f"{path}.{field.name}[{key}]", item) for key, item in value.items()]
        elif isinstance(value, Message):
            items = [(f"{path}.{field.name}", value)]
        else:
            items = [(f"{path}.{field.name}[{index}]", item) for index, item in enumerate(value)]
        for where, item in items:
            if isinstance(item, Message):
                yield from payloads_in(item, where)


# Payloads the Temporal server must read or that carry no user data, in clear by design: search attributes (the
# server indexes them), headers (request and user ids for the logs, ops/context.py) and the SDK's own record of a
# local activity (its marker's `data`: type, attempt, times; the activity's result is under `result`, encrypted).
CLEAR_BY_DESIGN = (".search_attributes.", ".header.", ".marker_recorded_event_attributes.details[data].")


async def test_with_the_codec_server_the_ui_reads_clear_json_while_the_server_keeps_ciphertext(
    browser_ready: None, base_settings: Settings, stripe: FakeStripe
) -> None:
    api_port = _free_port()
    codec = f"http://127.0.0.1:{api_port}/codec"
    async with dev_server_with_ui("--ui-codec-endpoint", codec) as (env, ui):
        settings = billing_settings(base_settings, stripe, "cv-improver-ui-codec").model_copy(
            update={
                "payload_encryption_keys": SecretStr(f"ui-test:{base64.b64encode(os.urandom(32)).decode()}"),
                "codec_server_token": SecretStr(CODEC_TOKEN),
                "codec_cors_origins": ui,
                "temporal_address": env.client.service_client.config.target_host,
            }
        )
        async with serve_api(settings, api_port), open_stack(env, settings) as stack:
            run = await improve_and_subscribe(stack, stripe)
            clear_input = [f'"improvement_id": "{run.improvement_id}"', '"theme": "modern"', '"paper": "A4"']
            clear_result = ['"stage": "completed"', '"percent": 100']
            summary = f"Improve CV {run.cv_id} for user {run.improvement_user}: theme modern, A4, language en"

            # The history as the Temporal server keeps it, read by a client without the codec.
            raw = Client(**env.client.config())
            history = await raw.get_workflow_handle(run.improvement_workflow).fetch_history()
            events = History(events=history.events)
            payloads = list(payloads_in(events))
            in_clear = [where for where, p in payloads if p.metadata.get("encoding") != ENCRYPTED]
            assert [where for where in in_clear if not any(part in where for part in CLEAR_BY_DESIGN)] == []
            encrypted = {where.split("]", 1)[1] for where, p in payloads if p.metadata.get("encoding") == ENCRYPTED}
            assert {
                ".workflow_execution_started_event_attributes.input.payloads[0]",
                ".workflow_execution_completed_event_attributes.result.payloads[0]",
                ".user_metadata.summary",
                ".marker_recorded_event_attributes.details[result].payloads[0]",
                ".activity_task_completed_event_attributes.result.payloads[0]",
            } <= encrypted
            serialized = events.SerializeToString()
            for text in ["improvement_id", '"theme"', "modern", '"stage"', "Improve CV", "Render the PDF", run.cv_id]:
                assert text.encode() not in serialized, text

            # Without the operator's credentials the codec server refuses, and the UI shows ciphertext only.
            refused = await inspect_ui(
                {
                    "ui": ui,
                    "name": "codec-refused",
                    "codec_prefix": codec,
                    "pages": [
                        {
                            "workflow_id": run.improvement_workflow,
                            "label": "improvement",
                            "tabs": [
                                {
                                    "tab": "Timeline",
                                    "expect": ["Codec Server could not connect", "Input", "Result", "render_pdf"],
                                    "absent": [*clear_input, *clear_result, "Render the PDF (modern, A4)"],
                                },
                                {
                                    "tab": "User Metadata",
                                    "expect": ["No summary available"],
                                    "absent": [summary, "Completed with offline"],
                                },
                            ],
                        }
                    ],
                }
            )
            # With them, as the operator's authenticating proxy adds them (page routing in inspect_ui.mjs), the
            # same pages read as clear JSON and text.
            clear = await inspect_ui(
                {
                    "ui": ui,
                    "name": "codec",
                    "codec_prefix": codec,
                    "codec_headers": {"Authorization": f"Bearer {CODEC_TOKEN}"},
                    "columns": LIST_COLUMNS,
                    "list": {
                        "query": f'CvUserId IN ("{run.improvement_user}", "{run.subscription_user}")',
                        "rows": {
                            run.improvement_workflow: [run.improvement_user, "completed", "free"],
                            run.subscription_workflow: [run.subscription_user, "pro", "active"],
                        },
                    },
                    "pages": [
                        {
                            "workflow_id": run.improvement_workflow,
                            "label": "improvement",
                            "tabs": [
                                {
                                    "tab": "Timeline",
                                    "expect": [*clear_input, *clear_result, "Render the PDF (modern, A4)"],
                                    "absent": ["Codec Server could not connect"],
                                },
                                {"tab": "User Metadata", "expect": [summary, "Completed with offline:"]},
                            ],
                        },
                        {
                            "workflow_id": run.subscription_workflow,
                            "label": "subscription",
                            "tabs": [
                                {
                                    "tab": "User Metadata",
                                    "expect": [
                                        f"Subscription of user {run.subscription_user}: Stripe checkout",
                                        "Status: active · plan: pro (monthly)",
                                    ],
                                }
                            ],
                        },
                    ],
                }
            )
            # What README tells operators: sign in once at /codec/session, then set the UI's codec settings to
            # this endpoint with "Include cross-origin credentials"; the session cookie does the rest.
            signed_in = await inspect_ui(
                {
                    "ui": ui,
                    "name": "codec-session",
                    "codec_prefix": codec,
                    "codec_sign_in": {"token": CODEC_TOKEN},
                    "pages": [
                        {
                            "workflow_id": run.improvement_workflow,
                            "label": "improvement",
                            "tabs": [
                                {"tab": "Timeline", "expect": [*clear_input, *clear_result]},
                                {"tab": "User Metadata", "expect": [summary]},
                            ],
                        }
                    ],
                }
            )
    assert missing_in(refused) == {}
    assert refused["codec_requests"] and {r["status"] for r in refused["codec_requests"]} == {401}
    assert missing_in(clear) == {}
    assert clear["codec_requests"] and {r["status"] for r in clear["codec_requests"]} == {200}
    assert signed_in["codec_sign_in"]["include_credentials"] is True
    assert missing_in(signed_in) == {}
    decoded = [r for r in signed_in["codec_requests"] if "/decode" in r["url"]]
    assert decoded and {r["status"] for r in decoded} == {200}
