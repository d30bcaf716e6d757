"""Every file of ../shared/corpus, extracted through the public API: the facts a reader sees in each CV."""

from __future__ import annotations

import re

import pytest

from activities.documents import DocumentKind, UnsupportedDocument, extract_document, parse_resume_text
from tests.documents.builders import CORPUS, corpus_document, invented_strings

PDFS = ["rendercv-classic.pdf", "rendercv-harvard.pdf", "resumematcher-modern-two-column.pdf"]
RENDERCV = ["rendercv-classic.pdf", "rendercv-harvard.pdf"]
RENDERCV_EMPLOYERS = ["Nexus AI", "NVIDIA Research", "Google DeepMind", "Apple ML Research", "Microsoft Research"]


@pytest.mark.parametrize("name", PDFS)
def test_pdf_text_is_clean(name: str) -> None:
    doc = corpus_document(name)
    assert doc.kind is DocumentKind.PDF
    assert not re.search("[\ue000-\uf8ff]", doc.text), "icon glyphs from private-use fonts are removed"
    assert not re.search("[\t\r\xa0\x02\ufb00-\ufb06]", doc.text), "odd whitespace and ligatures are normalised"
    assert "  \n" not in doc.text and "\n\n\n" not in doc.text
    assert len(doc.sha256) == 64
    assert doc.sha256 == __import__("hashlib").sha256((CORPUS / name).read_bytes()).hexdigest()


@pytest.mark.parametrize("name", RENDERCV)
def test_rendercv_basics(name: str) -> None:
    doc = corpus_document(name)
    basics = doc.resume.basics
    assert doc.pages == 2
    assert basics.name == "John Doe"
    assert basics.email == "john.doe@email.com"
    assert basics.url == "rendercv.com"
    assert basics.location is not None and (basics.location.city, basics.location.region) == ("San Francisco", "CA")
    # The LinkedIn and GitHub icons carry their links only as PDF link annotations.
    profiles = {(p.network, p.username, p.url) for p in basics.profiles}
    assert ("LinkedIn", "rendercv", "https://linkedin.com/in/rendercv") in profiles
    assert ("GitHub", "rendercv", "https://github.com/rendercv") in profiles


@pytest.mark.parametrize("name", RENDERCV)
def test_rendercv_work_history(name: str) -> None:
    work = corpus_document(name).resume.work
    assert [w.name for w in work] == RENDERCV_EMPLOYERS
    assert [w.position for w in work] == ["Co-Founder & CTO"] + ["Research Intern"] * 4
    first = work[0]
    assert (first.location, first.startDate, first.endDate) == ("San Francisco, CA", "2023-06", None)
    assert first.highlights[0] == (
        "Built foundation model infrastructure serving 2M+ monthly API requests with 99.97% uptime"
    )
    assert len(first.highlights) == 4
    assert (work[1].startDate, work[1].endDate, work[1].location) == ("2022-05", "2022-08", "Santa Clara, CA")
    # A word hyphenated across two lines is joined.
    assert "top 5% of submissions)" in work[1].highlights[1]
    assert "language modeling" in work[4].highlights[0]
    assert [len(w.highlights) for w in work] == [4, 2, 5, 2, 2]


@pytest.mark.parametrize("name", RENDERCV)
def test_rendercv_other_sections(name: str) -> None:
    resume = corpus_document(name).resume
    princeton, bogazici = resume.education
    assert (princeton.institution, princeton.studyType, princeton.area) == (
        "Princeton University",
        "PhD",
        "Computer Science",
    )
    assert (princeton.startDate, princeton.endDate) == ("2018-09", "2023-05")
    assert "Advisor: Prof. Sanjeev Arora" in princeton.courses
    assert (bogazici.institution, bogazici.studyType, bogazici.area) == (
        "Boğaziçi University",
        "BS",
        "Computer Engineering",
    )
    assert bogazici.score == "3.97/4.00"
    assert [p.name for p in resume.projects] == ["FlashInfer", "NeuralPrune"]
    assert resume.projects[0].description == "Open-source library for high-performance LLM inference kernels"
    assert (resume.projects[0].startDate, resume.projects[0].endDate) == ("2023-01", None)
    skills = {s.name: s.keywords for s in resume.skills}
    assert skills["Languages"] == ["Python", "C++", "CUDA", "Rust", "Julia"]
    assert skills["ML Frameworks"] == ["PyTorch", "JAX", "TensorFlow", "Triton", "ONNX"]
    assert [a.title for a in resume.awards][:2] == [
        "MIT Technology Review 35 Under 35 Innovators",
        "Forbes 30 Under 30 in Enterprise Technology",
    ]
    assert resume.awards[0].date == "2024"
    publications = [p.name or "" for p in resume.publications]
    assert publications[0] == "Sparse Mixture-of-Experts at Scale: Efficient Routing for Trillion-Parameter Models"
    assert resume.publications[0].releaseDate == "2023-07"
    # Patents and invited talks have no JSON Resume section of their own: they are kept as publications.
    assert any(p.startswith("Adaptive Quantization for Neural Network Inference") for p in publications)
    assert any(p.startswith("Scaling Laws for Efficient Inference") for p in publications)
    # The section rendercv calls "Welcome to RenderCV" is nothing JSON Resume knows: it lands in the summary.
    assert resume.basics.summary is not None and "RenderCV reads a CV written in a YAML file" in resume.basics.summary


