"""Body segment model: de Leva's (1996) segment inertia parameters mapped onto BlazePose's 33 landmarks.

Fourteen rigid segments: head (with neck), trunk, and per side upper arm, forearm, hand, thigh, shank and
foot. Each carries de Leva's mass fraction, centre-of-mass (COM) position and radii of gyration for women
and men (de Leva P., 1996, "Adjustments to Zatsiorsky–Seluyanov's segment inertia parameters", Journal of
Biomechanics 29(9):1223–1230, Table 4); without a sex, the mean of the two is used.

Conventions
-----------
- ``proximal`` is the end point de Leva measures the COM from (his first-named one: the vertex for the head,
  the mid-shoulders for the trunk, the heel for the foot); ``com_fraction`` is the COM's distance from it
  along proximal → distal over the segment length.
- Radii of gyration, over the segment length, are about three principal axes through the COM: *sagittal*
  (anteroposterior axis), *transverse* (mediolateral axis: flexion–extension) and *longitudinal* (proximal →
  distal). We read de Leva's column headings as axis names, as the transcriptions below do.
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
from enum import StrEnum
from typing import Literal

import numpy as np
from numpy.typing import NDArray

from spacecomputer.biomech._memo import frozen_mapping, per_sequence, readonly
from spacecomputer.domain import PoseSequence
from spacecomputer.domain._anthropometry import HEIGHT_RANGE_M, MASS_RANGE_KG, SHOULDER_HEIGHT_FRACTION
from spacecomputer.errors import InvalidInputError, InvalidPoseDataError

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

DEFAULT_MASS_KG = 70.0
"""Mass assumed when none is given, kg: a round default of ours, not a population value."""
DEFAULT_HEIGHT_M = 1.70
"""Height assumed when none is given, m: a round default of ours, not a population value."""


class Sex(StrEnum):
    """Which of de Leva's two parameter sets to use."""

    FEMALE = "female"
    MALE = "male"


# de Leva (1996) Table 4, in percent as printed: (mass / body mass, COM from the origin end point / length,
# radii of gyration sagittal, transverse, longitudinal / length). Rows used: the main rows for the limbs,
# and the alternative definitions "head VERT–CERV", "trunk MIDS–MIDH" and "shank KJC–AJC" from the table's
# lower half, whose end points BlazePose can approximate.
# Checked against two independent transcriptions of Table 4, which agree on every value used here:
#   - BMClab/BMC (M. Duarte), data/BSPfemale_ZdeLeva.txt, data/BSPmale_ZdeLeva.txt and data/BSP_ZdeLeva.txt;
#   - R. Gurchiek's MATLAB lookup table deleva.m (2018), rows head2, trunk3, upperArm, forearm, hand,
#     thigh, shank2 and foot (its x/y/z radii are de Leva's sagittal/longitudinal/transverse columns).
# The upper arm, forearm, hand, thigh and foot rows also match biorbd's DeLevaTable (whose female head mass
# reads 6.69 % where both sources above read 6.68 %). An unattributed Python transcription found by code
# search differs in a few places (female head longitudinal 26.3, male shank mass 4.32): we follow the two
# that agree. Mass sums: 100.00 % (male), 99.99 % (female: rounding in the printed table).
_Row = tuple[float, float, float, float, float]
_DE_LEVA_TABLE_4_PERCENT: dict[str, tuple[str, _Row, _Row]] = {
    #             Table 4 row            female                            male
    "head":      ("head, VERT–CERV",    (6.68, 48.41, 27.1, 29.5, 26.1),  (6.94, 50.02, 30.3, 31.5, 26.1)),
    "trunk":     ("trunk, MIDS–MIDH",   (42.57, 37.82, 37.9, 36.1, 18.2), (43.46, 43.10, 38.4, 35.8, 19.7)),
    "upper_arm": ("upper arm, SJC–EJC", (2.55, 57.54, 27.8, 26.0, 14.8),  (2.71, 57.72, 28.5, 26.9, 15.8)),
    "forearm":   ("forearm, EJC–WJC",   (1.38, 45.59, 26.1, 25.7, 9.4),   (1.62, 45.74, 27.6, 26.5, 12.1)),
    "hand":      ("hand, WJC–MET3",     (0.56, 74.74, 53.1, 45.4, 33.5),  (0.61, 79.00, 62.8, 51.3, 40.1)),
    "thigh":     ("thigh, HJC–KJC",     (14.78, 36.12, 36.9, 36.4, 16.2), (14.16, 40.95, 32.9, 32.9, 14.9)),
    "shank":     ("shank, KJC–AJC",     (4.81, 43.52, 26.7, 26.3, 9.2),   (4.33, 43.95, 25.1, 24.6, 10.2)),
    "foot":      ("foot, HEEL–TTIP",    (1.29, 40.14, 29.9, 27.9, 13.9),  (1.37, 44.15, 25.7, 24.5, 12.4)),
}  # fmt: skip


