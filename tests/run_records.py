"""What a run left in PostgreSQL, read directly: the exactly-once checks of the fault tests."""

from __future__ import annotations

from typing import Any

from sqlalchemy import text
from sqlalchemy.ext.asyncio import create_async_engine


async def usage_and_pdfs(database_url: str, improvement_id: Any) -> tuple[list[str], int]:
    """The statuses of the improvement's quota units, and how many PDFs (renditions) it has."""
    engine = create_async_engine(database_url)
    try:
        async with engine.connect() as conn:
            rows = await conn.execute(text("select status from usage where improvement_id = :i"), {"i": improvement_id})
            statuses = [row.status for row in rows]
            pdfs = (
                await conn.execute(
                    text("select count(*) from renditions where improvement_id = :i"), {"i": improvement_id}
                )
            ).scalar()
    finally:
        await engine.dispose()
    return statuses, int(pdfs or 0)
