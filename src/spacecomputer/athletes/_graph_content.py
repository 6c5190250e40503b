"""Reading and checking the knowledge graph's TOML content into rows of the ``kg_*`` tables.

Format (``graph_content.toml`` is the packaged example; every text entry carries a ``source``)::

    [[sport]]            id, name, description, source
    [[technique]]        id, sport, name, description, source, movement_family (optional)
    [[technique.phase]]  key, name, description, source, keys = [{joint?, metric, role, source}, ...]
    [[technique.load]]   joint, load (integer 0-3, our own rating), rationale, source
    [[technique.fault]]  key, name, description, source, phase (optional), risk_indicators = [engine names]
    [[risk_indicator]]   id (engine name), name, description, source, aliases = [plain words]

Ids and keys are lower-case ``snake_case``; phases are numbered in the order they are listed. A key entry whose
``metric`` contains ``{side}`` stands for a left and a right entry: ``{side}`` is replaced by ``left`` and
``right`` in the metric and the joint becomes ``left_knee`` / ``right_knee`` (the joint must then be one of
:data:`BILATERAL_JOINTS`). Joints come from :data:`BILATERAL_JOINTS` and :data:`AXIAL_JOINTS`. A risk indicator
id must belong to a family of the engine's :data:`~spacecomputer.biomech.RISK_THRESHOLDS`; aliases are
normalised as query strings are (:func:`normalise_name`).
"""

from __future__ import annotations

import re
import tomllib
from dataclasses import dataclass, field
from typing import Any

from spacecomputer.athletes._graph_schema import ID_LENGTH, METRIC_LENGTH
from spacecomputer.biomech import RISK_THRESHOLDS
from spacecomputer.errors import InvalidInputError

__all__ = ["AXIAL_JOINTS", "BILATERAL_JOINTS", "SIDES", "GraphContent", "normalise_name", "parse_content"]

BILATERAL_JOINTS = ("hip", "knee", "ankle", "shoulder", "elbow", "wrist")
"""Joints that exist on both sides; a phase key names them with a side (``left_knee``) or without (either)."""
AXIAL_JOINTS = ("trunk", "pelvis", "neck")
"""Joints (or segments) of the body's midline."""
SIDES = ("left", "right")

_KEY = re.compile(r"[a-z][a-z0-9_]*")
_SEPARATORS = re.compile(r"[\s/\-]+")
Row = dict[str, Any]


def normalise_name(text: object, *, what: str) -> str:
    """Return ``text`` as a ``snake_case`` key: lower case, runs of spaces, ``/`` and ``-`` turned into ``_``.

    Raises
    ------
    InvalidInputError
        ``text`` is not a string, or is empty or blank; ``what`` names the parameter in the message.

    Examples
    --------
    >>> normalise_name(" Flight/contact ", what="phase")
    'flight_contact'

    """
    if not isinstance(text, str) or not text.strip():
        raise InvalidInputError(f"{what} must be a non-empty name; got {text!r}", details={what: repr(text)})
    return _SEPARATORS.sub("_", text.strip().lower()).strip("_")


@dataclass(frozen=True)
class GraphContent:
    """Rows per ``kg_*`` table name, checked against each other (no dangling reference)."""

    rows: dict[str, list[Row]] = field(default_factory=dict)


def parse_content(text: str, *, origin: str) -> GraphContent:
    """Parse and check TOML content (module docstring); ``origin`` names the file in error messages.

    Raises
    ------
    InvalidInputError
        The text is not TOML, or an entry lacks a field, has an unknown one, a wrong type, a bad id, a
        duplicate, or refers to a sport, phase or risk indicator the content does not define.

    """
    try:
        document = tomllib.loads(text)
    except tomllib.TOMLDecodeError as error:
        raise InvalidInputError(f"{origin} is not valid TOML: {error}", details={"origin": origin}) from None
    _only(document, {"sport", "technique", "risk_indicator"}, origin)
    rows: dict[str, list[Row]] = {
        name: []
        for name in (
            "kg_sports", "kg_techniques", "kg_phases", "kg_phase_keys", "kg_joint_loads", "kg_risk_indicators",
            "kg_risk_aliases", "kg_faults", "kg_fault_risks",
        )
    }  # fmt: skip
    for where, sport in _tables(document, "sport", origin):
        entry = _fields(sport, where, ("id", "name", "description", "source"))
        rows["kg_sports"].append({**entry, "id": _id(entry["id"], where)})
    sports = _unique([r["id"] for r in rows["kg_sports"]], f"{origin}: sport ids")
    risks = _risk_indicators(document, origin, rows)
    for where, technique in _tables(document, "technique", origin):
        _technique(technique, where, sports, risks, rows)
    _unique([r["id"] for r in rows["kg_techniques"]], f"{origin}: technique ids")
    return GraphContent(rows)


