"""Every theme renders a CV that our own extractor reads back to the same Resume, and page limits never cut text
silently. A CV rendered by us and uploaded again must come back with the same people, employers and dates."""

from __future__ import annotations

import re
from typing import Any

import pytest

from activities.documents import extract_document
from activities.rendering import PdfRenderer, RenderedPdf, list_themes, render_pdf
from activities.rendering.pdf import TIGHT_SCALE
from models.resume import Resume
from models.target import PaperSize
from tests.rendering.pdf_text import missing, page_sizes, pdftotext
from tests.rendering.sample_cvs import REALISTIC_CV

ROUND_TRIP_CV: dict[str, Any] = {
    "basics": {
        "name": "Maria Keller",
        "label": "Backend Engineer",
        "email": "maria.keller@example.com",
        "phone": "+49 30 1234567",
        "location": {"city": "Berlin", "countryCode": "DE"},
        "summary": "Backend engineer with eight years of Python and Go.",
        "profiles": [{"network": "GitHub", "url": "https://github.com/mkeller"}],
    },
    "work": [
        {
            "name": "Globex Corporation",
            "position": "Senior Backend Engineer",
            "location": "Berlin, Germany",
            "startDate": "2020-04",
            "highlights": [
                "Led the migration of billing to event sourcing, cutting reconciliation time by 70%.",
                "Built a rate limiter in Go handling 20,000 requests per second.",
                "Mentored four engineers.",
            ],
        },
        {
            "name": "Initech GmbH",
            "position": "Software Engineer",
            "startDate": "2016-09",
            "endDate": "2020-03",
            "highlights": ["Wrote the invoicing API in Django.", "Moved CI from Jenkins to GitHub Actions."],
        },
        {
            "name": "Umbrella Labs",
            "position": "Junior Developer",
            "startDate": "2014-01",
            "endDate": "2016-08",
            "highlights": ["Maintained internal tools in Python.", "Automated weekly reports with SQL."],
        },
    ],
    "education": [
        {
            "institution": "Technical University of Munich",
            "studyType": "MSc",
            "area": "Computer Science",
            "startDate": "2011-10",
            "endDate": "2013-09",
        }
    ],
    "skills": [
        {"name": "Languages", "keywords": ["Python", "Go", "SQL"]},
        {"name": "Infrastructure", "keywords": ["Kubernetes", "PostgreSQL", "Kafka"]},
    ],
    "languages": [{"language": "German", "fluency": "Native"}, {"language": "English", "fluency": "Fluent"}],
    "interests": [{"name": "Climbing"}],
}

# Accents, Cyrillic and Japanese in names, employers and bullets, with English headings.
MANY_SCRIPTS_CV: dict[str, Any] = {
    "basics": {"name": "Олена Коваленко", "email": "olena@example.com"},
    "work": [
        {
            "name": "Überseewerk Köln GmbH",
            "position": "Ingénieure logicielle",
            "startDate": "2019-03",
            "highlights": ["Réduit la latence de 40 % grâce à un cache.", "Größere Änderungen ohne Ausfallzeit."],
        },
        {
            "name": "Київстар",
            "position": "Старший інженер",
            "startDate": "2015-01",
            "endDate": "2019-02",
            "highlights": ["Розробила платіжний сервіс на Go.", "Навчила шість інженерів."],
        },
        {
            "name": "株式会社サンプル",
            "position": "ソフトウェアエンジニア",
            "startDate": "2012-04",
            "endDate": "2014-12",
            "highlights": ["決済システムを設計しました。"],
        },
    ],
    "education": [
        {
            "institution": "Université de Montréal",
            "studyType": "MSc",
            "area": "Informatique",
            "startDate": "2010-09",
            "endDate": "2012-06",
        }
    ],
}

THEMES = [t.name for t in list_themes()]
VARIANTS = [(theme, PaperSize.A4) for theme in THEMES] + [("compact", PaperSize.LETTER)]


def facts(resume: Resume) -> dict[str, object]:
    """What a re-uploaded CV must keep: the name, and per job and school who, what and when."""
    return {
        "name": resume.basics.name,
        "work": [(w.position, w.name, w.startDate, w.endDate, len(w.highlights)) for w in resume.work],
        "education": [(e.institution, e.studyType, e.area, e.startDate, e.endDate) for e in resume.education],
    }


def bullets(cv: dict[str, Any]) -> list[str]:
    return [h for job in cv["work"] for h in job["highlights"]]


@pytest.fixture(scope="module", params=VARIANTS, ids=lambda v: f"{v[0]}-{v[1]}")
def rendered(request: pytest.FixtureRequest) -> tuple[str, RenderedPdf]:
    theme, paper = request.param
    resume = Resume.model_validate(ROUND_TRIP_CV)
    return theme, render_pdf(resume, theme=theme, paper=paper, language="en")


def test_the_themes_the_product_promises_exist() -> None:
    themes = {t.name: t for t in list_themes()}
    assert {"classic", "modern", "compact", "ats"} <= set(themes)
    assert themes["compact"].two_column and not themes["compact"].ats_friendly
    assert themes["ats"].ats_friendly and not themes["ats"].two_column


def test_a_rendered_cv_uploaded_again_extracts_to_the_same_resume(rendered: tuple[str, RenderedPdf]) -> None:
    _, result = rendered
    extracted = extract_document(result.pdf)
    assert facts(extracted.resume) == facts(Resume.model_validate(ROUND_TRIP_CV))
    assert extracted.resume.basics.email == "maria.keller@example.com"
    assert [s.name for s in extracted.resume.skills] == ["Languages", "Infrastructure"]
    assert [(lang.language, lang.fluency) for lang in extracted.resume.languages] == [
        ("German", "Native"),
        ("English", "Fluent"),
    ]
    assert missing(bullets(ROUND_TRIP_CV), pdftotext(result.pdf)) == []


