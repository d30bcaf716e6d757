"""A realistic CV rendered in every theme and paper size reads back with nothing lost."""

from __future__ import annotations

from typing import Any

import pytest

from activities.rendering import RenderedPdf, list_themes, render_pdf
from models.resume import Resume
from models.target import PaperSize
from tests.rendering.pdf_text import link_targets, missing, page_sizes, pdftotext, pypdf_text
from tests.rendering.sample_cvs import REALISTIC_CV

THEMES = [t.name for t in list_themes()]
PAGE_POINTS = {PaperSize.A4: (595, 842), PaperSize.LETTER: (612, 792)}
DATE_KEYS = {"startDate", "endDate", "date", "releaseDate"}


@pytest.fixture(scope="module", params=[(t, p) for t in THEMES for p in PaperSize], ids=lambda tp: f"{tp[0]}-{tp[1]}")
def rendered(request: pytest.FixtureRequest) -> tuple[str, PaperSize, RenderedPdf]:
    theme, paper = request.param
    resume = Resume.model_validate(REALISTIC_CV)
    return theme, paper, render_pdf(resume, theme=theme, paper=paper, language="en")


def _printed_form(key: str, value: str) -> str:
    """How a field's text appears on paper: URLs lose their scheme, everything else is verbatim."""
    if key == "url":
        for prefix in ("https://", "http://"):
            value = value.removeprefix(prefix)
        return value.removeprefix("www.").rstrip("/")
    return value


def _every_text(node: Any, key: str = "") -> list[str]:
    """Every non-date string in the CV, as it should be printed."""
    if isinstance(node, dict):
        return [s for k, v in node.items() for s in _every_text(v, k)]
    if isinstance(node, list):
        return [s for v in node for s in _every_text(v, key)]
    if isinstance(node, str) and key not in DATE_KEYS:
        return [_printed_form(key, node)]
    return []


def test_two_pages_of_the_requested_paper_size(rendered: tuple[str, PaperSize, RenderedPdf]) -> None:
    _, paper, result = rendered
    assert result.pdf.startswith(b"%PDF-")
    assert result.pages == 2
    assert page_sizes(result.pdf) == [PAGE_POINTS[paper]] * 2
    assert result.render_ms > 0


def test_name_employers_and_every_highlight_read_back(rendered: tuple[str, PaperSize, RenderedPdf]) -> None:
    _, _, result = rendered
    work: list[dict[str, Any]] = REALISTIC_CV["work"]  # type: ignore[assignment]
    expected = ["Jane Marie Doe"] + [w["name"] for w in work] + [h for w in work for h in w["highlights"]]
    assert missing(expected, pypdf_text(result.pdf)) == []
    assert missing(expected, pdftotext(result.pdf)) == []


def test_every_field_of_the_cv_is_printed(rendered: tuple[str, PaperSize, RenderedPdf]) -> None:
    _, _, result = rendered
    assert missing(_every_text(REALISTIC_CV), pdftotext(result.pdf)) == []


def test_dates_are_printed_as_ranges(rendered: tuple[str, PaperSize, RenderedPdf]) -> None:
    _, _, result = rendered
    expected = ["Mar 2021 – Present", "Jun 2017 – Feb 2021", "Sep 2011 – Sep 2012", "Nov 2023", "Sep 2023"]
    assert missing(expected, pdftotext(result.pdf)) == []


def test_contact_details_are_links(rendered: tuple[str, PaperSize, RenderedPdf]) -> None:
    _, _, result = rendered
    links = link_targets(result.pdf)
    assert "mailto:jane.doe@example.com" in links
    assert "tel:+442079460958" in links
    assert "https://www.linkedin.com/in/janedoe" in links


def test_the_same_cv_gives_the_same_bytes() -> None:
    """PDFs are stored content-addressed: rendering twice must not produce a second blob."""
    resume = Resume.model_validate(REALISTIC_CV)
    first = render_pdf(resume, theme="classic", paper=PaperSize.A4, language="en")
    second = render_pdf(resume, theme="classic", paper=PaperSize.A4, language="en")
    assert first.pdf == second.pdf


@pytest.mark.parametrize("theme", THEMES)
def test_only_empty_sections_are_hidden(theme: str) -> None:
    resume = Resume.model_validate(
        {
            "basics": {"name": "Sam Lee"},
            "work": [{"name": "Initech", "position": "Analyst"}],
            "education": [{}, {"institution": "  "}],  # entries without content
            "skills": [{"keywords": ["Excel"]}],  # a skill with keywords only
            "languages": [{"fluency": "Native"}],
        }
    )
    text = pdftotext(render_pdf(resume, theme=theme, paper=PaperSize.A4, language="en").pdf)
    assert (
        missing(["Sam Lee", "Experience", "Initech", "Analyst", "Skills", "Excel", "Languages", "Native"], text) == []
    )
    for hidden in (
        "Education",
        "Summary",
        "Projects",
        "Awards",
        "Publications",
        "References",
        "Volunteering",
    ):
        assert hidden not in text


@pytest.mark.parametrize("theme", THEMES)
def test_an_empty_cv_still_renders(theme: str) -> None:
    result = render_pdf(Resume(), theme=theme, paper=PaperSize.LETTER, language="en")
    assert result.pages == 1
