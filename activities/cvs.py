"""Uploaded CVs: validate and extract on upload, list, fetch, delete. Scoped to their owner."""

from __future__ import annotations

import asyncio
import uuid
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import select
from uuid6 import uuid7

from activities.blobs import delete_orphan_blobs, get_blob, put_blob, sha256_hex
from activities.database import Sessions
from activities.documents import DocumentKind, ExtractedDocument, extract_document
from activities.documents.language import with_detected_language
from activities.errors import NotFound
from activities.versions import original_version
from models.tables import Cv, Improvement, Rendition

CONTENT_TYPES: dict[DocumentKind, str] = {
    DocumentKind.PDF: "application/pdf",
    DocumentKind.DOCX: "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
    DocumentKind.TEXT: "text/plain; charset=utf-8",
    DocumentKind.MARKDOWN: "text/markdown; charset=utf-8",
    DocumentKind.JSON_RESUME: "application/json",
}


@dataclass(frozen=True)
class CvRecord:
    id: uuid.UUID
    filename: str
    kind: str
    content_type: str
    size_bytes: int
    pages: int
    sha256: str
    created_at: datetime
    resume: dict[str, Any]


@dataclass(frozen=True)
class CvFile:
    filename: str
    content_type: str
    data: bytes


def _record(cv: Cv) -> CvRecord:
    return CvRecord(
        id=cv.id,
        filename=cv.filename,
        kind=cv.kind,
        content_type=cv.content_type,
        size_bytes=cv.size_bytes,
        pages=cv.pages,
        sha256=cv.file_sha256,
        created_at=cv.created_at,
        resume=cv.resume,
    )


class CvStore:
    def __init__(self, sessions: Sessions, *, max_pages: int) -> None:
        self._sessions = sessions
        self._max_pages = max_pages

    async def _extract(self, user_id: uuid.UUID, data: bytes) -> tuple[str, str, int, str, dict[str, Any]]:
        """Extraction is cached by file hash: the same file uploaded again is not parsed again."""
        sha = sha256_hex(data)
        async with self._sessions() as session:
            known = await session.scalar(select(Cv).where(Cv.user_id == user_id, Cv.file_sha256 == sha).limit(1))
        if known is not None:
            return sha, known.kind, known.pages, known.text, with_detected_language(known.resume, known.text)
        # Parsing is CPU-bound: keep it off the event loop.
        doc: ExtractedDocument = await asyncio.to_thread(extract_document, data, max_pages=self._max_pages)
        # The CV's language goes with its parsed JSON, in `meta`: every copy of the CV then says what it is in.
        resume = with_detected_language(doc.resume.model_dump(mode="json"), doc.text)
        return sha, str(doc.kind), doc.pages, doc.text, resume

    async def create(self, user_id: uuid.UUID, filename: str, data: bytes) -> CvRecord:
        """Store an upload after it extracts cleanly; raises DocumentError with a user-facing message."""
        sha, kind, pages, text, resume = await self._extract(user_id, data)
        content_type = CONTENT_TYPES[DocumentKind(kind)]
        async with self._sessions.begin() as session:
            await put_blob(session, data, content_type)
            cv = Cv(
                id=uuid7(),
                user_id=user_id,
                filename=filename[:255] or "cv",
                kind=kind,
                content_type=content_type,
                size_bytes=len(data),
                file_sha256=sha,
                pages=pages,
                text=text,
                resume=resume,
            )
            session.add(cv)
            await session.flush()
            session.add(original_version(cv.id, resume))  # version 1, committed with the CV
            await session.refresh(cv)
        return _record(cv)

    async def list_for_user(self, user_id: uuid.UUID, *, limit: int = 50, offset: int = 0) -> list[CvRecord]:
        async with self._sessions() as session:
            rows = await session.scalars(
                select(Cv)
                .where(Cv.user_id == user_id)
                .order_by(Cv.created_at.desc(), Cv.id.desc())
                .limit(limit)
                .offset(offset)
            )
            return [_record(cv) for cv in rows]

    async def get(self, user_id: uuid.UUID, cv_id: uuid.UUID) -> CvRecord:
        async with self._sessions() as session:
            cv = await session.get(Cv, cv_id)
        if cv is None or cv.user_id != user_id:
            raise NotFound("No CV with this id.")
        return _record(cv)

    async def get_file(self, user_id: uuid.UUID, cv_id: uuid.UUID) -> CvFile:
        record = await self.get(user_id, cv_id)
        async with self._sessions() as session:
            blob = await get_blob(session, record.sha256)
        if blob is None:
            raise NotFound("The file of this CV is gone.")
        return CvFile(filename=record.filename, content_type=record.content_type, data=blob.data)

    async def delete(self, user_id: uuid.UUID, cv_id: uuid.UUID) -> list[str]:
        """Delete a CV with its improvements and PDFs; returns the workflow ids of its improvements."""
        async with self._sessions.begin() as session:
            cv = await session.get(Cv, cv_id, with_for_update=True)
            if cv is None or cv.user_id != user_id:
                raise NotFound("No CV with this id.")
            improvements = (await session.scalars(select(Improvement).where(Improvement.cv_id == cv_id))).all()
            pdfs = set(
                await session.scalars(
                    select(Rendition.pdf_sha256).where(Rendition.improvement_id.in_([i.id for i in improvements]))
                )
            )
            workflow_ids = [i.workflow_id for i in improvements]
            await session.delete(cv)
            await session.flush()
            await delete_orphan_blobs(session, pdfs | {cv.file_sha256})
        return workflow_ids