@pytest.mark.parametrize("name", RENDERCV)
def test_rendercv_running_footer_is_removed(name: str) -> None:
    text = corpus_document(name).text
    assert "John Doe – 1/2" not in text and "John Doe – 2/2" not in text
    assert text.startswith(("Last updated in Mar 2026\nJohn Doe", "John Doe"))


def test_rendercv_classic_side_column_stays_with_its_entry() -> None:
    # Dates and places sit in a narrow right column next to each entry; they follow the entry's title.
    text = corpus_document("rendercv-classic.pdf").text
    assert "Nexus AI, Co-Founder & CTO\nSan Francisco, CA\nJune 2023 – present\n2 years 10 months\n• Built" in text
    assert "PhD  Princeton University, Computer Science\nPrinceton, NJ\nSept 2018 – May 2023\n• Thesis" in text


def test_two_column_reads_column_by_column() -> None:
    doc = corpus_document("resumematcher-modern-two-column.pdf")
    text = doc.text
    assert doc.pages == 1
    order = [text.index(h) for h in ("SUMMARY", "EXPERIENCE", "PROJECTS", "EDUCATION", "SKILLS", "LINKS")]
    assert order == sorted(order)
    left = text[text.index("SUMMARY") : text.index("optimization capabilities")]
    for right_column_text in ("UC Berkeley", "Terraform", "Datadog", "EDUCATION", "LINKS"):
        assert right_column_text not in left
    # The summary's wrapped lines follow each other, not interleaved with the right column.
    assert "Senior Software Engineer with 5+ years of proven expertise designing\nand building scalable" in text
    right = text[text.index("EDUCATION") :]
    assert right.index("UC Berkeley") < right.index("Go  Python  Node.js  TypeScript") < right.index("github.com")


def test_two_column_resume() -> None:
    resume = corpus_document("resumematcher-modern-two-column.pdf").resume
    basics = resume.basics
    assert (basics.name, basics.label) == ("John Doe", "Senior Software Engineer")
    assert (basics.email, basics.phone) == ("john.doe@email.com", "+1 (415) 555-0142")
    assert basics.location is not None and basics.location.city == "San Francisco"
    assert {p.url for p in basics.profiles} == {"linkedin.com/in/johndoe", "github.com/johndoe"}
    assert basics.summary is not None and basics.summary.startswith("Senior Software Engineer with 5+ years")
    assert basics.summary.endswith("building systems that scale.")
    assert [(w.name, w.position) for w in resume.work] == [
        ("Stripe", "Senior Software Engineer"),
        ("Figma", "Software Engineer"),
        ("Notion", "Software Engineer"),
    ]
    assert [(w.startDate, w.endDate) for w in resume.work] == [
        ("2023-01", None),
        ("2021-06", "2022-12"),
        ("2019-07", "2021-05"),
    ]
    assert all(w.location == "San Francisco, CA" and len(w.highlights) == 3 for w in resume.work)
    assert resume.work[0].highlights[0].startswith("Designed and implemented real-time fraud detection pipeline")
    assert resume.work[0].highlights[0].endswith("through optimized distributed system architecture")
    education = resume.education[0]
    assert (education.institution, education.studyType, education.area, education.endDate) == (
        "UC Berkeley",
        "Bachelor of Science",
        "Computer Science",
        "2019",
    )
    names = [s.name for s in resume.skills]
    assert names[:4] == ["Go", "Python", "Node.js", "TypeScript"]
    assert {"REST APIs", "API Design", "Microservices Architecture", "A/B Testing", "PagerDuty"} <= set(names)
    assert [p.name for p in resume.projects] == ["DevFlow", "Real-time Transit Prediction App"]
    assert "community-driven development" in resume.projects[0].highlights[0]


def test_json_resume_sample() -> None:
    doc = corpus_document("jsonresume-sample.resume.json")
    assert doc.kind is DocumentKind.JSON_RESUME
    assert doc.pages == 1
    resume = doc.resume
    assert resume.basics.name == "Richard Hendriks"
    assert resume.basics.email == "richard.hendriks@mail.com"
    assert [w.name for w in resume.work] == ["Pied Piper"]
    assert resume.work[0].startDate == "2013-12-01"
    assert resume.education[0].institution == "University of Oklahoma"
    assert resume.projects[0].model_extra == {
        "keywords": ["GoogleMaps", "Chrome Extension", "Javascript"],
        "roles": ["Team lead", "Designer"],
        "entity": "Smoogle",
        "type": "application",
    }
    assert doc.text.startswith("Richard Hendriks\nProgrammer\n")
    assert "CEO/President | Pied Piper | Palo Alto, CA" in doc.text


def test_json_job_description_is_not_a_resume() -> None:
    with pytest.raises(UnsupportedDocument) as error:
        extract_document((CORPUS / "jsonresume-sample.job.json").read_bytes())
    assert error.value.code == "unsupported_type"
    assert "JSON Resume" in error.value.message


@pytest.mark.parametrize("name", PDFS)
def test_corpus_resume_is_only_made_of_the_text(name: str) -> None:
    doc = corpus_document(name)
    assert invented_strings(doc.resume, doc.text) == []
    # Parsing the extracted text again gives the same Resume as the layout-aware extraction, give or take
    # the unknown headings a layout reveals.
    again = parse_resume_text(doc.text)
    assert [w.name for w in again.work] == [w.name for w in doc.resume.work]
    assert invented_strings(again, doc.text) == []
