"""What an upload is, from its bytes alone: file names and declared content types lie."""

from __future__ import annotations

import io
import json
import re
import zipfile
import zlib
from enum import StrEnum

from activities.documents.errors import InvalidJsonResume, UnsupportedDocument

_ACCEPTED = "Upload your CV as a PDF, DOCX, plain text, Markdown or JSON Resume file."

# Top-level keys only a JSON Resume has (a JSON Resume job description shares "skills" and "meta").
_RESUME_KEYS_TEXT = (
    "basics work volunteer education awards certificates publications languages interests references projects"
)
_RESUME_KEYS = frozenset(_RESUME_KEYS_TEXT.split())

_MD_HEADING = re.compile(r"^#{1,6}[ \t]+\S", re.M)
_MD_SETEXT = re.compile(r"^[^\s#>|-][^\n]*\n(?:={3,}|-{3,})[ \t]*$", re.M)
# Spans are bounded so that a hostile line cannot make a search quadratic.
_MD_EMPHASIS = re.compile(r"(\*\*|__)(?=\S)[^\n]{1,300}?(?<=\S)\1")
_MD_LINK = re.compile(r"!?\[[^\]\n]{1,500}\]\([^)\s]{1,2000}\)")
_MD_LIST = re.compile(r"^[ \t]{0,3}[-*+][ \t]+\S", re.M)
_MD_FENCE = re.compile(r"^(```|~~~)", re.M)


class DocumentKind(StrEnum):
    PDF = "pdf"
    DOCX = "docx"
    TEXT = "text"
    MARKDOWN = "markdown"
    JSON_RESUME = "json_resume"


