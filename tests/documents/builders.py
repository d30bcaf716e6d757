"""Documents made on the fly for the extraction tests: PDFs through WeasyPrint, DOCX through python-docx, and
broken or hostile files."""

from __future__ import annotations

import io
import re
import zipfile
from collections.abc import Iterator
from functools import cache
from pathlib import Path
from typing import Any

from pypdf import PdfReader, PdfWriter

from activities.documents import ExtractedDocument, extract_document
from models.resume import Resume

CORPUS = Path(__file__).resolve().parents[3] / "shared" / "corpus"
SAMPLES = Path(__file__).resolve().parents[2] / "samples"

PAGE_STYLE = "@page { size: A4; margin: 0 } body { margin: 0; font: 10pt 'DejaVu Sans'; }"


@cache
def corpus_document(name: str) -> ExtractedDocument:
    """A corpus file extracted once per test session."""
    return extract_document((CORPUS / name).read_bytes())


def html_pdf(html: str) -> bytes:
    from weasyprint import HTML

    return bytes(HTML(string=html).write_pdf())


def positioned_pdf(lines: list[tuple[float, float, str]], *, extra_style: str = "") -> bytes:
    """A one-page PDF with each text at (x, y) in CSS pixels, written in the given order: the content stream
    order is then whatever the list says, not the reading order."""
    divs = "".join(
        f'<div style="position:absolute; left:{x}px; top:{y}px; white-space:nowrap">{text}</div>'
        for x, y, text in lines
    )
    return html_pdf(f"<html><head><style>{PAGE_STYLE}{extra_style}</style></head><body>{divs}</body></html>")


def encrypted(pdf: bytes, user_password: str, algorithm: str | None = None) -> bytes:
    writer = PdfWriter(clone_from=PdfReader(io.BytesIO(pdf)))
    writer.encrypt(user_password=user_password, owner_password="owner-password", algorithm=algorithm)
    out = io.BytesIO()
    writer.write(out)
    return out.getvalue()


def docx_bytes(document: Any) -> bytes:
    out = io.BytesIO()
    document.save(out)
    return out.getvalue()


def zip_bytes(entries: dict[str, bytes], compression: int = zipfile.ZIP_DEFLATED) -> bytes:
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", compression=compression) as archive:
        for name, data in entries.items():
            archive.writestr(name, data)
    return out.getvalue()


# The property every parse must keep: no string in the Resume that the text does not contain.
DATE_FIELDS = frozenset({"startDate", "endDate", "date", "releaseDate"})
ISO_DATE = re.compile(r"^(?:19|20)\d{2}(?:-(?:0[1-9]|1[0-2])(?:-(?:0[1-9]|[12]\d|3[01]))?)?$")


def _squash(text: str) -> str:
    return re.sub(r"\s+", " ", text).strip()


def strings(value: Any, path: str = "$") -> Iterator[tuple[str, str, str]]:
    """(path, key, string) for every string in a dumped Resume."""
    if isinstance(value, dict):
        for key, item in value.items():
            for found in strings(item, f"{path}.{key}"):
                yield found if found[1] else (found[0], key, found[2])
    elif isinstance(value, list):
        for index, item in enumerate(value):
            yield from strings(item, f"{path}[{index}]")
    elif isinstance(value, str):
        yield path, "", value


def invented_strings(resume: Resume, text: str) -> list[str]:
    """Strings of `resume` that do not come from `text`: dates must be ISO and their year in the text, the
    network of a profile may differ in case, everything else must be a piece of the text."""
    flat = _squash(text)
    lowered = flat.lower()
    bad: list[str] = []
    for path, key, value in strings(resume.model_dump(mode="json", exclude_none=True)):
        if key in DATE_FIELDS:
            if not ISO_DATE.match(value) or value[:4] not in text:
                bad.append(f"{path}={value!r}")
            continue
        for piece in value.split("\n"):
            piece = _squash(piece)
            if not piece:
                continue
            found = piece.lower() in lowered if key == "network" else piece in flat
            if not found:
                bad.append(f"{path}={piece!r}")
    return bad
