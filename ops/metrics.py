"""Prometheus metrics: what every `/metrics` endpoint serves, and the business counters.

Two processes, two exporters:

- The API (`GET /metrics` on its own port) uses prometheus_client with a registry per app: `ApiMetrics` holds
  `http_requests_total{method,route,status}`, `http_request_duration_seconds{method,route}` (route is the
  template, `/improvements/{improvement_id}`, never the raw path), `http_requests_in_progress`, the webhook
  counter `cvimprover_webhook_events_total{type,action}` (the webhook endpoint lives in the API) and the
  process's own CPU and memory. `HttpMetricsMiddleware` is pure ASGI, like the app's other middleware.
- The worker serves the Temporal SDK's metrics through its runtime's Prometheus exporter (`worker_runtime`,
  `WORKER_METRICS_PORT`); the business counters go through the same exporter, with the SDK's meter:
  `workflow.metric_meter()` in workflows (skipped on replay, so a run is counted once), `activity.metric_meter()`
  in activities. Counters end in `_total` there too (`counters_total_suffix`), and durations are in seconds.

Label values are always from small, fixed sets (error codes, themes, the configured model, Stripe's event types
of signed events): never ids, paths or anything a user typed.
"""

from __future__ import annotations

import logging
import re
import time
from typing import TYPE_CHECKING

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram, ProcessCollector, generate_latest
from prometheus_client.exposition import CONTENT_TYPE_LATEST
from temporalio import activity
from temporalio.common import MetricMeter
from temporalio.runtime import PrometheusConfig, Runtime, TelemetryConfig

if TYPE_CHECKING:
    from starlette.types import ASGIApp, Message, Receive, Scope, Send

    from models.settings import Settings

log = logging.getLogger("cvimprover.metrics")

EXPOSITION_CONTENT_TYPE = CONTENT_TYPE_LATEST

# --- business metrics (worker, through the Temporal SDK's meter) --------------------------------------------

IMPROVEMENTS_STARTED = "cvimprover_improvements_started"
IMPROVEMENTS_COMPLETED = "cvimprover_improvements_completed"
IMPROVEMENTS_FAILED = "cvimprover_improvements_failed"
IMPROVEMENTS_CANCELED = "cvimprover_improvements_canceled"
LLM_TOKENS = "cvimprover_llm_tokens"
LLM_COST = "cvimprover_llm_estimated_cost_usd"
RENDERS = "cvimprover_renders"
RENDER_SECONDS = "cvimprover_render_duration_seconds"

# USD per million tokens (prompt, completion): OpenAI's list prices when this was written. The cost metric is an
# ESTIMATE from these (no discounts, cached-input or batch prices); a model is priced by its longest matching
# prefix ("gpt-4o-2024-08-06" as "gpt-4o"), and a model not listed here gets tokens counted but no cost.
LLM_PRICES_USD_PER_MILLION: dict[str, tuple[float, float]] = {
    "gpt-4o": (2.50, 10.00),
    "gpt-4o-mini": (0.15, 0.60),
    "gpt-4.1": (2.00, 8.00),
    "gpt-4.1-mini": (0.40, 1.60),
    "gpt-4.1-nano": (0.10, 0.40),
    "o3": (2.00, 8.00),
    "o4-mini": (1.10, 4.40),
    "gpt-5": (1.25, 10.00),
    "gpt-5-mini": (0.25, 2.00),
    "gpt-5-nano": (0.05, 0.40),
}

# Costs per call are cents; renders are tenths of a second. The SDK's default buckets fit neither.
HISTOGRAM_BUCKETS: dict[str, list[float]] = {
    LLM_COST: [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0],
    RENDER_SECONDS: [0.05, 0.1, 0.15, 0.25, 0.5, 1.0, 2.0, 5.0, 10.0, 30.0],
}


def failure_reason(code: str) -> str:
    """The `reason` label for a workflow's error code: `QuotaExhausted` -> `quota_exhausted`,
    `Document:encrypted` -> `document_encrypted`, `LlmRefused` -> `llm_refused`, `timeout` stays."""
    snake = re.sub(r"(?<=[a-z0-9])(?=[A-Z])", "_", code).lower()
    return re.sub(r"[^a-z0-9]+", "_", snake).strip("_") or "unknown"


