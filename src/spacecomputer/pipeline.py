"""The one place that composes the stages of an analysis: video → tracked, smoothed, metric 3D pose.

The CLI, the job workers and the API all call :func:`analyze_video`.
"""

from __future__ import annotations

import json
import math
import os
import time
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Literal

from spacecomputer import __version__
from spacecomputer._chunks import EstimatedFrames
from spacecomputer._cleaning import CleanedPoses, clean_poses
from spacecomputer._estimation import CHUNK_WARMUP_S, estimate_poses
from spacecomputer._outputs import write_biomechanics_outputs
from spacecomputer._parallel import ChunkRunner, ProgressCallback, run_chunked, stage_counter
from spacecomputer._render import render_overlay
from spacecomputer._rundir import check_output_directory, staged_directory
from spacecomputer.biomech import BiomechanicsOptions, BiomechanicsResult, Sex, analyze_biomechanics
from spacecomputer.biomech._analyze import DEFAULT_DRAWS
from spacecomputer.config import VideoLimits, get_settings
from spacecomputer.domain import CoordinateFrame, PoseSequence
from spacecomputer.domain._analysis import (
    Analysis,
    OutputFiles,
    PoseSummary,
    ProcessingInfo,
    SubjectInfo,
    ThroughputInfo,
    VideoSummary,
)
from spacecomputer.domain._anthropometry import HEIGHT_RANGE_M, MASS_RANGE_KG
from spacecomputer.errors import (
    InsufficientDataError,
    InvalidInputError,
    InvalidPoseDataError,
    NoAthleteDetectedError,
    QualityRejectedError,
)
from spacecomputer.vision._camera import CameraModel, load_calibration
from spacecomputer.vision._pose import BlazePoseEstimator
from spacecomputer.vision._quality import QualityAccumulator, QualityReport
from spacecomputer.vision._video import VideoInfo, probe_video

__all__ = ["AnalysisResult", "AnalyzeOptions", "ProgressCallback", "analyze_video", "estimate_poses"]

MIN_HEIGHT_M, MAX_HEIGHT_M = HEIGHT_RANGE_M
MIN_MASS_KG, MAX_MASS_KG = MASS_RANGE_KG


@dataclass(frozen=True)
class AnalyzeOptions:
    """What the user chose for one analysis (units in the names)."""

    height_m: float | None = None
    mass_kg: float | None = None
    sex: str | None = None
    """``female`` or ``male`` selects de Leva's segment table; ``None`` uses the mean of the two."""
    sport: str | None = None
    calibration_path: Path | None = None
    cutoff_hz: float | Literal["auto"] | None = None
    """Low-pass cut-off; ``None`` = the configured default, ``"auto"`` = Winter's residual analysis."""
    max_gap_s: float | None = None
    workers: int = 1
    strict: bool = False
    min_quality_score: float | None = None
    overlay: bool = True
    limits: VideoLimits | None = None
    min_chunk_s: float = 10.0
    """Shortest part of the video worth its own worker process (starting one costs about 2 s of CPU)."""
    uncertainty_draws: int = DEFAULT_DRAWS
    """Monte Carlo draws behind each ± of the biomechanics (0: no uncertainty)."""

    def __post_init__(self) -> None:
        if self.height_m is not None and not MIN_HEIGHT_M <= self.height_m <= MAX_HEIGHT_M:
            hint = f"; did you mean {self.height_m / 100:.2f} m?" if 50 <= self.height_m <= 260 else ""
            raise InvalidInputError(
                f"height must be in metres between {MIN_HEIGHT_M} and {MAX_HEIGHT_M}; got {self.height_m}{hint}",
                details={"height_m": self.height_m},
            )
        if self.mass_kg is not None and not MIN_MASS_KG <= self.mass_kg <= MAX_MASS_KG:
            raise InvalidInputError(
                f"mass must be in kilograms between {MIN_MASS_KG:g} and {MAX_MASS_KG:g}; got {self.mass_kg}",
                details={"mass_kg": self.mass_kg},
            )
        if not self.min_chunk_s >= 2 * CHUNK_WARMUP_S:
            raise InvalidInputError(
                f"min_chunk_s must be at least twice the {CHUNK_WARMUP_S} s warm-up; got {self.min_chunk_s}"
            )
        if self.sex is not None and self.sex not in {s.value for s in Sex}:
            raise InvalidInputError(
                f"sex must be one of {[s.value for s in Sex]}; got {self.sex!r}", details={"sex": self.sex}
            )
        if not 0 <= self.uncertainty_draws <= 1000:
            raise InvalidInputError(f"uncertainty_draws must be between 0 and 1000; got {self.uncertainty_draws}")
        if self.workers < 1:
            raise InvalidInputError(f"workers must be at least 1; got {self.workers}")
        if isinstance(self.cutoff_hz, float | int) and not (math.isfinite(self.cutoff_hz) and self.cutoff_hz > 0):
            raise InvalidInputError(f"cutoff must be a positive frequency in Hz or 'auto'; got {self.cutoff_hz}")


