"""The comparison section of the report: a run ("you") against a reference clip, over their phase alignment.

Built from a :class:`~spacecomputer.athletes._compare.ComparisonResult` and the two motions it compared: the
facts (who, how aligned, similarity score and its definition, warnings), the findings in words, a table of
the per-joint differences, a table of the matched events, overlaid aligned curves and the two skeletons side
by side at matched instants. Every difference is you − reference, in degrees.

Aligned curves: the (up to) :data:`MAX_CURVES` joint angles with the largest ``|mean difference| / σ`` (those
without a measured σ after them, by ``|mean difference|``), each motion's angle at the rows paired by the
alignment path, drawn against your time at those rows (where the reference needed longer, your time stands
still and its curve has a vertical step), each with a band of ± its own per-frame measurement uncertainty and
vertical lines at the matched events. Paths longer than :data:`MAX_CURVE_POINTS` are thinned to evenly spaced
path steps (the curves are smooth: nothing sharp is lost at that density).

Skeletons (our own choices), at up to :data:`MAX_SKELETON_INSTANTS` matched events (those the findings name
first, then spread over the clip; without matched events, at the middles of the three thirds of the path):
each motion is drawn in its own sagittal plane, spanned by its ``up`` and a forward direction: the horizontal
displacement of its mid-hip from its first to its last frame with a pose (the direction of travel) when that
is at least :data:`MIN_TRAVEL_BODY_SIZES` body sizes, else the frame's x axis made horizontal, turned so that
the feet (heel → toes) point forward. Forward is to the right in both drawings, so two athletes running in
opposite directions across their videos face the same way. The body size is the median over frames of trunk
(mid-shoulder to mid-hip) + thigh + shank length (the mean of both sides), a length that does not change with
posture; each skeleton is divided by its own, so the reference's stature scaling does not matter. Heights are
measured from the clip's typical lowest point (the median over frames of the lowest landmark's height: the
ground in a clip mostly in contact with it, whatever a few frames with a misplaced landmark say), so a flight
phase shows as one; the horizontal origin is the mid-hip at that instant. Bones are the skeleton's bones
without the face outline, the head a dot at the nose; left-side bones dark blue, right-side ones brown (the
report's foot colours), bones across the body grey.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from functools import cache
from typing import TYPE_CHECKING

import numpy as np
import plotly.io as pio
from numpy.typing import NDArray

from spacecomputer.biomech import format_measurement
from spacecomputer.report._html import Html, element, format_number, join, readable_name
from spacecomputer.report._plots import FOOT_RGB

if TYPE_CHECKING:  # at run time, spacecomputer.athletes imports the pipeline, which imports this package
    from spacecomputer.athletes._compare import ComparisonResult, EventDifference, JointDifference, MotionIdentity
    from spacecomputer.athletes._motion import Motion

__all__ = [
    "COMPARISON_STYLE",
    "MAX_CURVES",
    "MAX_CURVE_POINTS",
    "MAX_SKELETON_INSTANTS",
    "MIN_TRAVEL_BODY_SIZES",
    "comparison_section",
]

MAX_CURVES = 6
"""Most joint angles drawn as overlaid curves."""
MAX_CURVE_POINTS = 1000
"""Most path steps drawn per curve (our own choice)."""
MAX_SKELETON_INSTANTS = 4
"""Most instants at which both skeletons are drawn."""
MIN_TRAVEL_BODY_SIZES = 0.5
"""Mid-hip travel, in body sizes, from which the direction of travel is the skeleton's forward (our own)."""
COMPARISON_STYLE = """
.skeletons { display: grid; grid-template-columns: repeat(auto-fill, minmax(460px, 1fr)); gap: .6rem; }
tr.significant td { background: #fffbea; }
"""
"""Style the page adds when it holds a comparison."""

_YOU, _REFERENCE, _ACROSS = "#636efa", "#ef553b", "#7b8794"
_FACE = frozenset(range(11))  # BlazePose's face landmarks: nose, eyes, ears, mouth
_Point = float | None


