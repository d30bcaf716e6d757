"""Content-addressed file storage in PostgreSQL. The interface can later point at S3."""

from __future__ import annotations

import hashlib

from sqlalchemy import delete, exists, select
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession

from models.tables import Blob, Cv, Rendition


def sha256_hex(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


async def put_blob(session: AsyncSession, data: bytes, content_type: str) -> str:
    """Store `data` once, whoever uploads it; returns its SHA-256."""
    sha = sha256_hex(data)
    stmt = insert(Blob).values(sha256=sha, content_type=content_type, size_bytes=len(data), data=data)
    await session.execute(stmt.on_conflict_do_nothing(index_elements=[Blob.sha256]))
    return sha


async def get_blob(session: AsyncSession, sha: str) -> Blob | None:
    return await session.get(Blob, sha)


async def delete_orphan_blobs(session: AsyncSession, shas: set[str]) -> None:
    """Drop blobs no CV or rendition points at any more."""
    if not shas:
        return
    await session.execute(
        delete(Blob).where(
            Blob.sha256.in_(shas),
            ~exists(select(Cv.id).where(Cv.file_sha256 == Blob.sha256)),
            ~exists(select(Rendition.id).where(Rendition.pdf_sha256 == Blob.sha256)),
        )
    )
