"""`cvimprover ops ...` against real runs on the test Temporal server and the test database: the commands run
through the user CLI's Typer app, configured by environment variables as an operator's shell would be."""

from __future__ import annotations

import asyncio
import json
import uuid
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
import pytest_asyncio
from temporalio.testing import WorkflowEnvironment
from typer.testing import CliRunner, Result

from cli.main import app as cli_app
from models.settings import Settings
from ops import replay as replay_module
from tests.billing.conftest import PRICES, WEBHOOK_SECRET, Billing, billing_settings
from tests.conftest import SAMPLES, Stack, llm_settings, open_stack
from tests.fakes.openai_server import FakeOpenAI, Reply
from tests.fakes.stripe_server import FakeStripe
from tests.replay.changes import SCORE_FIRST, changed_copy
from tests.run_records import usage_and_pdfs

STEPS = [
    "reserve_quota",
    "extract_cv",
    "rewrite_cv",
    "verify_rewrite",
    "score_cv",
    "render_pdf",
    "complete_improvement",
]


def _env(env: WorkflowEnvironment, settings: Settings) -> dict[str, str]:
    """What an operator's shell would export to reach this deployment."""
    return {
        "ENV": "test",
        "DATABASE_URL": settings.database_url,
        "REDIS_URL": settings.redis_url,
        "TEMPORAL_ADDRESS": env.client.service_client.config.target_host,
        "TEMPORAL_NAMESPACE": env.client.namespace,
        "TEMPORAL_TASK_QUEUE": settings.temporal_task_queue,
        "COLUMNS": "250",  # a wide terminal: table cells are not folded
    }


async def ops(env: dict[str, str], *args: str) -> Result:
    # In a thread: each command runs its own event loop, as it does in a shell.
    return await asyncio.to_thread(lambda: CliRunner().invoke(cli_app, ["ops", *args], env=env))


async def ops_json(env: dict[str, str], *args: str) -> Any:
    result = await ops(env, *args, "--json")
    assert result.exit_code == 0, (result.stdout, result.stderr, result.exception)
    return json.loads(result.stdout)


async def _improve(stack: Stack, headers: dict[str, str]) -> str:
    cv = await stack.upload(headers, "cv.md", (SAMPLES / "jane-doe-cv.md").read_bytes())
    r = await stack.http.post(f"/cvs/{cv['id']}/improvements", headers=headers, json={"position": "Backend Engineer"})
    assert r.status_code == 202, r.text
    return str(r.json()["improvement_id"])


async def _email(stack: Stack, headers: dict[str, str]) -> str:
    return str((await stack.http.get("/me", headers=headers)).json()["email"])


async def _usage(settings: Settings, improvement_id: str) -> list[str]:
    return (await usage_and_pdfs(settings.database_url, improvement_id))[0]


async def _runs(env: dict[str, str], user: str, expected: int) -> dict[str, Any]:
    """`ops runs` once visibility has caught up with the expected number of runs."""
    for _ in range(100):
        report: dict[str, Any] = await ops_json(env, "runs", "--user", user)
        if len(report["workflows"]) >= expected:
            return report
        await asyncio.sleep(0.1)
    raise AssertionError(f"visibility never listed {expected} runs: {report}")


async def test_runs_and_show_a_completed_improvement(temporal_env: WorkflowEnvironment, stack: Stack) -> None:
    env = _env(temporal_env, stack.settings)
    headers = await stack.user()
    email = await _email(stack, headers)
    iid = await _improve(stack, headers)
    assert (await stack.wait_finished(headers, iid))["stage"] == "completed"

    report = await _runs(env, email, 1)
    [run] = report["workflows"]
    assert run["workflow_id"] == f"cv-improvement-{iid}"
    assert (run["workflow_type"], run["status"], run["stage"]) == ("CvImprovementWorkflow", "completed", "completed")
    assert [(i["id"], i["stage"]) for i in report["improvements"]] == [(iid, "completed")]
    table = await ops(env, "runs", "--user", report["user_id"])  # by id too, as a table
    assert table.exit_code == 0 and f"cv-improvement-{iid}" in table.stdout and "CvImprovementWorkflow" in table.stdout

    shown = await ops_json(env, "show", f"cv-improvement-{iid}")
    assert [s["name"] for s in shown["steps"] if "activity" in s["kind"]] == STEPS
    assert {s["status"] for s in shown["steps"]} == {"completed"}
    rewrite = next(s for s in shown["steps"] if s["name"] == "rewrite_cv")
    assert rewrite["kind"] == "activity" and rewrite["summary"].startswith("Rewrite the 1-page CV")
    assert shown["steps"][0]["summary"] == "Reserve one unit of the monthly quota"
    assert shown["result"]["stage"] == "completed" and shown["failure"] is None
    assert shown["search_attributes"]["CvUserId"] == report["user_id"]
    table = await ops(env, "show", f"cv-improvement-{iid}")
    assert table.exit_code == 0 and "Mark the improvement ready" in table.stdout and "Result:" in table.stdout

    missing = await ops(env, "show", "cv-improvement-nope")
    assert missing.exit_code == 1 and "No workflow cv-improvement-nope" in missing.stderr
    unknown = await ops(env, "runs", "--user", "nobody@example.com")
    assert unknown.exit_code == 1 and "No user nobody@example.com" in unknown.stderr


