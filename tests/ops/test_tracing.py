"""Traces: the request that starts an improvement, the workflow start, the workflow run and every activity form
one trace (the caller's, when it sends a traceparent); a process with OTEL_EXPORTER_OTLP_ENDPOINT exports over
OTLP/HTTP; without it nothing is traced."""

from __future__ import annotations

import os
import subprocess
import sys
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, HTTPServer
from typing import ClassVar

import pytest
import yaml
from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import ExportTraceServiceRequest
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from opentelemetry.trace import SpanKind, format_trace_id
from temporalio.contrib.opentelemetry import TracingInterceptor
from temporalio.testing import WorkflowEnvironment

from models.settings import Settings
from ops.context import ContextPropagationInterceptor
from ops.temporal import client_interceptors
from ops.tracing import configure_tracing, reset_tracing
from tests.conftest import ROOT, SAMPLES, open_stack

TRACE_ID = "4bf92f3577b34da6a3ce929d0e0e4736"
ACTIVITIES = ("reserve_quota", "extract_cv", "rewrite_cv", "verify_rewrite", "score_cv", "render_pdf")


@pytest.fixture
def exporter(base_settings: Settings) -> Iterator[InMemorySpanExporter]:
    spans = InMemorySpanExporter()
    configure_tracing(base_settings, "cvimprover-test", exporter=spans)
    try:
        yield spans
    finally:
        reset_tracing()


async def test_one_trace_from_the_request_to_the_activities(
    temporal_env: WorkflowEnvironment, base_settings: Settings, exporter: InMemorySpanExporter
) -> None:
    settings = base_settings.model_copy(update={"temporal_task_queue": "cv-improver-tracing"})
    async with open_stack(temporal_env, settings) as stack:
        headers = await stack.user()
        cv = await stack.upload(headers, "jane.md", (SAMPLES / "jane-doe-cv.md").read_bytes())
        r = await stack.http.post(
            f"/cvs/{cv['id']}/improvements",
            headers={**headers, "traceparent": f"00-{TRACE_ID}-00f067aa0ba902b7-01", "X-Request-ID": "req-traced"},
            json={"position": "Backend Engineer"},
        )
        assert r.status_code == 202, r.text
        workflow_id = r.json()["workflow_id"]
        assert (await stack.wait_finished(headers, r.json()["improvement_id"]))["stage"] == "completed"

    spans = exporter.get_finished_spans()
    traced = [s for s in spans if s.context is not None and format_trace_id(s.context.trace_id) == TRACE_ID]
    names = {s.name for s in traced}
    [server] = [s for s in traced if s.kind is SpanKind.SERVER and s.name == "POST /cvs/{cv_id}/improvements"]
    assert server.attributes is not None and server.attributes["http.request_id"] == "req-traced"
    assert server.parent is not None and format_trace_id(server.parent.trace_id) == TRACE_ID
    assert "StartWorkflow:CvImprovementWorkflow" in names
    assert "RunWorkflow:CvImprovementWorkflow" in names
    for name in ACTIVITIES:
        assert f"StartActivity:{name}" in names and f"RunActivity:{name}" in names, name
    assert "RunActivity:complete_improvement" in names
    # Everything this run did is in that one trace; the status polls that followed are traces of their own.
    runs = [s for s in spans if s.attributes and s.attributes.get("temporalWorkflowID") == workflow_id]
    assert len(runs) >= 2 * len(ACTIVITIES) and all(s in traced for s in runs)
    assert any(s.name.startswith("GET /improvements/") and s not in traced for s in spans)


def test_without_an_endpoint_nothing_is_traced(base_settings: Settings) -> None:
    assert configure_tracing(base_settings, "cvimprover-test") is None
    interceptors = client_interceptors(base_settings)
    assert [type(i) for i in interceptors] == [ContextPropagationInterceptor]
    assert not any(isinstance(i, TracingInterceptor) for i in interceptors)


class _Collector(BaseHTTPRequestHandler):
    received: ClassVar[list[tuple[str, bytes]]] = []

    def do_POST(self) -> None:
        body = self.rfile.read(int(self.headers["Content-Length"]))
        self.received.append((self.path, body))
        self.send_response(200)
        self.send_header("Content-Type", "application/x-protobuf")
        self.send_header("Content-Length", "0")
        self.end_headers()

    def log_message(self, format: str, *args: object) -> None:
        pass


EXPORTING_PROCESS = """
from models.settings import Settings
from ops.temporal import client_interceptors
from ops.tracing import configure_tracing, tracer_provider
settings = Settings(_env_file=None)
provider = configure_tracing(settings, "cvimprover-worker")
names = [type(i).__name__ for i in client_interceptors(settings)]
assert names == ["ContextPropagationInterceptor", "TracingInterceptor"], names
with provider.get_tracer("t").start_as_current_span("exported-span"):
    pass
"""


def test_a_process_with_an_endpoint_exports_over_otlp_http() -> None:
    server = HTTPServer(("127.0.0.1", 0), _Collector)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    _Collector.received = []
    try:
        env = {k: v for k, v in os.environ.items() if not k.startswith("OTEL_")}
        env["OTEL_EXPORTER_OTLP_ENDPOINT"] = f"http://127.0.0.1:{server.server_port}/"
        # The spans still queued are sent when the process exits.
        subprocess.run([sys.executable, "-c", EXPORTING_PROCESS], env=env, cwd=ROOT, check=True, timeout=60)
    finally:
        server.shutdown()
    [(path, body)] = _Collector.received
    assert path == "/v1/traces"
    request = ExportTraceServiceRequest.FromString(body)
    [resource_spans] = request.resource_spans
    service = {a.key: a.value.string_value for a in resource_spans.resource.attributes}["service.name"]
    assert service == "cvimprover-worker"
    assert [s.name for scope in resource_spans.scope_spans for s in scope.spans] == ["exported-span"]


def test_compose_sends_traces_to_its_jaeger_and_logs_json() -> None:
    """Docker cannot run here: the compose file is parsed and cross-checked."""
    compose = yaml.safe_load((ROOT / "docker-compose.yml").read_text())
    jaeger = compose["services"]["jaeger"]
    for name in ("api", "worker"):
        env = compose["services"][name]["environment"]
        assert env["ENV"] == "production"  # JSON log lines
        endpoint = env["OTEL_EXPORTER_OTLP_ENDPOINT"]
        assert endpoint.endswith(":-http://jaeger:4318}"), endpoint
    assert "4318" in jaeger["expose"]
    assert all(port.startswith("127.0.0.1:") for port in jaeger["ports"])
