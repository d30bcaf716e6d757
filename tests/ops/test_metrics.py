"""Metrics: after real runs, the API's `GET /metrics` and the worker's exporter (scraped over HTTP, as Prometheus
does) hold the request, business and Temporal SDK metrics with the values those runs must give; the compose
services and the Grafana provisioning are valid and only ask for metrics that exist."""

from __future__ import annotations

import asyncio
import json
import re
import time
from collections.abc import AsyncIterator, Callable
from pathlib import Path
from typing import Any

import httpx
import pytest
import pytest_asyncio
import yaml
from fastapi import FastAPI
from prometheus_client.parser import text_string_to_metric_families
from pydantic import SecretStr
from temporalio.testing import WorkflowEnvironment

from devstack.services import free_port
from models.settings import Settings
from ops.metrics import (
    LLM_PRICES_USD_PER_MILLION,
    ApiMetrics,
    HttpMetricsMiddleware,
    estimated_cost_usd,
    failure_reason,
    worker_runtime,
)
from ops.temporal import connect
from tests.conftest import ROOT, SAMPLES, Stack, llm_settings, open_stack
from tests.fakes.openai_server import FakeOpenAI, Reply
from tests.fakes.stripe_server import sign_payload

WEBHOOK_SECRET = "whsec_metrics_tests"
MODEL = "gpt-4o-test"
TARGET = {
    "position": "Senior Backend Engineer",
    "job_description": (SAMPLES / "job-senior-backend.txt").read_text(),
    "theme": "modern",
}
CV = (SAMPLES / "jane-doe-cv.md").read_bytes()
UUID = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-")
DASHBOARD = json.loads((ROOT / "deploy" / "grafana" / "dashboards" / "cvimprover.json").read_text())
# Series that exist only once such a thing happened (a cancel, a workflow task failure), and Prometheus's own.
ONLY_AFTER_IT_HAPPENS = {
    "up",
    "cvimprover_improvements_canceled_total",
    "temporal_workflow_canceled_total",
    "temporal_workflow_task_execution_failed_total",
}

Samples = dict[tuple[str, frozenset[tuple[str, str]]], float]


def parse(text: str) -> Samples:
    return {
        (s.name, frozenset(s.labels.items())): s.value
        for family in text_string_to_metric_families(text)
        for s in family.samples
    }


def total(samples: Samples, name: str, **labels: str) -> float:
    """The sum of every sample of `name` whose labels include `labels`."""
    wanted = set(labels.items())
    return sum(v for (n, ls), v in samples.items() if n == name and wanted <= ls)


def dashboard_metric_names() -> set[str]:
    """Every metric a dashboard query selects (each selector is written `name{...}` or `name[...]`)."""
    exprs = [t["expr"] for p in DASHBOARD["panels"] for t in p.get("targets", [])]
    names = {name for expr in exprs for name in re.findall(r"(?<![\w$])([a-z_][a-z0-9_]*)(?=\{|\[)", expr)}
    assert names and all(re.search(r"[a-z_]+[{\[]", expr) for expr in exprs)
    return names


def label_values(samples: Samples, name: str, label: str) -> set[str]:
    return {dict(ls)[label] for (n, ls) in samples if n == name and label in dict(ls)}


@pytest_asyncio.fixture(scope="module")
async def metrics_stack(
    temporal_env: WorkflowEnvironment, base_settings: Settings, fake_llm: FakeOpenAI
) -> AsyncIterator[tuple[Stack, str]]:
    """A stack whose worker runs on its own Temporal runtime, exporting on a free port, as `worker.py` does."""
    settings = llm_settings(base_settings, "cv-improver-metrics", fake_llm.base_url).model_copy(
        update={
            "worker_metrics_port": free_port(),
            "stripe_webhook_secret": SecretStr(WEBHOOK_SECRET),
            "temporal_address": temporal_env.client.service_client.config.target_host,
            "temporal_namespace": temporal_env.client.namespace,
        }
    )
    runtime = worker_runtime(settings)
    assert runtime is not None
    client = await connect(settings, runtime=runtime)
    async with open_stack(temporal_env, settings, client=client) as stack:
        yield stack, f"http://127.0.0.1:{settings.worker_metrics_port}/metrics"


