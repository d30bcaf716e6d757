"""The PostgreSQL engine and sessions. One engine per process, built by the worker or the API at start-up."""

from __future__ import annotations

import asyncpg
from sqlalchemy.exc import DBAPIError, InterfaceError, OperationalError
from sqlalchemy.exc import TimeoutError as PoolTimeout
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker, create_async_engine

Sessions = async_sessionmaker[AsyncSession]


def create_engine(database_url: str, *, pool_size: int = 10) -> AsyncEngine:
    # No pre-ping: it costs a round trip per checkout. A connection broken by a server restart fails its one
    # statement, SQLAlchemy then drops the whole pool, and activities retry.
    return create_async_engine(database_url, pool_size=pool_size, max_overflow=20, pool_recycle=1800)


def create_sessions(engine: AsyncEngine) -> Sessions:
    return async_sessionmaker(engine, expire_on_commit=False)


# What a caller sees while PostgreSQL is down, restarting or out of connections. The API answers 503 with
# Retry-After for these (api/problems.py registers a handler per type) instead of a 500 for a bug.
STORAGE_OUTAGE_ERRORS: tuple[type[Exception], ...] = (
    DBAPIError,
    PoolTimeout,
    ConnectionError,
    TimeoutError,
    asyncpg.PostgresConnectionError,
    asyncpg.InterfaceError,
    asyncpg.CannotConnectNowError,
    asyncpg.exceptions.OperatorInterventionError,
    asyncpg.TooManyConnectionsError,
)
_ASYNCPG_OUTAGES = STORAGE_OUTAGE_ERRORS[2:]


def is_storage_outage(exc: BaseException) -> bool:
    """True when `exc` says PostgreSQL is unreachable, not that a statement was wrong."""
    if isinstance(exc, DBAPIError):
        if exc.connection_invalidated or isinstance(exc, (OperationalError, InterfaceError)):
            return True
        # SQLAlchemy wraps asyncpg's error in an adapter error; the asyncpg one is its cause.
        cause = exc.orig.__cause__ if exc.orig is not None else None
        return cause is not None and isinstance(cause, _ASYNCPG_OUTAGES)
    return isinstance(exc, (PoolTimeout, *_ASYNCPG_OUTAGES))
