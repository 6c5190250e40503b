"""Schema migrations of the platform's tables (Alembic), run from code: no ``alembic.ini`` at run time.

The revisions live in ``spacecomputer/storage/migrations/versions`` (package data); ``env.py`` there takes the
connection these functions hand it. Upgrading is idempotent: a database already at head is left alone.
"""

from __future__ import annotations

import os
import tempfile
from pathlib import Path
from typing import Any, Literal

import sqlalchemy as sa
from alembic import command
from alembic.autogenerate.api import AutogenContext
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory

from spacecomputer.errors import UpstreamUnavailableError
from spacecomputer.storage._db import Database, sync_url
from spacecomputer.storage._models import UTCDateTime

__all__ = [
    "GRAPH_TABLE_PREFIX",
    "MIGRATIONS_DIR",
    "alembic_config",
    "autogenerate_revision",
    "current_revision",
    "head_revision",
    "include_name",
    "migrate",
    "migrate_sync",
    "render_item",
]

MIGRATIONS_DIR = Path(__file__).resolve().with_name("migrations")
"""The Alembic script directory (``env.py``, ``script.py.mako``, ``versions/``)."""


GRAPH_TABLE_PREFIX = "kg_"
"""Tables of the technique knowledge graph (``TechniqueGraph.create_schema``), outside this migration history."""


def include_name(name: str | None, type_: str, _parents: Any) -> bool:
    """Leave the technique graph's tables out of autogenerate's comparison (Alembic ``include_name`` hook)."""
    return not (type_ == "table" and name is not None and name.startswith(GRAPH_TABLE_PREFIX))


def render_item(type_: str, obj: Any, _context: AutogenContext) -> str | Literal[False]:
    """Write :class:`UTCDateTime` as the plain ``DateTime(timezone=True)`` it is in the database (``render_item``)."""
    if type_ == "type" and isinstance(obj, UTCDateTime):
        return "sa.DateTime(timezone=True)"
    return False


def _escaped(value: str) -> str:
    return value.replace("%", "%%")


def alembic_config(url: str | sa.URL | None = None) -> Config:
    """Return an in-memory Alembic configuration for the platform's migrations (for ``alembic.command``).

    Parameters
    ----------
    url
        Database to run against when no connection is passed in ``config.attributes["connection"]``.

    """
    config = Config()
    config.set_main_option("script_location", _escaped(os.fspath(MIGRATIONS_DIR)))
    config.set_main_option("path_separator", "os")
    config.set_main_option("file_template", "v%%(rev)s_%%(slug)s")
    if url is not None:
        config.set_main_option("sqlalchemy.url", _escaped(sync_url(url).render_as_string(hide_password=False)))
    return config


def head_revision() -> str:
    """Return the id of the newest revision (what :func:`migrate` upgrades to)."""
    head = ScriptDirectory.from_config(alembic_config()).get_current_head()
    if head is None:
        raise RuntimeError(f"no migration revisions in {MIGRATIONS_DIR}")
    return head


def _upgrade(connection: sa.Connection, revision: str) -> None:
    config = alembic_config()
    config.attributes["connection"] = connection
    command.upgrade(config, revision)


def _current(connection: sa.Connection) -> str | None:
    return MigrationContext.configure(connection).get_current_revision()


def _unavailable(error: Exception, url: sa.URL) -> UpstreamUnavailableError:
    shown = url.render_as_string(hide_password=True)
    return UpstreamUnavailableError(
        f"cannot migrate {shown}: the database is unreachable ({type(error).__name__})", details={"url": shown}
    )


async def migrate(database: str | sa.URL | Database, *, revision: str = "head") -> str | None:
    """Upgrade the database to ``revision`` (default: the newest) and return the revision it is at.

    Parameters
    ----------
    database
        A URL (plain ones get the async driver, see :class:`Database`) or an open :class:`Database`, whose
        engine (and connect arguments, such as a PostgreSQL ``search_path``) is used and left open.
    revision
        Alembic revision to upgrade to.

    Raises
    ------
    UpstreamUnavailableError
        The database cannot be reached.

    """
    owned = not isinstance(database, Database)
    db = Database.from_url(database) if not isinstance(database, Database) else database
    try:
        async with db.engine.connect() as connection:
            await connection.run_sync(_upgrade, revision)
            await connection.commit()
            return await connection.run_sync(_current)
    except (sa.exc.OperationalError, sa.exc.InterfaceError, OSError) as error:
        raise _unavailable(error, db.engine.url) from error
    finally:
        if owned:
            await db.dispose()


async def current_revision(database: Database) -> str | None:
    """Return the revision the database is at (``None`` before the first migration)."""
    async with database.engine.connect() as connection:
        return await connection.run_sync(_current)


def migrate_sync(
    database: str | sa.URL | sa.Engine, *, revision: str = "head", connect_args: dict[str, Any] | None = None
) -> str | None:
    """Blocking :func:`migrate` (for the CLI, scripts and tests): upgrade and return the revision reached.

    Parameters
    ----------
    database
        A URL (given its blocking driver: ``sqlite+pysqlite``/``postgresql+psycopg``) or a sync engine.
    revision
        Alembic revision to upgrade to.
    connect_args
        DBAPI ``connect`` arguments when ``database`` is a URL.

    """
    owned = not isinstance(database, sa.Engine)
    engine = (
        sa.create_engine(sync_url(database), connect_args=connect_args or {}, poolclass=sa.pool.NullPool)
        if not isinstance(database, sa.Engine)
        else database
    )
    try:
        with engine.connect() as connection:
            if connection.dialect.name == "sqlite":
                connection.exec_driver_sql("PRAGMA foreign_keys=ON")
            _upgrade(connection, revision)
            connection.commit()
            return _current(connection)
    except (sa.exc.OperationalError, sa.exc.InterfaceError, OSError) as error:
        raise _unavailable(error, engine.url) from error
    finally:
        if owned:
            engine.dispose()


def autogenerate_revision(message: str, *, rev_id: str | None = None) -> Path:
    """Write a new revision that brings the migrations up to :mod:`._models`; return its path (review it!).

    The comparison runs against a scratch SQLite database upgraded to the current head, so only what the
    models add shows up. Works in a source checkout (the revision is written into ``migrations/versions``).
    """
    with tempfile.TemporaryDirectory(prefix="spacecomputer-revision-") as folder:
        engine = sa.create_engine(sync_url(f"sqlite:///{Path(folder) / 'scratch.db'}"), poolclass=sa.pool.NullPool)
        try:
            with engine.connect() as connection:
                _upgrade(connection, "head")
                connection.commit()
                config = alembic_config()
                config.attributes["connection"] = connection
                script = command.revision(config, message=message, autogenerate=True, rev_id=rev_id)
        finally:
            engine.dispose()
    if script is None or isinstance(script, list):
        raise RuntimeError(f"alembic did not write a single revision for {message!r}")
    return Path(script.path)