async def improve(stack: Stack, headers: dict[str, str], cv_id: str) -> dict[str, Any]:
    r = await stack.http.post(f"/cvs/{cv_id}/improvements", headers=headers, json=TARGET)
    assert r.status_code == 202, r.text
    return await stack.wait_finished(headers, r.json()["improvement_id"], timeout=60)


async def scrape_until(url: str, ready: Callable[[Samples], bool], timeout: float = 15) -> Samples:
    """Scrape the worker like Prometheus until `ready` holds (workflow metrics are exported asynchronously)."""
    deadline = time.monotonic() + timeout
    async with httpx.AsyncClient() as http:
        while True:
            r = await http.get(url)
            assert r.status_code == 200
            samples = parse(r.text)
            if ready(samples) or time.monotonic() > deadline:
                return samples
            await asyncio.sleep(0.2)


def webhook(event_type: str, customer: str) -> bytes:
    event = {
        "id": f"evt_metrics_{event_type.replace('.', '_')}",
        "object": "event",
        "type": event_type,
        "created": int(time.time()),
        "data": {"object": {"id": "in_metrics_1", "object": "invoice", "customer": customer}},
    }
    return json.dumps(event).encode()


async def test_runs_show_up_in_api_and_worker_metrics(metrics_stack: tuple[Stack, str], fake_llm: FakeOpenAI) -> None:
    stack, worker_url = metrics_stack
    headers = await stack.user()
    cv = await stack.upload(headers, "cv.md", CV)

    completed = await improve(stack, headers, cv["id"])
    assert completed["stage"] == "completed", completed
    fake_llm.script(Reply.refusal())
    failed = await improve(stack, headers, cv["id"])
    assert (failed["stage"], failed["error"]["code"]) == ("failed", "LlmRefused"), failed
    r = await stack.http.post(f"/improvements/{completed['id']}/render", headers=headers, json={"theme": "classic"})
    assert r.status_code == 202, r.text

    # Webhooks: an event type we do not use, a used one for nobody we know, and an unsigned one.
    now = int(time.time())
    for event_type in ("customer.created", "invoice.paid"):
        payload = webhook(event_type, "cus_nobody")
        signature = sign_payload(payload, WEBHOOK_SECRET, now)
        r = await stack.http.post("/webhooks/stripe", content=payload, headers={"Stripe-Signature": signature})
        assert (r.status_code, r.json()["action"]) == (200, "ignored"), r.text
    r = await stack.http.post("/webhooks/stripe", content=webhook("invoice.paid", "cus_x"))
    assert r.status_code == 400
    # A body over the limit is refused before routing, and an unknown path matches no route.
    r = await stack.http.post("/cvs", headers={**headers, "Content-Length": str(10**9)}, content=b"x")
    assert r.status_code == 413
    assert (await stack.http.get("/no/such/page")).status_code == 404

    # --- the API's /metrics ---
    r = await stack.http.get("/metrics")
    assert r.status_code == 200
    assert r.headers["content-type"].startswith("text/plain")
    api = parse(r.text)
    starts = total(api, "http_requests_total", method="POST", route="/cvs/{cv_id}/improvements", status="202")
    assert starts == 2
    assert total(api, "http_requests_total", method="POST", route="/cvs", status="413") == 1
    assert total(api, "http_requests_total", method="GET", route="unmatched", status="404") == 1
    polls = total(api, "http_request_duration_seconds_count", method="GET", route="/improvements/{improvement_id}")
    assert polls >= 2
    assert total(api, "http_request_duration_seconds_sum", method="GET", route="/improvements/{improvement_id}") > 0
    # Templates only: no id ever becomes a label value.
    assert not [route for route in label_values(api, "http_requests_total", "route") if UUID.search(route)]
    assert total(api, "cvimprover_webhook_events_total", type="customer.created", action="ignored") == 1
    assert total(api, "cvimprover_webhook_events_total", type="invoice.paid", action="ignored") == 1
    assert total(api, "cvimprover_webhook_events_total", type="unknown", action="invalid") == 1
    assert total(api, "process_resident_memory_bytes") > 0
    assert "/metrics" not in (await stack.http.get("/openapi.json")).json()["paths"]

    # --- the worker's exporter, over HTTP ---
    worker = await scrape_until(
        worker_url,
        lambda s: (
            total(s, "cvimprover_renders_total", kind="rerender") >= 1
            and bool(total(s, "cvimprover_improvements_failed_total"))
        ),
    )
    assert total(worker, "cvimprover_improvements_started_total", workflow_type="CvImprovementWorkflow") == 2
    assert total(worker, "cvimprover_improvements_completed_total", engine=f"openai:{MODEL}") == 1
    assert total(worker, "cvimprover_improvements_failed_total", reason="llm_refused") == 1
    assert total(worker, "cvimprover_improvements_failed_total") == 1
    assert total(worker, "cvimprover_renders_total", kind="improvement", theme="modern", paper="A4") == 1
    assert total(worker, "cvimprover_renders_total", kind="rerender", theme="classic") == 1
    assert total(worker, "cvimprover_render_duration_seconds_count") == 2
    assert total(worker, "cvimprover_render_duration_seconds_sum") > 0

    # Tokens come from each answer's `usage`; the cost is the list price of exactly those tokens.
    prompt = total(worker, "cvimprover_llm_tokens_total", kind="prompt", model=MODEL)
    completion = total(worker, "cvimprover_llm_tokens_total", kind="completion", model=MODEL)
    assert prompt > 1000 and completion > 10, (prompt, completion)  # the CV and job description are sent
    assert total(worker, "cvimprover_llm_estimated_cost_usd_count", model=MODEL) == len(fake_llm.requests) == 2
    cost = total(worker, "cvimprover_llm_estimated_cost_usd_sum", model=MODEL)
    assert cost == pytest.approx((prompt * 2.50 + completion * 10.00) / 1_000_000)

    # The Temporal SDK's own metrics, from the same exporter.
    assert total(worker, "temporal_workflow_completed_total", workflow_type="CvImprovementWorkflow") == 1
    assert total(worker, "temporal_workflow_failed_total", workflow_type="CvImprovementWorkflow") == 1
    assert total(worker, "temporal_activity_execution_latency_count", activity_type="rewrite_cv") == 2
    assert total(worker, "temporal_workflow_task_execution_latency_count") > 0
    assert label_values(worker, "temporal_worker_task_slots_available", "worker_type") >= {
        "WorkflowWorker",
        "ActivityWorker",
    }

    # Every metric the Grafana dashboard asks for is one these endpoints really export.
    exported = {name for name, _ in api} | {name for name, _ in worker}
    assert dashboard_metric_names() - exported - ONLY_AFTER_IT_HAPPENS == set()


