"""Time plots of the per-frame series (the columns of ``metrics.csv``) as Plotly figures.

:data:`~spacecomputer.report._plot_specs.PLOTS` lists the plots and the columns each draws; a column that
is missing, or has no finite value, is named under its plot (with the angle's reason when the analysis
gives one), and ``_deg`` columns that no plot claims join "Other joint angles". Left-side quantities are
solid lines, right-side ones dashed, each quantity in its own colour; upper-limb moments and powers start
hidden (a click on the legend shows them). Foot events of the analysis are vertical lines in the foot's
colour (solid: contact, dotted: toe-off) and contact phases are shaded in it; they are traces on a hidden
0-1 axis with legend entries, so a click hides them. The x axis is ``time_s`` (or the row when no time is known).
Kinetic plots carry an "estimated from video" label inside the figure, so that an exported image keeps it.

Series longer than :data:`MAX_POINTS` are reduced per trace by min-max decimation: the samples are cut into
``MAX_POINTS / 2`` equal buckets and each bucket keeps its lowest and its highest sample, in time order, so
that peaks (a force peak, a maximal flexion) survive where keeping every k-th sample could step over them.
Values are rounded to four significant digits of the trace's largest magnitude (finer than video can
measure) to keep the page small. Unknown samples (NaN, ±inf) are written as JSON ``null``: a gap.
"""

from __future__ import annotations

import math
import re
from collections.abc import Mapping
from dataclasses import dataclass, replace
from functools import cache

import numpy as np
import plotly.io as pio
from numpy.typing import NDArray

from spacecomputer.biomech._movement_metrics import STANDARD_GRAVITY_M_S2
from spacecomputer.domain._analysis_biomech import BiomechanicsSection
from spacecomputer.errors import InvalidInputError
from spacecomputer.report._html import Html, element, join, readable_name
from spacecomputer.report._plot_specs import PLOTS, SIDES, PlotSpec, Trace

__all__ = [
    "FOOT_RGB",
    "MAX_POINTS",
    "TimeAxis",
    "check_series",
    "downsample_indices",
    "plots_html",
    "time_axis",
]

MAX_POINTS = 2000
"""Most points drawn per trace (our own choice: a full-width plot has fewer pixels than that)."""
FOOT_RGB = {"left": (27, 73, 101), "right": (156, 102, 68)}
"""Colour of each foot's events and contact phases: dark blue and brown (our own choice)."""
_PALETTE = ("#636efa", "#ef553b", "#00cc96", "#ab63fa", "#ffa15a", "#19d3f3", "#ff6692", "#b6e880", "#ff97ff")
_NOT_PLOTTED = frozenset({"row", "video_frame", "time_s", "left_contact", "right_contact"})
_COLUMN_NAME = re.compile(r"[A-Za-z0-9_]+")
_ESTIMATED_LABEL = {
    "text": "estimated from video",
    "font": {"color": "#9a3412"},
    "showarrow": False,
    "xref": "paper",
    "yref": "paper",
    "x": 1,
    "y": 1,
    "xanchor": "right",
    "yanchor": "bottom",
}
_CONFIG = {"displaylogo": False, "responsive": True}


@dataclass(frozen=True, eq=False)
class TimeAxis:
    """The x values of every plot (one per row of ``metrics.csv``) and how events map onto them."""

    values: NDArray[np.float64]
    label: str
    uses_time: bool

    @property
    def uniform_step(self) -> float | None:
        """Spacing of the values when every one is finite and evenly spaced (to 0.1 % of it), else ``None``."""
        n = self.values.shape[0]
        if n < 2 or not np.isfinite(self.values).all():
            return None
        step = float(self.values[-1] - self.values[0]) / (n - 1)
        even = np.abs(self.values - (self.values[0] + step * np.arange(n))).max() <= 1e-3 * abs(step)
        return step if step > 0 and even else None


