"""The technique knowledge graph: sports, techniques, phases, key joints and metrics, faults, risk indicators, clips.

:class:`TechniqueGraph` keeps the graph in relational tables (:mod:`~spacecomputer.athletes._graph_schema`, on
SQLite or PostgreSQL through one SQLAlchemy engine) and answers the questions a coach or the orchestrator asks:

- "techniques that load the knee most" — :meth:`TechniqueGraph.techniques_loading`;
- "clips showing the sprint acceleration phase" — :meth:`TechniqueGraph.clips_showing`;
- "faults linked to knee valgus" — :meth:`TechniqueGraph.faults_linked_to`.

The content (``graph_content.toml``, packaged) is project-written: plain descriptions of the movements, not
citations. The joint ``load`` of a technique is **our own qualitative ordinal rating** (0–3), a judgement for
ranking, not a measurement. Query strings are normalised (lower case; spaces, ``/`` and ``-`` become ``_``), so
"Maximum velocity" finds ``maximum_velocity``. An unknown name raises :class:`~spacecomputer.errors.NotFoundError`
listing the valid ones; an empty name raises :class:`~spacecomputer.errors.InvalidInputError`.
"""

from __future__ import annotations

import importlib.resources
import os
from collections.abc import Iterable, Iterator, Mapping
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import sqlalchemy as sa

from spacecomputer.athletes._graph_content import BILATERAL_JOINTS, SIDES, normalise_name, parse_content
from spacecomputer.athletes._graph_results import (
    LIBRARY_CLIP_LINKS,
    ClipLink,
    ClipShowing,
    ContentLoaded,
    Fault,
    JointLoad,
    Phase,
    PhaseKey,
    Sport,
    Technique,
    TechniqueDetails,
    TechniqueLoading,
)
from spacecomputer.athletes._graph_schema import (
    CLIP_LINKS,
    FAULT_RISKS,
    FAULTS,
    GRAPH_METADATA,
    JOINT_LOADS,
    PHASE_KEYS,
    PHASES,
    RISK_ALIASES,
    RISK_INDICATORS,
    SPORTS,
    TECHNIQUES,
)
from spacecomputer.errors import InvalidInputError, NotFoundError, UpstreamUnavailableError

__all__ = [
    "CONTENT_RESOURCE",
    "LIBRARY_CLIP_LINKS",
    "SUPPORTED_BACKENDS",
    "ClipLink",
    "ClipShowing",
    "ContentLoaded",
    "Fault",
    "JointLoad",
    "Phase",
    "PhaseKey",
    "Sport",
    "Technique",
    "TechniqueDetails",
    "TechniqueGraph",
    "TechniqueLoading",
    "graph_engine",
]

CONTENT_RESOURCE = "graph_content.toml"
"""The packaged content file in :mod:`spacecomputer.athletes`."""
SUPPORTED_BACKENDS = ("sqlite", "postgresql")
"""Database back ends the graph is written for (SQLAlchemy backend names)."""


def graph_engine(
    url: str | None, *, sqlite_path: str | os.PathLike[str] | None = None, connect_args: Mapping[str, Any] | None = None
) -> sa.Engine:
    """Return an engine for the graph: ``url`` (``sqlite:///file``, ``postgresql+psycopg://…``) or a SQLite file.

    Parameters
    ----------
    url
        SQLAlchemy database URL; ``None`` for the SQLite file ``sqlite_path``.
    sqlite_path
        File of the embedded database, used when ``url`` is ``None``; its folder must exist.
    connect_args
        Passed to the DBAPI ``connect`` (e.g. ``{"options": "-csearch_path=kg"}`` for PostgreSQL).

    SQLite engines enforce foreign keys (``PRAGMA foreign_keys=ON`` on every connection).

    Raises
    ------
    InvalidInputError
        Neither a URL nor a path, a malformed URL, a back end other than :data:`SUPPORTED_BACKENDS`, a driver
        that is not installed, or a SQLite folder that does not exist.

    """
    if url is None:
        if sqlite_path is None:
            raise InvalidInputError("graph_engine needs a database URL or a SQLite file path (sqlite_path)")
        parsed = sa.URL.create("sqlite", database=os.fspath(sqlite_path))
    else:
        if not isinstance(url, str) or not url.strip():
            raise InvalidInputError(f"the database URL must be a non-empty string; got {url!r}")
        try:
            parsed = sa.make_url(url.strip())
        except sa.exc.ArgumentError:
            raise InvalidInputError("the database URL is malformed (expected dialect[+driver]://…)") from None
    shown = parsed.render_as_string(hide_password=True)
    backend = parsed.get_backend_name()
    if backend not in SUPPORTED_BACKENDS:
        raise InvalidInputError(
            f"the knowledge graph runs on {list(SUPPORTED_BACKENDS)}; got {backend!r} in {shown}",
            details={"url": shown},
        )
    if backend == "sqlite" and parsed.database not in (None, "", ":memory:"):
        folder = Path(parsed.database).expanduser().resolve().parent
        if not folder.is_dir():
            raise InvalidInputError(f"the SQLite file's folder {folder} does not exist", details={"url": shown})
    try:
        engine = sa.create_engine(parsed, connect_args=dict(connect_args or {}))
    except (sa.exc.ArgumentError, ImportError) as error:
        raise InvalidInputError(f"cannot use {shown}: {error}", details={"url": shown}) from None
    if backend == "sqlite":
        sa.event.listen(engine, "connect", _enable_sqlite_foreign_keys)
    return engine


