"""HTML -> PDF with WeasyPrint, in the calling process, with every URL fetch refused.

WeasyPrint is imported on first use (the import alone costs ~0.4 s). Its font configuration and the
parsed theme stylesheets are built once per process and reused by every render, so call these from one
thread per process (PdfRenderer's children do); WeasyPrint holds the GIL anyway.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, replace
from functools import cache
from typing import TYPE_CHECKING, Any, NoReturn

from models.resume import Resume
from models.target import PaperSize

from .fonts import font_group
from .html import build_html, has_content, page_css
from .themes import theme_css

if TYPE_CHECKING:  # WeasyPrint ships no type information.
    FontConfiguration = Any
    Stylesheet = Any


class FetchRefused(ValueError):
    """Raised for every resource a document asks for; WeasyPrint logs it and renders without the resource."""


# Fitting a page limit, in this order: the theme as designed; everything shrunk evenly to TIGHT_SCALE (9.5 pt
# type becomes 8.4 pt); then also without the sections recruiters read least, one at a time, kept only when
# that makes the CV fit. A CV that still does not fit keeps all its text, tightened, and reports it.
TIGHT_SCALE = 0.88
DROPPABLE_SECTIONS = ("references", "interests")
PAGE_LIMITS = (1, 2)


@dataclass(frozen=True)
class RenderedPdf:
    pdf: bytes
    pages: int
    render_ms: float  # HTML and PDF, measured where the work ran (the child process for PdfRenderer)
    max_pages: int = 2
    scale: float = 1.0  # 1.0: the theme as designed; TIGHT_SCALE: tightened to fit max_pages
    dropped_sections: tuple[str, ...] = ()  # JSON Resume keys left out to fit max_pages

    @property
    def overflows(self) -> bool:
        """More pages than asked for, even tightened: shown to the user, never fixed by cutting text."""
        return self.pages > self.max_pages

    @property
    def warnings(self) -> list[str]:
        """What the user should know about this PDF's fit, in words for them."""
        notes: list[str] = []
        limit = "one page" if self.max_pages == 1 else f"{self.max_pages} pages"
        if self.dropped_sections:
            notes.append(f"Left out to fit {limit}: {', '.join(self.dropped_sections)}.")
        if self.overflows:
            notes.append(
                f"This CV needs {self.pages} pages: it does not fit {limit} even with the tighter layout. "
                "Nothing was cut; shorten it or allow more pages."
            )
        return notes


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
def _page_stylesheet(paper: PaperSize, fonts: str, scale: float = 1.0) -> Stylesheet:
    from weasyprint import CSS

    css = page_css(paper, fonts, scale)
    return CSS(string=css, base_url=None, url_fetcher=_url_fetcher(), font_config=_font_config())


def _write_pdf(html: str, stylesheets: list[Stylesheet], zoom: float = 1.0) -> tuple[bytes, int]:
    from weasyprint import HTML

    document = HTML(string=html, base_url=None, url_fetcher=_url_fetcher()).render(
        font_config=_font_config(), stylesheets=stylesheets
    )
    pdf: bytes = document.write_pdf(zoom=zoom)
    return pdf, len(document.pages)


def html_to_pdf(html: str) -> bytes:
    """Any HTML (e.g. `render_html`'s standalone page) as a PDF; no URL in it is fetched, base_url is None."""
    return _write_pdf(html, [])[0]


def render_pdf(resume: Resume, *, theme: str, paper: PaperSize, language: str, max_pages: int = 2) -> RenderedPdf:
    """A CV as a PDF in this process, with the theme's stylesheet parsed once per process, fitted to
    `max_pages` (1 or 2) as described at TIGHT_SCALE: one render when it fits as designed, at most four."""
    if max_pages not in PAGE_LIMITS:
        raise ValueError(f"max_pages must be one of {PAGE_LIMITS}, not {max_pages!r}")
    started = time.perf_counter()
    paper = PaperSize(paper)

    def attempt(cv: Resume, scale: float, dropped: tuple[str, ...] = ()) -> RenderedPdf:
        html = build_html(cv, theme=theme, paper=paper, language=language, inline_css=False)
        # Few distinct page sheets exist (paper sizes x font groups x 2 scales): each is parsed once per process.
        sheets = [_theme_stylesheet(theme), _page_stylesheet(paper, font_group(language), scale)]
        pdf, pages = _write_pdf(html, sheets, zoom=scale)
        elapsed = (time.perf_counter() - started) * 1000
        return RenderedPdf(pdf, pages, elapsed, max_pages=max_pages, scale=scale, dropped_sections=dropped)

    designed = attempt(resume, 1.0)
    if not designed.overflows:
        return designed
    tight = attempt(resume, TIGHT_SCALE)
    if not tight.overflows:
        return tight
    shorter = resume
    dropped: tuple[str, ...] = ()
    for section in DROPPABLE_SECTIONS:
        if not has_content(getattr(shorter, section)):
            continue
        shorter, dropped = shorter.model_copy(update={section: []}), (*dropped, section)
        fitted = attempt(shorter, TIGHT_SCALE, dropped)
        if not fitted.overflows:
            return fitted
    # Leaving sections out did not make it fit, so nothing is left out: the whole CV, tightened, reported.
    return replace(tight, render_ms=(time.perf_counter() - started) * 1000)
