"""The theme catalogue with its previews, and downloading an improved CV as PDF, DOCX or JSON Resume."""

from __future__ import annotations

import io
from typing import Any, cast

import docx
import pytest
from PIL import Image

from activities.documents import extract_document
from tests.conftest import SAMPLES, Stack
from tests.rendering.pdf_text import missing, page_sizes, pdftotext

DOCX_TYPE = "application/vnd.openxmlformats-officedocument.wordprocessingml.document"
TARGET = {
    "position": "Senior Backend Engineer",
    "job_description": (SAMPLES / "job-senior-backend.txt").read_text(),
    "output_language": "de",
    "theme": "compact",
    "paper": "Letter",
    "max_pages": 1,
}


@pytest.fixture(scope="module")
async def finished(stack: Stack) -> tuple[dict[str, str], dict[str, Any]]:
    """A completed improvement in German, theme compact, on Letter: (owner's headers, its status body)."""
    headers = await stack.user()
    cv = await stack.upload(headers, "jane.md", (SAMPLES / "jane-doe-cv.md").read_bytes())
    r = await stack.http.post(f"/cvs/{cv['id']}/improvements", headers=headers, json=TARGET)
    assert r.status_code == 202, r.text
    body = await stack.wait_finished(headers, r.json()["improvement_id"])
    assert body["stage"] == "completed", body
    return headers, body


async def test_the_catalogue_lists_every_theme_with_its_traits_and_preview(stack: Stack) -> None:
    r = await stack.http.get("/themes")
    assert r.status_code == 200
    themes = {t["name"]: t for t in r.json()}
    assert {"classic", "modern", "compact", "ats"} <= set(themes)
    for name, theme in themes.items():
        assert theme["title"] and theme["description"]
        assert theme["preview_url"] == f"/themes/{name}/preview.png"
    assert [n for n, t in themes.items() if t["two_column"]] == ["compact"]
    assert themes["ats"]["ats_friendly"] and not themes["compact"]["ats_friendly"]


async def test_a_preview_is_page_one_of_a_sample_cv_as_a_png(stack: Stack) -> None:
    r = await stack.http.get("/themes/compact/preview.png")
    assert r.status_code == 200, r.text
    assert r.headers["content-type"] == "image/png"
    image = Image.open(io.BytesIO(r.content))
    assert image.format == "PNG"
    assert image.width == 640 and abs(image.height - 640 * 842 / 595) <= 1  # A4, portrait
    darkest, lightest = cast(tuple[int, int], image.convert("L").getextrema())
    assert darkest < 80 and lightest == 255  # dark text on white paper, not a blank page

    again = await stack.http.get("/themes/compact/preview.png", headers={"If-None-Match": r.headers["etag"]})
    assert again.status_code == 304 and again.content == b""
    other = await stack.http.get("/themes/ats/preview.png")
    assert other.status_code == 200 and other.content != r.content


async def test_an_unknown_theme_has_no_preview(stack: Stack) -> None:
    r = await stack.http.get("/themes/neon/preview.png")
    assert r.status_code == 404
    assert r.headers["content-type"] == "application/problem+json"
    assert r.json()["code"] == "unknown_theme" and "compact" in r.json()["detail"]


async def test_the_page_limit_is_kept_with_the_target(
    stack: Stack, finished: tuple[dict[str, str], dict[str, Any]]
) -> None:
    headers, body = finished
    assert body["target"]["max_pages"] == 1
    r = await stack.http.post(f"/cvs/{body['cv_id']}/improvements", headers=headers, json={**TARGET, "max_pages": 3})
    assert r.status_code == 422 and "max_pages" in r.json()["detail"]


async def test_docx_export_reads_back_to_the_improved_cv(
    stack: Stack, finished: tuple[dict[str, str], dict[str, Any]]
) -> None:
    headers, body = finished
    r = await stack.http.get(f"/improvements/{body['id']}/export?format=docx", headers=headers)
    assert r.status_code == 200, r.text
    assert r.headers["content-type"] == DOCX_TYPE
    assert r.headers["content-disposition"] == f'attachment; filename="cv-{body["id"]}.docx"'

    improved = body["result"]
    extracted = extract_document(r.content)
    assert extracted.resume.basics.name == improved["basics"]["name"] == "Jane Doe"
    assert [(w.name, w.position, w.startDate) for w in extracted.resume.work] == [
        (w["name"], w["position"], w["startDate"]) for w in improved["work"]
    ]
    assert [len(w.highlights) for w in extracted.resume.work] == [len(w["highlights"]) for w in improved["work"]]
    # Headings in the improvement's output language; the improvement's paper unless another is asked for.
    assert missing(["Berufserfahrung", "Ausbildung", "Kenntnisse"], extracted.text) == []
    section = docx.Document(io.BytesIO(r.content)).sections[0]
    assert section.page_width is not None and section.page_width.twips == 12240  # Letter
    a4 = await stack.http.get(f"/improvements/{body['id']}/export?format=docx&paper=A4", headers=headers)
    a4_section = docx.Document(io.BytesIO(a4.content)).sections[0]
    assert a4_section.page_width is not None and a4_section.page_width.twips == 11906


async def test_json_and_pdf_exports_are_attachments(
    stack: Stack, finished: tuple[dict[str, str], dict[str, Any]]
) -> None:
    headers, body = finished
    iid = body["id"]
    r = await stack.http.get(f"/improvements/{iid}/export?format=json", headers=headers)
    assert r.status_code == 200 and r.json() == body["result"]
    assert r.headers["content-disposition"] == f'attachment; filename="resume-{iid}.json"'

    r = await stack.http.get(f"/improvements/{iid}/export", headers=headers)  # PDF when no format is given
    assert r.status_code == 200 and r.headers["content-type"] == "application/pdf"
    assert r.headers["content-disposition"] == f'attachment; filename="cv-{iid}.pdf"'
    assert page_sizes(r.content)[0] == (612, 792)
    assert missing(["Jane Doe", "Berufserfahrung", "Brightwave Payments"], pdftotext(r.content)) == []


async def test_exports_are_private_and_formats_are_checked(
    stack: Stack, finished: tuple[dict[str, str], dict[str, Any]]
) -> None:
    headers, body = finished
    stranger = await stack.user()
    for export_format in ("pdf", "docx", "json"):
        r = await stack.http.get(f"/improvements/{body['id']}/export?format={export_format}", headers=stranger)
        assert r.status_code == 404, (export_format, r.text)
    r = await stack.http.get(f"/improvements/{body['id']}/export?format=odt", headers=headers)
    assert r.status_code == 422
