"""The instants of a run the analytics engine reads values at: metrics.csv rows, foot events, flights, contacts."""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import TypeVar

import numpy as np
from numpy.typing import NDArray

from spacecomputer.brain._analytics_facts import Instant, Resolution, instant_fact, phase_fact
from spacecomputer.brain._analytics_text import Clarifier
from spacecomputer.brain._types import Entities, Provenance, QueryContext
from spacecomputer.domain._analysis_biomech import BiomechanicsSection

__all__ = ["Anchor", "Moment", "Timeline"]

T = TypeVar("T")
_FOOT_EVENTS = ("contact", "toe_off")
_FLIGHT_WORDS = {"take_off": "take-off", "landing": "landing", "flight": "flight"}


@dataclass(frozen=True)
class Moment:
    """An instant of an event: where it is, its words, fact key and source, and the foot (``None``: both)."""

    at: Instant
    label: str
    key: str
    provenance: Provenance
    foot: str | None = None


@dataclass(frozen=True)
class Anchor:
    """An instant a value is read at, how to say it, and the foot whose event it is (``None``: any side)."""

    at: Instant
    note: str
    foot: str | None = None


class Timeline:
    """The rows, events and phases of a run with biomechanics (``series``: its metrics.csv columns)."""

    def __init__(
        self, biomechanics: BiomechanicsSection, series: Mapping[str, NDArray[np.float64]], clarifier: Clarifier
    ) -> None:
        self._bio, self._series, self._clarifier = biomechanics, series, clarifier

    def instant(self, row: int, time_s: float | None = None) -> Instant:
        """Return row ``row`` of metrics.csv with its video frame, and its time unless ``time_s`` is given."""
        frames, times = self._series["video_frame"], self._series["time_s"]
        inside = 0 <= row < frames.size
        frame = int(frames[row]) if inside and np.isfinite(frames[row]) else None
        if time_s is None:
            time_s = float(times[row]) if inside else float("nan")
        return Instant(row, frame, time_s)

    def moments(self, event: str, side: str | None, ordinal: int | None = None) -> list[Moment] | Resolution:
        """Return the instants of ``event`` in time order, or a resolution saying why there are none.

        ``ordinal`` keeps one occurrence per foot (1 the first, -1 the last; flights have no foot).
        """
        found: list[Moment] = []
        if event in _FOOT_EVENTS:
            word = "contact" if event == "contact" else "toe-off"
            feet = (side,) if side in ("left", "right") else ("left", "right")
            for foot in feet:
                matching = [(i, e) for i, e in enumerate(self._bio.events) if e.kind == event and e.foot == foot]
                found += [
                    Moment(
                        Instant(e.row, e.video_frame, e.time_s),
                        f"{foot} foot {word} {k} of {len(matching)}",
                        f"event:{foot}_{event}@{e.row}",
                        Provenance("analysis.json", f"biomechanics.events[{i}]"),
                        foot,
                    )
                    for k, (i, e) in enumerate(matching, start=1)
                ]
            missing = f"no {' or '.join(feet)} foot {word} was detected in this run"
        elif event in _FLIGHT_WORDS:
            word = _FLIGHT_WORDS[event]
            flights = [(i, p) for i, p in enumerate(self._bio.phases) if p.kind == "flight"]
            for k, (i, phase) in enumerate(flights, start=1):
                row, time_s = (phase.end_row, phase.end_s) if event == "landing" else (phase.start_row, phase.start_s)
                where = Provenance("analysis.json", f"biomechanics.phases[{i}]")
                found.append(
                    Moment(self.instant(row, time_s), f"{word} {k} of {len(flights)}", f"{event}@{row}", where)
                )
            missing = f"no flight (both feet off the ground) was detected in this run, so no {word}"
        else:
            return Resolution(metric=event, clarification=self._clarifier.events(event))
        if not found:
            return Resolution(metric=event, unavailable=missing + self._clarifier.contact_warnings())
        found = sorted(found, key=lambda moment: moment.at.time_s)
        if ordinal is None:
            return found
        word = _FLIGHT_WORDS.get(event, event.replace("_", "-"))
        return _nth(found, ordinal, lambda m: m.foot) or _none_numbered(len(found), word, ordinal, event)

    def events(self, event: str, side: str | None, ordinal: int | None = None) -> Resolution:
        """Return one fact per matching event (``ordinal``: that occurrence): its time (a flight: its duration)."""
        moments = self.moments(event, side, ordinal)
        if isinstance(moments, Resolution):
            return moments
        if event != "flight":
            return Resolution(tuple(instant_fact(m.key, m.label, m.at, m.provenance) for m in moments), event)
        flights = {f"biomechanics.phases[{i}]": (i, p) for i, p in enumerate(self._bio.phases) if p.kind == "flight"}
        facts = [
            phase_fact(phase, i, f"duration of {moment.label}", moment.at)
            for moment in moments
            for i, phase in [flights[moment.provenance.locator]]
        ]
        return Resolution(tuple(facts), event)

    def phases(self, kind: str, side: str | None, *, metric: str, ordinal: int | None = None) -> Resolution:
        """Return the duration of every ``kind`` phase (``contact`` of the foot ``side``, or ``flight``).

        ``ordinal`` keeps one phase per foot (1 the first, -1 the last).
        """
        feet = (side,) if kind == "contact" and side in ("left", "right") else ("left", "right", None)
        chosen = [(i, p) for i, p in enumerate(self._bio.phases) if p.kind == kind and p.foot in feet]
        picked = chosen if ordinal is None else _nth(chosen, ordinal, lambda item: item[1].foot)
        if chosen and not picked and ordinal is not None:
            return _none_numbered(len(chosen), f"{kind} phase", ordinal, metric)
        facts = []
        for i, phase in picked:
            same = [p for _, p in chosen if p.foot == phase.foot]
            owner = f"{phase.foot} foot contact" if phase.foot else "flight"
            label = f"duration of {owner} {same.index(phase) + 1} of {len(same)}"
            facts.append(phase_fact(phase, i, label, self.instant(phase.start_row, phase.start_s)))
        missing = None if facts else f"no {kind} phase was detected in this run{self._clarifier.contact_warnings()}"
        return Resolution(tuple(facts), metric, None, missing)

    def instants(self, entities: Entities, context: QueryContext) -> Resolution:
        """Return the instant a question names by frame or time alone: its row, video frame and time."""
        anchors = self.anchors(entities, context, "instant")
        if isinstance(anchors, Resolution):
            return anchors
        facts = tuple(
            instant_fact(
                f"instant@{anchor.at.row}",
                f"video frame {anchor.at.frame}",
                anchor.at,
                Provenance("metrics.csv", f"time_s row {anchor.at.row}"),
            )
            for anchor in anchors
        )
        return Resolution(facts, "instant")

    def anchors(self, entities: Entities, context: QueryContext, metric: str) -> list[Anchor] | Resolution:
        """Return the instants a value is asked at (module docstring of the engine); ``[]`` when none is named."""
        frames, times = self._series["video_frame"], self._series["time_s"]
        on_screen = entities.time_s is None and entities.event is None and context.frame is not None
        if entities.frame is not None or on_screen:
            frame = entities.frame if entities.frame is not None else context.frame
            rows = np.flatnonzero(frames == frame)
            if rows.size == 0:
                span = self._clarifier.span()
                return Resolution(metric=metric, clarification=f"Frame {frame} is not in this run: {span}. Which?")
            where = f"at frame {frame}" if entities.frame is not None else f"at frame {frame}, on screen"
            return [Anchor(self.instant(int(rows[0])), where)]
        if entities.time_s is not None:
            step = float(np.median(np.diff(times))) if times.size > 1 else 0.0
            if not times[0] - step <= entities.time_s <= times[-1] + step:
                span = self._clarifier.span()
                return Resolution(metric=metric, clarification=f"{entities.time_s:g} s is outside this run: {span}.")
            row = int(np.nanargmin(np.abs(times - entities.time_s)))
            return [Anchor(self.instant(row), f"at the frame nearest to {entities.time_s:g} s")]
        if entities.event is not None:
            moments = self.moments(entities.event, entities.side, entities.ordinal)
            if isinstance(moments, Resolution):
                return Resolution(metric=metric, clarification=moments.clarification, unavailable=moments.unavailable)
            return [Anchor(m.at, f"at {m.label}", m.foot) for m in moments]
        if entities.statistic == "value":
            return Resolution(metric=metric, clarification=f"At which time, frame or event? {self._clarifier.span()}.")
        return []


def _nth(items: Sequence[T], ordinal: int, foot: Callable[[T], str | None]) -> list[T]:
    """Keep occurrence ``ordinal`` (1 first, -1 last) of each foot's items, in time order; none where it has fewer."""
    kept = []
    for side in dict.fromkeys(map(foot, items)):
        own = [item for item in items if foot(item) == side]
        index = ordinal - 1 if ordinal > 0 else ordinal
        if -len(own) <= index < len(own):
            kept.append(own[index])
    return kept


def _none_numbered(count: int, word: str, ordinal: int, metric: str) -> Resolution:
    return Resolution(metric=metric, unavailable=f"this run has only {count} {word} events, no number {ordinal}")
