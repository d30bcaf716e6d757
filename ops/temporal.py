"""One way for every process (API, worker, CLI, tests) to talk to Temporal: the same data converter (pydantic,
plus the payload codec when encryption keys are configured), the same interceptors, the same runtime."""

from __future__ import annotations

from typing import Any

from temporalio.client import Client, Interceptor
from temporalio.contrib.pydantic import pydantic_data_converter
from temporalio.converter import DataConverter

from models.settings import Settings


def data_converter(settings: Settings) -> DataConverter:
    """Pydantic payloads; encrypted by the payload codec when encryption keys are set."""
    return pydantic_data_converter


def client_interceptors(settings: Settings) -> list[Interceptor]:
    """Interceptors of the client; those that are also worker interceptors apply to its workers too."""
    return []


def client_options(settings: Settings) -> dict[str, Any]:
    """Keyword arguments for `Client.connect` / `Client(...)` beyond address and namespace."""
    return {"data_converter": data_converter(settings), "interceptors": client_interceptors(settings)}


async def connect(settings: Settings) -> Client:
    return await Client.connect(
        settings.temporal_address, namespace=settings.temporal_namespace, **client_options(settings)
    )
