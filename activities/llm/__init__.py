"""Rewrite engines: the OpenAI engine when a key is configured, the offline one otherwise."""

from __future__ import annotations

from activities.llm.engine import RewriteEngine
from activities.llm.offline import OfflineEngine, improve_offline
from activities.llm.openai_engine import (
    LlmRewrite,
    OpenAIEngine,
    TokenUsage,
    build_openai_client,
    map_openai_error,
)
from activities.llm.placeholders import MaskedResume, mask_contacts, restore_contacts
from models.settings import Settings


def build_engine(settings: Settings) -> RewriteEngine:
    """The engine the settings ask for: OpenAI (or a compatible server) with a key, else offline."""
    if settings.llm_configured:
        return OpenAIEngine(build_openai_client(settings), settings.openai_model)
    return OfflineEngine()


__all__ = [
    "LlmRewrite",
    "MaskedResume",
    "OfflineEngine",
    "OpenAIEngine",
    "RewriteEngine",
    "TokenUsage",
    "build_engine",
    "build_openai_client",
    "improve_offline",
    "map_openai_error",
    "mask_contacts",
    "restore_contacts",
]
