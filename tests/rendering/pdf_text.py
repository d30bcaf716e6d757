"""Reading rendered PDFs back: text (pypdf and poppler's pdftotext), fonts, links and page sizes."""

from __future__ import annotations

import re
import shutil
import subprocess
import unicodedata
from io import BytesIO

import pytest
from pypdf import PdfReader


def squash(text: str) -> str:
    """Text for containment checks: NFKC, with no whitespace and no hyphens at all.

    The themes never hyphenate, but a line may break after a hyphen already in the text ("pg-" / "settle"),
    and pdftotext then joins the halves without it. Dropping every space and hyphen on both sides makes a
    wrapped highlight compare equal to the original.
    """
    text = unicodedata.normalize("NFKC", text)
    return re.sub(r"[\s\u00ad\u2010-]+", "", text)


def missing(expected: list[str], text: str) -> list[str]:
    """The expected strings that do not occur in `text` (whitespace and hyphenation ignored)."""
    haystack = squash(text)
    return [s for s in expected if squash(s) not in haystack]


def pypdf_text(pdf: bytes) -> str:
    return "\n".join(page.extract_text() or "" for page in PdfReader(BytesIO(pdf)).pages)


def _poppler(tool: str, *args: str, pdf: bytes) -> str:
    executable = shutil.which(tool)
    if executable is None:
        pytest.skip(f"{tool} (poppler-utils) is not installed: run scripts/install-system-deps.sh")
    result = subprocess.run([executable, *args, "-"], input=pdf, capture_output=True, check=True, timeout=60)
    return result.stdout.decode("utf-8")


def pdftotext(pdf: bytes) -> str:
    """poppler's reading of the PDF: it also decodes the custom CMaps that pypdf gets wrong."""
    return _poppler("pdftotext", "-enc", "UTF-8", "-", pdf=pdf)


def pdffonts(pdf: bytes) -> str:
    return _poppler("pdffonts", pdf=pdf)


def page_sizes(pdf: bytes) -> list[tuple[int, int]]:
    """Every page's media box in whole PDF points."""
    return [(round(float(p.mediabox.width)), round(float(p.mediabox.height))) for p in PdfReader(BytesIO(pdf)).pages]


def link_targets(pdf: bytes) -> list[str]:
    """The URI of every link annotation in the PDF."""
    uris: list[str] = []
    for page in PdfReader(BytesIO(pdf)).pages:
        for ref in page.get("/Annots") or []:
            action = ref.get_object().get("/A")
            if action is not None and "/URI" in action:
                uris.append(str(action["/URI"]))
    return uris
