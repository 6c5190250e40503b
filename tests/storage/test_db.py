"""The Database wrapper: URL conversion, SQLite pragmas, sessions, readiness pings."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest
import sqlalchemy as sa

from spacecomputer.errors import InvalidInputError, UpstreamUnavailableError
from spacecomputer.storage import Database, User, async_url, migrate, sqlite_url, sync_url
from tests.storage.conftest import Backend


@pytest.mark.parametrize(
    ("url", "expected"),
    [
        ("sqlite:///runs/platform.db", "sqlite+aiosqlite:///runs/platform.db"),
        ("sqlite+pysqlite:///x.db", "sqlite+aiosqlite:///x.db"),
        ("sqlite+aiosqlite:///x.db", "sqlite+aiosqlite:///x.db"),
        ("sqlite://", "sqlite+aiosqlite://"),
        ("postgresql://u:pw@db:5432/app", "postgresql+psycopg://u:pw@db:5432/app"),
        ("postgres://u@db/app", "postgresql+psycopg://u@db/app"),
        ("postgresql+psycopg2://u@db/app", "postgresql+psycopg://u@db/app"),
        ("postgresql+psycopg://u@db/app?sslmode=require", "postgresql+psycopg://u@db/app?sslmode=require"),
    ],
)
def test_plain_urls_get_the_async_driver(url: str, expected: str) -> None:
    assert async_url(url).render_as_string(hide_password=False) == expected


def test_sync_urls_get_the_blocking_driver() -> None:
    assert sync_url("sqlite+aiosqlite:///x.db").render_as_string() == "sqlite+pysqlite:///x.db"
    assert sync_url("postgresql://u@db/app").render_as_string() == "postgresql+psycopg://u@db/app"


@pytest.mark.parametrize("url", ["", "   ", "not a url", "mysql://u@db/app", "oracle+cx_oracle://u@db", "redis://x"])
def test_other_urls_are_refused(url: str) -> None:
    with pytest.raises(InvalidInputError):
        Database.from_url(url)


def test_sqlite_url_of_a_path_is_absolute(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    assert sqlite_url("library/platform.db") == f"sqlite+aiosqlite:///{tmp_path / 'library' / 'platform.db'}"


def test_sqlite_file_gets_its_folder_foreign_keys_wal_and_a_busy_timeout(tmp_path: Path) -> None:
    path = tmp_path / "not" / "yet" / "platform.db"

    async def main() -> tuple[int, str, int]:
        db = Database.from_url(f"sqlite:///{path}", busy_timeout_s=7.5)
        try:
            await db.ping()
            async with db.engine.connect() as connection:
                foreign_keys = (await connection.exec_driver_sql("PRAGMA foreign_keys")).scalar_one()
                journal = (await connection.exec_driver_sql("PRAGMA journal_mode")).scalar_one()
                busy_ms = (await connection.exec_driver_sql("PRAGMA busy_timeout")).scalar_one()
            return foreign_keys, journal, busy_ms
        finally:
            await db.dispose()

    assert asyncio.run(main()) == (1, "wal", 7500)
    assert path.is_file()


def test_in_memory_sqlite_is_one_database_for_every_session() -> None:
    async def main() -> list[str]:
        db = Database.from_url("sqlite://")
        try:
            await migrate(db)
            async with db.session() as session, session.begin():
                session.add(User(email="mem@example.com", password_hash="h"))
            async with db.session() as session:
                return list((await session.execute(sa.select(User.email))).scalars())
        finally:
            await db.dispose()

    assert asyncio.run(main()) == ["mem@example.com"]


def test_a_session_rolls_back_when_its_block_raises(backend: Backend) -> None:
    async def main() -> tuple[str, int]:
        db = backend.database()
        try:
            await migrate(db)

            async def failing_handler() -> None:
                async with db.session() as session:
                    session.add(User(email="ghost@example.com", password_hash="h"))
                    await session.flush()
                    raise RuntimeError("handler failed")

            with pytest.raises(RuntimeError, match="handler failed"):
                await failing_handler()
            async with db.session() as session:
                count = (await session.execute(sa.select(sa.func.count()).select_from(User))).scalar_one()
            return db.backend, count
        finally:
            await db.dispose()

    assert asyncio.run(main()) == (backend.name, 0)


def test_ping_of_an_unreachable_server_is_an_upstream_error_without_the_password() -> None:
    async def main() -> None:
        db = Database.from_url("postgresql://postgres:hunter2@127.0.0.1:1/test", connect_timeout_s=1)
        try:
            await db.ping()
        finally:
            await db.dispose()

    with pytest.raises(UpstreamUnavailableError, match="postgresql database is unreachable") as caught:
        asyncio.run(main())
    assert caught.value.details["backend"] == "postgresql"
    assert "hunter2" not in str(caught.value) + str(caught.value.details)
