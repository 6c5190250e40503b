"""Video quality report, accumulated while the frames are decoded once for pose estimation.

:class:`QualityAccumulator` is fed every decoded frame with its pose (or ``None``); image metrics are
computed on every ``sample_every``-th frame only, on a grey copy area-downscaled to
``analysis_width_px`` (never upscaled), so that numbers are comparable across resolutions and the cost
stays small: about 5 ms per sampled frame at 480 px wide, 1.2 ms per frame with the default
``sample_every=5``, against about 20 ms per frame for BlazePose (both measured on the 1768 × 994
sample video, on a shared 2-core machine).

Metrics (every threshold is our own heuristic, tuned on the sample video and synthetic clips):

- **sharpness**: variance of the 3 × 3 Laplacian of the analysis image (grey levels 0-255), median
  over the sampled frames, grey level². Scene-dependent: a plain wall scores low however sharp.
- **exposure**: mean luminance (fraction of full scale) and the shares of near-clipped pixels (grey
  level ≤ 8 dark, ≥ 247 bright), means over the sampled frames.
- **athlete sharpness ratio** (motion blur): Laplacian variance inside the athlete's box divided by
  that of the whole frame, median over the sampled frames whose box is at least 16 analysis px wide
  and tall. Well below 1 means the athlete is blurrier than the scene (motion blur, or focus on the
  background). Confounded by texture: a plain kit on a busy background also reads low.
- **camera motion**: the background's displacement between successive sampled frames, measured
  outside the athlete's boxes enlarged by 10 % and scaled to full-resolution px, as velocities, px/s;
  classified ``static``, ``panning``, ``shaking`` or ``unknown`` as
  :mod:`spacecomputer.vision._camera_motion` defines.
- **athlete visibility** (every frame): share of frames with a detection, mean landmark visibility
  over those frames, median body height (the pose box's height), px.
- **frame rate**: the nominal fps against :data:`MIN_FPS_BY_SPORT`.

Each rule maps a metric to a sub-score in [0, 1] by a linear ramp from a ``bad`` value (0) to a
``good`` value (1), all listed together in ``_RULES``; the metric is listed in ``reasons`` exactly
when its sub-score is below 1. Camera motion scores 1 static, 0.6 panning, 0.2 shaking (a moving
camera breaks a static calibration; shake also blurs), with a reason unless static. The
overall ``score`` is the weighted mean of the measured sub-scores (:data:`SCORE_WEIGHTS`; unmeasured
ones are left out and the weights renormalised) times the ``detection`` sub-score: without an
athlete nothing else matters.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass, field, fields
from types import MappingProxyType
from typing import Any

import cv2
import numpy as np
from numpy.typing import NDArray

from spacecomputer.domain._pose_frame import PoseFrame
from spacecomputer.errors import InsufficientDataError, InvalidInputError
from spacecomputer.vision._camera_motion import (
    _PANNING_COHERENCE,
    _STATIC_SPEED_WIDTHS_PER_S,
    CameraMotion,
    _background_shift_px,
    _classify_camera_motion,
)

__all__ = ["MIN_FPS_BY_SPORT", "SCORE_WEIGHTS", "CameraMotion", "QualityAccumulator", "QualityReport"]

MIN_FPS_BY_SPORT: Mapping[str, float] = MappingProxyType(
    dict.fromkeys(("general", "running", "rugby", "wrestling"), 25.0)
    | dict.fromkeys(("sprint", "jump", "throw", "boxing", "cricket", "football"), 50.0)
)
"""Lowest adequate frame rate per sport, frames per second (our own heuristic).

