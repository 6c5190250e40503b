"""The relational store's connection: an async SQLAlchemy engine on SQLite (aiosqlite) or PostgreSQL (psycopg 3).

Plain URLs are accepted and given the async driver: ``sqlite:///file.db`` → ``sqlite+aiosqlite:///file.db``,
``postgresql://…`` (or ``postgres://``, ``postgresql+psycopg2://``) → ``postgresql+psycopg://…`` (psycopg 3
serves both the sync and the async engine under that name).

SQLite connections get ``PRAGMA foreign_keys=ON`` (the cascades of :mod:`._models` depend on it),
``journal_mode=WAL`` (readers do not block the writer) and a busy timeout, so that a second writer waits
instead of failing at once.
"""

from __future__ import annotations

import os
from collections.abc import AsyncIterator, Mapping
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker, create_async_engine
from sqlalchemy.pool import StaticPool

from spacecomputer.errors import InvalidInputError, UpstreamUnavailableError

__all__ = ["Database", "async_url", "sqlite_url", "sync_url"]

_ASYNC_DRIVERS = {"sqlite": "sqlite+aiosqlite", "postgresql": "postgresql+psycopg"}
_SYNC_DRIVERS = {"sqlite": "sqlite+pysqlite", "postgresql": "postgresql+psycopg"}
_BACKEND_ALIASES = {"postgres": "postgresql"}


def sqlite_url(path: str | os.PathLike[str]) -> str:
    """Return the async URL of the SQLite file ``path`` (made absolute), e.g. ``library_dir / "platform.db"``."""
    return sa.URL.create("sqlite+aiosqlite", database=os.fspath(Path(path).expanduser().resolve())).render_as_string()


def _parse(url: str | sa.URL) -> tuple[sa.URL, str]:
    if isinstance(url, sa.URL):
        parsed = url
    else:
        if not isinstance(url, str) or not url.strip():
            raise InvalidInputError(f"the database URL must be a non-empty string; got {url!r}")
        try:
            parsed = sa.make_url(url.strip())
        except sa.exc.ArgumentError:
            raise InvalidInputError("the database URL is malformed (expected dialect[+driver]://…)") from None
    backend = parsed.drivername.split("+", 1)[0]
    backend = _BACKEND_ALIASES.get(backend, backend)
    if backend not in _ASYNC_DRIVERS:
        shown = parsed.render_as_string(hide_password=True)
        raise InvalidInputError(
            f"the platform database runs on SQLite or PostgreSQL; got {backend!r} in {shown}",
            details={"url": shown, "supported": sorted(_ASYNC_DRIVERS)},
        )
    return parsed, backend


def async_url(url: str | sa.URL) -> sa.URL:
    """Return ``url`` with the async driver of its back end (``sqlite+aiosqlite`` or ``postgresql+psycopg``).

    Raises
    ------
    InvalidInputError
        An empty or malformed URL, or a back end other than SQLite and PostgreSQL.

    """
    parsed, backend = _parse(url)
    return parsed.set(drivername=_ASYNC_DRIVERS[backend])


def sync_url(url: str | sa.URL) -> sa.URL:
    """Return ``url`` with the blocking driver of its back end (``sqlite+pysqlite`` or ``postgresql+psycopg``)."""
    parsed, backend = _parse(url)
    return parsed.set(drivername=_SYNC_DRIVERS[backend])


def _is_memory_sqlite(url: sa.URL) -> bool:
    return url.get_backend_name() == "sqlite" and url.database in (None, "", ":memory:")


def _sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
    cursor = dbapi_connection.cursor()
    try:
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA synchronous=NORMAL")
    finally:
        cursor.close()


