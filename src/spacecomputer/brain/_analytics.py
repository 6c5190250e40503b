"""The analytics engine: exact answers read from a run's own files, every number with the field it came from.

:meth:`RunFacts.load` reads a run directory written by ``spacecomputer analyze`` once: ``analysis.json``,
``metrics.csv`` and, for the per-frame uncertainty of the joint angles, ``poses.parquet``. :meth:`RunFacts.resolve`
turns a question's :class:`~spacecomputer.brain.Entities` into :class:`~spacecomputer.brain.Fact` s, a question back
(the entities name nothing this run has) or the reason the run cannot say (not observable, not computed). The
combinations resolved are listed in :mod:`spacecomputer.brain._analytics_vocab`.

Rules:

- **Whole-clip statistics** (max, min, range, mean) come from the analysis' scalar where it has one, displayed as
  the analysis prints it. For max and min, the time and video frame are those of the first metrics.csv row that
  holds the extreme, once the column's own extreme is checked to equal the scalar within the CSV's rounding (6
  significant digits). When it does not (the column covers other frames than the scalar did), the scalar is stated
  without a time and its note says so. A statistic without a scalar (the mean of an angle, any statistic of an
  angular velocity) is computed from the column over the clip, without an uncertainty, and the fact says so.
- **Value at an instant**: the metrics.csv cell at the row of a video frame, of the time asked (nearest row), of
  each matching event (a foot's events go with that side's quantities), or of the frame on screen
  (``QueryContext.frame``). A joint angle carries its measurement uncertainty in a typical frame, measured by
  :func:`spacecomputer.athletes.motion_from_run` from the run's landmark jitter; the run records no per-frame
  uncertainty of any other series, so those values have none and their note says so.
- **Nothing named**: entities naming no metric, event or instant resolve to no facts and no question back (the
  caller answers with :meth:`RunFacts.overview`); a frame or time alone resolves to that instant (row, frame, time).
- **Defaults**: the joint selected in the viewer (``QueryContext.joint``) stands for a joint the question does not
  name, unless it asks about the whole body, an event or a risk indicator. No side (or ``both``) means both sides,
  one fact each. No statistic means the value at an instant
  when the question or the viewer names one, else every statistic the analysis has a scalar for. A whole-clip
  statistic asked together with an event is taken over the whole clip.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from pathlib import Path

import numpy as np
from numpy.typing import NDArray

from spacecomputer._outputs import read_metrics_csv
from spacecomputer.athletes import load_run_analysis, motion_from_run
from spacecomputer.brain._analytics_facts import (
    Resolution,
    fact_sentence,
    make_fact,
    risk_fact,
    scalar_fact,
    unique,
)
from spacecomputer.brain._analytics_series import WHOLE_CLIP, SeriesReader, default_statistics
from spacecomputer.brain._analytics_text import Clarifier, clip_scalar_label, companions
from spacecomputer.brain._analytics_timeline import Anchor, Timeline
from spacecomputer.brain._analytics_vocab import (
    BILATERAL_JOINTS,
    DEFAULT_ANGLE,
    HEADLINE_SCALARS,
    WHOLE_BODY_QUANTITIES,
    MetricSpec,
    canonical_quantity,
    metric_specs,
    risk_label,
)
from spacecomputer.brain._types import Entities, Fact, Provenance, QueryContext, Side
from spacecomputer.domain._analysis import Analysis
from spacecomputer.errors import InvalidInputError, SpaceComputerError

__all__ = ["Resolution", "RunFacts", "fact_sentence"]

_INDEX_COLUMNS = ("row", "video_frame", "time_s")


class RunFacts:
    """A run directory read once, answering look-ups (module docstring). Build it with :meth:`load`."""

    def __init__(
        self,
        run_dir: Path,
        analysis: Analysis,
        series: Mapping[str, NDArray[np.float64]],
        *,
        angle_sd_deg: Mapping[str, float],
        angle_sd_reason: str | None,
    ) -> None:
        self.run_dir = run_dir
        self.analysis = analysis
        self.series = series
        self.angle_sd_deg = angle_sd_deg
        self.angle_sd_reason = angle_sd_reason
        self._bio = analysis.biomechanics
        self._scalars = {s.name: s for s in self._bio.scalars} if self._bio else {}
        self._angles = {a.name: a for a in self._bio.angles} if self._bio else {}
        self._clarifier = Clarifier(self._angles, self._scalars, series, self._bio)
        self._timeline = None if self._bio is None else Timeline(self._bio, series, self._clarifier)
        self._reader = (
            None
            if self._timeline is None
            else SeriesReader(
                self._scalars, series, self._timeline, angle_sd_deg=angle_sd_deg, angle_sd_reason=angle_sd_reason
            )
        )

    @classmethod
    def load(cls, run_dir: Path) -> RunFacts:
        """Read ``analysis.json``, ``metrics.csv`` and the joint angles' per-frame uncertainty of a run directory.

        A run without biomechanics loads; every look-up then says why nothing is available.

        Raises
        ------
        NotFoundError
            The directory, its ``analysis.json``, or the ``metrics.csv`` its analysis names does not exist.
        InvalidInputError
            ``analysis.json`` is not a valid analysis document, or ``metrics.csv`` is not a valid metrics table
            (not numbers, ragged rows, no ``row``/``video_frame``/``time_s`` column).

        """
        run = Path(run_dir)
        analysis = load_run_analysis(run)
        series: dict[str, NDArray[np.float64]] = {}
        if analysis.biomechanics is not None:
            path = run / (analysis.files.metrics or "metrics.csv")
            series = read_metrics_csv(path)
            missing = [name for name in _INDEX_COLUMNS if name not in series]
            if missing:
                raise InvalidInputError(
                    f"{path} lacks the columns {missing}: a metrics.csv starts with row, video_frame and time_s",
                    details={"path": str(path), "missing": missing},
                )
        sd, reason = _angle_uncertainty(run, analysis)
        return cls(run, analysis, series, angle_sd_deg=sd, angle_sd_reason=reason)

    # --- look-ups ------------------------------------------------------------------------------------------------

    def resolve(self, entities: Entities, context: QueryContext | None = None) -> Resolution:
        """Turn a question's entities into facts of this run (module docstring), a question back, or the reason."""
        context = context or QueryContext()
        joint, side = entities.joint, entities.side
        if joint is None and context.joint is not None and _about_a_joint(entities):
            joint, viewed_side = _split_viewer_joint(context.joint)
            side = side or viewed_side
        if self._bio is None or self._timeline is None or self._reader is None:
            return Resolution(unavailable=self._no_biomechanics())
        quantity = None if entities.quantity is None else canonical_quantity(joint, entities.quantity)
        if entities.risk is not None or quantity == "asymmetry":
            return self._risk(entities.risk or "asymmetry", joint, side)
        if joint is not None and joint not in (*BILATERAL_JOINTS, "trunk", "pelvis", "com"):
            return Resolution(clarification=self._clarifier.unknown_joint(joint))
        if quantity is None and joint is None:
            if entities.event == "contact" and (entities.frame is not None or entities.time_s is not None):
                return self._contact_state(entities, context, side)
            if entities.event is not None:
                return self._timeline.events(entities.event, side, entities.ordinal)
            if entities.frame is not None or entities.time_s is not None:
                return self._timeline.instants(entities, context)
            if not entities.unknown_terms:
                return Resolution()  # names no metric: the caller answers with the overview
        if quantity is None:
            if joint is None or joint not in DEFAULT_ANGLE:
                return Resolution(clarification=self._clarifier.what(joint, entities.unknown_terms))
            quantity = DEFAULT_ANGLE[joint]
        sides = _sides(joint, quantity, side)
        specs = metric_specs(joint, quantity, sides)
        if not specs:
            return Resolution(clarification=self._clarifier.combination(joint, quantity))
        if quantity in ("contact_time", "flight_time") and (
            entities.ordinal is not None or not any(name in self._scalars for name in specs[0].clip_scalars)
        ):
            kind = "contact" if quantity == "contact_time" else "flight"
            return self._timeline.phases(kind, side, metric=quantity, ordinal=entities.ordinal)
        return self._resolve_specs(specs, entities, context, self._timeline, self._reader)

    def _contact_state(self, entities: Entities, context: QueryContext, side: str | None) -> Resolution:
        """Which feet are on the ground at a frame or time: ``<side>_contact`` of metrics.csv at that row."""
        assert self._timeline is not None  # checked by resolve
        probe = Entities(frame=entities.frame, time_s=entities.time_s)
        anchors = self._timeline.anchors(probe, context, "contact_state")
        if isinstance(anchors, Resolution):
            return anchors
        facts = []
        for anchor in anchors:
            for foot in ("left", "right") if side in (None, "both") else (side,):
                column = self.series.get(f"{foot}_contact")
                if column is None:
                    continue
                value = float(column[anchor.at.row])
                known = not math.isnan(value)
                state = ("on the ground" if value >= 0.5 else "off the ground") if known else "unknown"
                facts.append(
                    make_fact(
                        key=f"{foot}_contact@{anchor.at.row}",
                        label=f"{foot} foot",
                        value=value if known else None,
                        unit="",
                        display=state,
                        provenance=Provenance("metrics.csv", f"{foot}_contact row {anchor.at.row}"),
                        at=anchor.at,
                    )
                )
        if not facts:
            return Resolution(metric="contact_state", unavailable="this run has no foot-contact columns")
        return Resolution(tuple(facts), "contact_state")

    def overview(self) -> tuple[Fact, ...]:
        """Headline facts of the run: duration, frames, movement, the family's headline scalars, red/yellow risks."""
        video = self.analysis.video
        facts = [
            _analysis_fact("video.duration_s", "clip duration", video.duration_s, "s", f"{video.duration_s:.2f} s"),
            _analysis_fact(
                "video.frame_count",
                "frames",
                video.frame_count,
                "frames",
                f"{video.frame_count} at {video.fps:.1f} fps",
            ),
        ]
        if self._bio is None:
            return tuple(facts)
        movement = self._bio.movement
        confidence = "" if movement.confidence is None else f", confidence {movement.confidence:.2f}"
        facts.append(
            _analysis_fact(
                "biomechanics.movement",
                "movement",
                None,
                "",
                movement.family or "not determined",
                note=f"{movement.source.replace('_', ' ')}{confidence}: {movement.evidence}",
            )
        )
        for name in HEADLINE_SCALARS.get(movement.family or "", ()):
            scalar = self._scalars.get(name)
            if scalar is not None and scalar.available:
                facts.append(scalar_fact(scalar, clip_scalar_label(name)))
        for level in ("red", "yellow"):
            facts += [self._risk_fact(flag.name) for flag in self._bio.risk if flag.level == level]
        return unique(facts)

    def related(self, entities: Entities, context: QueryContext | None = None) -> tuple[Fact, ...]:
        """Facts an explanation of the entities' metric needs: the metric itself, then what it depends on.

        For a joint moment or power, the joint's angle (or angular velocity) at the peak's instant; then the
        companions of :func:`spacecomputer.brain._analytics_text.companions` (ground reaction force peak, contact
        phases, the risk indicators of that joint, the jump's other numbers, …).
        """
        primary = self.resolve(entities, context)
        facts = list(primary.facts)
        joint = entities.joint
        quantity = None if entities.quantity is None else canonical_quantity(joint, entities.quantity)
        if quantity in ("moment", "power") and joint is not None and joint in DEFAULT_ANGLE:
            along = DEFAULT_ANGLE[joint] if quantity == "moment" else "angular_velocity"
            for side in _sides(joint, quantity, entities.side):
                peak = self.resolve(Entities(joint=joint, side=side, quantity=quantity, statistic="max")).facts
                if peak and peak[0].frame is not None:
                    at_peak = Entities(joint=joint, side=side, quantity=along, statistic="value", frame=peak[0].frame)
                    facts += [*peak, *self.resolve(at_peak).facts]
        risk_names = [flag.name for flag in self._bio.risk] if self._bio is not None else []
        for companion in companions(joint, quantity, entities.risk, entities.side, risk_names):
            facts += self.resolve(companion).facts
        return unique(facts)

    # --- quantities ----------------------------------------------------------------------------------------------

    def _resolve_specs(
        self,
        specs: Sequence[MetricSpec],
        entities: Entities,
        context: QueryContext,
        timeline: Timeline,
        reader: SeriesReader,
    ) -> Resolution:
        metric = specs[0].metric
        anchors: list[Anchor] = []
        if entities.statistic not in WHOLE_CLIP:
            found = timeline.anchors(entities, context, metric)
            if not isinstance(found, Resolution):
                anchors = found
            elif any(spec.column is not None for spec in specs):
                return found
        facts: list[Fact] = []
        reasons: list[str] = []
        for spec in specs:
            reason = self._spec_unavailable(spec)
            if reason is not None:
                reasons.append(reason)
                continue
            if anchors:
                reader.values(spec, anchors, facts, reasons)
            else:
                asked = entities.statistic
                for statistic in [asked] if asked is not None and asked in WHOLE_CLIP else default_statistics(spec):
                    reader.statistic(spec, statistic, facts, reasons)
        unavailable = " ".join(r if r.endswith(".") else f"{r}." for r in dict.fromkeys(reasons)) or None
        return Resolution(unique(facts), metric, None, unavailable)

    def _spec_unavailable(self, spec: MetricSpec) -> str | None:
        if spec.angle is not None:
            angle = self._angles.get(spec.angle)
            if angle is None:
                return f"the analysis has no angle {spec.angle}"
            if not angle.available:
                return f"{spec.label}: {angle.reason}"
        if spec.clip_scalars and not any(name in self._scalars for name in spec.clip_scalars):
            family = self._bio.movement.family if self._bio is not None else None
            analysed = f"analysed as a {family}" if family else "analysed without a movement family"
            return f"the analysis computed no {spec.label} for this run ({analysed})"
        known = any(name in self._scalars for name in spec.scalars.values())
        if spec.column is not None and not spec.clip_scalars and spec.column not in self.series and not known:
            return f"metrics.csv has no {spec.column} column: the analysis could not compute {spec.label}"
        return None

    # --- risk ----------------------------------------------------------------------------------------------------

    def _risk(self, family: str, joint: str | None, side: str | None) -> Resolution:
        assert self._bio is not None
        flags = [flag for flag in self._bio.risk if _risk_family(flag.name) == family]
        if family == "asymmetry" and joint is not None:
            flags = [flag for flag in flags if f"_{joint}_" in flag.name]
        if side in ("left", "right"):
            other = "_right" if side == "left" else "_left"
            flags = [flag for flag in flags if not flag.name.endswith(other)]
        if not flags:
            return Resolution(metric=family, clarification=self._clarifier.risks(family))
        facts = tuple(self._risk_fact(flag.name) for flag in flags)
        reasons = [f"{risk_label(flag.name)}: {flag.reason}" for flag in flags if flag.level == "unavailable"]
        return Resolution(facts, family, None, "; ".join(reasons) if len(reasons) == len(flags) else None)

    def _risk_fact(self, name: str) -> Fact:
        assert self._bio is not None
        flag = next(flag for flag in self._bio.risk if flag.name == name)
        at = None if flag.row is None or self._timeline is None else self._timeline.instant(flag.row, flag.time_s)
        return risk_fact(flag, risk_label(flag.name), at)

    def _no_biomechanics(self) -> str:
        why = "; ".join(self.analysis.warnings) or "the analysis could not compute them"
        return f"this run has no biomechanics, so it has no joint angles, forces or events: {why}"


