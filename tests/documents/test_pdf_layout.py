"""Reading order from geometry: PDFs whose content stream order is not the reading order."""

from __future__ import annotations

import random
import time

import pytest

from activities.documents import extract_document
from tests.documents.builders import CORPUS, PAGE_STYLE, html_pdf, invented_strings, positioned_pdf

LEFT = [
    "Experience",
    "Platform Engineer, Nordlicht Energie GmbH",
    "Jan 2021 – Present",
    "• Moved 140 services to Kubernetes with zero downtime",
    "• Cut the cloud bill by 31% through right-sizing",
    "Software Engineer, Hafenblick Logistik AG",
    "Mar 2017 – Dec 2020",
    "• Built the tracking API used by 2,000 shippers",
    "• Introduced contract tests for every service",
]
RIGHT = [
    "Skills",
    "Go, Python, Terraform",
    "Kubernetes, Prometheus",
    "Languages",
    "German (native)",
    "English (C1)",
    "Education",
    "BSc Informatik, Universität Hamburg, 2013 – 2016",
]


def _two_column_pdf(seed: int) -> bytes:
    placed = [(40.0, 20.0, "Jonas Becker"), (40.0, 40.0, "jonas.becker@example.de · Hamburg, Germany")]
    placed += [(40.0, 80.0 + 18 * i, text) for i, text in enumerate(LEFT)]
    placed += [(480.0, 86.0 + 21 * i, text) for i, text in enumerate(RIGHT)]
    random.Random(seed).shuffle(placed)  # the content stream order is now anything
    return positioned_pdf(placed, extra_style="div { font-size: 9pt }")


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_two_columns_come_out_column_by_column(seed: int) -> None:
    doc = extract_document(_two_column_pdf(seed))
    lines = [line for line in doc.text.split("\n") if line]
    assert lines[:2] == ["Jonas Becker", "jonas.becker@example.de · Hamburg, Germany"]
    assert lines[2 : 2 + len(LEFT)] == LEFT
    assert lines[2 + len(LEFT) :] == RIGHT
    resume = doc.resume
    assert [(w.name, w.startDate) for w in resume.work] == [
        ("Nordlicht Energie GmbH", "2021-01"),
        ("Hafenblick Logistik AG", "2017-03"),
    ]
    assert resume.work[0].highlights == [
        "Moved 140 services to Kubernetes with zero downtime",
        "Cut the cloud bill by 31% through right-sizing",
    ]
    assert [(lang.language, lang.fluency) for lang in resume.languages] == [("German", "native"), ("English", "C1")]
    assert resume.education[0].institution == "Universität Hamburg"
    assert invented_strings(resume, doc.text) == []


def test_side_notes_stay_with_their_entry() -> None:
    # Dates and places in a narrow right column, top-aligned with each entry, drawn after all the main text.
    main = [
        (40.0, 20.0, "Amara Okafor"),
        (40.0, 40.0, "amara.okafor@example.ng"),
        (40.0, 80.0, "Experience"),
        (40.0, 100.0, "Lagos Fintech Ltd, Backend Engineer"),
        (52.0, 116.0, "• Scaled the payments API to 5,000 requests per second"),
        (52.0, 132.0, "• Led the move from cron jobs to a queue"),
        (40.0, 170.0, "Savannah Data, Data Analyst"),
        (52.0, 186.0, "• Automated the monthly risk report"),
        (52.0, 202.0, "• Trained 6 analysts in SQL"),
    ]
    notes = [
        (600.0, 100.0, "Lagos, NG"),
        (600.0, 116.0, "Feb 2022 – Present"),
        (600.0, 170.0, "Abuja, NG"),
        (600.0, 186.0, "2019 – 2022"),
    ]
    doc = extract_document(positioned_pdf(main + notes))
    assert "Lagos Fintech Ltd, Backend Engineer\nLagos, NG\nFeb 2022 – Present\n• Scaled" in doc.text
    work = doc.resume.work
    assert [(w.name, w.position, w.location, w.startDate, w.endDate) for w in work] == [
        ("Lagos Fintech Ltd", "Backend Engineer", "Lagos, NG", "2022-02", None),
        ("Savannah Data", "Data Analyst", "Abuja, NG", "2019", "2022"),
    ]
    assert [len(w.highlights) for w in work] == [2, 2]


def test_running_headers_footers_and_page_numbers_are_removed() -> None:
    entries = "".join(
        f"<p><b>Consultant, Firm {i} LLC</b>, 20{10 + i} – 20{11 + i}</p>"
        f"<ul><li>Delivered project number {i} for a retail client</li></ul>"
        for i in range(14)
    )
    html = f"""<html><head><style>
    @page {{ size: A5; margin: 60px 40px;
      @top-center {{ content: "Inès Laurent — Consultant" }}
      @bottom-center {{ content: "Page " counter(page) " of " counter(pages) }} }}
    </style></head><body><h1>Inès Laurent</h1><p>ines.laurent@example.fr</p>
    <h2>Experience</h2>{entries}</body></html>"""
    doc = extract_document(html_pdf(html))
    assert doc.pages >= 2
    assert "Page 1 of" not in doc.text and "Page 2 of" not in doc.text
    # The first page keeps its top line (often the name); later pages lose the repeated header.
    assert doc.text.count("Inès Laurent — Consultant") == 1
    assert doc.resume.basics.name == "Inès Laurent"
    assert len(doc.resume.work) == 14
    assert doc.resume.work[-1].name == "Firm 13 LLC"


