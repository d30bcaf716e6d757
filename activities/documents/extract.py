"""One call from uploaded bytes to text and a Resume."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass

from activities.documents.detect import DocumentKind, decode_text, detect_kind
from activities.documents.docx import read_docx
from activities.documents.errors import EmptyDocument
from activities.documents.json_resume import read_json_resume
from activities.documents.normalize import SourceLine, lines_to_text, meaningful_length, tidy_lines
from activities.documents.parse import parse_lines
from activities.documents.pdf import read_pdf
from activities.documents.text import read_markdown, read_plain_text
from models.resume import Resume, resume_to_text

# Fewer letters and digits than this is no CV: a blank page, a lone heading, a stray name.
_MIN_CONTENT = 20


@dataclass(frozen=True)
class ExtractedDocument:
    kind: DocumentKind
    text: str  # normalised plain text in reading order
    resume: Resume
    pages: int  # 1 for documents without pages
    sha256: str  # of the uploaded bytes: the extraction cache key


def extract_document(data: bytes, *, max_pages: int = 20) -> ExtractedDocument:
    """Detect the kind of `data` by content, extract its text and parse it into a Resume.

    Raises a DocumentError subclass (UnsupportedDocument, EncryptedDocument, CorruptDocument, NoTextLayer,
    TooManyPages, EmptyDocument, InvalidJsonResume) whose `message` can be shown to the user as it is.
    """
    kind = detect_kind(data)
    digest = hashlib.sha256(data).hexdigest()
    if kind is DocumentKind.JSON_RESUME:
        resume = read_json_resume(decode_text(data))
        text = resume_to_text(resume)
        _require_content(text)
        return ExtractedDocument(kind, text, resume, 1, digest)
    pages = 1
    lines: list[SourceLine]
    if kind is DocumentKind.PDF:
        content = read_pdf(data, max_pages=max_pages)
        lines, pages = content.lines, content.pages
    elif kind is DocumentKind.DOCX:
        lines = read_docx(data)
    elif kind is DocumentKind.MARKDOWN:
        lines = read_markdown(decode_text(data))
    else:
        lines = read_plain_text(decode_text(data))
    lines = tidy_lines(lines)
    text = lines_to_text(lines)
    _require_content(text)
    return ExtractedDocument(kind, text, parse_lines(lines), pages, digest)


def _require_content(text: str) -> None:
    if meaningful_length(text) < _MIN_CONTENT:
        raise EmptyDocument()
