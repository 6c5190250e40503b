"""Body segment geometry on a pose sequence: de Leva's segment end points, COMs, lengths and inertia from BlazePose.

The segment parameters (de Leva P., 1996, Table 4) and :class:`BodyModel` are in
:mod:`spacecomputer.biomech._body_model_params`; this module places the segments on the landmarks of a sequence.

Conventions
-----------
- Positions stay in the sequence's own metric frame (``hip_centred``, ``camera`` or ``world``); nothing here
  depends on which way is up. A point is NaN in a frame where one of its landmarks is missing, and so is the
  whole-body COM: it is never renormalised over the segments that happen to be visible.
- Segment lengths come from the landmarks (which the pipeline scales to the subject's height). Moments of
  inertia use the *median* length over the sequence, so a rigid segment's inertia does not flicker with noise.
- End points, segment and whole-body COMs and lengths are computed once per sequence (and model) and shared
  by every stage that asks (:mod:`spacecomputer.biomech._memo`); the arrays returned are read-only.

Landmark substitutions (our own approximations, not de Leva's definitions)
--------------------------------------------------------------------------
================  ==========================  ==========================================================
de Leva           BlazePose stand-in          note
================  ==========================  ==========================================================
SJC, EJC, WJC     shoulder, elbow, wrist      BlazePose's joint points taken as joint centres
HJC, KJC, AJC     hip, knee, ankle            idem; shank: de Leva's KJC–AJC row
MIDS, MIDH        mean of shoulders, of hips  trunk: de Leva's MIDS–MIDH row (the pelvis is inside it)
MET3              mean of index and pinky     BlazePose's hand points, taken as the knuckles
HEEL, TTIP        heel, foot_index            pternion and tip of the longest toe
CERV              mean of shoulders           the shoulder joint centres lie below C7
VERT              estimated, see below        BlazePose has no point on top of the head
================  ==========================  ==========================================================

The vertex lies on the line from the mid-shoulders through the mid-ears, :func:`head_segment_length_m` above
the mid-shoulders: the head-and-neck allowance implied by the pipeline's own scaling assumption (shoulder
height = :data:`SHOULDER_HEIGHT_FRACTION` of stature, ``vision/_trajectory.py``), measured on the sequence.
As the mid-shoulders lie below C7, our head segment is longer than de Leva's VERT–CERV and its COM, at his
fraction of it, sits a few centimetres lower than his would.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray

from spacecomputer.biomech._body_model_params import (
    _HIPS,
    _SHOULDERS,
    DEFAULT_HEIGHT_M,
    DEFAULT_MASS_KG,
    BodyModel,
    EndPoint,
    SegmentParameters,
    Sex,
)
from spacecomputer.biomech._memo import frozen_mapping, per_sequence, readonly
from spacecomputer.domain import PoseSequence
from spacecomputer.domain._anthropometry import HEIGHT_RANGE_M, MASS_RANGE_KG, SHOULDER_HEIGHT_FRACTION
from spacecomputer.errors import InvalidPoseDataError

__all__ = [
    "DEFAULT_HEIGHT_M",
    "DEFAULT_MASS_KG",
    "HEIGHT_RANGE_M",
    "MASS_RANGE_KG",
    "SHOULDER_HEIGHT_FRACTION",
    "BodyModel",
    "EndPoint",
    "SegmentInertia",
    "SegmentParameters",
    "Sex",
    "head_segment_length_m",
    "segment_com",
    "segment_endpoints",
    "segment_inertia",
    "segment_lengths_m",
    "whole_body_com",
]


@dataclass(frozen=True)
class SegmentInertia:
    """Mass and principal moments of inertia about the COM of one segment (median segment length)."""

    mass_kg: float
    length_m: float
    sagittal_kg_m2: float
    transverse_kg_m2: float
    longitudinal_kg_m2: float


def _check_metric(sequence: PoseSequence) -> None:
    sequence.require_metric("the body model's segment positions")


@per_sequence
def _mean_of(sequence: PoseSequence, names: tuple[str, ...]) -> NDArray[np.float64]:
    try:
        indices = [sequence.skeleton.index(name) for name in names]
    except KeyError as error:
        raise InvalidPoseDataError(
            f"the body model needs BlazePose landmarks; skeleton {sequence.skeleton.name!r}: {error.args[0]}",
            details={"skeleton": sequence.skeleton.name},
        ) from None
    if len(indices) == 1:  # the mean of one landmark is the landmark itself
        return sequence.positions[:, indices[0]]
    return readonly(np.asarray(sequence.positions[:, indices].mean(axis=1), dtype=np.float64))


def _distance_m(a: NDArray[np.float64], b: NDArray[np.float64]) -> NDArray[np.float64]:
    d = a - b
    return np.asarray(np.sqrt(d[:, 0] * d[:, 0] + d[:, 1] * d[:, 1] + d[:, 2] * d[:, 2]), dtype=np.float64)


@per_sequence
def head_segment_length_m(sequence: PoseSequence) -> float:
    """Estimate the head-and-neck length from the mid-shoulders to the vertex, m (NaN if no frame allows it).

    The median over frames of the shoulder height measured along the body (heel → ankle → knee → hip,
    mean of the sides whose four landmarks are present, plus mid-hip → mid-shoulder), times
    ``(1 − SHOULDER_HEIGHT_FRACTION) / SHOULDER_HEIGHT_FRACTION``: our approximation, see the module docstring.
    """
    _check_metric(sequence)
    legs = []
    for side in ("left", "right"):
        heel, ankle, knee, hip = (_mean_of(sequence, (f"{side}_{n}",)) for n in ("heel", "ankle", "knee", "hip"))
        legs.append(_distance_m(heel, ankle) + _distance_m(ankle, knee) + _distance_m(knee, hip))
    leg_stack = np.stack(legs)
    n_sides = np.sum(~np.isnan(leg_stack), axis=0)
    leg_m = np.where(n_sides > 0, np.nansum(leg_stack, axis=0) / np.maximum(n_sides, 1), np.nan)
    shoulder_height_m = leg_m + _distance_m(_mean_of(sequence, _SHOULDERS), _mean_of(sequence, _HIPS))
    finite = shoulder_height_m[np.isfinite(shoulder_height_m)]
    if finite.size == 0:
        return math.nan
    return float(np.median(finite)) * (1.0 - SHOULDER_HEIGHT_FRACTION) / SHOULDER_HEIGHT_FRACTION


@per_sequence
def _end_point(sequence: PoseSequence, end: EndPoint) -> NDArray[np.float64]:
    mean = _mean_of(sequence, end.landmarks)
    if end.estimate == "mean":
        return mean
    base = _mean_of(sequence, _SHOULDERS)
    axis = mean - base
    norm = _distance_m(mean, base)[:, None]
    unit = np.divide(axis, norm, out=np.full_like(axis, np.nan), where=norm > 0)
    return readonly(np.asarray(base + head_segment_length_m(sequence) * unit, dtype=np.float64))


def segment_endpoints(
    sequence: PoseSequence, segment: SegmentParameters
) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
    """Return the (T, 3) proximal and distal end points of ``segment`` in the sequence's frame, m (read-only).

    NaN in frames where a landmark they need is missing (for the head vertex, also everywhere when
    :func:`head_segment_length_m` is NaN).

    Raises
    ------
    InvalidPoseDataError
        The sequence is not metric or lacks a BlazePose landmark the segment needs.

    """
    _check_metric(sequence)
    return _end_point(sequence, segment.proximal), _end_point(sequence, segment.distal)


def _all_endpoints(
    sequence: PoseSequence, model: BodyModel
) -> dict[str, tuple[NDArray[np.float64], NDArray[np.float64]]]:
    return {s.name: segment_endpoints(sequence, s) for s in model.segments}


@per_sequence
def _segment_coms(sequence: PoseSequence, model: BodyModel) -> Mapping[str, NDArray[np.float64]]:
    ends = _all_endpoints(sequence, model)
    return frozen_mapping(
        {
            s.name: readonly(
                np.asarray(ends[s.name][0] + s.com_fraction * (ends[s.name][1] - ends[s.name][0]), dtype=np.float64)
            )
            for s in model.segments
        }
    )


def segment_com(sequence: PoseSequence, model: BodyModel) -> dict[str, NDArray[np.float64]]:
    """Return each segment's (T, 3) COM, m: ``proximal + com_fraction × (distal − proximal)``; NaN where unknown.

    The arrays are read-only (computed once per sequence and model, and shared).
    """
    return dict(_segment_coms(sequence, model))


@per_sequence
def whole_body_com(sequence: PoseSequence, model: BodyModel) -> NDArray[np.float64]:
    """Return the (T, 3) whole-body COM, m: the mass-weighted mean of every segment's COM (read-only).

    A frame where any segment's COM is unknown is NaN: the mean is never taken over the visible segments
    only. The body mass cancels, so the result does not depend on ``model.mass_kg``.
    """
    coms = _segment_coms(sequence, model)
    fractions = np.array([s.mass_fraction for s in model.segments])
    stacked = np.stack([coms[s.name] for s in model.segments])
    return readonly(np.asarray(np.tensordot(fractions, stacked, axes=1) / fractions.sum(), dtype=np.float64))


def segment_lengths_m(sequence: PoseSequence, model: BodyModel) -> dict[str, float]:
    """Return each segment's median length over the frames where it is known, m (NaN if never known)."""
    return dict(_segment_lengths_m(sequence, model))


