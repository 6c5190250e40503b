"""From landmarks to the skeleton: the subject's dimensions over a run, and inverse kinematics of its frames.

Dimensions (:func:`dimensions_from_sequence`) are medians over the frames where their landmarks are seen, so one
bad frame does not bend the skeleton. The fit (:func:`fit_landmarks`) starts from the coordinates read off the
landmarks with the engine's own definitions (exact when the landmarks already have the skeleton's dimensions),
then minimises the squared distances between the skeleton's points and the landmarks, plus a weak pull towards that
start (:data:`FIT_REGULARISATION`), bounded by the joint limits, with a Levenberg–Marquardt iteration that solves
many frames at once (:mod:`~spacecomputer.biomech.solver._fit_batch`, :func:`fit_landmark_frames`). The mid-hip and
mid-shoulder are not fitted on their own (they are means of fitted landmarks); the hand's knuckle point is fitted
to the mean of BlazePose's index and pinky.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np
from numpy.typing import ArrayLike, NDArray
from scipy.spatial.transform import Rotation

from spacecomputer.biomech.solver._dofs import DIMENSION_NAMES, DOF_INDEX, DOF_NAMES, JOINT_INDEX, SIDES
from spacecomputer.biomech.solver._fit_batch import (
    FIT_REGULARISATION,
    FrameFits,
    landmark_point_weights,
    solve_frames,
)
from spacecomputer.biomech.solver._geometry import ball_joint_angles, cross, dot, unit
from spacecomputer.domain import BLAZEPOSE_33, PoseSequence
from spacecomputer.errors import InsufficientDataError, InvalidPoseDataError

if TYPE_CHECKING:
    from spacecomputer.biomech.solver._skeleton import SkeletonModel

__all__ = [
    "CORE_LANDMARKS",
    "FIT_REGULARISATION",
    "SkeletonFit",
    "coordinates_from_points",
    "dimensions_from_sequence",
    "fit_landmark_frames",
    "fit_landmarks",
    "neck_neutral_from_sequence",
]

CORE_LANDMARKS = tuple(
    f"{side}_{part}"
    for side in SIDES
    for part in ("shoulder", "elbow", "wrist", "hip", "knee", "ankle", "heel", "foot_index")
)
"""Landmarks a frame must have to be fitted; the nose, ears, index and pinky are optional."""
_FITTED = (*(n for n in JOINT_INDEX if n not in ("mid_hip", "mid_shoulder", "head_vertex")),)
_STRAIGHT_RAD = np.radians(10.0)
"""Below this knee or elbow flexion the hinge's plane is taken from the foot (knee) or left at zero (elbow)."""

Points = Mapping[str, NDArray[np.float64]]


@dataclass(frozen=True, eq=False)
class SkeletonFit:
    """Result of fitting the skeleton to one frame of landmarks.

    Attributes
    ----------
    q
        (D,) coordinates, m and rad, within the joint limits.
    residual_rms_m, residual_max_m
        Root mean square and largest distance between a fitted point and its landmark, m.
    residual_m
        Each fitted point's distance to its landmark, m (points whose landmark is missing are absent).
    at_limits
        Degrees of freedom that ended on a bound of their range.
    message
        The optimiser's termination message.

    """

    q: NDArray[np.float64]
    residual_rms_m: float
    residual_max_m: float
    residual_m: Mapping[str, float]
    at_limits: tuple[str, ...]
    message: str


def _landmarks(source: NDArray[np.float64]) -> dict[str, NDArray[np.float64]]:
    """(T, 33, 3) BlazePose positions → the skeleton's point names, (T, 3) each (hands: mean of index and pinky)."""
    out = {name: source[:, BLAZEPOSE_33.index(name)] for name in _FITTED if not name.endswith("_hand")}
    for side in SIDES:
        fingers = [source[:, BLAZEPOSE_33.index(f"{side}_{f}")] for f in ("index", "pinky")]
        out[f"{side}_hand"] = 0.5 * (fingers[0] + fingers[1])
    out["mid_hip"] = 0.5 * (out["left_hip"] + out["right_hip"])
    out["mid_shoulder"] = 0.5 * (out["left_shoulder"] + out["right_shoulder"])
    return out


