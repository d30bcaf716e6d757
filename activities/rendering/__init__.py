"""CV -> PDF: Jinja2 themes rendered by WeasyPrint in warm child processes, with every URL fetch refused.

Importing this package is cheap: WeasyPrint is imported by the first render in a process, python-docx by
`activities.rendering.docx_export` (not imported here, so render processes never load it).
"""

from .html import render_html
from .i18n import LABELS, Labels
from .pdf import PAGE_LIMITS, FetchRefused, RenderedPdf, html_to_pdf, render_pdf
from .previews import theme_preview_png
from .renderer import PdfRenderer
from .themes import ThemeInfo, UnknownTheme, list_themes, validate_theme

__all__ = [
    "LABELS",
    "PAGE_LIMITS",
    "FetchRefused",
    "Labels",
    "PdfRenderer",
    "RenderedPdf",
    "ThemeInfo",
    "UnknownTheme",
    "html_to_pdf",
    "list_themes",
    "render_html",
    "render_pdf",
    "theme_preview_png",
    "validate_theme",
]