async def test_middleware_counts_unhandled_errors_as_5xx() -> None:
    """A request that raises is answered 500 by the server and counted as one, with its route template."""
    metrics = ApiMetrics()
    app = FastAPI()

    @app.get("/boom/{thing_id}")
    async def boom(thing_id: str) -> None:
        raise RuntimeError("unexpected")

    app.add_middleware(HttpMetricsMiddleware, metrics=metrics)
    transport = httpx.ASGITransport(app=app, raise_app_exceptions=False)
    async with httpx.AsyncClient(transport=transport, base_url="http://test") as http:
        assert (await http.get("/boom/1")).status_code == 500
        assert (await http.get("/boom/2")).status_code == 500
    samples = parse(metrics.exposition().decode())
    assert total(samples, "http_requests_total", method="GET", route="/boom/{thing_id}", status="500") == 2
    assert total(samples, "http_requests_in_progress") == 0


def test_failure_reasons_and_prices() -> None:
    assert failure_reason("QuotaExhausted") == "quota_exhausted"
    assert failure_reason("Document:encrypted") == "document_encrypted"
    assert failure_reason("LlmInvalidOutput") == "llm_invalid_output"
    assert failure_reason("internal_error") == "internal_error"
    assert estimated_cost_usd("gpt-4o-mini-2024-07-18", 1_000_000, 0) == LLM_PRICES_USD_PER_MILLION["gpt-4o-mini"][0]
    assert estimated_cost_usd("gpt-4o", 0, 1_000_000) == 10.00
    assert estimated_cost_usd("llama-3-70b", 1000, 1000) is None