@dataclass(frozen=True)
class EndPoint:
    """How one of de Leva's segment end points is located among BlazePose's landmarks.

    Parameters
    ----------
    de_leva_landmark
        De Leva's abbreviation of the point it stands for (``"HJC"``, ``"MIDS"``, ``"VERT"``, …).
    landmarks
        BlazePose landmark names; the point is their mean (NaN when any of them is missing).
    estimate
        ``"mean"``: the mean itself. ``"head_vertex"``: the estimated vertex, on the line from the
        mid-shoulders through that mean, :func:`head_segment_length_m` away from the mid-shoulders.

    """

    de_leva_landmark: str
    landmarks: tuple[str, ...]
    estimate: Literal["mean", "head_vertex"] = "mean"


@dataclass(frozen=True)
class SegmentParameters:
    """One rigid segment: where it lies among the landmarks and its de Leva inertia parameters.

    Parameters
    ----------
    name
        ``"head"``, ``"trunk"`` or a side and a limb segment (``"left_thigh"``).
    de_leva_segment
        The row of de Leva's Table 4 the values come from, with its end points.
    proximal, distal
        End points; the COM lies ``com_fraction`` of the way from ``proximal`` to ``distal``.
    mass_fraction
        Segment mass over body mass.
    com_fraction
        COM distance from ``proximal`` over segment length.
    gyration_sagittal_fraction, gyration_transverse_fraction, gyration_longitudinal_fraction
        Radii of gyration about the COM, over segment length, about the anteroposterior, mediolateral and
        longitudinal axes.

    """

    name: str
    de_leva_segment: str
    proximal: EndPoint
    distal: EndPoint
    mass_fraction: float
    com_fraction: float
    gyration_sagittal_fraction: float
    gyration_transverse_fraction: float
    gyration_longitudinal_fraction: float


@dataclass(frozen=True)
class SegmentInertia:
    """Mass and principal moments of inertia about the COM of one segment (median segment length)."""

    mass_kg: float
    length_m: float
    sagittal_kg_m2: float
    transverse_kg_m2: float
    longitudinal_kg_m2: float


_SHOULDERS = ("left_shoulder", "right_shoulder")
_HIPS = ("left_hip", "right_hip")
# Segment kind -> (proximal, distal) end points: de Leva's abbreviation, then BlazePose names without the side.
_LIMB_END_POINTS = {
    "upper_arm": (("SJC", "shoulder"), ("EJC", "elbow")),
    "forearm": (("EJC", "elbow"), ("WJC", "wrist")),
    "hand": (("WJC", "wrist"), ("MET3", "index", "pinky")),
    "thigh": (("HJC", "hip"), ("KJC", "knee")),
    "shank": (("KJC", "knee"), ("AJC", "ankle")),
    "foot": (("HEEL", "heel"), ("TTIP", "foot_index")),
}


def _segment(name: str, kind: str, proximal: EndPoint, distal: EndPoint, sex: Sex | None) -> SegmentParameters:
    row_name, female, male = _DE_LEVA_TABLE_4_PERCENT[kind]
    rows = {Sex.FEMALE: [female], Sex.MALE: [male], None: [female, male]}[sex]
    values = [sum(column) / len(rows) / 100.0 for column in zip(*rows, strict=True)]
    return SegmentParameters(name, row_name, proximal, distal, *values)


def _segments(sex: Sex | None) -> tuple[SegmentParameters, ...]:
    vertex = EndPoint("VERT", ("left_ear", "right_ear"), "head_vertex")
    segments = [
        _segment("head", "head", vertex, EndPoint("CERV", _SHOULDERS), sex),
        _segment("trunk", "trunk", EndPoint("MIDS", _SHOULDERS), EndPoint("MIDH", _HIPS), sex),
    ]
    for side in ("left", "right"):
        for kind, ((proximal, *p_names), (distal, *d_names)) in _LIMB_END_POINTS.items():
            p_end = EndPoint(proximal, tuple(f"{side}_{n}" for n in p_names))
            d_end = EndPoint(distal, tuple(f"{side}_{n}" for n in d_names))
            segments.append(_segment(f"{side}_{kind}", kind, p_end, d_end, sex))
    return tuple(segments)


