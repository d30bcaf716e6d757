"""What an improvement produces: changes, warnings, scores, and the stages a run goes through."""

from __future__ import annotations

from enum import StrEnum

from pydantic import BaseModel, ConfigDict, Field

from models.resume import Resume
from models.tailoring import AtsScore, TailoringReport


class Stage(StrEnum):
    QUEUED = "queued"
    RESERVING = "reserving"
    EXTRACTING = "extracting"
    REWRITING = "rewriting"
    VERIFYING = "verifying"
    SCORING = "scoring"
    RENDERING = "rendering"
    STORING = "storing"
    COMPLETED = "completed"
    FAILED = "failed"
    CANCELED = "canceled"

    @property
    def terminal(self) -> bool:
        return self in (Stage.COMPLETED, Stage.FAILED, Stage.CANCELED)


# Percent shown to users when a stage starts.
STAGE_PERCENT: dict[Stage, int] = {
    Stage.QUEUED: 0,
    Stage.RESERVING: 5,
    Stage.EXTRACTING: 10,
    Stage.REWRITING: 25,
    Stage.VERIFYING: 70,
    Stage.SCORING: 75,
    Stage.RENDERING: 80,
    Stage.STORING: 95,
    Stage.COMPLETED: 100,
    Stage.FAILED: 100,
    Stage.CANCELED: 100,
}


class Change(BaseModel):
    """One edit the engine made. `path` points into the Resume, e.g. `work/0/highlights/2` or `basics/summary`."""

    model_config = ConfigDict(frozen=True)

    id: str
    path: str
    before: str | None = None
    after: str | None = None
    reason: str


class VerificationWarning(BaseModel):
    """A change the fact check reverted, and why; or a caveat the engine reports about the whole result
    (`path` "", a code of ENGINE_WARNING_CODES)."""

    model_config = ConfigDict(frozen=True)

    change_id: str | None
    path: str
    code: str = Field(description="invented_employer, invented_number, contact_changed, not_translated, ...")
    message: str


NOT_TRANSLATED = "not_translated"
WORDING_NOT_IMPROVED = "wording_not_improved"
# Warnings an engine reports itself; the fact check keeps them and adds its own.
ENGINE_WARNING_CODES = frozenset({NOT_TRANSLATED, WORDING_NOT_IMPROVED})


class KeywordScore(BaseModel):
    """How well a CV covers the job description's keywords (0-100)."""

    model_config = ConfigDict(frozen=True)

    score: float = Field(ge=0, le=100)
    matched: list[str] = Field(default_factory=list)
    missing: list[str] = Field(default_factory=list)


class Scores(BaseModel):
    model_config = ConfigDict(frozen=True)

    before: KeywordScore
    after: KeywordScore
    # Optional so rows scored before tailoring existed still load.
    ats_before: AtsScore | None = None
    ats_after: AtsScore | None = None
    tailoring: TailoringReport | None = None


class RewriteResult(BaseModel):
    """What a rewrite engine returns: the improved CV and the edits that made it."""

    resume: Resume
    changes: list[Change]
    engine: str = Field(description="'offline' or 'openai:<model>'")
    warnings: list[VerificationWarning] = Field(default_factory=list, description="The engine's own caveats.")


class VerificationResult(BaseModel):
    resume: Resume
    changes: list[Change]
    warnings: list[VerificationWarning]
