"""Themes: the list clients choose from, clear errors for bad names, headings and dates in the CV language."""

from __future__ import annotations

import pickle

import pytest

from activities.rendering import (
    LABELS,
    ThemeInfo,
    UnknownTheme,
    list_themes,
    render_html,
    render_pdf,
    validate_theme,
)
from activities.rendering.i18n import format_date, format_date_range
from models.resume import Resume
from models.target import SUPPORTED_LANGUAGES, PaperSize
from tests.rendering.pdf_text import missing, pdftotext, pypdf_text


def test_at_least_two_themes_are_described() -> None:
    themes = list_themes()
    assert {"classic", "modern"} <= {t.name for t in themes}
    for theme in themes:
        assert isinstance(theme, ThemeInfo)
        assert theme.title and theme.description
        assert theme.supports["columns"] in (1, 2)
        validate_theme(theme.name)


@pytest.mark.parametrize("name", ["fancy", "", "../classic", "_shared", "Classic"])
def test_an_unknown_theme_is_refused_with_the_valid_names(name: str) -> None:
    with pytest.raises(UnknownTheme) as caught:
        validate_theme(name)
    message = str(caught.value)
    assert repr(name) in message
    for theme in list_themes():
        assert theme.name in message
    assert isinstance(caught.value, ValueError)


def test_rendering_with_an_unknown_theme_fails_before_any_work() -> None:
    with pytest.raises(UnknownTheme):
        render_html(Resume(), theme="fancy", paper=PaperSize.A4, language="en")
    with pytest.raises(UnknownTheme):
        render_pdf(Resume(), theme="fancy", paper=PaperSize.A4, language="en")


def test_unknown_theme_survives_the_trip_from_a_child_process() -> None:
    error = pickle.loads(pickle.dumps(UnknownTheme("fancy", ("classic", "modern"))))
    assert isinstance(error, UnknownTheme)
    assert str(error) == "Unknown theme 'fancy'. Choose one of: classic, modern."


def test_every_output_language_has_its_words() -> None:
    assert set(LABELS) == set(SUPPORTED_LANGUAGES)
    for language, labels in LABELS.items():
        assert all(word.strip() for word in vars(labels).values()), language


@pytest.mark.parametrize("theme", [t.name for t in list_themes()])
def test_headings_are_in_the_cv_language(theme: str, realistic_resume: Resume) -> None:
    pdf = render_pdf(realistic_resume, theme=theme, paper=PaperSize.A4, language="de").pdf
    text = pypdf_text(pdf)
    assert missing(["Berufserfahrung", "Ausbildung", "Kenntnisse", "März 2021 – heute"], text) == []
    assert "Experience" not in text


@pytest.mark.parametrize("language", sorted(SUPPORTED_LANGUAGES))
def test_each_language_prints_its_headings(language: str) -> None:
    resume = Resume.model_validate(
        {
            "basics": {"summary": "Text."},
            "work": [{"name": "Acme", "startDate": "2020-05"}],
            "skills": [{"name": "Go"}],
        }
    )
    html = render_html(resume, theme="classic", paper=PaperSize.A4, language=language)
    labels = LABELS[language]
    assert f'<html lang="{language}">' in html
    text = pdftotext(render_pdf(resume, theme="classic", paper=PaperSize.A4, language=language).pdf)
    assert missing([labels.summary, labels.experience, labels.skills, labels.present], text) == []


@pytest.mark.parametrize(
    ("language", "heading"), [("xx", "Experience"), ("de-AT", "Berufserfahrung"), ("", "Experience")]
)
def test_a_language_tag_falls_back_sensibly(language: str, heading: str) -> None:
    resume = Resume.model_validate({"work": [{"name": "Acme"}]})
    html = render_html(resume, theme="modern", paper=PaperSize.A4, language=language)
    assert f">{heading}</h2>" in html
    assert f'<html lang="{language or "en"}">' in html


def test_a_hostile_language_tag_is_not_echoed_into_the_page() -> None:
    html = render_html(Resume(), theme="classic", paper=PaperSize.A4, language='en" onload="x')
    assert '<html lang="en">' in html


@pytest.mark.parametrize(
    ("value", "language", "printed"),
    [
        ("2021-03", "en", "Mar 2021"),
        ("2021-03-07", "en", "7 Mar 2021"),
        ("2021", "en", "2021"),
        ("2021-03", "de", "März 2021"),
        ("2021-03", "fr", "mars 2021"),
        ("2021-03", "uk", "бер. 2021"),
        ("2021-03", "el", "Μαρ. 2021"),
        ("2021-03", "ja", "2021年3月"),
        ("2021-03-07", "zh", "2021年3月7日"),
        ("Spring 2019", "en", "Spring 2019"),  # not ISO: printed as written
        ("2021-13", "en", "2021-13"),
        ("  ", "en", ""),
        (None, "en", ""),
    ],
)
def test_dates_are_written_the_way_the_language_writes_them(value: str | None, language: str, printed: str) -> None:
    assert format_date(value, language) == printed


@pytest.mark.parametrize(
    ("start", "end", "printed"),
    [
        ("2019-01", "2021-06", "Jan 2019 – Jun 2021"),
        ("2019-01", None, "Jan 2019 – Present"),
        (None, "2021-06", "Jun 2021"),
        ("2019", "2019", "2019"),
        (None, None, ""),
    ],
)
def test_date_ranges(start: str | None, end: str | None, printed: str) -> None:
    assert format_date_range(start, end, "en") == printed