def _angle_uncertainty(run: Path, analysis: Analysis) -> tuple[Mapping[str, float], str | None]:
    """Measure the per-frame uncertainty of the joint angles, degrees, or say why there is none."""
    if analysis.biomechanics is None:
        return {}, "the run has no biomechanics"
    try:
        return dict(motion_from_run(run).angle_sd_deg), None
    except SpaceComputerError as error:
        return {}, error.message


def _analysis_fact(
    field: str, label: str, value: float | None, unit: str, display: str, *, note: str | None = None
) -> Fact:
    return make_fact(
        key=field,
        label=label,
        value=value,
        unit=unit,
        display=display,
        provenance=Provenance("analysis.json", field),
        note=note,
    )


def _about_a_joint(entities: Entities) -> bool:
    """Whether the joint selected in the viewer may stand for the joint the question does not name."""
    if entities.risk is not None:
        return False
    if entities.quantity is None:
        return entities.event is None
    return entities.quantity not in (*WHOLE_BODY_QUANTITIES, "asymmetry")


def _split_viewer_joint(selected: str) -> tuple[str, Side | None]:
    if selected.startswith("left_"):
        return selected.removeprefix("left_"), "left"
    if selected.startswith("right_"):
        return selected.removeprefix("right_"), "right"
    return selected, None


def _sides(joint: str | None, quantity: str, side: Side | None) -> tuple[Side, ...]:
    if joint in BILATERAL_JOINTS or (quantity == "grf" and side is not None):
        return (side,) if side == "left" or side == "right" else ("left", "right")
    return ()


def _risk_family(name: str) -> str:
    if name.startswith("asymmetry_"):
        return "asymmetry"
    return name.removesuffix("_left").removesuffix("_right")
