"""The text sections of the report, each built from the `Analysis` document as escaped HTML.

Header (video, date, subject, body model, movement family), quality, pose, metric cards, risk flags, foot
events, angle definitions, uncertainty method and warnings. Every value from the analysis goes through
:func:`~spacecomputer.report._html.escape`; numbers are formatted here, never by the reader's browser.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from typing import Any

from spacecomputer.domain._analysis import Analysis, SkeletonFitInfo
from spacecomputer.domain._analysis_biomech import BiomechanicsSection, BodyModelInfo, RiskFlag, Scalar
from spacecomputer.report._html import Html, element, format_number, readable_name

__all__ = [
    "angles_section",
    "cards_section",
    "events_section",
    "header_section",
    "no_biomechanics_section",
    "pose_section",
    "quality_section",
    "risk_section",
    "uncertainty_section",
    "warnings_section",
]

CATEGORY_ORDER = ("kinematics", "events", "sprint", "jump", "landing", "strike", "throw", "kinetics", "energy")
"""Order of the metric card groups; categories not listed follow in their order of appearance."""
RISK_BANNER = (
    "These flags are indicators computed from a video, not diagnoses. A red or yellow flag says that a "
    "number crossed a threshold, with the uncertainty shown; it does not say that an injury is present or "
    "will occur. Ask a qualified clinician or coach to interpret them."
)
_MOVEMENT_SOURCES = {
    "sport_option": "given with --sport",
    "detected": "detected from the motion",
    "none": "not determined",
}


def _table(rows: Iterable[tuple[object, object]], cls: str = "facts") -> Html:
    return element("table", *(element("tr", element("th", key), element("td", value)) for key, value in rows), cls=cls)


def _grid(header: Sequence[str], rows: Iterable[Sequence[object]]) -> Html:
    head = element("tr", *(element("th", cell) for cell in header))
    return element("table", head, *(element("tr", *(element("td", cell) for cell in row)) for row in rows), cls="grid")


def _list(items: Iterable[object], cls: str | None = None) -> Html | None:
    entries = [element("li", item) for item in items]
    return element("ul", *entries, cls=cls) if entries else None


def _section(anchor: str, title: str, *children: object) -> Html:
    return element("section", element("h2", title), *children, id_=anchor)


def header_section(analysis: Analysis) -> Html:
    """Title, run facts, video, subject, body model and movement family."""
    video, subject, biomechanics = analysis.video, analysis.subject, analysis.biomechanics
    created = analysis.created_at.isoformat(sep=" ", timespec="seconds")
    facts: list[tuple[object, object]] = [
        ("Video file", video.filename),
        ("Analysed", f"{created} with spacecomputer {analysis.spacecomputer_version}"),
        (
            "Video",
            f"{video.width_px} × {video.height_px} px, {format_number(video.fps, 'fps')}"
            f"{' (variable frame rate)' if video.variable_frame_rate else ''}, {format_number(video.duration_s, 's')}, "
            f"{video.frame_count} frames, {video.codec} in {video.container}, rotated {video.rotation_deg}°",
        ),
        ("Subject height", format_number(subject.height_m, "m") if subject.height_m is not None else "not given"),
        ("Subject mass", format_number(subject.mass_kg, "kg") if subject.mass_kg is not None else "not given"),
        ("Sport", subject.sport or "not given"),
        ("Metric scale", subject.height_note),
    ]
    if biomechanics is not None:
        movement = biomechanics.movement
        how = _MOVEMENT_SOURCES.get(movement.source, movement.source)
        if movement.confidence is not None:
            how += f", confidence {format_number(movement.confidence)}"
        facts += [
            ("Body model", _body_model_text(biomechanics.body_model)),
            ("Movement family", f"{movement.family or 'undetermined'} ({how}): {movement.evidence}"),
            ("Coordinate frame", f"{biomechanics.coordinate_frame}, up = {biomechanics.up} ({biomechanics.up_source})"),
        ]
    children: list[object] = [
        element("h1", "Space Computer report: ", element("span", video.filename, cls="filename")),
        _table(facts),
    ]
    if biomechanics is not None:
        children.append(_body_model_details(biomechanics.body_model))
    return element("header", *children)


def _body_model_text(model: BodyModelInfo) -> str:
    sex = model.sex or "mean of the female and male tables"
    mass = f"{format_number(model.mass_kg, 'kg')} ({'given' if model.mass_source == 'given' else 'default: not given'})"
    height = (
        f"{format_number(model.height_m, 'm')} ({'given' if model.height_source == 'given' else 'default: not given'})"
    )
    return f"{model.source}; {sex}; mass {mass}; height {height}"


def _body_model_details(model: BodyModelInfo) -> Html:
    rows = [
        (
            s.name,
            format_number(s.mass_kg, "kg"),
            format_number(s.length_m, "m") if s.length_m is not None else "never seen",
            format_number(s.com_fraction),
        )
        for s in model.segments
    ]
    return element(
        "details",
        element("summary", f"Body model segments ({len(model.segments)})"),
        _list(model.notes, cls="small"),
        _grid(("segment", "mass", "median length", "COM from proximal end / length"), rows),
    )


def quality_section(quality: Mapping[str, Any]) -> Html:
    """Quality score, sub-scores, reasons and warnings from the quality report dictionary (any key may lack)."""
    passed = quality.get("passed")
    verdict, level = ("not judged", "unavailable")
    if isinstance(passed, bool):
        verdict, level = ("passed", "green") if passed else ("below the threshold", "red")
    summary = element(
        "p",
        element("strong", "Score ", _number_or_text(quality.get("score"))),
        f" (threshold {_number_or_text(quality.get('min_score'))}) ",
        element("span", verdict, cls=f"badge {level}"),
        f" camera motion: {quality.get('camera_motion', 'unknown')}",
    )
    sub_scores, metrics = _mapping(quality.get("sub_scores")), _mapping(quality.get("metrics"))
    metric_rows = [
        (
            name,
            f"{_number_or_text(entry.get('value'))} {entry.get('unit', '')}" if isinstance(entry, Mapping) else entry,
        )
        for name, entry in metrics.items()
    ]
    parts: list[object] = [summary]
    if sub_scores:
        rows = [(str(name).replace("_", " "), _number_or_text(value)) for name, value in sub_scores.items()]
        parts += [element("h3", "Sub-scores (0 = bad, 1 = good)"), _table(rows)]
    for title, key in (("Reasons", "reasons"), ("Warnings", "warnings")):
        items = quality.get(key)
        if isinstance(items, list | tuple) and items:
            parts += [element("h3", title), _list(items)]
    if metric_rows:
        parts.append(element("details", element("summary", "Quality metrics"), _table(metric_rows)))
    return _section("quality", "Video quality", *parts)


def _mapping(value: object) -> Mapping[Any, Any]:
    return value if isinstance(value, Mapping) else {}


def _number_or_text(value: object) -> str:
    if isinstance(value, float | int) and not isinstance(value, bool):
        return format_number(value)
    return "—" if value is None else str(value)


def pose_section(analysis: Analysis) -> Html:
    """Pose tracking, metric placement and processing facts."""
    pose, trajectory, processing = analysis.pose, analysis.trajectory, analysis.processing
    throughput = analysis.throughput
    rows: list[tuple[object, object]] = [
        ("Frames with a pose", f"{pose.frames_with_pose} of {pose.frames} ({pose.detection_rate:.1%})"),
        ("Mean landmark visibility", format_number(pose.mean_visibility)),
        ("Poses", f"{pose.coordinate_frame} frame, {pose.units}"),
        ("Estimator", f"{processing.estimator} (complexity {processing.model_complexity})"),
        ("Calibrated camera", f"{'yes' if trajectory.calibrated else 'no'} ({trajectory.camera_source})"),
        ("Scale factor", format_number(trajectory.scale_factor)),
        (
            "Filter",
            f"zero-phase Butterworth, order {processing.filter.order}, cut-off "
            f"{format_number(processing.filter.cutoff_hz, 'Hz')} ({processing.filter.cutoff_method.replace('_', ' ')})",
        ),
        ("Gaps", f"{processing.frames_filled} frames filled, {processing.long_gaps} long gaps left"),
        ("Left/right swaps corrected", f"{processing.swap_corrected_frames} frames"),
        ("Rigid skeleton", _skeleton_fit_text(processing.skeleton_fit)),
        ("Run time", f"{format_number(throughput.wall_s, 's')} ({format_number(throughput.frames_per_s, 'frames/s')})"),
    ]
    return _section("pose", "Pose", _table(rows), _list(trajectory.notes, cls="small"))


def _skeleton_fit_text(fit: SkeletonFitInfo | None) -> str:
    if fit is None:
        return "not fitted (see the warnings): angles read off the smoothed landmarks"
    residual = "" if fit.median_residual_m is None else f", median residual {format_number(fit.median_residual_m, 'm')}"
    limits = f", {fit.frames_at_joint_limit} with a joint at its limit" if fit.frames_at_joint_limit else ""
    return f"fitted to {fit.frames_fitted} frames{residual}{limits}"


def no_biomechanics_section(analysis: Analysis) -> Html:
    """Say that the run has no biomechanics, and why (the warnings carry the reason)."""
    return _section(
        "biomechanics",
        "Biomechanics",
        element(
            "p",
            "No biomechanics were computed for this run, so there are no metrics, risk flags or kinetics. "
            "The video, quality and pose results above still hold; the warnings below say why the "
            "biomechanics could not be computed."
            if analysis.warnings
            else "No biomechanics were computed for this run, and no warning recorded why.",
            cls="banner",
        ),
    )


def _ordered_categories(scalars: Sequence[Scalar]) -> list[str]:
    present = list(dict.fromkeys(s.category for s in scalars))
    return [c for c in CATEGORY_ORDER if c in present] + [c for c in present if c not in CATEGORY_ORDER]


def _card(scalar: Scalar) -> Html:
    tags = element("span", "estimated from video", cls="badge estimated") if scalar.estimated_from_video else None
    reason = scalar.reason if not scalar.available and scalar.reason and scalar.reason not in scalar.display else None
    body = element("div", scalar.display, cls="value" if scalar.available else "value unavailable")
    return element(
        "div",
        element("div", readable_name(scalar.name), cls="name"),
        body,
        element("div", "Why: ", reason, cls="small") if reason else None,
        element("div", scalar.convention, cls="convention") if scalar.convention else None,
        tags,
        cls="card" if scalar.available else "card off",
        title=f"{scalar.name}: {scalar.convention}" if scalar.convention else scalar.name,
    )


_EXTREMES = ("min", "max", "range")


def _range_of_motion_table(scalars: Sequence[Scalar]) -> tuple[Html | None, list[Scalar]]:
    """One row per angle for its ``<angle>_{min,max,range}_deg`` scalars; the other scalars are returned."""
    by_angle: dict[str, dict[str, Scalar]] = {}
    rest = []
    for scalar in scalars:
        stem, _, extreme = scalar.name.removesuffix("_deg").rpartition("_")
        if scalar.name.endswith("_deg") and extreme in _EXTREMES and stem:
            by_angle.setdefault(stem, {})[extreme] = scalar
        else:
            rest.append(scalar)
    if not by_angle:
        return None, rest

    def cell(scalar: Scalar | None) -> Html:
        if scalar is None:
            return element("span", "—")
        return element("span", scalar.display, title=scalar.convention, cls="" if scalar.available else "off")

    rows = [
        [readable_name(angle), *(cell(extremes.get(extreme)) for extreme in _EXTREMES)]
        for angle, extremes in by_angle.items()
    ]
    note = element("p", "Range of motion over the clip; conventions in the Angles section and on hover.", cls="small")
    return element("div", note, _grid(["Angle", "Minimum", "Maximum", "Range"], rows)), rest


def _category_block(category: str, scalars: Sequence[Scalar]) -> list[Html]:
    table, rest = _range_of_motion_table(scalars) if category == "kinematics" else (None, list(scalars))
    cards = element("div", *(_card(s) for s in rest), cls="cards") if rest else None
    return [element("h3", category.replace("_", " ").capitalize()), *(part for part in (table, cards) if part)]


def cards_section(biomechanics: BiomechanicsSection) -> Html:
    """Metric cards of the scalars, grouped by category (ranges of motion as one table)."""
    groups = [
        part
        for category in _ordered_categories(biomechanics.scalars)
        for part in _category_block(category, [s for s in biomechanics.scalars if s.category == category])
    ]
    empty = element("p", "No scalar metrics were reported.", cls="note") if not biomechanics.scalars else None
    return _section(
        "metrics", "Metrics", element("p", "Values are ± one standard deviation.", cls="small"), *groups, empty
    )


def _risk_item(flag: RiskFlag) -> Html:
    yellow, red = format_number(flag.yellow_threshold, flag.unit), format_number(flag.red_threshold, flag.unit)
    thresholds = f"yellow at {yellow}, red at {red}"
    where = f" at {format_number(flag.time_s, 's')}" if flag.time_s is not None else ""
    return element(
        "div",
        element("span", flag.level, cls=f"badge {flag.level}"),
        " ",
        element("strong", readable_name(flag.name)),
        f": {flag.display}{where}",
        element("div", "Rule: ", flag.rule, cls="small"),
        element("div", "Thresholds: ", thresholds, cls="small"),
        element(
            "div",
            f"Same level in {flag.level_agreement:.0%} of the uncertainty draws",
            cls="small",
        )
        if flag.level_agreement is not None
        else None,
        element(
            "div",
            "Source: ",
            flag.source,
            " ",
            element("span", "our own heuristic", cls="badge heuristic") if flag.heuristic else None,
            cls="small",
        ),
        element("div", "Why unavailable: ", flag.reason, cls="small") if flag.reason else None,
        cls=f"risk {flag.level}",
    )


def risk_section(biomechanics: BiomechanicsSection) -> Html:
    """Risk flags as coloured badges with rule, thresholds and source, under a not-a-diagnosis banner."""
    flags = [_risk_item(flag) for flag in biomechanics.risk] or [
        element("p", "No risk indicator was evaluated.", cls="note")
    ]
    return _section("risk", "Risk indicators", element("p", RISK_BANNER, cls="banner"), *flags)


def events_section(biomechanics: BiomechanicsSection) -> Html:
    """Foot events and phases as tables (folded)."""
    events = [
        (e.foot, e.kind.replace("_", "-"), format_number(e.time_s, "s", digits=4), e.video_frame, e.row)
        for e in biomechanics.events
    ]
    phases = [
        (
            p.kind,
            p.foot or "—",
            format_number(p.start_s, "s", digits=4),
            format_number(p.end_s, "s", digits=4),
            format_number(p.duration_s, "s"),
        )
        for p in biomechanics.phases
    ]
    return _section(
        "events",
        "Foot events and phases",
        element("p", f"{len(events)} foot events and {len(phases)} phases detected.", cls="small"),
        element("details", element("summary", "Events"), _grid(("foot", "event", "time", "video frame", "row"), events))
        if events
        else None,
        element("details", element("summary", "Phases"), _grid(("phase", "foot", "start", "end", "duration"), phases))
        if phases
        else None,
    )


def angles_section(biomechanics: BiomechanicsSection) -> Html:
    """Definitions and availability of every angle (folded)."""
    rows = [
        (
            a.name,
            a.kind,
            a.convention,
            ", ".join(a.landmarks),
            "yes" if a.available else f"no: {a.reason or 'no reason recorded'}",
        )
        for a in biomechanics.angles
    ]
    return _section(
        "angles",
        "Angle definitions",
        element(
            "details",
            element("summary", f"{len(rows)} angles"),
            _grid(("angle", "kind", "convention", "landmarks", "available"), rows),
        ),
    )


def uncertainty_section(biomechanics: BiomechanicsSection) -> Html:
    """How the ± values were obtained, and the kinetics note."""
    info = biomechanics.uncertainty
    rows = [
        ("Method", info.method),
        ("Draws", info.draws),
        ("Seed", info.seed),
        (
            "Median landmark σ",
            format_number(info.median_landmark_sigma_m, "m") if info.median_landmark_sigma_m is not None else "unknown",
        ),
        ("Kinetics", biomechanics.kinetics_note),
    ]
    return _section("uncertainty", "Uncertainty and kinetics", _table(rows), _list(info.notes, cls="small"))


def warnings_section(analysis: Analysis) -> Html:
    """Every warning of the run and of the biomechanics, once each."""
    extra = analysis.biomechanics.warnings if analysis.biomechanics is not None else []
    warnings = list(dict.fromkeys([*analysis.warnings, *extra]))
    return _section("warnings", "Warnings", _list(warnings) or element("p", "No warnings.", cls="note"))
