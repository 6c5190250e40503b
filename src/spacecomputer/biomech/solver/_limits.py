"""Joint range-of-motion limits of the pose lab's skeleton, read from the packaged ``joint_limits.toml``.

Source
------
Where the OpenSim model shipped with Pose2Sim 0.10.49 (``Pose2Sim/OpenSim_Setup/Model_Pose2Sim_simple.osim``,
model ``Pose2Sim_Simple``) has a clamped coordinate for a degree of freedom, its ``<range>`` (radians) is the
limit, converted to degrees and to the engine's sign convention. The file's ``<credits>`` read: "Full-body model
adapted from Rajagopal et al. No muscles included. […] clamped hip flexion to 150° instead of 120°, hip adduction
-60° instead of -50°, hip rotation -70° instead of -40°, knee 155° instead of 120°." Its ``<publications>`` name
Pagnon, Domalain and Reveret (2021), *Pose2Sim: An End-to-End Workflow for 3D Markerless Sports Kinematics —
Part 1: Robustness*, Sensors 21(19):6530. Everything else is marked ``our own`` in the table, with the reason.

Sign mappings (model coordinate → our degree of freedom; the table's ``sign`` and ``note`` say the same)
-------------------------------------------------------------------------------------------------------
============================  =====================================  ====  =========================================
ours                          model coordinate                       sign  why
============================  =====================================  ====  =========================================
``{side}_hip_flexion``        ``hip_flexion_{r,l}``                  +1    flexion positive in both
``{side}_hip_adduction``      ``hip_adduction_r`` (both sides)       +1    adduction positive; the file's left axis
                                                                           is unmirrored (see the table's note)
``{side}_hip_internal_rot…``  ``hip_rotation_r`` (both sides)        +1    internal positive; idem
``{side}_knee_flexion``       ``knee_angle_{r,l}``                   +1    flexion positive, range [0°, 155°]
``{side}_ankle_dorsiflexion`` ``ankle_angle_{r,l}``                  +1    dorsiflexion positive; zeros differ
``{side}_elbow_flexion``      ``elbow_flex_{r,l}``                   +1    flexion positive, range [0°, 150°]
``lumbar_bending``            ``L5_S1_Lat_Bending``                  +1    towards the right positive
``lumbar_rotation``           ``L5_S1_axial_rotation``               +1    front turned to the left positive
``neck_flexion``              ``neck_flexion``                       −1    the model's positive is extension
``neck_bending``              ``neck_bending``                       +1    towards the right positive
``neck_rotation``             ``neck_rotation``                      +1    face turned to the left positive
============================  =====================================  ====  =========================================

The model's shoulder coordinates (``arm_flex``, ``arm_add``, ``arm_rot``) are not clamped, so their ranges do not
limit the model; our shoulder limits are our own (the table records the model's coordinate). The root (pelvis
position and orientation) is free. Translations are in metres; every other limit in degrees.
"""

from __future__ import annotations

import importlib.resources
import math
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass
from functools import cache
from typing import Any, Literal

from spacecomputer.errors import InvalidInputError

__all__ = ["LIMITS_RESOURCE", "JointLimit", "joint_limits", "limits_source"]

LIMITS_RESOURCE = "joint_limits.toml"
"""The packaged table, in ``spacecomputer.biomech.solver``."""


@dataclass(frozen=True)
class JointLimit:
    """The range of motion of one degree of freedom.

    Attributes
    ----------
    name
        Degree of freedom (``left_knee_flexion``).
    lower, upper
        Bounds in degrees (metres for the pelvis translations); ``±inf`` where the coordinate is free.
    source
        ``"model"`` (the OpenSim model's clamped coordinate range, see the module docstring) or ``"our own"``.
    coordinate
        The model coordinate the bounds come from; ``None`` for our own.
    sign
        ``+1`` or ``−1``: ours = sign × the model's (with −1 the bounds swap); ``None`` for our own.
    note
        Sign mapping, zero differences or the reason for our own choice.

    """

    name: str
    lower: float
    upper: float
    source: Literal["model", "our own"]
    coordinate: str | None
    sign: int | None
    note: str

    def contains(self, value: float, *, tolerance: float = 0.0) -> bool:
        """Whether ``value`` (same unit as the bounds) lies within them, widened by ``tolerance``."""
        return self.lower - tolerance <= value <= self.upper + tolerance

    def clamp(self, value: float) -> float:
        """Return ``value`` moved onto the nearest bound when outside."""
        return min(max(value, self.lower), self.upper)


def _entry(name: str, raw: Mapping[str, Any]) -> JointLimit:
    lower, upper, source = float(raw["lower"]), float(raw["upper"]), raw["source"]
    if not (lower <= upper and not math.isnan(lower) and not math.isnan(upper)) or source not in ("model", "our own"):
        raise InvalidInputError(f"joint limit {name!r} is malformed in {LIMITS_RESOURCE}: {dict(raw)}")
    if source == "model" and (raw.get("coordinate") is None or raw.get("sign") not in (1, -1)):
        raise InvalidInputError(f"joint limit {name!r} comes from the model but names no coordinate and sign")
    return JointLimit(
        name=name,
        lower=lower,
        upper=upper,
        source=source,
        coordinate=raw.get("coordinate") if source == "model" else None,
        sign=int(raw["sign"]) if source == "model" else None,
        note=str(raw["note"]),
    )


@cache
def _document() -> dict[str, Any]:
    text = importlib.resources.files("spacecomputer.biomech.solver").joinpath(LIMITS_RESOURCE).read_text("utf-8")
    return tomllib.loads(text)


@cache
def _limits() -> Mapping[str, JointLimit]:
    return {name: _entry(name, raw) for name, raw in _document()["dof"].items()}


def joint_limits() -> dict[str, JointLimit]:
    """Return the range of motion of every degree of freedom of the skeleton, keyed by name.

    Examples
    --------
    >>> knee = joint_limits()["left_knee_flexion"]
    >>> knee.lower, knee.upper, knee.source, knee.coordinate
    (0.0, 155.0, 'model', 'knee_angle_l')

    """
    return dict(_limits())


def limits_source() -> dict[str, str]:
    """Return the table's ``[source]`` section: package, file, model name, and the file's credits and publications."""
    return {key: str(value) for key, value in _document()["source"].items()}