def estimated_cost_usd(model: str, prompt_tokens: int, completion_tokens: int) -> float | None:
    """The list-price cost of one call, or None for a model without a price."""
    matches = [name for name in LLM_PRICES_USD_PER_MILLION if model == name or model.startswith(name + "-")]
    if not matches:
        return None
    prompt_price, completion_price = LLM_PRICES_USD_PER_MILLION[max(matches, key=len)]
    return (prompt_tokens * prompt_price + completion_tokens * completion_price) / 1_000_000


def count_improvement_started(meter: MetricMeter) -> None:
    meter.create_counter(IMPROVEMENTS_STARTED, "Improvement runs the worker began.").add(1)


def count_improvement_completed(meter: MetricMeter, *, engine: str) -> None:
    meter.create_counter(IMPROVEMENTS_COMPLETED, "Improvement runs completed.").add(1, {"engine": engine})


def count_improvement_ended(meter: MetricMeter, *, code: str, canceled: bool) -> None:
    """A run that did not complete: canceled, or failed with the user-facing error code as its reason."""
    if canceled:
        meter.create_counter(IMPROVEMENTS_CANCELED, "Improvement runs canceled.").add(1)
        return
    counter = meter.create_counter(IMPROVEMENTS_FAILED, "Improvement runs failed, by error code.")
    counter.add(1, {"reason": failure_reason(code)})


def _activity_meter() -> MetricMeter | None:
    # The engines and the renderer also run outside activities (evals, benchmarks): nothing to count there.
    return activity.metric_meter() if activity.in_activity() else None


def record_llm_usage(model: str, prompt_tokens: int, completion_tokens: int) -> None:
    """Tokens and the estimated cost of one LLM call, from the response's `usage` (inside an activity)."""
    meter = _activity_meter()
    if meter is None:
        return
    tokens = meter.create_counter(LLM_TOKENS, "LLM tokens used, by kind (prompt or completion) and model.")
    tokens.add(prompt_tokens, {"kind": "prompt", "model": model})
    tokens.add(completion_tokens, {"kind": "completion", "model": model})
    cost = estimated_cost_usd(model, prompt_tokens, completion_tokens)
    if cost is not None:
        histogram = meter.create_histogram_float(LLM_COST, "Estimated cost of each LLM call (list prices).", "USD")
        histogram.record(cost, {"model": model})


def record_render(*, theme: str, paper: str, seconds: float, rerender: bool) -> None:
    """One PDF rendered (inside an activity): the improvement's own, or a re-render in another theme."""
    meter = _activity_meter()
    if meter is None:
        return
    labels = {"theme": theme, "paper": paper, "kind": "rerender" if rerender else "improvement"}
    meter.create_counter(RENDERS, "PDFs rendered, by theme, paper and kind.").add(1, labels)
    meter.create_histogram_float(RENDER_SECONDS, "Time to lay out one PDF.", "s").record(seconds, {"theme": theme})


# --- the worker's exporter ----------------------------------------------------------------------------------


def prometheus_runtime(bind_address: str) -> Runtime:
    """A Temporal runtime serving the SDK's metrics and ours at http://<bind_address>/metrics. Raises ValueError
    when the address cannot be bound."""
    config = PrometheusConfig(
        bind_address=bind_address,
        counters_total_suffix=True,
        durations_as_seconds=True,
        histogram_bucket_overrides=HISTOGRAM_BUCKETS,
    )
    # No service_name label: Prometheus's job label says which process it is.
    return Runtime(telemetry=TelemetryConfig(metrics=config, attach_service_name=False))


def worker_runtime(settings: Settings) -> Runtime | None:
    """The worker's runtime with its exporter on WORKER_METRICS_HOST:WORKER_METRICS_PORT; None when the port is 0
    or taken (the worker still runs: metrics must never stop the product, and Prometheus shows the target down)."""
    if not settings.worker_metrics_port:
        return None
    address = f"{settings.worker_metrics_host}:{settings.worker_metrics_port}"
    try:
        runtime = prometheus_runtime(address)
    except ValueError as exc:
        log.error("worker metrics are off: cannot serve them on %s (%s)", address, exc)
        return None
    log.info("worker metrics at http://%s/metrics", address)
    return runtime