def _checked(value: object, *, name: str, unit: str, bounds: tuple[float, float]) -> float:
    low, high = bounds
    number = value if isinstance(value, int | float) and not isinstance(value, bool) else None
    if number is not None and low <= number <= high:
        return float(number)
    hint = ""
    if number is not None and name == "height_m" and 100 * low <= number <= 100 * high:
        hint = f" (probably centimetres: did you mean {number / 100:.2f} m?)"
    raise InvalidInputError(
        f"{name} must be a number of {unit} between {low:g} and {high:g}; got {value!r}{hint}",
        details={name: number if number is not None and math.isfinite(number) else repr(value)},
    )


@dataclass(frozen=True)
class BodyModel:
    """The subject's anthropometry and the de Leva segments; build it with :meth:`from_anthropometry`.

    Parameters
    ----------
    mass_kg
        Body mass, kg (given or :data:`DEFAULT_MASS_KG`).
    height_m
        Standing height, m (given or :data:`DEFAULT_HEIGHT_M`). Segment lengths come from the landmarks,
        already scaled to this height by the pipeline; the model itself only records it.
    sex
        Parameter set used; ``None`` = the mean of the female and male parameters.
    segments
        The fourteen segments, head and trunk first.
    defaults_used
        One sentence per value that was not given and was assumed.

    Examples
    --------
    >>> model = BodyModel.from_anthropometry(mass_kg=80.0, height_m=1.8, sex=Sex.MALE)
    >>> round(model.segment_masses_kg["left_thigh"], 3), model.defaults_used
    (11.328, ())

    """

    mass_kg: float
    height_m: float
    sex: Sex | None
    segments: tuple[SegmentParameters, ...]
    defaults_used: tuple[str, ...] = ()

    def __post_init__(self) -> None:
        mass_kg = _checked(self.mass_kg, name="mass_kg", unit="kilograms", bounds=MASS_RANGE_KG)
        height_m = _checked(self.height_m, name="height_m", unit="metres", bounds=HEIGHT_RANGE_M)
        object.__setattr__(self, "mass_kg", mass_kg)
        object.__setattr__(self, "height_m", height_m)
        names = [s.name for s in self.segments]
        if not names or len(set(names)) != len(names):
            raise InvalidInputError(f"a body model needs segments with distinct names; got {names}")

    @classmethod
    def from_anthropometry(cls, *, mass_kg: float | None, height_m: float | None, sex: Sex | str | None) -> BodyModel:
        """Build the model, assuming (and recording in :attr:`defaults_used`) what is not given.

        Raises
        ------
        InvalidInputError
            Mass outside :data:`MASS_RANGE_KG` kg, height outside :data:`HEIGHT_RANGE_M` m (a height of
            165 is refused as probably centimetres), non-numbers, or an unknown sex.

        """
        notes = []
        if mass_kg is None:
            mass_kg = DEFAULT_MASS_KG
            notes.append(
                f"mass not given: {DEFAULT_MASS_KG:g} kg assumed (a round default, not a population value); "
                "segment masses, inertia and forces scale with it, the centre of mass does not"
            )
        if height_m is None:
            height_m = DEFAULT_HEIGHT_M
            notes.append(
                f"height not given: {DEFAULT_HEIGHT_M:.2f} m assumed (a round default, not a population "
                "value); segment lengths come from the landmarks, not from it"
            )
        if sex is None:
            notes.append("sex not given: the mean of de Leva's female and male segment parameters is used")
        elif not isinstance(sex, Sex):
            try:
                sex = Sex(str(sex).lower())
            except ValueError:
                raise InvalidInputError(
                    f"sex must be one of {[s.value for s in Sex]} or None; got {sex!r}", details={"sex": repr(sex)}
                ) from None
        return cls(mass_kg=mass_kg, height_m=height_m, sex=sex, segments=_segments(sex), defaults_used=tuple(notes))

    def segment(self, name: str) -> SegmentParameters:
        """Return the segment called ``name``; ``KeyError`` lists the known names."""
        for segment in self.segments:
            if segment.name == name:
                return segment
        raise KeyError(f"unknown segment {name!r}; known: {', '.join(s.name for s in self.segments)}")

    @property
    def segment_masses_kg(self) -> dict[str, float]:
        """Mass of each segment, kg (``mass_fraction × mass_kg``)."""
        return {s.name: s.mass_fraction * self.mass_kg for s in self.segments}


def _check_metric(sequence: PoseSequence) -> None:
    if not sequence.frame.is_metric:
        raise InvalidPoseDataError(
            f"the body model needs metric positions (frame hip_centred, camera or world); got frame "
            f"{sequence.frame.value} in {sequence.units}",
            details={"frame": sequence.frame.value},
        )


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
