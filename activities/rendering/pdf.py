"""HTML -> PDF with WeasyPrint, in the calling process, with every URL fetch refused.

WeasyPrint is imported on first use (the import alone costs ~0.4 s). Its font configuration and the
parsed theme stylesheets are built once per process and reused by every render, so call these from one
thread per process (PdfRenderer's children do); WeasyPrint holds the GIL anyway.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from functools import cache
from typing import TYPE_CHECKING, Any, NoReturn

from models.resume import Resume
from models.target import PaperSize

from .fonts import font_group
from .html import build_html, page_css
from .themes import theme_css

if TYPE_CHECKING:  # WeasyPrint ships no type information.
    FontConfiguration = Any
    Stylesheet = Any


class FetchRefused(ValueError):
    """Raised for every resource a document asks for; WeasyPrint logs it and renders without the resource."""


@dataclass(frozen=True)
class RenderedPdf:
    pdf: bytes
    pages: int
    render_ms: float  # HTML and PDF, measured where the work ran (the child process for PdfRenderer)


@cache
def _url_fetcher() -> Any:
    # WeasyPrint 70 wants a URLFetcher instance: a plain function (the older API) fails in urls.fetch.
    from weasyprint import URLFetcher

    class RefuseEveryUrl(URLFetcher):  # type: ignore[misc]
        """No http(s), file, ftp or data URL is ever opened: CV content cannot make the server fetch."""

        def fetch(self, url: str, headers: object = None) -> NoReturn:
            raise FetchRefused(f"resource not loaded (rendering never fetches URLs): {url[:200]}")

    # fail_on_errors=False: a refused image or stylesheet is skipped with a warning, the PDF still renders.
    return RefuseEveryUrl(allowed_protocols=(), allow_redirects=False, fail_on_errors=False)


@cache
def _font_config() -> FontConfiguration:
    from weasyprint.text.fonts import FontConfiguration

    return FontConfiguration()


@cache
def _theme_stylesheet(theme: str) -> Stylesheet:
    from weasyprint import CSS

    return CSS(string=theme_css(theme), base_url=None, url_fetcher=_url_fetcher(), font_config=_font_config())


@cache
def _page_stylesheet(paper: PaperSize, fonts: str) -> Stylesheet:
    from weasyprint import CSS

    css = page_css(paper, fonts)
    return CSS(string=css, base_url=None, url_fetcher=_url_fetcher(), font_config=_font_config())


def _write_pdf(html: str, stylesheets: list[Stylesheet]) -> tuple[bytes, int]:
    from weasyprint import HTML

    document = HTML(string=html, base_url=None, url_fetcher=_url_fetcher()).render(
        font_config=_font_config(), stylesheets=stylesheets
    )
    pdf: bytes = document.write_pdf()
    return pdf, len(document.pages)


def html_to_pdf(html: str) -> bytes:
    """Any HTML (e.g. `render_html`'s standalone page) as a PDF; no URL in it is fetched, base_url is None."""
    return _write_pdf(html, [])[0]


def render_pdf(resume: Resume, *, theme: str, paper: PaperSize, language: str) -> RenderedPdf:
    """A CV as a PDF in this process, with the theme's stylesheet parsed once per process."""
    started = time.perf_counter()
    paper = PaperSize(paper)
    html = build_html(resume, theme=theme, paper=paper, language=language, inline_css=False)
    # Few distinct page sheets exist (paper sizes x font groups): each is parsed once per process.
    pdf, pages = _write_pdf(html, [_theme_stylesheet(theme), _page_stylesheet(paper, font_group(language))])
    return RenderedPdf(pdf=pdf, pages=pages, render_ms=(time.perf_counter() - started) * 1000)
