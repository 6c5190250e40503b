"""Kinetics without force plates: Newton–Euler inverse dynamics on the ground reaction estimated from video.

Everything is an *estimate from video*: no force is measured. Vectors are in the sequence's own frame with
gravity ``g = −gravity_m_s2 · up``; SI units throughout. Newton's laws need an inertial frame: a ``world`` or
a still ``camera`` frame. A ``hip_centred`` frame moves with the pelvis, so there every force and moment is
NaN, with the reason in :attr:`GroundReactionEstimate.unavailable_reason` and each joint's convention.

The ground reaction force itself is estimated in :mod:`spacecomputer.biomech._ground_reaction` (re-exported here).

Inverse dynamics (:func:`inverse_dynamics`)
-------------------------------------------
Newton–Euler per segment (segment motion from :mod:`spacecomputer.biomech._segment_motion`), distal to
proximal: legs bottom-up (foot, loaded by its ground reaction at its centre of pressure → shank → thigh), arms
top-down from the free end (hand, no external force → forearm → upper arm). For a segment of mass ``m``, COM
``c``, proximal joint ``P`` and distal joint ``D``::

    F_P = m (a_c − g) − F_ext + F_D
    M_P = I α + ω × (I ω) − (P − c) × F_P − (Q − c) × F_ext + (D − c) × F_D + M_D

(evaluated, equivalently, about the frame's origin), where ``F_D, M_D`` are the force and moment this segment
exerts on its distal neighbour (that neighbour's ``F_P, M_P``), and ``F_ext`` acts at ``Q`` (the foot's ground
reaction at its centre of pressure). Joint points are the BlazePose landmarks (ankle, knee, hip, wrist, elbow,
shoulder). ``force_n`` and ``moment_n_m`` are the force and net moment the proximal segment exerts on the
distal one at the joint.

================  =====================================  ======================================================
joint             flexion axis (unit, to the right)       positive ``flexion_moment_n_m`` (internal moment)
================  =====================================  ======================================================
hip               left → right hip line                   extensor (Winter)
knee              leg plane's normal (below)              extensor (Winter)
ankle             leg plane's normal (below)              plantarflexor (Winter)
shoulder          left → right shoulder line              flexor (ours)
elbow             upper arm's mediolateral axis           flexor (ours)
wrist             forearm's mediolateral axis             hand forward/up (palmar flexion if the palm faces forward)
================  =====================================  ======================================================

The knee and ankle share one axis, the normal of the leg's plane: ``shank × foot`` (knee → ankle × heel → foot
index, made unit; it points to the athlete's right). It is the hinge axis of the skeleton fitted to every frame
(:mod:`spacecomputer.biomech.solver`, whose knee turns the shank in the thigh's plane and whose ankle turns the foot
in the shank's), and the axis about which the knee flexion and ankle dorsiflexion angles turn, so the flexion moment is
the generalised force of those two angles, as OpenSim's inverse dynamics reports the force of its model's
coordinates. A limb's mediolateral axis (the hip line made ⟂ the thigh or shank) does not turn with the leg: with the
leg rotated about its long axis, the moment about it mixes in the frontal-plane moment. Where the foot is not seen, or
comes within :data:`~spacecomputer.biomech._angles_geometry.CONDITIONING_LIMIT_DEG` of the shank's line, the
proximal segment's mediolateral axis (the thigh's, the shank's) stands in.

A positive moment about the rightward axis turns a hanging limb forward and lifts a flat foot's toe, so the
hip and ankle values are ``−M · axis`` and the others ``+M · axis``. The leg signs follow Winter's support
moment (Winter D. A., 1980, *Overall principle of lower limb support during stance phase of gait*, J Biomech
13:923–927), which adds hip, knee and ankle moments with extensors (plantarflexors at the ankle) positive.
``power_w = M · (ω_distal − ω_proximal)``: positive = the net moment generates energy, negative = absorbs it;
the proximal segment of hip and shoulder is the trunk. :func:`moment_per_kg` divides by body mass (N·m/kg).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

import numpy as np
from numpy.typing import ArrayLike, NDArray

from spacecomputer.biomech._angles_geometry import CONDITIONING_LIMIT_DEG
from spacecomputer.biomech._body_model import BodyModel
from spacecomputer.biomech._events import FEET, up_unit_vector
from spacecomputer.biomech._ground_reaction import (
    COP_TILT_BAND_M,
    MAX_FRICTION_COEFFICIENT,
    NOT_INERTIAL_REASON,
    GroundReactionEstimate,
    check_gravity,
    estimate_ground_reaction,
)
from spacecomputer.biomech._movement_metrics import STANDARD_GRAVITY_M_S2
from spacecomputer.biomech._segment_motion import SegmentMotion, cross, segment_motion
from spacecomputer.domain import CoordinateFrame, PoseSequence
from spacecomputer.errors import InvalidInputError

__all__ = [
    "COP_TILT_BAND_M",
    "JOINTS",
    "MAX_FRICTION_COEFFICIENT",
    "GroundReactionEstimate",
    "JointKinetics",
    "estimate_ground_reaction",
    "inverse_dynamics",
    "leg_plane_axis",
    "moment_per_kg",
]

JOINTS = tuple(f"{side}_{joint}" for side in FEET for joint in ("ankle", "knee", "hip", "wrist", "elbow", "shoulder"))
"""Joints :func:`inverse_dynamics` reports, keyed ``{side}_{joint}``."""

# Distal to proximal: joint, distal and proximal segment, flexion axis, sign relative to M · axis, meaning.
_CHAIN = {
    "leg": (
        ("ankle", "foot", "shank", "leg_plane", -1.0, "plantarflexor"),
        ("knee", "shank", "thigh", "leg_plane", 1.0, "extensor"),
        ("hip", "thigh", "trunk", "hip_line", -1.0, "extensor"),
    ),
    "arm": (
        ("wrist", "hand", "forearm", "forearm", 1.0, "forward/up turning (palmar flexion if the palm faces forward)"),
        ("elbow", "forearm", "upper_arm", "upper_arm", 1.0, "flexor"),
        ("shoulder", "upper_arm", "trunk", "shoulder_line", 1.0, "flexor"),
    ),
}


@dataclass(frozen=True, eq=False)
class JointKinetics:
    """Net force, moment and power at one joint (conventions in the module docstring).

    Attributes
    ----------
    joint
        ``{side}_{ankle|knee|hip|wrist|elbow|shoulder}``.
    force_n
        (T, 3) N, force of the proximal on the distal segment at the joint, in the sequence's frame.
    moment_n_m
        (T, 3) N·m, net moment of the proximal on the distal segment.
    flexion_moment_n_m
        (T,) N·m, the component about the joint's flexion axis, signed as :attr:`convention` says.
    power_w
        (T,) W, ``moment_n_m · (ω_distal − ω_proximal)``.
    convention
        Axis and signs in words.

    """

    joint: str
    force_n: NDArray[np.float64]
    moment_n_m: NDArray[np.float64]
    flexion_moment_n_m: NDArray[np.float64]
    power_w: NDArray[np.float64]
    convention: str


def _dot(a: NDArray[np.float64], b: NDArray[np.float64]) -> NDArray[np.float64]:
    return np.asarray(np.einsum("ti,ti->t", a, b), dtype=np.float64)


def leg_plane_axis(
    knee: NDArray[np.float64], ankle: NDArray[np.float64], heel: NDArray[np.float64], foot_index: NDArray[np.float64]
) -> NDArray[np.float64]:
    """(T, 3) unit normal of the leg's plane, ``(ankle − knee) × (foot_index − heel)``, to the athlete's right.

    NaN where a point is missing or the foot line comes within
    :data:`~spacecomputer.biomech._angles_geometry.CONDITIONING_LIMIT_DEG` of the shank's line.
    """
    shank, foot = ankle - knee, foot_index - heel
    normal = np.cross(shank, foot)
    length = np.linalg.norm(normal, axis=1, keepdims=True)
    spread = np.linalg.norm(shank, axis=1, keepdims=True) * np.linalg.norm(foot, axis=1, keepdims=True)
    with np.errstate(invalid="ignore", divide="ignore"):
        conditioned = length >= np.sin(np.radians(CONDITIONING_LIMIT_DEG)) * spread
        return np.asarray(np.where(conditioned & (length > 0), normal / length, np.nan), dtype=np.float64)


def _flexion_axis(
    sequence: PoseSequence, motions: Mapping[str, SegmentMotion], side: str, source: str, proximal: str
) -> NDArray[np.float64]:
    """(T, 3) unit flexion axis, to the athlete's right (module docstring).

    A left → right landmark line, a segment's ``m`` axis, or the leg plane's normal with the proximal segment's ``m``
    axis where that is NaN.
    """
    if source.endswith("_line"):
        part = source.removesuffix("_line")
        line = sequence.joint(f"right_{part}") - sequence.joint(f"left_{part}")
        length = np.linalg.norm(line, axis=1, keepdims=True)
        with np.errstate(invalid="ignore", divide="ignore"):
            return np.asarray(np.where(length > 1e-12, line / length, np.nan), dtype=np.float64)
    mediolateral = np.asarray(motions[f"{side}_{proximal if source == 'leg_plane' else source}"].axes[:, :, 1])
    if source != "leg_plane":
        return mediolateral
    points = (sequence.joint(f"{side}_{name}") for name in ("knee", "ankle", "heel", "foot_index"))
    plane = leg_plane_axis(*(np.asarray(p, dtype=np.float64) for p in points))
    return np.asarray(np.where(np.isfinite(plane).all(axis=1, keepdims=True), plane, mediolateral), dtype=np.float64)


def _convention(joint: str, distal: str, proximal: str, source: str, meaning: str) -> str:
    if source.endswith("_line"):
        axis = f"left-right {source.replace('_', ' ')}"
    elif source == "leg_plane":
        axis = f"leg plane's normal, shank × foot (where the foot is not seen: the {proximal}'s mediolateral axis)"
    else:
        axis = f"{source} mediolateral axis"
    return (
        f"force and moment of the {proximal} on the {distal} at the {joint} landmark, in the sequence frame; "
        f"flexion moment about the {axis} (to the right), positive = internal {meaning} moment; "
        f"power = moment · (ω_{distal} − ω_{proximal}), positive = generation".replace("_", " ")
    )


def inverse_dynamics(
    sequence: PoseSequence,
    model: BodyModel,
    grf: GroundReactionEstimate,
    *,
    up: ArrayLike,
    gravity_m_s2: float = STANDARD_GRAVITY_M_S2,
) -> dict[str, JointKinetics]:
    """Net joint forces, moments and powers of the legs (bottom-up) and arms (top-down), keyed by joint.

    Parameters
    ----------
    sequence
        Metric pose sequence on the BlazePose skeleton.
    model
        Body model (segment masses and inertia).
    grf
        Ground reaction estimate of the same frames (:func:`estimate_ground_reaction`).
    up
        Unit 3-vector pointing up in the sequence's frame.
    gravity_m_s2
        Magnitude of gravity, m/s².

    Returns
    -------
    dict of str to JointKinetics
        One entry per name of :data:`JOINTS`; NaN where a landmark, a derivative, or (legs) the foot's ground
        reaction is unknown, and where a segment frame is ill-conditioned.

    Raises
    ------
    InvalidInputError
        ``up`` not a unit vector, a negative gravity, or ``grf`` for another number of frames.
    InvalidPoseDataError
        The sequence is not metric or lacks a landmark.

    """
    up_unit = up_unit_vector(up)
    g = -check_gravity(gravity_m_s2) * up_unit
    n = sequence.n_frames
    if grf.per_foot_n.shape != (n, 2, 3) or grf.centre_of_pressure_m.shape != (n, 2, 3):
        raise InvalidInputError(
            f"grf must describe the same {n} frames as the sequence; got per_foot_n of shape {grf.per_foot_n.shape}",
            details={"frames": n, "shape": list(grf.per_foot_n.shape)},
        )
    motions = segment_motion(sequence, model)
    not_inertial = sequence.frame is CoordinateFrame.HIP_CENTRED
    out = {}
    for side_index, side in enumerate(FEET):
        for limb, chain in _CHAIN.items():
            if limb == "leg":
                ground_force = grf.per_foot_n[:, side_index]
                external_moment = cross(grf.centre_of_pressure_m[:, side_index], ground_force)
                # A foot known airborne carries exactly zero force at an undefined (NaN) point.
                external_moment[(ground_force == 0.0).all(axis=1)] = 0.0
            else:
                ground_force, external_moment = np.zeros((n, 3)), np.zeros((n, 3))
            # Balances are taken about the frame's origin O (equivalent to the COM form of the module docstring):
            # ``carried`` = F_D, the force on the distal neighbour, ``carried_moment`` = M_D + D × F_D.
            carried, carried_moment = np.zeros((n, 3)), np.zeros((n, 3))
            for joint, distal, proximal, source, sign, meaning in chain:
                motion = motions[f"{side}_{distal}"]
                joint_m = np.asarray(sequence.joint(f"{side}_{joint}"), dtype=np.float64)
                linear = motion.mass_kg * (motion.com_acceleration_m_s2 - g)
                force = linear - ground_force + carried
                # M_P + P × F_P, from d/dt H_O = dH_c/dt + c × m a_c = Σ (moments about O); gravity acts at c.
                about_origin = (
                    motion.angular_momentum_rate_n_m + cross(motion.com_m, linear) - external_moment + carried_moment
                )
                moment = about_origin - cross(joint_m, force)
                axis = _flexion_axis(sequence, motions, side, source, proximal)
                proximal_motion = motions[proximal if proximal == "trunk" else f"{side}_{proximal}"]
                relative = motion.angular_velocity_rad_s - proximal_motion.angular_velocity_rad_s
                name = f"{side}_{joint}"
                convention = _convention(joint, distal, proximal, source, meaning)
                if not_inertial:
                    force, moment = np.full((n, 3), np.nan), np.full((n, 3), np.nan)
                    convention = f"{convention}; {NOT_INERTIAL_REASON}"
                out[name] = JointKinetics(
                    joint=name,
                    force_n=force,
                    moment_n_m=moment,
                    flexion_moment_n_m=sign * _dot(moment, axis),
                    power_w=_dot(moment, relative),
                    convention=convention,
                )
                ground_force, external_moment = np.zeros((n, 3)), np.zeros((n, 3))
                carried, carried_moment = force, about_origin
    return {name: out[name] for name in JOINTS}


def moment_per_kg(kinetics: dict[str, JointKinetics], mass_kg: float) -> dict[str, NDArray[np.float64]]:
    """Return each joint's (T,) flexion moment normalised by body mass, N·m/kg.

    Raises
    ------
    InvalidInputError
        If ``mass_kg`` is not a positive finite number.

    Examples
    --------
    >>> k = JointKinetics("left_knee", np.zeros((1, 3)), np.zeros((1, 3)), np.array([140.0]), np.zeros(1), "demo")
    >>> moment_per_kg({"left_knee": k}, 70.0)["left_knee"]
    array([2.])

    """
    if not (isinstance(mass_kg, int | float) and np.isfinite(mass_kg) and mass_kg > 0):
        raise InvalidInputError(f"mass_kg must be a positive finite number of kilograms; got {mass_kg!r}")
    return {name: k.flexion_moment_n_m / float(mass_kg) for name, k in kinetics.items()}
