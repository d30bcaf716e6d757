"""Uploading CVs: every accepted format, and a specific answer for every bad file."""

from __future__ import annotations

import json

import pytest

from tests.conftest import CORPUS, SAMPLES, Stack
from tests.files import PNG_BYTES, docx_cv, encrypted_pdf, html_pdf, image_only_pdf, many_pages_pdf


@pytest.mark.parametrize(
    ("name", "kind", "expected_name"),
    [
        ("jane-doe-cv.md", "markdown", "Jane Doe"),
        ("jsonresume-sample.resume.json", "json_resume", "Richard Hendriks"),
        ("rendercv-classic.pdf", "pdf", "John Doe"),
    ],
)
async def test_upload_accepted_formats(stack: Stack, name: str, kind: str, expected_name: str) -> None:
    headers = await stack.user()
    path = SAMPLES / name if (SAMPLES / name).exists() else CORPUS / name
    data = path.read_bytes()
    # Named as something else on purpose: the type comes from the content.
    cv = await stack.upload(headers, "upload.bin", data)
    assert cv["kind"] == kind
    assert cv["resume"]["basics"]["name"] == expected_name
    assert cv["size_bytes"] == len(data)

    listed = (await stack.http.get("/cvs", headers=headers)).json()
    assert [c["id"] for c in listed] == [cv["id"]]
    got = await stack.http.get(f"/cvs/{cv['id']}", headers=headers)
    assert got.json()["resume"] == cv["resume"]
    file = await stack.http.get(f"/cvs/{cv['id']}/file", headers=headers)
    assert file.content == data

    assert (await stack.http.delete(f"/cvs/{cv['id']}", headers=headers)).status_code == 204
    assert (await stack.http.get(f"/cvs/{cv['id']}", headers=headers)).status_code == 404
    assert (await stack.http.get(f"/cvs/{cv['id']}/file", headers=headers)).status_code == 404


async def test_upload_docx_with_table(stack: Stack) -> None:
    headers = await stack.user()
    cv = await stack.upload(headers, "cv.docx", docx_cv())
    assert cv["kind"] == "docx"
    text = json.dumps(cv["resume"], ensure_ascii=False)
    assert "Łukasz Nowak" in text and "Wisła Software" in text


def _problem(r: object, status: int, code: str) -> str:
    assert r.status_code == status, r.text  # type: ignore[attr-defined]
    assert r.headers["content-type"].startswith("application/problem+json")  # type: ignore[attr-defined]
    body = r.json()  # type: ignore[attr-defined]
    assert body["code"] == code, body
    return str(body["detail"])


@pytest.mark.parametrize(
    ("status", "code", "make", "words"),
    [
        (415, "unsupported_type", lambda: PNG_BYTES, ""),
        (415, "unsupported_type", lambda: b"MZ\x90\x00" + b"\x00" * 100, ""),
        (422, "encrypted", encrypted_pdf, "password"),
        (422, "corrupt", lambda: b"%PDF-1.7\n" + b"\x00garbage" * 50, ""),
        (422, "no_text_layer", image_only_pdf, "text"),
        (422, "too_many_pages", lambda: many_pages_pdf(21), "20"),
        (422, "empty", lambda: b"   \n\n  ", ""),
        (422, "invalid_json_resume", lambda: json.dumps({"basics": {"name": "X"}, "work": "oops"}).encode(), "work"),
    ],
)
async def test_bad_files_get_specific_problems(stack: Stack, status: int, code: str, make: object, words: str) -> None:
    headers = await stack.user()
    r = await stack.http.post("/cvs", headers=headers, files={"file": ("cv.pdf", make())})  # type: ignore[operator]
    detail = _problem(r, status, code)
    assert words.lower() in detail.lower()
    # Nothing half-saved.
    assert (await stack.http.get("/cvs", headers=headers)).json() == []


async def test_too_large_upload_is_refused(stack: Stack) -> None:
    headers = await stack.user()
    big = b"%PDF-1.7\n" + b"0" * (stack.settings.max_upload_bytes + 1)
    r = await stack.http.post("/cvs", headers=headers, files={"file": ("cv.pdf", big)})
    assert "5 MB" in _problem(r, 413, "file_too_large")
    huge = b"x" * (stack.settings.max_upload_bytes + 200_000)
    r = await stack.http.post("/cvs", headers=headers, files={"file": ("cv.txt", huge)})
    _problem(r, 413, "file_too_large")


async def test_another_users_cv_is_not_found(stack: Stack) -> None:
    owner, other = await stack.user(), await stack.user()
    cv = await stack.upload(owner, "cv.pdf", html_pdf())
    for method, path in (("GET", f"/cvs/{cv['id']}"), ("GET", f"/cvs/{cv['id']}/file"), ("DELETE", f"/cvs/{cv['id']}")):
        r = await stack.http.request(method, path, headers=other)
        _problem(r, 404, "not_found")
    r = await stack.http.post(f"/cvs/{cv['id']}/improvements", headers=other, json={"position": "Engineer"})
    _problem(r, 404, "not_found")
    assert (await stack.http.get(f"/cvs/{cv['id']}", headers=owner)).status_code == 200
