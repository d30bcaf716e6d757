"""The offline engine: deterministic improvements that never invent content."""

from __future__ import annotations

from typing import Any

import pytest

from activities.llm import OfflineEngine, improve_offline
from activities.scoring import score_keywords
from activities.verification import verify_rewrite
from models.improvement import RewriteResult
from models.resume import Resume
from models.target import ImprovementTarget
from tests.fakes.corpus import sample_resume, sample_target

ENDED = {"name": "Initech", "position": "Developer", "startDate": "2016-05", "endDate": "2019-12"}
CURRENT = {"name": "Globex", "position": "Engineer", "startDate": "2020-01"}


def run(highlights: list[str], *, role: dict[str, Any] | None = None, jd: str = "", **extra: Any) -> RewriteResult:
    data: dict[str, Any] = {
        "basics": {"name": "Sam Doe"},
        "work": [{**(role or ENDED), "highlights": highlights}],
    }
    data.update(extra)
    target = ImprovementTarget(position="Engineer", job_description=jd)
    return improve_offline(Resume.model_validate(data), target)


def bullets(highlights: list[str], **kwargs: Any) -> list[str]:
    return run(highlights, **kwargs).resume.work[0].highlights


def identity(resume: Resume) -> dict[str, Any]:
    """Everything the engine must never touch."""
    data = resume.model_dump(mode="json")
    return {
        "basics": {k: v for k, v in data["basics"].items() if k != "summary"},
        "work": [
            {k: w[k] for k in ("name", "position", "startDate", "endDate", "location", "url")} for w in data["work"]
        ],
        "volunteer": [
            {k: v[k] for k in ("organization", "position", "startDate", "endDate")} for v in data["volunteer"]
        ],
        "education": data["education"],
        "awards": data["awards"],
        "publications": data["publications"],
        "languages": data["languages"],
        "references": data["references"],
        "projects": [{k: p[k] for k in ("name", "startDate", "endDate", "url")} for p in data["projects"]],
    }


# --- the sample CV for the sample job -------------------------------------------------------------------


def test_the_sample_gets_changes_and_keeps_every_fact() -> None:
    original = sample_resume()
    result = improve_offline(original, sample_target())
    assert result.engine == "offline"
    assert len([c for c in result.changes if c.before != c.after]) >= 3
    assert identity(result.resume) == identity(original)
    assert result.resume.model_extra == original.model_extra
    assert result.resume.projects[0].model_extra == original.projects[0].model_extra
    changed = {c.path: c.after for c in result.changes}
    assert str(changed["work/0/highlights/0"]).startswith("Built an algorithm")
    assert changed["work/0/highlights/1"] == "Won Techcrunch Disrupt"
    assert changed["skills/0/keywords/2"] == "JavaScript"
    assert original == sample_resume()  # the input was not mutated


def test_the_sample_rewrite_passes_the_fact_check_untouched() -> None:
    original = sample_resume()
    result = improve_offline(original, sample_target())
    checked = verify_rewrite(original, result)
    assert checked.warnings == []
    assert checked.resume == result.resume
    assert checked.changes == result.changes


def test_the_sample_keyword_score_does_not_drop() -> None:
    # The sample CV already spells every skill it shares with the job the job's way (case aside), so there is
    # nothing to align: the score must not drop. The rise from alignment is tested in tests/scoring.
    original, target = sample_resume(), sample_target()
    before = score_keywords(original, target.job_description, position=target.position)
    after = score_keywords(improve_offline(original, target).resume, target.job_description, position=target.position)
    assert after.score >= before.score
    assert set(before.matched) <= set(after.matched)


async def test_the_engine_interface() -> None:
    engine = OfflineEngine()
    assert engine.name == "offline"
    result = await engine.rewrite(sample_resume(), sample_target())
    assert result == improve_offline(sample_resume(), sample_target())


def test_change_ids_are_stable_and_in_reading_order() -> None:
    first = improve_offline(sample_resume(), sample_target())
    second = improve_offline(sample_resume(), sample_target())
    assert first == second
    assert [c.id for c in first.changes] == [f"c{n}" for n in range(1, len(first.changes) + 1)]
    assert [c.path for c in first.changes] == [
        "work/0/highlights/0",
        "work/0/highlights/1",
        "work/0/highlights/2",
        "skills/0/keywords/2",
        "projects/0/highlights/2",
    ]


