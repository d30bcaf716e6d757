"""What the user wants the CV improved for."""

from __future__ import annotations

from enum import StrEnum

from pydantic import BaseModel, ConfigDict, Field

JOB_DESCRIPTION_MAX_CHARS = 10_000


class ExperienceLevel(StrEnum):
    ENTRY = "0-2"
    MID = "3-5"
    SENIOR = "6+"


class CompanySize(StrEnum):
    STARTUP = "1-50"
    SMALL = "51-200"
    MEDIUM = "201-1000"
    LARGE = "1001-5000"
    ENTERPRISE = "5000+"


class ApplicationTimeline(StrEnum):
    IMMEDIATELY = "immediately"
    WITHIN_MONTH = "within_1_month"
    WITHIN_QUARTER = "within_3_months"
    EXPLORING = "exploring"


class PaperSize(StrEnum):
    A4 = "A4"
    LETTER = "Letter"


# Output languages a result can be asked for (ISO 639-1).
SUPPORTED_LANGUAGES: dict[str, str] = {
    "en": "English",
    "de": "German",
    "fr": "French",
    "es": "Spanish",
    "pt": "Portuguese",
    "pl": "Polish",
    "it": "Italian",
    "nl": "Dutch",
    "uk": "Ukrainian",
    "el": "Greek",
    "zh": "Chinese",
    "ja": "Japanese",
}


class ImprovementTarget(BaseModel):
    """The job a CV is improved for. Stored in PostgreSQL; never enters a workflow history."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    position: str = Field(min_length=1, max_length=200, description="Target job title.")
    industry: str | None = Field(default=None, max_length=200)
    experience_level: ExperienceLevel | None = None
    company_size: CompanySize | None = None
    location: str | None = Field(default=None, max_length=200)
    application_timeline: ApplicationTimeline | None = None
    job_description: str = Field(default="", max_length=JOB_DESCRIPTION_MAX_CHARS)
    output_language: str = Field(default="en", description="ISO 639-1 code of the result's language.")
    theme: str = Field(default="classic", max_length=50)
    paper: PaperSize = PaperSize.A4