# --- entries ------------------------------------------------------------------------------------------------------


def _risk_indicators(document: dict[str, Any], origin: str, rows: dict[str, list[Row]]) -> set[str]:
    for where, raw in _tables(document, "risk_indicator", origin):
        entry = _fields(raw, where, ("id", "name", "description", "source"), lists=("aliases",))
        name = _id(entry.pop("id"), where, length=METRIC_LENGTH)
        family = "asymmetry" if name.startswith("asymmetry_") else name.removesuffix("_left").removesuffix("_right")
        if family not in RISK_THRESHOLDS:
            raise InvalidInputError(
                f"{where}: {name!r} is not a risk indicator of the engine (families: {sorted(RISK_THRESHOLDS)})",
                details={"risk_indicator": name},
            )
        aliases = {normalise_name(alias, what=f"{where} alias") for alias in entry.pop("aliases", [])}
        rows["kg_risk_indicators"].append({"id": name, **entry})
        rows["kg_risk_aliases"] += [{"alias": alias, "risk_indicator_id": name} for alias in sorted(aliases)]
    return _unique([r["id"] for r in rows["kg_risk_indicators"]], f"{origin}: risk indicator ids")


def _technique(raw: Any, where: str, sports: set[str], risks: set[str], rows: dict[str, list[Row]]) -> None:
    entry = _fields(raw, where, ("id", "sport", "name", "description", "source"), optional=("movement_family",),
                    tables=("phase", "load", "fault"))  # fmt: skip
    technique = _id(entry["id"], where)
    where = f"technique {technique!r}"
    _known(entry["sport"], sports, f"{where}: sport")
    family = entry.get("movement_family")
    rows["kg_techniques"].append({
        "id": technique, "sport_id": entry["sport"], "name": entry["name"],
        "movement_family": None if family is None else _id(family, f"{where}: movement_family"),
        "description": entry["description"], "source": entry["source"],
    })  # fmt: skip
    for order, (at, phase) in enumerate(_tables(entry, "phase", where), start=1):
        fields = _fields(phase, at, ("key", "name", "description", "source"), lists=("keys",))
        key = _id(fields["key"], at)
        rows["kg_phases"].append({"technique_id": technique, "key": key, "name": fields["name"],
                                  "phase_order": order, "description": fields["description"],
                                  "source": fields["source"]})  # fmt: skip
        for number, item in enumerate(fields.get("keys", []), start=1):
            rows["kg_phase_keys"] += _phase_keys(item, f"{where} phase {key!r} key {number}", technique, key)
    phases = _unique([r["key"] for r in rows["kg_phases"] if r["technique_id"] == technique], f"{where}: phases")
    _unique([(r["phase_key"], r["metric"]) for r in rows["kg_phase_keys"] if r["technique_id"] == technique],
            f"{where}: (phase, metric) keys")  # fmt: skip
    for at, load in _tables(entry, "load", where):
        fields = _fields(load, at, ("joint", "rationale", "source"), integers=("load",))
        joint = _known(fields["joint"], {*BILATERAL_JOINTS, *AXIAL_JOINTS}, f"{at}: joint")
        if not 0 <= fields["load"] <= 3:
            raise InvalidInputError(f"{at}: load must be an integer 0-3 (our ordinal rating); got {fields['load']}")
        rows["kg_joint_loads"].append({"technique_id": technique, **fields, "joint": joint})
    _unique([r["joint"] for r in rows["kg_joint_loads"] if r["technique_id"] == technique], f"{where}: loads")
    for at, fault in _tables(entry, "fault", where):
        fields = _fields(fault, at, ("key", "name", "description", "source"), optional=("phase",),
                         lists=("risk_indicators",))  # fmt: skip
        fault_id = f"{technique}.{_id(fields['key'], at)}"
        phase = fields.get("phase")
        rows["kg_faults"].append({
            "id": fault_id, "technique_id": technique,
            "phase_key": None if phase is None else _known(phase, phases, f"{at}: phase"),
            "name": fields["name"], "description": fields["description"], "source": fields["source"],
        })  # fmt: skip
        linked = [_known(name, risks, f"{at}: risk indicator") for name in fields.get("risk_indicators", [])]
        rows["kg_fault_risks"] += [{"fault_id": fault_id, "risk_indicator_id": name} for name in linked]
        _unique(linked, f"{at}: risk_indicators")
    _unique([r["id"] for r in rows["kg_faults"] if r["technique_id"] == technique], f"{where}: faults")