def time_axis(series: Mapping[str, NDArray[np.float64]], n_rows: int) -> TimeAxis:
    """Return ``time_s`` as the x axis when it has a finite value, else ``row``, else the row number."""
    for column, label, uses_time in (("time_s", "time (s)", True), ("row", "row of metrics.csv", False)):
        values = series.get(column)
        if values is not None and np.isfinite(values).any():
            return TimeAxis(values, label, uses_time)
    return TimeAxis(np.arange(n_rows, dtype=np.float64), "row of metrics.csv", False)


def downsample_indices(values: NDArray[np.float64], max_points: int) -> NDArray[np.intp]:
    """Return increasing indices of ``values`` to draw, at most ``max_points``, by min-max decimation.

    Every index when ``values`` is short enough; otherwise each of ``max_points // 2`` equal buckets gives
    the index of its lowest and of its highest finite value (its first index when it has none, so that a gap
    stays a gap).

    >>> downsample_indices(np.array([0.0, 5.0, 1.0, 2.0, -3.0, 0.0]), 4).tolist()
    [0, 1, 3, 4]
    """
    n = values.shape[0]
    if n <= max_points:
        return np.arange(n)
    size = math.ceil(n / max(1, max_points // 2))
    buckets = math.ceil(n / size)
    padded = np.full(buckets * size, np.nan)
    padded[:n] = values
    blocks = padded.reshape(buckets, size)
    unknown = ~np.isfinite(blocks)
    lowest = np.argmin(np.where(unknown, np.inf, blocks), axis=1)
    highest = np.argmax(np.where(unknown, -np.inf, blocks), axis=1)
    starts = np.arange(buckets) * size
    indices: NDArray[np.intp] = np.unique(np.concatenate([starts + lowest, starts + highest]))
    kept: NDArray[np.intp] = indices[indices < n]
    return kept


def _json_values(values: NDArray[np.float64], *, significant: int = 4) -> list[float | None]:
    """Round to ``significant`` digits of the largest magnitude; NaN and ±inf become ``None``."""
    finite = np.isfinite(values)
    if not finite.any():
        return [None] * values.shape[0]
    largest = float(np.max(np.abs(values[finite])))
    decimals = 0 if largest == 0 else int(np.clip(significant - 1 - math.floor(math.log10(largest)), 0, 12))
    rounded = np.round(np.where(finite, values, 0.0), decimals)
    return [value if known else None for value, known in zip(rounded.tolist(), finite.tolist(), strict=True)]


def _event_traces(biomechanics: BiomechanicsSection | None, axis: TimeAxis) -> list[dict[str, object]]:
    """Return the contact phases (filled rectangles) and foot events (vertical lines) as overlay traces.

    They are drawn on a hidden second y axis spanning 0 to 1, so they fill the plot's height whatever its
    y range; one trace per kind, its shapes separated by gaps (``None``), keeps the page small.
    """
    if biomechanics is None:
        return []
    traces: list[dict[str, object]] = []
    for foot in SIDES:
        x: list[float | None] = []
        for phase in biomechanics.phases:
            if phase.kind == "contact" and phase.foot == foot:
                start, end = (phase.start_s, phase.end_s) if axis.uses_time else (phase.start_row, phase.end_row)
                x += [round(start, 6), round(end, 6), round(end, 6), round(start, 6), round(start, 6), None]
        if x:
            fill = {"fill": "toself", "fillcolor": _rgba(foot, 0.12), "line": {"width": 0}}
            traces.append(_overlay(f"{foot} foot contact phase", x, [0, 0, 1, 1, 0, None], **fill))
    for foot in SIDES:
        for kind, label, dash in (("contact", "contact", "solid"), ("toe_off", "toe-off", "dot")):
            times = [
                e.time_s if axis.uses_time else e.row for e in biomechanics.events if (e.foot, e.kind) == (foot, kind)
            ]
            if times:
                x = [value for time in times for value in (round(time, 6), round(time, 6), None)]
                line = {"color": _rgba(foot, 1.0), "width": 1.5, "dash": dash}
                traces.append(_overlay(f"{foot} {label}", x, [0, 1, None], line=line))
    return traces


def _overlay(name: str, x: list[float | None], y_pattern: list[float | None], **style: object) -> dict[str, object]:
    """Return a trace on the hidden 0-1 axis, ``y_pattern`` repeated once per shape."""
    y = y_pattern * (len(x) // len(y_pattern))
    return {
        "type": "scatter",
        "mode": "lines",
        "name": name,
        "x": x,
        "y": y,
        "yaxis": "y2",
        "hoverinfo": "skip",
    } | style


def _rgba(foot: str, alpha: float) -> str:
    red, green, blue = FOOT_RGB[foot]
    return f"rgba({red},{green},{blue},{alpha})"


def check_series(series: Mapping[str, NDArray[np.float64]]) -> dict[str, NDArray[np.float64]]:
    """Return the columns as float arrays, after checking their names and shapes.

    Names must be snake_case identifiers (they become legend text, which Plotly reads as pseudo-HTML), and
    the arrays 1-D and of one length; otherwise :class:`~spacecomputer.errors.InvalidInputError` is raised.
    """
    odd_names = [name for name in series if not _COLUMN_NAME.fullmatch(name)]
    if odd_names:
        raise InvalidInputError(
            f"metrics column names must be snake_case identifiers (letters, digits, _); got {odd_names}",
            details={"names": odd_names},
        )
    columns = {name: np.asarray(values, dtype=np.float64) for name, values in series.items()}
    lengths = {name: values.shape for name, values in columns.items()}
    if any(len(shape) != 1 for shape in lengths.values()) or len(set(lengths.values())) > 1:
        raise InvalidInputError(
            f"every metrics series must be a 1-D array, all of one length (one value per row); got shapes {lengths}",
            details={"shapes": {name: list(shape) for name, shape in lengths.items()}},
        )
    return columns


def plots_html(series: Mapping[str, NDArray[np.float64]], biomechanics: BiomechanicsSection | None) -> Html:
    """Return the time-series section: every plot of :data:`PLOTS` that has data, and notes for the rest."""
    columns = check_series(series)
    n_rows = next(iter(columns.values())).shape[0] if columns else 0
    if n_rows == 0:
        return element("p", "No per-frame series were given: there is nothing to plot.", cls="note")
    axis = time_axis(columns, n_rows)
    events = _event_traces(biomechanics, axis)
    weight_n = biomechanics.body_model.mass_kg * STANDARD_GRAVITY_M_S2 if biomechanics is not None else None
    reasons = {a.name: a.reason for a in biomechanics.angles if a.reason} if biomechanics is not None else {}
    claimed = {trace.column for spec in PLOTS for trace in spec.traces}
    extra = tuple(Trace(name) for name in sorted(columns) if name.endswith("_deg") and name not in claimed)
    specs = [replace(spec, traces=spec.traces + extra) if spec.key == "other-angles" else spec for spec in PLOTS]
    context = _Context(columns, axis, events, weight_n or None, reasons)
    unplotted = sorted(set(columns) - claimed - {trace.column for trace in extra} - _NOT_PLOTTED)
    intro = (
        "Solid lines: left side (or no side); dashed: right side. Vertical lines mark foot events (solid: "
        "contact, dotted: toe-off) and shading the contact phases, dark blue for the left foot and brown for "
        "the right; click a legend entry to hide or show it."
    )
    unplotted_note = element("p", "In metrics.csv but not plotted: ", ", ".join(unplotted), ".", cls="small")
    return join(
        [element("p", intro, cls="small"), *(_plot_html(spec, context) for spec in specs)]
        + ([unplotted_note] if unplotted else [])
    )


@dataclass(frozen=True, eq=False)
class _Context:
    columns: Mapping[str, NDArray[np.float64]]
    axis: TimeAxis
    event_traces: list[dict[str, object]]
    weight_n: float | None
    angle_reasons: Mapping[str, str | None]


def _angle_reason(column: str, reasons: Mapping[str, str | None]) -> str | None:
    for suffix in ("_segment_angle_deg", "_deg"):
        if column.endswith(suffix):
            return reasons.get(column.removesuffix(suffix))
    return None


def _plot_html(spec: PlotSpec, context: _Context) -> Html:
    traces: list[dict[str, object]] = []
    missing: list[str] = []
    empty: list[str] = []
    skipped: list[str] = []
    colours: dict[str, str] = {}
    for trace in spec.traces:
        values = context.columns.get(trace.column)
        if values is None:
            missing.append(trace.column)
            continue
        if trace.per_body_weight:
            if context.weight_n is None:
                skipped.append(f"{trace.column} (not converted to body weights: the body mass is unknown)")
                continue
            values = values / context.weight_n
        if not np.isfinite(values).any():
            reason = _angle_reason(trace.column, context.angle_reasons)
            empty.append(f"{trace.column} ({reason})" if reason else trace.column)
            continue
        label = trace.label or readable_name(trace.column)
        colour = colours.setdefault(
            label.removeprefix("left ").removeprefix("right "), _PALETTE[len(colours) % len(_PALETTE)]
        )
        dash = "dash" if trace.column.startswith("right_") else "solid"
        traces.append(
            {
                "type": "scatter",
                "mode": "lines",
                "name": label,
                "line": {"color": colour, "dash": dash},
                "visible": "legendonly" if trace.hidden else True,
                **_xy(values, context.axis),
            }
        )
    notes = [
        element("p", f"{title}: {', '.join(names)}.", cls="note")
        for title, names in (("Not in metrics.csv", missing), ("No value in any frame", empty), ("Not drawn", skipped))
        if names
    ]
    badge = element("span", "estimated from video", cls="badge estimated") if spec.estimated_from_video else None
    figure = _figure_html(spec, traces, context) if traces else element("p", "No data for this plot.", cls="note")
    return element(
        "section",
        element("h3", spec.title, *((" ", badge) if badge else ())),
        element("p", spec.description, cls="small") if spec.description else None,
        figure,
        *notes,
        cls="plot",
        id_=f"section-{spec.key}",
    )


def _xy(values: NDArray[np.float64], axis: TimeAxis) -> dict[str, object]:
    """Return the trace's points: ``x0``/``dx`` for an evenly spaced axis when none was dropped, else ``x``."""
    indices = downsample_indices(values, MAX_POINTS)
    y = _json_values(values[indices])
    step = axis.uniform_step
    if step is not None and indices.shape[0] == values.shape[0]:
        return {"x0": float(axis.values[0]), "dx": step, "y": y}
    return {"x": _json_values(axis.values[indices], significant=6), "y": y}


@cache
def _template() -> dict[str, object]:
    """Return Plotly's ``plotly_white`` template as a dict (unvalidated figures do not resolve its name)."""
    template: dict[str, object] = pio.templates["plotly_white"].to_plotly_json()
    return template


def _figure_html(spec: PlotSpec, traces: list[dict[str, object]], context: _Context) -> Html:
    layout = {
        "template": _template(),
        "height": 400,
        "margin": {"l": 60, "r": 20, "t": 30, "b": 40},
        "xaxis": {"title": {"text": context.axis.label}},
        "yaxis": {"title": {"text": spec.y_label}},
        "hovermode": "x unified",
        "yaxis2": {"overlaying": "y", "range": [0, 1], "visible": False, "fixedrange": True},
        "annotations": [_ESTIMATED_LABEL] if spec.estimated_from_video else [],
    }
    # Plotly's validation of every point costs about 0.1 s per figure; the tests validate the figures instead.
    figure = {"data": traces + context.event_traces, "layout": layout}
    return Html(
        pio.to_html(
            figure, full_html=False, include_plotlyjs=False, div_id=f"plot-{spec.key}", config=_CONFIG, validate=False
        )
    )
