"""The offline engine's rules that earn the eval's keyword gain, case by case: the job's spelling, hyphens and
abbreviations for what the CV already says, and where each must not apply."""

from __future__ import annotations

from typing import Any

import pytest

from activities.llm import improve_offline
from activities.verification import verify_rewrite
from models.improvement import RewriteResult
from models.resume import Resume
from models.target import ImprovementTarget

ENDED = {"name": "Initech", "position": "Developer", "startDate": "2016-05", "endDate": "2019-12"}


def run(highlights: list[str], jd: str, **extra: Any) -> RewriteResult:
    data: dict[str, Any] = {"basics": {"name": "Sam Doe"}, "work": [{**ENDED, "highlights": highlights}], **extra}
    original = Resume.model_validate(data)
    result = improve_offline(original, ImprovementTarget(position="Engineer", job_description=jd))
    assert verify_rewrite(original, result).warnings == [], "every offline edit passes the fact check"
    return result


@pytest.mark.parametrize(
    ("text", "jd", "after"),
    [
        ("Optimised the ledger queries", "Optimize queries", "Optimized the ledger queries"),
        ("Improved model optimization", "optimisation of models", "Improved model optimisation"),
        ("Built language modeling tools", "statistical modelling", "Built language modelling tools"),
        ("Organised 12 launches", "organize launches", "Organized 12 launches"),
        ("Ran the loyalty programme", "loyalty programs", "Ran the loyalty program"),
        ("Ran the test program", "a programme of work", "Ran the test program"),  # a program is a program
        ("Optimised the ledger queries", "Kubernetes", "Optimised the ledger queries"),  # the job says neither
        ("Optimised queries", "optimize and optimise", "Optimised queries"),  # the job says both
        ("Funded by the Centre for Research", "data center", "Funded by the Centre for Research"),  # a name
    ],
)
def test_the_jobs_spelling(text: str, jd: str, after: str) -> None:
    result = run([text], jd)
    assert result.resume.work[0].highlights == [after]
    if after != text:
        assert "job description's spelling" in result.changes[0].reason


@pytest.mark.parametrize(
    ("text", "jd", "after"),
    [
        ("Built event driven services", "event-driven architectures", "Built event-driven services"),
        ("Wrote end to end tests", "end-to-end testing", "Wrote end-to-end tests"),
        ("Added realtime sync", "real-time collaboration", "Added real-time sync"),
        ("Processed payments in real time", "real-time payments", "Processed payments in real time"),
        ("Was on call for 12 services", "on-call rotation", "Was on call for 12 services"),
        ("Sponsored by Real Time Systems", "real-time systems", "Sponsored by Real Time Systems"),
    ],
)
def test_the_jobs_hyphens(text: str, jd: str, after: str) -> None:
    assert run([text], jd).resume.work[0].highlights == [after]


@pytest.mark.parametrize(
    ("text", "jd", "after"),
    [
        ("Added the backend cache", "Senior Backend Engineer", "Added the backend cache"),  # a common noun
        ("Fixed the front end build", "Frontend Engineer", "Fixed the frontend build"),
        ("Served an LLM on GPUs", "large language models", "Served an LLM on GPUs"),
        ("Built LLM inference kernels", "large language models", "Built LLM inference kernels"),
        ("Fine-tuned LLMs for search", "large language models", "Fine-tuned Large Language Models for search"),
        ("Set up continuous integration", "CI/CD pipelines", "Set up continuous integration"),  # only half
        ("Ran k8s at https://k8s.example.io/k8s", "Kubernetes", "Ran Kubernetes at https://k8s.example.io/k8s"),
    ],
)
def test_the_jobs_skill_names_where_they_read(text: str, jd: str, after: str) -> None:
    assert run([text], jd).resume.work[0].highlights == [after]


def test_a_skills_list_gains_the_jobs_abbreviation_once() -> None:
    skills = [
        {"name": "Data", "keywords": ["Machine Learning", "Python"]},
        {"name": "AI", "keywords": ["Machine Learning"]},
    ]
    result = run(["Analysed churn with Machine Learning"], "ML engineers wanted", skills=skills)
    assert result.resume.skills[0].keywords == ["Machine Learning (ML)", "Python"]
    assert result.resume.skills[1].keywords == ["Machine Learning"]
    assert result.resume.work[0].highlights == ["Analysed churn with Machine Learning"]
    (change,) = [c for c in result.changes if c.path == "skills/0/keywords/0"]
    assert change.reason == 'Added the job description\'s abbreviation "ML" to "Machine Learning".'


def test_no_abbreviation_when_the_cv_already_uses_it() -> None:
    skills = [{"name": "Data", "keywords": ["Machine Learning", "ML ops"]}]
    assert run([], "ML engineers wanted", skills=skills).resume.skills[0].keywords == ["Machine Learning", "ML ops"]


@pytest.mark.parametrize(
    ("summary", "after"),
    [
        ("I am a results-driven marketing manager.", "Marketing manager."),
        ("A highly motivated, detail-oriented analyst.", "An analyst."),
        ("Hard-working graduate developer.", "Graduate developer."),
        ("Passionate about clean code.", "Passionate about clean code."),  # a statement, not praise of a noun
        ("My team is results-driven and calm.", "My team is results-driven and calm."),
    ],
)
def test_summaries_lose_self_praise(summary: str, after: str) -> None:
    assert run([], "", basics={"name": "Sam", "summary": summary}).resume.basics.summary == after


@pytest.mark.parametrize(
    ("before", "after"),
    [
        ("Involved in building the billing service", "Helped build the billing service"),
        ("Participated in designing the API", "Helped design the API"),
        ("Was responsible for cleaning the data", "Cleaned the data"),
        ("Duties included fixing bugs", "Fixed bugs"),
        ("Responsible for running the on-call rota", "Ran the on-call rota"),
        ("Implement reinforcement learning policies", "Implemented reinforcement learning policies"),
        ("Writes unit tests for the quoting engine", "Wrote unit tests for the quoting engine"),
        ("Design systems for payments", "Design systems for payments"),  # a noun phrase
    ],
)
def test_more_weak_openers_and_tenses(before: str, after: str) -> None:
    assert run([before], "").resume.work[0].highlights == [after]


def test_the_current_role_drops_the_third_person() -> None:
    role = {"name": "Globex", "position": "Engineer", "startDate": "2021-01"}
    data = {"basics": {"name": "Sam"}, "work": [{**role, "highlights": ["Manages 5 engineers"]}]}
    result = improve_offline(Resume.model_validate(data), ImprovementTarget(position="Engineer"))
    assert result.resume.work[0].highlights == ["Manage 5 engineers"]
