"""Joint and segment angle definitions over BlazePose landmarks: what each angle reads, means and computes.

Everything here works on plain (T, 3) arrays in one frame with an explicit unit ``up`` vector, so no
axis convention is assumed. Each angle is an :class:`AngleDefinition`: its name, the BlazePose landmarks
it reads, its convention in one paragraph, and the function that computes it (or, for a degree of
freedom the landmarks cannot observe, the reason it is not computed). The table and the justification
of each choice are in :mod:`spacecomputer.biomech._kinematics`; the vector helpers and the segment frames
(our own landmark approximations of Wu et al. 2002) are in :mod:`spacecomputer.biomech._angles_geometry`.

For the left side the lateral axis points left (a mirror image of the right side's frame), so an angle
means the same movement on both sides.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray

from spacecomputer.biomech._angles_geometry import (
    _TINY_M,
    CONDITIONING_LIMIT_DEG,
    LandmarkPoints,
    Points,
    _angle_between_deg,
    _Axes,
    _flexion_range_deg,
    _heading_axes,
    _memoised,
    _pelvis_axes,
    _plane_angles_deg,
    _thorax_axes,
)
from spacecomputer.biomech._angles_geometry import _dot as _dot
from spacecomputer.biomech._angles_geometry import _norm as _norm
from spacecomputer.biomech._angles_geometry import _perpendicular_unit as _perpendicular_unit

__all__ = [
    "CONDITIONING_LIMIT_DEG",
    "JOINT_ANGLE_DEFINITIONS",
    "SEGMENT_ANGLE_DEFINITIONS",
    "AngleDefinition",
    "LandmarkPoints",
]

_SIDES = ("left", "right")
_MIDPOINTS = {"mid_hip": ("left_hip", "right_hip"), "mid_shoulder": ("left_shoulder", "right_shoulder")}


@dataclass(frozen=True)
class AngleDefinition:
    """One angle: what it reads, what it means and how to compute it.

    Attributes
    ----------
    name
        Key of the angle in the output (``left_knee_flexion``).
    landmarks
        BlazePose landmarks the angle is computed from; a missing one makes the angle NaN in that frame.
    convention
        Zero, sign and range in words.
    compute
        ``compute(points, up)`` → (T,) degrees; ``None`` when the angle is not observable.
    unavailable_reason
        Why the angle is not computed; ``None`` when it is.
    circular
        Whether the angle spans a full turn (then it is unwrapped in time within NaN-free runs).

    """

    name: str
    landmarks: tuple[str, ...]
    convention: str
    compute: Callable[[Points, NDArray[np.float64]], NDArray[np.float64]] | None
    unavailable_reason: str | None = None
    circular: bool = False


# --- joint angles -----------------------------------------------------------------------------------------------

_Compute = Callable[[Points, NDArray[np.float64]], NDArray[np.float64]]
_Frame = Callable[[Points], _Axes]
_PELVIS = ("left_hip", "right_hip", "left_shoulder", "right_shoulder")
"""The pelvis and thorax frames both need the hips and the shoulders (the trunk axis joins their midpoints)."""


def _ball_joint(side: str, frame: _Frame, joint: str, distal: str, which: str) -> _Compute:
    """``flexion``, ``abduction``, ``adduction`` or ``elevation`` of the segment joint→distal in a proximal frame."""

    def compute(p: Points, up: NDArray[np.float64]) -> NDArray[np.float64]:
        anterior, superior, right = frame(p)
        if which == "elevation":
            return _angle_between_deg(p[f"{side}_{distal}"] - p[f"{side}_{joint}"], -superior)

        def build() -> _Axes:  # flexion and ab/adduction come from one decomposition, made once for both
            segment = p[f"{side}_{distal}"] - p[f"{side}_{joint}"]
            return _plane_angles_deg(segment, -superior, anterior, right if side == "right" else -right)

        flexion, lateral = _memoised(p, ("cardan", frame.__name__, side, joint, distal), build)
        if which == "flexion":
            return _flexion_range_deg(flexion)
        return lateral if which == "abduction" else -lateral

    return compute


def _hinge(proximal: str, joint: str, distal: str) -> _Compute:
    def compute(p: Points, up: NDArray[np.float64]) -> NDArray[np.float64]:
        return _angle_between_deg(p[joint] - p[proximal], p[distal] - p[joint])

    return compute


def _ankle(side: str) -> _Compute:
    def compute(p: Points, up: NDArray[np.float64]) -> NDArray[np.float64]:
        shank = p[f"{side}_knee"] - p[f"{side}_ankle"]
        foot = p[f"{side}_foot_index"] - p[f"{side}_heel"]
        return 90.0 - _angle_between_deg(shank, foot)

    return compute


def _trunk(which: int) -> _Compute:
    def compute(p: Points, up: NDArray[np.float64]) -> NDArray[np.float64]:
        forward, right = _heading_axes(p, ("left_shoulder", "right_shoulder"), up)
        vertical = np.broadcast_to(up, forward.shape)
        flexion, lean = _plane_angles_deg(p["mid_shoulder"] - p["mid_hip"], vertical, forward, right)
        return flexion if which == 0 else lean

    return compute


def _pelvis_obliquity(p: Points, up: NDArray[np.float64]) -> NDArray[np.float64]:
    line = p["right_hip"] - p["left_hip"]
    rise = _dot(line, up)
    horizontal = _norm(line - rise[..., None] * up)
    angle = np.degrees(np.arctan2(rise, horizontal))
    angle[~(_norm(line) > _TINY_M)] = np.nan
    return angle


_PELVIS_TILT_REASON = (
    "not observable: BlazePose gives only the two hip centres on the pelvis, and tilt about the left-right axis "
    "needs a third pelvic landmark (anterior and posterior iliac spines). Our pelvis frame borrows the trunk "
    "direction, so its tilt would only repeat trunk_flexion; hip flexion is therefore measured from the trunk "
    "axis and includes lumbar flexion."
)
_HIP_ROTATION_REASON = (
    "not observable: the thigh's rotation about its own axis could only come from the plane of hip, knee and "
    "ankle, which is undefined when the knee is straight and also turns with the tibia. On the sample clip "
    "that candidate moved by 12 degrees (median) under the landmark noise that moves knee flexion by 5.5, "
    "and by 36-43 degrees with the knee straighter than 15 degrees."
)
_SHOULDER_ROTATION_REASON = (
    "not observable: the humerus's rotation about its own axis could only come from the plane of shoulder, "
    "elbow and wrist, undefined when the elbow is straight. On the sample clip that candidate moved by "
    "16-18 degrees (median) under the landmark noise that moves elbow flexion by 8.5, and by 37-39 degrees "
    "with the elbow straighter than 20 degrees."
)
_PRONATION_REASON = (
    "not observable: it would rest on the index and pinky landmarks, a median 3.9 cm apart on the sample "
    "clip; under the landmark noise that moves elbow flexion by 8.5 degrees the candidate moved by about "
    "52 degrees."
)


def _unobservable(name: str, landmarks: tuple[str, ...], axis: str, positive: str, reason: str) -> AngleDefinition:
    return AngleDefinition(name, landmarks, f"Rotation about {axis}; {positive} would be positive.", None, reason)


def _joint_definitions() -> tuple[AngleDefinition, ...]:
    out: list[AngleDefinition] = []
    for side in _SIDES:
        hip = (*_PELVIS, f"{side}_knee")
        leg = (f"{side}_hip", f"{side}_knee", f"{side}_ankle")
        arm = (*_PELVIS, f"{side}_elbow")
        out += [
            AngleDefinition(
                f"{side}_hip_flexion",
                hip,
                "Thigh (hip→knee) in the pelvis frame (right: left→right hip; superior: mid-hip→mid-shoulder made "
                "perpendicular; anterior: superior × right), first angle of a Z-X-Y Cardan sequence, about the "
                "pelvis's left-right axis. 0° = thigh along the trunk axis, positive = flexion (knee forward), "
                "negative = extension; range -90° to 270°. NaN within 10° of the left-right axis.",
                _ball_joint(side, _pelvis_axes, "hip", "knee", "flexion"),
            ),
            AngleDefinition(
                f"{side}_hip_adduction",
                hip,
                "Second angle of the same sequence: the thigh's angle out of the pelvis's sagittal plane. "
                "0° = in the plane, positive = adduction (knee towards the midline), negative = abduction; ±90°.",
                _ball_joint(side, _pelvis_axes, "hip", "knee", "adduction"),
            ),
            _unobservable(
                f"{side}_hip_internal_rotation", hip, "the thigh's long axis", "internal rotation", _HIP_ROTATION_REASON
            ),
            AngleDefinition(
                f"{side}_knee_flexion",
                leg,
                "Angle between the thigh (hip→knee) and shank (knee→ankle) axes, 0-180°. 0° = straight, positive "
                "= flexion. Unsigned: hyperextension reads as a small positive flexion.",
                _hinge(*leg),
            ),
            AngleDefinition(
                f"{side}_ankle_dorsiflexion",
                (f"{side}_knee", f"{side}_ankle", f"{side}_heel", f"{side}_foot_index"),
                "90° minus the angle between the shank (ankle→knee) and the foot (heel→foot index). 0° = foot "
                "perpendicular to the shank, positive = dorsiflexion, negative = plantar flexion.",
                _ankle(side),
            ),
            AngleDefinition(
                f"{side}_shoulder_flexion",
                arm,
                "Upper arm (shoulder→elbow) in the thorax frame (superior: mid-hip→mid-shoulder; right: left→right "
                "shoulder made perpendicular; anterior: superior × right), first angle of a Z-X-Y Cardan sequence. "
                "0° = arm along the trunk, 90° = forward horizontal, 180° = overhead, negative = extension "
                "(arm behind); range -90° to 270°. NaN within 10° of the thorax's left-right axis.",
                _ball_joint(side, _thorax_axes, "shoulder", "elbow", "flexion"),
            ),
            AngleDefinition(
                f"{side}_shoulder_abduction",
                arm,
                "Second angle of the same sequence: the upper arm's angle out of the thorax's sagittal plane, "
                "positive = abduction (away from the midline), negative = across the body; ±90°. An arm raised "
                "sideways past horizontal continues as flexion above 90° (see shoulder_elevation).",
                _ball_joint(side, _thorax_axes, "shoulder", "elbow", "abduction"),
            ),
            AngleDefinition(
                f"{side}_shoulder_elevation",
                arm,
                "Angle between the upper arm (shoulder→elbow) and the thorax's downward axis, 0-180° in any "
                "plane: 0° = arm hanging, 90° = horizontal, 180° = overhead.",
                _ball_joint(side, _thorax_axes, "shoulder", "elbow", "elevation"),
            ),
            _unobservable(
                f"{side}_shoulder_internal_rotation",
                arm,
                "the upper arm's long axis",
                "internal rotation",
                _SHOULDER_ROTATION_REASON,
            ),
            AngleDefinition(
                f"{side}_elbow_flexion",
                (f"{side}_shoulder", f"{side}_elbow", f"{side}_wrist"),
                "Angle between the upper arm (shoulder→elbow) and forearm (elbow→wrist) axes, 0-180°. 0° = "
                "straight, positive = flexion.",
                _hinge(f"{side}_shoulder", f"{side}_elbow", f"{side}_wrist"),
            ),
            _unobservable(
                f"{side}_forearm_pronation",
                (f"{side}_elbow", f"{side}_wrist", f"{side}_index", f"{side}_pinky"),
                "the forearm's long axis",
                "pronation",
                _PRONATION_REASON,
            ),
        ]
    out += [
        AngleDefinition(
            "trunk_flexion",
            _PELVIS,
            "Trunk axis (mid-hip→mid-shoulder) from the vertical (up), in the body's sagittal plane (the vertical "
            "plane perpendicular to the horizontal part of the left→right shoulder line). 0° = upright, positive "
            "= leaning forward, negative = backward; unwrapped in time, so a somersault keeps counting. NaN when "
            "the shoulder line is within 10° of vertical.",
            _trunk(0),
            circular=True,
        ),
        AngleDefinition(
            "trunk_lateral_lean",
            _PELVIS,
            "The trunk axis's angle out of that sagittal plane: 0° = no lean, positive = towards the athlete's "
            "right, negative = left; ±90°.",
            _trunk(1),
        ),
        AngleDefinition(
            "pelvis_obliquity",
            ("left_hip", "right_hip"),
            "Angle of the hip line (left→right hip) above the horizontal plane: 0° = level, positive = right hip "
            "higher than the left; ±90°.",
            _pelvis_obliquity,
        ),
        _unobservable(
            "pelvis_tilt",
            ("left_hip", "right_hip"),
            "the pelvis's left-right axis",
            "anterior tilt",
            _PELVIS_TILT_REASON,
        ),
    ]
    return tuple(out)


# --- segment angles ---------------------------------------------------------------------------------------------


def _segment(proximal: str, distal: str, heading_line: tuple[str, str]) -> _Compute:
    def compute(p: Points, up: NDArray[np.float64]) -> NDArray[np.float64]:
        forward, right = _heading_axes(p, heading_line, up)
        angle, _ = _plane_angles_deg(p[distal] - p[proximal], forward, np.broadcast_to(up, forward.shape), right)
        return angle

    return compute


def _segment_definitions() -> tuple[AngleDefinition, ...]:
    hips, shoulders = ("left_hip", "right_hip"), ("left_shoulder", "right_shoulder")
    table: list[tuple[str, str, str, tuple[str, str]]] = [("trunk", "mid_hip", "mid_shoulder", shoulders)]
    for side in _SIDES:
        table += [
            (f"{side}_thigh", f"{side}_hip", f"{side}_knee", hips),
            (f"{side}_shank", f"{side}_knee", f"{side}_ankle", hips),
            (f"{side}_foot", f"{side}_heel", f"{side}_foot_index", hips),
            (f"{side}_upper_arm", f"{side}_shoulder", f"{side}_elbow", shoulders),
            (f"{side}_forearm", f"{side}_elbow", f"{side}_wrist", shoulders),
        ]
    out = []
    for name, proximal, distal, heading in table:
        ends = tuple(dict.fromkeys(_MIDPOINTS.get(proximal, (proximal,)) + _MIDPOINTS.get(distal, (distal,)) + heading))
        plane = "hip" if heading == hips else "shoulder"
        out.append(
            AngleDefinition(
                name,
                ends,
                f"Angle of the {proximal}→{distal} vector above the forward horizontal, in the body's sagittal "
                f"plane (the vertical plane perpendicular to the horizontal part of the left→right {plane} line). "
                "0° = pointing forward, +90° = up, -90° = down, ±180° = backward; unwrapped in time, so a "
                "full turn keeps counting. NaN within 10° of the left-right axis.",
                _segment(proximal, distal, heading),
                circular=True,
            )
        )
    return tuple(out)


JOINT_ANGLE_DEFINITIONS = _joint_definitions()
"""Every joint angle, left side first, then the trunk and pelvis."""

SEGMENT_ANGLE_DEFINITIONS = _segment_definitions()
"""Every segment angle to the horizontal: trunk, then thigh, shank, foot, upper arm, forearm per side."""
