"""Cleaning the raw per-frame poses: swap correction, gaps, rigid bones, metric placement, smoothing, skeleton fit."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Literal

import numpy as np

from spacecomputer._chunks import EstimatedFrames
from spacecomputer.biomech.solver import SkeletonTrack, fit_skeleton_to_sequence
from spacecomputer.config import get_settings
from spacecomputer.domain import CoordinateFrame, PoseFlag, PoseSequence
from spacecomputer.domain._analysis import (
    FilterInfo,
    RigidSegmentsInfo,
    SkeletonFitInfo,
    TrajectoryInfo,
)
from spacecomputer.domain._placement import PlacementUncertainty
from spacecomputer.domain._runs import contiguous_runs
from spacecomputer.errors import InsufficientDataError, InvalidPoseDataError
from spacecomputer.vision._camera import CameraModel
from spacecomputer.vision._pose import BlazePoseEstimator
from spacecomputer.vision._postprocess import fill_sequence_gaps, smooth_sequence
from spacecomputer.vision._rigid import enforce_segment_lengths
from spacecomputer.vision._swaps import correct_left_right_swaps
from spacecomputer.vision._trajectory import GlobalTrajectory, recover_global_trajectory
from spacecomputer.vision._video import VideoInfo

__all__ = ["CAMERA_FRAME_UP", "CleanedPoses", "clean_poses"]

CAMERA_FRAME_UP = (0.0, -1.0, 0.0)
"""Up in the camera frame of a level camera: OpenCV's camera y axis points down the image."""


@dataclass(frozen=True, eq=False)
class CleanedPoses:
    """The cleaned sequences and what cleaning them did."""

    image: PoseSequence
    metric: PoseSequence
    """The metric poses, smoothed and put on the subject's rigid skeleton (``metric_smoothed`` where it failed)."""
    metric_smoothed: PoseSequence
    """``metric`` before the skeleton fit (for the uncertainty model's jitter: ``metric_raw`` − this)."""
    metric_raw: PoseSequence
    """``metric_smoothed`` before the low-pass (for the uncertainty model's jitter)."""
    up: tuple[float, float, float]
    """Unit vector pointing up in ``metric``'s frame."""
    up_source: str
    """Where ``up`` came from, in words."""
    image_raw: PoseSequence
    """``image`` before the low-pass (swaps corrected, gaps filled): what a library clip stores."""
    cutoff_hz: float
    placement: PlacementUncertainty | None
    """The smoothed depth's error in ``metric``'s frame (for the uncertainty model); ``None`` without one."""
    processing_bits: dict[str, Any]
    trajectory_info: TrajectoryInfo
    warnings: list[str]