async def _retrying_rewrite(env: dict[str, str], workflow_id: str) -> dict[str, Any]:
    """`ops show` of a run whose rewrite failed once and is on its second attempt (from pending activities)."""
    for _ in range(40):
        shown: dict[str, Any] = await ops_json(env, "show", workflow_id)
        rewrite = next((s for s in shown["steps"] if s["name"] == "rewrite_cv"), None)
        if rewrite and rewrite["attempts"] == 2 and "HTTP 503" in (rewrite["failure"] or ""):
            assert rewrite["status"] in ("scheduled", "started"), rewrite
            return shown
        await asyncio.sleep(0.1)
    raise AssertionError(f"never saw the rewrite retrying: {shown}")


async def test_a_failed_improvement_is_shown_then_retried_once(
    temporal_env: WorkflowEnvironment, base_settings: Settings
) -> None:
    with FakeOpenAI() as llm:
        settings = llm_settings(base_settings, "cv-improver-ops-llm", llm.base_url)
        env = _env(temporal_env, settings)
        async with open_stack(temporal_env, settings) as stack:
            llm.script(Reply.server_error(503), Reply.bad_request())
            headers = await stack.user()
            iid = await _improve(stack, headers)
            while not llm.requests:
                await asyncio.sleep(0.02)
            llm.set_latency(3)  # the second attempt takes a while: time to look at the run while it retries
            running = await _retrying_rewrite(env, f"cv-improvement-{iid}")
            assert running["status"] == "running" and "**Stage:** rewriting" in running["current_details"]
            llm.set_latency(0)
            assert (await stack.wait_finished(headers, iid))["stage"] == "failed"
            assert await _usage(settings, iid) == ["refunded"]

            shown = await ops_json(env, "show", f"cv-improvement-{iid}")
            rewrite = next(s for s in shown["steps"] if s["name"] == "rewrite_cv")
            assert (rewrite["status"], rewrite["attempts"]) == ("failed", 2)
            assert "LlmInvalidRequest" in rewrite["failure"] and "HTTP 400" in rewrite["failure"]
            assert "Your quota unit was refunded" in shown["failure"]
            assert [s["name"] for s in shown["steps"]][-1] == "fail_improvement"
            table = await ops(env, "show", f"cv-improvement-{iid}")
            assert "Failure:" in table.stdout and "rejected the request" in table.stdout

            retried = await ops_json(env, "retry", iid)  # the test server answers well from now on
            assert retried["previous_status"] == "failed" and retried["run_id"] != retried["previous_run_id"]
            assert retried["improvement"]["stage"] == "queued"
            result = await stack.wait_finished(headers, iid)
            assert result["stage"] == "completed" and result["error"] is None
            assert await _usage(settings, iid) == ["consumed"]  # the retry reserved and used one unit

            report = await _runs(env, str(retried["improvement"]["user_id"]), 2)
            runs = [(r["run_id"], r["status"]) for r in report["workflows"]]
            assert sorted(runs) == sorted([(retried["previous_run_id"], "failed"), (retried["run_id"], "completed")])

            again = await ops(env, "retry", iid)
            assert again.exit_code == 1 and "completed: nothing to retry" in again.stderr
            nothing = await ops(env, "retry", str(uuid.uuid4()))
            assert nothing.exit_code == 1 and "No improvement" in nothing.stderr


async def test_quota_grant_and_reset(temporal_env: WorkflowEnvironment, stack: Stack) -> None:
    env = _env(temporal_env, stack.settings)
    headers = await stack.user()
    email = await _email(stack, headers)
    iid = await _improve(stack, headers)
    assert (await stack.wait_finished(headers, iid))["stage"] == "completed"
    before = (await stack.http.get("/billing/usage", headers=headers)).json()
    assert (before["used"], before["limit"]) == (1, 3)

    granted = await ops_json(env, "quota", "grant", "--user", email, "--units", "2", "--reason", "support ticket 42")
    assert (granted["status"]["used"], granted["status"]["limit"], granted["granted"]) == (1, 5, 2)
    after = (await stack.http.get("/billing/usage", headers=headers)).json()
    assert (after["used"], after["limit"]) == (1, 5)

    table = await ops(env, "quota", "reset", "--user", email)
    assert table.exit_code == 0 and "Refunded 1 for" in table.stdout and "0 of 5" in table.stdout
    assert await _usage(stack.settings, iid) == ["refunded"]
    assert (await stack.http.get("/billing/usage", headers=headers)).json()["used"] == 0

    refused = await ops(env, "quota", "grant", "--user", email, "--units", "0")
    assert refused.exit_code == 2  # a usage error: at least one unit
    unknown = await ops(env, "quota", "reset", "--user", str(uuid.uuid4()))
    assert unknown.exit_code == 1 and "No user" in unknown.stderr


