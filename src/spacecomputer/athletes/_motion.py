"""A movement ready to compare: joint-angle trajectories, foot events and their measurement uncertainty.

:class:`Motion` is what comparison and similarity search work on, whether it comes from a user's run or from
a reference clip of the elite library. Everything in it is scale-free — angles in degrees, times in seconds,
events — so a metric run and a clip without world coordinates compare on the same footing.

Measurement uncertainty of an angle (our own definition): the landmarks are perturbed by the noise model of
:mod:`spacecomputer.biomech._uncertainty` (the jitter measured on the sequence itself, low-passed as the data
were; :func:`robust_landmark_noise`) and the angles recomputed; in each draw the angle's typical change is
1.4826 × its median absolute change over frames (a standard deviation robust to the few frames where an angle is
ill-conditioned); the uncertainty is the root mean square of that over the draws: the standard deviation of the
angle in a typical frame. Like every ± of the engine, it covers the frame-to-frame noise, not a bias that stays
the same in every frame (monocular depth, the camera's view).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Literal

import numpy as np
from numpy.typing import ArrayLike, NDArray

from spacecomputer.biomech import DEFAULT_DRAWS, LandmarkNoise, detect_foot_events, joint_angles, landmark_noise
from spacecomputer.biomech._uncertainty import DEFAULT_LANDMARK_SIGMA_M, VISIBILITY_FLOOR, monte_carlo_spread
from spacecomputer.domain import PoseSequence, Skeleton
from spacecomputer.errors import InsufficientDataError, InvalidInputError

__all__ = [
    "COMPARED_ANGLES",
    "MIN_FRAMES",
    "SAGITTAL_ANGLES",
    "Motion",
    "MotionEvent",
    "mirror_sequence",
    "motion_from_sequence",
    "robust_landmark_noise",
]

COMPARED_ANGLES: tuple[str, ...] = (
    "left_hip_flexion",
    "right_hip_flexion",
    "left_knee_flexion",
    "right_knee_flexion",
    "left_ankle_dorsiflexion",
    "right_ankle_dorsiflexion",
    "left_shoulder_flexion",
    "right_shoulder_flexion",
    "left_elbow_flexion",
    "right_elbow_flexion",
    "left_hip_adduction",
    "right_hip_adduction",
    "left_shoulder_abduction",
    "right_shoulder_abduction",
    "trunk_flexion",
    "trunk_lateral_lean",
)
"""Joint angles a comparison looks at: those of :func:`spacecomputer.biomech.joint_angles` that the landmarks
observe (axial rotations and forearm pronation are not observable and are left out)."""

SAGITTAL_ANGLES: tuple[str, ...] = tuple(
    name for name in COMPARED_ANGLES if name.endswith(("_flexion", "_dorsiflexion")) or name == "trunk_flexion"
)
"""The angles compared by default: flexion/extension, which a side or oblique camera sees in the image plane.
Ab/adduction and lateral lean rest on monocular depth from such views, with an error that stays the same from frame
to frame and so escapes the measurement uncertainty; compare them only on request."""

MIN_FRAMES = 5
"""Fewest frames with a pose a motion needs (velocities for the foot events, a meaningful alignment)."""

Side = Literal["left", "right"]


@dataclass(frozen=True)
class MotionEvent:
    """A foot event of a motion: ``kind`` of ``foot`` at sequence row ``row`` (time ``time_s``, seconds)."""

    kind: Literal["contact", "toe_off"]
    foot: Side
    row: int
    time_s: float

    @property
    def label(self) -> str:
        """Words for a person: ``"left foot strike"``, ``"right toe-off"``."""
        return f"{self.foot} foot strike" if self.kind == "contact" else f"{self.foot} toe-off"


@dataclass(frozen=True, eq=False)
class Motion:
    """One movement, scale-free, ready to compare (module docstring).

    Attributes
    ----------
    name
        Clip id of a reference, or the run directory's name.
    source
        ``"run"`` (a user's analysis) or ``"reference"`` (a clip of the elite library).
    movement, sport
        Movement family (``sprint``, ``jump``, ``landing``, ``strike``, ``throw``, ``grappling``) and sport;
        ``None`` when not known.
    pose
        The pose the angles come from (metric for a run; scaled to a reference stature for a library clip: see
        :mod:`spacecomputer.athletes._reference`), for drawing the skeleton.
    up
        Unit vector pointing up in ``pose``'s frame.
    angles_deg
        Joint angle name → (T,) degrees, NaN where unknown; only the :data:`COMPARED_ANGLES` the pose observes.
    angle_sd_deg
        Joint angle name → measurement uncertainty (standard deviation), degrees (module docstring).
    events
        Foot contacts and toe-offs in time order.
    notes
        What a reader should know about how the motion was obtained.

    """

    name: str
    source: Literal["run", "reference"]
    movement: str | None
    sport: str | None
    pose: PoseSequence
    up: tuple[float, float, float]
    angles_deg: Mapping[str, NDArray[np.float64]]
    angle_sd_deg: Mapping[str, float]
    events: tuple[MotionEvent, ...]
    notes: tuple[str, ...] = field(default=())

    @property
    def timestamps_s(self) -> NDArray[np.float64]:
        """(T,) seconds from the start of the video."""
        return self.pose.timestamps_s

    @property
    def n_frames(self) -> int:
        """Number of rows (frames) of the motion."""
        return self.pose.n_frames

    def angle_matrix(self, names: Sequence[str]) -> NDArray[np.float64]:
        """Return the (T, K) degrees of the angles ``names``, in that order.

        Raises
        ------
        InvalidInputError
            If a name is not one of this motion's angles (the message lists them).

        """
        unknown = [name for name in names if name not in self.angles_deg]
        if unknown:
            raise InvalidInputError(
                f"angles {unknown} are not in motion {self.name!r}; it has {sorted(self.angles_deg)}",
                details={"unknown": unknown, "valid": sorted(self.angles_deg)},
            )
        return np.stack([self.angles_deg[name] for name in names], axis=1)

    def mirrored(self) -> Motion:
        """Return the motion seen in a mirror: the athlete's left and right exchanged, angles recomputed.

        The pose is reflected across a vertical plane and its left/right landmarks swapped
        (:func:`mirror_sequence`); the angles are computed again from it, the uncertainties and events change
        side.
        """
        pose = mirror_sequence(self.pose, up=self.up)
        angles = _angles(pose, self.up)
        return Motion(
            name=f"{self.name} (mirrored)",
            source=self.source,
            movement=self.movement,
            sport=self.sport,
            pose=pose,
            up=self.up,
            angles_deg=angles,
            angle_sd_deg={_other_side(name): sd for name, sd in self.angle_sd_deg.items()},
            events=tuple(
                MotionEvent(kind=e.kind, foot="right" if e.foot == "left" else "left", row=e.row, time_s=e.time_s)
                for e in self.events
            ),
            notes=(*self.notes, "mirrored: left and right exchanged"),
        )


def motion_from_sequence(
    pose: PoseSequence,
    *,
    up: ArrayLike,
    name: str,
    source: Literal["run", "reference"],
    movement: str | None = None,
    sport: str | None = None,
    raw: PoseSequence | None = None,
    noise: LandmarkNoise | None = None,
    cutoff_hz: float | None = None,
    draws: int = DEFAULT_DRAWS,
    seed: int = 0,
    notes: Sequence[str] = (),
) -> Motion:
    """Build a :class:`Motion` from a cleaned, metric (or stature-scaled) pose sequence.

    Parameters
    ----------
    pose
        Smoothed pose on the BlazePose skeleton, in metres (``hip_centred``, ``camera`` or ``world``).
    up
        Unit 3-vector pointing up in ``pose``'s frame.
    name, source, movement, sport
        See :class:`Motion`.
    raw
        The same pose before the low-pass, to measure the landmark noise on; ignored when ``noise`` is given.
    noise
        A noise model already known (a run's recorded one); else measured from ``raw`` and ``pose``.
    cutoff_hz
        Low-pass cut-off the pose was smoothed with, Hz (``None``: not smoothed).
    draws, seed
        Monte Carlo draws for the angle uncertainties, and the random seed (reproducible).
    notes
        Carried into :attr:`Motion.notes`.

    Raises
    ------
    InsufficientDataError
        Fewer than :data:`MIN_FRAMES` frames with a pose, or no comparable angle is observed.
    InvalidPoseDataError
        The pose is not metric or lacks the landmarks the angles need.

    """
    up_vector = _unit(up)
    if int(pose.detected.sum()) < MIN_FRAMES:
        raise InsufficientDataError(
            f"{name!r} has {int(pose.detected.sum())} frames with a pose; a comparison needs at least {MIN_FRAMES}",
            details={"frames_with_pose": int(pose.detected.sum()), "needed": MIN_FRAMES},
        )
    angles = _angles(pose, up_vector)
    if not angles:
        raise InsufficientDataError(f"{name!r} observes none of the compared joint angles")
    model = noise if noise is not None else robust_landmark_noise(raw, pose, cutoff_hz=cutoff_hz)
    spread = monte_carlo_spread(
        pose,
        model,
        lambda perturbed: _angle_deviation(perturbed, up_vector, angles),
        draws=draws,
        seed=seed,
        cutoff_hz=cutoff_hz,
    )
    sd = {
        angle: float(np.sqrt(np.mean(np.square(spread.values[angle]))))
        for angle in angles
        if len(spread.values.get(angle, [])) >= 3
    }
    events = tuple(
        MotionEvent(kind=e.kind, foot=e.foot, row=e.frame_index, time_s=e.time_s)
        for e in detect_foot_events(pose, up=up_vector)
    )
    return Motion(
        name=name,
        source=source,
        movement=movement,
        sport=sport,
        pose=pose,
        up=(float(up_vector[0]), float(up_vector[1]), float(up_vector[2])),
        angles_deg=angles,
        angle_sd_deg=sd,
        events=events,
        notes=tuple(notes),
    )


def robust_landmark_noise(
    raw: PoseSequence | None, smoothed: PoseSequence, *, cutoff_hz: float | None
) -> LandmarkNoise:
    """Measure the engine's landmark noise model with each landmark's own jitter measured robustly, for angles.

    As :func:`spacecomputer.biomech.landmark_noise`, but the jitter is 1.4826 × the median absolute residual
    (raw − smoothed, after removing the frame's common displacement), per landmark over frames and axes,
    instead of its root mean square: a few frames where BlazePose exchanged or lost a limb would otherwise
    dominate it. The common displacement is left out: it moves every landmark together and does not change an
    angle. Without ``raw``, the engine's default applies.
    """
    if raw is None:
        return landmark_noise(None, smoothed, cutoff_hz=cutoff_hz)
    base = landmark_noise(raw, smoothed, cutoff_hz=cutoff_hz)
    residual = raw.positions - smoothed.positions
    seen: NDArray[np.bool_] = np.asarray(np.isfinite(residual).all(axis=2))
    zeroed = np.where(seen[..., None], residual, 0.0)
    shared = zeroed.sum(axis=1, keepdims=True) / np.maximum(seen.sum(axis=1), 1)[:, None, None]
    own = np.abs(residual - shared)
    jitter = np.full(residual.shape[1], DEFAULT_LANDMARK_SIGMA_M)
    for joint in np.flatnonzero(seen.any(axis=0)):
        jitter[joint] = 1.4826 * float(np.median(own[seen[:, joint], joint, :]))
    removed_share = 1.0 - (0.0 if cutoff_hz is None else 2.0 * cutoff_hz / smoothed.fps)
    jitter /= np.sqrt(max(removed_share, 1e-6))
    visibility = np.where(np.isfinite(smoothed.confidence), smoothed.confidence, 0.0)
    sigma = jitter[None, :] / np.maximum(visibility, VISIBILITY_FLOOR)
    sigma[np.isnan(base.sigma_m)] = np.nan
    return LandmarkNoise(sigma_m=sigma, common_covariance_m2=np.zeros((3, 3)), measured=True)


def mirror_sequence(sequence: PoseSequence, *, up: ArrayLike) -> PoseSequence:
    """Reflect a pose sequence across a vertical plane and exchange its left and right landmarks.

    The plane contains ``up`` and is perpendicular to the frame's x axis made horizontal, so a person seen
    from the side or the front turns into their mirror image; heights are unchanged.

    Raises
    ------
    InvalidInputError
        If ``up`` is not a unit vector, or is parallel to the x axis.

    """
    up_vector = _unit(up)
    normal = np.array([1.0, 0.0, 0.0]) - up_vector[0] * up_vector
    length = float(np.linalg.norm(normal))
    if length < 1e-6:
        raise InvalidInputError("cannot mirror: the up vector is parallel to the frame's x axis")
    normal /= length
    positions = sequence.positions - 2.0 * (sequence.positions @ normal)[..., None] * normal
    order = _swap_order(sequence.skeleton)
    return sequence.replace(
        positions=positions[:, order, :],
        confidence=np.asarray(sequence.confidence)[:, order],
        flags=np.asarray(sequence.flags)[:, order] if sequence.flags.size else sequence.flags,
    )


def _angles(pose: PoseSequence, up: ArrayLike) -> dict[str, NDArray[np.float64]]:
    series = joint_angles(pose, up=up)
    out: dict[str, NDArray[np.float64]] = {}
    for name in COMPARED_ANGLES:
        found = series.get(name)
        if found is not None and found.available and np.isfinite(found.values_deg).any():
            values = np.array(found.values_deg, dtype=np.float64)
            values.setflags(write=False)
            out[name] = values
    return out


def _angle_deviation(
    perturbed: PoseSequence, up: NDArray[np.float64], baseline: Mapping[str, NDArray[np.float64]]
) -> dict[str, float | None]:
    series = joint_angles(perturbed, up=up)
    out: dict[str, float | None] = {}
    for name, values in baseline.items():
        change = series[name].values_deg - values
        finite = np.isfinite(change)
        out[name] = 1.4826 * float(np.median(np.abs(change[finite]))) if finite.any() else None
    return out


def _swap_order(skeleton: Skeleton) -> list[int]:
    names = list(skeleton.joint_names)
    index = {name: i for i, name in enumerate(names)}
    return [index.get(_other_side(name), i) for i, name in enumerate(names)]


def _other_side(name: str) -> str:
    if name.startswith("left_"):
        return "right_" + name.removeprefix("left_")
    if name.startswith("right_"):
        return "left_" + name.removeprefix("right_")
    return name


def _unit(up: ArrayLike) -> NDArray[np.float64]:
    vector = np.asarray(up, dtype=np.float64).reshape(-1)
    if vector.shape != (3,) or not np.isfinite(vector).all() or abs(float(np.linalg.norm(vector)) - 1.0) > 1e-6:
        raise InvalidInputError(f"up must be a unit 3-vector; got {np.asarray(up).tolist()!r}")
    return vector