Short, fast events (a sprint ground contact lasts about a tenth of a second; a punch, kick, throw or
bat swing is as brief) need 50 fps to catch a handful of frames; slower whole-body movement is fine at
25 fps. A sport not listed, or none, uses ``"general"``.
"""

SCORE_WEIGHTS: Mapping[str, float] = MappingProxyType(
    {
        "sharpness": 0.15,
        "exposure": 0.15,
        "motion_blur": 0.10,
        "camera_motion": 0.15,
        "landmark_visibility": 0.15,
        "resolution": 0.15,
        "frame_rate": 0.15,
    }
)
"""Weights of the sub-scores in the overall score (the ``detection`` sub-score multiplies instead)."""


@dataclass(frozen=True)
class _Ramp:
    """Linear sub-score: 0 at ``bad``, 1 at ``good`` (either order), clipped to [0, 1]."""

    bad: float
    good: float

    def score(self, value: float) -> float:
        return float(min(1.0, max(0.0, (value - self.bad) / (self.good - self.bad))))


_DETECTION = _Ramp(bad=0.1, good=0.6)
# (sub-score, report field, ramp, consequence); a sub-score is the lowest of its rules.
_RULES: tuple[tuple[str, str, _Ramp, str], ...] = (
    ("sharpness", "sharpness_laplacian_var", _Ramp(bad=20.0, good=80.0), "image blurred or out of focus"),
    ("exposure", "mean_luminance_ratio", _Ramp(bad=0.05, good=0.15), "underexposed"),
    ("exposure", "mean_luminance_ratio", _Ramp(bad=0.95, good=0.85), "overexposed"),
    ("exposure", "dark_clipped_ratio", _Ramp(bad=0.6, good=0.25), "shadows crushed to black"),
    ("exposure", "bright_clipped_ratio", _Ramp(bad=0.3, good=0.10), "highlights blown out"),
    ("motion_blur", "athlete_sharpness_ratio", _Ramp(bad=0.1, good=0.3), "athlete blurrier than the scene"),
    ("detection", "detection_ratio", _DETECTION, "athlete often not found"),
    ("landmark_visibility", "mean_landmark_visibility_ratio", _Ramp(bad=0.3, good=0.6), "landmarks occluded"),
    ("resolution", "median_body_height_px", _Ramp(bad=50.0, good=200.0), "athlete too small in the frame"),
)
_ATHLETE_RULES = frozenset({"detection", "landmark_visibility", "resolution"})
_CAMERA_SCORES = {"static": 1.0, "panning": 0.6, "shaking": 0.2}
_DARK_LEVEL, _BRIGHT_LEVEL = 8, 247
_MIN_BOX_PX = 16
_BOX_MARGIN = 0.10


@dataclass(frozen=True)
class QualityReport:
    """Quality of one video for pose analysis; the module docstring defines every metric.

    Fields with a unit in their metadata are the metrics (``None``: could not be measured); ``_ratio``
    fields are fractions in [0, 1]. ``sub_scores`` maps ``detection`` and the keys of
    :data:`SCORE_WEIGHTS` to [0, 1] (unmeasured ones are absent). ``reasons`` name each metric below
    its threshold and the threshold; ``warnings`` say what could not be measured or assumed.
    """

    n_frames: int
    n_sampled_frames: int
    sport: str
    width_px: int = field(metadata={"unit": "px"})
    height_px: int = field(metadata={"unit": "px"})
    fps_hz: float = field(metadata={"unit": "Hz"})
    min_fps_hz: float = field(metadata={"unit": "Hz"})
    sharpness_laplacian_var: float = field(metadata={"unit": "grey level²"})
    mean_luminance_ratio: float = field(metadata={"unit": "ratio"})
    dark_clipped_ratio: float = field(metadata={"unit": "ratio"})
    bright_clipped_ratio: float = field(metadata={"unit": "ratio"})
    athlete_sharpness_ratio: float | None = field(metadata={"unit": "ratio"})
    camera_motion: CameraMotion
    camera_speed_px_per_s: float | None = field(metadata={"unit": "px/s"})
    camera_drift_px_per_s: float | None = field(metadata={"unit": "px/s"})
    camera_motion_coherence: float | None = field(metadata={"unit": "cosine"})
    detection_ratio: float = field(metadata={"unit": "ratio"})
    mean_landmark_visibility_ratio: float = field(metadata={"unit": "ratio"})
    median_body_height_px: float = field(metadata={"unit": "px"})
    sub_scores: Mapping[str, float]
    score: float
    min_score: float
    reasons: tuple[str, ...]
    warnings: tuple[str, ...]

    @property
    def passed(self) -> bool:
        """Whether ``score >= min_score``."""
        return self.score >= self.min_score

    def to_dict(self) -> dict[str, Any]:
        """Return the report as JSON-ready plain types; unmeasured or non-finite numbers become ``None``."""
        metrics = {
            f.name: {"value": _json_float(getattr(self, f.name)), "unit": f.metadata["unit"]}
            for f in fields(self)
            if "unit" in f.metadata
        }
        return {
            "score": _json_float(self.score),
            "min_score": _json_float(self.min_score),
            "passed": self.passed,
            "sub_scores": {name: _json_float(value) for name, value in self.sub_scores.items()},
            "camera_motion": self.camera_motion.value,
            "sport": self.sport,
            "n_frames": self.n_frames,
            "n_sampled_frames": self.n_sampled_frames,
            "metrics": metrics,
            "reasons": list(self.reasons),
            "warnings": list(self.warnings),
        }


def _json_float(value: float | None) -> float | None:
    return None if value is None or not math.isfinite(value) else float(value)


class QualityAccumulator:
    """Collect quality metrics from frames as they are decoded; :meth:`report` summarises them.

    Parameters
    ----------
    width_px, height_px
        Size of the upright frames passed to :meth:`add`, pixels.
    fps
        Nominal frame rate, frames per second (turns sample spacing into time).
    sport
        Movement analysed, a key of :data:`MIN_FPS_BY_SPORT` (case-insensitive); ``None``: general.
    sample_every
        Image metrics are computed on frames 0, k, 2k, … (k = ``sample_every``).
    analysis_width_px
        Width of the grey image the image metrics are computed on, pixels.
    source_width_px
        Width of the video when the images passed to :meth:`add` were downscaled from it (and the poses
        are in the downscaled pixels); pixel metrics (size, body height, camera speed) are reported at the
        video's size. ``None``: the images are the video's own size.

    """

    def __init__(
        self,
        *,
        width_px: int,
        height_px: int,
        fps: float,
        sport: str | None = None,
        sample_every: int = 5,
        analysis_width_px: int = 480,
        source_width_px: int | None = None,
    ) -> None:
        sizes = {"width_px": width_px, "height_px": height_px, "sample_every": sample_every}
        for name, value in (sizes | {"analysis_width_px": analysis_width_px}).items():
            if value < 1:
                raise InvalidInputError(f"{name} must be a positive integer; got {value}", details={name: value})
        if not (math.isfinite(fps) and fps > 0):
            raise InvalidInputError(f"fps must be finite and positive; got {fps}", details={"fps": fps})
        self._width_px, self._height_px, self._fps = width_px, height_px, float(fps)
        self._to_source = (source_width_px or width_px) / width_px
        if self._to_source < 1.0:
            raise InvalidInputError(f"source_width_px must be at least width_px ({width_px}); got {source_width_px}")
        self._sport = (sport or "general").strip().lower()
        self._sample_every = sample_every
        self._analysis_width_px = min(analysis_width_px, width_px)
        self._scale = self._analysis_width_px / width_px
        self._n_frames = self._n_detected = 0
        self._visibility_sum = 0.0
        self._body_heights_px: list[float] = []
        # One entry per sampled frame: Laplacian variance, luminance, dark share, bright share.
        self._image_stats: list[tuple[float, float, float, float]] = []
        self._athlete_ratios: list[float] = []
        self._velocities_px_per_s: list[NDArray[np.float64] | None] = []
        self._previous_grey: NDArray[np.uint8] | None = None
        self._previous_box: tuple[float, float, float, float] | None = None

    def add(self, image_rgb: NDArray[np.uint8], pose: PoseFrame | None) -> None:
        """Account for the next frame in decode order: ``image_rgb`` (H, W, 3) uint8, its pose or ``None``."""
        expected = (self._height_px, self._width_px, 3)
        if image_rgb.shape != expected or image_rgb.dtype != np.uint8:
            raise InvalidInputError(
                f"image_rgb must be uint8 with shape {expected}; got {image_rgb.dtype} {image_rgb.shape}",
                details={"expected_shape": list(expected), "shape": list(image_rgb.shape)},
            )
        box = None
        if pose is not None:
            box = pose.bbox_px()
            self._n_detected += 1
            self._visibility_sum += pose.mean_visibility
            self._body_heights_px.append((box[3] - box[1]) * self._to_source)
        if self._n_frames % self._sample_every == 0:
            self._add_sample(image_rgb, box)
        self._n_frames += 1

    def merge(self, later: QualityAccumulator) -> None:
        """Absorb an accumulator that saw a later, adjacent part of the same video (a parallel chunk).

        Counts and per-sample lists are concatenated; the camera motion across the seam between the two
        parts is not measured (one interval fewer).
        """
        mine = (self._width_px, self._height_px, self._to_source, self._fps, self._sport, self._sample_every)
        theirs = (later._width_px, later._height_px, later._to_source, later._fps, later._sport, later._sample_every)
        if mine != theirs:
            raise InvalidInputError(
                f"cannot merge quality accumulators of different videos or settings: {mine} vs {theirs}"
            )
        self._n_frames += later._n_frames
        self._n_detected += later._n_detected
        self._visibility_sum += later._visibility_sum
        self._body_heights_px += later._body_heights_px
        self._image_stats += later._image_stats
        self._athlete_ratios += later._athlete_ratios
        self._velocities_px_per_s += later._velocities_px_per_s
        self._previous_grey, self._previous_box = later._previous_grey, later._previous_box

    def _add_sample(self, image_rgb: NDArray[np.uint8], box: tuple[float, float, float, float] | None) -> None:
        grey = _analysis_grey(image_rgb, self._analysis_width_px)
        frame_var = float(cv2.Laplacian(grey, cv2.CV_64F).var())
        dark = np.count_nonzero(grey <= _DARK_LEVEL) / grey.size
        bright = np.count_nonzero(grey >= _BRIGHT_LEVEL) / grey.size
        self._image_stats.append((frame_var, float(grey.mean()) / 255.0, float(dark), float(bright)))
        if box is not None and frame_var > 0:
            x0, y0, x1, y1 = self._analysis_box(box, margin=0.0, shape=grey.shape)
            if x1 - x0 >= _MIN_BOX_PX and y1 - y0 >= _MIN_BOX_PX:
                box_var = float(cv2.Laplacian(grey[y0:y1, x0:x1], cv2.CV_64F).var())
                self._athlete_ratios.append(box_var / frame_var)
        if self._previous_grey is not None:
            mask = np.full(grey.shape, 255, dtype=np.uint8)
            for athlete_box in (self._previous_box, box):
                if athlete_box is not None:
                    x0, y0, x1, y1 = self._analysis_box(athlete_box, margin=_BOX_MARGIN, shape=grey.shape)
                    mask[y0:y1, x0:x1] = 0
            shift = _background_shift_px(self._previous_grey, grey, mask)
            interval_s = self._sample_every / self._fps
            self._velocities_px_per_s.append(
                None if shift is None else shift / self._scale / interval_s * self._to_source
            )
        self._previous_grey, self._previous_box = grey, box

    def _analysis_box(
        self, box: tuple[float, float, float, float], *, margin: float, shape: tuple[int, ...]
    ) -> tuple[int, int, int, int]:
        """Map a full-resolution (x0, y0, x1, y1) box, enlarged by ``margin`` of its size, to analysis px."""
        x0, y0, x1, y1 = box
        dx, dy = margin * (x1 - x0), margin * (y1 - y0)
        height, width = shape[:2]
        return (
            int(np.clip(math.floor((x0 - dx) * self._scale), 0, width)),
            int(np.clip(math.floor((y0 - dy) * self._scale), 0, height)),
            int(np.clip(math.ceil((x1 + dx) * self._scale), 0, width)),
            int(np.clip(math.ceil((y1 + dy) * self._scale), 0, height)),
        )

    def report(self, *, min_score: float) -> QualityReport:
        """Summarise the frames added so far; ``passed`` is ``score >= min_score`` (``min_score`` in [0, 1]).

        Raises :class:`~spacecomputer.errors.InsufficientDataError` when no frame was added.
        """
        if not 0.0 <= min_score <= 1.0:
            raise InvalidInputError(f"min_score must lie in [0, 1]; got {min_score}", details={"min_score": min_score})
        if self._n_frames == 0:
            raise InsufficientDataError("no frames were added to the quality report; expected at least one")
        stats = np.array(self._image_stats)
        detected = self._n_detected > 0
        athlete_ratio = float(np.median(self._athlete_ratios)) if self._athlete_ratios else None
        metrics: dict[str, Any] = {
            "sharpness_laplacian_var": float(np.median(stats[:, 0])),
            "mean_luminance_ratio": float(stats[:, 1].mean()),
            "dark_clipped_ratio": float(stats[:, 2].mean()),
            "bright_clipped_ratio": float(stats[:, 3].mean()),
            "athlete_sharpness_ratio": athlete_ratio,
            "detection_ratio": self._n_detected / self._n_frames,
            "mean_landmark_visibility_ratio": self._visibility_sum / max(1, self._n_detected),
            "median_body_height_px": float(np.median(self._body_heights_px)) if detected else 0.0,
        }
        sport = self._sport if self._sport in MIN_FPS_BY_SPORT else "general"
        min_fps_hz = MIN_FPS_BY_SPORT[sport]
        rules = (*_RULES, ("frame_rate", "fps_hz", _Ramp(bad=0.5 * min_fps_hz, good=min_fps_hz), "too slow"))
        sub_scores, reasons = _rate(metrics | {"fps_hz": self._fps}, rules, n_frames=self._n_frames)
        static_speed_px_per_s = _STATIC_SPEED_WIDTHS_PER_S * self._width_px * self._to_source
        motion, speed, drift, coherence = _classify_camera_motion(
            self._velocities_px_per_s, static_speed_px_per_s=static_speed_px_per_s
        )
        warnings = [] if motion is not CameraMotion.UNKNOWN else [_UNKNOWN_MOTION_WARNING]
        if motion is not CameraMotion.UNKNOWN:
            sub_scores["camera_motion"] = _CAMERA_SCORES[motion.value]
        if motion in (CameraMotion.PANNING, CameraMotion.SHAKING):
            reasons.append(
                f"camera {motion.value}: median speed {speed:.3g} px/s is above {static_speed_px_per_s:.3g} "
                f"px/s, coherence {coherence:.2f} {'≥' if motion is CameraMotion.PANNING else '<'} "
                f"{_PANNING_COHERENCE}: a static-camera calibration does not hold"
            )
        if athlete_ratio is None and detected:
            warnings.append(f"athlete sharpness not measured: no sampled athlete box of {_MIN_BOX_PX} px or more")
        if sport != self._sport:
            warnings.append(f"sport {self._sport!r} has no frame-rate rule; used 'general' ({min_fps_hz} fps)")
        if len(stats) == 1:
            warnings.append("only one frame was sampled: the image metrics rest on a single frame")
        measured = [key for key in SCORE_WEIGHTS if key in sub_scores]
        weighted_sum = sum(SCORE_WEIGHTS[key] * sub_scores[key] for key in measured)
        return QualityReport(
            n_frames=self._n_frames,
            n_sampled_frames=len(stats),
            sport=sport,
            width_px=round(self._width_px * self._to_source),
            height_px=round(self._height_px * self._to_source),
            fps_hz=self._fps,
            min_fps_hz=min_fps_hz,
            camera_motion=motion,
            camera_speed_px_per_s=speed,
            camera_drift_px_per_s=drift,
            camera_motion_coherence=coherence,
            sub_scores=MappingProxyType(sub_scores),
            score=sub_scores["detection"] * weighted_sum / sum(SCORE_WEIGHTS[key] for key in measured),
            min_score=min_score,
            reasons=tuple(reasons),
            warnings=tuple(warnings),
            **metrics,
        )


_UNKNOWN_MOTION_WARNING = (
    "camera motion unknown: too few background corners tracked between sampled frames "
    "(a moving camera needs two successive measured intervals)"
)


def _rate(
    values: Mapping[str, float | None], rules: tuple[tuple[str, str, _Ramp, str], ...], *, n_frames: int
) -> tuple[dict[str, float], list[str]]:
    """Apply ``rules`` to metric ``values``; return the sub-scores and the reasons for those below 1.

    Unmeasured values (``None``) are skipped. Without any detection the athlete rules score 0 with a
    single reason instead of one per metric.
    """
    sub_scores: dict[str, float] = {}
    reasons: list[str] = []
    if not values["detection_ratio"]:
        reasons.append(
            f"no athlete detected in any of {n_frames} frames: detection, landmark visibility and body "
            f"height are 0 (need a detection in {_DETECTION.good:.0%} of frames)"
        )
        sub_scores.update(dict.fromkeys(_ATHLETE_RULES, 0.0))
    for key, name, ramp, consequence in rules:
        value = values[name]
        if value is None or (key in _ATHLETE_RULES and not values["detection_ratio"]):
            continue
        sub_scores[key] = min(sub_scores.get(key, 1.0), ramp.score(value))
        if ramp.score(value) < 1.0:
            side = "below" if ramp.good > ramp.bad else "above"
            reasons.append(f"{name} = {value:.3g} is {side} {ramp.good:.3g}: {consequence}")
    return sub_scores, reasons


def _analysis_grey(image_rgb: NDArray[np.uint8], width_px: int) -> NDArray[np.uint8]:
    """Grey copy of ``image_rgb`` area-downscaled to ``width_px`` (halvings first: OpenCV's fast path)."""
    grey = np.asarray(cv2.cvtColor(image_rgb, cv2.COLOR_RGB2GRAY), dtype=np.uint8)
    while grey.shape[1] >= 2 * width_px:
        even_h, even_w = grey.shape[0] // 2 * 2, grey.shape[1] // 2 * 2
        half = cv2.resize(grey[:even_h, :even_w], (even_w // 2, even_h // 2), interpolation=cv2.INTER_AREA)
        grey = np.asarray(half, dtype=np.uint8)
    if grey.shape[1] != width_px:
        height_px = max(1, round(grey.shape[0] * width_px / grey.shape[1]))
        grey = np.asarray(cv2.resize(grey, (width_px, height_px), interpolation=cv2.INTER_AREA), dtype=np.uint8)
    return grey