# --- bullet rules ---------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("before", "after"),
    [
        ("Responsible for managing a team of 5 engineers", "Managed a team of 5 engineers"),
        ("Responsible for designing and building the API", "Designed and built the API"),
        ("Duties included designing APIs and training new staff", "Designed APIs and trained new staff"),
        ("Worked on improving the checkout flow", "Improved the checkout flow"),
        ("Helped with migrating the database", "Helped migrate the database"),
        ("Helped with the database migration", "Contributed to the database migration"),
        ("I was responsible for leading the on-call rota", "Led the on-call rota"),
        ("Tasked with reducing cloud costs", "Reduced cloud costs"),
    ],
)
def test_weak_openers_become_action_verbs_in_an_ended_role(before: str, after: str) -> None:
    assert bullets([before]) == [after]


@pytest.mark.parametrize(
    ("before", "after"),
    [
        ("Responsible for managing a team of 5 engineers", "Manage a team of 5 engineers"),
        ("Helped with migrating the database", "Help migrate the database"),
    ],
)
def test_weak_openers_in_the_current_role_use_the_present(before: str, after: str) -> None:
    assert bullets([before], role=CURRENT) == [after]


@pytest.mark.parametrize("text", ["Responsible for the payroll system", "Worked on the billing platform"])
def test_an_unsafe_weak_opener_is_left_with_a_hint(text: str) -> None:
    result = run([text])
    assert result.resume.work[0].highlights == [text]
    (change,) = result.changes
    assert change.before == change.after == text
    assert "start with a verb" in change.reason


@pytest.mark.parametrize(
    ("before", "after"),
    [
        ("I built the deployment pipeline", "Built the deployment pipeline"),
        ("I led a team of 4", "Led a team of 4"),
        ("I really like cats", "I really like cats"),  # not a verb from the table: left alone
    ],
)
def test_first_person_pronouns_are_removed(before: str, after: str) -> None:
    assert bullets([before]) == [after]


@pytest.mark.parametrize(
    ("before", "after"),
    [
        ("Build an algorithm for artists", "Built an algorithm for artists"),
        ("Develop and maintain the web app", "Developed and maintained the web app"),
        ("Design, build and test the API", "Designed, built and tested the API"),
        ("Manages the support rota", "Managed the support rota"),
        ("Leading a team of 6", "Led a team of 6"),
        ("Training programme for new hires", "Training programme for new hires"),  # a noun, not a verb
        ("Design of the new API", "Design of the new API"),
        ("Optimized an algorithm", "Optimized an algorithm"),
    ],
)
def test_an_ended_role_reads_in_the_past(before: str, after: str) -> None:
    assert bullets([before]) == [after]


@pytest.mark.parametrize(
    ("before", "after"),
    [
        ("Managed the support rota", "Manage the support rota"),
        ("Leading the platform team", "Lead the platform team"),
        ("Reduced costs by 20%", "Reduced costs by 20%"),  # a finished achievement stays in the past
        ("Manage the support rota", "Manage the support rota"),
    ],
)
def test_the_current_role_reads_in_the_present(before: str, after: str) -> None:
    assert bullets([before], role=CURRENT) == [after]


def test_roles_without_dates_keep_their_tense() -> None:
    role = {"name": "Acme", "position": "Engineer"}
    assert bullets(["Build the API", "Managed the rota"], role=role) == ["Build the API", "Managed the rota"]


@pytest.mark.parametrize(
    ("before", "after"),
    [
        ("  - fixed   flaky   tests  ", "Fixed flaky tests"),
        ("• shipped the mobile app", "Shipped the mobile app"),
        ("iOS app for field engineers", "iOS app for field engineers"),
        ("Successfully won the hackathon", "Won the hackathon"),
    ],
)
def test_bullets_are_cleaned_up(before: str, after: str) -> None:
    assert bullets([before]) == [after]


def test_trailing_periods_follow_the_majority_without() -> None:
    assert bullets(["Built the API.", "Ran the rota", "Wrote the docs"]) == [
        "Built the API",
        "Ran the rota",
        "Wrote the docs",
    ]


def test_trailing_periods_follow_the_majority_with() -> None:
    assert bullets(["Built the API.", "Ran the rota.", "Wrote the docs", "Used tools, etc."]) == [
        "Built the API.",
        "Ran the rota.",
        "Wrote the docs.",
        "Used tools, etc.",
    ]


def test_abbreviations_keep_their_period() -> None:
    assert bullets(["Built the API", "Worked with vendors, suppliers etc."]) == [
        "Built the API",
        "Worked with vendors, suppliers etc.",
    ]


# --- hints ----------------------------------------------------------------------------------------------


def test_bullets_without_a_number_get_a_hint_never_a_number() -> None:
    result = run(["Built the API", "Served 1,000 customers"])
    (change,) = result.changes
    assert change.path == "work/0/highlights/0"
    assert change.before == change.after == "Built the API"
    assert change.reason.startswith("Tip: ")
    assert result.resume.work[0].highlights == ["Built the API", "Served 1,000 customers"]


