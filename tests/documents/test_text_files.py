"""Plain text and Markdown uploads: encodings, whitespace, Markdown syntax."""

from __future__ import annotations

from activities.documents import DocumentKind, extract_document
from tests.documents.builders import SAMPLES, invented_strings

TEXT_CV = """Curriculum Vitae

Tomás Ibáñez
Product Designer
tomas.ibanez@example.es  •  +34 612 345 678  •  Madrid, España

EXPERIENCIA
Senior Product Designer — Cabify\tene 2021 - actualidad
- Led the redesign of the rider app, raising conversion by 12%
  across all markets
- Built the design system used by 40 designers

Product Designer — Glovo\tmar 2018 - dic 2020
- Ran 30 usability studies

FORMACIÓN
Grado en Diseño, Universidad Complutense de Madrid, 2014 - 2018

IDIOMAS
Español (nativo), Inglés (C1)
"""


def test_plain_text_in_utf8_utf16_and_with_bom() -> None:
    reference = extract_document(TEXT_CV.encode())
    assert reference.kind is DocumentKind.TEXT
    for data in (TEXT_CV.encode("utf-16"), TEXT_CV.encode("utf-8-sig"), TEXT_CV.replace("\n", "\r\n").encode()):
        again = extract_document(data)
        assert again.text == reference.text
        assert again.resume == reference.resume
        assert again.sha256 != reference.sha256 or data == TEXT_CV.encode()


def test_plain_text_resume() -> None:
    doc = extract_document(TEXT_CV.encode())
    resume = doc.resume
    assert resume.basics.name == "Tomás Ibáñez"
    assert resume.basics.label == "Product Designer"
    assert resume.basics.phone == "+34 612 345 678"
    assert resume.basics.location is not None and resume.basics.location.region == "España"
    assert [(w.position, w.name, w.startDate, w.endDate) for w in resume.work] == [
        ("Senior Product Designer", "Cabify", "2021-01", None),
        ("Product Designer", "Glovo", "2018-03", "2020-12"),
    ]
    # The indented line continues the item above it.
    assert (
        resume.work[0].highlights[0]
        == "Led the redesign of the rider app, raising conversion by 12% across all markets"
    )
    education = resume.education[0]
    assert (education.studyType, education.area, education.institution) == (
        "Grado",
        "Diseño",
        "Universidad Complutense de Madrid",
    )
    assert [(lang.language, lang.fluency) for lang in resume.languages] == [("Español", "nativo"), ("Inglés", "C1")]
    assert "Curriculum Vitae" not in (resume.basics.summary or "")
    assert invented_strings(resume, doc.text) == []


def test_odd_whitespace_is_normalised() -> None:
    text = "Ola\t\r \xa0Nordmann\nSoftware\u00a0Engineer at\u2003Equinor,\u200b 2019 – 2022\n\n\n\nﬁnance and eﬃciency"
    doc = extract_document(text.encode())
    assert doc.text == "Ola\nNordmann\nSoftware Engineer at Equinor, 2019 – 2022\n\nfinance and efficiency"


def test_markdown_sample() -> None:
    doc = extract_document((SAMPLES / "jane-doe-cv.md").read_bytes())
    assert doc.kind is DocumentKind.MARKDOWN
    assert "#" not in doc.text and "**" not in doc.text
    assert doc.text.startswith("Jane Doe\n\nBackend Software Engineer\n")
    resume = doc.resume
    assert (resume.basics.name, resume.basics.label) == ("Jane Doe", "Backend Software Engineer")
    assert resume.basics.phone == "+44 20 7946 0958"
    assert [p.url for p in resume.basics.profiles] == ["https://github.com/janedoe-dev"]
    assert [(w.name, w.position, w.location, w.startDate, w.endDate) for w in resume.work] == [
        ("Brightwave Payments", "Senior Software Engineer", "London, UK", "2021-03", None),
        ("Northfield Analytics", "Software Engineer", "Manchester, UK", "2018-09", "2021-02"),
    ]
    assert [len(w.highlights) for w in resume.work] == [4, 3]
    assert resume.education[0].institution == "University of Leeds"
    assert {s.name: s.keywords for s in resume.skills}["Data"] == ["Postgres", "Redis", "Kafka"]
    assert invented_strings(resume, doc.text) == []


def test_markdown_syntax_is_stripped() -> None:
    markdown = """# **Priya Raman**
Data Scientist · [priya@example.in](mailto:priya@example.in) · [GitHub](https://github.com/priyar) · <https://priya.dev>

Experience
----------

### Data Scientist at Flipkart *(2020 – Present)*
* Built the __demand forecasting__ model in `PyTorch`
* Cut stock-outs by 18% — see [the write-up](https://blog.example.in/forecasting)
  across 4 warehouses

## Skills

> Quoted: ![chart](chart.png) escaped \\*stars\\*

| Skill | Level |
|-------|-------|
| Python | Expert |
"""
    doc = extract_document(markdown.encode())
    assert doc.kind is DocumentKind.MARKDOWN
    lines = doc.text.split("\n")
    assert lines[0] == "Priya Raman"
    assert lines[1] == "Data Scientist · priya@example.in · GitHub (https://github.com/priyar) · https://priya.dev"
    assert "• Built the demand forecasting model in PyTorch" in lines
    assert (
        "• Cut stock-outs by 18% — see the write-up (https://blog.example.in/forecasting) across 4 warehouses" in lines
    )
    assert "Quoted: chart escaped *stars*" in lines
    assert "Python  Expert" in lines and not any(set(line) <= set("|- ") for line in lines if line)
    resume = doc.resume
    assert (resume.basics.name, resume.basics.label) == ("Priya Raman", "Data Scientist")
    assert resume.basics.summary is None
    assert resume.basics.email == "priya@example.in"
    assert resume.basics.url == "https://priya.dev"
    assert [(p.network, p.username) for p in resume.basics.profiles] == [("GitHub", "priyar")]
    work = resume.work[0]
    assert (work.position, work.name, work.startDate, work.endDate) == ("Data Scientist", "Flipkart", "2020", None)
    assert len(work.highlights) == 2
    assert invented_strings(resume, doc.text) == []
