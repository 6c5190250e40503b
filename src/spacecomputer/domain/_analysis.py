"""The `Analysis` document: what `spacecomputer analyze` writes as ``analysis.json``.

The schema is versioned (:data:`ANALYSIS_SCHEMA_VERSION`); a change that removes or renames a field
bumps the major number. ``docs/analysis-schema.md`` describes every field.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from spacecomputer.domain._analysis_biomech import BiomechanicsSection

__all__ = [
    "ANALYSIS_SCHEMA_VERSION",
    "Analysis",
    "ChunkingInfo",
    "FilterInfo",
    "OutputFiles",
    "PoseSummary",
    "ProcessingInfo",
    "RigidSegmentsInfo",
    "SkeletonFitInfo",
    "SubjectInfo",
    "ThroughputInfo",
    "TrajectoryInfo",
    "VideoSummary",
]

ANALYSIS_SCHEMA_VERSION = "1.3"


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class VideoSummary(_Model):
    """What the probe found in the input file."""

    filename: str
    container: str
    codec: str
    width_px: int = Field(description="Upright (display) width after rotation.")
    height_px: int
    rotation_deg: int = Field(description="Clockwise display rotation applied to the decoded frames.")
    fps: float = Field(description="Average frame rate, frames per second.")
    variable_frame_rate: bool
    duration_s: float
    frame_count: int
    file_size_bytes: int


class SubjectInfo(_Model):
    """The athlete's anthropometry as given (``None`` = not given) and the sport."""

    height_m: float | None
    mass_kg: float | None
    sport: str | None
    height_note: str = Field(description="How the metric scale was obtained.")


class FilterInfo(_Model):
    """The zero-phase low-pass applied to every landmark trajectory."""

    kind: Literal["butterworth_zero_phase"] = "butterworth_zero_phase"
    order: int
    cutoff_hz: float
    cutoff_method: Literal["fixed", "residual_analysis"]
    sampling_rate_hz: float


class RigidSegmentsInfo(_Model):
    """What fixing every body bone at one length did (see ``vision/_rigid.py``)."""

    bone_length_cv_before: float = Field(description="Median over body bones of the length's std/mean, raw.")
    bone_length_cv_after: float
    median_displacement_m: float = Field(description="Median per-frame RMS landmark displacement applied, m.")
    max_displacement_m: float


class SkeletonFitInfo(_Model):
    """What putting every frame on the subject's rigid skeleton did (``biomech/solver/_fit_sequence.py``)."""

    frames_fitted: int = Field(description="Frames put on the skeleton (the others keep their smoothed landmarks).")
    frames_not_fitted: int = Field(description="Frames with a pose the fit could not take (a core landmark missing).")
    median_residual_m: float | None = Field(
        description="Median over fitted frames of the RMS distance between fitted points and landmarks, m."
    )
    p95_residual_m: float | None = Field(description="95th percentile of the same per-frame RMS distance, m.")
    frames_at_joint_limit: int = Field(description="Fitted frames in which some joint ended on a limit of its range.")
    frames_not_converged: int = Field(description="Fitted frames stopped by the iteration limit, not a tolerance.")


class ChunkingInfo(_Model):
    """How pose estimation was split across processes."""

    chunks: int = Field(description="Overlapping time chunks estimated in parallel (1 = one process).")
    seams_reconciled: int = Field(
        description="Chunks tracked again because their warm-up followed another person than the previous chunk."
    )


class ProcessingInfo(_Model):
    """How the poses were produced and cleaned."""

    estimator: str
    model_complexity: int
    workers: int
    chunking: ChunkingInfo
    max_gap_s: float
    filter: FilterInfo
    frames_filled: int = Field(description="Frames in which at least one landmark was interpolated.")
    long_gaps: int = Field(description="Gaps left missing because they were longer than max_gap_s.")
    swap_corrected_frames: int
    rigid_segments: RigidSegmentsInfo
    skeleton_fit: SkeletonFitInfo | None = Field(
        default=None, description="The rigid-skeleton fit; None when the skeleton could not be built (see warnings)."
    )
    identity_jumps_rejected: int
    reacquired_frames: int


class PoseSummary(_Model):
    """Counts over the tracked athlete's pose."""

    frames: int
    frames_with_pose: int
    detection_rate: float = Field(description="frames_with_pose / frames, in [0, 1].")
    mean_visibility: float = Field(description="Mean landmark visibility over frames with a pose, in [0, 1].")
    coordinate_frame: str = Field(description="Frame of poses.parquet: camera or world (see CoordinateFrame).")
    units: str
    first_detection_s: float | None
    last_detection_s: float | None


class TrajectoryInfo(_Model):
    """How the hip-centred BlazePose landmarks were placed in metric space."""

    calibrated: bool
    camera_source: str
    scale_factor: float = Field(description="Factor applied to BlazePose's body scale.")
    median_reprojection_error_px: float | None
    notes: list[str]
    depth_acceleration_sigma_m_s2: float | None = Field(
        default=None,
        description="Acceleration standard deviation of the robust depth smoother, m/s²; None: per-frame depth.",
    )
    depth_outlier_frames: int = Field(
        default=0, description="Frames whose per-frame depth the robust depth smoother rejected."
    )
    unreliable_position_frames: int = Field(
        default=0,
        description="Frames flagged unreliable_position: their depth was not measured (no speeds from them).",
    )


class ThroughputInfo(_Model):
    """Wall-clock time of the run."""

    wall_s: float
    frames_per_s: float
    stage_s: dict[str, float]


class OutputFiles(_Model):
    """Files of the run, relative to its directory."""

    analysis: str = "analysis.json"
    poses: str = "poses.parquet"
    poses_image: str = "poses_image.parquet"
    quality: str = "quality.json"
    overlay: str | None = "overlay.mp4"
    metrics: str | None = Field(default="metrics.csv", description="Per-frame biomechanics series.")
    report: str | None = Field(default="report.html", description="Self-contained report (no network needed).")
    markers: str | None = Field(default="markers.trc", description="OpenSim marker file (Y up, metres).")
    kinematics: str | None = Field(default="kinematics.mot", description="Our joint angles as an OpenSim .mot.")


class Analysis(_Model):
    """Everything one `analyze` run found, except the per-frame arrays (in the Parquet files)."""

    schema_version: str = ANALYSIS_SCHEMA_VERSION
    spacecomputer_version: str
    created_at: datetime
    video: VideoSummary
    subject: SubjectInfo
    quality: dict[str, Any]
    pose: PoseSummary
    trajectory: TrajectoryInfo
    processing: ProcessingInfo
    throughput: ThroughputInfo
    biomechanics: BiomechanicsSection | None = Field(
        default=None, description="None when the biomechanics could not be computed (see warnings)."
    )
    warnings: list[str]
    files: OutputFiles
