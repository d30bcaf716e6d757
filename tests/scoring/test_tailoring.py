"""Tailoring: the job's skills split into required and nice-to-have, and each classified against the CV."""

from __future__ import annotations

import re
from typing import Any

import pytest

from activities.documents import extract_document
from activities.llm.offline import improve_offline
from activities.tailoring import EXCERPT_CHARS, classify_skills, split_job_description, tailor
from activities.verification import verify_rewrite
from models.improvement import Change, KeywordScore, Scores
from models.resume import Resume
from models.tailoring import Importance, MatchStatus, SkillMatch
from models.target import ImprovementTarget
from tests.conftest import CORPUS, SAMPLES
from tests.fakes.corpus import sample_job_description, sample_resume

SENIOR_BACKEND = (SAMPLES / "job-senior-backend.txt").read_text()

DATA_ENGINEER = """\
## About the role
Acme is hiring a Data Engineer to build our analytics platform on Google Cloud.

## What you'll do
- Build and maintain ETL pipelines in Python and SQL
- Work with analysts to model data in BigQuery

## What you bring
- 3+ years of experience in data engineering
- Strong SQL and Python, Go or Rust
- Experience with Airflow or Dagster
- Excellent communication skills

## Bonus points
- dbt
- Familiarity with Kafka (or Pub/Sub)
- Terraform is a plus

## Benefits
- Free AWS certification budget
- Team offsites
"""

FRONTEND_PROSE = (
    "We are looking for a frontend developer with experience in React and TypeScript. You must have strong HTML "
    "and CSS skills. Knowledge of Next.js is a plus, and GraphQL would be great. Experience with Figma preferred."
)

PLATFORM_CAPS = """\
SENIOR PLATFORM ENGINEER

REQUIREMENTS
• Kubernetes (EKS or GKE) in production
• Infrastructure as code with Terraform
• Linux administration
• Observability: Prometheus, Grafana, OpenTelemetry

PREFERRED QUALIFICATIONS
• Go, Python
• Service mesh experience (Istio, Linkerd)
• CKA certification
"""

DESIGNER_INLINE = """\
Product Designer

Responsibilities:
Own end-to-end design for our mobile apps. Run user research and usability testing.

Qualifications: 4+ years of product design experience, a strong portfolio, proficiency in Figma and prototyping.
Nice to have: motion design, HTML/CSS.
"""

ALL_JOBS = [SENIOR_BACKEND, DATA_ENGINEER, FRONTEND_PROSE, PLATFORM_CAPS, DESIGNER_INLINE]


def split(jd: str) -> dict[str, tuple[Importance, list[str]]]:
    return {r.skill: (r.importance, r.alternatives) for r in split_job_description(jd)}


def required(jd: str) -> set[str]:
    return {r.skill for r in split_job_description(jd) if r.importance is Importance.REQUIRED}


def nice(jd: str) -> set[str]:
    return {r.skill for r in split_job_description(jd) if r.importance is Importance.NICE_TO_HAVE}


def cv(*highlights: str, skills: list[str] | None = None, summary: str = "") -> Resume:
    data: dict[str, Any] = {
        "basics": {"name": "Sam Doe", "summary": summary},
        "work": [{"name": "Globex", "position": "Engineer", "startDate": "2020-01", "highlights": list(highlights)}],
        "skills": [{"name": "Skills", "keywords": skills or []}],
    }
    return Resume.model_validate(data)


def match(resume: Resume, jd: str, skill: str, changes: list[Change] | None = None) -> SkillMatch:
    found = [m for m in classify_skills(resume, jd, changes or []) if skill in (m.skill, *m.alternatives)]
    assert len(found) == 1, [m.skill for m in classify_skills(resume, jd)]
    return found[0]


# --- splitting a job description ------------------------------------------------------------------------


def test_the_sample_job_splits_requirements_from_nice_to_haves() -> None:
    skills = split(SENIOR_BACKEND)
    assert {"Python", "PostgreSQL", "Kubernetes", "Docker", "CI/CD", "data modelling"} <= required(SENIOR_BACKEND)
    assert {"Mentoring engineers", "leading technical design"} <= required(SENIOR_BACKEND)
    assert nice(SENIOR_BACKEND) == {"Go", "Terraform", "AWS", "payments"}
    assert skills["payments"] == (Importance.NICE_TO_HAVE, ["ledgers"])
    # "event-driven architectures (Kafka or similar)": Kafka proves it, "similar" is no skill.
    assert skills["event-driven architectures"] == (Importance.REQUIRED, ["Kafka"])
    assert not any("similar" in s.lower() or "years" in s.lower() for s in skills)