# Magic numbers of formats people upload by mistake, with the advice that fits each.
_KNOWN_BINARIES: tuple[tuple[bytes, str], ...] = (
    (b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1", "This is an old Word (.doc) file. Save it as DOCX or PDF and upload it."),
    (b"\x89PNG\r\n\x1a\n", "This is a PNG image. " + _ACCEPTED),
    (b"\xff\xd8\xff", "This is a JPEG image. " + _ACCEPTED),
    (b"GIF87a", "This is a GIF image. " + _ACCEPTED),
    (b"GIF89a", "This is a GIF image. " + _ACCEPTED),
    (b"II*\x00", "This is a TIFF image. " + _ACCEPTED),
    (b"MM\x00*", "This is a TIFF image. " + _ACCEPTED),
    (b"\x7fELF", "This is a program, not a document. " + _ACCEPTED),
    (b"{\\rtf", "This is an RTF file. Save it as DOCX or PDF and upload it again."),
    (b"\x1f\x8b", "This is a compressed archive. " + _ACCEPTED),
    (b"Rar!", "This is a compressed archive. " + _ACCEPTED),
    (b"7z\xbc\xaf\x27\x1c", "This is a compressed archive. " + _ACCEPTED),
)


def detect_kind(data: bytes) -> DocumentKind:
    """The kind of document in `data`, by content. Raises UnsupportedDocument for anything else, and
    InvalidJsonResume for text that is clearly meant as JSON but does not parse."""
    if not data:
        raise UnsupportedDocument("The file is empty. " + _ACCEPTED)
    if b"%PDF-" in data[:1024]:
        return DocumentKind.PDF
    if data.startswith(b"PK\x03\x04") or data.startswith(b"PK\x05\x06"):
        return _detect_zip(data)
    if data[:8].startswith(b"RIFF") and data[8:12] == b"WEBP":
        raise UnsupportedDocument("This is a WebP image. " + _ACCEPTED)
    for magic, message in _KNOWN_BINARIES:
        if data.startswith(magic):
            raise UnsupportedDocument(message)
    if data.startswith(b"MZ") and b"\x00" in data[:512]:
        raise UnsupportedDocument("This is a program, not a document. " + _ACCEPTED)
    text = decode_text(data)
    return _detect_text(text)


def _detect_zip(data: bytes) -> DocumentKind:
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            names = set(archive.namelist())
            mimetype = archive.read("mimetype")[:100] if "mimetype" in names else b""
    except (zipfile.BadZipFile, OSError, EOFError, ValueError, zlib.error, NotImplementedError, RuntimeError):
        if b"word/document.xml" in data or b"[Content_Types].xml" in data:
            return DocumentKind.DOCX  # a damaged DOCX: reading it reports it as corrupt
        raise UnsupportedDocument("This ZIP archive is damaged and is not a DOCX file. " + _ACCEPTED) from None
    if "word/document.xml" in names:
        return DocumentKind.DOCX
    if b"opendocument.text" in mimetype:
        raise UnsupportedDocument("This is an OpenDocument (.odt) file. Save it as DOCX or PDF and upload it again.")
    if "xl/workbook.xml" in names or "ppt/presentation.xml" in names:
        raise UnsupportedDocument("This is a spreadsheet or a presentation, not a CV document. " + _ACCEPTED)
    raise UnsupportedDocument("This is a ZIP archive, not a DOCX file. " + _ACCEPTED)


def decode_text(data: bytes) -> str:
    """UTF-8 (with or without BOM), UTF-16 with BOM, or Windows-1252 prose; anything else is not text we read."""
    if data.startswith(b"\xff\xfe") or data.startswith(b"\xfe\xff"):
        encoding = "utf-16"
    elif data.startswith(b"\xef\xbb\xbf"):
        encoding = "utf-8-sig"
    else:
        encoding = "utf-8"
    try:
        text = data.decode(encoding)
    except UnicodeDecodeError:
        text = _decode_windows_text(data)
    if _looks_binary(text):
        raise UnsupportedDocument("This file looks binary, not like a document. " + _ACCEPTED)
    return text


def _decode_windows_text(data: bytes) -> str:
    """Plain text saved by Windows tools in their ANSI code page (Windows-1252), which is not UTF-8. Accepted only
    when it reads as prose: mostly letters, digits, punctuation and spaces."""
    refused = UnsupportedDocument("This file is neither a supported document nor readable text. " + _ACCEPTED)
    try:
        text = data.decode("cp1252")
    except UnicodeDecodeError:
        raise refused from None
    sample = text[:8192]
    readable = sum(1 for ch in sample if ch.isalnum() or ch.isspace() or ch in _PROSE_PUNCTUATION)
    if readable < 0.9 * len(sample):
        raise refused
    return text


_PROSE_PUNCTUATION = frozenset(".,;:!?'\"()[]{}-–—/&%+*#@|•·…‘’“”€$£")


def _looks_binary(text: str) -> bool:
    sample = text[:8192]
    if "\x00" in sample:
        return True
    controls = sum(1 for ch in sample if ch < " " and ch not in "\t\n\r\f\v")
    return controls > max(2, len(sample) // 100)


def _detect_text(text: str) -> DocumentKind:
    stripped = text.strip()
    if stripped.startswith("{") or (stripped.startswith("[") and stripped.endswith("]")):
        return _detect_json(stripped)
    if _markdown_score(stripped) >= 2:
        return DocumentKind.MARKDOWN
    return DocumentKind.TEXT


def _detect_json(stripped: str) -> DocumentKind:
    try:
        value = json.loads(stripped)
    except RecursionError:
        raise UnsupportedDocument("This JSON file is nested too deeply to be a CV.") from None
    except json.JSONDecodeError as exc:
        if stripped.startswith("["):
            return DocumentKind.MARKDOWN if _markdown_score(stripped) >= 2 else DocumentKind.TEXT
        raise InvalidJsonResume(
            f"This file looks like JSON but is not valid JSON (line {exc.lineno}, column {exc.colno}: "
            f"{exc.msg.lower()})."
        ) from None
    if not isinstance(value, dict):
        raise UnsupportedDocument("This JSON file is not a JSON Resume document (it is not a JSON object).")
    schema = value.get("$schema")
    if _RESUME_KEYS & value.keys() or (isinstance(schema, str) and "resume" in schema and "job" not in schema):
        return DocumentKind.JSON_RESUME
    raise UnsupportedDocument(
        "This JSON file is not a JSON Resume document (no basics, work, education or other resume section)."
    )


def _markdown_score(text: str) -> int:
    """Headings, bold and links are Markdown for sure (2 points); dash lists alone are plain text too (1)."""
    score = 0
    if _MD_HEADING.search(text) or _MD_SETEXT.search(text):
        score += 2
    if _MD_EMPHASIS.search(text) or _MD_LINK.search(text) or _MD_FENCE.search(text):
        score += 2
    if _MD_LIST.search(text):
        score += 1
    return score