def _distance(a: NDArray[np.float64], b: NDArray[np.float64]) -> NDArray[np.float64]:
    return np.asarray(np.sqrt(dot(a - b, a - b)), dtype=np.float64)


def _head_frame(p: Points) -> tuple[NDArray[np.float64], NDArray[np.float64], NDArray[np.float64]]:
    superior = unit(0.5 * (p["left_ear"] + p["right_ear"]) - p["mid_shoulder"])
    ears = p["right_ear"] - p["left_ear"]
    right = unit(ears - dot(ears, superior)[:, None] * superior)
    return cross(superior, right), superior, right


def dimensions_from_sequence(sequence: PoseSequence) -> dict[str, float]:
    """Measure the skeleton's dimensions, medians over the frames, m (names: ``_dofs.DIMENSION_NAMES``).

    Raises
    ------
    InvalidPoseDataError
        The sequence is not metric or not on the BlazePose skeleton.
    InsufficientDataError
        A dimension's landmarks are missing in every frame.

    """
    sequence.require_metric("the pose lab's skeleton dimensions")
    if sequence.skeleton.name != BLAZEPOSE_33.name:
        raise InvalidPoseDataError(
            f"the skeleton needs BlazePose landmarks; got skeleton {sequence.skeleton.name!r}",
            details={"skeleton": sequence.skeleton.name},
        )
    p = _landmarks(np.asarray(sequence.positions, dtype=np.float64))
    per_frame: dict[str, NDArray[np.float64]] = {}
    for side in SIDES:
        for name, (a, b) in {
            "thigh": ("hip", "knee"),
            "shank": ("knee", "ankle"),
            "upper_arm": ("shoulder", "elbow"),
            "forearm": ("elbow", "wrist"),
            "hand": ("wrist", "hand"),
            "foot": ("heel", "foot_index"),
        }.items():
            per_frame[f"{side}_{name}"] = _distance(p[f"{side}_{a}"], p[f"{side}_{b}"])
        heel = p[f"{side}_heel"]
        sole = unit(p[f"{side}_foot_index"] - heel)
        to_ankle = p[f"{side}_ankle"] - heel
        along = dot(to_ankle, sole)
        per_frame[f"{side}_ankle_along_foot"] = along
        per_frame[f"{side}_ankle_above_sole"] = np.sqrt(np.maximum(dot(to_ankle, to_ankle) - along**2, 0.0))
    per_frame["hip_width"] = _distance(p["left_hip"], p["right_hip"])
    per_frame["shoulder_width"] = _distance(p["left_shoulder"], p["right_shoulder"])
    per_frame["trunk"] = _distance(p["mid_hip"], p["mid_shoulder"])
    per_frame["ear_height"] = _distance(0.5 * (p["left_ear"] + p["right_ear"]), p["mid_shoulder"])
    per_frame["ear_width"] = _distance(p["left_ear"], p["right_ear"])
    anterior, superior, right = _head_frame(p)
    nose = p["nose"] - p["mid_shoulder"]
    for axis, vector in (("anterior", anterior), ("superior", superior), ("right", right)):
        per_frame[f"nose_{axis}"] = dot(nose, vector)
    out = {}
    for name in DIMENSION_NAMES:
        values = per_frame[name][np.isfinite(per_frame[name])]
        out[name] = float(np.median(values)) if values.size else np.nan
    unseen = [name for name, value in out.items() if not np.isfinite(value)]
    if unseen:
        raise InsufficientDataError(
            f"the skeleton's dimensions {unseen} cannot be measured: their landmarks are missing in every frame",
            details={"unseen": unseen},
        )
    return out


