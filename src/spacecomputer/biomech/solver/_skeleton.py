"""The pose lab's kinematic skeleton: the subject's segment lengths and forward kinematics in the engine's angles.

The tree
--------
The root is the engine's pelvis frame (:func:`~spacecomputer.biomech._angles_geometry._pelvis_axes`: right = the
hip line, superior = the trunk axis made perpendicular to it, anterior = superior × right) at the mid-hip. The
trunk axis tilts out of the pelvis's superior axis by ``lumbar_bending``, in the pelvis's frontal plane (by the
engine's definition it has no forward part: BlazePose cannot see pelvic tilt, so lumbar flexion is part of hip
flexion); the thorax frame (superior = the trunk axis, right = the shoulder line made perpendicular) turns about
the trunk axis by ``lumbar_rotation`` and the shoulder line leaves its plane by ``shoulder_line_tilt``. The head
hangs from the mid-shoulder; the thighs from the hips in the pelvis frame and the upper arms from the shoulders in
the thorax frame, by the engine's Z-X-Y Cardan angles (:func:`~spacecomputer.biomech.solver._geometry.ball_joint_axes`),
plus a rotation about the segment's long axis that sets the plane of the knee or elbow. The knee and elbow are
hinges in that plane; the foot is a rigid heel–ankle–toe triangle in the shank's sagittal plane turned by
``ankle_dorsiflexion``; the hand's knuckle point continues the forearm (the wrist is not modelled).

By construction every distance of :data:`~spacecomputer.biomech.solver._dofs.BONES` is the model's dimension
whatever ``q`` is, and the engine's ``joint_angles`` on the points read the coordinates back exactly (within
their ranges: hip and shoulder flexion in [−90°, 270°), ab/adduction and ankle within ±90°, hinges in [0°, 180°]).
Names and units are in :mod:`spacecomputer.biomech.solver._dofs`; q is in metres and radians.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from functools import cached_property

import numpy as np
from numpy.typing import ArrayLike, NDArray

from spacecomputer.biomech._angles import JOINT_ANGLE_DEFINITIONS, LandmarkPoints
from spacecomputer.biomech._body_model import SHOULDER_HEIGHT_FRACTION
from spacecomputer.biomech._events import up_unit_vector
from spacecomputer.biomech._stability import horizontal_axes
from spacecomputer.biomech.solver._dofs import (
    ANGULAR_DOFS,
    BONES,
    DIMENSION_NAMES,
    DOF_INDEX,
    DOF_NAMES,
    JOINT_INDEX,
    JOINT_NAMES,
    LANDMARK_JOINTS,
    SIDES,
)
from spacecomputer.biomech.solver._fit import (
    SkeletonFit,
    dimensions_from_sequence,
    fit_landmark_frames,
    fit_landmarks,
    neck_neutral_from_sequence,
)
from spacecomputer.biomech.solver._fit_batch import FrameFits
from spacecomputer.biomech.solver._geometry import Frame, ball_joint_axes, combine, rotvec_matrices
from spacecomputer.biomech.solver._limits import joint_limits
from spacecomputer.domain import BLAZEPOSE_33, CoordinateFrame, PoseSequence
from spacecomputer.errors import InvalidInputError

__all__ = ["SkeletonModel"]

_NEGATIVE_ALLOWED = frozenset(
    {"nose_anterior", "nose_superior", "nose_right", "left_ankle_along_foot", "right_ankle_along_foot"}
)
_SIGN = {"left": -1.0, "right": 1.0}


_Put = Callable[[str, NDArray[np.float64]], None]


def _column(q: NDArray[np.float64], name: str) -> NDArray[np.float64]:
    """Return the (N, 1) column of one coordinate (broadcasts against (N, 3) vectors)."""
    i = DOF_INDEX[name]
    return q[:, i : i + 1]


def _valid_dimension(name: str, value: float) -> bool:
    if not (isinstance(value, int | float) and np.isfinite(value)):
        return False
    if name in _NEGATIVE_ALLOWED:
        return True
    return value >= 0 if name.endswith("ankle_above_sole") else value > 0


@dataclass(frozen=True, eq=False)
class SkeletonModel:
    """The subject's kinematic skeleton: body dimensions, the up direction and forward kinematics.

    Parameters
    ----------
    dimensions_m
        Every name of :data:`~spacecomputer.biomech.solver._dofs.DIMENSION_NAMES`, m (lengths positive; offsets
        of any sign).
    up
        Unit 3-vector pointing up in the pose frame.
    frame
        Coordinate frame of the poses the model is placed in (for :meth:`to_sequence`).
    neck_neutral_rad
        The head's neutral posture in the thorax frame (flexion, bending, rotation Cardan angles, rad): the neck
        coordinates are measured from it, so that the model's neck limits apply around the subject's own head
        carriage (BlazePose's mid-shoulder → mid-ear line leans forward of the trunk axis).

    Attributes
    ----------
    reference_axes
        (3, 3) columns X, Y (= up), Z of the frame in which the pelvis coordinates are expressed.

    Raises
    ------
    InvalidInputError
        A dimension missing, unknown, not finite, or not positive where it must be; ``up`` not a unit vector.

    """

    dimensions_m: Mapping[str, float]
    up: NDArray[np.float64]
    frame: CoordinateFrame = CoordinateFrame.WORLD
    neck_neutral_rad: tuple[float, float, float] = (0.0, 0.0, 0.0)
    reference_axes: NDArray[np.float64] = field(init=False, repr=False)
    _bounds: tuple[NDArray[np.float64], NDArray[np.float64]] = field(init=False, repr=False)

    def __post_init__(self) -> None:
        given = dict(self.dimensions_m)
        missing, unknown = set(DIMENSION_NAMES) - set(given), set(given) - set(DIMENSION_NAMES)
        invalid = {k: v for k, v in given.items() if k in DIMENSION_NAMES and not _valid_dimension(k, v)}
        if missing or unknown or invalid:
            raise InvalidInputError(
                "skeleton dimensions must be finite, in metres: lengths positive, the ankle's height above the sole "
                "≥ 0, its place along the foot and the nose offsets of any sign; missing "
                f"{sorted(missing)}, unknown {sorted(unknown)}, invalid {invalid}",
                details={"missing": sorted(missing), "unknown": sorted(unknown), "invalid": invalid},
            )
        up = up_unit_vector(self.up).copy()
        e1 = horizontal_axes(up)[0]
        axes = np.stack([e1, up, np.cross(e1, up)], axis=1)
        for array in (up, axes):
            array.setflags(write=False)
        object.__setattr__(self, "dimensions_m", {k: float(given[k]) for k in DIMENSION_NAMES})
        object.__setattr__(self, "up", up)
        object.__setattr__(self, "frame", CoordinateFrame(self.frame))
        neutral = tuple(float(v) for v in self.neck_neutral_rad)
        if len(neutral) != 3 or not np.isfinite(neutral).all():
            raise InvalidInputError(
                f"neck_neutral_rad must be three finite angles (rad); got {self.neck_neutral_rad!r}"
            )
        object.__setattr__(self, "neck_neutral_rad", neutral)
        object.__setattr__(self, "reference_axes", axes)
        limits = joint_limits()
        angular = np.array([n in ANGULAR_DOFS for n in DOF_NAMES])
        bounds = []
        for side in ("lower", "upper"):
            values = np.array([getattr(limits[n], side) for n in DOF_NAMES])
            bounds.append(np.where(angular, np.radians(values), values))
            bounds[-1].setflags(write=False)
        object.__setattr__(self, "_bounds", (bounds[0], bounds[1]))

    @classmethod
    def from_sequence(cls, sequence: PoseSequence, *, up: ArrayLike) -> SkeletonModel:
        """Build the subject's skeleton from the medians over a metric sequence (:func:`dimensions_from_sequence`).

        The neck's neutral posture is the median over the frames of the head's angles in the thorax frame.

        Raises
        ------
        InvalidPoseDataError
            The sequence is not metric or lacks a BlazePose landmark.
        InsufficientDataError
            A dimension is never seen (its landmarks are missing in every frame).

        """
        dimensions = dimensions_from_sequence(sequence)
        up_vector = np.asarray(up, dtype=np.float64)
        neutral = neck_neutral_from_sequence(cls(dimensions, up=up_vector), sequence)
        return cls(dimensions, up=up_vector, frame=sequence.frame, neck_neutral_rad=neutral)

    def fit(self, landmarks: ArrayLike, *, weights: ArrayLike | None = None) -> SkeletonFit:
        """Fit the skeleton to one frame of BlazePose landmarks (inverse kinematics) within the joint limits.

        See :func:`~spacecomputer.biomech.solver._fit.fit_landmarks` (least squares within the joint limits).
        """
        return fit_landmarks(self, landmarks, weights=weights)

    def fit_frames(
        self, landmarks: ArrayLike, *, weights: ArrayLike | None = None, consecutive: bool = False
    ) -> FrameFits:
        """Fit the skeleton to every frame of (N, 33, 3) BlazePose landmarks at once (N, 33 weights optional).

        See :func:`~spacecomputer.biomech.solver._fit.fit_landmark_frames`: frames missing a core landmark are NaN;
        ``consecutive`` frames follow each other in time.
        """
        return fit_landmark_frames(self, landmarks, weights=weights, consecutive=consecutive)

    # -- sizes ---------------------------------------------------------------------------------------------------

    @cached_property
    def head_length_m(self) -> float:
        """Mid-shoulder → vertex, m: the engine's estimate (``head_segment_length_m``) applied to this skeleton.

        Shoulder height along the body (mean of the sides' heel→ankle + shank + thigh, plus the trunk) times
        ``(1 − SHOULDER_HEIGHT_FRACTION) / SHOULDER_HEIGHT_FRACTION``.
        """
        d = self.dimensions_m
        legs = [
            float(np.hypot(d[f"{s}_ankle_along_foot"], d[f"{s}_ankle_above_sole"])) + d[f"{s}_shank"] + d[f"{s}_thigh"]
            for s in SIDES
        ]
        shoulder_height = 0.5 * (legs[0] + legs[1]) + d["trunk"]
        return shoulder_height * (1.0 - SHOULDER_HEIGHT_FRACTION) / SHOULDER_HEIGHT_FRACTION

    def bone_lengths_m(self) -> dict[tuple[str, str], float]:
        """Return the fixed distance of every pair of :data:`~spacecomputer.biomech.solver._dofs.BONES`, m."""
        d = self.dimensions_m
        out: dict[tuple[str, str], float] = {}
        for side in SIDES:
            along, above, foot = (d[f"{side}_{k}"] for k in ("ankle_along_foot", "ankle_above_sole", "foot"))
            parts = {
                ("hip", "knee"): d[f"{side}_thigh"],
                ("knee", "ankle"): d[f"{side}_shank"],
                ("ankle", "heel"): float(np.hypot(along, above)),
                ("ankle", "foot_index"): float(np.hypot(foot - along, above)),
                ("heel", "foot_index"): foot,
                ("shoulder", "elbow"): d[f"{side}_upper_arm"],
                ("elbow", "wrist"): d[f"{side}_forearm"],
                ("wrist", "hand"): d[f"{side}_hand"],
            }
            out |= {(f"{side}_{a}", f"{side}_{b}"): length for (a, b), length in parts.items()}
        nose = float(np.sqrt(sum(d[f"nose_{k}"] ** 2 for k in ("anterior", "superior", "right"))))
        out |= {
            ("left_hip", "right_hip"): d["hip_width"],
            ("left_shoulder", "right_shoulder"): d["shoulder_width"],
            ("mid_hip", "mid_shoulder"): d["trunk"],
            ("mid_shoulder", "head_vertex"): self.head_length_m,
            ("left_ear", "right_ear"): d["ear_width"],
            ("mid_shoulder", "nose"): nose,
        }
        return {pair: out[pair] for pair in BONES}

    def bounds(self) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
        """Return the (lower, upper) bounds of ``q`` from the joint limits, m and rad (``±inf`` for the free root).

        The arrays are read-only (computed once per model).
        """
        return self._bounds

    def engine_angles_deg(self, q: ArrayLike) -> dict[str, NDArray[np.float64]]:
        """Compute the engine's observable joint angles (``joint_angles`` definitions) on the points of ``q``, degrees.

        Each value is (N,) for a (N, D) ``q``, (1,) for a (D,) one.
        """
        pts = self._points(self.coordinates(q))
        named = {name: pts[:, i] for i, name in enumerate(JOINT_NAMES)}
        points = LandmarkPoints(named)
        return {a.name: a.compute(points, self.up) for a in JOINT_ANGLE_DEFINITIONS if a.compute is not None}

    def to_sequence(self, q: ArrayLike, *, fps: float = 30.0) -> PoseSequence:
        """Return a :class:`PoseSequence` of the poses of ``q`` (one frame per row) on the BlazePose skeleton.

        The modelled landmarks are placed exactly (confidence 1); the hand's knuckle point stands for both the
        index and the pinky (the body model reads their mean); every other landmark is NaN (confidence 0).
        """
        pts = self._points(self.coordinates(q))
        positions = np.full((pts.shape[0], BLAZEPOSE_33.n_joints, 3), np.nan)
        for name in LANDMARK_JOINTS:
            positions[:, BLAZEPOSE_33.index(name)] = pts[:, JOINT_INDEX[name]]
        for side in SIDES:
            for finger in ("index", "pinky"):
                positions[:, BLAZEPOSE_33.index(f"{side}_{finger}")] = pts[:, JOINT_INDEX[f"{side}_hand"]]
        confidence = np.isfinite(positions).all(axis=2).astype(np.float64)
        n = pts.shape[0]
        return PoseSequence(
            positions=positions, confidence=confidence, timestamps_s=np.arange(n) / fps, fps=fps, frame=self.frame
        )

    # -- forward kinematics --------------------------------------------------------------------------------------

    def coordinates(self, q: ArrayLike) -> NDArray[np.float64]:
        """Check ``q`` and return it as a (N, D) float array (a (D,) vector becomes N = 1).

        Raises
        ------
        InvalidInputError
            Wrong shape or non-finite values.

        """
        array = np.asarray(q, dtype=np.float64)
        if array.ndim not in (1, 2) or array.shape[-1] != len(DOF_NAMES):
            raise InvalidInputError(
                f"q must have shape ({len(DOF_NAMES)},) or (N, {len(DOF_NAMES)}) (DOF_NAMES order); got {array.shape}",
                details={"shape": list(array.shape)},
            )
        if not np.isfinite(array).all():
            raise InvalidInputError("q must be finite (no NaN or infinity)")
        return array.reshape(-1, len(DOF_NAMES))

    def points(self, q: ArrayLike) -> NDArray[np.float64]:
        """Forward kinematics: the (P, 3) points of :data:`JOINT_NAMES` for a (D,) ``q``, (N, P, 3) for (N, D), m."""
        array = np.asarray(q, dtype=np.float64)
        out = self._points(self.coordinates(array))
        return out[0] if array.ndim == 1 else out

    def joint_centres(self, q: ArrayLike) -> dict[str, NDArray[np.float64]]:
        """Return the points of :meth:`points` keyed by name, each (3,) (or (N, 3) for a batch), m."""
        pts = self.points(q)
        return {name: pts[..., i, :] for i, name in enumerate(JOINT_NAMES)}

    def pelvis_frame(self, q: NDArray[np.float64]) -> tuple[NDArray[np.float64], Frame]:
        """Mid-hip (N, 3) and pelvis frame (anterior, superior, right) of a (N, D) ``q``."""
        translation = q[:, DOF_INDEX["pelvis_tx"] : DOF_INDEX["pelvis_tz"] + 1]
        rotation = self.reference_axes @ rotvec_matrices(
            q[:, DOF_INDEX["pelvis_rot_x"] : DOF_INDEX["pelvis_rot_z"] + 1]
        )
        return translation @ self.reference_axes.T, (rotation[:, :, 0], rotation[:, :, 1], rotation[:, :, 2])

    def thorax_frame(self, pelvis: Frame, q: NDArray[np.float64]) -> Frame:
        """Thorax frame (anterior, superior = trunk axis, right = shoulder line made ⟂) from the pelvis frame."""
        anterior, superior, right = pelvis
        bend, turn = _column(q, "lumbar_bending"), _column(q, "lumbar_rotation")
        cb, sb, ct, st = np.cos(bend), np.sin(bend), np.cos(turn), np.sin(turn)
        trunk = combine(cb, superior, sb, right)
        right0 = combine(cb, right, -sb, superior)
        return combine(ct, anterior, -st, right0), trunk, combine(ct, right0, st, anterior)

    def torso(self, q: NDArray[np.float64], put: _Put) -> tuple[Frame, Frame]:
        """Place the mid-hip, hips, mid-shoulder and shoulders of (N, D) ``q``; return the pelvis and thorax frames."""
        d = self.dimensions_m
        mid_hip, pelvis = self.pelvis_frame(q)
        thorax = self.thorax_frame(pelvis, q)
        mid_shoulder = mid_hip + d["trunk"] * thorax[1]
        tilt = _column(q, "shoulder_line_tilt")
        shoulder_line = combine(np.cos(tilt), thorax[2], np.sin(tilt), thorax[1])
        put("mid_hip", mid_hip)
        put("mid_shoulder", mid_shoulder)
        for side in SIDES:
            sign = _SIGN[side]
            put(f"{side}_hip", mid_hip + sign * 0.5 * d["hip_width"] * pelvis[2])
            put(f"{side}_shoulder", mid_shoulder + sign * 0.5 * d["shoulder_width"] * shoulder_line)
        return pelvis, thorax

    def _points(self, q: NDArray[np.float64], parts: tuple[str, ...] = ("legs", "arms", "head")) -> NDArray[np.float64]:
        """(N, P, 3) points of (N, D) ``q``: the torso and the ``parts`` asked for (the other points NaN)."""
        everything = len(parts) == 3
        out = (
            np.empty((q.shape[0], len(JOINT_NAMES), 3))
            if everything
            else np.full((q.shape[0], len(JOINT_NAMES), 3), np.nan)
        )

        def put(name: str, value: NDArray[np.float64]) -> None:
            out[:, JOINT_INDEX[name]] = value

        pelvis, thorax = self.torso(q, put)
        for side in SIDES:
            if "legs" in parts:
                self._leg(q, side, out[:, JOINT_INDEX[f"{side}_hip"]], pelvis, put)
            if "arms" in parts:
                self._arm(q, side, out[:, JOINT_INDEX[f"{side}_shoulder"]], thorax, put)
        if "head" in parts:
            self._head(q, out[:, JOINT_INDEX["mid_shoulder"]], thorax, put)
        return out

    def _leg(self, q: NDArray[np.float64], side: str, hip: NDArray[np.float64], pelvis: Frame, put: _Put) -> None:
        d = self.dimensions_m
        front, long_axis, _ = ball_joint_axes(
            pelvis,
            _SIGN[side],
            _column(q, f"{side}_hip_flexion"),
            -_column(q, f"{side}_hip_adduction"),
            _column(q, f"{side}_hip_internal_rotation"),
        )
        knee = hip + d[f"{side}_thigh"] * long_axis
        bend = _column(q, f"{side}_knee_flexion")
        cb, sb = np.cos(bend), np.sin(bend)
        shank = combine(cb, long_axis, -sb, front)
        shank_front = combine(cb, front, sb, long_axis)
        ankle = knee + d[f"{side}_shank"] * shank
        dorsi = _column(q, f"{side}_ankle_dorsiflexion")
        cd, sd = np.cos(dorsi), np.sin(dorsi)
        foot = combine(-sd, shank, cd, shank_front)  # heel → toe: sin δ × (ankle → knee) + cos δ × shank front
        towards_ankle = combine(-cd, shank, -sd, shank_front)
        heel = ankle - d[f"{side}_ankle_along_foot"] * foot - d[f"{side}_ankle_above_sole"] * towards_ankle
        put(f"{side}_knee", knee)
        put(f"{side}_ankle", ankle)
        put(f"{side}_heel", heel)
        put(f"{side}_foot_index", heel + d[f"{side}_foot"] * foot)

    def _arm(self, q: NDArray[np.float64], side: str, shoulder: NDArray[np.float64], thorax: Frame, put: _Put) -> None:
        d = self.dimensions_m
        front, long_axis, _ = ball_joint_axes(
            thorax,
            _SIGN[side],
            _column(q, f"{side}_shoulder_flexion"),
            _column(q, f"{side}_shoulder_abduction"),
            _column(q, f"{side}_shoulder_internal_rotation"),
        )
        elbow = shoulder + d[f"{side}_upper_arm"] * long_axis
        bend = _column(q, f"{side}_elbow_flexion")
        forearm = combine(np.cos(bend), long_axis, np.sin(bend), front)
        wrist = elbow + d[f"{side}_forearm"] * forearm
        put(f"{side}_elbow", elbow)
        put(f"{side}_wrist", wrist)
        put(f"{side}_hand", wrist + d[f"{side}_hand"] * forearm)

    def _head(self, q: NDArray[np.float64], mid_shoulder: NDArray[np.float64], thorax: Frame, put: _Put) -> None:
        d = self.dimensions_m
        anterior, superior, right = thorax
        neutral = self.neck_neutral_rad
        flexion, bending, rotation = (
            _column(q, f"neck_{k}") + neutral[i] for i, k in enumerate(("flexion", "bending", "rotation"))
        )
        cf, sf, cb, sb, cr, sr = (f(a) for a in (flexion, bending, rotation) for f in (np.cos, np.sin))
        up1, front1 = combine(cf, superior, sf, anterior), combine(cf, anterior, -sf, superior)
        up2, right2 = combine(cb, up1, sb, right), combine(cb, right, -sb, up1)
        front3, right3 = combine(cr, front1, -sr, right2), combine(cr, right2, sr, front1)
        mid_ear = mid_shoulder + d["ear_height"] * up2
        put("left_ear", mid_ear - 0.5 * d["ear_width"] * right3)
        put("right_ear", mid_ear + 0.5 * d["ear_width"] * right3)
        put("head_vertex", mid_shoulder + self.head_length_m * up2)
        put(
            "nose",
            mid_shoulder + d["nose_anterior"] * front3 + d["nose_superior"] * up2 + d["nose_right"] * right3,
        )