def comparison_section(result: ComparisonResult, you: Motion, reference: Motion) -> Html:
    """Return the report's comparison section (anchor ``comparison``; module docstring).

    Parameters
    ----------
    result
        The comparison of ``you`` (motion ``a``) with ``reference`` (motion ``b``) and its alignment path.
    you, reference
        The two motions that were compared, in that order (their poses, angles and uncertainties are drawn).

    """
    from spacecomputer.athletes._compare import SIGNIFICANCE_FACTOR  # not at the top: see the imports there

    comparison = result.comparison
    intro = (
        "Every difference is you − reference, in degrees. σ is the two motions' per-frame measurement "
        f"uncertainties combined; a difference is significant when larger than {SIGNIFICANCE_FACTOR:g} σ "
        "(our own rule), else it is within measurement error. Significant rows are shaded."
    )
    no_finding = "No significant difference: every difference is within measurement error."
    warnings = element("div", element("strong", "Warnings"), _list(comparison.warnings), cls="banner")
    return element(
        "section",
        element("h2", "Comparison with ", comparison.reference.name),
        _facts(result),
        element("p", intro, cls="small"),
        element("h3", "Findings"),
        _list(f.text for f in comparison.findings) if comparison.findings else element("p", no_finding, cls="note"),
        warnings if comparison.warnings else None,
        element("h3", "Joint angle differences over the aligned motion"),
        _joint_table(comparison.joints),
        element("h3", "At matched foot events"),
        _event_tables(comparison.events),
        element("h3", "Aligned joint angles"),
        _curves(result, you, reference),
        element("h3", "Skeletons at matched instants"),
        _skeletons(result, you, reference),
        id_="comparison",
    )


def _list(items: Iterable[str]) -> Html:
    return element("ul", *(element("li", item) for item in items))


def _degrees(value: float | None) -> str:
    return "—" if value is None or not math.isfinite(value) else f"{value:.1f}°"


def _facts(result: ComparisonResult) -> Html:
    comparison = result.comparison
    alignment, similarity = comparison.alignment, comparison.similarity
    method = (
        f"cut at {len(alignment.matched_events)} matched foot events, DTW within each phase"
        if alignment.method == "phases"
        else "one DTW over the whole clips, their starts and ends pinned"
    )
    aligned = (
        f"{alignment.path_length} pairs of frames; {len(alignment.angles)} joint angles; "
        f"common time step {format_number(alignment.time_step_s, 's')}"
    )
    score = (
        f" (RMS difference {_degrees(similarity.rms_difference_deg)}; measurement noise alone would give "
        f"{_degrees(similarity.noise_rms_deg)}; excess beyond the noise {_degrees(similarity.excess_rms_deg)})"
    )
    rows: list[tuple[str, object]] = [
        ("You", _identity(comparison.you)),
        ("Reference", _identity(comparison.reference)),
        ("Alignment", method + (f". {alignment.note}" if alignment.note else "")),
        ("Aligned", aligned),
        ("Similarity score", element("span", element("strong", f"{similarity.score:.0f} / 100"), score)),
        ("Score definition", element("span", similarity.definition, cls="small")),
    ]
    return element("table", *(element("tr", element("th", k), element("td", v)) for k, v in rows), cls="facts")


def _identity(identity: MotionIdentity) -> str:
    kind = "a run" if identity.source == "run" else "a reference clip"
    return (
        f"{identity.name} ({kind}; movement {identity.movement or 'unknown'}; sport {identity.sport or 'unknown'}; "
        f"{identity.frames} frames at {format_number(identity.fps, 'fps')})"
    )


def _grid(header: Sequence[str], rows: Iterable[tuple[Sequence[object], bool]]) -> Html:
    """Return a table with one header row; rows flagged ``True`` are marked significant."""
    head = element("tr", *(element("th", cell) for cell in header))
    body = (element("tr", *map(_cell, cells), cls="significant" if flag else None) for cells, flag in rows)
    return element("table", head, *body, cls="grid")


def _cell(value: object) -> Html:
    return element("td", value)


def _verdict(significant: bool, difference: float | None, sigma: float | None) -> str:
    if difference is None:
        return "no data"
    if sigma is None:
        return "not judged: uncertainty not measured"
    return "yes" if significant else "no: within measurement error"