def clean_poses(
    info: VideoInfo,
    frames: EstimatedFrames,
    camera: CameraModel,
    *,
    max_gap_s: float | None,
    height_m: float | None,
    cutoff_hz: float | Literal["auto"] | None,
) -> CleanedPoses:
    """Swap correction, gap filling, metric placement and smoothing of the raw per-frame poses."""
    settings = get_settings()
    warnings: list[str] = []
    common: dict[str, Any] = {
        "timestamps_s": frames.timestamps_array,
        "frame_indices": np.asarray(frames.frame_indices, dtype=np.int64),
        "fps": info.fps,
        "image_size_px": (info.width_px, info.height_px),
        "metadata": {"source": info.path.name, "estimator": BlazePoseEstimator.model_name},
    }
    image_raw = PoseSequence.from_pose_frames(frames.poses, frame=CoordinateFrame.IMAGE, **common)
    world_raw = PoseSequence.from_pose_frames(frames.poses, frame=CoordinateFrame.HIP_CENTRED, **common)
    reacquired = np.array([s == "reacquired" for s in frames.statuses])
    if reacquired.any():
        flags = np.array(image_raw.flags)
        flags[reacquired] |= np.uint8(PoseFlag.REACQUIRED)
        image_raw = image_raw.replace(flags=flags)
        world_raw = world_raw.replace(flags=flags)

    swaps = correct_left_right_swaps(image_raw, world_raw)
    max_gap_s = settings.max_gap_s if max_gap_s is None else max_gap_s
    image_filled = fill_sequence_gaps(swaps.image, max_gap_s=max_gap_s)
    world_filled = fill_sequence_gaps(swaps.world, max_gap_s=max_gap_s)

    rigid = enforce_segment_lengths(world_filled.sequence)
    trajectory = recover_global_trajectory(
        image_filled.sequence,
        rigid.sequence,
        camera=camera,
        subject_height_m=height_m,
        max_depth_gap_s=max_gap_s,
    )
    metric_raw = trajectory.world_frame if trajectory.world_frame is not None else trajectory.camera_frame
    placement = trajectory.placement_world if trajectory.world_frame is not None else trajectory.placement_camera
    cutoff = settings.filter_cutoff_hz if cutoff_hz is None else cutoff_hz
    metric = smooth_sequence(metric_raw, cutoff_hz=cutoff)
    image = smooth_sequence(image_filled.sequence, cutoff_hz=metric.cutoff_hz)
    if metric.note:
        warnings.append(metric.note)
    up, up_source = _vertical(metric.sequence, camera)
    skeleton = _fit_skeleton(metric.sequence, up, warnings)
    detection_rate = float(image.sequence.detected.mean())
    if detection_rate < 0.9:
        warnings.append(f"athlete visible in only {detection_rate:.0%} of the frames")
    warnings.extend(_unreliable_position_warnings(trajectory, max_gap_s))
    errors = trajectory.reprojection_rms_px[np.isfinite(trajectory.reprojection_rms_px)]
    depth = trajectory.depth
    trajectory_info = TrajectoryInfo(
        calibrated=camera.is_calibrated,
        camera_source=camera.source,
        scale_factor=trajectory.scale_factor,
        median_reprojection_error_px=float(np.median(errors)) if errors.size else None,
        notes=list(trajectory.notes),
        depth_acceleration_sigma_m_s2=None if depth is None else depth.acceleration_sigma_m_s2,
        depth_outlier_frames=0 if depth is None else depth.n_outliers,
        unreliable_position_frames=int(trajectory.unreliable_position.sum()),
    )
    statuses = frames.statuses
    processing_bits: dict[str, Any] = {
        "max_gap_s": max_gap_s,
        "filter": FilterInfo(
            order=4,
            cutoff_hz=round(metric.cutoff_hz, 4),
            cutoff_method=metric.method,
            sampling_rate_hz=round(metric.sampling_rate_hz, 4),
        ),
        "frames_filled": image_filled.frames_filled,
        "long_gaps": len(image_filled.long_gaps),
        "swap_corrected_frames": int(swaps.n_corrected_frames),
        "rigid_segments": RigidSegmentsInfo(
            bone_length_cv_before=round(rigid.cv_before, 4),
            bone_length_cv_after=round(rigid.cv_after, 6),
            median_displacement_m=round(float(np.nanmedian(rigid.displacement)) * trajectory.scale_factor, 4),
            max_displacement_m=round(float(np.nanmax(rigid.displacement)) * trajectory.scale_factor, 4),
        ),
        "skeleton_fit": None if skeleton is None else _skeleton_info(skeleton),
        "identity_jumps_rejected": sum(s == "identity_jump_rejected" for s in statuses),
        "reacquired_frames": int(reacquired.sum()),
    }
    return CleanedPoses(
        image=image.sequence,
        metric=metric.sequence if skeleton is None else skeleton.sequence,
        metric_smoothed=metric.sequence,
        metric_raw=metric_raw,
        up=up,
        up_source=up_source,
        image_raw=image_filled.sequence,
        cutoff_hz=metric.cutoff_hz,
        placement=placement,
        processing_bits=processing_bits,
        trajectory_info=trajectory_info,
        warnings=warnings,
    )


def _unreliable_position_warnings(trajectory: GlobalTrajectory, max_gap_s: float) -> list[str]:
    """One warning naming the stretches whose global position was not measured, or none."""
    t = trajectory.camera_frame.timestamps_s
    runs = contiguous_runs(np.asarray(trajectory.unreliable_position))
    if not runs:
        return []
    spans = ", ".join(f"{t[start]:.2f}–{t[stop - 1]:.2f} s" for start, stop in runs)
    return [
        f"global position unreliable in {int(trajectory.unreliable_position.sum())} frames ({spans}): the body's "
        f"depth from the camera was not measured for more than {max_gap_s:g} s (pose misdetected or missing); "
        "no centre-of-mass speed is reported from them"
    ]


def _vertical(metric: PoseSequence, camera: CameraModel) -> tuple[tuple[float, float, float], str]:
    """Up in the metric frame, and where it came from."""
    if metric.frame is CoordinateFrame.WORLD:
        x, y, z = (float(v) for v in camera.world_up)
        return (x, y, z), "the calibration's world vertical axis"
    return CAMERA_FRAME_UP, "camera assumed level: the image's upward direction (-y) taken as vertical"


def _fit_skeleton(metric: PoseSequence, up: tuple[float, float, float], warnings: list[str]) -> SkeletonTrack | None:
    """Put the metric poses on the subject's rigid skeleton; ``None`` and a warning where it cannot be built."""
    try:
        return fit_skeleton_to_sequence(metric, up=up)
    except (InsufficientDataError, InvalidPoseDataError) as error:
        warnings.append(f"no rigid-skeleton fit ({error.message}): joint angles are read off the smoothed landmarks")
        return None


def _skeleton_info(track: SkeletonTrack) -> SkeletonFitInfo:
    fitted = track.fitted
    residual = track.fits.residual_rms_m[fitted]
    with_pose = np.asarray(track.sequence.detected, dtype=bool)
    return SkeletonFitInfo(
        frames_fitted=int(fitted.sum()),
        frames_not_fitted=int((with_pose & ~fitted).sum()),
        median_residual_m=round(float(np.median(residual)), 4) if residual.size else None,
        p95_residual_m=round(float(np.percentile(residual, 95)), 4) if residual.size else None,
        frames_at_joint_limit=int(track.fits.at_limits[fitted].any(axis=1).sum()),
        frames_not_converged=int((fitted & ~track.fits.converged).sum()),
    )