def test_the_sample_job_lists_required_skills_before_nice_ones_in_the_jobs_order() -> None:
    order = [r.skill for r in split_job_description(SENIOR_BACKEND)]
    assert order.index("Python") < order.index("PostgreSQL") < order.index("Kubernetes") < order.index("Go")
    importances = [r.importance for r in split_job_description(SENIOR_BACKEND)]
    assert importances == sorted(importances, key=lambda i: i is Importance.NICE_TO_HAVE)


def test_markdown_headings_duties_and_an_ignored_benefits_section() -> None:
    skills = split(DATA_ENGINEER)
    assert {"SQL", "Data Engineering", "communication", "Google Cloud", "ETL"} <= required(DATA_ENGINEER)
    assert skills["Python"] == (Importance.REQUIRED, ["Go", "Rust"])
    assert skills["Airflow"] == (Importance.REQUIRED, ["Dagster"])
    assert skills["Kafka"] == (Importance.NICE_TO_HAVE, ["Pub/Sub"])
    assert {"dbt", "Terraform"} <= nice(DATA_ENGINEER)
    assert "AWS" not in skills  # named only under Benefits
    assert "BigQuery" not in skills  # a duty's free words are tasks, not skills


def test_a_job_without_headings_reads_cues_in_sentences() -> None:
    assert required(FRONTEND_PROSE) == {"frontend", "React", "TypeScript", "HTML", "CSS"}
    assert nice(FRONTEND_PROSE) == {"Next.js", "GraphQL", "Figma"}


def test_capitalised_headings_and_parenthesised_examples() -> None:
    skills = split(PLATFORM_CAPS)
    assert skills["Kubernetes"] == (Importance.REQUIRED, ["EKS", "GKE"])
    assert skills["Service mesh"] == (Importance.NICE_TO_HAVE, ["Istio", "Linkerd"])
    assert {"Terraform", "Infrastructure as code", "Linux", "Observability", "Prometheus"} <= required(PLATFORM_CAPS)
    assert {"Go", "Python", "CKA certification"} <= nice(PLATFORM_CAPS)
    assert "Administration" not in skills and "administration" not in skills  # it qualifies Linux


def test_inline_headings_carry_their_list() -> None:
    assert {"product design", "portfolio", "Figma", "prototyping"} <= required(DESIGNER_INLINE)
    assert nice(DESIGNER_INLINE) == {"motion design", "HTML", "CSS"}


def test_the_corpus_job_skills_section_is_required() -> None:
    assert {"HTML", "CSS", "JavaScript", "React", "Node.js", "SQL", "NoSQL", "MongoDB"} <= required(
        sample_job_description()
    )


@pytest.mark.parametrize(
    ("heading", "importance"),
    [
        ("Requirements:", Importance.REQUIRED),
        ("## Must have", Importance.REQUIRED),
        ("**What you bring**", Importance.REQUIRED),
        ("What you'll bring", Importance.REQUIRED),
        ("QUALIFICATIONS", Importance.REQUIRED),
        ("Minimum qualifications", Importance.REQUIRED),
        ("Who you are:", Importance.REQUIRED),
        ("About you", Importance.REQUIRED),
        ("What we're looking for:", Importance.REQUIRED),
        ("Skills & experience", Importance.REQUIRED),
        ("Nice to have:", Importance.NICE_TO_HAVE),
        ("Nice-to-haves", Importance.NICE_TO_HAVE),
        ("### Bonus points", Importance.NICE_TO_HAVE),
        ("Bonus:", Importance.NICE_TO_HAVE),
        ("Preferred qualifications", Importance.NICE_TO_HAVE),
        ("Pluses:", Importance.NICE_TO_HAVE),
        ("It's a plus if you have:", Importance.NICE_TO_HAVE),
        ("Desirable", Importance.NICE_TO_HAVE),
        ("What would make you stand out", Importance.NICE_TO_HAVE),
    ],
)
def test_headings(heading: str, importance: Importance) -> None:
    jd = f"Platform Engineer at Initech.\n\n{heading}\n- Kubernetes\n- Experience with Helm charts\n"
    assert split(jd) == {"Kubernetes": (importance, []), "Helm charts": (importance, [])}