@per_sequence
def _segment_lengths_m(sequence: PoseSequence, model: BodyModel) -> Mapping[str, float]:
    ends = _all_endpoints(sequence, model)
    per_frame = np.stack([_distance_m(proximal, distal) for proximal, distal in ends.values()])
    finite = np.isfinite(per_frame)
    complete = finite.all(axis=1)
    medians = np.full(len(ends), math.nan)
    if complete.any() and per_frame.shape[1]:  # segments seen in every frame: one call for all
        medians[complete] = np.median(per_frame[complete], axis=1)
    for row in np.flatnonzero(~complete & finite.any(axis=1)):
        medians[row] = np.median(per_frame[row, finite[row]])
    return frozen_mapping({name: float(median) for name, median in zip(ends, medians, strict=True)})


def segment_inertia(sequence: PoseSequence, model: BodyModel) -> dict[str, SegmentInertia]:
    """Return each segment's mass (kg) and principal moments of inertia about its COM (kg·m²).

    ``I = m (r L)²`` for each axis, with ``r`` de Leva's radius of gyration fraction and ``L`` the median
    segment length over the sequence (:func:`segment_lengths_m`); NaN moments for a segment never seen.
    """
    lengths = segment_lengths_m(sequence, model)
    result = {}
    for s in model.segments:
        mass_kg, length_m = s.mass_fraction * model.mass_kg, lengths[s.name]
        result[s.name] = SegmentInertia(
            mass_kg=mass_kg,
            length_m=length_m,
            sagittal_kg_m2=mass_kg * (s.gyration_sagittal_fraction * length_m) ** 2,
            transverse_kg_m2=mass_kg * (s.gyration_transverse_fraction * length_m) ** 2,
            longitudinal_kg_m2=mass_kg * (s.gyration_longitudinal_fraction * length_m) ** 2,
        )
    return result
