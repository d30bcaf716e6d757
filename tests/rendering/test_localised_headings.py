"""Every heading and date of every theme in every output language, read back from the PDF with pdftotext; and
content in one language under headings in another (what the offline engine produces) keeps exact glyphs."""

from __future__ import annotations

import dataclasses

import pytest

from activities.rendering import LABELS, list_themes, render_pdf
from models.resume import Resume
from models.target import SUPPORTED_LANGUAGES, PaperSize
from tests.rendering.pdf_text import missing, pdffonts, pdftotext

THEMES = [t.name for t in list_themes()]

# March 2021, written the way each language writes it: a table, not the code under test.
MARCH_2021: dict[str, str] = {
    "en": "Mar 2021",
    "de": "März 2021",
    "fr": "mars 2021",
    "es": "mar. 2021",
    "pt": "mar. 2021",
    "pl": "mar. 2021",
    "it": "mar. 2021",
    "nl": "mrt. 2021",
    "uk": "бер. 2021",
    "ru": "март 2021",
    "el": "Μαρ. 2021",
    "zh": "2021年3月",
    "ja": "2021年3月",
    "ko": "2021년 3월",
}


def _every_section() -> Resume:
    """One entry in every section; the job started in March 2021 and goes on."""
    return Resume.model_validate(
        {
            "basics": {"name": "Jane Doe", "summary": "Backend engineer."},
            "work": [{"name": "Northwind", "position": "Engineer", "startDate": "2021-03"}],
            "volunteer": [{"organization": "Code Club", "position": "Mentor", "startDate": "2018-01"}],
            "education": [{"institution": "Edinburgh", "area": "Informatics", "courses": ["Compilers"]}],
            "awards": [{"title": "Hackathon winner", "date": "2019-05"}],
            "certificates": [{"name": "CKA", "date": "2020-02"}],
            "publications": [{"name": "Idempotent payouts", "releaseDate": "2020-09"}],
            "skills": [{"name": "Go", "keywords": ["gRPC"]}],
            "languages": [{"language": "Spanish", "fluency": "C1"}],
            "interests": [{"name": "Running"}],
            "references": [{"name": "John Smith", "reference": "A great colleague."}],
            "projects": [{"name": "Route planner", "description": "Plans deliveries."}],
        }
    )


def _lines(text: str) -> set[str]:
    return {line.strip().casefold() for line in text.splitlines() if line.strip()}


def test_every_output_language_has_a_month_table_entry() -> None:
    assert set(MARCH_2021) == set(SUPPORTED_LANGUAGES) == set(LABELS)


@pytest.mark.parametrize("theme", THEMES)
@pytest.mark.parametrize("language", sorted(SUPPORTED_LANGUAGES))
def test_every_heading_and_date_is_in_the_output_language(theme: str, language: str) -> None:
    labels = LABELS[language]
    text = pdftotext(render_pdf(_every_section(), theme=theme, paper=PaperSize.A4, language=language).pdf)
    # Compared case-blind: a theme may set its headings in capitals.
    folded = text.casefold()
    words = [w.casefold() for w in dataclasses.asdict(labels).values()]
    assert missing(words, folded) == []
    assert missing([f"{MARCH_2021[language]} – {labels.present}".casefold()], folded) == []
    if language != "en":
        english = {w.casefold() for w in dataclasses.asdict(LABELS["en"]).values()} - set(words)
        assert not english & _lines(text), "an English heading was left in"


# content language -> (output language of the headings, name, employer, highlight)
NOT_TRANSLATED: dict[str, tuple[str, str, str, str]] = {
    "de": (
        "fr",
        "Jürgen Weiß",
        "Müller & Söhne GmbH",
        "Einführung von Kubernetes für die Routenplanung; Größe: 5 Teams.",
    ),
    "ja": ("en", "山田太郎", "株式会社メルカリ", "決済システムの設計を担当し、処理時間を四割短縮しました。"),
    "ru": ("de", "Иван Петров", "ООО «Яндекс»", "Разработал архитектуру платёжной системы и сократил задержки на 40%."),
    "ko": ("en", "김민준", "네이버 주식회사", "결제 시스템의 아키텍처를 설계하고 거래 지연 시간을 40% 줄였습니다."),
    "pl": ("es", "Zoë Łukasiewicz", "Żabka Polska sp. z o.o.", "Wdrożyła system płatności w Łodzi i Gdańsku."),
}


@pytest.mark.parametrize("theme", THEMES)
@pytest.mark.parametrize("content_language", sorted(NOT_TRANSLATED))
def test_content_in_one_language_under_headings_in_another_reads_back_exactly(
    theme: str, content_language: str
) -> None:
    output, name, employer, highlight = NOT_TRANSLATED[content_language]
    resume = Resume.model_validate(
        {"basics": {"name": name}, "work": [{"name": employer, "startDate": "2021-03", "highlights": [highlight]}]}
    )
    pdf = render_pdf(resume, theme=theme, paper=PaperSize.A4, language=output).pdf
    text = pdftotext(pdf)
    labels = LABELS[output]
    assert missing([name, employer, highlight], text) == []
    assert (
        missing([labels.experience.casefold(), f"{MARCH_2021[output]} – {labels.present}".casefold()], text.casefold())
        == []
    )
    assert "\ufffd" not in text
    for line in pdffonts(pdf).splitlines()[2:]:
        assert " yes yes " in line, f"font not embedded and subset: {line}"


@pytest.mark.parametrize("theme", THEMES)
def test_a_korean_cv_uses_korean_glyph_shapes(theme: str) -> None:
    _, name, employer, highlight = NOT_TRANSLATED["ko"]
    resume = Resume.model_validate({"basics": {"name": name, "summary": highlight}, "work": [{"name": employer}]})
    pdf = render_pdf(resume, theme=theme, paper=PaperSize.A4, language="ko").pdf
    assert missing([name, employer, highlight, LABELS["ko"].summary], pdftotext(pdf)) == []
    fonts = pdffonts(pdf)
    assert "CJK-KR" in fonts
    assert not any(f"CJK-{tag}" in fonts for tag in ("SC", "TC", "JP"))