class TechniqueGraph:
    """The knowledge graph in the ``kg_*`` tables of one database (module docstring).

    Parameters
    ----------
    engine
        SQLAlchemy engine, e.g. from :func:`graph_engine` (which also enforces SQLite's foreign keys).

    """

    def __init__(self, engine: sa.Engine) -> None:
        self._engine = engine

    @property
    def engine(self) -> sa.Engine:
        """The engine the graph reads and writes through."""
        return self._engine

    def create_schema(self) -> None:
        """Create the ``kg_*`` tables that do not exist yet."""
        with self._transaction() as connection:
            GRAPH_METADATA.create_all(connection)

    def load_content(self, path: str | os.PathLike[str] | None = None) -> ContentLoaded:
        """Replace the content with that of a TOML file (the packaged one by default), in one transaction.

        Loading the same file twice leaves the same rows. Clip links are kept; those whose technique or phase
        the new content lacks are dropped and reported.

        Returns
        -------
        ContentLoaded
            Rows written per table, and the clip ids whose links were dropped.

        Raises
        ------
        InvalidInputError
            The file is missing, unreadable or not valid content (:mod:`~spacecomputer.athletes._graph_content`).

        """
        if path is None:
            origin = f"spacecomputer.athletes/{CONTENT_RESOURCE}"
            text = importlib.resources.files("spacecomputer.athletes").joinpath(CONTENT_RESOURCE).read_text("utf-8")
        else:
            origin = os.fspath(path)
            try:
                text = Path(path).read_text(encoding="utf-8")
            except (OSError, UnicodeDecodeError) as error:
                raise InvalidInputError(f"cannot read the graph content {origin}: {error}") from None
        content = parse_content(text, origin=origin)
        with self._transaction() as connection:
            kept_columns = [column for column in CLIP_LINKS.c if column.name != "id"]  # new ids on re-insert
            old_links = [dict(row) for row in connection.execute(sa.select(*kept_columns)).mappings()]
            for table in reversed(GRAPH_METADATA.sorted_tables):
                connection.execute(table.delete())
            for table in GRAPH_METADATA.sorted_tables:
                if content.rows.get(table.name):
                    connection.execute(table.insert(), content.rows[table.name])
            phases = {(r["technique_id"], r["key"]) for r in content.rows["kg_phases"]}
            techniques = {r["id"] for r in content.rows["kg_techniques"]}
            kept = [r for r in old_links if (r["technique_id"], r["phase_key"]) in phases
                    or (r["phase_key"] is None and r["technique_id"] in techniques)]  # fmt: skip
            if kept:
                connection.execute(CLIP_LINKS.insert(), kept)
        dropped = tuple(sorted({r["clip_id"] for r in old_links if r not in kept}))
        counts = {name: len(rows) for name, rows in content.rows.items()}
        return ContentLoaded(rows_per_table={**counts, CLIP_LINKS.name: len(kept)}, dropped_clip_links=dropped)

    def load_clips(self, clips: Iterable[ClipLink]) -> None:
        """Link clips to techniques and phases, replacing earlier links of the same clip ids (one transaction).

        Raises
        ------
        InvalidInputError
            A link twice, a blank clip id, or a sport that is not the technique's.
        NotFoundError
            An unknown technique or phase.

        """
        links = tuple(clips)
        rows = []
        with self._transaction() as connection:
            for link in links:
                clip_id = link.clip_id.strip() if isinstance(link.clip_id, str) else ""
                if not clip_id:
                    raise InvalidInputError(f"a clip link needs a clip id; got {link.clip_id!r}")
                technique = self._technique_row(connection, link.technique)
                sport = normalise_name(link.sport, what="sport")
                if sport != technique.sport_id:
                    raise InvalidInputError(
                        f"clip {clip_id!r}: technique {technique.id!r} is of {technique.sport_id!r}, not {sport!r}",
                        details={"clip_id": clip_id, "sport": sport, "technique": technique.id},
                    )
                phases: list[str | None] = [self._phase_key(connection, technique.id, p) for p in link.phases]
                first, last = link.frame_range if link.frame_range is not None else (None, None)
                rows += [{"clip_id": clip_id, "technique_id": technique.id, "phase_key": phase, "start_frame": first,
                          "end_frame": last, "note": link.note} for phase in phases or [None]]  # fmt: skip
            seen = [(r["clip_id"], r["technique_id"], r["phase_key"]) for r in rows]
            repeated = sorted({str(link) for link in seen if seen.count(link) > 1})
            if repeated:
                raise InvalidInputError(f"clip links given twice: {repeated}", details={"repeated": repeated})
            ids = sorted({r["clip_id"] for r in rows})
            if ids:
                connection.execute(CLIP_LINKS.delete().where(CLIP_LINKS.c.clip_id.in_(ids)))
                connection.execute(CLIP_LINKS.insert(), rows)

    # --- queries ----------------------------------------------------------------------------------------------

    def sports(self) -> tuple[Sport, ...]:
        """Return every sport, by id."""
        with self._transaction() as connection:
            rows = connection.execute(sa.select(SPORTS).order_by(SPORTS.c.id)).mappings()
            return tuple(Sport(**row) for row in rows)

    def techniques(self, sport: str | None = None) -> tuple[Technique, ...]:
        """Every technique (of ``sport`` when given), by sport then id; raises NotFoundError for an unknown sport."""
        query = sa.select(TECHNIQUES).order_by(TECHNIQUES.c.sport_id, TECHNIQUES.c.id)
        with self._transaction() as connection:
            if sport is not None:
                key = normalise_name(sport, what="sport")
                _require(key, connection.execute(sa.select(SPORTS.c.id)).scalars(), "sport")
                query = query.where(TECHNIQUES.c.sport_id == key)
            return tuple(_technique(row) for row in connection.execute(query).mappings())

    def technique(self, technique_id: str) -> TechniqueDetails:
        """Return a technique with its phases (and their keys), joint loads and faults."""
        with self._transaction() as connection:
            row = self._technique_row(connection, technique_id)
            loads = connection.execute(
                sa.select(JOINT_LOADS).where(JOINT_LOADS.c.technique_id == row.id).order_by(JOINT_LOADS.c.joint)
            ).mappings()
            return TechniqueDetails(
                technique=_technique(row._mapping),
                phases=self._phases(connection, row.id),
                joint_loads=tuple(
                    JointLoad(r["technique_id"], r["joint"], r["load"], r["rationale"], r["source"]) for r in loads
                ),
                faults=self._faults(connection, FAULTS.c.technique_id == row.id),
            )

    def phases(self, technique: str) -> tuple[Phase, ...]:
        """Return the phases of a technique in their order, each with its key joints and metrics."""
        with self._transaction() as connection:
            return self._phases(connection, self._technique_row(connection, technique).id)

    def techniques_loading(self, joint: str, *, limit: int = 10) -> tuple[TechniqueLoading, ...]:
        """Return the techniques that load ``joint`` most, at most ``limit`` of them.

        Ranked by our load rating (0–3, a judgement, not a measurement), then the number of phases in which the
        joint is key, then id. ``"knee"`` also matches ``left_knee`` and ``right_knee`` keys; ``"left_knee"``
        matches the left and the side-less knee keys. Techniques rated 0 or not rated for the joint are left out.

        Raises
        ------
        InvalidInputError
            A blank joint or a ``limit`` that is not a positive integer.
        NotFoundError
            A joint the graph does not know (the message lists the known ones).

        """
        if isinstance(limit, bool) or not isinstance(limit, int) or limit < 1:
            raise InvalidInputError(f"limit must be a positive integer; got {limit!r}", details={"limit": repr(limit)})
        key = normalise_name(joint, what="joint")
        with self._transaction() as connection:
            rated = set(connection.execute(sa.select(JOINT_LOADS.c.joint).distinct()).scalars())
            keyed = set(connection.execute(sa.select(PHASE_KEYS.c.joint).distinct()).scalars()) - {None}
            _require(key, rated | keyed | {_bare(name) for name in keyed}, "joint")
            bare = _bare(key)
            variants = [key, bare] if key != bare else [bare, *(f"{side}_{bare}" for side in SIDES)]
            key_phases = (
                sa.select(PHASE_KEYS.c.technique_id, sa.func.count(sa.distinct(PHASE_KEYS.c.phase_key)).label("n"))
                .where(PHASE_KEYS.c.joint.in_(variants))
                .group_by(PHASE_KEYS.c.technique_id)
                .subquery()
            )
            n_phases = sa.func.coalesce(key_phases.c.n, 0)
            query = (
                sa.select(TECHNIQUES, JOINT_LOADS.c.load, JOINT_LOADS.c.rationale, JOINT_LOADS.c.source.label("ls"))
                .join(JOINT_LOADS, JOINT_LOADS.c.technique_id == TECHNIQUES.c.id)
                .outerjoin(key_phases, key_phases.c.technique_id == TECHNIQUES.c.id)
                .where(JOINT_LOADS.c.joint == bare, JOINT_LOADS.c.load > 0)
                .order_by(JOINT_LOADS.c.load.desc(), n_phases.desc(), TECHNIQUES.c.id)
                .limit(limit)
            )
            ranked = list(connection.execute(query).mappings())
            phase_rows = connection.execute(
                sa.select(PHASES.c.technique_id, PHASES.c.key, PHASES.c.phase_order)
                .join(PHASE_KEYS, _same_phase(PHASE_KEYS))
                .where(PHASE_KEYS.c.joint.in_(variants), PHASES.c.technique_id.in_([r["id"] for r in ranked]))
                .distinct()
                .order_by(PHASES.c.technique_id, PHASES.c.phase_order)
            ).all()
            return tuple(
                TechniqueLoading(
                    technique=_technique(row), joint=bare, load=row["load"], rationale=row["rationale"],
                    source=row["ls"], key_phases=tuple(p.key for p in phase_rows if p.technique_id == row["id"]),
                )
                for row in ranked
            )  # fmt: skip

    def clips_showing(self, phase: str, *, technique: str | None = None) -> tuple[ClipShowing, ...]:
        """Clips linked to ``phase`` (of ``technique`` when given), by clip id; whole-clip links are not included."""
        key = normalise_name(phase, what="phase")
        query = sa.select(CLIP_LINKS).where(CLIP_LINKS.c.phase_key == key)
        with self._transaction() as connection:
            if technique is None:
                _require(key, connection.execute(sa.select(PHASES.c.key).distinct()).scalars(), "phase")
            else:
                technique_id = self._technique_row(connection, technique).id
                self._phase_key(connection, technique_id, key)
                query = query.where(CLIP_LINKS.c.technique_id == technique_id)
            rows = connection.execute(query.order_by(CLIP_LINKS.c.clip_id, CLIP_LINKS.c.technique_id)).mappings()
            return tuple(
                ClipShowing(
                    clip_id=r["clip_id"], technique=r["technique_id"], phase=r["phase_key"], note=r["note"],
                    frame_range=None if r["start_frame"] is None else (r["start_frame"], r["end_frame"]),
                )
                for r in rows
            )  # fmt: skip

    def faults_linked_to(self, risk_indicator: str) -> tuple[Fault, ...]:
        """Return the faults linked to a risk indicator: its engine name or an alias ("knee valgus" → both knees)."""
        key = normalise_name(risk_indicator, what="risk indicator")
        with self._transaction() as connection:
            names = set(connection.execute(sa.select(RISK_INDICATORS.c.id)).scalars())
            aliases = set(connection.execute(sa.select(RISK_ALIASES.c.alias)).scalars())
            _require(key, names | aliases, "risk indicator")
            by_alias = sa.select(RISK_ALIASES.c.risk_indicator_id).where(RISK_ALIASES.c.alias == key)
            ids = {key} if key in names else set(connection.execute(by_alias).scalars())
            linked = sa.select(FAULT_RISKS.c.fault_id).where(FAULT_RISKS.c.risk_indicator_id.in_(sorted(ids)))
            return self._faults(connection, FAULTS.c.id.in_(linked))

    # --- internals --------------------------------------------------------------------------------------------

    @contextmanager
    def _transaction(self) -> Iterator[sa.Connection]:
        try:
            connection = self._engine.connect()
        except sa.exc.OperationalError as error:
            url = self._engine.url.render_as_string(hide_password=True)
            raise UpstreamUnavailableError(
                f"the knowledge-graph database {url} did not answer: {error.orig}", details={"url": url}
            ) from None
        with connection, connection.begin():
            yield connection

    def _technique_row(self, connection: sa.Connection, technique: str) -> sa.Row[Any]:
        key = normalise_name(technique, what="technique")
        row = connection.execute(sa.select(TECHNIQUES).where(TECHNIQUES.c.id == key)).first()
        if row is None:
            _require(key, connection.execute(sa.select(TECHNIQUES.c.id)).scalars(), "technique")
        assert row is not None  # _require raised otherwise
        return row

    def _phase_key(self, connection: sa.Connection, technique_id: str, phase: str) -> str:
        key = normalise_name(phase, what="phase")
        known = connection.execute(sa.select(PHASES.c.key).where(PHASES.c.technique_id == technique_id)).scalars()
        return _require(key, known, f"phase of {technique_id!r}")

    def _phases(self, connection: sa.Connection, technique_id: str) -> tuple[Phase, ...]:
        keys = connection.execute(
            sa.select(PHASE_KEYS).where(PHASE_KEYS.c.technique_id == technique_id).order_by(PHASE_KEYS.c.id)
        ).mappings()
        by_phase: dict[str, list[PhaseKey]] = {}
        for k in keys:
            by_phase.setdefault(k["phase_key"], []).append(PhaseKey(k["joint"], k["metric"], k["role"], k["source"]))
        rows = connection.execute(
            sa.select(PHASES).where(PHASES.c.technique_id == technique_id).order_by(PHASES.c.phase_order)
        ).mappings()
        return tuple(
            Phase(technique=r["technique_id"], key=r["key"], name=r["name"], order=r["phase_order"],
                  description=r["description"], source=r["source"], keys=tuple(by_phase.get(r["key"], ())))
            for r in rows
        )  # fmt: skip

    def _faults(self, connection: sa.Connection, where: sa.ColumnElement[bool]) -> tuple[Fault, ...]:
        order = sa.select(PHASES.c.phase_order).where(_same_phase(FAULTS)).scalar_subquery()
        rows = list(
            connection.execute(
                sa.select(FAULTS).where(where).order_by(FAULTS.c.technique_id, order, FAULTS.c.id)
            ).mappings()
        )
        links = connection.execute(
            sa.select(FAULT_RISKS)
            .where(FAULT_RISKS.c.fault_id.in_([r["id"] for r in rows]))
            .order_by(FAULT_RISKS.c.risk_indicator_id)
        ).all()
        return tuple(
            Fault(id=r["id"], technique=r["technique_id"], phase=r["phase_key"], name=r["name"],
                  description=r["description"], source=r["source"],
                  risk_indicators=tuple(link.risk_indicator_id for link in links if link.fault_id == r["id"]))
            for r in rows
        )  # fmt: skip


def _technique(row: sa.RowMapping) -> Technique:
    return Technique(
        id=row["id"], sport=row["sport_id"], name=row["name"], movement_family=row["movement_family"],
        description=row["description"], source=row["source"],
    )  # fmt: skip


def _same_phase(table: sa.Table) -> sa.ColumnElement[bool]:
    return sa.and_(PHASES.c.technique_id == table.c.technique_id, PHASES.c.key == table.c.phase_key)


def _bare(joint: str) -> str:
    side, _, rest = joint.partition("_")
    return rest if side in SIDES and rest in BILATERAL_JOINTS else joint


def _require(key: str, known: Iterable[str | None], what: str) -> str:
    valid = sorted({name for name in known if name is not None})
    if key not in valid:
        raise NotFoundError(f"unknown {what} {key!r}; valid: {', '.join(valid)}", details={"name": key, "valid": valid})
    return key


def _enable_sqlite_foreign_keys(dbapi_connection: Any, _record: Any) -> None:
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.close()