def _joint_table(joints: Sequence[JointDifference]) -> Html:
    rows = []
    for joint in joints:
        where, at = "—", joint.max_at
        if at is not None:
            where = f"your {at.a_time_s:.2f} s, reference {at.b_time_s:.2f} s"
            if at.nearest_event is not None and at.from_event_s is not None:
                where += f" ({at.from_event_s:+.2f} s from {at.nearest_event})"
        verdict = _verdict(joint.significant, joint.mean_difference_deg, joint.uncertainty_deg)
        extremes = (_degrees(joint.rms_difference_deg), _degrees(joint.max_abs_difference_deg))
        rows.append(
            ((readable_name(joint.angle), joint.display, *extremes, where, verdict, joint.samples), joint.significant)
        )
    header = ("Angle", "Mean ± σ", "RMS", "Largest |difference|", "Where the largest is", "Significant?", "Pairs")
    return _grid(header, rows)


def _event_names(events: Sequence[EventDifference]) -> list[str]:
    """Event labels, numbered (``"right toe-off #2"``) where a label occurs more than once, as the findings do."""
    labels = [event.event.label for event in events]
    return [
        label if labels.count(label) == 1 else f"{label} #{labels[: index + 1].count(label)}"
        for index, label in enumerate(labels)
    ]


def _event_tables(events: Sequence[EventDifference]) -> Html:
    if not events:
        return element("p", "No foot event was matched between the two motions.", cls="note")
    summary, details = [], []
    for name, event in zip(_event_names(events), events, strict=True):
        significant = [a for a in event.angles if a.significant and a.difference_deg is not None]
        top = max(significant, key=lambda a: abs(a.difference_deg or 0.0) / (a.uncertainty_deg or 1.0), default=None)
        largest = "—"
        if top is not None:
            largest = (
                f"{readable_name(top.angle)}: {format_measurement(top.difference_deg, top.uncertainty_deg, 'deg')}"
            )
        counts = f"{len(significant)} of {len(event.angles)}"
        times = (f"{event.event.a_time_s:.2f} s", f"{event.event.b_time_s:.2f} s")
        summary.append(((name, *times, counts, largest), bool(significant)))
        rows = [
            (
                (readable_name(a.angle), _degrees(a.a_deg), _degrees(a.b_deg),
                 format_measurement(a.difference_deg, a.uncertainty_deg, "deg"),
                 _verdict(a.significant, a.difference_deg, a.uncertainty_deg)),
                a.significant,
            )
            for a in event.angles
        ]  # fmt: skip
        table = _grid(("Angle", "You", "Reference", "Difference ± σ", "Significant?"), rows)
        details.append(element("details", element("summary", f"Every angle at {name}"), table))
    header = ("Event", "Your time", "Reference time", "Significant differences", "Largest significant")
    return join([_grid(header, summary), *details])


# --- figures ---------------------------------------------------------------------------------------------------


@cache
def _template() -> dict[str, object]:
    template: dict[str, object] = pio.templates["plotly_white"].to_plotly_json()
    return template


def _figure(div_id: str, data: list[dict[str, object]], layout: dict[str, object], *, toolbar: bool = True) -> Html:
    # Unvalidated like the report's other figures (validating every point is slow); the tests validate them.
    figure = {"data": data, "layout": {"template": _template()} | layout}
    config = {"displaylogo": False, "responsive": True, "displayModeBar": toolbar}
    return Html(
        pio.to_html(figure, full_html=False, include_plotlyjs=False, div_id=div_id, config=config, validate=False)
    )


def _rounded(values: NDArray[np.float64], decimals: int) -> list[_Point]:
    """Return JSON numbers: rounded, NaN and ±inf as ``None`` (a gap)."""
    finite = np.isfinite(values)
    rounded = np.round(np.where(finite, values, 0.0), decimals)
    return [value if known else None for value, known in zip(rounded.tolist(), finite.tolist(), strict=True)]


def _ranked_angles(joints: Sequence[JointDifference]) -> list[str]:
    def key(joint: JointDifference) -> tuple[int, float]:
        mean = abs(joint.mean_difference_deg or 0.0)
        return (0, -mean / joint.uncertainty_deg) if joint.uncertainty_deg else (1, -mean)

    known = [joint for joint in joints if joint.mean_difference_deg is not None]
    return [joint.angle for joint in sorted(known, key=key)[:MAX_CURVES]]


