"""Traces: one OpenTelemetry trace from an API request through the workflow it starts to that workflow's activities.

FastAPI's instrumentation makes the server span; Temporal's `TracingInterceptor` (on the client, so on its workers
too) makes the client, workflow and activity spans and carries the trace context in a Temporal header. Exported
over OTLP/HTTP when OTEL_EXPORTER_OTLP_ENDPOINT is set; otherwise nothing is traced and nothing is added."""

from __future__ import annotations

from typing import TYPE_CHECKING

import opentelemetry.trace
from opentelemetry.sdk.resources import SERVICE_NAME, Resource
from opentelemetry.sdk.trace import SpanProcessor, TracerProvider
from opentelemetry.sdk.trace.export import BatchSpanProcessor, SimpleSpanProcessor, SpanExporter
from temporalio.client import Interceptor

from models.settings import Settings

if TYPE_CHECKING:
    from fastapi import FastAPI

# Probes are polled every few seconds: spans of them would drown the ones that matter.
UNTRACED_URLS = "healthz,readyz,metrics"

_provider: TracerProvider | None = None


def configure_tracing(
    settings: Settings, service_name: str, *, exporter: SpanExporter | None = None
) -> TracerProvider | None:
    """Once per process: the tracer provider, exporting to the OTLP endpoint (batched) or, for tests, to the
    given exporter (span by span). None when neither is there: tracing is off."""
    global _provider
    if _provider is not None:
        return _provider
    processor: SpanProcessor
    if exporter is not None:
        processor = SimpleSpanProcessor(exporter)
    elif settings.otel_exporter_otlp_endpoint:
        from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter

        endpoint = settings.otel_exporter_otlp_endpoint.rstrip("/") + "/v1/traces"
        processor = BatchSpanProcessor(OTLPSpanExporter(endpoint=endpoint))
    else:
        return None
    # The provider exports what is still queued when the process exits (shutdown_on_exit).
    provider = TracerProvider(resource=Resource.create({SERVICE_NAME: settings.otel_service_name or service_name}))
    provider.add_span_processor(processor)
    if exporter is None:
        # The global provider can be set once per process; tests install theirs without it (see reset_tracing).
        opentelemetry.trace.set_tracer_provider(provider)
    _provider = provider
    return provider


def tracer_provider() -> TracerProvider | None:
    return _provider


def reset_tracing() -> None:
    """Forgets the provider (tests): clients and apps built afterwards are not traced."""
    global _provider
    if _provider is not None:
        _provider.shutdown()
    _provider = None


def temporal_tracing_interceptors() -> list[Interceptor]:
    """Temporal's tracing interceptor when tracing is on. It runs its workflow half inside the sandbox on its own:
    the interceptor class is handed in from outside, and it loads OpenTelemetry's context at import time."""
    if _provider is None:
        return []
    from temporalio.contrib.opentelemetry import TracingInterceptor

    return [TracingInterceptor(_provider.get_tracer("cvimprover.temporal"))]


def instrument_app(app: FastAPI) -> None:
    """Server spans for every request (except the probes) when tracing is on; reads the caller's traceparent."""
    if _provider is None:
        return
    # Imported here: the worker builds clients from ops.temporal and has no use for FastAPI.
    from opentelemetry.instrumentation.fastapi import FastAPIInstrumentor

    FastAPIInstrumentor.instrument_app(
        app, tracer_provider=_provider, excluded_urls=UNTRACED_URLS, exclude_spans=["receive", "send"]
    )