def test_a_hint_joins_the_reason_of_an_edited_bullet() -> None:
    (change,) = run(["Build the API"]).changes
    assert change.after == "Built the API"
    assert change.reason.startswith("Past tense, because this role has ended.")
    assert "Tip: " in change.reason


# --- summaries ------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("before", "after"),
    [
        ("I am a backend engineer with 7 years of Python.", "Backend engineer with 7 years of Python."),
        ("I'm an SRE. I built the platform.", "SRE. Built the platform."),
        ("Backend  engineer\nwith Python.", "Backend engineer with Python."),
        ("Richard hails from Tulsa.", "Richard hails from Tulsa."),
    ],
)
def test_summaries_lose_first_person_openings_and_extra_spaces(before: str, after: str) -> None:
    result = run([], basics={"name": "Sam", "summary": before})
    assert result.resume.basics.summary == after


# --- the job's wording and the skills -------------------------------------------------------------------


@pytest.mark.parametrize(
    ("cv_text", "jd", "aligned"),
    [
        ("Ran k8s clusters", "Kubernetes", "Ran Kubernetes clusters"),
        ("Tuned Postgres queries", "PostgreSQL", "Tuned PostgreSQL queries"),
        ("Wrote JS widgets", "javascript", "Wrote JavaScript widgets"),
        ("Wrote Javascript widgets", "JavaScript", "Wrote JavaScript widgets"),
        ("Wrote JavaScript widgets", "JS", "Wrote JavaScript widgets"),  # never trade the full name away
        ("Ran k8s clusters", "Docker", "Ran k8s clusters"),  # only terms the job uses
        ("Analysed churn with ML", "machine learning", "Analysed churn with Machine Learning"),
    ],
)
def test_the_jobs_wording_replaces_a_curated_synonym(cv_text: str, jd: str, aligned: str) -> None:
    result = run([cv_text], jd=jd)
    assert result.resume.work[0].highlights == [aligned]
    if aligned != cv_text:
        assert "job description's wording" in result.changes[0].reason


def test_skills_the_job_asks_for_come_first() -> None:
    skills = [
        {"name": "Design", "keywords": ["Figma"]},
        {"name": "Backend", "keywords": ["Ruby", "Python", "Postgres"]},
    ]
    result = run([], jd="Requirements: Python and PostgreSQL", skills=skills)
    assert [s.name for s in result.resume.skills] == ["Backend", "Design"]
    assert result.resume.skills[0].keywords == ["Python", "PostgreSQL", "Ruby"]
    paths = [c.path for c in result.changes]
    assert paths == ["skills", "skills/0/keywords", "skills/0/keywords/1"]
    assert result.changes[0].before == "Design, Backend" and result.changes[0].after == "Backend, Design"


def test_alignment_does_not_duplicate_a_skill() -> None:
    result = run([], jd="JavaScript", skills=[{"name": "Web", "keywords": ["JavaScript", "JS"]}])
    assert result.resume.skills[0].keywords == ["JavaScript", "JS"]


def test_nothing_relevant_means_nothing_reordered() -> None:
    skills = [{"name": "A", "keywords": ["x", "y"]}, {"name": "B", "keywords": ["z"]}]
    result = run([], jd="Kafka", skills=skills)
    assert [s.name for s in result.resume.skills] == ["A", "B"]
    assert result.changes == []


def test_every_offline_edit_passes_the_fact_check() -> None:
    original = Resume.model_validate(
        {
            "basics": {
                "name": "Sam Doe",
                "email": "sam@example.com",
                "summary": "I am a platform engineer using k8s.",
            },
            "work": [
                {
                    **CURRENT,
                    "highlights": [
                        "responsible for managing the k8s clusters.",
                        "I built CI/CD for 12 teams.",
                    ],
                },
                {
                    **ENDED,
                    "highlights": [
                        "Duties included designing Postgres schemas",
                        "Helped with the JS rewrite.",
                    ],
                },
            ],
            "skills": [
                {"name": "Tools", "keywords": ["Excel"]},
                {"name": "Platform", "keywords": ["JS", "k8s"]},
            ],
        }
    )
    target = ImprovementTarget(position="Platform Engineer", job_description="Kubernetes, PostgreSQL, JavaScript")
    result = improve_offline(original, target)
    assert len(result.changes) >= 6
    checked = verify_rewrite(original, result)
    assert checked.warnings == []
    assert checked.resume == result.resume
    # most bullets ended with a period, so all do now
    assert result.resume.work[0].highlights == [
        "Manage the Kubernetes clusters.",
        "Built CI/CD for 12 teams.",
    ]
    assert result.resume.work[1].highlights == [
        "Designed PostgreSQL schemas.",
        "Contributed to the JavaScript rewrite.",
    ]
