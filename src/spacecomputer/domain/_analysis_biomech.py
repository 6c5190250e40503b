"""The ``biomechanics`` section of the `Analysis` document: scalars with uncertainty, events, risk flags.

Per-frame series (angles, moments, energies, …) are not in the document: they are in ``metrics.csv``, whose
columns :attr:`BiomechanicsSection.series_columns` lists. Every number here is finite or ``None``; ``None``
always comes with a reason.
"""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

__all__ = [
    "AngleInfo",
    "BiomechanicsSection",
    "BodyModelInfo",
    "EventInfo",
    "MovementInfo",
    "PhaseInfo",
    "RiskFlag",
    "Scalar",
    "SegmentInfo",
    "UncertaintyInfo",
]

RiskLevel = Literal["green", "yellow", "red", "unavailable"]


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class SegmentInfo(_Model):
    """One rigid segment of the body model as scaled to this subject."""

    name: str
    mass_kg: float
    length_m: float | None = Field(description="Median length over the sequence; None when never seen.")
    com_fraction: float = Field(description="COM distance from the proximal end point over the length (de Leva).")


class BodyModelInfo(_Model):
    """Which segment parameters were used and where the subject's numbers came from."""

    source: str
    sex: Literal["female", "male"] | None = Field(description="None: the mean of de Leva's two tables.")
    mass_kg: float
    mass_source: Literal["given", "default"]
    height_m: float
    height_source: Literal["given", "default"]
    notes: list[str]
    segments: list[SegmentInfo]


class MovementInfo(_Model):
    """Which movement family the metrics were chosen for."""

    family: str | None = Field(description="sprint, jump, landing, strike, throw; None when undetermined.")
    source: Literal["sport_option", "detected", "none"]
    confidence: float | None = Field(description="Detector confidence in [0, 1]; None when given by --sport.")
    evidence: str


class Scalar(_Model):
    """One reported number with its uncertainty (± one standard deviation, same unit)."""

    name: str
    category: str = Field(description="kinematics, events, sprint, jump, landing, strike, throw, kinetics, energy, …")
    value: float | None
    uncertainty: float | None = Field(description="Standard deviation over the Monte Carlo draws; None if unknown.")
    unit: str
    display: str = Field(description="The value as printed, e.g. '38.2° ± 4.1°' or 'unavailable: <reason>'.")
    reliable: bool = Field(
        description=(
            "False when the uncertainty exceeds half the value's magnitude (the number is mostly noise), or, for an "
            "angle (unit deg, whose zero is a convention), when it exceeds 5 degrees."
        )
    )
    available: bool
    reason: str | None
    convention: str
    estimated_from_video: bool = Field(
        default=False, description="True for kinetic quantities estimated from video without force plates."
    )


class AngleInfo(_Model):
    """An angle's definition; its time series is the ``<name>_deg`` column of metrics.csv when available."""

    name: str
    kind: Literal["joint", "segment"]
    convention: str
    landmarks: list[str]
    available: bool
    reason: str | None


class EventInfo(_Model):
    """A foot event."""

    foot: Literal["left", "right"]
    kind: Literal["contact", "toe_off"]
    row: int = Field(description="Row of poses.parquet / metrics.csv.")
    video_frame: int
    time_s: float


class PhaseInfo(_Model):
    """A contact (one foot on the ground) or a flight (both feet airborne), rows [start_row, end_row)."""

    kind: Literal["contact", "flight"]
    foot: Literal["left", "right"] | None
    start_row: int
    end_row: int
    start_s: float
    end_s: float
    duration_s: float


class RiskFlag(_Model):
    """An injury-risk indicator (never a diagnosis) with its rule and the source of its thresholds."""

    name: str
    value: float | None
    uncertainty: float | None
    unit: str
    display: str
    level: RiskLevel
    level_agreement: float | None = Field(
        description="Share of the Monte Carlo draws whose value gives the same level, in [0, 1]; None without draws."
    )
    rule: str
    yellow_threshold: float | None
    red_threshold: float | None
    source: str
    heuristic: bool = Field(description="True when the threshold is our own heuristic, not a validated cut-off.")
    reason: str | None
    time_s: float | None
    row: int | None


class UncertaintyInfo(_Model):
    """How the ± values were obtained."""

    method: str
    draws: int
    seed: int
    median_landmark_sigma_m: float | None = Field(description="Median over landmarks and frames of the own noise.")
    common_sigma_m: list[float] = Field(
        description="Standard deviation along x, y, z of the displacement shared by all landmarks of a frame."
    )
    notes: list[str]


class BiomechanicsSection(_Model):
    """Everything the biomechanics engine reports for one run."""

    coordinate_frame: str
    up: list[float] = Field(description="Unit vector pointing up in the coordinate frame.")
    up_source: str
    body_model: BodyModelInfo
    movement: MovementInfo
    scalars: list[Scalar]
    angles: list[AngleInfo]
    events: list[EventInfo]
    phases: list[PhaseInfo]
    risk: list[RiskFlag]
    kinetics_note: str
    uncertainty: UncertaintyInfo
    series_columns: list[str] = Field(description="Columns of metrics.csv, units in the names.")
    warnings: list[str]
