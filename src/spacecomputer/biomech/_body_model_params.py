"""De Leva's (1996) segment inertia parameters and the body model built from them and the subject's anthropometry.

Fourteen rigid segments: head (with neck), trunk, and per side upper arm, forearm, hand, thigh, shank and
foot. Each carries de Leva's mass fraction, centre-of-mass (COM) position and radii of gyration for women
and men (de Leva P., 1996, "Adjustments to Zatsiorsky–Seluyanov's segment inertia parameters", Journal of
Biomechanics 29(9):1223–1230, Table 4); without a sex, the mean of the two is used. The BlazePose stand-ins
for de Leva's end points, and everything computed from the landmarks, are in
:mod:`spacecomputer.biomech._body_model`.

Conventions
-----------
- ``proximal`` is the end point de Leva measures the COM from (his first-named one: the vertex for the head,
  the mid-shoulders for the trunk, the heel for the foot); ``com_fraction`` is the COM's distance from it
  along proximal → distal over the segment length.
- Radii of gyration, over the segment length, are about three principal axes through the COM: *sagittal*
  (anteroposterior axis), *transverse* (mediolateral axis: flexion–extension) and *longitudinal* (proximal →
  distal). We read de Leva's column headings as axis names, as the transcriptions below do.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from enum import StrEnum
from typing import Literal

from spacecomputer.domain._anthropometry import HEIGHT_RANGE_M, MASS_RANGE_KG
from spacecomputer.errors import InvalidInputError

__all__ = [
    "DEFAULT_HEIGHT_M",
    "DEFAULT_MASS_KG",
    "BodyModel",
    "EndPoint",
    "SegmentParameters",
    "Sex",
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
        mid-shoulders through that mean,
        :func:`~spacecomputer.biomech._body_model.head_segment_length_m` away from the mid-shoulders.

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
