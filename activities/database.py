"""The PostgreSQL engine and sessions. One engine per process, built by the worker or the API at start-up."""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker, create_async_engine

Sessions = async_sessionmaker[AsyncSession]


def create_engine(database_url: str, *, pool_size: int = 10) -> AsyncEngine:
    # No pre-ping: it costs a round trip per checkout. A connection broken by a server restart fails its one
    # statement, SQLAlchemy then drops the whole pool, and activities retry.
    return create_async_engine(database_url, pool_size=pool_size, max_overflow=20, pool_recycle=1800)


def create_sessions(engine: AsyncEngine) -> Sessions:
    return async_sessionmaker(engine, expire_on_commit=False)
