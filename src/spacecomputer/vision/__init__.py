"""Video intake, quality, pose estimation, tracking and pose post-processing.

Each stage is a private module; this package re-exports their public surface.
"""

from spacecomputer.domain._runs import contiguous_runs
from spacecomputer.vision._camera import CameraModel, load_calibration
from spacecomputer.vision._camera_motion import CameraMotion
from spacecomputer.vision._filtering import ResidualAnalysis, butterworth_lowpass, residual_analysis_cutoff
from spacecomputer.vision._gaps import GapFillResult, LongGap, fill_gaps
from spacecomputer.vision._overlay import OverlayWriter, draw_pose
from spacecomputer.vision._pose import BlazePoseEstimator, PoseEstimator
from spacecomputer.vision._postprocess import GapFilling, Smoothing, fill_sequence_gaps, smooth_sequence
from spacecomputer.vision._quality import MIN_FPS_BY_SPORT, QualityAccumulator, QualityReport
from spacecomputer.vision._rigid import RigidFit, bone_length_cv, enforce_segment_lengths
from spacecomputer.vision._swaps import SwapCorrection, SwapState, correct_left_right_swaps
from spacecomputer.vision._tracking import AthleteTracker, TrackedPose, TrackStatus
from spacecomputer.vision._trajectory import (
    GlobalTrajectory,
    estimate_body_height_m,
    recover_global_trajectory,
)
from spacecomputer.vision._video import ACCEPTED_FORMATS, VideoFrame, VideoInfo, iter_frames, probe_video

__all__ = [
    "ACCEPTED_FORMATS",
    "MIN_FPS_BY_SPORT",
    "AthleteTracker",
    "BlazePoseEstimator",
    "CameraModel",
    "CameraMotion",
    "GapFillResult",
    "GapFilling",
    "GlobalTrajectory",
    "LongGap",
    "OverlayWriter",
    "PoseEstimator",
    "QualityAccumulator",
    "QualityReport",
    "ResidualAnalysis",
    "RigidFit",
    "Smoothing",
    "SwapCorrection",
    "SwapState",
    "TrackStatus",
    "TrackedPose",
    "VideoFrame",
    "VideoInfo",
    "bone_length_cv",
    "butterworth_lowpass",
    "contiguous_runs",
    "correct_left_right_swaps",
    "draw_pose",
    "enforce_segment_lengths",
    "estimate_body_height_m",
    "fill_gaps",
    "fill_sequence_gaps",
    "iter_frames",
    "load_calibration",
    "probe_video",
    "recover_global_trajectory",
    "residual_analysis_cutoff",
    "smooth_sequence",
]
