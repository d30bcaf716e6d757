"""Why an upload cannot be used: one class per reason, each with a machine code and a sentence for the user.

Messages never quote the document (no CV content) and never carry a stack trace: the API and the workflow show
them to the user as they are.
"""

from __future__ import annotations


class DocumentError(Exception):
    """Base of every extraction failure. `code` is stable for machines, `message` is for people."""

    code: str = "document_error"

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


class UnsupportedDocument(DocumentError):
    code = "unsupported_type"


class EncryptedDocument(DocumentError):
    code = "encrypted"

    def __init__(self, message: str | None = None) -> None:
        super().__init__(
            message
            or "This PDF is protected by a password. Remove the password (for example by printing it to a new "
            "PDF) and upload it again."
        )


class CorruptDocument(DocumentError):
    code = "corrupt"


class NoTextLayer(DocumentError):
    code = "no_text_layer"

    def __init__(self, message: str | None = None) -> None:
        super().__init__(
            message
            or "This PDF has no selectable text: it looks like a scan or an image. Export your CV from your "
            "editor as a PDF with text, or upload the DOCX file instead."
        )


class TooManyPages(DocumentError):
    code = "too_many_pages"

    def __init__(self, pages: int, limit: int) -> None:
        super().__init__(
            f"This PDF has {pages} pages; CVs of up to {limit} pages are accepted. Upload a shorter version of your CV."
        )
        self.pages = pages
        self.limit = limit


class EmptyDocument(DocumentError):
    code = "empty"

    def __init__(self, message: str | None = None) -> None:
        super().__init__(message or "This file contains no CV text. Check that you picked the right file.")


class InvalidJsonResume(DocumentError):
    code = "invalid_json_resume"
