"""The Alembic migrations build exactly the models' schema, on SQLite and PostgreSQL, beside the technique graph."""

from __future__ import annotations

import asyncio
import re
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa
from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext

from spacecomputer.athletes._graph import TechniqueGraph, graph_engine
from spacecomputer.athletes._graph_schema import GRAPH_METADATA
from spacecomputer.errors import UpstreamUnavailableError
from spacecomputer.storage import Base, alembic_config, current_revision, head_revision, migrate, migrate_sync
from spacecomputer.storage._migrate import include_name
from tests.storage.conftest import Backend, fresh_backend

MODEL_TABLES = set(Base.metadata.tables)


def differences(engine: sa.Engine) -> list[Any]:
    """What autogenerate would still write: [] when the database matches the models."""
    with engine.connect() as connection:
        context = MigrationContext.configure(connection, opts={"compare_type": True, "include_name": include_name})
        return list(compare_metadata(context, Base.metadata))


def snapshot(engine: sa.Engine) -> dict[str, Any]:
    """Every named thing of every model table: columns, keys, indexes and CHECK constraints (with their SQL)."""
    inspector = sa.inspect(engine)
    tables: dict[str, Any] = {}
    for table in sorted(MODEL_TABLES):
        checks = inspector.get_check_constraints(table)
        tables[table] = {
            "columns": [(c["name"], str(c["type"]), c["nullable"]) for c in inspector.get_columns(table)],
            "pk": (
                inspector.get_pk_constraint(table)["name"],
                inspector.get_pk_constraint(table)["constrained_columns"],
            ),
            "fks": sorted(
                (fk["name"], tuple(fk["constrained_columns"]), fk["referred_table"], fk["options"].get("ondelete"))
                for fk in inspector.get_foreign_keys(table)
            ),
            "unique": sorted((u["name"], tuple(u["column_names"])) for u in inspector.get_unique_constraints(table)),
            "indexes": sorted((i["name"], tuple(i["column_names"]), i["unique"]) for i in inspector.get_indexes(table)),
            "checks": sorted((c["name"], re.sub(r"\s+", " ", c["sqltext"])) for c in checks),
        }
    return tables


def test_migrate_builds_every_table_and_matches_the_models(backend: Backend) -> None:
    async def upgrade_twice() -> tuple[str | None, str | None, str | None]:
        db = backend.database()
        try:
            before = await current_revision(db)
            first = await migrate(db)
            second = await migrate(db)  # already at head: nothing to do
            return before, first, second
        finally:
            await db.dispose()

    before, first, second = asyncio.run(upgrade_twice())
    assert before is None
    assert first == second == head_revision() == "0001"
    engine = backend.sync_engine()
    try:
        assert set(sa.inspect(engine).get_table_names()) == MODEL_TABLES | {"alembic_version"}
        assert differences(engine) == []
    finally:
        engine.dispose()


def test_migrated_schema_names_every_constraint_as_create_all_does(backend: Backend, tmp_path: Path) -> None:
    # compare_metadata ignores CHECK constraints and some names; this compares them all.
    migrate_sync(backend.url, connect_args=backend.connect_args)
    with fresh_backend(backend.name, tmp_path) as other:
        created = other.sync_engine()
        migrated = backend.sync_engine()
        try:
            Base.metadata.create_all(created)
            expected, actual = snapshot(created), snapshot(migrated)
        finally:
            created.dispose()
            migrated.dispose()
    assert actual == expected
    checks = {name for table in actual.values() for name, _ in table["checks"]}
    assert {"ck_jobs_job_status", "ck_jobs_progress_fraction", "ck_videos_video_status"} <= checks
    ondelete = {(table, fk[1]): fk[3] for table, tables in actual.items() for fk in tables["fks"]}
    assert ondelete[("videos", ("owner_id",))] == "CASCADE"
    assert ondelete[("analyses", ("video_id",))] == "SET NULL"


def test_platform_and_technique_graph_share_one_database(backend: Backend) -> None:
    graph_tables = set(GRAPH_METADATA.tables)
    assert not MODEL_TABLES & graph_tables
    assert not any(name.startswith("kg_") for name in MODEL_TABLES)
    graph = TechniqueGraph(graph_engine(backend.url, connect_args=backend.connect_args))
    graph.create_schema()
    graph.engine.dispose()
    migrate_sync(backend.url, connect_args=backend.connect_args)
    engine = backend.sync_engine()
    try:
        assert set(sa.inspect(engine).get_table_names()) == MODEL_TABLES | graph_tables | {"alembic_version"}
        assert differences(engine) == []
    finally:
        engine.dispose()


def test_downgrade_to_base_drops_every_table(backend: Backend) -> None:
    migrate_sync(backend.url, connect_args=backend.connect_args)
    engine = backend.sync_engine()
    try:
        with engine.connect() as connection:
            config = alembic_config()
            config.attributes["connection"] = connection
            command.downgrade(config, "base")
            connection.commit()
        assert set(sa.inspect(engine).get_table_names()) <= {"alembic_version"}
    finally:
        engine.dispose()


def test_migrate_sync_from_a_plain_url_creates_the_sqlite_file(tmp_path: Path) -> None:
    path = tmp_path / "platform.db"
    assert migrate_sync(f"sqlite:///{path}") == head_revision()
    assert path.is_file()


@pytest.mark.parametrize("migrate_with", ["async", "sync"])
def test_migrating_an_unreachable_database_is_an_upstream_error(migrate_with: str) -> None:
    url = "postgresql://postgres:hunter2@127.0.0.1:1/test"
    upgrade = (lambda: asyncio.run(migrate(url))) if migrate_with == "async" else (lambda: migrate_sync(url))
    with pytest.raises(UpstreamUnavailableError) as caught:
        upgrade()
    assert "hunter2" not in str(caught.value)
    assert "hunter2" not in str(caught.value.details)