def _phase_keys(raw: Any, where: str, technique: str, phase: str) -> list[Row]:
    fields = _fields(raw, where, ("metric", "role", "source"), optional=("joint",))
    joint, metric = fields.get("joint"), fields["metric"]
    if joint is not None:
        joint = _known(joint, {*BILATERAL_JOINTS, *AXIAL_JOINTS}, f"{where}: joint")
    base = {"technique_id": technique, "phase_key": phase, "role": fields["role"], "source": fields["source"]}
    if "{side}" not in metric:
        return [{**base, "joint": joint, "metric": _id(metric, where, length=METRIC_LENGTH)}]
    if joint not in BILATERAL_JOINTS:
        raise InvalidInputError(f"{where}: a '{{side}}' metric needs a joint of {BILATERAL_JOINTS}; got {joint!r}")
    return [
        {**base, "joint": f"{side}_{joint}", "metric": _id(metric.replace("{side}", side), where, length=METRIC_LENGTH)}
        for side in SIDES
    ]


# --- field checks ---------------------------------------------------------------------------------------------


def _tables(parent: dict[str, Any], name: str, where: str) -> list[tuple[str, Any]]:
    items = parent.get(name, [])
    if not isinstance(items, list):
        raise InvalidInputError(f"{where}: {name!r} must be an array of tables ([[{name}]])")
    return [(f"{where}: {name} {number}", item) for number, item in enumerate(items, start=1)]


def _only(entry: dict[str, Any], allowed: set[str], where: str) -> None:
    unknown = sorted(set(entry) - allowed)
    if unknown:
        raise InvalidInputError(f"{where}: unknown field(s) {unknown}; expected some of {sorted(allowed)}")


def _fields(
    raw: Any,
    where: str,
    required: tuple[str, ...],
    *,
    optional: tuple[str, ...] = (),
    lists: tuple[str, ...] = (),
    integers: tuple[str, ...] = (),
    tables: tuple[str, ...] = (),
) -> Row:
    """Check one entry: required text fields, optional text, lists (of text or tables), integers."""
    if not isinstance(raw, dict):
        raise InvalidInputError(f"{where} must be a table; got {type(raw).__name__}")
    _only(raw, {*required, *optional, *lists, *integers, *tables}, where)
    missing = [name for name in (*required, *integers) if name not in raw]
    if missing:
        raise InvalidInputError(f"{where}: missing field(s) {missing}")
    for name in (*required, *optional):
        if name in raw and (not isinstance(raw[name], str) or not raw[name].strip()):
            raise InvalidInputError(f"{where}: {name!r} must be non-empty text; got {raw[name]!r}")
    for name in lists:
        if name in raw and not isinstance(raw[name], list):
            raise InvalidInputError(f"{where}: {name!r} must be an array; got {raw[name]!r}")
    for name in integers:
        if isinstance(raw[name], bool) or not isinstance(raw[name], int):
            raise InvalidInputError(f"{where}: {name!r} must be an integer; got {raw[name]!r}")
    return dict(raw)


def _id(value: str, where: str, *, length: int = ID_LENGTH) -> str:
    if not isinstance(value, str) or not _KEY.fullmatch(value) or len(value) > length:
        raise InvalidInputError(
            f"{where}: {value!r} must be a lower-case snake_case id of at most {length} characters",
            details={"id": repr(value)},
        )
    return value


def _known(value: Any, known: set[str] | tuple[str, ...], where: str) -> str:
    if value not in known:
        raise InvalidInputError(f"{where} {value!r} is not defined; known: {sorted(known)}", details={"name": value})
    return str(value)


def _unique(values: list[Any], what: str) -> set[Any]:
    seen = set()
    for value in values:
        if value in seen:
            raise InvalidInputError(f"{what}: {value!r} appears twice", details={"duplicate": repr(value)})
        seen.add(value)
    return seen
