"""What the user wants the CV improved for."""

from __future__ import annotations

from enum import StrEnum
from typing import Literal

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


# How many pages a PDF may take: one, or two (the default).
PageLimit = Literal[1, 2]


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
    "ru": "Russian",
    "el": "Greek",
    "zh": "Chinese",
    "ja": "Japanese",
    "ko": "Korean",
}
DEFAULT_OUTPUT_LANGUAGE = "en"


def default_output_language(input_language: str | None) -> str:
    """The output language when none is asked for: the CV's own language when we can write it, else English."""
    return input_language if input_language in SUPPORTED_LANGUAGES else DEFAULT_OUTPUT_LANGUAGE


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
    output_language: str = Field(
        default=DEFAULT_OUTPUT_LANGUAGE,
        description="ISO 639-1 code of the result's language. Left out, the API uses the CV's detected language "
        "when it is supported, else English.",
    )
    theme: str = Field(default="classic", max_length=50)
    paper: PaperSize = PaperSize.A4
    max_pages: PageLimit = Field(
        default=2,
        description="1 or 2: the PDF is fitted to this many pages (tighter layout, then without references and "
        "interests); a CV that still does not fit keeps all its text and the rendition says so.",
    )
