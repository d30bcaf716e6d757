"""The ATS-readiness score: each part, its weight and its explanation, before and after an improvement."""

from __future__ import annotations

from typing import Any

import pytest

from activities.documents import extract_document
from activities.llm.offline import improve_offline
from activities.tailoring import ATS_WEIGHTS, ats_score
from activities.verification import verify_rewrite
from models.resume import Resume
from models.tailoring import AtsPart, AtsScore
from models.target import ImprovementTarget
from tests.conftest import CORPUS, SAMPLES

JOB = (SAMPLES / "job-senior-backend.txt").read_text()
SIMPLE_JOB = "Requirements: Python, Kubernetes.\nNice to have: Terraform."


def resume(**overrides: Any) -> Resume:
    data: dict[str, Any] = {
        "basics": {"name": "Sam Doe", "email": "sam@example.com", "phone": "+44 20 7946 0000"},
        "work": [
            {
                "name": "Globex",
                "position": "Engineer",
                "startDate": "2020-01",
                "endDate": "2023-06",
                "highlights": ["Built 12 Python services on Kubernetes", "Cut deploy time by 40% with Terraform"],
            }
        ],
        "education": [{"institution": "University of Leeds", "area": "Computer Science", "studyType": "BSc"}],
        "skills": [{"name": "Languages", "keywords": ["Python"]}],
    }
    data.update(overrides)
    return Resume.model_validate(data)


def part(score: AtsScore, name: str) -> AtsPart:
    return next(p for p in score.parts if p.name == name)


def test_parts_weights_and_the_weighted_mean() -> None:
    score = ats_score(resume(), SIMPLE_JOB)
    assert [p.name for p in score.parts] == ["keyword_coverage", "bullets", "dates", "sections", "contact"]
    assert sum(p.weight for p in score.parts) == 100
    assert {p.name: p.weight for p in score.parts} == ATS_WEIGHTS
    assert score.score == round(sum(p.score * p.weight for p in score.parts) / 100, 1)
    assert all(p.explanation and p.label for p in score.parts)


def test_a_complete_cv_that_covers_the_job_scores_100() -> None:
    score = ats_score(resume(), SIMPLE_JOB)
    assert score.score == 100, [(p.name, p.score, p.explanation) for p in score.parts]


def test_an_empty_cv_scores_low_and_still_explains() -> None:
    score = ats_score(Resume(), JOB)
    assert score.score == 0
    assert part(score, "dates").weight == 0 and part(score, "bullets").weight == 0
    assert "No Experience, Education and Skills section" in part(score, "sections").explanation


# --- keyword coverage -----------------------------------------------------------------------------------


def test_coverage_counts_required_skills_twice_and_a_synonym_half() -> None:
    only_nice = resume(skills=[{"name": "Tools", "keywords": ["Terraform"]}], work=[])
    assert part(ats_score(only_nice, SIMPLE_JOB), "keyword_coverage").score == pytest.approx(100 / 5)
    synonym = resume(skills=[{"name": "Tools", "keywords": ["Python", "k8s", "Terraform"]}], work=[])
    coverage = part(ats_score(synonym, SIMPLE_JOB), "keyword_coverage")
    assert coverage.score == pytest.approx(100 * (2 + 1 + 1) / 5)
    assert '"k8s" for "Kubernetes"' in coverage.explanation and "half credit" in coverage.explanation


def test_coverage_explains_what_is_missing() -> None:
    bare = resume(skills=[], work=[])
    coverage = part(ats_score(bare, SIMPLE_JOB), "keyword_coverage")
    assert coverage.score == 0
    assert "0 of 2 required skills and 0 of 1 nice-to-haves" in coverage.explanation
    assert "Required but not shown: Python, Kubernetes." in coverage.explanation


def test_without_a_job_description_coverage_does_not_count() -> None:
    score = ats_score(resume(), "")
    coverage = part(score, "keyword_coverage")
    assert coverage.weight == 0 and "No job description" in coverage.explanation
    assert score.score == 100  # the other parts are perfect


# --- structure --------------------------------------------------------------------------------------------


def test_sections_name_the_missing_standard_headings() -> None:
    sections = part(ats_score(resume(education=[]), SIMPLE_JOB), "sections")
    assert sections.score == pytest.approx(200 / 3, abs=0.1)
    assert sections.explanation.startswith("No Education section.")
    assert "if you have something true to put in them" in sections.explanation


