"""Theme previews: page one of a built-in sample CV (preview_cv.json) in each theme, as a PNG.

Made on the first request for any preview, every theme at once, in one short-lived spawned child process: the
API process never loads WeasyPrint or PDFium, and its event loop only waits. The PNGs are then kept for the life
of the process (a few hundred KB in all); the themes are package files, so they cannot change meanwhile.
"""

from __future__ import annotations

import asyncio
import io
import multiprocessing
import os
import threading
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

from models.resume import Resume
from models.target import PaperSize

from .pdf import render_pdf
from .themes import list_themes, validate_theme

PREVIEW_CV = Path(__file__).with_name("preview_cv.json")
PREVIEW_WIDTH_PX = 640
PREVIEW_TIMEOUT_SECONDS = 120.0
_NICENESS = 5  # below the API's event loop, like the render processes


def pdf_page_png(pdf: bytes, *, width: int, page: int = 0) -> bytes:
    """One page of a PDF rasterised to a PNG `width` pixels wide, on a white background."""
    import pypdfium2 as pdfium  # only where previews are made: the API process never imports it

    document = pdfium.PdfDocument(pdf)
    try:
        pdf_page = document[page]
        try:
            image = pdf_page.render(scale=width / pdf_page.get_width()).to_pil()
        finally:
            pdf_page.close()
    finally:
        document.close()
    out = io.BytesIO()
    image.save(out, format="PNG", optimize=True)
    return out.getvalue()


def render_previews(names: tuple[str, ...]) -> dict[str, bytes]:
    """The preview PNG of each named theme, rendered in this process."""
    resume = Resume.model_validate_json(PREVIEW_CV.read_text(encoding="utf-8"))
    previews: dict[str, bytes] = {}
    for name in names:
        pdf = render_pdf(resume, theme=name, paper=PaperSize.A4, language="en").pdf
        previews[name] = pdf_page_png(pdf, width=PREVIEW_WIDTH_PX)
    return previews


def _lower_priority() -> None:
    os.nice(_NICENESS)


class ThemePreviews:
    """A process-wide cache of preview PNGs, filled on first use. Safe from any thread and any event loop."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._cache: dict[str, bytes] = {}

    async def png(self, name: str) -> bytes:
        """The preview of theme `name`; raises UnknownTheme for a name that is not shipped."""
        validate_theme(name)
        cached = self._cache.get(name)
        if cached is not None:
            return cached
        return await asyncio.to_thread(self._fill, name)

    def _fill(self, name: str) -> bytes:
        with self._lock:  # concurrent first requests wait for one child instead of starting one each
            if name not in self._cache:
                missing = tuple(t.name for t in list_themes() if t.name not in self._cache)
                context = multiprocessing.get_context("spawn")  # never fork a process running an event loop
                with ProcessPoolExecutor(max_workers=1, mp_context=context, initializer=_lower_priority) as pool:
                    made = pool.submit(render_previews, missing).result(timeout=PREVIEW_TIMEOUT_SECONDS)
                self._cache.update(made)
            return self._cache[name]


THEME_PREVIEWS = ThemePreviews()


async def theme_preview_png(name: str) -> bytes:
    """The preview PNG of a theme, from this process's cache (made on first use)."""
    return await THEME_PREVIEWS.png(name)
