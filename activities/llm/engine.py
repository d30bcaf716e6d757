"""The one interface every rewrite engine offers."""

from __future__ import annotations

from typing import Protocol

from models.improvement import RewriteResult
from models.resume import Resume
from models.target import ImprovementTarget


class RewriteEngine(Protocol):
    """Rewrites a CV for a target job. `name` is what results record: "offline" or "openai:<model>"."""

    name: str

    async def rewrite(self, resume: Resume, target: ImprovementTarget) -> RewriteResult: ...
