"""Joint and segment kinematics of a metric pose sequence: angles, their derivatives, joint-centre motion.

Angles are in degrees, computed frame by frame from BlazePose landmarks and an explicit ``up`` unit vector
(no axis convention is assumed, so a camera-frame or a z-up world sequence gives the same angles). Every
angle is a :class:`KinematicSeries` that carries its convention and, for a degree of freedom that the
landmarks cannot observe, ``available=False`` and the reason instead of noise. "Left" is the athlete's own
left. ``mid_hip`` and ``mid_shoulder`` are the midpoints of the two hip and the two shoulder landmarks.

Joint angles (:func:`joint_angles`; ``{side}`` is ``left`` or ``right``)

=====================================  =====================================================  ========================
angle                                  definition                                             0° / positive
=====================================  =====================================================  ========================
``{side}_hip_flexion``                 thigh (hip→knee) in the pelvis frame, 1st Z-X-Y angle  along trunk / flexion
``{side}_hip_adduction``               thigh out of the pelvis's sagittal plane, 2nd angle    in plane / adduction
``{side}_hip_internal_rotation``       unavailable (thigh axial rotation)                     —
``{side}_knee_flexion``                angle between hip→knee and knee→ankle, 0–180°          straight / flexion
``{side}_ankle_dorsiflexion``          90° − angle(ankle→knee, heel→foot index)               foot ⟂ shank / dorsi
``{side}_shoulder_flexion``            upper arm in the thorax frame, 1st Z-X-Y angle         hanging / forward
``{side}_shoulder_abduction``          upper arm out of the thorax's sagittal plane           in plane / abduction
``{side}_shoulder_elevation``          angle between upper arm and the thorax's down axis     hanging / raised
``{side}_shoulder_internal_rotation``  unavailable (humerus axial rotation)                   —
``{side}_elbow_flexion``               angle between shoulder→elbow and elbow→wrist, 0–180°   straight / flexion
``{side}_forearm_pronation``           unavailable (forearm axial rotation)                   —
``trunk_flexion``                      mid-hip→mid-shoulder from ``up``, sagittal plane       upright / forward
``trunk_lateral_lean``                 the same axis out of the sagittal plane                upright / to the right
``pelvis_obliquity``                   left→right hip line above the horizontal               level / right hip higher
``pelvis_tilt``                        unavailable (needs a third pelvic landmark)            —
=====================================  =====================================================  ========================

Segment angles to the horizontal (:func:`segment_angles`): ``trunk`` (mid-hip→mid-shoulder) and, per side,
``{side}_thigh`` (hip→knee), ``{side}_shank`` (knee→ankle), ``{side}_foot`` (heel→foot index),
``{side}_upper_arm`` (shoulder→elbow), ``{side}_forearm`` (elbow→wrist): the angle of the proximal→distal
vector above the forward horizontal in the body's sagittal plane; 0° = pointing forward, +90° = up, −90° = down.

Frames are our own landmark approximations (see :mod:`spacecomputer.biomech._angles`): pelvis from the hip
line and the trunk axis, thorax from the trunk axis and the shoulder line; the body's sagittal plane is the
vertical plane perpendicular to the horizontal part of the hip line (pelvis, legs) or shoulder line (trunk,
arms). Hip and shoulder flexion and ab/adduction are the first two angles of a Z-X-Y Cardan sequence (flexion
about the proximal left-right axis, then the angle out of that sagittal plane): they depend only on the distal
segment's long axis, so its unobservable axial rotation cannot corrupt them. Wu et al. (2005), *ISB
recommendation … part II: shoulder, elbow, wrist and hand*, J Biomech 38:981–992, describe the humerus in the
thorax by plane of elevation, elevation and axial rotation; we report clinical flexion and abduction, plus the
plane-free ``shoulder_elevation``. An angle within 10° of its singular direction is NaN (our heuristic).

Why some angles are unavailable, measured on ``data/videos/sports2d-demo.mp4`` (``--height 1.65`` with its
calibration) by adding isotropic Gaussian noise of 1.6 cm (the median landmark displacement of the pipeline's
rigid-segment step on that clip) to every landmark and taking the median over frames of each angle's RMS
change (100-200 draws). Reported angles: trunk 1.9°, thigh and shank segments 3.5°, hip flexion 4.4°, knee
5.5°, shoulder 5-6°, hip adduction 6.6°, elbow 8.6°, ankle 9.8° (the foot is 14 cm from heel to toe; kept, as
it has no singular posture). Withheld: the hip rotation candidate (hip-knee-ankle plane) 12°, 36–43° with the
knee straighter than 15°; the shoulder rotation candidate (shoulder-elbow-wrist plane) 16–18°, 37–39° with the
elbow straighter than 20°; forearm pronation from the index and pinky landmarks (3.9 cm apart) about 52°. The
two rotation candidates also spanned the whole ±180° on that clip. Pelvis tilt has no landmark to measure it.

Derivatives are central differences on the (already low-pass filtered) signal, on the real timestamps:
second-order ``numpy.gradient`` for velocities, the three-point formula for accelerations; each NaN-free run is
differentiated on its own, so no value crosses a gap (:mod:`spacecomputer.biomech._differences` applies the
formulas to all runs at once). A filter here would smooth twice; a caller that needs smoother derivatives should
filter the positions first (``vision.butterworth_lowpass``). The angles of a sequence are computed once per ``up``
and shared (:mod:`spacecomputer.biomech._memo`): a :class:`KinematicSeries` is immutable. The series types
are in :mod:`spacecomputer.biomech._kinematics_series`.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import numpy as np
from numpy.typing import ArrayLike, NDArray

from spacecomputer.biomech._angles import (
    JOINT_ANGLE_DEFINITIONS,
    SEGMENT_ANGLE_DEFINITIONS,
    AngleDefinition,
    LandmarkPoints,
)
from spacecomputer.biomech._differences import first_derivative, present_rows, second_derivative
from spacecomputer.biomech._kinematics_series import KinematicSeries, PointKinematics, RangeOfMotion
from spacecomputer.biomech._memo import frozen_mapping, per_sequence
from spacecomputer.domain import PoseFlag, PoseSequence
from spacecomputer.domain._runs import contiguous_runs
from spacecomputer.errors import InsufficientDataError, InvalidInputError, InvalidPoseDataError

__all__ = [
    "JOINT_CENTRES",
    "KinematicSeries",
    "PointKinematics",
    "RangeOfMotion",
    "angular_acceleration_deg_s2",
    "angular_velocity_deg_s",
    "joint_angles",
    "joint_centre_kinematics",
    "linear_acceleration_m_s2",
    "linear_velocity_m_s",
    "range_of_motion",
    "segment_angles",
    "unreliable_position_frames",
]

JOINT_CENTRES = (
    "mid_hip",
    "mid_shoulder",
    *(
        f"{side}_{joint}"
        for side in ("left", "right")
        for joint in ("hip", "knee", "ankle", "shoulder", "elbow", "wrist")
    ),
)
"""Points whose motion :func:`joint_centre_kinematics` reports by default (BlazePose landmarks stand in for
the joint centres)."""

_UP_NORM_TOLERANCE = 1e-6
_NEEDED_LANDMARKS = frozenset(n for d in (*JOINT_ANGLE_DEFINITIONS, *SEGMENT_ANGLE_DEFINITIONS) for n in d.landmarks)


# --- angles -----------------------------------------------------------------------------------------------------


def joint_angles(sequence: PoseSequence, *, up: ArrayLike) -> dict[str, KinematicSeries]:
    """Compute every joint angle of the module table, frame by frame.

    Parameters
    ----------
    sequence
        Metric pose sequence (frame ``hip_centred``, ``camera`` or ``world``) on the BlazePose skeleton.
    up
        Unit 3-vector pointing up, in the sequence's frame: ``(0, -1, 0)`` for a level OpenCV camera
        frame, ``(0, 0, 1)`` for a z-up world frame.

    Returns
    -------
    dict of str to KinematicSeries
        One series per angle, keyed by name, each (T,) in degrees with its convention; unobservable
        degrees of freedom are present with ``available=False`` and the reason.

    Raises
    ------
    InvalidPoseDataError
        If the sequence is not metric or lacks a BlazePose landmark.
    InvalidInputError
        If ``up`` is not a finite unit 3-vector.

    """
    return _evaluate_all(JOINT_ANGLE_DEFINITIONS, sequence, up)


def segment_angles(sequence: PoseSequence, *, up: ArrayLike) -> dict[str, KinematicSeries]:
    """Compute the angle of each segment above the forward horizontal, in the body's sagittal plane.

    Segments: ``trunk`` and, per side, ``thigh``, ``shank``, ``foot``, ``upper_arm``, ``forearm`` (keys such
    as ``left_shank``). Each value is the angle of the segment's proximal→distal vector (heel→foot index for
    the foot) above the forward horizontal, positive upwards: standing upright, the trunk reads +90°, the
    thigh and shank −90°, a flat foot 0°. Circular angles are unwrapped in time, so a full turn keeps counting.
    Parameters, returns and errors as in :func:`joint_angles`.
    """
    return _evaluate_all(SEGMENT_ANGLE_DEFINITIONS, sequence, up)


def range_of_motion(series: KinematicSeries) -> RangeOfMotion:
    """Return the minimum, maximum and range of an angle over its finite samples, degrees.

    Raises
    ------
    InsufficientDataError
        If the series has no finite sample (unavailable, or every frame missing); the message says why.

    Examples
    --------
    >>> s = KinematicSeries("knee", np.array([10.0, np.nan, 70.0]), "demo", ("left_knee",))
    >>> range_of_motion(s)
    RangeOfMotion(min_deg=10.0, max_deg=70.0, range_deg=60.0)

    """
    finite = series.values_deg[np.isfinite(series.values_deg)]
    if finite.size == 0:
        why = series.reason if series.reason is not None else "no frame has all of its landmarks"
        raise InsufficientDataError(
            f"no range of motion for {series.name}: {why}",
            details={"angle": series.name, "available": series.available},
        )
    low, high = float(finite.min()), float(finite.max())
    return RangeOfMotion(min_deg=low, max_deg=high, range_deg=high - low)


# --- derivatives ------------------------------------------------------------------------------------------------


def angular_velocity_deg_s(series: KinematicSeries, timestamps_s: ArrayLike) -> NDArray[np.float64]:
    """Return the (T,) angular velocity of an angle, deg/s (all NaN for an unavailable angle).

    Second-order central differences on the real ``timestamps_s`` (s, strictly increasing), one-sided at the
    ends of each NaN-free run; a run of one sample gives NaN.

    Examples
    --------
    >>> ramp = KinematicSeries("demo", np.array([0.0, 3.0, 6.0, 9.0]), "demo", ("left_knee",))
    >>> angular_velocity_deg_s(ramp, [0.0, 0.1, 0.2, 0.3])
    array([30., 30., 30., 30.])

    """
    return first_derivative(series.values_deg, _timestamps(timestamps_s, series.values_deg.shape[0]))


def angular_acceleration_deg_s2(series: KinematicSeries, timestamps_s: ArrayLike) -> NDArray[np.float64]:
    """Return the (T,) angular acceleration of an angle, deg/s², by the three-point central formula.

    At the two ends of each NaN-free run the value is that of the neighbouring sample (the second difference
    of the run's first or last three samples); runs shorter than three samples give NaN.
    """
    return second_derivative(series.values_deg, _timestamps(timestamps_s, series.values_deg.shape[0]))


def linear_velocity_m_s(positions_m: ArrayLike, timestamps_s: ArrayLike) -> NDArray[np.float64]:
    """Return the velocity of (T, ...) positions in metres (time on axis 0), m/s, as :func:`angular_velocity_deg_s`.

    A sample counts as present when all its components are finite.
    """
    values = _samples(positions_m)
    return first_derivative(values, _timestamps(timestamps_s, values.shape[0]))


def unreliable_position_frames(sequence: PoseSequence) -> NDArray[np.bool_]:
    """Return the (T,) frames whose global position was not measured (:attr:`PoseFlag.UNRELIABLE_POSITION`).

    The trajectory bridged the body's depth there over too long a stretch without a usable depth cue
    (``vision/_trajectory.py``): speeds and accelerations of the whole body are not taken from these frames.
    """
    return np.asarray((sequence.flags & np.uint8(PoseFlag.UNRELIABLE_POSITION)).any(axis=1))


def linear_acceleration_m_s2(positions_m: ArrayLike, timestamps_s: ArrayLike) -> NDArray[np.float64]:
    """Return the acceleration of (T, ...) positions in metres, m/s², as :func:`angular_acceleration_deg_s2`."""
    values = _samples(positions_m)
    return second_derivative(values, _timestamps(timestamps_s, values.shape[0]))


def joint_centre_kinematics(
    sequence: PoseSequence, *, joints: Sequence[str] = JOINT_CENTRES
) -> dict[str, PointKinematics]:
    """Return position, velocity (m/s) and acceleration (m/s²) of joint centres, keyed by name.

    ``joints`` are BlazePose landmark names or ``mid_hip`` / ``mid_shoulder``; the landmarks stand in for the
    joint centres. Derivatives use ``sequence.timestamps_s`` (see the module docstring).

    Raises
    ------
    InvalidPoseDataError
        If the sequence is not metric or a requested point is not on its skeleton.

    """
    points = _points(sequence)
    unknown = [name for name in joints if name not in points]
    if unknown:
        raise InvalidPoseDataError(
            f"unknown joint centres {unknown}; known: {sorted(points)}", details={"unknown": unknown}
        )
    out = {}
    for name in joints:
        position = np.array(points[name])
        velocity = first_derivative(position, sequence.timestamps_s)
        acceleration = second_derivative(position, sequence.timestamps_s)
        for array in (position, velocity, acceleration):
            array.setflags(write=False)
        out[name] = PointKinematics(name, position, velocity, acceleration)
    return out


# --- internals --------------------------------------------------------------------------------------------------


def _evaluate_all(
    definitions: tuple[AngleDefinition, ...], sequence: PoseSequence, up: ArrayLike
) -> dict[str, KinematicSeries]:
    up_key = tuple(float(component) for component in _up_vector(up))
    return dict(_evaluated(sequence, definitions, up_key))


@per_sequence
def _evaluated(
    sequence: PoseSequence, definitions: tuple[AngleDefinition, ...], up: tuple[float, ...]
) -> Mapping[str, KinematicSeries]:
    """Compute the angles of ``definitions`` once per sequence and ``up`` (series are immutable: shared)."""
    points = _points(sequence)
    up_unit = np.array(up)
    return frozen_mapping({d.name: _evaluate(d, points, up_unit, sequence.n_frames) for d in definitions})


def _evaluate(
    definition: AngleDefinition, points: LandmarkPoints, up: NDArray[np.float64], n_frames: int
) -> KinematicSeries:
    if definition.compute is None:
        return KinematicSeries.unavailable(definition, n_frames=n_frames)
    values = np.array(definition.compute(points, up), dtype=np.float64)
    missing = np.zeros(n_frames, dtype=bool)
    for name in definition.landmarks:
        missing |= points.missing(name)
    values[missing] = np.nan
    if definition.circular:
        values = _unwrapped_deg(values)
    return KinematicSeries(definition.name, values, definition.convention, definition.landmarks)


@per_sequence
def _points(sequence: PoseSequence) -> LandmarkPoints:
    """Every landmark plus ``mid_hip`` and ``mid_shoulder``, once per sequence (with the frames built from them)."""
    sequence.require_metric("kinematics")
    names = sequence.skeleton.joint_names
    lacking = sorted(_NEEDED_LANDMARKS - set(names))
    if lacking:
        raise InvalidPoseDataError(
            f"skeleton {sequence.skeleton.name!r} lacks the landmarks {lacking} that kinematics need",
            details={"skeleton": sequence.skeleton.name, "missing": lacking},
        )
    points = {name: sequence.positions[:, i, :] for i, name in enumerate(names)}
    points["mid_hip"] = 0.5 * (points["left_hip"] + points["right_hip"])
    points["mid_shoulder"] = 0.5 * (points["left_shoulder"] + points["right_shoulder"])
    for midpoint in ("mid_hip", "mid_shoulder"):
        points[midpoint].setflags(write=False)
    return LandmarkPoints(points)


def _up_vector(up: ArrayLike) -> NDArray[np.float64]:
    vector = np.asarray(up, dtype=np.float64)
    length = float(np.linalg.norm(vector)) if vector.shape == (3,) else np.nan
    if not abs(length - 1.0) <= _UP_NORM_TOLERANCE:
        raise InvalidInputError(
            f"up must be a finite unit 3-vector in the sequence's frame (the up direction, not gravity); "
            f"got {vector.tolist()}",
            details={"up": vector.tolist()},
        )
    return vector


def _timestamps(timestamps_s: ArrayLike, n_frames: int) -> NDArray[np.float64]:
    t = np.asarray(timestamps_s, dtype=np.float64)
    if t.shape != (n_frames,):
        raise InvalidInputError(f"timestamps_s must have shape ({n_frames},) like the values; got {t.shape}")
    if not np.isfinite(t).all() or not (np.diff(t) > 0).all():
        raise InvalidInputError("timestamps_s must be finite and strictly increasing, in seconds")
    return t


def _samples(positions_m: ArrayLike) -> NDArray[np.float64]:
    values = np.asarray(positions_m, dtype=np.float64)
    if values.ndim < 1 or np.isinf(values).any():
        raise InvalidInputError(
            f"positions must have time on axis 0 and no infinities (NaN = missing); got shape {values.shape}"
        )
    return values


def _unwrapped_deg(values: NDArray[np.float64]) -> NDArray[np.float64]:
    out = values.copy()
    # numpy.unwrap only changes a run that has a step of half a turn or more (a NaN step is no step).
    with np.errstate(invalid="ignore"):
        jumps = np.flatnonzero(np.abs(np.diff(values)) >= 180.0)
    if jumps.size == 0:
        return out
    runs = contiguous_runs(present_rows(values))
    starts = np.array([start for start, _ in runs])
    for run in np.unique(np.searchsorted(starts, jumps, side="right") - 1):  # the runs holding a jump
        start, stop = runs[run]
        out[start:stop] = np.unwrap(values[start:stop], period=360.0)
    return out