def neck_neutral_from_sequence(model: SkeletonModel, sequence: PoseSequence) -> tuple[float, float, float]:
    """Return the median over the frames of the head's Cardan angles in the thorax frame, rad (from the model zero)."""
    p = _landmarks(np.asarray(sequence.positions, dtype=np.float64))
    angles = coordinates_from_points(model, p)
    seen = np.isfinite(p["left_ear"]).all(axis=1) & np.isfinite(p["right_ear"]).all(axis=1)
    seen &= np.isfinite(np.stack([p[n] for n in ("left_hip", "right_hip", "left_shoulder", "right_shoulder")])).all(
        axis=(0, 2)
    )
    if not seen.any():
        return (0.0, 0.0, 0.0)
    neck = angles[seen][:, [DOF_INDEX[f"neck_{k}"] for k in ("flexion", "bending", "rotation")]]
    neutral = np.median(neck, axis=0) + np.asarray(model.neck_neutral_rad)
    return (float(neutral[0]), float(neutral[1]), float(neutral[2]))


def coordinates_from_points(model: SkeletonModel, p: Points) -> NDArray[np.float64]:
    """Read (N, D) coordinates off (N, 3) points with the engine's definitions (the inverse of the kinematics).

    Exact for points of the model itself; for landmarks, the starting point of :func:`fit_landmarks`. Where a
    hinge is nearly straight its plane comes from the foot (knee) or is left at zero rotation (elbow); where the
    ears are missing the neck angles are zero.
    """
    n = p["mid_hip"].shape[0]
    q = np.zeros((n, len(DOF_NAMES)))
    right = unit(p["right_hip"] - p["left_hip"])
    trunk = unit(p["mid_shoulder"] - p["mid_hip"])
    superior = unit(trunk - dot(trunk, right)[:, None] * right)
    pelvis = (cross(superior, right), superior, right)
    local = np.einsum("ji,njk->nik", model.reference_axes, np.stack(pelvis, axis=2))
    seen = np.isfinite(local).all(axis=(1, 2))
    rotation = np.full((n, 3), np.nan)
    if seen.any():
        rotation[seen] = Rotation.from_matrix(local[seen]).as_rotvec()
    q[:, DOF_INDEX["pelvis_rot_x"] : DOF_INDEX["pelvis_rot_z"] + 1] = rotation
    q[:, DOF_INDEX["pelvis_tx"] : DOF_INDEX["pelvis_tz"] + 1] = p["mid_hip"] @ model.reference_axes
    bend = np.arctan2(dot(trunk, right), dot(trunk, superior))
    q[:, DOF_INDEX["lumbar_bending"]] = bend
    right0 = np.cos(bend)[:, None] * right - np.sin(bend)[:, None] * superior
    line = unit(p["right_shoulder"] - p["left_shoulder"])
    thorax_right = unit(line - dot(line, trunk)[:, None] * trunk)
    q[:, DOF_INDEX["lumbar_rotation"]] = np.arctan2(dot(thorax_right, pelvis[0]), dot(thorax_right, right0))
    q[:, DOF_INDEX["shoulder_line_tilt"]] = np.arctan2(dot(line, trunk), dot(line, thorax_right))
    thorax = (cross(trunk, thorax_right), trunk, thorax_right)
    for side, sign in (("left", -1.0), ("right", 1.0)):
        _leg_coordinates(q, p, side, sign, pelvis)
        _arm_coordinates(q, p, side, sign, thorax)
    _neck_coordinates(q, p, thorax, model.neck_neutral_rad)
    return q


