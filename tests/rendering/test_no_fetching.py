"""Rendering never fetches anything: CV content cannot make the server request a URL or read a file."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from io import BytesIO

import pytest
from pypdf import PdfReader

from activities.rendering import html_to_pdf, list_themes, render_html, render_pdf
from models.resume import Resume
from models.target import PaperSize
from tests.rendering.pdf_text import missing, pdftotext

THEMES = [t.name for t in list_themes()]
# 1x1 PNG: if a data: image were decoded it would be drawn; the fetcher refuses data: URLs as well.
PNG_DATA_URL = (
    "data:image/png;base64,"
    "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mP8z8BQDwAEhQGAhKmMIQAAAABJRU5ErkJggg=="
)


class _Recorder(ThreadingHTTPServer):
    def __init__(self) -> None:
        super().__init__(("127.0.0.1", 0), _CountingHandler)
        self.paths: list[str] = []

    @property
    def base(self) -> str:
        return f"http://127.0.0.1:{self.server_address[1]}"


class _CountingHandler(BaseHTTPRequestHandler):
    server: _Recorder

    def _answer(self) -> None:
        self.server.paths.append(self.path)
        body = b"body { background: red }"
        self.send_response(200)
        self.send_header("Content-Type", "text/css")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    do_GET = do_HEAD = do_POST = _answer

    def log_message(self, format: str, *args: object) -> None:
        pass


@pytest.fixture
def recorder() -> Iterator[_Recorder]:
    """A local HTTP server that counts every request that reaches it."""
    server = _Recorder()
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield server
    finally:
        server.shutdown()
        server.server_close()


def _hostile_strings(base: str) -> list[str]:
    return [
        f'<img src="{base}/img.png">',
        f'<link rel="stylesheet" href="{base}/style.css">',
        f"<style>@import url({base}/import.css); body {{ background: url({base}/bg.png) }}</style>",
        f'<div style="background-image: url({base}/inline.png)">x</div>',
        '<img src="file:///etc/passwd">',
        '<link rel="attachment" href="file:///etc/passwd">',
        "<script>alert(1)</script>",
        f'<svg><image href="{base}/svg.png"/></svg>',
        f'<object data="{base}/object.pdf"></object>',
    ]


def _hostile_resume(base: str) -> Resume:
    hostile = _hostile_strings(base)
    return Resume.model_validate(
        {
            "basics": {
                "name": hostile[0],
                "label": hostile[1],
                "summary": " ".join(hostile[2:5]),
                "url": f"{base}/profile",
                "image": f"{base}/photo.jpg",
                "profiles": [{"network": "Web", "url": "file:///etc/passwd"}],
            },
            "work": [
                {
                    "name": hostile[5],
                    "position": hostile[6],
                    "url": "javascript:alert(1)",
                    "highlights": hostile[7:],
                }
            ],
        }
    )


@pytest.mark.parametrize("theme", THEMES)
def test_markup_in_a_cv_is_printed_as_text_and_fetches_nothing(recorder: _Recorder, theme: str) -> None:
    pdf = render_pdf(_hostile_resume(recorder.base), theme=theme, paper=PaperSize.A4, language="en").pdf

    assert recorder.paths == []
    assert missing(_hostile_strings(recorder.base), pdftotext(pdf)) == []
    assert PdfReader(BytesIO(pdf)).attachments == {}


@pytest.mark.parametrize("theme", THEMES)
def test_markup_in_a_cv_is_escaped_in_the_html(recorder: _Recorder, theme: str) -> None:
    html = render_html(_hostile_resume(recorder.base), theme=theme, paper=PaperSize.A4, language="en")

    assert "<script>" not in html
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html
    assert "<img" not in html
    assert 'href="javascript:' not in html
    assert 'href="file:' not in html


def test_raw_html_references_are_never_fetched(recorder: _Recorder) -> None:
    """html_to_pdf on markup nobody escaped: every kind of reference WeasyPrint knows is refused."""
    base = recorder.base
    html = f"""<!DOCTYPE html>
<html><head>
<link rel="stylesheet" href="{base}/link.css">
<link rel="attachment" href="file:///etc/passwd">
<link rel="attachment" href="{base}/attachment.bin">
<style>
  @import url({base}/import.css);
  @font-face {{ font-family: Remote; src: url({base}/font.woff2); }}
  body {{ font-family: Remote, sans-serif; background: url({base}/background.png); }}
  li {{ list-style-image: url({base}/bullet.png); }}
</style>
</head><body>
<p>Still rendered.</p>
<img src="{base}/image.png"> <img src="file:///etc/passwd"> <img src="ftp://127.0.0.1/x.png">
<img src="{PNG_DATA_URL}">
<object data="{base}/object.svg" type="image/svg+xml"></object>
<embed src="{base}/embed.svg" type="image/svg+xml">
<svg width="10" height="10"><image href="{base}/svg-image.png" width="10" height="10"/></svg>
<div style="background-image: url({base}/inline.png)">inline</div>
<ul><li>item</li></ul>
<a rel="attachment" href="file:///etc/passwd">passwd</a>
</body></html>"""

    pdf = html_to_pdf(html)

    assert recorder.paths == []
    reader = PdfReader(BytesIO(pdf))
    assert reader.attachments == {}
    assert "Still rendered." in (reader.pages[0].extract_text() or "")
    assert b"/Subtype /Image" not in pdf and b"/Subtype/Image" not in pdf


def test_the_standalone_html_renders_the_same_cv(realistic_resume: Resume) -> None:
    """render_html's page carries its stylesheet inline, so html_to_pdf alone gives the themed PDF."""
    html = render_html(realistic_resume, theme="modern", paper=PaperSize.LETTER, language="en")
    pdf = html_to_pdf(html)
    reader = PdfReader(BytesIO(pdf))
    assert len(reader.pages) == 2
    assert (round(float(reader.pages[0].mediabox.width)), round(float(reader.pages[0].mediabox.height))) == (
        612,
        792,
    )
    assert missing(["Jane Marie Doe", "Northwind Payments Ltd"], pdftotext(pdf)) == []
