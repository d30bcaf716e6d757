"""The keyword / ATS score: what counts as a keyword, how it weighs, what matches."""

from __future__ import annotations

from typing import Any

import pytest

from activities.llm.offline import improve_offline
from activities.scoring import (
    MAX_LISTED_KEYWORDS,
    extract_keywords,
    find_terms,
    normalize_word,
    score_keywords,
)
from models.resume import Resume
from models.target import ImprovementTarget
from tests.fakes.corpus import sample_job, sample_job_description, sample_resume


def cv(*highlights: str, skills: list[str] | None = None, summary: str = "", label: str = "") -> Resume:
    data: dict[str, Any] = {
        "basics": {"name": "Sam Doe", "label": label, "summary": summary},
        "work": [{"name": "Globex", "position": "Engineer", "startDate": "2020-01", "highlights": list(highlights)}],
        "skills": [{"name": "Skills", "keywords": skills or []}],
    }
    return Resume.model_validate(data)


def keys(job_description: str, position: str = "") -> list[str]:
    return [k.key for k in extract_keywords(job_description, position=position)]


# --- empty inputs ---------------------------------------------------------------------------------------


def test_no_job_description_and_no_position_scores_zero_with_empty_lists() -> None:
    score = score_keywords(cv("Built APIs in Python"), "")
    assert (score.score, score.matched, score.missing) == (0.0, [], [])


def test_no_job_description_scores_the_position_words() -> None:
    score = score_keywords(cv("Built web apps", label="Web developer"), "   ", position="Senior Web Developer")
    assert score.matched == ["web", "developer"]
    assert score.missing == ["senior"]
    assert 0 < score.score < 100


# --- keyword extraction ---------------------------------------------------------------------------------


def test_stop_words_and_job_ad_boilerplate_are_not_keywords() -> None:
    found = keys("We are looking for a strong candidate to join our team with excellent skills and experience.")
    assert found == []


@pytest.mark.parametrize(
    ("text", "term"),
    [
        ("Experience with machine learning models", "machine learning"),
        ("Modern C++ and Rust", "c++"),
        ("Backend services in Node.js", "node.js"),
        ("Own our CI/CD pipelines", "ci/cd"),
        ("Apps in React Native", "react native"),
        ("Data pipelines on Google Cloud Platform", "google cloud"),
        ("C# and .NET services", ".net"),
    ],
)
def test_multi_word_and_special_character_terms_stay_whole(text: str, term: str) -> None:
    found = keys(text)
    assert term in found
    for part in term.replace("/", " ").replace(".", " ").split():
        if part != term:
            assert part not in found


def test_node_js_is_not_javascript_and_nosql_is_not_sql() -> None:
    assert keys("Node.js and NoSQL") == ["node.js", "nosql"]


def test_ordinary_words_that_are_also_skills_need_a_capital() -> None:
    assert "excel" not in keys("You excel at communication and react to incidents quickly")
    assert "excel" in keys("Advanced Excel and React")
    assert "react" in keys("Advanced Excel and React")


def test_requirement_lines_weigh_more_than_other_lines() -> None:
    jd = "Our product uses Kafka.\nRequirements:\n- Terraform\n"
    weights = {k.key: k.weight for k in extract_keywords(jd)}
    assert weights["terraform"] > weights["kafka"]


def test_requirement_phrases_weigh_more_without_a_heading() -> None:
    jd = "We use Kafka. You must have experience with Terraform."
    weights = {k.key: k.weight for k in extract_keywords(jd)}
    assert weights["terraform"] > weights["kafka"]


def test_frequency_raises_weight_and_known_skills_outrank_plain_words() -> None:
    jd = "Python services. Python tooling. Python everywhere. Dashboards."
    ranked = keys(jd)
    assert ranked[0] == "python"
    assert {k.key: k.weight for k in extract_keywords(jd)}["python"] > 3


def test_the_position_counts_as_a_requirement() -> None:
    ranked = keys("We build payments.", position="Data Engineer")
    assert ranked[:1] == ["data engineering"] or ranked[:2] == ["data", "engineer"]