def _leg_coordinates(
    q: NDArray[np.float64], p: Points, side: str, sign: float, pelvis: tuple[NDArray[np.float64], ...]
) -> None:
    thigh = unit(p[f"{side}_knee"] - p[f"{side}_hip"])
    shank = unit(p[f"{side}_ankle"] - p[f"{side}_knee"])
    bend = np.arctan2(np.sqrt(dot(cross(thigh, shank), cross(thigh, shank))), dot(thigh, shank))
    from_knee = -unit(shank - dot(shank, thigh)[:, None] * thigh)
    sole = unit(p[f"{side}_foot_index"] - p[f"{side}_heel"])
    shank_front = unit(sole - dot(sole, shank)[:, None] * shank)
    from_foot = np.cos(bend)[:, None] * shank_front - np.sin(bend)[:, None] * shank
    front = np.where((bend > _STRAIGHT_RAD)[:, None], from_knee, from_foot)
    flexion, lateral, rotation = ball_joint_angles((pelvis[0], pelvis[1], pelvis[2]), sign, thigh, front)
    for dof, value in (("hip_flexion", flexion), ("hip_adduction", -lateral), ("hip_internal_rotation", rotation)):
        q[:, DOF_INDEX[f"{side}_{dof}"]] = value
    q[:, DOF_INDEX[f"{side}_knee_flexion"]] = bend
    q[:, DOF_INDEX[f"{side}_ankle_dorsiflexion"]] = np.arcsin(np.clip(dot(-shank, sole), -1.0, 1.0))


def _arm_coordinates(
    q: NDArray[np.float64], p: Points, side: str, sign: float, thorax: tuple[NDArray[np.float64], ...]
) -> None:
    upper = unit(p[f"{side}_elbow"] - p[f"{side}_shoulder"])
    fore = unit(p[f"{side}_wrist"] - p[f"{side}_elbow"])
    bend = np.arctan2(np.sqrt(dot(cross(upper, fore), cross(upper, fore))), dot(upper, fore))
    front = unit(fore - dot(fore, upper)[:, None] * upper)
    front[~(bend > _STRAIGHT_RAD)] = np.nan
    flexion, lateral, rotation = ball_joint_angles((thorax[0], thorax[1], thorax[2]), sign, upper, front)
    for dof, value in (
        ("shoulder_flexion", flexion),
        ("shoulder_abduction", lateral),
        ("shoulder_internal_rotation", rotation),
        ("elbow_flexion", bend),
    ):
        q[:, DOF_INDEX[f"{side}_{dof}"]] = value


def _neck_coordinates(
    q: NDArray[np.float64], p: Points, thorax: tuple[NDArray[np.float64], ...], neutral_rad: tuple[float, float, float]
) -> None:
    anterior, superior, right = thorax
    head_front, head_up, _ = _head_frame(p)
    flexion = np.arctan2(dot(head_up, anterior), dot(head_up, superior))
    bending = np.arcsin(np.clip(dot(head_up, right), -1.0, 1.0))
    cf, sf = np.cos(flexion)[:, None], np.sin(flexion)[:, None]
    front2 = cf * anterior - sf * superior
    right2 = np.cos(bending)[:, None] * right - np.sin(bending)[:, None] * (cf * superior + sf * anterior)
    rotation = np.arctan2(-dot(head_front, right2), dot(head_front, front2))
    for dof, value, neutral in zip(
        ("flexion", "bending", "rotation"), (flexion, bending, rotation), neutral_rad, strict=True
    ):
        q[:, DOF_INDEX[f"neck_{dof}"]] = np.where(np.isfinite(value), value - neutral, 0.0)


