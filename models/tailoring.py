"""Tailoring to a job description: the job's skills, how the CV proves each, and an explained ATS-readiness score."""

from __future__ import annotations

from enum import StrEnum

from pydantic import BaseModel, ConfigDict, Field


class Importance(StrEnum):
    REQUIRED = "required"
    NICE_TO_HAVE = "nice_to_have"


class MatchStatus(StrEnum):
    PROVEN = "proven"
    WORDED_DIFFERENTLY = "worded_differently"
    MISSING = "missing"


class SkillRequirement(BaseModel):
    """A skill the job asks for. `alternatives` are the other skills the job accepts instead ("Python, Go or Rust")."""

    model_config = ConfigDict(frozen=True)

    skill: str
    importance: Importance
    alternatives: list[str] = Field(default_factory=list)


class SkillMatch(BaseModel):
    """How the CV covers one of the job's skills."""

    model_config = ConfigDict(frozen=True)

    skill: str = Field(description="The skill as the job writes it; with alternatives, the one the CV proves.")
    importance: Importance
    status: MatchStatus
    alternatives: list[str] = Field(default_factory=list)
    evidence: str | None = Field(default=None, description="A short excerpt of the CV that proves the skill.")
    evidence_path: str | None = Field(default=None, description="Where the excerpt is, e.g. `work/0/highlights/2`.")
    cv_wording: str | None = Field(default=None, description="How the CV writes the skill when worded differently.")
    change_id: str | None = Field(default=None, description="The improvement's change that uses the job's wording.")
    advice: str | None = Field(default=None, description="What to do about a missing skill; never a claim to make.")


class StatusCounts(BaseModel):
    model_config = ConfigDict(frozen=True)

    proven: int = 0
    worded_differently: int = 0
    missing: int = 0


class TailoringReport(BaseModel):
    """The job's skills split into required and nice-to-have, each classified against the original CV."""

    model_config = ConfigDict(frozen=True)

    required: list[SkillMatch] = Field(default_factory=list)
    nice_to_have: list[SkillMatch] = Field(default_factory=list)
    required_counts: StatusCounts = Field(default_factory=StatusCounts)
    nice_to_have_counts: StatusCounts = Field(default_factory=StatusCounts)


class AtsPart(BaseModel):
    """One part of the ATS-readiness score. A part with weight 0 did not apply (and says why)."""

    model_config = ConfigDict(frozen=True)

    name: str = Field(description="keyword_coverage, sections, contact, dates or bullets")
    label: str
    score: float = Field(ge=0, le=100)
    weight: float = Field(ge=0)
    explanation: str


class AtsScore(BaseModel):
    """How ready a CV is for applicant tracking systems, 0-100: the weighted mean of its parts."""

    model_config = ConfigDict(frozen=True)

    score: float = Field(ge=0, le=100)
    parts: list[AtsPart]
