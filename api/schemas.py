"""Request and response bodies of the REST API."""

from __future__ import annotations

import uuid
from datetime import date, datetime
from enum import StrEnum
from typing import Any

from pydantic import BaseModel, ConfigDict, EmailStr, Field

from models.improvement import Change, Scores, VerificationWarning
from models.target import PaperSize


class RegisterRequest(BaseModel):
    email: EmailStr
    password: str = Field(min_length=10, max_length=256, description="At least 10 characters.")
    name: str | None = Field(default=None, max_length=200)


class LoginRequest(BaseModel):
    email: EmailStr
    password: str = Field(max_length=256)


class TokenResponse(BaseModel):
    access_token: str
    token_type: str = "bearer"  # noqa: S105 - OAuth token type, not a secret
    expires_in: int = Field(description="Seconds until the access token expires.")
    refresh_token: str = Field(description="Single use: POST /auth/refresh exchanges it for new tokens (rotation).")


class RefreshRequest(BaseModel):
    refresh_token: str = Field(min_length=1, max_length=200)


class LogoutRequest(BaseModel):
    refresh_token: str | None = Field(default=None, max_length=200)


class ForgotPasswordRequest(BaseModel):
    email: EmailStr


class ResetPasswordRequest(BaseModel):
    token: str = Field(min_length=1, max_length=200)
    password: str = Field(min_length=10, max_length=256, description="At least 10 characters.")


class UpdateMeRequest(BaseModel):
    name: str | None = Field(default=None, max_length=200)
    email: EmailStr | None = None
    password: str | None = Field(default=None, min_length=10, max_length=256, description="At least 10 characters.")
    current_password: str | None = Field(
        default=None, max_length=256, description="Required to change the e-mail address or the password."
    )


class QuotaOut(BaseModel):
    plan: str
    used: int
    limit: int
    resets_on: date


class MeResponse(BaseModel):
    id: uuid.UUID
    email: str
    name: str | None
    plan: str
    quota: QuotaOut


class CvOut(BaseModel):
    id: uuid.UUID
    filename: str
    kind: str
    content_type: str
    size_bytes: int
    pages: int
    sha256: str
    created_at: datetime
    file_url: str


class CvDetail(CvOut):
    resume: dict[str, Any] = Field(description="The CV as parsed, in JSON Resume v1.0.0 form.")
    language: str | None = Field(
        default=None,
        description="ISO 639-1 code of the language the CV is written in, detected at upload; null when the "
        "text says too little. Also in `resume.meta.detectedLanguage`.",
    )
    language_confidence: float | None = Field(default=None, ge=0, le=1, description="How sure the detection is.")


class ImprovementAccepted(BaseModel):
    improvement_id: uuid.UUID
    workflow_id: str
    run_id: str | None
    status_url: str
    events_url: str


class ErrorOut(BaseModel):
    code: str
    message: str


class PdfOut(BaseModel):
    theme: str
    paper: str
    pages: int
    url: str


class ImprovementSummary(BaseModel):
    id: uuid.UUID
    cv_id: uuid.UUID
    workflow_id: str
    stage: str
    percent: int
    position: str
    created_at: datetime
    finished_at: datetime | None
    status_url: str


class ImprovementOut(ImprovementSummary):
    model_config = ConfigDict(json_schema_extra={"description": "An improvement with its result when finished."})

    target: dict[str, Any]
    engine: str | None
    error: ErrorOut | None
    result: dict[str, Any] | None = Field(description="The improved CV (JSON Resume) once verified.")
    input_language: str | None = Field(
        default=None, description="The language the CV was written in (detected), once the result is there."
    )
    changes: list[Change]
    warnings: list[VerificationWarning] = Field(
        description='Changes the fact check reverted, and caveats about the whole result (path ""), such as '
        "not_translated when the offline engine kept the CV's language."
    )
    scores: Scores | None
    pdfs: list[PdfOut]


class ExportFormat(StrEnum):
    PDF = "pdf"
    DOCX = "docx"
    JSON = "json"


class RenderRequest(BaseModel):
    theme: str = Field(max_length=50)
    paper: PaperSize | None = None


class RenderAccepted(BaseModel):
    workflow_id: str | None
    status: str = Field(description="'ready' when this PDF already exists, else 'rendering'.")
    pdf_url: str


class CancelAccepted(BaseModel):
    workflow_id: str
    status: str = "canceling"


class ThemeOut(BaseModel):
    name: str
    title: str
    description: str
    two_column: bool = Field(description="Two columns of text (read main column first, then the side column).")
    ats_friendly: bool = Field(description="Designed for applicant tracking systems.")
    preview_url: str = Field(description="A PNG of page one of a sample CV in this theme.")


class PlanPrices(BaseModel):
    month: str | None = Field(description="Stripe price id of monthly billing; null when not sold monthly.")
    year: str | None = Field(description="Stripe price id of yearly billing; null when not sold yearly.")


class PlanOut(BaseModel):
    code: str
    name: str
    monthly_quota: int = Field(description="Improvements per calendar month.")
    prices: PlanPrices
    current: bool = Field(description="True for the plan whose quota applies to the caller now.")


class PlansOut(BaseModel):
    plans: list[PlanOut]
    current_plan: str | None = Field(description="The caller's plan; null without an access token.")
    billing_available: bool = Field(description="False when this deployment has no Stripe account configured.")


class SubscriptionOut(BaseModel):
    status: str = Field(description="none, checkout_pending, active, past_due, canceling or canceled.")
    plan: str = Field(description="The plan whose quota applies now.")
    subscribed_plan: str | None = Field(description="The plan paid for, even while past due or ending.")
    interval: str | None
    current_period_end: datetime | None
    cancel_at_period_end: bool
    grace_until: datetime | None = Field(description="A past-due subscription keeps its plan until then.")
    renewals: int
    workflow_id: str


class UsageOut(BaseModel):
    plan: str
    used: int
    limit: int
    remaining: int
    period_start: date
    resets_on: date


class CheckoutIn(BaseModel):
    plan: str = Field(min_length=1, max_length=32, examples=["pro"])
    interval: str = Field(default="month", pattern="^(month|year)$")


class CheckoutOut(BaseModel):
    checkout_url: str = Field(description="Send the user here to pay on Stripe Checkout.")
    session_id: str
    workflow_id: str


class PlanChangeIn(CheckoutIn):
    pass


class PortalOut(BaseModel):
    portal_url: str = Field(description="Stripe's billing portal: payment methods, invoices, receipts.")
