"""DOCX CVs made with python-docx the way real templates are: headings, lists, layout tables, text in several
scripts, contact details in the page header."""

from __future__ import annotations

from typing import Any

from docx import Document
from docx.opc.constants import RELATIONSHIP_TYPE as RT
from docx.oxml import OxmlElement
from docx.oxml.ns import qn

from activities.documents import DocumentKind, extract_document
from tests.documents.builders import docx_bytes, invented_strings


def _cv() -> Any:
    document = Document()
    document.add_heading("Zoë Müller-Łukasiewicz", level=0)
    document.add_paragraph("Ingénieure logicielle")
    document.add_paragraph("zoe.mueller@example.eu | +49 30 1234 5678 | Berlin, Germany")
    document.add_heading("Berufserfahrung", level=1)
    document.add_paragraph("Senior Software Engineer, Škoda Digital GmbH")
    document.add_paragraph("März 2021 – heute")
    document.add_paragraph("Führte die Migration auf Kubernetes", style="List Bullet")
    document.add_paragraph("Reduced build times by 40%", style="List Bullet")
    document.add_paragraph("Développeuse, Société Générale")
    document.add_paragraph("01/2018 - 02/2021")
    document.add_paragraph("Wrote payment services in Kotlin", style="List Number")
    document.add_heading("Ausbildung", level=1)
    document.add_paragraph("M.Sc. Informatik, Technische Universität München, 2016 – 2018")
    document.add_heading("Sprachen", level=1)
    document.add_paragraph("Deutsch (Muttersprache), Englisch (C1), 日本語 (N3)")
    return document


def test_paragraphs_headings_and_lists() -> None:
    doc = extract_document(docx_bytes(_cv()))
    assert doc.kind is DocumentKind.DOCX
    assert doc.pages == 1
    lines = doc.text.split("\n")
    assert lines[:3] == [
        "Zoë Müller-Łukasiewicz",
        "Ingénieure logicielle",
        "zoe.mueller@example.eu | +49 30 1234 5678 | Berlin, Germany",
    ]
    assert "• Führte die Migration auf Kubernetes" in lines
    assert "• Wrote payment services in Kotlin" in lines  # numbered list items are list items too
    resume = doc.resume
    assert resume.basics.name == "Zoë Müller-Łukasiewicz"
    assert resume.basics.label == "Ingénieure logicielle"
    assert resume.basics.email == "zoe.mueller@example.eu"
    assert resume.basics.phone == "+49 30 1234 5678"
    assert resume.basics.location is not None and resume.basics.location.city == "Berlin"
    assert [(w.position, w.name, w.startDate, w.endDate) for w in resume.work] == [
        ("Senior Software Engineer", "Škoda Digital GmbH", "2021-03", None),
        ("Développeuse", "Société Générale", "2018-01", "2021-02"),
    ]
    assert resume.work[0].highlights == ["Führte die Migration auf Kubernetes", "Reduced build times by 40%"]
    education = resume.education[0]
    assert (education.studyType, education.area, education.institution) == (
        "M.Sc.",
        "Informatik",
        "Technische Universität München",
    )
    assert (education.startDate, education.endDate) == ("2016", "2018")
    assert [(lang.language, lang.fluency) for lang in resume.languages] == [
        ("Deutsch", "Muttersprache"),
        ("Englisch", "C1"),
        ("日本語", "N3"),
    ]
    assert invented_strings(resume, doc.text) == []


def test_table_layout_reads_in_document_order() -> None:
    document = Document()
    document.add_paragraph("山田 太郎")
    document.add_paragraph("taro.yamada@example.jp")
    document.add_paragraph("Experience")
    table = document.add_table(rows=2, cols=2)
    table.cell(0, 0).text = "2019 – 2023"
    table.cell(0, 1).text = "ソフトウェアエンジニア, 株式会社サンプル"
    right = table.cell(1, 1)
    right.text = "Backend Engineer, Kyoto Systems Inc."
    right.add_paragraph("Designed the billing API used by 3 million customers", style="List Bullet")
    right.add_paragraph("Moved batch jobs to Kafka", style="List Bullet")
    table.cell(1, 0).text = "2016 – 2019"
    document.add_paragraph("Skills")
    skills = document.add_table(rows=1, cols=3)
    for cell, value in zip(skills.rows[0].cells, ["Python", "Go", "PostgreSQL"], strict=True):
        cell.text = value
    doc = extract_document(docx_bytes(document))
    lines = [line for line in doc.text.split("\n") if line]
    # A row of one-line cells is one line; a cell with several paragraphs keeps them together.
    assert "2019 – 2023  ソフトウェアエンジニア, 株式会社サンプル" in lines
    start = lines.index("2016 – 2019")
    assert lines[start : start + 4] == [
        "2016 – 2019",
        "Backend Engineer, Kyoto Systems Inc.",
        "• Designed the billing API used by 3 million customers",
        "• Moved batch jobs to Kafka",
    ]
    resume = doc.resume
    assert resume.basics.name == "山田 太郎"
    assert resume.basics.email == "taro.yamada@example.jp"
    work = resume.work
    assert [(w.startDate, w.endDate) for w in work] == [("2019", "2023"), ("2016", "2019")]
    assert (work[0].position, work[0].name) == ("ソフトウェアエンジニア", "株式会社サンプル")
    assert (work[1].position, work[1].name) == ("Backend Engineer", "Kyoto Systems Inc.")
    assert len(work[1].highlights) == 2
    assert [s.name for s in resume.skills] == ["Python", "Go", "PostgreSQL"]
    assert invented_strings(resume, doc.text) == []


