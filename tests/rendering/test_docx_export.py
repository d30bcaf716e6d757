"""DOCX export: a Word file that reads back, with our own DOCX extractor, to the CV it was made from, and to
exactly what the classic PDF of the same CV reads back to."""

from __future__ import annotations

import io
from typing import Any

import docx
import pytest

from activities.documents import DocumentKind, extract_document
from activities.rendering import render_pdf
from activities.rendering.docx_export import resume_to_docx
from models.resume import Resume
from models.target import PaperSize
from tests.rendering.pdf_text import missing
from tests.rendering.sample_cvs import REALISTIC_CV
from tests.rendering.test_themes_roundtrip import MANY_SCRIPTS_CV, bullets, facts

DATE_KEYS = {"startDate", "endDate", "date", "releaseDate"}


def _strings(node: Any, key: str = "") -> list[str]:
    """Every non-date string of a JSON Resume, URLs as printed (no scheme, no www.)."""
    if isinstance(node, dict):
        return [s for k, v in node.items() for s in _strings(v, k)]
    if isinstance(node, list):
        return [s for v in node for s in _strings(v, key)]
    if isinstance(node, str) and key not in DATE_KEYS:
        if key == "url":
            return [node.removeprefix("https://").removeprefix("http://").removeprefix("www.").rstrip("/")]
        return [node]
    return []


@pytest.fixture(scope="module")
def realistic_docx() -> bytes:
    return resume_to_docx(Resume.model_validate(REALISTIC_CV), language="en")


def test_the_docx_reads_back_to_what_the_classic_pdf_reads_back_to(realistic_docx: bytes) -> None:
    resume = Resume.model_validate(REALISTIC_CV)
    from_docx = extract_document(realistic_docx)
    from_pdf = extract_document(render_pdf(resume, theme="classic", paper=PaperSize.A4, language="en").pdf)

    assert from_docx.kind is DocumentKind.DOCX
    assert from_docx.resume == from_pdf.resume
    assert facts(from_docx.resume) == facts(resume)
    assert [len(w.highlights) for w in from_docx.resume.work] == [4, 4, 3, 2]


def test_every_field_of_the_cv_is_in_the_docx(realistic_docx: bytes) -> None:
    text = extract_document(realistic_docx).text
    assert missing(_strings(REALISTIC_CV), text) == []
    assert missing(["Mar 2021 – Present", "Sep 2011 – Sep 2012", "Nov 2023"], text) == []


def test_headings_are_word_headings_and_bullets_are_word_bullets(realistic_docx: bytes) -> None:
    document = docx.Document(io.BytesIO(realistic_docx))
    styled = [(p.style.name if p.style else "", p.text) for p in document.paragraphs]
    assert ("Title", "Jane Marie Doe") in styled
    headings = [text for style, text in styled if style == "Heading 1"]
    assert headings[:4] == ["Summary", "Experience", "Education", "Skills"]
    assert [text for style, text in styled if style == "List Bullet"][:4] == bullets(REALISTIC_CV)[:4]


def test_contact_details_and_profiles_are_links(realistic_docx: bytes) -> None:
    document = docx.Document(io.BytesIO(realistic_docx))
    targets = {rel.target_ref for rel in document.part.rels.values() if rel.is_external}
    assert {"mailto:jane.doe@example.com", "tel:+442079460958", "https://www.linkedin.com/in/janedoe"} <= targets


def test_headings_and_dates_follow_the_output_language() -> None:
    data = resume_to_docx(Resume.model_validate(REALISTIC_CV), language="de")
    text = extract_document(data).text
    assert missing(["Berufserfahrung", "Ausbildung", "Kenntnisse", "März 2021 – heute", "Kurse:"], text) == []
    assert "Experience" not in text
    assert docx.Document(io.BytesIO(data)).core_properties.language == "de"


# Word's own page sizes, in twentieths of a point.
@pytest.mark.parametrize(("paper", "twips"), [(PaperSize.A4, (11906, 16838)), (PaperSize.LETTER, (12240, 15840))])
def test_the_page_is_the_paper_asked_for(paper: PaperSize, twips: tuple[int, int]) -> None:
    section = docx.Document(io.BytesIO(resume_to_docx(Resume(), language="en", paper=paper))).sections[0]
    assert section.page_width is not None and section.page_height is not None
    assert (section.page_width.twips, section.page_height.twips) == twips


def test_accents_cyrillic_and_japanese_survive_the_round_trip() -> None:
    extracted = extract_document(resume_to_docx(Resume.model_validate(MANY_SCRIPTS_CV), language="en"))
    assert facts(extracted.resume) == facts(Resume.model_validate(MANY_SCRIPTS_CV))
    assert missing(bullets(MANY_SCRIPTS_CV), extracted.text) == []


def test_markup_in_a_cv_is_kept_as_text() -> None:
    hostile = "<script>alert(1)</script> & <b>bold</b>"
    resume = Resume.model_validate({"basics": {"name": "Sam Lee", "summary": hostile}, "work": [{"name": "A & B"}]})
    text = extract_document(resume_to_docx(resume, language="en")).text
    assert missing([hostile, "A & B"], text) == []


def test_an_empty_cv_is_still_a_valid_docx() -> None:
    document = docx.Document(io.BytesIO(resume_to_docx(Resume(), language="en")))
    assert [p.text for p in document.paragraphs if p.text.strip()] == []