def _curves(result: ComparisonResult, you: Motion, reference: Motion) -> Html:
    path, events = result.alignment.path, result.comparison.events
    steps = np.unique(np.linspace(0, len(path) - 1, min(len(path), MAX_CURVE_POINTS)).round().astype(np.intp))
    rows_a, rows_b = path[steps, 0], path[steps, 1]
    times = you.timestamps_s[rows_a]
    x = _rounded(times, 4)
    line = {"color": "#9aa5b1", "width": 1, "dash": "dot"}
    shapes, annotations = [], []
    for name, event in zip(_event_names(events), events, strict=True):
        time = round(event.event.a_time_s, 4)
        shapes.append({"type": "line", "x0": time, "x1": time, "yref": "paper", "y0": 0, "y1": 1, "line": line})
        annotations.append(
            {"text": name, "x": time, "y": 1, "yref": "paper", "showarrow": False, "textangle": -90,
             "xanchor": "right", "yanchor": "top", "font": {"size": 10, "color": "#52606d"}}
        )  # fmt: skip
    joints = {joint.angle: joint for joint in result.comparison.joints}
    figures = []
    for k, angle in enumerate(_ranked_angles(result.comparison.joints)):
        data: list[dict[str, object]] = []
        for label, motion, rows, colour in (("you", you, rows_a, _YOU), ("reference", reference, rows_b, _REFERENCE)):
            values = motion.angles_deg[angle][rows]
            data += _band(label, times, values, motion.angle_sd_deg.get(angle), colour)
            data.append(
                {"type": "scatter", "mode": "lines", "name": label, "legendgroup": label, "x": x,
                 "y": _rounded(values, 2), "line": {"color": colour, "width": 2}}
            )  # fmt: skip
        layout = {
            "height": 320, "margin": {"l": 60, "r": 20, "t": 30, "b": 45}, "hovermode": "closest",
            "legend": {"orientation": "h", "x": 0, "y": 1.02, "yanchor": "bottom"},
            "xaxis": {"title": {"text": "your time along the aligned path (s)"}},
            "yaxis": {"title": {"text": "angle (°)"}}, "shapes": shapes, "annotations": annotations,
        }  # fmt: skip
        title = element("h4", readable_name(angle), ": ", joints[angle].display, " (you − reference)")
        figures.append(join([title, _figure(f"comparison-curve-{k}", data, layout)]))
    intro = (
        "Your angle and the reference's at the frames the alignment pairs, against your time; shaded: ± each "
        "motion's own measurement uncertainty; dotted lines: matched foot events. Where the reference needed "
        "longer than you, your time stands still and its curve steps. The angles with the largest mean "
        "difference relative to their uncertainty are drawn."
    )
    return join([element("p", intro, cls="small"), *figures])


def _band(
    label: str, times: NDArray[np.float64], values: NDArray[np.float64], sd: float | None, colour: str
) -> list[dict[str, object]]:
    """Return the ± ``sd`` band around ``values``: one closed outline per run of known values, filled.

    Outlines rather than two edges filled one to the other, because such a fill bridges the gaps.
    """
    if sd is None or not math.isfinite(sd):
        return []
    known = np.concatenate([[0], np.isfinite(values).astype(np.int8), [0]])
    edges = np.flatnonzero(np.diff(known))
    x: list[_Point] = []
    y: list[_Point] = []
    for start, end in zip(edges[::2], edges[1::2], strict=True):
        x += [*_rounded(np.concatenate([times[start:end], times[start:end][::-1]]), 4), None]
        y += [*_rounded(np.concatenate([values[start:end] + sd, values[start:end][::-1] - sd]), 2), None]
    red, green, blue = (int(colour[i : i + 2], 16) for i in (1, 3, 5))
    return [
        {"type": "scatter", "mode": "lines", "name": f"{label} ± σ", "x": x, "y": y, "fill": "toself",
         "fillcolor": f"rgba({red},{green},{blue},0.15)", "line": {"width": 0}, "legendgroup": label,
         "showlegend": False, "hoverinfo": "skip"}
    ]  # fmt: skip


