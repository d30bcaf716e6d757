"""Uploads that cannot be used: each gets its own error, machine code and a sentence for the user."""

from __future__ import annotations

import base64
import json
import os
import struct
import time
import zipfile
import zlib

import pytest

from activities.documents import (
    CorruptDocument,
    DocumentError,
    DocumentKind,
    EmptyDocument,
    EncryptedDocument,
    InvalidJsonResume,
    NoTextLayer,
    TooManyPages,
    UnsupportedDocument,
    detect_kind,
    extract_document,
)
from tests.documents.builders import CORPUS, PAGE_STYLE, encrypted, html_pdf, zip_bytes

CV_HTML = f"""<html><head><style>{PAGE_STYLE} body {{ margin: 40px }}</style></head><body>
<h1>Marta Kowalska</h1><p>marta.kowalska@example.org | +48 600 100 200 | Kraków, Poland</p>
<h2>Experience</h2>
<p><b>Data Engineer</b>, Vistula Logistics, 2019 – Present</p>
<ul><li>Built batch pipelines in Python and Airflow</li><li>Ran the data warehouse on Postgres</li></ul>
<h2>Skills</h2><p>Python, SQL, Airflow, Spark</p>
</body></html>"""


def _png() -> bytes:
    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))

    pixels = zlib.compress(b"\x00\xff\x00\x00" * 1)
    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", struct.pack(">IIBBBBB", 1, 1, 8, 2, 0, 0, 0))
        + chunk(b"IDAT", pixels)
        + chunk(b"IEND", b"")
    )


@pytest.fixture(scope="module")
def cv_pdf() -> bytes:
    return html_pdf(CV_HTML)


def _refused(data: bytes, error: type[DocumentError], **options: int) -> DocumentError:
    with pytest.raises(error) as caught:
        extract_document(data, **options)
    exc = caught.value
    assert exc.code == error.code
    assert exc.message and exc.message == str(exc)
    assert "Traceback" not in exc.message and "Marta" not in exc.message
    return exc


def test_error_codes() -> None:
    codes = {
        UnsupportedDocument: "unsupported_type",
        EncryptedDocument: "encrypted",
        CorruptDocument: "corrupt",
        NoTextLayer: "no_text_layer",
        TooManyPages: "too_many_pages",
        EmptyDocument: "empty",
        InvalidJsonResume: "invalid_json_resume",
    }
    for error, code in codes.items():
        assert issubclass(error, DocumentError)
        assert error.code == code


def test_a_good_pdf_extracts(cv_pdf: bytes) -> None:
    doc = extract_document(cv_pdf)
    assert "Kraków, Poland" in doc.text
    assert doc.kind is DocumentKind.PDF
    assert doc.resume.basics.name == "Marta Kowalska"
    assert doc.resume.basics.phone == "+48 600 100 200"
    assert [(w.position, w.name, w.startDate) for w in doc.resume.work] == [
        ("Data Engineer", "Vistula Logistics", "2019")
    ]


def test_pdf_with_a_user_password_is_refused(cv_pdf: bytes) -> None:
    exc = _refused(encrypted(cv_pdf, "secret"), EncryptedDocument)
    assert "password" in exc.message


@pytest.mark.parametrize("algorithm", [None, "AES-256"])
def test_pdf_encrypted_with_an_empty_user_password_still_extracts(cv_pdf: bytes, algorithm: str | None) -> None:
    doc = extract_document(encrypted(cv_pdf, "", algorithm))
    assert doc.resume.basics.email == "marta.kowalska@example.org"


def test_image_only_pdf_has_no_text_layer() -> None:
    png = base64.b64encode(_png()).decode()
    exc = _refused(html_pdf(f'<img src="data:image/png;base64,{png}" style="width:400px">'), NoTextLayer)
    assert "DOCX" in exc.message and "text" in exc.message


def test_drawing_only_pdf_has_no_text_layer() -> None:
    svg = (
        '<svg width="300" height="200"><rect width="300" height="200" fill="#036"/>'
        '<circle cx="50" cy="50" r="40"/></svg>'
    )
    _refused(html_pdf(f"<div>{svg}</div>"), NoTextLayer)