def test_hyphenation_ligatures_and_wrapped_bullets() -> None:
    html = f"""<html lang="en"><head><style>{PAGE_STYLE} body {{ margin: 40px }} ul {{ width: 170px }}</style></head>
    <body><h1>Kai Tanaka</h1><p>kai@example.jp</p><h2>Experience</h2>
    <p>Engineer, Office Efficiency Labs, 2020 – 2024</p>
    <ul><li>Co-authored work accepted at top venues, 5% of submis&shy;sions, on community-driven efficient
    fine-tuning of models</li>
    <li>Second item</li></ul></body></html>"""
    doc = extract_document(html_pdf(html))
    bullets = doc.resume.work[0].highlights
    assert bullets == [
        "Co-authored work accepted at top venues, 5% of submissions, on community-driven efficient fine-tuning "
        "of models",
        "Second item",
    ]
    assert "ﬁ" not in doc.text and "ﬃ" not in doc.text


@pytest.mark.parametrize(
    "name", ["rendercv-classic.pdf", "rendercv-harvard.pdf", "resumematcher-modern-two-column.pdf"]
)
def test_corpus_pdfs_extract_fast(name: str) -> None:
    data = (CORPUS / name).read_bytes()
    extract_document(data)  # warm-up: library loading is not the cost being measured
    started = time.perf_counter()
    extract_document(data)
    assert time.perf_counter() - started < 0.5  # ~40 ms on a 2-core machine; generous for loaded CI


def test_a_line_wrapped_mid_phrase_is_joined() -> None:
    rows = [
        (40.0, 20.0, "Nadia Haddad"),
        (40.0, 40.0, "nadia.haddad@example.com"),
        (40.0, 80.0, "Education"),
        (40.0, 100.0, "MSc Computer Science, AGH University of Science and Technology, 2014 –"),
        (40.0, 114.0, "2019"),
    ]
    doc = extract_document(positioned_pdf(rows))
    assert "AGH University of Science and Technology, 2014 – 2019" in doc.text
    education = doc.resume.education[0]
    assert (education.institution, education.startDate, education.endDate) == (
        "AGH University of Science and Technology",
        "2014",
        "2019",
    )


def test_rotated_text_is_kept_with_its_spaces() -> None:
    html = f"""<html><head><style>{PAGE_STYLE} body {{ margin: 40px }}</style></head><body>
    <h1>Omar Farouk</h1><p>omar@example.com</p>
    <div style="position:absolute; left:500px; top:300px; transform: rotate(-90deg)">Open to remote work</div>
    <h2>Experience</h2><p>Engineer, Delta Corp, 2019 – 2022</p><ul><li>Built the routing service</li></ul>
    </body></html>"""
    doc = extract_document(html_pdf(html))
    assert "Open to remote work" in doc.text
    assert doc.resume.work[0].name == "Delta Corp"


def test_extraction_from_many_threads_at_once() -> None:
    # PDFium is not thread-safe; the API and the worker extract in threads (asyncio.to_thread).
    from concurrent.futures import ThreadPoolExecutor

    names = ["rendercv-classic.pdf", "rendercv-harvard.pdf", "resumematcher-modern-two-column.pdf"] * 4
    blobs = [(CORPUS / name).read_bytes() for name in names]
    expected = {name: extract_document((CORPUS / name).read_bytes()).text for name in set(names)}
    with ThreadPoolExecutor(max_workers=6) as pool:
        texts = list(pool.map(lambda data: extract_document(data).text, blobs))
    assert texts == [expected[name] for name in names]


def test_a_date_column_on_the_left_stays_with_its_entries() -> None:
    # moderncv and many LaTeX CVs: dates in a narrow left column, entries on the right.
    rows = [
        (40.0, 20.0, "Hugo Lefèvre"),
        (40.0, 40.0, "hugo.lefevre@example.fr"),
        (170.0, 80.0, "Experience"),
        (40.0, 100.0, "2020 – 2024"),
        (170.0, 100.0, "Site Reliability Engineer, Alpine Cloud SA"),
        (182.0, 116.0, "• Kept 300 services above 99.95% availability"),
        (182.0, 132.0, "• Wrote the incident process"),
        (40.0, 160.0, "2016 – 2020"),
        (40.0, 176.0, "Lyon, France"),
        (170.0, 160.0, "Systems Administrator, Rhône Hosting SARL"),
        (182.0, 176.0, "• Automated backups for 2,000 servers"),
        (182.0, 192.0, "• Ran the on-call rota"),
    ]
    doc = extract_document(positioned_pdf(rows))
    assert "2020 – 2024  Site Reliability Engineer, Alpine Cloud SA\n• Kept" in doc.text
    assert "2016 – 2020\nLyon, France\nSystems Administrator, Rhône Hosting SARL\n• Automated" in doc.text
    work = doc.resume.work
    assert [(w.position, w.name, w.startDate, w.endDate, w.location) for w in work] == [
        ("Site Reliability Engineer", "Alpine Cloud SA", "2020", "2024", None),
        ("Systems Administrator", "Rhône Hosting SARL", "2016", "2020", "Lyon, France"),
    ]
    assert [len(w.highlights) for w in work] == [2, 2]
