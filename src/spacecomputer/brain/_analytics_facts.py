"""Build :class:`~spacecomputer.brain.Fact` s from the parts of a run: scalars, metrics.csv cells, events, risk.

Every fact's ``numbers`` are the numbers written in its label, display, note and provenance, plus its time (two
decimals, as :func:`fact_sentence` writes it) and its video frame, so that an answer may state any number the fact
shows and nothing else. Times are written with two decimals; the frame number says exactly which frame was meant.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from spacecomputer.biomech import format_measurement
from spacecomputer.biomech._analyze import is_reliable, unreliable_because
from spacecomputer.brain._types import Fact, Provenance
from spacecomputer.brain._validate import numbers_in
from spacecomputer.domain._analysis_biomech import PhaseInfo, RiskFlag, Scalar

__all__ = [
    "Instant",
    "Resolution",
    "fact_sentence",
    "instant_fact",
    "make_fact",
    "phase_fact",
    "risk_fact",
    "scalar_fact",
    "seconds_text",
    "series_statistic_fact",
    "series_value_fact",
    "unique",
]


@dataclass(frozen=True)
class Resolution:
    """What a run says about a question's entities: facts, or a question back, or why it cannot say."""

    facts: tuple[Fact, ...] = ()
    metric: str | None = None
    """Side-free name of what was resolved (``knee_flexion``, ``com_speed``, ``contact``, a risk family)."""
    clarification: str | None = None
    """The entities name nothing this run has: a question back listing the valid choices."""
    unavailable: str | None = None
    """The run has the quantity (for some side) but could not compute or observe it: the analysis' reason."""


@dataclass(frozen=True)
class Instant:
    """A row of metrics.csv: its video frame and time."""

    row: int
    frame: int | None
    time_s: float


def seconds_text(time_s: float) -> str:
    """Write a time as facts and sentences do: two decimals (``2.41``)."""
    return f"{time_s:.2f}"


def make_fact(
    *,
    key: str,
    label: str,
    value: float | None,
    unit: str,
    display: str,
    provenance: Provenance,
    uncertainty: float | None = None,
    at: Instant | None = None,
    reliable: bool = True,
    estimated_from_video: bool = False,
    note: str | None = None,
) -> Fact:
    """Return a fact whose ``numbers`` hold every number it shows (module docstring)."""
    texts = [label, display, note or "", provenance.locator]
    if at is not None:
        texts += [seconds_text(at.time_s), "" if at.frame is None else str(at.frame)]
    numbers = tuple(dict.fromkeys(float(written) for text in texts for written in numbers_in(text)))
    return Fact(
        key=key,
        label=label,
        value=value,
        unit=unit,
        display=display,
        provenance=provenance,
        uncertainty=uncertainty,
        time_s=None if at is None else at.time_s,
        frame=None if at is None else at.frame,
        row=None if at is None else at.row,
        reliable=reliable,
        estimated_from_video=estimated_from_video,
        note=note,
        numbers=numbers,
    )


def fact_sentence(fact: Fact) -> str:
    """State a fact in one line: ``peak left knee flexion 147.2° ± 8.7° at 2.41 s (frame 72)``.

    An instant (an event, whose value is its time) reads ``left foot contact 1 of 2 at 0.50 s (frame 15)``.
    """
    frame = "" if fact.frame is None else f" (frame {fact.frame})"
    if fact.time_s is None:
        return f"{fact.label} {fact.display}{frame}"
    when = seconds_text(fact.time_s)
    if fact.unit == "s" and fact.value == fact.time_s:
        return f"{fact.label} at {fact.display}{frame}"
    if f"{when} s" in fact.display:
        return f"{fact.label} {fact.display}{frame}"
    return f"{fact.label} {fact.display} at {when} s{frame}"


def _joined(*parts: str | None) -> str | None:
    kept = [part for part in parts if part]
    return "; ".join(kept) if kept else None


def scalar_fact(
    scalar: Scalar, label: str, *, at: Instant | None = None, column: str | None = None, note: str | None = None
) -> Fact:
    """Return the fact of an available ``biomechanics.scalars`` entry, as the analysis displays it.

    ``at`` is the row of ``column`` where the extreme the scalar reports happens, when it was found.
    """
    locator = f"biomechanics.scalars[{scalar.name}]"
    if at is not None and column is not None:
        locator += f"; time from metrics.csv {column} row {at.row}"
    unreliable = None if scalar.reliable else f"unreliable: {unreliable_because(scalar.unit)}"
    return make_fact(
        key=scalar.name,
        label=label,
        value=scalar.value,
        unit=scalar.unit,
        display=scalar.display,
        provenance=Provenance("analysis.json", locator),
        uncertainty=scalar.uncertainty,
        at=at,
        reliable=scalar.reliable,
        estimated_from_video=scalar.estimated_from_video,
        note=_joined(unreliable, note),
    )