async def test_replay_names_the_nondeterminism_of_incompatible_code(
    temporal_env: WorkflowEnvironment, stack: Stack, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    env = _env(temporal_env, stack.settings)
    headers = await stack.user()
    iid = await _improve(stack, headers)
    assert (await stack.wait_finished(headers, iid))["stage"] == "completed"

    ok = await ops(env, "replay", f"cv-improvement-{iid}")
    assert ok.exit_code == 0, ok.stderr
    assert ok.stdout.strip().endswith("events: compatible") and ok.stdout.startswith("replayed ")

    # The code this checkout would deploy, with an activity added before the rewrite and no patch.
    monkeypatch.syspath_prepend(str(tmp_path))
    changed = changed_copy("cv_improvement", SCORE_FIRST, tmp_path)
    monkeypatch.setattr(replay_module, "WORKFLOWS", (changed.CvImprovementWorkflow,))
    broken = await ops(env, "replay", f"cv-improvement-{iid}")
    assert broken.exit_code == 1
    assert "INCOMPATIBLE, nondeterminism error: [TMPRL1100] Nondeterminism error" in broken.stderr
    as_json = json.loads((await ops(env, "replay", f"cv-improvement-{iid}", "--json")).stdout)
    assert as_json["compatible"] is False and as_json["nondeterministic"] is True


@pytest_asyncio.fixture(scope="module")
async def ops_billing(temporal_env: WorkflowEnvironment, base_settings: Settings) -> AsyncIterator[Billing]:
    """Billing with a Stripe test server and a task queue of its own (the billing tests' clock stays theirs)."""
    with FakeStripe(prices=PRICES, webhook_secret=WEBHOOK_SECRET) as fake:
        async with open_stack(temporal_env, billing_settings(base_settings, fake, "cv-improver-ops-billing")) as stack:
            yield Billing(stack, fake)


async def test_subscription_show_and_reconcile(temporal_env: WorkflowEnvironment, ops_billing: Billing) -> None:
    billing = ops_billing
    env = _env(temporal_env, billing.stack.settings)
    headers, user_id = await billing.user()
    nothing = await ops(env, "subscription", "reconcile", "--user", str(user_id))
    assert nothing.exit_code == 1 and "no Stripe customer or subscription" in nothing.stderr

    subscription_id = await billing.subscribe(headers)
    shown = await ops_json(env, "subscription", "show", "--user", str(user_id))
    assert shown["workflow_status"] == "running"
    assert shown["projection"]["status"] == shown["state"]["status"] == "active"
    assert shown["projection"]["subscription_id"] == shown["state"]["subscription_id"] == subscription_id

    # The billing cycle turns at Stripe and its webhooks are lost: the projection lags until a reconcile.
    await asyncio.to_thread(billing.stripe.renew, subscription_id)
    assert (await billing.subscription(headers))["renewals"] == 0
    table = await ops(env, "subscription", "reconcile", "--user", str(user_id))
    assert table.exit_code == 0, table.stderr
    assert "Reconciled" in table.stdout and "1 renewal(s)" in table.stdout
    state = await billing.subscription(headers)
    assert state["renewals"] == 1 and state["status"] == "active"
    shown = await ops_json(env, "subscription", "show", "--user", str(user_id))
    assert shown["projection"]["renewals"] == shown["state"]["renewals"] == 1
    table = await ops(env, "subscription", "show", "--user", str(user_id))
    assert "projection (PostgreSQL)" in table.stdout and "running" in table.stdout

    steps = (await ops_json(env, "show", f"subscription-{user_id}"))["steps"]
    update = [s for s in steps if s["kind"] == "update"]
    assert [(s["name"], s["status"]) for s in update] == [("start_checkout", "completed"), ("reconcile", "completed")]
    assert any(s["kind"] == "signal" and s["name"] == "stripe_event" for s in steps)
    assert any(s["summary"] == "Reconcile with Stripe, asked by an operator" for s in steps)
    details = (await ops_json(env, "show", f"subscription-{user_id}"))["current_details"]
    assert details and "**Renewals:** 1" in details and "reconciled with Stripe by an operator" in details