def test_header_is_ignored_unless_the_body_is_empty() -> None:
    document = Document()
    document.sections[0].header.paragraphs[0].text = "Confidential – do not forward"
    document.add_paragraph("Ana Souza")
    document.add_paragraph("ana.souza@example.com.br")
    document.add_paragraph("Experiência Profissional")
    document.add_paragraph("Desenvolvedora, Banco Exemplo, mar 2019 - atual")
    doc = extract_document(docx_bytes(document))
    assert "Confidential" not in doc.text
    assert doc.resume.work[0].name == "Banco Exemplo"
    assert doc.resume.work[0].startDate == "2019-03"

    only_header = Document()
    only_header.sections[0].header.paragraphs[0].text = "Ana Souza – Desenvolvedora – ana.souza@example.com.br"
    doc = extract_document(docx_bytes(only_header))
    assert doc.resume.basics.name == "Ana Souza"
    assert doc.resume.basics.email == "ana.souza@example.com.br"


def test_text_boxes_tabs_breaks_and_hidden_profile_links() -> None:
    document = Document()
    paragraph = document.add_paragraph("Lena Novak")
    document.add_paragraph("2019\t–\t2021\tData Analyst, Blue Harbor Ltd")
    run = document.add_paragraph().add_run("Line one of a note")
    run.add_break()
    run.add_text("line two of the note")
    link_paragraph = document.add_paragraph()
    rel = document.part.relate_to("https://www.linkedin.com/in/lena-novak", RT.HYPERLINK, is_external=True)
    hyperlink = OxmlElement("w:hyperlink")
    hyperlink.set(qn("r:id"), rel)
    link_run = OxmlElement("w:r")
    text = OxmlElement("w:t")
    text.text = "LinkedIn"
    link_run.append(text)
    hyperlink.append(link_run)
    link_paragraph._p.append(hyperlink)
    assert paragraph.text == "Lena Novak"
    doc = extract_document(docx_bytes(document))
    assert "2019  –  2021  Data Analyst, Blue Harbor Ltd" in doc.text
    assert "Line one of a note\nline two of the note" in doc.text
    assert "LinkedIn (https://www.linkedin.com/in/lena-novak)" in doc.text
    assert [(p.network, p.username) for p in doc.resume.basics.profiles] == [("LinkedIn", "lena-novak")]


def test_sidebar_layout_table_with_a_nested_table() -> None:
    document = Document()
    layout = document.add_table(rows=1, cols=2)
    sidebar, main = layout.rows[0].cells
    sidebar.text = "Contact"
    sidebar.add_paragraph("li.wei@example.cn")
    sidebar.add_paragraph("Skills")
    nested = sidebar.add_table(rows=2, cols=1)
    nested.cell(0, 0).text = "Rust"
    nested.cell(1, 0).text = "TypeScript"
    main.text = "Li Wei"
    main.paragraphs[0].style = "Title"
    main.add_paragraph("Experience")
    main.add_paragraph("Platform Engineer, Lotus Cloud Ltd, 2020 – Present")
    main.add_paragraph("Ran the Kubernetes fleet", style="List Bullet")
    doc = extract_document(docx_bytes(document))
    lines = [line for line in doc.text.split("\n") if line]
    # Column by column: the whole sidebar (with its nested table, read once) and then the main column.
    assert lines == [
        "Contact",
        "li.wei@example.cn",
        "Skills",
        "Rust",
        "TypeScript",
        "Li Wei",
        "Experience",
        "Platform Engineer, Lotus Cloud Ltd, 2020 – Present",
        "• Ran the Kubernetes fleet",
    ]
    resume = doc.resume
    assert (resume.basics.name, resume.basics.email) == ("Li Wei", "li.wei@example.cn")
    assert [s.name for s in resume.skills] == ["Rust", "TypeScript"]
    assert resume.work[0].name == "Lotus Cloud Ltd"