@pytest.mark.parametrize(
    ("email", "phone", "expected"),
    [
        ("sam@example.com", "+44 20 7946 0000", 100),
        ("sam@example.com", None, 50),
        (None, "(415) 555-0142", 50),
        ("not an address", "12", 0),
        (None, None, 0),
    ],
)
def test_contact_details(email: str | None, phone: str | None, expected: float) -> None:
    contact = part(ats_score(resume(basics={"name": "Sam", "email": email, "phone": phone}), SIMPLE_JOB), "contact")
    assert contact.score == expected
    if expected == 50:
        assert ("phone number" if email else "e-mail") in contact.explanation


def test_dates_readable_on_every_job() -> None:
    jobs = [
        {"name": "Globex", "position": "Engineer", "startDate": "Mar 2021", "endDate": "Present"},
        {"name": "Initech", "position": "Developer", "startDate": "2018-09", "endDate": "2021-02"},
        {"name": "Hooli", "position": "Intern", "startDate": "one summer"},
        {"name": "Acme", "position": "Analyst"},
    ]
    dates = part(ats_score(resume(work=jobs), SIMPLE_JOB), "dates")
    assert dates.score == 50
    assert "2 of 4 jobs lack a readable start or end date (Intern at Hooli, Analyst at Acme)" in dates.explanation


def test_a_current_job_needs_no_end_date() -> None:
    jobs = [{"name": "Globex", "startDate": "2021-03"}, {"name": "Initech", "startDate": "2018", "endDate": "2021"}]
    dates = part(ats_score(resume(work=jobs), SIMPLE_JOB), "dates")
    assert dates.score == 100 and dates.explanation.startswith("Both jobs have dates an ATS can read")


# --- bullet points ----------------------------------------------------------------------------------------


def bullets_part(*highlights: str) -> AtsPart:
    work = [{"name": "Globex", "startDate": "2020-01", "highlights": list(highlights)}]
    return part(ats_score(resume(work=work), SIMPLE_JOB), "bullets")


def test_strong_bullets_score_full_marks() -> None:
    assert bullets_part("Led a team of 5 engineers building payments", "Reduced costs by 30% in 6 months").score == 100


@pytest.mark.parametrize(
    "weak",
    [
        "Responsible for the payments team of 5 engineers",
        "Worked on migrating 40 batch jobs",
        "Helped with on-call rotation for 12 services",
        "I mentored 3 junior engineers",
        "Duties included writing ETL jobs for 5 teams",
        "The payments team of 5 engineers",
    ],
)
def test_weak_openers_do_not_count_as_action_verbs(weak: str) -> None:
    bullets = bullets_part(weak)
    assert bullets.explanation.startswith("1 bullet point: 0 start with an action verb")
    assert bullets.score == pytest.approx(60)


@pytest.mark.parametrize(
    "strong", ["Built 3 APIs", "Designing ledgers for 2 banks", "Led 4 launches", "Optimised 9 queries", "Wrote 7 RFCs"]
)
def test_action_verbs_in_any_tense_count(strong: str) -> None:
    assert "1 starts with an action verb" in bullets_part(strong).explanation


def test_length_and_numbers() -> None:
    too_long = "Built " + "very " * 45 + "big things"
    bullets = bullets_part("Built it", too_long, "Ran k8s clusters for the team", "Cut costs by 30%")
    assert "2 have a readable length (4-40 words)" in bullets.explanation
    assert "1 contains a number" in bullets.explanation  # the 8 of "k8s" is no number


def test_no_bullets_under_jobs_scores_zero_with_advice() -> None:
    bullets = bullets_part()
    assert bullets.score == 0 and bullets.weight == ATS_WEIGHTS["bullets"]
    assert "No bullet points" in bullets.explanation


# --- before and after ---------------------------------------------------------------------------------------


def test_the_offline_improvement_raises_the_sample_cvs_ats_score() -> None:
    original = extract_document((SAMPLES / "jane-doe-cv.md").read_bytes(), max_pages=20).resume
    target = ImprovementTarget(position="Senior Backend Engineer", job_description=JOB)
    improved = verify_rewrite(original, improve_offline(original, target)).resume
    before, after = ats_score(original, JOB), ats_score(improved, JOB)
    assert after.score > before.score
    assert part(after, "keyword_coverage").score > part(before, "keyword_coverage").score
    assert part(after, "bullets").score > part(before, "bullets").score
    for name in ("dates", "sections", "contact"):
        assert part(after, name) == part(before, name)


@pytest.mark.parametrize(
    "name", ["rendercv-classic.pdf", "rendercv-harvard.pdf", "resumematcher-modern-two-column.pdf"]
)
def test_real_cvs_score_within_range_and_deterministically(name: str) -> None:
    cv = extract_document((CORPUS / name).read_bytes(), max_pages=20).resume
    first = ats_score(cv, JOB)
    assert 0 <= first.score <= 100
    assert part(first, "sections").score > 0 and part(first, "dates").score == 100
    assert ats_score(cv, JOB) == first