@dataclass(frozen=True, eq=False)
class _Projection:
    """A motion's sagittal drawing plane (module docstring): unit ``forward`` and ``up``, ground and size."""

    forward: NDArray[np.float64]
    up: NDArray[np.float64]
    ground: float
    size: float
    how: str

    @classmethod
    def of(cls, motion: Motion) -> _Projection:
        pose, up = motion.pose, np.asarray(motion.up, dtype=np.float64)
        size = _body_size(motion)
        hips = _mid(motion, "left_hip", "right_hip")
        known = np.flatnonzero(np.isfinite(hips).all(axis=1))
        travel = hips[known[-1]] - hips[known[0]] if known.size else np.zeros(3)
        travel -= (travel @ up) * up
        if float(np.linalg.norm(travel)) >= MIN_TRAVEL_BODY_SIZES * size:
            forward, how = travel / np.linalg.norm(travel), "its direction of travel"
        else:
            axis = np.eye(3)[0] if abs(up[0]) < 0.9 else np.eye(3)[2]
            forward = (axis - (axis @ up) * up) / np.linalg.norm(axis - (axis @ up) * up)
            feet = [pose.joint(f"{side}_foot_index") - pose.joint(f"{side}_heel") for side in ("left", "right")]
            pointing = np.concatenate(feet) @ forward
            if np.isfinite(pointing).any() and float(np.nanmean(pointing)) < 0:
                forward = -forward
            how = "the video's horizontal axis, turned so that the feet point forward"
        heights = np.where(np.isfinite(pose.positions).all(axis=2), pose.positions @ up, np.inf).min(axis=1)
        lowest = heights[np.isfinite(heights)]
        ground = float(np.median(lowest)) if lowest.size else 0.0
        return cls(forward=forward, up=up, ground=ground, size=size, how=how)

    def frame(self, motion: Motion, row: int) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
        """Return the (J,) forward and up coordinates of row ``row``, in body sizes, forward from its mid-hip."""
        points = motion.pose.positions[row]
        hip = _mid(motion, "left_hip", "right_hip")[row] @ self.forward
        return (points @ self.forward - hip) / self.size, (points @ self.up - self.ground) / self.size


def _mid(motion: Motion, left: str, right: str) -> NDArray[np.float64]:
    middle: NDArray[np.float64] = (motion.pose.joint(left) + motion.pose.joint(right)) / 2.0
    return middle


def _body_size(motion: Motion) -> float:
    """Return the median trunk + thigh + shank length (module docstring); 1 when it is never measured."""
    pose = motion.pose
    pairs = [(_mid(motion, "left_shoulder", "right_shoulder"), _mid(motion, "left_hip", "right_hip"), 1.0)] + [
        (pose.joint(f"{side}_{upper}"), pose.joint(f"{side}_{lower}"), 0.5)
        for side in ("left", "right")
        for upper, lower in (("hip", "knee"), ("knee", "ankle"))
    ]
    chain = sum(weight * np.linalg.norm(a - b, axis=1) for a, b, weight in pairs)
    known = np.asarray(chain)[np.isfinite(chain)]
    return float(np.median(known)) if known.size else 1.0


def _instants(result: ComparisonResult) -> list[tuple[str, int, int]]:
    """Return (title, your row, reference row) of the instants to draw, in time order (module docstring)."""
    comparison, path = result.comparison, result.alignment.path
    events = comparison.events
    if not events:
        thirds = [(k + 0.5) / 3 for k in range(3)]
        points = [(share, round(share * (len(path) - 1))) for share in thirds]
        return [(f"{share:.0%} of the aligned motion", int(path[p, 0]), int(path[p, 1])) for share, p in points]
    names = _event_names(events)
    named = [names.index(finding.event) for finding in comparison.findings if finding.event in names]
    spread = np.linspace(0, len(events) - 1, min(MAX_SKELETON_INSTANTS, len(events))).round().astype(int).tolist()
    chosen = sorted(list(dict.fromkeys([*named, *spread]))[:MAX_SKELETON_INSTANTS])
    return [(names[i], events[i].event.a_row, events[i].event.b_row) for i in chosen]