def test_worker_runtime_is_off_at_port_zero_and_survives_a_taken_port(base_settings: Settings) -> None:
    assert worker_runtime(base_settings.model_copy(update={"worker_metrics_port": 0})) is None
    import socket

    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        busy = base_settings.model_copy(update={"worker_metrics_port": taken.getsockname()[1]})
        assert worker_runtime(busy) is None


# --- compose, Prometheus and Grafana files (Docker cannot run here: parsed and cross-checked) -------------------

DEPLOY = ROOT / "deploy"


def _load_yaml(path: Path) -> dict[str, Any]:
    data = yaml.safe_load(path.read_text())
    assert isinstance(data, dict), path
    return data


def test_compose_scrapes_both_endpoints_and_provisions_grafana() -> None:
    compose = _load_yaml(ROOT / "docker-compose.yml")
    services = compose["services"]
    for name in ("prometheus", "grafana"):
        image = services[name]["image"]
        assert ":" in image and not image.endswith(":latest"), image
    worker_env = services["worker"]["environment"]
    # Its own variables on top of everything the app needs (the YAML merge kept the shared ones).
    assert worker_env["WORKER_METRICS_HOST"] == "0.0.0.0" and "DATABASE_URL" in worker_env
    mounts = " ".join(services["prometheus"]["volumes"] + services["grafana"]["volumes"])
    assert (
        "./deploy/prometheus/prometheus.yml" in mounts
        and "./deploy/grafana/provisioning" in mounts
        and "./deploy/grafana/dashboards" in mounts
    )

    prometheus = _load_yaml(DEPLOY / "prometheus" / "prometheus.yml")
    targets = {
        job["job_name"]: [t for group in job["static_configs"] for t in group["targets"]]
        for job in prometheus["scrape_configs"]
    }
    assert targets["api"] == ["api:8000"]
    assert targets["worker"] == ["worker:9464"]

    datasources = _load_yaml(DEPLOY / "grafana" / "provisioning" / "datasources" / "prometheus.yml")
    (source,) = datasources["datasources"]
    assert source["url"] == "http://prometheus:9090" and source["uid"] == "prometheus"
    providers = _load_yaml(DEPLOY / "grafana" / "provisioning" / "dashboards" / "dashboards.yml")
    assert providers["providers"][0]["options"]["path"] == "/etc/grafana/dashboards"


def test_dashboard_has_the_panels_operators_need() -> None:
    panels = [p for p in DASHBOARD["panels"] if p["type"] != "row"]
    titles = {p["title"] for p in panels}
    for wanted in (
        "Request rate",
        "Latency p50 / p95 / p99 by route",
        "5xx rate",
        "Improvements started / completed / canceled per minute",
        "Improvements failed by reason",
        "LLM tokens per minute",
        "LLM estimated cost per hour",
        "Renders per minute by theme",
        "Stripe webhook events by type",
        "Workflow task latency p95",
        "Activity latency p95 by activity",
        "Task failures",
        "Worker slots",
    ):
        assert wanted in titles, titles
    assert len({p["id"] for p in DASHBOARD["panels"]}) == len(DASHBOARD["panels"])
    for panel in panels:
        assert panel["datasource"]["uid"] == "prometheus"
        assert panel["targets"] and all(t["expr"] for t in panel["targets"]), panel["title"]
