"""One way for every process (API, worker, CLI, tests) to talk to Temporal: the same data converter (pydantic,
plus the payload codec when encryption keys are configured), the same interceptors, the same runtime."""

from __future__ import annotations

import dataclasses
from typing import Any

from temporalio.client import Client, Interceptor
from temporalio.contrib.pydantic import pydantic_data_converter
from temporalio.converter import DataConverter, DefaultFailureConverterWithEncodedAttributes
from temporalio.runtime import Runtime

from models.settings import Settings
from ops.codec import payload_codec
from ops.context import ContextPropagationInterceptor
from ops.tracing import temporal_tracing_interceptors


def data_converter(settings: Settings) -> DataConverter:
    """Pydantic payloads; encrypted by the payload codec when encryption keys are set."""
    codec = payload_codec(settings)
    if codec is None:
        return pydantic_data_converter
    # Failure messages and stack traces can quote inputs: with encryption on they go through the codec too.
    return dataclasses.replace(
        pydantic_data_converter,
        payload_codec=codec,
        failure_converter_class=DefaultFailureConverterWithEncodedAttributes,
    )


def client_interceptors(settings: Settings) -> list[Interceptor]:
    """Interceptors of the client; those that are also worker interceptors apply to its workers too. The request
    and user ids always travel (for logs); traces only when this process set up tracing (`ops.tracing`)."""
    return [ContextPropagationInterceptor(), *temporal_tracing_interceptors()]


def client_options(settings: Settings) -> dict[str, Any]:
    """Keyword arguments for `Client.connect` / `Client(...)` beyond address and namespace."""
    return {"data_converter": data_converter(settings), "interceptors": client_interceptors(settings)}


async def connect(settings: Settings, *, runtime: Runtime | None = None) -> Client:
    """`runtime`: the worker passes its own (`ops.metrics.worker_runtime`), whose exporter serves /metrics; a
    worker built on this client uses it. None is the SDK's default runtime."""
    return await Client.connect(
        settings.temporal_address, namespace=settings.temporal_namespace, runtime=runtime, **client_options(settings)
    )