@dataclass(frozen=True, eq=False)
class AnalysisResult:
    """An analysis in memory: the document, the cleaned sequences and the quality report."""

    analysis: Analysis
    image: PoseSequence
    """Tracked, gap-filled, smoothed landmarks in image pixels."""
    metric: PoseSequence
    """The same in metres: the calibrated world frame when a calibration was given, else the camera frame."""
    quality: QualityReport
    biomechanics: BiomechanicsResult | None = None
    """``None`` when the biomechanics could not be computed (the reason is in the warnings)."""
    out_dir: Path | None = None
    image_raw: PoseSequence | None = None
    """``image`` before the low-pass (swaps corrected, gaps filled)."""


@dataclass
class _Estimation:
    frames: EstimatedFrames
    quality: QualityAccumulator
    chunks: int
    workers: int
    stage_s: dict[str, float] = field(default_factory=dict)


def _video_summary(info: VideoInfo) -> VideoSummary:
    return VideoSummary(
        filename=info.path.name,
        container=info.container,
        codec=info.codec,
        width_px=info.width_px,
        height_px=info.height_px,
        rotation_deg=info.rotation_deg,
        fps=info.fps,
        variable_frame_rate=info.is_variable_frame_rate,
        duration_s=info.duration_s,
        frame_count=info.frame_count,
        file_size_bytes=info.file_size_bytes,
    )


def _pose_summary(image: PoseSequence, metric: PoseSequence) -> PoseSummary:
    detected = image.detected
    times = image.timestamps_s[detected]
    visible = image.confidence[detected]
    return PoseSummary(
        frames=image.n_frames,
        frames_with_pose=int(detected.sum()),
        detection_rate=float(detected.mean()) if image.n_frames else 0.0,
        mean_visibility=float(visible.mean()) if visible.size else 0.0,
        coordinate_frame=metric.frame.value,
        units=metric.units,
        first_detection_s=float(times[0]) if times.size else None,
        last_detection_s=float(times[-1]) if times.size else None,
    )


class _Stages:
    """Wall-clock timing of named stages, reported to a progress callback."""

    def __init__(self, progress: ProgressCallback | None) -> None:
        self.progress = progress
        self.seconds: dict[str, float] = {}
        self._started = time.perf_counter()
        self._stage: str | None = None
        self._total = 1

    def start(self, stage: str, total: int = 1) -> None:
        self.stop()
        self._stage, self._total, self._started = stage, total, time.perf_counter()
        if self.progress is not None:
            self.progress(stage, 0, total)

    def stop(self) -> None:
        if self._stage is not None:
            self.seconds[self._stage] = round(time.perf_counter() - self._started, 3)
            if self.progress is not None:
                self.progress(self._stage, self._total, self._total)
            self._stage = None


