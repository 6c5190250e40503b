"""The athlete's global metric trajectory: BlazePose's hip-centred body placed in the camera and world frames.

BlazePose's world landmarks are hip-centred (origin midway between the hips, axes parallel to the
camera's, metres in BlazePose's own body scale), so the athlete never moves through the scene. Here the
body is scaled to the athlete's real height and translated, frame by frame, to where it projects onto
the 2D landmarks seen in the image.

Method (:func:`recover_global_trajectory`)
------------------------------------------
a. **Scale.** :func:`estimate_body_height_m` measures the standing height of BlazePose's body: per
   frame, the mean over sides of heel→ankle + ankle→knee + knee→hip segment lengths, plus mid-hip→
   mid-shoulder, is the shoulder height; divided by :data:`SHOULDER_HEIGHT_FRACTION` (0.818, our own
   modelling assumption for the ratio of shoulder height to stature, i.e. a head-and-neck allowance of
   18.2 % of stature above the shoulders) it gives stature. The median over frames where every landmark
   of the chain is visible is the estimate. Segment lengths, not vertical extents, are summed, so bent
   knees or a leaning trunk do not shorten it. The pose is scaled by ``subject_height_m / estimate``
   (scale 1, BlazePose's own body scale, when the height is unknown).
b. **Translation.** For the visible landmarks (visibility ≥ ``min_visibility``) with undistorted
   normalised image coordinates ``(u_i, v_i)`` and scaled hip-centred positions ``X_i``, the pelvis
   position ``t`` solves the linear least squares ``(X_i + t)_x - u_i (X_i + t)_z = 0``,
   ``(X_i + t)_y - v_i (X_i + t)_z = 0``, each landmark weighted by its visibility (an algebraic error,
   exact for consistent data; the reprojection error in pixels is reported alongside). Image-frame
   pixels (corner origin) are shifted to OpenCV's pixel-centre convention before undistortion.
c. **Depth held to human motion.** The translation's depth (its component along the optical axis) is the
   weak part of the solve: it rests on the body's apparent size alone, and BlazePose's 3D body and 2D
   landmarks disagree in size by a few per cent depending on the pose, by half when the 2D skeleton
   collapses (a tucked flip into the sun). Per-frame depths are therefore smoothed by the robust Kalman
   smoother of :mod:`._depth` (bounded acceleration, outliers rejected), using only frames whose pose was
   observed (at least ``min_landmarks`` used landmarks not interpolated over a gap), each with the
   standard error of its solve. The lateral and vertical components are then solved again, by least
   squares, with the depth fixed: they stay exact to the image, and a depth error shifts them only by the
   athlete's angle off the optical axis times that error. ``depth_acceleration_sigma_m_s2=None`` keeps the
   per-frame depths (the method before this step, for comparison).
d. **Rejection and unreliable frames.** Frames without a pose, or with fewer than ``min_landmarks`` visible
   landmarks, stay NaN. Solutions behind the camera (any landmark at ``z ≤ 0``) or whose per-frame
   reprojection RMS exceeds ``max_reprojection_rms_fraction`` of the athlete's size in the image (the
   diagonal of the visible landmarks' box, pixels) are set to NaN and counted. The default 0.1 is about
   twice the worst seen on the Sports2D demo video (median 0.022, maximum 0.047: BlazePose's world and
   image landmarks are not exactly consistent). A frame inside a run of frames without an accepted depth
   measurement that lasts longer than ``max_depth_gap_s`` (the pipeline passes its gap-filling bound,
   0.2 s) keeps the bridged position but is flagged :attr:`PoseFlag.UNRELIABLE_POSITION` on every
   landmark: its place in depth is the motion model's guess, not a measurement. Smoothing of the
   landmarks is left to the pipeline's filter.
e. **World frame.** With the calibration's extrinsics ``R``, ``t``: ``X_world = Rᵀ (X_cam - t)``.
f. **What the smoothed depth leaves uncertain.** The depth smoother's error process
   (:class:`~spacecomputer.domain._placement.DepthErrorProcess`) and, per frame, how far the body moves per
   metre of depth error: the lateral and vertical solve of step c is linear in the depth, so the body moves by
   ``(ū, v̄, 1)`` per metre (the visibility-weighted mean normalised image coordinates of the used landmarks;
   the line of sight to the athlete at unit depth), rotated by ``Rᵀ`` into the world frame. Together they are
   the :class:`~spacecomputer.domain._placement.PlacementUncertainty` the Monte Carlo uncertainty draws from.

Uncalibrated cameras: with :meth:`CameraModel.default_for`, lateral motion in metres is fixed by the
subject's height (it sets metres per pixel at the athlete's depth) and does not depend on the assumed
focal length, while absolute depth (distance from the camera) scales with that assumed focal length.

On the Sports2D demo (calibrated, ``--height 1.65``) the per-frame depth swings by ±0.2–0.3 m while the
athlete stands on the box and jumps from 11.5 m to 17.9 m and back within half a second in the flip; the
centre of mass then read 48.7 m/s at its peak and 2.9 m/s median (``docs/biomechanics.md``).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray

from spacecomputer.domain._anthropometry import SHOULDER_HEIGHT_FRACTION
from spacecomputer.domain._frames import CoordinateFrame
from spacecomputer.domain._placement import PlacementUncertainty
from spacecomputer.domain._pose_sequence import PoseFlag, PoseSequence
from spacecomputer.domain._runs import contiguous_runs
from spacecomputer.errors import InsufficientDataError, InvalidInputError, InvalidPoseDataError
from spacecomputer.vision._camera import IMAGE_TO_OPENCV_OFFSET_PX, CameraModel
from spacecomputer.vision._depth import DEFAULT_ACCELERATION_SIGMA_M_S2, DepthTrack, smooth_depth
from spacecomputer.vision._translation import solve_translations, translations_at_depth, visible_extent_px

__all__ = [
    "SHOULDER_HEIGHT_FRACTION",
    "GlobalTrajectory",
    "estimate_body_height_m",
    "recover_global_trajectory",
]

_LEG_CHAINS = (
    ("left_heel", "left_ankle", "left_knee", "left_hip"),
    ("right_heel", "right_ankle", "right_knee", "right_hip"),
)
_TRUNK = ("left_hip", "right_hip", "left_shoulder", "right_shoulder")
_SUBJECT_HEIGHT_RANGE_M = (0.5, 2.8)


@dataclass(frozen=True, eq=False)
class GlobalTrajectory:
    """The athlete's pose in metric camera (and world) coordinates.

    Parameters
    ----------
    camera_frame
        Frame ``camera``, metres: scaled BlazePose body translated to the recovered pelvis position.
    world_frame
        The same in the calibration's ``world`` frame, metres; ``None`` when the camera is uncalibrated.
    scale_factor
        Factor applied to BlazePose's hip-centred body (1 when the subject's height is unknown).
    body_height_m
        Standing height of BlazePose's body before scaling, m (:func:`estimate_body_height_m`).
    pelvis_camera_m
        (T, 3) mid-hip position in the camera frame, m, with the smoothed depth; NaN where no solution was
        accepted.
    reprojection_rms_px
        (T,) RMS distance between observed and reprojected visible landmarks of each frame's own solve,
        pixels; kept for frames rejected for a large error, NaN where no solution was found or a landmark
        fell behind the camera.
    n_rejected_frames
        Frames whose solution was rejected as absurd (behind the camera or reprojection too large).
    notes
        Assumptions and facts a reader of the result needs, one sentence each.
    per_frame_pelvis_camera_m
        (T, 3) each frame's own solve (depth not smoothed), m; NaN where rejected.
    depth
        The smoothed depth track (:mod:`._depth`); ``None`` when depth smoothing was turned off.
    unreliable_position
        (T,) frames flagged :attr:`PoseFlag.UNRELIABLE_POSITION` (module docstring, step d).
    placement_camera
        The smoothed depth's error and the body's displacement per metre of it, in the camera frame (module
        docstring, step f); ``None`` when depth smoothing was turned off or no depth was measured.
    placement_world
        The same in the world frame; ``None`` also when the camera is uncalibrated.

    """

    camera_frame: PoseSequence
    world_frame: PoseSequence | None
    scale_factor: float
    body_height_m: float
    pelvis_camera_m: NDArray[np.float64]
    reprojection_rms_px: NDArray[np.float64]
    n_rejected_frames: int
    notes: tuple[str, ...]
    per_frame_pelvis_camera_m: NDArray[np.float64]
    depth: DepthTrack | None
    unreliable_position: NDArray[np.bool_]
    placement_camera: PlacementUncertainty | None
    placement_world: PlacementUncertainty | None

    @property
    def pelvis_world_m(self) -> NDArray[np.float64] | None:
        """(T, 3) mid-hip position in the world frame, m; ``None`` when uncalibrated."""
        if self.world_frame is None:
            return None
        hips = self.world_frame.positions[:, [self.world_frame.skeleton.index(n) for n in _TRUNK[:2]]]
        return np.asarray(hips.mean(axis=1), dtype=np.float64)


def estimate_body_height_m(
    world: PoseSequence,
    *,
    min_visibility: float = 0.5,
    shoulder_height_fraction: float = SHOULDER_HEIGHT_FRACTION,
) -> float:
    """Estimate the standing height of the body in hip-centred landmarks, m, in their own scale.

    Parameters
    ----------
    world
        Frame ``hip_centred`` (BlazePose world landmarks), metres.
    min_visibility
        A landmark counts when its confidence is at least this, in [0, 1].
    shoulder_height_fraction
        Shoulder height divided by stature (our modelling assumption, see the module docstring).

    Returns
    -------
    float
        Median over usable frames of (mean leg chain + trunk) / ``shoulder_height_fraction``, m.

    Raises
    ------
    InsufficientDataError
        No frame shows the whole chain (one heel→hip leg and both hips and shoulders).

    """
    if world.frame is not CoordinateFrame.HIP_CENTRED:
        raise InvalidPoseDataError(f"body height needs hip_centred landmarks; got frame {world.frame.value}")
    skeleton, positions = world.skeleton, world.positions
    visible = (world.confidence >= min_visibility) & world.present

    def length(a: str, b: str) -> NDArray[np.float64]:
        i, j = skeleton.index(a), skeleton.index(b)
        return np.asarray(np.linalg.norm(positions[:, i] - positions[:, j], axis=1), dtype=np.float64)

    legs = []
    for heel, ankle, knee, hip in _LEG_CHAINS:
        leg = length(heel, ankle) + length(ankle, knee) + length(knee, hip)
        ok = visible[:, [skeleton.index(n) for n in (heel, ankle, knee, hip)]].all(axis=1)
        legs.append(np.where(ok, leg, np.nan))
    leg_stack = np.stack(legs)
    n_sides = np.sum(~np.isnan(leg_stack), axis=0)
    leg_mean = np.where(n_sides > 0, np.nansum(leg_stack, axis=0) / np.maximum(n_sides, 1), np.nan)
    trunk_idx = [skeleton.index(n) for n in _TRUNK]
    mid_hip = positions[:, trunk_idx[:2]].mean(axis=1)
    mid_shoulder = positions[:, trunk_idx[2:]].mean(axis=1)
    trunk = np.where(visible[:, trunk_idx].all(axis=1), np.linalg.norm(mid_shoulder - mid_hip, axis=1), np.nan)
    heights = (leg_mean + trunk) / shoulder_height_fraction
    heights = heights[np.isfinite(heights)]
    if heights.size == 0:
        raise InsufficientDataError(
            f"no frame shows a heel-to-hip leg and both hips and shoulders with visibility >= {min_visibility}",
            details={"n_frames": world.n_frames, "min_visibility": min_visibility},
        )
    return float(np.median(heights))


def recover_global_trajectory(
    image: PoseSequence,
    world: PoseSequence,
    *,
    camera: CameraModel,
    subject_height_m: float | None,
    min_visibility: float = 0.5,
    min_landmarks: int = 6,
    max_reprojection_rms_fraction: float = 0.1,
    depth_acceleration_sigma_m_s2: float | None = DEFAULT_ACCELERATION_SIGMA_M_S2,
    max_depth_gap_s: float = 0.2,
) -> GlobalTrajectory:
    """Place the scaled hip-centred body in the camera frame (and world frame) frame by frame.

    See the module docstring for the method and what it means for an uncalibrated camera.

    Parameters
    ----------
    image
        Frame ``image`` (pixels, origin at the top-left pixel corner): the 2D landmarks.
    world
        Frame ``hip_centred`` (metres): the same frames' BlazePose world landmarks.
    camera
        Intrinsics (and extrinsics when calibrated). Rescaled to ``image.image_size_px`` when that
        differs with the same aspect ratio.
    subject_height_m
        The athlete's standing height, m; ``None`` keeps BlazePose's own body scale.
    min_visibility
        Landmarks with a lower visibility, in [0, 1], take no part in the solve.
    min_landmarks
        Fewest visible landmarks for a frame to be solved.
    max_reprojection_rms_fraction
        Largest accepted reprojection RMS as a fraction of the athlete's size in the image.
    depth_acceleration_sigma_m_s2
        Standard deviation of the depth acceleration per frame interval of the depth smoother, m/s²
        (:mod:`._depth`); ``None`` keeps each frame's own depth.
    max_depth_gap_s
        Longest run of frames without an accepted depth measurement whose bridged position is trusted, s.

    Returns
    -------
    GlobalTrajectory
        Positions in metres, the per-frame pelvis and reprojection error, the depth track and the notes.

    """
    _check_inputs(image, world, subject_height_m, min_visibility, min_landmarks, max_reprojection_rms_fraction)
    _check_depth_tuning(depth_acceleration_sigma_m_s2, max_depth_gap_s)
    notes = []
    if image.image_size_px is not None and image.image_size_px != camera.image_size_px:
        camera = camera.scaled_to(*image.image_size_px)
        notes.append(f"camera intrinsics rescaled to the video size {image.image_size_px} px")
    body_height_m = estimate_body_height_m(world, min_visibility=min_visibility)
    scale = 1.0 if subject_height_m is None else subject_height_m / body_height_m
    notes.append(_scale_note(subject_height_m, body_height_m, scale))

    body_m = scale * world.positions
    observed_px = image.positions[:, :, :2] - IMAGE_TO_OPENCV_OFFSET_PX
    used = (image.confidence >= min_visibility) & image.present & world.present
    enough = used.sum(axis=1) >= min_landmarks
    weights = np.where(used, image.confidence, 0.0)
    solve = solve_translations(body_m, observed_px, weights, enough, camera)
    free = np.array(solve.pelvis_m)
    behind = np.any(body_m[:, :, 2] + free[:, None, 2] <= 0.0, axis=1)
    too_far_px = ~(solve.rms_px <= max_reprojection_rms_fraction * visible_extent_px(observed_px, used))
    rejected = np.isfinite(free[:, 0]) & (behind | too_far_px)
    free[rejected] = np.nan
    notes.append(
        f"{int(rejected.sum())} frames rejected (behind the camera or reprojection RMS above "
        f"{max_reprojection_rms_fraction:g} of the athlete's size in the image); "
        f"{int(np.sum(image.detected & world.detected & ~enough))} frames with a pose had fewer than "
        f"{min_landmarks} landmarks visible at >= {min_visibility}"
    )

    pelvis, depth, placement_camera, placement_world = free, None, None, None
    unreliable = np.zeros(image.n_frames, dtype=np.bool_)
    if depth_acceleration_sigma_m_s2 is not None:
        # Step c: only frames whose pose was seen, not interpolated over a gap, measure depth.
        observed = (used & ((image.flags & PoseFlag.INTERPOLATED) == 0)).sum(axis=1) >= min_landmarks
        depth = smooth_depth(
            np.where(observed, free[:, 2], np.nan),
            solve.depth_sigma_m,
            image.timestamps_s,
            acceleration_sigma_m_s2=depth_acceleration_sigma_m_s2,
        )
        pelvis = translations_at_depth(body_m, solve.normalised, weights, depth.depth_m)
        pelvis[np.isnan(free[:, 0])] = np.nan
        if depth.error is not None:  # step f: the solve is linear in depth, so one metre more gives the shift
            shift = translations_at_depth(body_m, solve.normalised, weights, depth.depth_m + 1.0) - pelvis
            placement_camera = PlacementUncertainty(depth.error, shift)
            if camera.rotation is not None:
                placement_world = PlacementUncertainty(depth.error, shift @ camera.rotation)  # Rᵀ d, as rows
        unreliable = np.isfinite(pelvis[:, 0]) & _long_unmeasured_runs(
            depth.measured, image.timestamps_s, max_gap_s=max_depth_gap_s
        )
        notes.append(_depth_note(depth, unreliable, max_depth_gap_s))
    if not camera.is_calibrated:
        notes.append(
            f"camera uncalibrated ({camera.source}): lateral motion in metres follows from the subject's "
            "height, absolute depth scales with the assumed focal length; no world frame"
        )

    solved = np.isfinite(pelvis[:, 0])
    flags = np.where(unreliable[:, None], world.flags | np.uint8(PoseFlag.UNRELIABLE_POSITION), world.flags)
    camera_frame = world.replace(
        positions=body_m + pelvis[:, None, :],
        confidence=np.where(solved[:, None] & world.present, world.confidence, 0.0),
        frame=CoordinateFrame.CAMERA,
        image_size_px=camera.image_size_px,
        flags=flags,
        metadata={
            **world.metadata,
            "global_trajectory": {
                "camera": camera.source,
                "subject_height_m": subject_height_m,
                "body_height_m": body_height_m,
                "scale_factor": scale,
            },
        },
    )
    world_frame = None
    if camera.is_calibrated:
        world_frame = camera_frame.replace(
            positions=camera.camera_to_world(camera_frame.positions), frame=CoordinateFrame.WORLD
        )
    for array in (pelvis, free, solve.rms_px, unreliable):
        array.setflags(write=False)
    return GlobalTrajectory(
        camera_frame=camera_frame,
        world_frame=world_frame,
        scale_factor=scale,
        body_height_m=body_height_m,
        pelvis_camera_m=pelvis,
        reprojection_rms_px=solve.rms_px,
        n_rejected_frames=int(rejected.sum()),
        notes=tuple(notes),
        per_frame_pelvis_camera_m=free,
        depth=depth,
        unreliable_position=unreliable,
        placement_camera=placement_camera,
        placement_world=placement_world,
    )


def _scale_note(subject_height_m: float | None, body_height_m: float, scale: float) -> str:
    if subject_height_m is None:
        return f"subject height unknown: BlazePose's own body scale kept (body {body_height_m:.3f} m tall)"
    return (
        f"BlazePose body {body_height_m:.3f} m tall scaled by {scale:.4f} to the subject's "
        f"{subject_height_m:.3f} m (shoulder height assumed {SHOULDER_HEIGHT_FRACTION} of stature)"
    )


def _depth_note(depth: DepthTrack, unreliable: NDArray[np.bool_], max_depth_gap_s: float) -> str:
    return (
        f"depth smoothed with bounded acceleration (σ {depth.acceleration_sigma_m_s2:g} m/s²): "
        f"{depth.n_outliers} of {int(depth.offered.sum())} per-frame depths "
        f"rejected as outliers (per-frame standard errors scaled by {depth.noise_factor:.2f}); "
        f"{int(unreliable.sum())} frames flagged unreliable_position (no accepted depth for more than "
        f"{max_depth_gap_s:g} s)"
    )


def _long_unmeasured_runs(
    measured: NDArray[np.bool_], timestamps_s: NDArray[np.float64], *, max_gap_s: float
) -> NDArray[np.bool_]:
    """(T,) frames inside runs without a measurement lasting longer than ``max_gap_s``, s.

    A run of ``n`` frames lasts ``n`` frame intervals (the median interval), as a gap does in :mod:`._gaps`.
    """
    interval_s = float(np.median(np.diff(timestamps_s))) if timestamps_s.size > 1 else 0.0
    long_runs = np.zeros(measured.size, dtype=np.bool_)
    for start, stop in contiguous_runs(~measured):
        if timestamps_s[stop - 1] - timestamps_s[start] + interval_s > max_gap_s + 1e-9:
            long_runs[start:stop] = True
    return long_runs


def _check_depth_tuning(depth_acceleration_sigma_m_s2: float | None, max_depth_gap_s: float) -> None:
    sigma_ok = depth_acceleration_sigma_m_s2 is None or (
        math.isfinite(depth_acceleration_sigma_m_s2) and depth_acceleration_sigma_m_s2 > 0.0
    )
    if not (sigma_ok and math.isfinite(max_depth_gap_s) and max_depth_gap_s >= 0.0):
        raise InvalidInputError(
            "expected depth_acceleration_sigma_m_s2 > 0 m/s² (or None) and max_depth_gap_s >= 0 s; "
            f"got {depth_acceleration_sigma_m_s2}, {max_depth_gap_s}"
        )


def _check_inputs(
    image: PoseSequence,
    world: PoseSequence,
    subject_height_m: float | None,
    min_visibility: float,
    min_landmarks: int,
    max_reprojection_rms_fraction: float,
) -> None:
    if not (0.0 <= min_visibility <= 1.0 and min_landmarks >= 2 and max_reprojection_rms_fraction > 0.0):
        raise InvalidInputError(
            "expected min_visibility in [0, 1], min_landmarks >= 2 and max_reprojection_rms_fraction > 0; "
            f"got {min_visibility}, {min_landmarks}, {max_reprojection_rms_fraction}"
        )
    if image.frame is not CoordinateFrame.IMAGE or world.frame is not CoordinateFrame.HIP_CENTRED:
        raise InvalidPoseDataError(
            f"expected image landmarks (frame image) and world landmarks (frame hip_centred); "
            f"got {image.frame.value} and {world.frame.value}"
        )
    if image.skeleton != world.skeleton or not np.array_equal(image.frame_indices, world.frame_indices):
        raise InvalidPoseDataError(
            "image and world landmarks must come from the same frames and skeleton; got "
            f"{image.n_frames} and {world.n_frames} frames, "
            f"skeletons {image.skeleton.name} and {world.skeleton.name}"
        )
    low, high = _SUBJECT_HEIGHT_RANGE_M
    if subject_height_m is not None and not (math.isfinite(subject_height_m) and low <= subject_height_m <= high):
        raise InvalidInputError(
            f"subject_height_m must be a standing height in [{low}, {high}] m; got {subject_height_m}",
            details={"subject_height_m": subject_height_m},
        )
