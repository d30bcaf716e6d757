"""The shared corpus's JSON Resume sample and its job, as the tests of engines, verification and scoring use
them."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from models.resume import Resume
from models.target import ImprovementTarget

CORPUS = Path(__file__).resolve().parents[2].parent / "shared" / "corpus"


def sample_resume() -> Resume:
    return Resume.model_validate(json.loads((CORPUS / "jsonresume-sample.resume.json").read_text()))


def sample_job() -> dict[str, Any]:
    data: dict[str, Any] = json.loads((CORPUS / "jsonresume-sample.job.json").read_text())
    return data


def sample_job_description() -> str:
    """The sample job's description and skills, as a user would paste them."""
    job = sample_job()
    skills = "\n".join(f"- {s['name']}: {', '.join(s['keywords'])}" for s in job["skills"])
    return f"{job['description']}\n\nSkills:\n{skills}"


def sample_target() -> ImprovementTarget:
    return ImprovementTarget(position=sample_job()["title"], job_description=sample_job_description())
