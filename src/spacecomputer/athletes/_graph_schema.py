"""Relational tables of the technique knowledge graph: SQLAlchemy Core, the same on SQLite and PostgreSQL.

Nodes are rows, edges are foreign keys or link tables; every table name starts with ``kg_``::

    kg_sports ─< kg_techniques ─┬─< kg_phases ─< kg_phase_keys          (joint, engine metric, role)
                                ├─< kg_joint_loads                       (joint, ordinal load 0–3)
                                ├─< kg_faults (phase optional) ─< kg_fault_risks >─ kg_risk_indicators
                                └─< kg_clip_links (phase optional)                   └─< kg_risk_aliases

- Text columns (``name``, ``description``, ``role``, ``rationale``) come with a ``source`` column: where the
  statement comes from (``"project-written"`` for our own wording).
- ``kg_phases`` is keyed by ``(technique_id, key)``; faults, phase keys and clip links point at a phase with
  that composite foreign key. A fault or clip link with ``phase_key`` NULL concerns the whole technique or the
  whole clip (SQL's MATCH SIMPLE leaves a foreign key with a NULL column unchecked, on both back ends).
- ``kg_phase_keys.joint`` is ``left_knee``, ``right_knee``, ``knee`` (side-less, e.g. "either knee"),
  ``trunk``, …, or NULL for a whole-body metric (a step length, the centre of mass's speed).
- ``kg_joint_loads.load`` is our own qualitative ordinal rating (0 = little, 3 = high) of how much a technique
  loads a joint: a judgement, not a measurement.
- ``kg_risk_indicators.id`` is the name the biomechanics engine gives the indicator
  (:func:`~spacecomputer.biomech.risk_indicators`); ``kg_risk_aliases`` maps plain words ("knee_valgus",
  normalised) to those names.
- ``kg_clip_links`` ties a library clip (``clip_id``) to a technique and optionally a phase and a frame range
  (first and last frame, inclusive, 0-based); both frames NULL means the whole clip.

Only portable types (``String``, ``Text``, ``Integer``) and ANSI constraints are used, so :data:`GRAPH_METADATA`
creates the same schema on both back ends; constraint names follow one naming convention (for migrations).
"""

from __future__ import annotations

import sqlalchemy as sa

__all__ = [
    "CLIP_LINKS",
    "FAULTS",
    "FAULT_RISKS",
    "GRAPH_METADATA",
    "JOINT_LOADS",
    "PHASES",
    "PHASE_KEYS",
    "RISK_ALIASES",
    "RISK_INDICATORS",
    "SPORTS",
    "TECHNIQUES",
]

ID_LENGTH = 64
"""Longest id of a sport, technique, phase or fault key, characters."""
NAME_LENGTH = 200
"""Longest display name, characters."""
METRIC_LENGTH = 128
"""Longest engine metric, risk indicator, alias or clip id, characters."""
JOINT_LENGTH = 32
"""Longest joint name (``right_shoulder``), characters."""

GRAPH_METADATA = sa.MetaData(
    naming_convention={
        "ix": "ix_%(column_0_N_label)s",
        "uq": "uq_%(table_name)s_%(column_0_N_name)s",
        "ck": "ck_%(table_name)s_%(constraint_name)s",
        "fk": "fk_%(table_name)s_%(column_0_N_name)s_%(referred_table_name)s",
        "pk": "pk_%(table_name)s",
    }
)
"""The knowledge graph's tables (``kg_*``); ``GRAPH_METADATA.create_all(engine)`` creates them."""


def _source() -> sa.Column[str]:
    return sa.Column("source", sa.Text, nullable=False)


SPORTS = sa.Table(
    "kg_sports",
    GRAPH_METADATA,
    sa.Column("id", sa.String(ID_LENGTH), primary_key=True),
    sa.Column("name", sa.String(NAME_LENGTH), nullable=False),
    sa.Column("description", sa.Text, nullable=False),
    _source(),
)

TECHNIQUES = sa.Table(
    "kg_techniques",
    GRAPH_METADATA,
    sa.Column("id", sa.String(ID_LENGTH), primary_key=True),
    sa.Column("sport_id", sa.String(ID_LENGTH), sa.ForeignKey(SPORTS.c.id), nullable=False, index=True),
    sa.Column("name", sa.String(NAME_LENGTH), nullable=False),
    sa.Column("movement_family", sa.String(ID_LENGTH), nullable=True),
    sa.Column("description", sa.Text, nullable=False),
    _source(),
)