@pytest.mark.parametrize(
    ("jd", "expected"),
    [
        ("Knowledge of Terraform is a plus.", Importance.NICE_TO_HAVE),
        ("Terraform would be a bonus.", Importance.NICE_TO_HAVE),
        ("Experience with Terraform preferred.", Importance.NICE_TO_HAVE),
        ("Ideally you know Terraform.", Importance.NICE_TO_HAVE),
        ("Terraform: nice to have.", Importance.NICE_TO_HAVE),
        ("You must know Terraform.", Importance.REQUIRED),
        ("3+ years of Terraform.", Importance.REQUIRED),
        ("We use Terraform.", Importance.REQUIRED),  # without headings everything is required
    ],
)
def test_sentence_cues(jd: str, expected: Importance) -> None:
    assert split(jd)["Terraform"][0] is expected


def test_inline_lists_and_or_alternatives() -> None:
    assert split("Requirements: Python, Go or Rust.") == {"Python": (Importance.REQUIRED, ["Go", "Rust"])}
    assert split("Requirements: Python, Go, or Rust.") == {"Python": (Importance.REQUIRED, ["Go", "Rust"])}
    assert split("Requirements: JavaScript, HTML, and CSS.") == {
        "JavaScript": (Importance.REQUIRED, []),
        "HTML": (Importance.REQUIRED, []),
        "CSS": (Importance.REQUIRED, []),
    }
    assert split("Requirements: PostgreSQL and/or MySQL; Docker") == {
        "PostgreSQL": (Importance.REQUIRED, ["MySQL"]),
        "Docker": (Importance.REQUIRED, []),
    }


def test_a_required_statement_beats_a_nice_one_and_a_nice_one_beats_a_mere_mention() -> None:
    jd = "We run Kafka and Docker.\n\nRequirements:\n- Docker\n\nNice to have:\n- Kafka\n- Docker\n"
    assert split(jd) == {"Kafka": (Importance.NICE_TO_HAVE, []), "Docker": (Importance.REQUIRED, [])}


def test_a_skill_required_on_its_own_takes_it_out_of_an_alternatives_group() -> None:
    jd = "Requirements:\n- Strong Python\n- Python, Go or Rust\nNice to have:\n- Go"
    assert split(jd) == {"Python": (Importance.REQUIRED, []), "Go": (Importance.NICE_TO_HAVE, [])}


def test_a_parenthesis_with_a_plus_is_nice_and_the_rest_required() -> None:
    assert split("Requirements:\n- Python (Go is a plus)") == {
        "Python": (Importance.REQUIRED, []),
        "Go": (Importance.NICE_TO_HAVE, []),
    }


def test_examples_after_eg_stand_for_the_item() -> None:
    skills = split("Requirements:\n- Cloud platforms (e.g. AWS, GCP)\n")
    assert skills == {"Cloud platforms": (Importance.REQUIRED, ["AWS", "Google Cloud"])} or skills == {
        "Cloud platforms": (Importance.REQUIRED, ["AWS", "GCP"])
    }


def test_hard_wrapped_lines_are_read_as_one_sentence() -> None:
    jd = (
        "Requirements:\n- Experience with event-driven\n  architectures\n"
        "- 5+ years of experience\n  with data modelling\n"
    )
    assert split(jd) == {
        "event-driven architectures": (Importance.REQUIRED, []),
        "data modelling": (Importance.REQUIRED, []),
    }


@pytest.mark.parametrize(
    ("item", "skill"),
    [
        ("5+ years of professional experience with Svelte", "Svelte"),
        ("3-5 years experience in data warehousing", "data warehousing"),
        ("Solid understanding of distributed systems", "distributed systems"),
        ("Deep knowledge of TCP/IP networking", "TCP/IP networking"),
        ("Excellent communication skills", "communication"),
        ("Familiarity with event sourcing", "event sourcing"),
        ("Infrastructure as code with Terraform", "Infrastructure as code"),
        ("Proficient in Elixir", "Elixir"),
    ],
)
def test_lead_ins_and_qualifiers_are_cut_from_phrases(item: str, skill: str) -> None:
    assert skill in split(f"Requirements:\n- {item}\n")


def test_sentences_and_soft_statements_are_not_skills() -> None:
    jd = (
        "Requirements:\n- You have shipped production code that customers rely on every day\n"
        "- Ability to communicate clearly\n- Bachelor's degree in Computer Science or related field\n"
    )
    assert split(jd) == {"Computer Science": (Importance.REQUIRED, [])}


def test_go_the_verb_is_not_go_the_language() -> None:
    assert "Go" not in split("Go above and beyond for customers. Python required.")
    assert "Go" in split("Requirements:\n- Go\n")
    assert "Go" in split("We write services in Go and Python.")


