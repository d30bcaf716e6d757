"""Inputs and outputs of workflows and activities: IDs and small options only, never CV text (claim check)."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import date

CV_IMPROVEMENT_WORKFLOW = "CvImprovementWorkflow"
CV_RENDER_WORKFLOW = "CvRenderWorkflow"

# Custom search attributes (Keyword), registered on the Temporal server by the dev launcher and compose.
SA_CV_USER_ID = "CvUserId"
SA_CV_STAGE = "CvStage"
SA_CV_PLAN = "CvPlan"
SA_CV_SUBSCRIPTION_STATUS = "CvSubscriptionStatus"
SEARCH_ATTRIBUTES = (SA_CV_USER_ID, SA_CV_STAGE, SA_CV_PLAN, SA_CV_SUBSCRIPTION_STATUS)


def improvement_workflow_id(improvement_id: uuid.UUID) -> str:
    return f"cv-improvement-{improvement_id}"


def render_workflow_id(improvement_id: uuid.UUID, theme: str, paper: str) -> str:
    return f"cv-render-{improvement_id}-{theme}-{paper}"


@dataclass(frozen=True)
class ImprovementInput:
    improvement_id: uuid.UUID
    user_id: uuid.UUID
    theme: str
    paper: str
    language: str


@dataclass(frozen=True)
class ImprovementRef:
    improvement_id: uuid.UUID


@dataclass(frozen=True)
class StageUpdate:
    improvement_id: uuid.UUID
    stage: str


@dataclass(frozen=True)
class ReserveQuotaInput:
    improvement_id: uuid.UUID
    user_id: uuid.UUID


@dataclass(frozen=True)
class QuotaReservation:
    plan: str
    used: int
    limit: int
    period_start: date


@dataclass(frozen=True)
class ExtractionSummary:
    kind: str
    pages: int
    characters: int


@dataclass(frozen=True)
class RewriteSummary:
    engine: str
    changes: int


@dataclass(frozen=True)
class VerificationSummary:
    kept: int
    reverted: int


@dataclass(frozen=True)
class ScoreSummary:
    before: float
    after: float


@dataclass(frozen=True)
class RenderInput:
    improvement_id: uuid.UUID
    theme: str
    paper: str
    language: str
    report_progress: bool = True


@dataclass(frozen=True)
class RenderSummary:
    pdf_sha256: str
    pages: int
    render_ms: float


@dataclass(frozen=True)
class FailureInput:
    improvement_id: uuid.UUID
    stage: str
    code: str
    message: str
    canceled: bool = False


@dataclass(frozen=True)
class ImprovementProgress:
    """What the `progress` query returns."""

    stage: str
    percent: int
    error_code: str | None = None
    error_message: str | None = None