@pytest.mark.parametrize("fraction", [0.1, 0.5, 0.9])
def test_truncated_pdf_is_corrupt(cv_pdf: bytes, fraction: float) -> None:
    exc = _refused(cv_pdf[: int(len(cv_pdf) * fraction)], CorruptDocument)
    assert "damaged" in exc.message


def test_garbage_after_pdf_magic_is_corrupt() -> None:
    _refused(b"%PDF-1.7\n" + os.urandom(4096), CorruptDocument)


def test_too_many_pages_is_refused_before_reading_them() -> None:
    body = "".join(f'<p style="break-after: page">Page {i} of the CV of Marta Kowalska</p>' for i in range(25))
    data = html_pdf(f"<html><body>{body}</body></html>")
    exc = _refused(data, TooManyPages, max_pages=20)
    assert "25" in exc.message and "20" in exc.message
    assert extract_document(data, max_pages=25).pages == 25


@pytest.mark.parametrize(
    "data",
    [b"", b"   \n\n \t ", b"Hi there", "\ufeff  \n".encode(), b"# CV\n\n- a\n- b\n"],
    ids=["nothing", "whitespace", "a greeting", "bom only", "markdown skeleton"],
)
def test_empty_documents(data: bytes) -> None:
    if data:
        _refused(data, EmptyDocument)
    else:
        _refused(data, UnsupportedDocument)


def test_empty_docx_is_empty() -> None:
    from docx import Document

    from tests.documents.builders import docx_bytes

    _refused(docx_bytes(Document()), EmptyDocument)


@pytest.mark.parametrize(
    ("data", "hint"),
    [
        (_png(), "PNG"),
        (b"\xff\xd8\xff\xe0\x00\x10JFIF\x00" + bytes(64), "JPEG"),
        (b"MZ\x90\x00\x03\x00\x00\x00\x04\x00" + bytes(200), "program"),
        (b"\x7fELF\x02\x01\x01" + bytes(100), "program"),
        (b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + bytes(512), ".doc"),
        (b"{\\rtf1\\ansi Marta Kowalska}", "RTF"),
        (zip_bytes({"notes.txt": b"hello", "photo.jpg": b"\xff\xd8\xff"}), "ZIP"),
        (zip_bytes({"mimetype": b"application/vnd.oasis.opendocument.text", "content.xml": b"<x/>"}), "OpenDocument"),
        (os.urandom(2048) + b"\x00", "neither"),
        (bytes(range(0x80, 0x100)) * 8, "readable"),
    ],
    ids=["png", "jpeg", "exe", "elf", "ole-doc", "rtf", "zip", "odt", "random", "high-bytes"],
)
def test_unsupported_types(data: bytes, hint: str) -> None:
    exc = _refused(data, UnsupportedDocument)
    if hint != "neither":
        assert hint in exc.message
    with pytest.raises(UnsupportedDocument):
        detect_kind(data)


def test_windows_1252_text_is_read() -> None:
    data = "Zoë Müller – Café Engineer\nExperience\n• Built “smart” pipelines at Bäckerei GmbH, 2019–2021\n".encode(
        "cp1252"
    )
    with pytest.raises(UnicodeDecodeError):
        data.decode("utf-8")
    assert detect_kind(data) is DocumentKind.TEXT
    assert "Zoë Müller – Café Engineer" in extract_document(data).text


def test_detection_uses_content_not_names(cv_pdf: bytes) -> None:
    assert detect_kind(cv_pdf) is DocumentKind.PDF
    assert detect_kind(b"   \n" + b"Marta Kowalska\nData Engineer") is DocumentKind.TEXT
    assert detect_kind(b"# Marta Kowalska\n\n## Experience\n") is DocumentKind.MARKDOWN
    assert detect_kind(b"Marta **Kowalska**") is DocumentKind.MARKDOWN
    assert detect_kind(b"Marta Kowalska\n- Python\n- SQL\n") is DocumentKind.TEXT  # dashes alone are plain text
    assert detect_kind("Marta Kowalska\n".encode("utf-16")) is DocumentKind.TEXT
    assert detect_kind(b'{"basics": {"name": "Marta"}}') is DocumentKind.JSON_RESUME
    assert detect_kind(b"\xef\xbb\xbf" + b'  {"work": []}') is DocumentKind.JSON_RESUME
    assert detect_kind(b"[Marta Kowalska](https://example.org)\n# CV") is DocumentKind.MARKDOWN


