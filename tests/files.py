"""Test files made on the fly: PDFs, DOCX and broken ones."""

from __future__ import annotations

import io

from docx import Document
from pypdf import PdfReader, PdfWriter

CV_HTML = """<html><body>
<h1>Marta Kowalska</h1><p>marta.kowalska@example.org | +48 600 100 200 | Kraków</p>
<h2>Experience</h2>
<p><b>Data Engineer</b>, Vistula Logistics, 2019 – Present</p>
<ul><li>Built batch pipelines in Python and Airflow</li><li>Responsible for the data warehouse on Postgres</li></ul>
<h2>Education</h2><p>MSc Computer Science, AGH University of Science and Technology, 2014 – 2019</p>
<h2>Skills</h2><p>Python, SQL, Airflow, Spark</p>
</body></html>"""


def html_pdf(html: str = CV_HTML) -> bytes:
    from weasyprint import HTML

    return bytes(HTML(string=html).write_pdf())


def many_pages_pdf(pages: int) -> bytes:
    body = "".join(f'<p style="break-after: page">Page {i} of the CV of Marta Kowalska</p>' for i in range(pages))
    return html_pdf(f"<html><body>{body}</body></html>")


def encrypted_pdf(password: str = "secret") -> bytes:
    writer = PdfWriter(clone_from=PdfReader(io.BytesIO(html_pdf())))
    writer.encrypt(user_password=password, owner_password="owner-" + password)
    out = io.BytesIO()
    writer.write(out)
    return out.getvalue()


def image_only_pdf() -> bytes:
    """A page with a drawing and no text layer, like a scan."""
    return html_pdf('<html><body><div style="width:300px;height:200px;background:#333"></div></body></html>')


def docx_cv() -> bytes:
    doc = Document()
    doc.add_paragraph("Łukasz Nowak")
    doc.add_paragraph("lukasz.nowak@example.com | +48 501 234 567")
    doc.add_paragraph("Experience")
    table = doc.add_table(rows=1, cols=2)
    table.cell(0, 0).text = "Backend Developer, Wisła Software"
    table.cell(0, 1).text = "2020 – Present"
    doc.add_paragraph("Worked on REST APIs in Python and Django", style="List Bullet")
    doc.add_paragraph("Education")
    doc.add_paragraph("BSc Computer Science, Warsaw University of Technology, 2016 – 2020")
    doc.add_paragraph("Skills")
    doc.add_paragraph("Python, Django, PostgreSQL, Docker")
    out = io.BytesIO()
    doc.save(out)
    return out.getvalue()


PNG_BYTES = b"\x89PNG\r\n\x1a\n" + b"\x00" * 64
