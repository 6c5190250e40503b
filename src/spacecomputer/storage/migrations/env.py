"""Alembic environment of the platform's tables, run by :func:`spacecomputer.storage.migrate` (no alembic.ini).

The caller hands over a connection in ``config.attributes["connection"]``; failing that, the URL in the
``sqlalchemy.url`` option is opened with its blocking driver. The technique graph's ``kg_*`` tables may share the
database: they are created by ``TechniqueGraph.create_schema()``, so autogenerate ignores them.

A new revision, after changing :mod:`spacecomputer.storage._models`, in a source checkout::

    python -c 'from spacecomputer.storage import autogenerate_revision as r; print(r("add a column"))'

autogenerates it against a scratch SQLite database migrated to the current head; review it before committing.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import context

from spacecomputer.storage._db import sync_url
from spacecomputer.storage._migrate import include_name, render_item
from spacecomputer.storage._models import Base


def _run(connection: sa.Connection) -> None:
    context.configure(
        connection=connection,
        target_metadata=Base.metadata,
        include_name=include_name,
        render_item=render_item,
        render_as_batch=connection.dialect.name == "sqlite",
        compare_type=True,
    )
    with context.begin_transaction():
        context.run_migrations()


def _main() -> None:
    if context.is_offline_mode():
        context.configure(
            url=context.config.get_main_option("sqlalchemy.url"),
            target_metadata=Base.metadata,
            literal_binds=True,
            render_as_batch=True,
        )
        with context.begin_transaction():
            context.run_migrations()
        return
    connection = context.config.attributes.get("connection")
    if connection is not None:
        _run(connection)
        return
    url = context.config.get_main_option("sqlalchemy.url")
    if url is None:
        raise RuntimeError("no connection in config.attributes and no sqlalchemy.url option")
    engine = sa.create_engine(sync_url(url), poolclass=sa.pool.NullPool)
    try:
        with engine.connect() as new_connection:
            _run(new_connection)
    finally:
        engine.dispose()


_main()