# --- the API ------------------------------------------------------------------------------------------------

# Request latencies of this API, from a millisecond-fast health check to a multi-second upload.
LATENCY_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0)
UNMATCHED_ROUTE = "unmatched"
HTTP_METHODS = frozenset({"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"})


class ApiMetrics:
    """The API's metrics, in a registry of their own: each app (tests build many) counts only its requests."""

    def __init__(self) -> None:
        self.registry = CollectorRegistry()
        self.requests = Counter(
            "http_requests",
            "HTTP requests answered, by method, route template and status code (5xx are errors).",
            ["method", "route", "status"],
            registry=self.registry,
        )
        self.duration = Histogram(
            "http_request_duration_seconds",
            "Time from receiving a request to the end of its answer, by method and route template.",
            ["method", "route"],
            buckets=LATENCY_BUCKETS,
            registry=self.registry,
        )
        self.in_progress = Gauge(
            "http_requests_in_progress", "Requests being answered now.", ["method"], registry=self.registry
        )
        self.webhook_events = Counter(
            "cvimprover_webhook_events",
            "Stripe webhook deliveries, by event type and what the API did (delivered, ignored, invalid).",
            ["type", "action"],
            registry=self.registry,
        )
        ProcessCollector(registry=self.registry)

    def count_webhook(self, event_type: str, action: str) -> None:
        self.webhook_events.labels(type=event_type, action=action).inc()

    def exposition(self) -> bytes:
        """The text exposition format Prometheus scrapes."""
        return generate_latest(self.registry)


def route_template(scope: Scope) -> str | None:
    """The template of the route that handled the request (`/cvs/{cv_id}`), as the router recorded it."""
    path = getattr(scope.get("route"), "path", None)
    return path if isinstance(path, str) else None


def _route_patterns(app: object) -> list[tuple[re.Pattern[str], str]]:
    """Each route's path regex and template, for requests answered before routing."""
    from starlette.routing import compile_path

    routes = getattr(getattr(app, "router", None), "routes", [])
    try:
        # FastAPI >= 0.16x keeps included routers nested; this walks them.
        from fastapi.routing import iter_route_contexts

        paths = [context.path for context in iter_route_contexts(routes)]
    except ImportError:
        paths = [getattr(route, "path", None) for route in routes]
    return [(compile_path(path)[0], path) for path in paths if isinstance(path, str) and path]


class HttpMetricsMiddleware:
    """Counts and times every HTTP request by route template (pure ASGI: no extra task per request). Added
    outermost, it also sees answers other middleware gives (413) and exceptions nothing handled (500)."""

    def __init__(self, app: ASGIApp, *, metrics: ApiMetrics) -> None:
        self.app = app
        self.metrics = metrics
        self._patterns: list[tuple[re.Pattern[str], str]] | None = None

    def _route(self, scope: Scope) -> str:
        """The route template, also for answers given before routing (a 413 still names `/cvs`); paths that
        match no route share one label value, so scanners cannot grow the series."""
        template = route_template(scope)
        if template is not None:
            return template
        if self._patterns is None:
            self._patterns = _route_patterns(scope.get("app"))
        path = str(scope.get("path", ""))
        return next((template for regex, template in self._patterns if regex.match(path)), UNMATCHED_ROUTE)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        method = str(scope["method"]) if scope["method"] in HTTP_METHODS else "other"
        status = 500  # if the app raises before answering, the server answers 500

        async def send_and_record_status(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = int(message["status"])
            await send(message)

        in_progress = self.metrics.in_progress.labels(method=method)
        in_progress.inc()
        started = time.perf_counter()
        try:
            await self.app(scope, receive, send_and_record_status)
        finally:
            elapsed = time.perf_counter() - started
            in_progress.dec()
            route = self._route(scope)
            self.metrics.requests.labels(method=method, route=route, status=str(status)).inc()
            self.metrics.duration.labels(method=method, route=route).observe(elapsed)