@pytest.mark.parametrize("jd", ALL_JOBS)
def test_no_skill_is_a_sentence_a_number_or_a_duplicate(jd: str) -> None:
    skills = split_job_description(jd)
    names = [s.skill.lower() for s in skills] + [a.lower() for s in skills for a in s.alternatives]
    assert len(names) == len(set(names))
    for name in names:
        assert len(name.split()) <= 4 and not re.search(r"\d", name), name
        assert name.strip() == name and name[-1:] not in ".,;:", name


def test_an_empty_job_has_no_skills() -> None:
    assert split_job_description("") == []
    assert split_job_description("   \n\n") == []


def test_splitting_is_deterministic() -> None:
    assert all(split_job_description(DATA_ENGINEER) == split_job_description(DATA_ENGINEER) for _ in range(3))


# --- classifying against the CV -------------------------------------------------------------------------


def test_a_skill_the_cv_names_is_proven_with_its_evidence() -> None:
    m = match(cv("Built billing services in Python for 3 teams"), "Requirements: Python", "Python")
    assert m.status is MatchStatus.PROVEN
    assert m.evidence == "Built billing services in Python for 3 teams"
    assert m.evidence_path == "work/0/highlights/0"
    assert m.advice is None and m.change_id is None


def test_case_does_not_matter_but_a_synonym_is_worded_differently() -> None:
    assert match(cv(skills=["kubernetes"]), "Kubernetes required", "Kubernetes").status is MatchStatus.PROVEN
    m = match(cv("Ran k8s clusters"), "Kubernetes required", "Kubernetes")
    assert m.status is MatchStatus.WORDED_DIFFERENTLY
    assert (m.cv_wording, m.evidence_path) == ("k8s", "work/0/highlights/0")
    # Without an edit that surfaces it, the advice is to use the job's word, not to add a skill.
    assert m.change_id is None and m.advice is not None and '"Kubernetes"' in m.advice


def test_the_edit_that_surfaces_a_synonym_is_named() -> None:
    resume = cv("Ran k8s clusters for 3 teams", "Tuned Postgres queries", skills=["k8s", "Postgres"])
    jd = "Requirements: Kubernetes and PostgreSQL."
    changes = improve_offline(resume, ImprovementTarget(position="SRE", job_description=jd)).changes
    by_id = {c.id: c for c in changes}
    for skill, cv_word in (("Kubernetes", "k8s"), ("PostgreSQL", "Postgres")):
        m = match(resume, jd, skill, changes)
        assert m.status is MatchStatus.WORDED_DIFFERENTLY and m.change_id in by_id
        change = by_id[m.change_id]
        assert change.path == m.evidence_path  # the edit of the entry the evidence quotes
        assert cv_word in (change.before or "") and skill in (change.after or "")
        assert m.advice is None


def test_a_missing_skill_gets_honest_advice() -> None:
    m = match(cv("Baked bread"), "Requirements: Kubernetes", "Kubernetes")
    assert m.status is MatchStatus.MISSING and m.evidence is None
    assert m.advice == (
        "If you have used Kubernetes, add where and how (project, scale, result); otherwise consider learning it "
        "— it is required for this role."
    )
    nice_one = match(cv("Baked bread"), "Nice to have: Terraform", "Terraform")
    assert nice_one.advice is not None and "a plus for this role, not a requirement" in nice_one.advice


@pytest.mark.parametrize("jd", ALL_JOBS)
def test_advice_never_tells_the_user_to_claim_anything(jd: str) -> None:
    for m in classify_skills(cv("Baked bread"), jd):
        assert m.status is MatchStatus.MISSING
        advice = (m.advice or "").lower()
        assert advice.startswith("if you have"), advice
        for invented in ("add that you", "claim", "say you", "state that you", "mention that you", "write that you"):
            assert invented not in advice


def test_any_alternative_proves_the_requirement() -> None:
    m = match(cv("Shipped a Rust CLI used by 40 teams"), "Requirements: Python, Go or Rust.", "Rust")
    assert (m.skill, m.status, m.alternatives) == ("Rust", MatchStatus.PROVEN, ["Python", "Go"])
    gap = match(cv("Baked bread"), "Requirements: Python, Go or Rust.", "Python")
    assert gap.advice is not None and "Python, Go or Rust" in gap.advice and "one of them" in gap.advice


def test_a_phrase_is_proven_only_by_one_entry_holding_all_its_words() -> None:
    jd = "Requirements:\n- Experience with data modelling\n"
    scattered = cv("Built data pipelines for 3 teams", "Modelling of ledgers")
    assert match(scattered, jd, "data modelling").status is MatchStatus.MISSING
    together = cv("Led data modelling for the ledger")
    m = match(together, jd, "data modelling")
    assert (m.status, m.evidence_path) == (MatchStatus.PROVEN, "work/0/highlights/0")