def analyze_video(
    video_path: Path | str,
    options: AnalyzeOptions | None = None,
    *,
    out_dir: Path | None = None,
    progress: ProgressCallback | None = None,
    chunk_runner: ChunkRunner = run_chunked,
) -> AnalysisResult:
    """Analyse one video: probe, track, clean, place in metric space and, with ``out_dir``, write outputs.

    The pose-estimation chunks (``options.workers`` at most) run on ``chunk_runner``: processes of this
    machine by default, or the executor of the job that calls this (Ray tasks on its cluster).

    Outputs are written into a staging directory beside ``out_dir`` and moved into place only when
    everything succeeded: a failed run leaves nothing behind.

    Raises
    ------
    InvalidVideoError, VideoTooLargeError
        The file is not an acceptable video (checked before decoding).
    NoAthleteDetectedError
        Nobody was found in any frame.
    QualityRejectedError
        ``options.strict`` and the quality score is below the threshold.
    OutputError
        ``out_dir`` exists with content or cannot be written.

    """
    options = options or AnalyzeOptions()
    settings = get_settings()
    started = time.perf_counter()
    stages = _Stages(progress)
    if out_dir is not None:
        check_output_directory(out_dir)

    stages.start("probe")
    info = probe_video(Path(video_path), limits=options.limits or settings.limits)
    camera = (
        load_calibration(options.calibration_path)
        if options.calibration_path is not None
        else CameraModel.default_for(info.width_px, info.height_px)
    ).scaled_to(info.width_px, info.height_px)

    stages.start("estimate", info.frame_count)
    frames, quality_acc, chunking = estimate_poses(
        info,
        workers=options.workers,
        sport=options.sport,
        progress=progress,
        min_chunk_s=options.min_chunk_s,
        chunk_runner=chunk_runner,
    )
    min_score = settings.min_quality_score if options.min_quality_score is None else options.min_quality_score
    quality = quality_acc.report(min_score=min_score)
    if not any(pose is not None for pose in frames.poses):
        raise NoAthleteDetectedError(
            f"no athlete detected in any of the {len(frames)} frames checked",
            details={"frames_checked": len(frames)},
        )
    if options.strict and not quality.passed:
        raise QualityRejectedError(
            f"video quality {quality.score:.2f} is below the threshold {min_score:.2f} "
            f"({'; '.join(quality.reasons) or 'no reason recorded'}); run without --strict to analyse anyway",
            details={"score": quality.score, "threshold": min_score, "reasons": list(quality.reasons)},
        )

    stages.start("post-process")
    cleaned = clean_poses(
        info, frames, camera, max_gap_s=options.max_gap_s, height_m=options.height_m, cutoff_hz=options.cutoff_hz
    )
    n_frames = len(frames)
    del frames  # per-frame estimator output: the sequences hold what is needed from here on
    image, metric = cleaned.image, cleaned.metric
    warnings = [*quality.warnings, *cleaned.warnings]

    stages.start("biomechanics")
    biomechanics = _biomechanics(cleaned, options, warnings)
    stages.stop()

    processing = ProcessingInfo(
        estimator=BlazePoseEstimator.model_name,
        model_complexity=BlazePoseEstimator.model_complexity,
        workers=options.workers,
        chunking=chunking,
        **cleaned.processing_bits,
    )
    subject = SubjectInfo(
        height_m=options.height_m,
        mass_kg=options.mass_kg,
        sport=options.sport,
        height_note=(
            "metric scale from the given height"
            if options.height_m is not None
            else "no --height given: BlazePose's own body scale (an average adult) sets the metric scale"
        ),
    )

    def build(throughput_s: float, stage_s: dict[str, float]) -> Analysis:
        return Analysis(
            spacecomputer_version=__version__,
            created_at=datetime.now(UTC),
            video=_video_summary(info),
            subject=subject,
            quality=quality.to_dict(),
            pose=_pose_summary(image, metric),
            trajectory=cleaned.trajectory_info,
            processing=processing,
            throughput=ThroughputInfo(
                wall_s=round(throughput_s, 3),
                frames_per_s=round(n_frames / throughput_s, 2) if throughput_s > 0 else 0.0,
                stage_s=stage_s,
            ),
            biomechanics=None if biomechanics is None else biomechanics.section,
            warnings=warnings,
            files=OutputFiles(
                overlay="overlay.mp4" if options.overlay else None,
                **({} if biomechanics is not None else {"metrics": None, "markers": None, "kinematics": None}),
            ),
        )

    if out_dir is None:
        analysis = build(time.perf_counter() - started, stages.seconds)
        return AnalysisResult(
            analysis=analysis,
            image=image,
            metric=metric,
            quality=quality,
            biomechanics=biomechanics,
            image_raw=cleaned.image_raw,
        )

    with staged_directory(out_dir) as staging:
        metric.to_parquet(staging / "poses.parquet")
        image.to_parquet(staging / "poses_image.parquet")
        (staging / "quality.json").write_text(json.dumps(quality.to_dict(), indent=2), encoding="utf-8")
        if options.overlay:
            stages.start("overlay", info.frame_count)
            render_overlay(
                info,
                image,
                staging / "overlay.mp4",
                workers=options.workers,
                min_segment_s=options.min_chunk_s,
                on_progress=stage_counter("overlay", info.frame_count, progress),
            )
        stages.start("write")
        analysis = build(time.perf_counter() - started, stages.seconds)
        write_biomechanics_outputs(staging, analysis, biomechanics, metric)
        (staging / "analysis.json").write_text(analysis.model_dump_json(indent=2), encoding="utf-8")
        stages.stop()
    return AnalysisResult(
        analysis=analysis,
        image=image,
        metric=metric,
        quality=quality,
        biomechanics=biomechanics,
        out_dir=out_dir,
        image_raw=cleaned.image_raw,
    )


def _biomechanics(cleaned: CleanedPoses, options: AnalyzeOptions, warnings: list[str]) -> BiomechanicsResult | None:
    """Run the biomechanics engine; a sequence it cannot use gives ``None`` and a warning, not a failed run."""
    if cleaned.metric.frame is not CoordinateFrame.WORLD:
        warnings.append("no calibration: vertical taken as the image's upward direction (camera assumed level)")
    try:
        return analyze_biomechanics(
            cleaned.metric,
            up=cleaned.up,
            up_source=cleaned.up_source,
            options=BiomechanicsOptions(
                mass_kg=options.mass_kg,
                height_m=options.height_m,
                sex=options.sex,
                sport=options.sport,
                draws=options.uncertainty_draws,
            ),
            raw=cleaned.metric_raw,
            smoothed=cleaned.metric_smoothed,
            cutoff_hz=cleaned.cutoff_hz,
            placement=cleaned.placement,
        )
    except (InsufficientDataError, InvalidPoseDataError) as error:
        warnings.append(f"no biomechanics: {error.message}")
        return None


def default_workers() -> int:
    """Worker processes for ``workers=0``: one per available core."""
    return max(1, len(os.sched_getaffinity(0)))