def test_damaged_zip_that_was_a_docx_is_corrupt() -> None:
    from docx import Document

    from tests.documents.builders import docx_bytes

    document = Document()
    document.add_paragraph("Marta Kowalska, Data Engineer at Vistula Logistics since 2019")
    data = docx_bytes(document)
    _refused(data[: len(data) // 2], CorruptDocument)
    _refused(b"PK\x03\x04" + os.urandom(200), UnsupportedDocument)


def test_docx_with_broken_xml_is_corrupt() -> None:
    _refused(
        zip_bytes({"[Content_Types].xml": b"<Types/>", "word/document.xml": b"<w:document><w:body>"}), CorruptDocument
    )


def test_docx_with_a_dtd_is_refused() -> None:
    xml = (
        b'<?xml version="1.0"?><!DOCTYPE lolz [<!ENTITY lol "lol">]>'
        b'<w:document xmlns:w="http://schemas.openxmlformats.org/wordprocessingml/2006/main"><w:body/></w:document>'
    )
    _refused(zip_bytes({"word/document.xml": xml}), CorruptDocument)


def test_docx_zip_bombs_are_refused() -> None:
    document = (
        b'<w:document xmlns:w="http://schemas.openxmlformats.org/wordprocessingml/2006/main"><w:body><w:p><w:r>'
        b"<w:t>Marta Kowalska, Data Engineer at Vistula Logistics</w:t></w:r></w:p></w:body></w:document>"
    )
    huge = zip_bytes({"word/document.xml": document, "word/media/filler.bin": bytes(51 * 1024 * 1024)})
    assert len(huge) < 1024 * 1024
    exc = _refused(huge, CorruptDocument)
    assert "50 MB" in exc.message
    dense = zip_bytes({"word/document.xml": document, "word/media/filler.bin": bytes(3 * 1024 * 1024)})
    _refused(dense, CorruptDocument)
    stored = zip_bytes({"word/document.xml": document}, compression=zipfile.ZIP_STORED)
    assert extract_document(stored).text == "Marta Kowalska, Data Engineer at Vistula Logistics"


def test_json_resume_against_the_schema() -> None:
    exc = _refused(json.dumps({"basics": {"name": "Marta"}, "work": "oops"}).encode(), InvalidJsonResume)
    assert "$.work" in exc.message and "must be a list" in exc.message
    exc = _refused(json.dumps({"work": [{"name": "Vistula", "startDate": "March 2019"}]}).encode(), InvalidJsonResume)
    assert "$.work[0].startDate" in exc.message and "2020-06" in exc.message
    assert "March 2019" not in exc.message  # the message never quotes the CV
    exc = _refused(json.dumps({"basics": {"profiles": {"network": "x"}}}).encode(), InvalidJsonResume)
    assert "$.basics.profiles" in exc.message
    exc = _refused(b'{"basics": {"name": "Marta",}}', InvalidJsonResume)
    assert "line 1" in exc.message


def test_json_that_is_not_a_resume_is_unsupported() -> None:
    _refused(b"[1, 2, 3]", UnsupportedDocument)
    _refused(b'{"title": "Web Developer", "company": "Microsoft"}', UnsupportedDocument)
    _refused((CORPUS / "jsonresume-sample.job.json").read_bytes(), UnsupportedDocument)


def test_json_resume_with_no_content_is_empty() -> None:
    _refused(b'{"basics": {"name": "Marta"}}', EmptyDocument)


def test_hostile_inputs_are_refused_or_read_quickly() -> None:
    _refused(b'{"basics":' * 50_000, UnsupportedDocument)
    for payload in ("**a " * 20_000, "[a](" * 20_000, "1 " * 50_000, "x" * 300_000):
        started = time.perf_counter()
        extract_document(("Marta Kowalska\n" + payload).encode())
        assert time.perf_counter() - started < 5