@pytest.mark.parametrize(
    ("a", "b"),
    [
        ("databases", "database"),
        ("services", "Service"),
        ("Optimized", "optimize"),
        ("building", "build"),
        ("built", "build"),
        ("led", "leading"),
        ("technologies", "technology"),
        ("processes", "process"),
        ("planned", "planning"),
        ("Bachelor's", "bachelor"),
    ],
)
def test_normalize_word_folds_plurals_case_and_verb_forms(a: str, b: str) -> None:
    assert normalize_word(a) == normalize_word(b)


def test_find_terms_keeps_the_written_spelling() -> None:
    text = "Shipped k8s operators in Golang and JS"
    assert [(t.key, t.text) for t in find_terms(text)] == [
        ("kubernetes", "k8s"),
        ("go", "Golang"),
        ("javascript", "JS"),
    ]


# --- matching and the score -----------------------------------------------------------------------------


def test_a_cv_covering_every_keyword_scores_100() -> None:
    score = score_keywords(cv("Built Kafka pipelines in Python"), "Python and Kafka")
    assert score.score == 100
    assert score.matched == ["Python", "Kafka"]
    assert score.missing == []


def test_a_cv_covering_nothing_scores_0() -> None:
    score = score_keywords(cv("Baked bread"), "Python and Kafka")
    assert score.score == 0
    assert score.missing == ["Python", "Kafka"]


def test_case_plurals_and_verb_forms_match() -> None:
    score = score_keywords(cv("designed relational DATABASES", "optimised queries"), "Database design, optimise")
    assert score.score == 100


def test_a_synonym_earns_half_credit_and_the_jobs_wording_full_credit() -> None:
    jd = "Kubernetes"
    assert score_keywords(cv("Ran k8s clusters"), jd).score == 50
    assert score_keywords(cv("Ran Kubernetes clusters"), jd).score == 100
    assert score_keywords(cv("Ran k8s clusters"), jd).matched == ["Kubernetes"]


def test_adding_a_missing_keyword_raises_the_score() -> None:
    jd = "Requirements: Python, Terraform, Kafka, PostgreSQL"
    before = score_keywords(cv("Built services in Python"), jd)
    after = score_keywords(cv("Built services in Python", "Provisioned Kafka with Terraform"), jd)
    assert after.score > before.score
    assert "Terraform" in before.missing and "Terraform" in after.matched


def test_matched_and_missing_are_ordered_by_weight() -> None:
    jd = "Requirements: Terraform.\nNice to have: Kafka. Python, Python, Python."
    score = score_keywords(cv("nothing relevant"), jd)
    assert score.missing[:1] == ["Python"]


def test_lists_are_capped() -> None:
    words = " ".join(f"skill{chr(97 + i // 26)}{chr(97 + i % 26)}" for i in range(80))
    score = score_keywords(cv("nothing"), words)
    assert len(score.missing) == MAX_LISTED_KEYWORDS
    assert len(score.matched) == 0


def test_project_keywords_prove_skills() -> None:
    resume = Resume.model_validate({"projects": [{"name": "Map", "keywords": ["GoogleMaps", "Svelte"]}]})
    assert score_keywords(resume, "Svelte").score == 100


def test_the_score_rises_when_the_offline_engine_aligns_a_synonym() -> None:
    resume = cv("Ran k8s clusters for 3 teams", "Tuned Postgres queries", skills=["k8s", "Postgres", "JS"])
    jd = "Requirements: Kubernetes, PostgreSQL and JavaScript. Kubernetes on-call."
    target = ImprovementTarget(position="Platform Engineer", job_description=jd)
    before = score_keywords(resume, jd, position=target.position)
    improved = improve_offline(resume, target).resume
    after = score_keywords(improved, jd, position=target.position)
    assert after.score > before.score
    assert improved.skills[0].keywords[:3] == ["Kubernetes", "PostgreSQL", "JavaScript"]


def test_the_sample_cv_against_the_sample_job() -> None:
    score = score_keywords(sample_resume(), sample_job_description(), position=sample_job()["title"])
    assert 20 < score.score < 90
    assert {"HTML", "CSS", "JavaScript", "Web Development"} <= set(score.matched)
    assert {"React", "Node.js", "MongoDB"} <= set(score.missing)
    assert score.matched == list(dict.fromkeys(score.matched))  # no duplicates


def test_scoring_is_deterministic() -> None:
    first = score_keywords(sample_resume(), sample_job_description(), position="Web Developer")
    assert all(
        score_keywords(sample_resume(), sample_job_description(), position="Web Developer") == first for _ in range(3)
    )