PHASES = sa.Table(
    "kg_phases",
    GRAPH_METADATA,
    sa.Column("technique_id", sa.String(ID_LENGTH), sa.ForeignKey(TECHNIQUES.c.id), primary_key=True),
    sa.Column("key", sa.String(ID_LENGTH), primary_key=True, index=True),
    sa.Column("name", sa.String(NAME_LENGTH), nullable=False),
    sa.Column("phase_order", sa.Integer, nullable=False),
    sa.Column("description", sa.Text, nullable=False),
    _source(),
    sa.UniqueConstraint("technique_id", "phase_order"),
    sa.CheckConstraint("phase_order >= 1", name="order_positive"),
)


def _phase_reference() -> sa.ForeignKeyConstraint:
    return sa.ForeignKeyConstraint(["technique_id", "phase_key"], [PHASES.c.technique_id, PHASES.c.key])


PHASE_KEYS = sa.Table(
    "kg_phase_keys",
    GRAPH_METADATA,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("technique_id", sa.String(ID_LENGTH), nullable=False),
    sa.Column("phase_key", sa.String(ID_LENGTH), nullable=False),
    sa.Column("joint", sa.String(JOINT_LENGTH), nullable=True, index=True),
    sa.Column("metric", sa.String(METRIC_LENGTH), nullable=False),
    sa.Column("role", sa.Text, nullable=False),
    _source(),
    _phase_reference(),
    sa.UniqueConstraint("technique_id", "phase_key", "metric"),
)

JOINT_LOADS = sa.Table(
    "kg_joint_loads",
    GRAPH_METADATA,
    sa.Column("technique_id", sa.String(ID_LENGTH), sa.ForeignKey(TECHNIQUES.c.id), primary_key=True),
    sa.Column("joint", sa.String(JOINT_LENGTH), primary_key=True, index=True),
    sa.Column("load", sa.Integer, nullable=False),
    sa.Column("rationale", sa.Text, nullable=False),
    _source(),
    sa.CheckConstraint("load >= 0 AND load <= 3", name="load_ordinal"),
)

RISK_INDICATORS = sa.Table(
    "kg_risk_indicators",
    GRAPH_METADATA,
    sa.Column("id", sa.String(METRIC_LENGTH), primary_key=True),
    sa.Column("name", sa.String(NAME_LENGTH), nullable=False),
    sa.Column("description", sa.Text, nullable=False),
    _source(),
)

RISK_ALIASES = sa.Table(
    "kg_risk_aliases",
    GRAPH_METADATA,
    sa.Column("alias", sa.String(METRIC_LENGTH), primary_key=True),
    sa.Column("risk_indicator_id", sa.String(METRIC_LENGTH), sa.ForeignKey(RISK_INDICATORS.c.id), primary_key=True),
)

FAULTS = sa.Table(
    "kg_faults",
    GRAPH_METADATA,
    sa.Column("id", sa.String(2 * ID_LENGTH + 1), primary_key=True),
    sa.Column("technique_id", sa.String(ID_LENGTH), sa.ForeignKey(TECHNIQUES.c.id), nullable=False, index=True),
    sa.Column("phase_key", sa.String(ID_LENGTH), nullable=True),
    sa.Column("name", sa.String(NAME_LENGTH), nullable=False),
    sa.Column("description", sa.Text, nullable=False),
    _source(),
    _phase_reference(),
)

FAULT_RISKS = sa.Table(
    "kg_fault_risks",
    GRAPH_METADATA,
    sa.Column("fault_id", sa.String(2 * ID_LENGTH + 1), sa.ForeignKey(FAULTS.c.id), primary_key=True),
    sa.Column(
        "risk_indicator_id",
        sa.String(METRIC_LENGTH),
        sa.ForeignKey(RISK_INDICATORS.c.id),
        primary_key=True,
        index=True,
    ),
)

CLIP_LINKS = sa.Table(
    "kg_clip_links",
    GRAPH_METADATA,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("clip_id", sa.String(METRIC_LENGTH), nullable=False),
    sa.Column("technique_id", sa.String(ID_LENGTH), sa.ForeignKey(TECHNIQUES.c.id), nullable=False),
    sa.Column("phase_key", sa.String(ID_LENGTH), nullable=True),
    sa.Column("start_frame", sa.Integer, nullable=True),
    sa.Column("end_frame", sa.Integer, nullable=True),
    sa.Column("note", sa.Text, nullable=False),
    _phase_reference(),
    sa.UniqueConstraint("clip_id", "technique_id", "phase_key"),
    sa.Index("ix_kg_clip_links_technique_id_phase_key", "technique_id", "phase_key"),
    sa.CheckConstraint(
        "(start_frame IS NULL AND end_frame IS NULL) OR "
        "(start_frame IS NOT NULL AND end_frame IS NOT NULL AND start_frame >= 0 AND end_frame >= start_frame)",
        name="frame_range",
    ),
)
