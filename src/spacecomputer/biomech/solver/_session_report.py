"""How a pose session reports a pose and a change: input checks, balance, angle and moment changes, warnings."""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray

from spacecomputer.biomech._events import FEET
from spacecomputer.biomech.solver._results import AngleChange, Balance, MomentChange, moment_change
from spacecomputer.biomech.solver._statics import StaticAnalysis
from spacecomputer.errors import InvalidInputError

__all__ = [
    "BELOW_GROUND_WARNING_M",
    "State",
    "angle_changes",
    "balance_of",
    "ground_warnings",
    "moment_changes",
    "point_target",
    "scalar_target",
]

BELOW_GROUND_WARNING_M = 0.01
"""A foot lower than this below the ground level is reported in the warnings, m (our own tolerance)."""
_ANGLE_TOLERANCE_DEG = 1e-9


@dataclass(frozen=True, eq=False)
class State:
    """One pose of a session's history with its analysis (computed once)."""

    q: NDArray[np.float64]
    points: NDArray[np.float64]
    statics: StaticAnalysis
    angles: Mapping[str, float]


def scalar_target(name: str, target: object) -> float:
    """Check an angle target: one finite number (degrees)."""
    array = np.asarray(target) if not isinstance(target, str | bytes | bool) else np.asarray(None)
    if array.shape != () or array.dtype.kind not in "iuf":
        raise InvalidInputError(f"{name} takes one number of degrees; got {target!r}", details={"name": name})
    value = float(array)
    if not math.isfinite(value):
        raise InvalidInputError(f"the target of {name} must be a finite number of degrees; got {value}")
    return value


def point_target(name: str, target: object) -> NDArray[np.float64]:
    """Check a joint target: a finite (3,) position (m)."""
    try:
        array = np.asarray(target, dtype=np.float64)
    except (TypeError, ValueError):
        array = np.full(0, np.nan)
    if array.shape != (3,):
        raise InvalidInputError(f"{name} takes a (3,) position in metres; got {target!r}", details={"name": name})
    if not np.isfinite(array).all():
        raise InvalidInputError(f"the target of {name} must be a finite position; got {array.tolist()}")
    return array


def balance_of(statics: StaticAnalysis) -> Balance:
    """Describe the static balance of the first pose of ``statics``."""
    feet = tuple(foot for foot, touching in zip(FEET, statics.in_contact[0], strict=True) if touching)
    margin = float(statics.com_to_bos_m[0])
    if not feet:
        note = "no foot on the ground: the pose cannot be held still"
    elif len(feet) == 1:
        note = (
            f"only the {feet[0]} foot on the ground: its base of support is the heel–ankle–toe line, without width "
            "(BlazePose has no landmark on the foot's borders), so the COM reads outside unless right over it"
        )
    else:
        note = "COM projection against the convex hull of the heels, ankles and toes of both feet"
    return Balance(bool(feet) and margin >= 0.0, margin, feet, statics.com_m[0].copy(), note)


def angle_changes(before: State, after: State) -> tuple[AngleChange, ...]:
    """List the angles that differ between two poses."""
    out = []
    for name, old in before.angles.items():
        new = after.angles[name]
        if not (abs(new - old) <= _ANGLE_TOLERANCE_DEG or (math.isnan(new) and math.isnan(old))):
            out.append(AngleChange(name, old, new))
    return tuple(out)


def moment_changes(before: State, after: State, mass_kg: float) -> tuple[MomentChange, ...]:
    """Describe every joint's moment change, largest first."""
    changes = [
        moment_change(joint, float(before.statics.flexion_moment_n_m[joint][0]), float(value[0]), mass_kg)
        for joint, value in after.statics.flexion_moment_n_m.items()
    ]
    return tuple(sorted(changes, key=lambda c: -abs(c.change_n_m) if math.isfinite(c.change_n_m) else 0.0))


def ground_warnings(statics: StaticAnalysis) -> list[str]:
    """Warn of feet below the ground."""
    return [
        f"the {foot} foot is {100 * -clearance:.1f} cm below the ground"
        for foot, clearance in zip(FEET, statics.foot_clearance_m[0], strict=True)
        if clearance < -BELOW_GROUND_WARNING_M
    ]