def _skeleton_traces(
    x: NDArray[np.float64], y: NDArray[np.float64], motion: Motion, axes: str
) -> list[dict[str, object]]:
    skeleton = motion.pose.skeleton
    lines: dict[str, tuple[list[_Point], list[_Point]]] = {"left": ([], []), "right": ([], []), "across": ([], [])}
    for bone in skeleton.bones:
        ends = list(bone)
        if _FACE.isdisjoint(bone) and np.isfinite([x[ends], y[ends]]).all():
            sides = {skeleton.joint_names[j].split("_")[0] for j in bone}
            xs, ys = lines[sides.pop() if len(sides) == 1 and sides <= {"left", "right"} else "across"]
            xs += [*_rounded(x[ends], 3), None]
            ys += [*_rounded(y[ends], 3), None]
    colours = {side: f"rgb{FOOT_RGB[side]}" for side in ("left", "right")} | {"across": _ACROSS}
    common = {
        "type": "scatter",
        "showlegend": axes == "",
        "xaxis": f"x{axes}",
        "yaxis": f"y{axes}",
        "hoverinfo": "skip",
    }
    traces: list[dict[str, object]] = [
        common | {"mode": "lines+markers", "name": f"{side} side" if side != "across" else "across the body",
                  "x": xs, "y": ys, "line": {"color": colours[side], "width": 3}, "marker": {"size": 4},
                  "legendgroup": side}
        for side, (xs, ys) in lines.items()
    ]  # fmt: skip
    nose = [skeleton.index("nose")]
    if np.isfinite([x[nose], y[nose]]).all():
        traces.append(
            common | {"mode": "markers", "name": "head (nose)", "x": _rounded(x[nose], 3), "y": _rounded(y[nose], 3),
                      "marker": {"size": 12, "color": _ACROSS}, "legendgroup": "head"}
        )  # fmt: skip
    return traces


def _skeletons(result: ComparisonResult, you: Motion, reference: Motion) -> Html:
    projections, motions = (_Projection.of(you), _Projection.of(reference)), (you, reference)
    drawn = [
        (title, rows, [p.frame(m, r) for p, m, r in zip(projections, motions, rows, strict=True)])
        for title, *rows in _instants(result)
    ]
    xs = np.concatenate([x for *_, pair in drawn for x, _ in pair])
    ys = np.concatenate([y for *_, pair in drawn for _, y in pair])
    xs, ys = xs[np.isfinite(xs)], ys[np.isfinite(ys)]
    width = max(0.5, float(np.abs(xs).max(initial=0.0))) + 0.1
    bottom, top = min(0.0, float(ys.min(initial=0.0))) - 0.05, max(1.2, float(ys.max(initial=0.0))) + 0.1
    axis = {"range": [-width, width], "zeroline": False, "title": {"text": "forward (body sizes)"}}
    figures = []
    for k, (title, rows, pair) in enumerate(drawn):
        data: list[dict[str, object]] = []
        annotations = []
        for (x, y), motion, row, axes, who in zip(pair, motions, rows, ("", "2"), ("you", "reference"), strict=True):
            data += _skeleton_traces(x, y, motion, axes)
            text = f"{who}, {motion.timestamps_s[row]:.2f} s" + ("" if np.isfinite(x).any() else ": no pose")
            annotations.append({"text": text, "x": 0.24 if axes == "" else 0.76, "y": 1.0, "xref": "paper",
                                "yref": "paper", "showarrow": False, "yanchor": "bottom"})  # fmt: skip
        layout = {
            "height": 440, "margin": {"l": 45, "r": 10, "t": 30, "b": 45}, "annotations": annotations,
            "legend": {"orientation": "h", "y": -0.15}, "showlegend": True,
            "xaxis": axis | {"domain": [0, 0.48]}, "xaxis2": axis | {"domain": [0.52, 1], "anchor": "y2"},
            "yaxis": {"range": [bottom, top], "scaleanchor": "x", "title": {"text": "height (body sizes)"}},
            "yaxis2": {"range": [bottom, top], "scaleanchor": "x2", "anchor": "x2"},
        }  # fmt: skip
        figure = _figure(f"comparison-skeleton-{k}", data, layout, toolbar=False)
        figures.append(element("div", element("h4", title), figure, cls="skeleton"))
    note = (
        f"Each skeleton in its own sagittal plane, spanned by up and forward (forward for you: {projections[0].how}; "
        f"for the reference: {projections[1].how}), divided by its body size (trunk + thigh + shank) so that "
        "statures do not matter, its height above its clip's typical lowest point (the ground, in most clips). "
        "Blue: left side; brown: right side; grey: across the body."
    )
    return join([element("p", note, cls="small"), element("div", *figures, cls="skeletons")])
