"""Uploaded CVs to text and a structured Resume: PDF, DOCX, plain text, Markdown and JSON Resume.

`extract_document(data)` is the entry point; every failure is a `DocumentError` with a machine `code` and a
`message` for the user.
"""

from activities.documents.detect import DocumentKind, detect_kind
from activities.documents.errors import (
    CorruptDocument,
    DocumentError,
    EmptyDocument,
    EncryptedDocument,
    InvalidJsonResume,
    NoTextLayer,
    TooManyPages,
    UnsupportedDocument,
)
from activities.documents.extract import ExtractedDocument, extract_document
from activities.documents.parse import parse_resume_text

__all__ = [
    "CorruptDocument",
    "DocumentError",
    "DocumentKind",
    "EmptyDocument",
    "EncryptedDocument",
    "ExtractedDocument",
    "InvalidJsonResume",
    "NoTextLayer",
    "TooManyPages",
    "UnsupportedDocument",
    "detect_kind",
    "extract_document",
    "parse_resume_text",
]
