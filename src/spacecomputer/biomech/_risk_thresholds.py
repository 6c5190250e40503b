"""Thresholds of the injury-risk indicators and the indicator type: one table, every value our own heuristic.

:data:`RISK_THRESHOLDS` holds, per indicator family, two thresholds (yellow, red), their direction and why they
were chosen; every one of them is **our own heuristic, not a validated cut-off** (``heuristic=True``), as we know
of no published cut-off for these exact measures, populations and a video-based estimate. :class:`RiskIndicator`
is one indicator with its traffic-light level; the indicators themselves are computed in
:mod:`~spacecomputer.biomech._risk`, whose docstring defines each one.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass
from types import MappingProxyType
from typing import Literal

import numpy as np
from numpy.typing import NDArray

from spacecomputer.errors import InvalidInputError

__all__ = ["HEURISTIC_SOURCE", "RISK_THRESHOLDS", "Level", "RiskIndicator", "RiskThreshold"]

Level = Literal["green", "yellow", "red", "unavailable"]
HEURISTIC_SOURCE = "our own heuristic (not a validated cut-off)"
"""The ``source`` of a threshold that no publication supports."""


@dataclass(frozen=True)
class RiskThreshold:
    """The two thresholds of one indicator family and why they were chosen.

    Attributes
    ----------
    family
        Key in :data:`RISK_THRESHOLDS` (the indicator name without its side or metric).
    unit
        Unit of the value and thresholds.
    direction
        ``"above"``: a value above a threshold is worse; ``"below"``: a value below it is worse.
    yellow, red
        Thresholds; the comparisons are strict, so a value exactly at a threshold stays on the better level.
    source
        Publication behind the thresholds, or :data:`HEURISTIC_SOURCE`.
    heuristic
        Whether the thresholds are our own choice.
    rationale
        Why these values.

    """

    family: str
    unit: str
    direction: Literal["above", "below"]
    yellow: float
    red: float
    source: str
    heuristic: bool
    rationale: str

    @property
    def rule(self) -> str:
        """The rule in words with the exact thresholds, e.g. ``red if > 15 deg, yellow if > 10 deg, else green``."""
        sign = ">" if self.direction == "above" else "<"
        return f"red if {sign} {self.red:g} {self.unit}, yellow if {sign} {self.yellow:g} {self.unit}, else green"

    def level(self, value: float) -> Level:
        """Return the level of a finite value."""
        sign = 1.0 if self.direction == "above" else -1.0
        if sign * (value - self.red) > 0:
            return "red"
        return "yellow" if sign * (value - self.yellow) > 0 else "green"


RISK_THRESHOLDS: Mapping[str, RiskThreshold] = MappingProxyType({
    "knee_frontal_plane_projection_angle": RiskThreshold(
        "knee_frontal_plane_projection_angle", "deg", "above", 10.0, 15.0, HEURISTIC_SOURCE, True,
        "FPPA noise is not measured; knee flexion, also from hip, knee and ankle, moves by about 5.5° under the "
        "landmark noise of the sample clip, so 10° and 15° flag valgus clearly beyond it. Typical values differ "
        "between tasks and sexes: a screening flag only.",
    ),
    "landing_peak_knee_flexion": RiskThreshold(
        "landing_peak_knee_flexion", "deg", "below", 60.0, 45.0, HEURISTIC_SOURCE, True,
        "We expect a soft landing to bend the knees well past 60°; a peak under 60° leaves little knee flexion "
        "to absorb the landing, under 45° is a markedly stiff landing.",
    ),
    "trunk_lateral_lean_peak": RiskThreshold(
        "trunk_lateral_lean_peak", "deg", "above", 10.0, 20.0, HEURISTIC_SOURCE, True,
        "The trunk is the steadiest segment we measure (its angle moves by about 2° under the landmark noise); "
        "10° is a clearly visible lean, 20° a large one that moves the COM towards one leg.",
    ),
    "peak_knee_extensor_moment_per_kg": RiskThreshold(
        "peak_knee_extensor_moment_per_kg", "N·m/kg", "above", 3.0, 4.0, HEURISTIC_SOURCE, True,
        "Flags knee loads above the range we expect for running (our understanding: about 2–3 N·m/kg; not from "
        "a source we can cite). A video-based inverse dynamics estimate can be off by tens of percent.",
    ),
    "asymmetry": RiskThreshold(
        "asymmetry", "%", "above", 10.0, 20.0, HEURISTIC_SOURCE, True,
        "10 % is a difference that the video measurements can still resolve for most metrics; 20 % is large. "
        "Return-to-sport tests often ask for 90 % limb symmetry, but with another index (a ratio of the limbs).",
    ),
})  # fmt: skip
"""Every indicator family's thresholds, keyed by family; printed in the report."""


@dataclass(frozen=True)
class RiskIndicator:
    """One indicator with its traffic-light level; ``value`` is finite or ``None`` (never NaN).

    Attributes
    ----------
    name
        ``knee_frontal_plane_projection_angle_left``, ``asymmetry_step_length_m``, ….
    value
        In ``unit``; ``None`` when unavailable.
    unit
        ``"deg"``, ``"%"`` or ``"N·m/kg"``.
    level
        ``"green"``, ``"yellow"``, ``"red"``, or ``"unavailable"`` (then ``reason`` says why).
    rule
        The rule with its exact thresholds.
    yellow_threshold, red_threshold
        The thresholds.
    source
        Publication of the thresholds, or :data:`HEURISTIC_SOURCE`.
    heuristic
        Whether the thresholds are our own choice.
    reason
        Why unavailable; ``None`` otherwise.
    time_s, frame_index
        When a peak occurred (timestamp, row of the sequence); ``None`` for values that are not peaks.

    """

    name: str
    value: float | None
    unit: str
    level: Level
    rule: str
    yellow_threshold: float | None
    red_threshold: float | None
    source: str
    heuristic: bool
    reason: str | None
    time_s: float | None = None
    frame_index: int | None = None

    def __post_init__(self) -> None:
        unavailable = self.level == "unavailable"
        if unavailable != (self.value is None) or unavailable != (self.reason is not None):
            raise InvalidInputError(f"{self.name}: an unavailable indicator has a reason and no value, and vice versa")
        if self.value is not None and not math.isfinite(self.value):
            raise InvalidInputError(f"{self.name}: value must be finite; got {self.value}")


# --- building an indicator from its family's thresholds -----------------------------------------------------------


def _threshold(name: str) -> RiskThreshold:
    family = "asymmetry" if name.startswith("asymmetry_") else name.removesuffix("_left").removesuffix("_right")
    return RISK_THRESHOLDS[family]


def _indicator(
    name: str, value: float | None, reason: str, row: int | None = None, t: NDArray[np.float64] | None = None
) -> RiskIndicator:
    spec = _threshold(name)
    known = value is not None and math.isfinite(value)
    return RiskIndicator(
        name=name,
        value=float(value) if known and value is not None else None,
        unit=spec.unit,
        level=spec.level(value) if known and value is not None else "unavailable",
        rule=spec.rule + (" (estimated from video)" if spec.family == "peak_knee_extensor_moment_per_kg" else ""),
        yellow_threshold=spec.yellow,
        red_threshold=spec.red,
        source=spec.source,
        heuristic=spec.heuristic,
        reason=None if known else reason,
        time_s=float(t[row]) if known and row is not None and t is not None else None,
        frame_index=row if known else None,
    )


def _unavailable(name: str, reason: str) -> RiskIndicator:
    return _indicator(name, None, reason)
