"""Whole-clip statistics and instant values of one quantity, from a run's scalars and its metrics.csv columns.

The rules (when a scalar answers, how the time of an extreme is found, which values carry an uncertainty) are in
the module docstring of :mod:`spacecomputer.brain._analytics`.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence

import numpy as np
from numpy.typing import NDArray

from spacecomputer.brain._analytics_facts import Instant, scalar_fact, series_statistic_fact, series_value_fact
from spacecomputer.brain._analytics_text import clip_scalar_label
from spacecomputer.brain._analytics_timeline import Anchor, Timeline
from spacecomputer.brain._analytics_vocab import STATISTIC_WORDS, MetricSpec
from spacecomputer.brain._types import Fact
from spacecomputer.domain._analysis_biomech import Scalar

__all__ = ["WHOLE_CLIP", "SeriesReader", "csv_rounding", "default_statistics"]

WHOLE_CLIP = ("max", "min", "range", "mean")
"""Statistics over the whole clip (the other one, ``value``, is read at an instant)."""


class SeriesReader:
    """Read one quantity's facts (a :class:`MetricSpec`) from a run with biomechanics.

    ``angle_sd_deg`` is each joint angle's measurement uncertainty in a typical frame, degrees; ``angle_sd_reason``
    says why it is missing when it is.
    """

    def __init__(
        self,
        scalars: Mapping[str, Scalar],
        series: Mapping[str, NDArray[np.float64]],
        timeline: Timeline,
        *,
        angle_sd_deg: Mapping[str, float],
        angle_sd_reason: str | None,
    ) -> None:
        self._scalars, self._series, self._timeline = scalars, series, timeline
        self._angle_sd_deg, self._angle_sd_reason = angle_sd_deg, angle_sd_reason

    def statistic(self, spec: MetricSpec, statistic: str, facts: list[Fact], reasons: list[str]) -> None:
        """Append the fact of ``statistic`` over the clip to ``facts``, or why there is none to ``reasons``."""
        label = f"{STATISTIC_WORDS[statistic]} {spec.label}"
        scalar = self._scalars.get(spec.scalars.get(statistic, ""))
        if scalar is not None:
            if not scalar.available:
                reasons.append(f"{label}: {scalar.reason}")
                return
            at, note = self._extreme_instant(spec.column, statistic, scalar.value)
            facts.append(scalar_fact(scalar, label, at=at, column=spec.column, note=note))
            return
        if spec.clip_scalars:
            self._clip_scalars(spec, facts, reasons, note=None)
            return
        values = self._series.get(spec.column or "")
        if values is None or not np.isfinite(values).any():
            reasons.append(f"{spec.label} is unknown in every frame of metrics.csv")
            return
        at = None
        if statistic in ("max", "min"):
            row = int(np.nanargmax(values) if statistic == "max" else np.nanargmin(values))
            at, value = self._timeline.instant(row), float(values[row])
        else:
            value = float(np.nanmean(values) if statistic == "mean" else np.nanmax(values) - np.nanmin(values))
        column = spec.column or ""
        estimated = spec.estimated_from_video
        facts.append(
            series_statistic_fact(column, label, spec.unit, statistic, value, at, estimated_from_video=estimated)
        )

    def values(self, spec: MetricSpec, anchors: Sequence[Anchor], facts: list[Fact], reasons: list[str]) -> None:
        """Append the value at each anchor (of the spec's side) to ``facts``, or why there is none to ``reasons``."""
        if spec.column is None:
            self._clip_scalars(spec, facts, reasons, note="a whole-clip number: there is no value at one instant")
            return
        values = self._series.get(spec.column)
        sigma = self._angle_sd_deg.get(spec.angle or "")
        if spec.angle is None:
            sigma_note = "the run records no per-frame uncertainty for this series"
        elif sigma is None:
            sigma_note = f"no per-frame uncertainty: {self._angle_sd_reason or 'not measured for this angle'}"
        else:
            sigma_note = "± is the angle's measurement uncertainty in a typical frame (landmark jitter)"
        for anchor in anchors:
            if anchor.foot is not None and spec.side is not None and anchor.foot != spec.side:
                continue
            inside = values is not None and 0 <= anchor.at.row < values.size
            value = float(values[anchor.at.row]) if inside and values is not None else math.nan
            if not math.isfinite(value):
                reasons.append(f"{spec.label} is unknown {anchor.note}")
                continue
            facts.append(
                series_value_fact(
                    spec.column,
                    spec.label,
                    spec.unit,
                    value,
                    anchor.at,
                    uncertainty=sigma,
                    estimated_from_video=spec.estimated_from_video,
                    note=f"{anchor.note}; {sigma_note}",
                )
            )

    def _clip_scalars(self, spec: MetricSpec, facts: list[Fact], reasons: list[str], *, note: str | None) -> None:
        for name in spec.clip_scalars:
            clip = self._scalars.get(name)
            if clip is not None and clip.available:
                facts.append(scalar_fact(clip, clip_scalar_label(name), note=note))
            elif clip is not None:
                reasons.append(f"{clip_scalar_label(name)}: {clip.reason}")

    def _extreme_instant(
        self, column: str | None, statistic: str, value: float | None
    ) -> tuple[Instant | None, str | None]:
        if statistic not in ("max", "min") or column is None or value is None:
            return None, None
        values = self._series.get(column)
        if values is None or not np.isfinite(values).any():
            return None, f"no time: metrics.csv has no values of {column}"
        row = int(np.nanargmax(values) if statistic == "max" else np.nanargmin(values))
        if abs(float(values[row]) - value) > csv_rounding(value):
            return None, f"no time: the extreme of metrics.csv {column} differs from this value beyond its rounding"
        return self._timeline.instant(row), None


def default_statistics(spec: MetricSpec) -> list[str]:
    """Return the statistics a question naming none gets: those the analysis has scalars for, else max and min."""
    if spec.scalars:
        return [stat for stat in WHOLE_CLIP if stat in spec.scalars]
    return ["max"] if spec.clip_scalars else ["max", "min"]


def csv_rounding(value: float) -> float:
    """Return the largest difference between ``value`` and its 6-significant-digit rendering in metrics.csv.

    >>> csv_rounding(147.178)
    0.0005005
    """
    if value == 0:
        return 1e-12
    exponent: int = math.floor(math.log10(abs(value))) - 5
    return 0.5 * 10.0**exponent * 1.001
