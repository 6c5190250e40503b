"""What the optimiser's objectives read of poses: the features of a batch, the joint strengths, the context.

:func:`pose_features` computes, for a batch of skeleton coordinates, everything the objectives of
:mod:`~spacecomputer.biomech.solver._objectives` need (quasi-static moments, COM, contacts, leg extension and the
engine's risk angles) in one pass of the kinematics and statics; :class:`ObjectiveContext` holds what they need
besides the poses (strengths, the joints counted, body mass, frame interval, stance legs).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, fields, replace
from types import MappingProxyType

import numpy as np
from numpy.typing import ArrayLike, NDArray

from spacecomputer.biomech._events import FEET
from spacecomputer.biomech._kinetics import JOINTS
from spacecomputer.biomech._risk import knee_frontal_plane_projection_angle_deg
from spacecomputer.biomech.solver._dofs import JOINT_INDEX
from spacecomputer.biomech.solver._manipulate import derived_angles_deg
from spacecomputer.biomech.solver._statics import QuasiStatics, StaticAnalysis
from spacecomputer.errors import InvalidInputError

__all__ = ["STRENGTH_N_M_PER_KG", "ObjectiveContext", "PoseFeatures", "pose_features"]

Array = NDArray[np.float64]

STRENGTH_N_M_PER_KG: Mapping[str, float] = MappingProxyType(
    {"hip": 3.0, "knee": 2.5, "ankle": 2.0, "shoulder": 1.0, "elbow": 0.8, "wrist": 0.3}
)
"""Strength ``S_j / body mass`` of each joint kind, N·m/kg: **our own normalisation constants**, not measured
strengths and not taken from a publication. They are round numbers chosen to rank the joints hip > knee > ankle >
shoulder > elbow > wrist, the leg joints a few times the arm joints, so that a N·m at the elbow weighs more than
one at the hip. Pass measured values for an athlete (``strength_n_m_per_kg``) where they are known."""


@dataclass(frozen=True, eq=False)
class PoseFeatures:
    """What the objectives read of each pose, with any leading batch shape ``…`` (a phase adds a frame axis).

    Attributes
    ----------
    q
        (…, D) coordinates, m and rad.
    moment_n_m
        (…, J) quasi-static flexion moments in :data:`~spacecomputer.biomech.JOINTS` order, N·m.
    com_m
        (…, 3) whole-body centre of mass, m.
    in_contact
        (…, 2) feet in contact (left, right), as 0.0 or 1.0.
    leg_shortfall_m
        (…, 2) straight leg length (thigh + shank) minus the hip-to-ankle distance, m.
    fppa_deg
        (…, 2) the engine's knee frontal-plane projection angles, valgus positive (NaN where undefined; zeros when
        the features were computed without the risk measures).
    trunk_lateral_lean_deg
        (…,) the engine's trunk lateral lean (zeros without the risk measures).

    """

    q: Array
    moment_n_m: Array
    com_m: Array
    in_contact: Array
    leg_shortfall_m: Array
    fppa_deg: Array
    trunk_lateral_lean_deg: Array

    def map(self, function: Callable[[Array], Array]) -> PoseFeatures:
        """Apply ``function`` to every array (to index, reshape or stack the batch axes alike)."""
        return replace(self, **{f.name: function(getattr(self, f.name)) for f in fields(self)})


@dataclass(frozen=True, eq=False)
class ObjectiveContext:
    """What an objective needs besides the poses.

    Attributes
    ----------
    strength_n_m
        (J,) joint strengths ``S_j``, N·m.
    joint_weights
        (J,) 1.0 for the joints the moment terms count, 0.0 for the others.
    mass_kg, weight_n
        Body mass, kg, and weight ``m g``, N.
    dt_s
        Time between frames of a phase, s (NaN for single poses).
    stance
        (2,) legs counted by the push-off range (1.0 or 0.0); ``None``: each pose's own feet in contact.

    """

    strength_n_m: Array
    joint_weights: Array
    mass_kg: float
    weight_n: float
    dt_s: float = float("nan")
    stance: Array | None = None

    @classmethod
    def of(
        cls,
        statics: QuasiStatics,
        *,
        strength_n_m_per_kg: Mapping[str, float] | None = None,
        joints: tuple[str, ...] | None = None,
        fps: float | None = None,
        stance: ArrayLike | None = None,
    ) -> ObjectiveContext:
        """Build the context of a subject (``statics``' body), checking joint names and strengths.

        Raises
        ------
        InvalidInputError
            An unknown joint or joint kind (the message lists the valid ones), or a strength that is not a
            finite positive number.

        """
        strength = dict(STRENGTH_N_M_PER_KG) | dict(strength_n_m_per_kg or {})
        bad = {k: v for k, v in strength.items() if k not in STRENGTH_N_M_PER_KG or not _positive(v)}
        if bad:
            raise InvalidInputError(
                f"strengths are finite positive N·m/kg for the joint kinds {', '.join(STRENGTH_N_M_PER_KG)}; got {bad}",
                details={"invalid": {k: repr(v) for k, v in bad.items()}, "valid": list(STRENGTH_N_M_PER_KG)},
            )
        counted = JOINTS if joints is None else tuple(joints)
        unknown = [j for j in counted if j not in JOINTS]
        if unknown:
            raise InvalidInputError(
                f"unknown joints {unknown}; valid joints: {', '.join(JOINTS)}",
                details={"unknown": unknown, "valid": list(JOINTS)},
            )
        if fps is not None and not _positive(fps):
            raise InvalidInputError(f"fps must be a finite positive number of frames per second; got {fps!r}")
        mass = statics.body.mass_kg
        return cls(
            strength_n_m=np.array([strength[j.split("_", 1)[1]] * mass for j in JOINTS]),
            joint_weights=np.array([1.0 if j in counted else 0.0 for j in JOINTS]),
            mass_kg=mass,
            weight_n=statics.weight_n,
            dt_s=float("nan") if fps is None else 1.0 / fps,
            stance=None if stance is None else np.asarray(stance, dtype=np.float64),
        )


def _positive(value: object) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool) and bool(np.isfinite(value)) and value > 0


def pose_features(
    statics: QuasiStatics,
    q: Array,
    *,
    risk: bool = True,
    points: Array | None = None,
    analysis: StaticAnalysis | None = None,
) -> PoseFeatures:
    """Compute the features of (N, D) poses; ``risk`` adds the FPPA and trunk lean (the engine's, ~1 ms more).

    ``points`` (N, P, 3) and ``analysis``, the skeleton points and statics of ``q`` when already computed, spare
    computing them again.
    """
    model = statics.skeleton
    points = model.points(q) if points is None else points
    state = statics.analyse(points) if analysis is None else analysis
    n = q.shape[0]
    shortfall = np.empty((n, 2))
    for i, side in enumerate(FEET):
        reach = points[:, JOINT_INDEX[f"{side}_ankle"]] - points[:, JOINT_INDEX[f"{side}_hip"]]
        straight = model.dimensions_m[f"{side}_thigh"] + model.dimensions_m[f"{side}_shank"]
        shortfall[:, i] = straight - np.sqrt((reach * reach).sum(axis=1))
    fppa, lean = np.zeros((n, 2)), np.zeros(n)
    if risk:
        angles = knee_frontal_plane_projection_angle_deg(model.to_sequence(q), up=model.up)
        fppa = np.stack([angles[side] for side in FEET], axis=1)
        lean = derived_angles_deg(model, q, ("trunk_lateral_lean",), points_m=points)["trunk_lateral_lean"]
    return PoseFeatures(
        q=q,
        moment_n_m=np.stack([state.flexion_moment_n_m[j] for j in JOINTS], axis=1),
        com_m=state.com_m,
        in_contact=state.in_contact.astype(np.float64),
        leg_shortfall_m=shortfall,
        fppa_deg=fppa,
        trunk_lateral_lean_deg=np.asarray(lean, dtype=np.float64),
    )