def series_value_fact(
    column: str,
    label: str,
    unit: str,
    value: float,
    at: Instant,
    *,
    uncertainty: float | None,
    estimated_from_video: bool,
    note: str | None,
) -> Fact:
    """Return the fact of one metrics.csv cell: the value of ``column`` at row ``at.row``."""
    return make_fact(
        key=f"{column}@{at.row}",
        label=label,
        value=value,
        unit=unit,
        display=format_measurement(value, uncertainty, unit),
        provenance=Provenance("metrics.csv", f"{column} row {at.row}"),
        uncertainty=uncertainty,
        at=at,
        estimated_from_video=estimated_from_video,
        note=note,
    )


def series_statistic_fact(
    column: str, label: str, unit: str, statistic: str, value: float, at: Instant | None, *, estimated_from_video: bool
) -> Fact:
    """Return a statistic of a metrics.csv column, computed here (the analysis reports no uncertainty for it)."""
    where = f"row {at.row}, " if at is not None else ""
    word = {"max": "maximum", "min": "minimum", "mean": "mean", "range": "range"}[statistic]
    return make_fact(
        key=f"{column}:{statistic}",
        label=label,
        value=value,
        unit=unit,
        display=format_measurement(value, None, unit),
        provenance=Provenance("metrics.csv", f"{column} {where}{word} over the clip"),
        at=at,
        estimated_from_video=estimated_from_video,
        note="computed from metrics.csv over the clip; the analysis reports no uncertainty for it",
    )


def instant_fact(key: str, label: str, at: Instant, provenance: Provenance) -> Fact:
    """Return the fact of an instant of the run (a foot event, a take-off, a landing): its value is its time."""
    return make_fact(
        key=key,
        label=label,
        value=at.time_s,
        unit="s",
        display=f"{seconds_text(at.time_s)} s",
        provenance=provenance,
        at=at,
    )


def phase_fact(phase: PhaseInfo, index: int, label: str, start: Instant) -> Fact:
    """Return the duration of a contact or flight phase of ``biomechanics.phases`` (``index``: its place there)."""
    span = f"from {seconds_text(phase.start_s)} s to {seconds_text(phase.end_s)} s"
    return make_fact(
        key=f"phase:{phase.kind}{'' if phase.foot is None else '_' + phase.foot}@{phase.start_row}",
        label=label,
        value=phase.duration_s,
        unit="s",
        display=f"{seconds_text(phase.duration_s)} s, {span}",
        provenance=Provenance("analysis.json", f"biomechanics.phases[{index}]"),
        at=start,
    )


def risk_fact(flag: RiskFlag, label: str, at: Instant | None) -> Fact:
    """Return a risk indicator's fact, with its level, rule, thresholds and their source in the note."""
    thresholds = ", ".join(
        f"{name} {threshold:g} {flag.unit}"
        for name, threshold in (("yellow", flag.yellow_threshold), ("red", flag.red_threshold))
        if threshold is not None
    )
    agreement = (
        None
        if flag.level_agreement is None or flag.level == "unavailable"
        else f"{100 * flag.level_agreement:.0f} % of the uncertainty draws give this level"
    )
    source = flag.source + ("" if not flag.heuristic or "heuristic" in flag.source else " (our own heuristic)")
    reliable = is_reliable(flag.value, flag.uncertainty, flag.unit)
    note = _joined(
        None if reliable else f"unreliable: {unreliable_because(flag.unit)}",
        f"level {flag.level}" if flag.level != "unavailable" else f"unavailable: {flag.reason}",
        f"rule: {flag.rule}",
        f"thresholds: {thresholds}" if thresholds else None,
        agreement,
        f"source: {source}",
        "an indicator, not a diagnosis",
    )
    return make_fact(
        key=flag.name,
        label=label,
        value=flag.value,
        unit=flag.unit,
        display=flag.display,
        provenance=Provenance("analysis.json", f"biomechanics.risk[{flag.name}]"),
        uncertainty=flag.uncertainty,
        at=at,
        reliable=reliable,
        estimated_from_video="estimated from video" in flag.rule,
        note=note,
    )


def unique(facts: Iterable[Fact]) -> tuple[Fact, ...]:
    """Drop repeated facts (the first of each key stays), keeping the order."""
    first: dict[str, Fact] = {}
    for fact in facts:
        first.setdefault(fact.key, fact)
    return tuple(first.values())