class Database:
    """An async engine and its session factory: the platform's handle on the relational store.

    Parameters
    ----------
    engine
        An async engine, normally from :meth:`from_url`.

    Examples
    --------
    ::

        db = Database.from_url("sqlite:///library/platform.db")
        async with db.session() as session, session.begin():
            session.add(User(email="a@example.com", password_hash=h))
        await db.dispose()

    """

    def __init__(self, engine: AsyncEngine) -> None:
        self._engine = engine
        self._sessions = async_sessionmaker(engine, expire_on_commit=False, autoflush=False)

    @classmethod
    def from_url(
        cls,
        url: str | sa.URL,
        *,
        connect_timeout_s: float = 5.0,
        busy_timeout_s: float = 30.0,
        pool_size: int = 5,
        max_overflow: int = 10,
        connect_args: Mapping[str, Any] | None = None,
        echo: bool = False,
    ) -> Database:
        """Open (lazily: nothing connects yet) the database at ``url``.

        Parameters
        ----------
        url
            SQLAlchemy URL; plain ``sqlite:///…``/``postgresql://…`` get the async driver (module docstring).
            A SQLite file's folder is created if missing; ``sqlite://`` alone is an in-memory database shared
            by every session of this engine.
        connect_timeout_s
            PostgreSQL: how long a new connection may take before failing, seconds.
        busy_timeout_s
            SQLite: how long a writer waits for another writer's lock, seconds.
        pool_size, max_overflow
            PostgreSQL connection pool: connections kept open, and extra ones allowed under load.
        connect_args
            Extra DBAPI ``connect`` arguments (e.g. ``{"options": "-csearch_path=my_schema"}`` for PostgreSQL).
        echo
            Log every SQL statement (debugging).

        Raises
        ------
        InvalidInputError
            A malformed URL or unsupported back end (:func:`async_url`).

        """
        parsed = async_url(url)
        args: dict[str, Any] = {}
        options: dict[str, Any] = {"echo": echo}
        if parsed.get_backend_name() == "sqlite":
            args["timeout"] = busy_timeout_s
            if _is_memory_sqlite(parsed):
                options["poolclass"] = StaticPool
            else:
                Path(str(parsed.database)).expanduser().parent.mkdir(parents=True, exist_ok=True)
        else:
            args["connect_timeout"] = max(1, round(connect_timeout_s))
            options |= {"pool_size": pool_size, "max_overflow": max_overflow, "pool_pre_ping": True}
        args |= dict(connect_args or {})
        engine = create_async_engine(parsed, connect_args=args, **options)
        if parsed.get_backend_name() == "sqlite":
            sa.event.listen(engine.sync_engine, "connect", _sqlite_pragmas)
        return cls(engine)

    @property
    def engine(self) -> AsyncEngine:
        """The async engine (for ``engine.begin()`` or :func:`~spacecomputer.storage.migrate`)."""
        return self._engine

    @property
    def backend(self) -> str:
        """``"sqlite"`` or ``"postgresql"``."""
        return self._engine.dialect.name

    @asynccontextmanager
    async def session(self) -> AsyncIterator[AsyncSession]:
        """Yield a session; roll back what is uncommitted if the block raises, close it at the end.

        Nothing is committed implicitly: call ``await session.commit()`` or use ``async with session.begin():``.
        Objects stay usable after commit (``expire_on_commit=False``), as API responses need.
        """
        async with self._sessions() as session:  # closing a session rolls back what it has not committed
            yield session

    async def ping(self) -> None:
        """Run ``SELECT 1``; return quietly when the database answers.

        Raises
        ------
        UpstreamUnavailableError
            The database cannot be reached or refused the query (``details["backend"]`` says which one).

        """
        try:
            async with self._engine.connect() as connection:
                await connection.execute(sa.text("SELECT 1"))
        except (sa.exc.DBAPIError, OSError, TimeoutError) as error:
            raise UpstreamUnavailableError(
                f"the {self.backend} database is unreachable: {type(error).__name__}",
                details={"backend": self.backend, "url": self._engine.url.render_as_string(hide_password=True)},
            ) from error

    async def dispose(self) -> None:
        """Close every pooled connection (at shutdown; the engine reconnects if used again)."""
        await self._engine.dispose()