def test_word_forms_match_for_phrases() -> None:
    m = match(cv("Mentored 3 junior engineers"), "Requirements:\n- Mentoring engineers\n", "Mentoring engineers")
    assert m.status is MatchStatus.PROVEN


def test_evidence_is_a_short_excerpt_around_the_skill() -> None:
    long_bullet = "Ran " + "very " * 60 + "large Kafka clusters " + "for many teams " * 20
    m = match(cv(long_bullet), "Requirements: Kafka", "Kafka")
    assert m.evidence is not None and len(m.evidence) <= EXCERPT_CHARS + 2 and "Kafka" in m.evidence


def test_the_report_counts_each_status() -> None:
    resume = cv("Ran k8s clusters", skills=["Python"])
    report = tailor(resume, [], "Requirements: Python, Kubernetes, Kafka.\nNice to have: Terraform")
    assert [m.skill for m in report.required] == ["Python", "Kubernetes", "Kafka"]
    assert [m.status for m in report.required] == [
        MatchStatus.PROVEN,
        MatchStatus.WORDED_DIFFERENTLY,
        MatchStatus.MISSING,
    ]
    assert report.required_counts.model_dump() == {"proven": 1, "worded_differently": 1, "missing": 1}
    assert report.nice_to_have_counts.model_dump() == {"proven": 0, "worded_differently": 0, "missing": 1}


def test_the_sample_cv_for_the_sample_job_end_to_end() -> None:
    original = extract_document((SAMPLES / "jane-doe-cv.md").read_bytes(), max_pages=20).resume
    target = ImprovementTarget(position="Senior Backend Engineer", job_description=SENIOR_BACKEND)
    checked = verify_rewrite(original, improve_offline(original, target))
    report = tailor(original, checked.changes, SENIOR_BACKEND)
    by_skill = {m.skill: m for m in report.required + report.nice_to_have}
    assert by_skill["Python"].status is MatchStatus.PROVEN
    assert by_skill["Mentoring engineers"].evidence == "I mentored 3 junior engineers"
    assert by_skill["event-driven architectures"].status is MatchStatus.PROVEN
    kept = {c.id for c in checked.changes}
    for skill in ("Kubernetes", "PostgreSQL"):
        assert by_skill[skill].status is MatchStatus.WORDED_DIFFERENTLY and by_skill[skill].change_id in kept
    assert {m.skill for m in report.required if m.status is MatchStatus.MISSING} == {
        "CI/CD",
        "data modelling",
        "leading technical design",
    }
    # The improved CV proves what the original only worded differently.
    after = {m.skill: m.status for m in classify_skills(checked.resume, SENIOR_BACKEND)}
    assert after["Kubernetes"] is after["PostgreSQL"] is MatchStatus.PROVEN


def test_a_real_pdf_cv_against_the_sample_job() -> None:
    resume = extract_document((CORPUS / "resumematcher-modern-two-column.pdf").read_bytes(), max_pages=20).resume
    report = tailor(resume, [], SENIOR_BACKEND)
    proven = {m.skill for m in report.required + report.nice_to_have if m.status is MatchStatus.PROVEN}
    assert {"Python", "Kubernetes", "Docker", "CI/CD", "Go", "AWS"} <= proven
    for m in report.required + report.nice_to_have:
        if m.status is MatchStatus.PROVEN:
            assert m.evidence_path and m.evidence


def test_the_corpus_json_resume_against_its_job() -> None:
    report = tailor(sample_resume(), [], sample_job_description())
    status = {m.skill: m.status for m in report.required}
    assert status["HTML"] is status["CSS"] is status["JavaScript"] is MatchStatus.PROVEN
    assert status["React"] is status["MongoDB"] is MatchStatus.MISSING


def test_scores_stored_before_tailoring_existed_still_load() -> None:
    old = {"before": {"score": 10, "matched": [], "missing": []}, "after": {"score": 20, "matched": [], "missing": []}}
    scores = Scores.model_validate(old)
    assert scores.tailoring is None and scores.ats_before is None and scores.ats_after is None
    report = tailor(cv("Ran k8s clusters"), [], "Kubernetes")
    new = Scores(before=KeywordScore(score=0), after=KeywordScore(score=0), tailoring=report)
    assert Scores.model_validate(new.model_dump(mode="json")) == new