def fit_landmarks(model: SkeletonModel, landmarks: ArrayLike, *, weights: ArrayLike | None = None) -> SkeletonFit:
    """Fit the skeleton to one frame of (33, 3) BlazePose landmarks in the model's frame (method: module docstring).

    Parameters
    ----------
    model
        The subject's skeleton.
    landmarks
        (33, 3) positions, m; NaN where missing.
    weights
        Optional (33,) non-negative weights per landmark (e.g. visibility); equal weights by default.

    Raises
    ------
    InvalidPoseDataError
        Wrong shapes, infinite values or negative weights.
    InsufficientDataError
        A landmark of :data:`CORE_LANDMARKS` is missing.

    """
    source = np.asarray(landmarks, dtype=np.float64)
    if source.shape != (BLAZEPOSE_33.n_joints, 3):
        raise InvalidPoseDataError(
            f"landmarks must be a finite (33, 3) BlazePose frame (NaN = missing); got {source.shape}"
        )
    w = None if weights is None else np.asarray(weights, dtype=np.float64)
    if w is not None and w.shape != (BLAZEPOSE_33.n_joints,):
        raise InvalidPoseDataError(f"weights must be (33,) finite numbers ≥ 0; got shape {w.shape}")
    missing = [name for name in CORE_LANDMARKS if not np.isfinite(source[BLAZEPOSE_33.index(name)]).all()]
    if missing:
        raise InsufficientDataError(
            f"the frame cannot be fitted: landmarks {missing} are missing", details={"missing": missing}
        )
    fits = fit_landmark_frames(model, source[None], weights=None if w is None else w[None])
    distance = fits.distance_m[0]
    seen = np.isfinite(distance)
    return SkeletonFit(
        q=fits.q[0],
        residual_rms_m=float(fits.residual_rms_m[0]),
        residual_max_m=float(distance[seen].max()),
        residual_m={n: float(d) for n, d, s in zip(fits.point_names, distance, seen, strict=True) if s},
        at_limits=tuple(n for n, hit in zip(DOF_NAMES, fits.at_limits[0], strict=True) if hit),
        message="converged" if fits.converged[0] else f"stopped after {int(fits.iterations[0])} iterations",
    )


def fit_landmark_frames(
    model: SkeletonModel, landmarks: ArrayLike, *, weights: ArrayLike | None = None, consecutive: bool = False
) -> FrameFits:
    """Fit the skeleton to every frame of (N, 33, 3) BlazePose landmarks at once (:mod:`._fit_batch`).

    A frame missing a landmark of :data:`CORE_LANDMARKS` is not fitted: its coordinates and distances are NaN,
    and it counts as neither converged nor at a limit. With ``consecutive`` the frames are taken as following each
    other in time (the fitted ones, in order): a frame that jumps from a neighbour is also solved from the
    neighbour's solution (:func:`~spacecomputer.biomech.solver._fit_batch.solve_frames`).

    Raises
    ------
    InvalidPoseDataError
        Wrong shapes, infinite values, or weights that are not finite and ≥ 0.

    """
    source = np.asarray(landmarks, dtype=np.float64)
    if source.ndim != 3 or source.shape[1:] != (BLAZEPOSE_33.n_joints, 3) or np.isinf(source).any():
        raise InvalidPoseDataError(
            f"landmarks must be finite (N, 33, 3) BlazePose frames (NaN = missing); got {source.shape}"
        )
    w = np.ones(source.shape[:2]) if weights is None else np.asarray(weights, dtype=np.float64)
    if w.shape != source.shape[:2] or not (np.isfinite(w) & (w >= 0)).all():
        raise InvalidPoseDataError(f"weights must be (N, 33) finite numbers ≥ 0, one row per frame; got {w.shape}")
    core = [BLAZEPOSE_33.index(name) for name in CORE_LANDMARKS]
    rows = np.flatnonzero(np.isfinite(source[:, core]).all(axis=(1, 2)))
    p = _landmarks(source[rows])
    targets = {name: p[name] for name in _FITTED}
    lower, upper = model.bounds()
    margin = 1e-9
    start = np.clip(coordinates_from_points(model, p), lower + margin, upper - margin)
    solved = solve_frames(model, targets, landmark_point_weights(w[rows], _FITTED), start, consecutive=consecutive)
    n = source.shape[0]
    q = np.full((n, len(DOF_NAMES)), np.nan)
    distance = np.full((n, len(_FITTED)), np.nan)
    at_limits = np.zeros(q.shape, dtype=bool)
    iterations = np.zeros(n, dtype=np.int64)
    converged = np.zeros(n, dtype=bool)
    q[rows], distance[rows], at_limits[rows] = solved.q, solved.distance_m, solved.at_limits
    iterations[rows], converged[rows] = solved.iterations, solved.converged
    return FrameFits(
        q=q,
        distance_m=distance,
        point_names=solved.point_names,
        at_limits=at_limits,
        iterations=iterations,
        converged=converged,
    )
