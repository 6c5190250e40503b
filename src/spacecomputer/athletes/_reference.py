"""Library clips (normalised image coordinates, no world coordinates) turned into comparable motions.

The clips carry BlazePose's normalised image landmarks: ``x`` over the image width, ``y`` over its height, and
``z``, a relative depth in the scale of ``x`` with its origin at the hips. There is no camera calibration and no
known stature, so nothing metric can be measured from them. What we do (our own procedure):

1. Undo the normalisation — ``x·W``, ``y·H``, ``z·W`` pixels — so that the axes share one scale again (a
   normalised clip is stretched unequally along x and y and its angles would be wrong).
2. Put back the frames where BlazePose exchanged left and right, fill short gaps and low-pass, as the analysis
   pipeline does for a user's video (same functions and settings; the relative depth stands in for the world
   depth the swap correction reads).
3. Scale the pixels so that the body's ankle–knee–hip–shoulder chain (the median over frames of the mean leg
   length plus the hip-to-shoulder distance) measures :data:`~spacecomputer.domain.SHOULDER_HEIGHT_FRACTION`
   of the reference stature :data:`REFERENCE_STATURE_M` (the engine's default height). Lengths are then in
   "reference-stature metres": only so that the engine's foot-event thresholds, which are in metres, apply to
   a body of ordinary size. No length, speed or force of a clip is reported; angles, ratios and durations do
   not depend on this scale.
4. "Up" is the image's up, ``(0, -1, 0)``: the camera is assumed level (the same assumption as for an
   uncalibrated user video), and a panning camera moves the background, not the body's angles.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray

from spacecomputer.biomech._body_model_params import DEFAULT_HEIGHT_M
from spacecomputer.config import get_settings
from spacecomputer.domain import CoordinateFrame, PoseSequence
from spacecomputer.domain._anthropometry import SHOULDER_HEIGHT_FRACTION
from spacecomputer.errors import InsufficientDataError, InvalidPoseDataError
from spacecomputer.vision._postprocess import fill_sequence_gaps, smooth_sequence
from spacecomputer.vision._swaps import correct_left_right_swaps

__all__ = ["IMAGE_UP", "REFERENCE_STATURE_M", "ScaledClip", "scale_reference_clip"]

REFERENCE_STATURE_M = DEFAULT_HEIGHT_M
"""Stature a library clip's body is scaled to, m (the engine's default height; not the athlete's)."""
IMAGE_UP = (0.0, -1.0, 0.0)
"""Up in image axes (y down): the level-camera assumption."""


@dataclass(frozen=True, eq=False)
class ScaledClip:
    """A library clip in reference-stature metres (module docstring)."""

    raw: PoseSequence
    """Before the low-pass (gaps filled), for measuring the landmark noise."""
    smoothed: PoseSequence
    cutoff_hz: float
    metres_per_pixel: float
    notes: tuple[str, ...]


def scale_reference_clip(clip: PoseSequence) -> ScaledClip:
    """Turn a normalised library clip into reference-stature metres (module docstring, steps 1–3).

    Raises
    ------
    InvalidPoseDataError
        The clip is not in the ``normalized`` frame or its image size is unknown.
    InsufficientDataError
        The legs and shoulders are never seen together, so the body cannot be scaled.

    """
    if clip.frame is not CoordinateFrame.NORMALIZED or clip.image_size_px is None:
        raise InvalidPoseDataError(
            f"a library clip must be in normalised image coordinates with its image size; got frame "
            f"{clip.frame.value!r}, image size {clip.image_size_px}",
            details={"frame": clip.frame.value},
        )
    width_px, height_px = clip.image_size_px
    pixels = clip.replace(
        positions=clip.positions * np.array([width_px, height_px, width_px], dtype=np.float64),
        frame=CoordinateFrame.IMAGE,
    )
    swaps = correct_left_right_swaps(pixels, pixels.replace(frame=CoordinateFrame.HIP_CENTRED))
    settings = get_settings()
    filled = fill_sequence_gaps(swaps.image, max_gap_s=settings.max_gap_s).sequence
    smoothed = smooth_sequence(filled, cutoff_hz=settings.filter_cutoff_hz)
    scale = SHOULDER_HEIGHT_FRACTION * REFERENCE_STATURE_M / _chain_length_px(smoothed.sequence)
    notes = [
        f"normalised image landmarks scaled to a reference stature of {REFERENCE_STATURE_M:.2f} m "
        "(not the athlete's): lengths, speeds and forces are not meaningful, angles and durations are",
        "level camera assumed (up = image up); depth is BlazePose's relative depth",
    ]
    if swaps.n_corrected_frames:
        notes.append(f"left/right swaps put back in {swaps.n_corrected_frames} frames")
    if smoothed.note:
        notes.append(smoothed.note)

    def metric(sequence: PoseSequence) -> PoseSequence:
        return sequence.replace(
            positions=sequence.positions * scale,
            frame=CoordinateFrame.CAMERA,
            metadata={**dict(sequence.metadata), "scaled_to_reference_stature_m": REFERENCE_STATURE_M},
        )

    return ScaledClip(
        raw=metric(filled),
        smoothed=metric(smoothed.sequence),
        cutoff_hz=smoothed.cutoff_hz,
        metres_per_pixel=float(scale),
        notes=tuple(notes),
    )


def _chain_length_px(sequence: PoseSequence) -> float:
    def joint(name: str) -> NDArray[np.float64]:
        return sequence.joint(name)

    def distance(a: NDArray[np.float64], b: NDArray[np.float64]) -> NDArray[np.float64]:
        return np.asarray(np.linalg.norm(a - b, axis=-1), dtype=np.float64)

    legs = [
        distance(joint(f"{side}_ankle"), joint(f"{side}_knee")) + distance(joint(f"{side}_knee"), joint(f"{side}_hip"))
        for side in ("left", "right")
    ]
    mid_hip = 0.5 * (joint("left_hip") + joint("right_hip"))
    mid_shoulder = 0.5 * (joint("left_shoulder") + joint("right_shoulder"))
    chain = 0.5 * (legs[0] + legs[1]) + distance(mid_hip, mid_shoulder)
    chain = chain[np.isfinite(chain) & (chain > 0)]
    if chain.size == 0:
        raise InsufficientDataError(
            "the legs and shoulders are never seen together in this clip, so its body cannot be scaled"
        )
    return float(np.median(chain))
