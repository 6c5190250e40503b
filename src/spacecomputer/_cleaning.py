"""Cleaning the raw per-frame poses: swap correction, gap filling, rigid bones, metric placement, smoothing."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Literal

import numpy as np

from spacecomputer._chunks import EstimatedFrames
from spacecomputer.config import get_settings
from spacecomputer.domain import CoordinateFrame, PoseFlag, PoseSequence
from spacecomputer.domain._analysis import (
    FilterInfo,
    RigidSegmentsInfo,
    TrajectoryInfo,
)
from spacecomputer.domain._placement import PlacementUncertainty
from spacecomputer.domain._runs import contiguous_runs
from spacecomputer.vision._camera import CameraModel
from spacecomputer.vision._pose import BlazePoseEstimator
from spacecomputer.vision._postprocess import fill_sequence_gaps, smooth_sequence
from spacecomputer.vision._rigid import enforce_segment_lengths
from spacecomputer.vision._swaps import correct_left_right_swaps
from spacecomputer.vision._trajectory import GlobalTrajectory, recover_global_trajectory
from spacecomputer.vision._video import VideoInfo

__all__ = ["CleanedPoses", "clean_poses"]


@dataclass(frozen=True, eq=False)
class CleanedPoses:
    """The cleaned sequences and what cleaning them did."""

    image: PoseSequence
    metric: PoseSequence
    metric_raw: PoseSequence
    """``metric`` before the low-pass (for the uncertainty model's jitter)."""
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
        "identity_jumps_rejected": sum(s == "identity_jump_rejected" for s in statuses),
        "reacquired_frames": int(reacquired.sum()),
    }
    return CleanedPoses(
        image=image.sequence,
        metric=metric.sequence,
        metric_raw=metric_raw,
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