@pytest.mark.parametrize(
    "rendered", [v for v in VARIANTS if v[0] == "compact"], indirect=True, ids=lambda v: f"{v[0]}-{v[1]}"
)
def test_compact_reads_the_main_column_then_the_side_column(rendered: tuple[str, RenderedPdf]) -> None:
    _, result = rendered
    last_bullet = bullets(ROUND_TRIP_CV)[-1]
    for text in (extract_document(result.pdf).text, pdftotext(result.pdf)):
        # The side column (skills, languages) sits beside the experience, yet reads after all of it.
        assert text.index("Summary") < text.index(last_bullet) < text.index("Technical University of Munich")
        assert text.index("Technical University of Munich") < text.index("Skills") < text.index("Climbing")


def test_compact_page_one_of_a_long_cv_ends_with_the_whole_side_column() -> None:
    result = render_pdf(Resume.model_validate(REALISTIC_CV), theme="compact", paper=PaperSize.A4, language="en")
    side = ["Skills", "Languages (Expert): Python, Go, SQL, TypeScript", "Spanish – Conversational (B1)", "Half"]
    for text in (extract_document(result.pdf).text, pdftotext(result.pdf)):
        page_one = re.split(r"\s+Projects\n", text)[0]  # the main column goes on with Projects on page two
        side_start = page_one.index("Skills")
        assert missing(side, page_one[side_start:]) == []
        assert missing(bullets(REALISTIC_CV)[:4], page_one[:side_start]) == []
        assert not any(word in page_one[side_start:] for word in ("Northwind", "Education", "University"))


def test_a_side_column_longer_than_a_page_loses_nothing() -> None:
    """The columns are table cells: WeasyPrint continues them on the next page (a float or an absolute box
    would clip the rest)."""
    skills = [{"name": f"Skill group {i}", "keywords": [f"tool{i}a", f"tool{i}b"]} for i in range(70)]
    resume = Resume.model_validate({**ROUND_TRIP_CV, "skills": skills})
    result = render_pdf(resume, theme="compact", paper=PaperSize.A4, language="en")
    assert result.pages == 2
    text = pdftotext(result.pdf)
    assert missing([f"Skill group {i}: tool{i}a, tool{i}b" for i in range(70)], text) == []
    assert missing(bullets(ROUND_TRIP_CV), text) == []


@pytest.mark.parametrize("theme", ["compact", "ats"])
def test_accents_cyrillic_and_japanese_survive_the_round_trip(theme: str) -> None:
    result = render_pdf(Resume.model_validate(MANY_SCRIPTS_CV), theme=theme, paper=PaperSize.A4, language="en")
    assert facts(extract_document(result.pdf).resume) == facts(Resume.model_validate(MANY_SCRIPTS_CV))
    assert missing(bullets(MANY_SCRIPTS_CV), pdftotext(result.pdf)) == []


def test_a_cv_that_fits_one_page_as_designed_is_not_shrunk() -> None:
    resume = Resume.model_validate({"basics": {"name": "Sam Lee"}, "work": ROUND_TRIP_CV["work"][:1]})
    result = render_pdf(resume, theme="classic", paper=PaperSize.A4, language="en", max_pages=1)
    assert (result.pages, result.scale, result.dropped_sections, result.warnings) == (1, 1.0, (), [])


def test_one_page_leaves_out_the_least_read_section_only_when_that_makes_it_fit() -> None:
    references = [{"name": f"Referee {i}", "reference": f"Maria shipped project {i} on time."} for i in range(40)]
    resume = Resume.model_validate({**ROUND_TRIP_CV, "references": references})

    result = render_pdf(resume, theme="ats", paper=PaperSize.A4, language="en", max_pages=1)

    assert (result.pages, result.scale, result.dropped_sections) == (1, TIGHT_SCALE, ("references",))
    assert result.warnings == ["Left out to fit one page: references."]
    assert page_sizes(result.pdf) == [(595, 842)]  # tightened, not a smaller sheet
    text = pdftotext(result.pdf)
    assert "Referee 1" not in text
    assert missing(["Climbing", *bullets(ROUND_TRIP_CV)], text) == []


def test_a_cv_too_long_for_one_page_keeps_every_line_and_says_so() -> None:
    resume = Resume.model_validate(REALISTIC_CV)

    result = render_pdf(resume, theme="classic", paper=PaperSize.LETTER, language="en", max_pages=1)

    assert result.overflows and result.pages == 2 and result.scale == TIGHT_SCALE
    assert result.dropped_sections == ()
    assert result.warnings == [
        "This CV needs 2 pages: it does not fit one page even with the tighter layout. "
        "Nothing was cut; shorten it or allow more pages."
    ]
    assert page_sizes(result.pdf) == [(612, 792)] * 2
    text = pdftotext(result.pdf)
    assert missing(["Dr. Alan Smith, CTO at Northwind Payments", "Half marathons", *bullets(REALISTIC_CV)], text) == []


def test_a_page_limit_other_than_one_or_two_is_refused() -> None:
    with pytest.raises(ValueError, match="max_pages"):
        render_pdf(Resume(), theme="classic", paper=PaperSize.A4, language="en", max_pages=3)


async def test_the_render_processes_fit_the_page_limit_too() -> None:
    references = [{"name": f"Referee {i}", "reference": "Reliable."} for i in range(60)]
    resume = Resume.model_validate({**ROUND_TRIP_CV, "references": references})
    async with PdfRenderer(max_workers=1) as renderer:
        result = await renderer.render(resume, theme="compact", paper=PaperSize.A4, language="en", max_pages=1)
    assert (result.pages, result.dropped_sections) == (1, ("references",))
