"""Phase-aligned time warping of two motions: matched foot events first, then DTW within each phase.

Method (our own procedure)
--------------------------
1. **Angles.** The joint angles both motions observe (or those asked for), in
   :data:`~spacecomputer.athletes._motion.COMPARED_ANGLES` order.
2. **One time step.** Both motions are resampled, by linear interpolation in time, onto uniform grids with the
   finer of their two frame intervals, so that a 24 fps and a 30 fps clip are warped in the same units. Unknown
   angles (NaN) are first filled by linear interpolation in time between the nearest known values (the ends are
   held). The path found on the grids is mapped back to rows at the end: each grid instant to the row nearest
   in time, repeated pairs dropped.
3. **No joint dominates.** Each angle is z-scored with the mean and standard deviation of both motions' values
   pooled, so every joint weighs the same in the DTW distance whatever its range of motion (a knee sweeping
   100° does not drown a trunk that moves 10°). The same shift and scale for both motions keeps their
   differences.
4. **Events.** Foot events are matched by kind and foot: the longest common subsequence of the two motions'
   event labels ("left foot strike", "right toe-off", …, in time order) whose pairs are strictly later in both
   motions than the previous pair and whose intervals from one pair to the next differ by at most a factor
   ``max_tempo_ratio`` (our own constraint, :func:`match_events`: the detected events of a video are noisy, and
   a tempo-blind match pairs a spurious event a few frames after another with a whole stride of the other clip).
5. **Phases.** Both motions are cut at the matched events. Each phase (from one matched event to the next)
   is aligned by multi-dimensional DTW (``dtaidistance.dtw_ndim``: squared Euclidean distance between the
   z-scored angle vectors) with its ends pinned on the events; the phases are concatenated, so every matched
   pair of events lies on the path.
6. **Before the first and after the last matched event.** When both motions have a part there, it is aligned
   open-ended: pinned on the event, free at the clip's start (end). With dtaidistance's psi relaxation the
   path starts at the beginning of one of the two parts and wherever that matches best in the other; the rest
   of the longer part stays unaligned (it has no counterpart). When only one motion has such a part, it is
   left out.
7. **Fallback.** With fewer than two matched events the whole clips are aligned by one DTW with both ends
   pinned (the clips are taken to start and end at corresponding instants), and :attr:`Alignment.note` says so.

The Sakoe–Chiba window of a part of lengths ``n_a``, ``n_b`` (grid samples) is
``max(ceil(window_fraction · max(n_a, n_b)), |n_a − n_b| + 1)``: never narrower than the length difference, so
a path always exists.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Literal

import numpy as np
from dtaidistance import dtw_ndim
from numpy.typing import NDArray

from spacecomputer.errors import IncompatibleMotionError, InvalidInputError

from ._motion import COMPARED_ANGLES, SAGITTAL_ANGLES, Motion, MotionEvent

__all__ = ["AlignedSegment", "Alignment", "align_motions", "common_angles", "match_events"]

_TINY_SD = 1e-9
"""Pooled standard deviation below which an angle is taken as constant (not scaled)."""

_SegmentKind = Literal["lead_in", "phase", "tail", "whole_clip"]
_Part = tuple[_SegmentKind, str, NDArray[np.int64]]
"""A segment's kind, label and path of (grid sample of a, grid sample of b)."""


@dataclass(frozen=True)
class AlignedSegment:
    """One part of an alignment: rows ``a_rows`` of motion a matched to rows ``b_rows`` of b (both inclusive).

    ``kind`` is ``"lead_in"`` (before the first matched event), ``"phase"`` (between two matched events),
    ``"tail"`` (after the last) or ``"whole_clip"``; ``label`` says it in words
    (``"left foot strike → right toe-off"``).
    """

    kind: _SegmentKind
    label: str
    a_rows: tuple[int, int]
    b_rows: tuple[int, int]


@dataclass(frozen=True, eq=False)
class Alignment:
    """How the rows of two motions correspond (module docstring).

    Attributes
    ----------
    path
        (P, 2) int64, read-only: (row in a, row in b) pairs, non-decreasing in both columns, each step
        advancing at least one of them, covering the aligned span.
    method
        ``"phases"`` (cut at matched events) or ``"whole_clip"`` (fallback).
    matched_events
        (event of a, event of b) pairs, in time order; each pair of rows lies on ``path``.
    segments
        The parts the path is made of, in order.
    angles
        Joint angles the warping used.
    note
        What a reader should know (the fallback and why); ``None`` when nothing.
    time_step_s
        Common time step both motions were resampled to for the warping, s.

    """

    path: NDArray[np.int64]
    method: Literal["phases", "whole_clip"]
    matched_events: tuple[tuple[MotionEvent, MotionEvent], ...]
    segments: tuple[AlignedSegment, ...]
    angles: tuple[str, ...]
    note: str | None
    time_step_s: float


def align_motions(
    a: Motion,
    b: Motion,
    *,
    angles: Sequence[str] | None = None,
    window_fraction: float = 0.25,
    max_tempo_ratio: float = 2.0,
) -> Alignment:
    """Align motion ``a`` to motion ``b`` in time: events first, DTW within phases (module docstring).

    Parameters
    ----------
    a, b
        The two motions; their frame rates may differ.
    angles
        Joint angles to warp on; default: every angle both motions observe.
    window_fraction
        Sakoe–Chiba window as a fraction of the longer part's length, in (0, 1]; widened to the parts' length
        difference + 1 sample where that is larger.
    max_tempo_ratio
        Largest factor by which the time between two consecutive matched events may differ between the
        motions (:func:`match_events`); our own default, 2.

    Raises
    ------
    IncompatibleMotionError
        No common angle, or an angle asked for is missing from a motion.
    InvalidInputError
        ``window_fraction`` is not in (0, 1], or ``max_tempo_ratio`` is below 1.

    """
    if not 0.0 < window_fraction <= 1.0:
        raise InvalidInputError(f"window_fraction must be in (0, 1]; got {window_fraction!r}")
    names = common_angles(a, b, angles)
    step_s = min(1.0 / a.pose.fps, 1.0 / b.pose.fps)
    grid_a, grid_b = _Grid.of(a, names, step_s), _Grid.of(b, names, step_s)
    pooled = np.concatenate([grid_a.values, grid_b.values])
    mean, sd = pooled.mean(axis=0), pooled.std(axis=0)
    sd[sd < _TINY_SD] = 1.0
    za, zb = (grid_a.values - mean) / sd, (grid_b.values - mean) / sd

    matched: list[tuple[MotionEvent, MotionEvent]] = []
    anchors: list[tuple[int, int]] = []  # grid samples of the matched events
    for event_a, event_b in match_events(a.events, b.events, max_tempo_ratio=max_tempo_ratio):
        ga, gb = grid_a.index(event_a.time_s), grid_b.index(event_b.time_s)
        if not anchors or (ga > anchors[-1][0] and gb > anchors[-1][1]):
            matched.append((event_a, event_b))
            anchors.append((ga, gb))
    if len(anchors) < 2:
        parts: list[_Part] = [("whole_clip", "whole clip", _warp(za, zb, window_fraction=window_fraction))]
        matched, note = [], _fallback_note(a, b, len(anchors))
    else:
        parts, note = _phase_parts(za, zb, matched, anchors, window_fraction=window_fraction), None

    segments, pieces = [], []
    for kind, label, grid_path in parts:
        rows = np.stack([grid_a.rows[grid_path[:, 0]], grid_b.rows[grid_path[:, 1]]], axis=1)
        a_rows, b_rows = (int(rows[0, 0]), int(rows[-1, 0])), (int(rows[0, 1]), int(rows[-1, 1]))
        segments.append(AlignedSegment(kind=kind, label=label, a_rows=a_rows, b_rows=b_rows))
        pieces.append(rows)
    path = np.concatenate(pieces).astype(np.int64)
    keep = np.concatenate([[True], np.any(np.diff(path, axis=0) != 0, axis=1)])
    path = np.ascontiguousarray(path[keep])
    path.setflags(write=False)
    return Alignment(
        path=path,
        method="phases" if matched else "whole_clip",
        matched_events=tuple(matched),
        segments=tuple(segments),
        angles=names,
        note=note,
        time_step_s=step_s,
    )


def common_angles(a: Motion, b: Motion, angles: Sequence[str] | None = None) -> tuple[str, ...]:
    """Return the joint angles both motions observe, in ``COMPARED_ANGLES`` order.

    By default only the :data:`~spacecomputer.athletes._motion.SAGITTAL_ANGLES`; ``angles`` asks for others.

    Raises
    ------
    IncompatibleMotionError
        An angle asked for is missing from a motion, or the motions share no angle.

    """
    shared = [name for name in COMPARED_ANGLES if name in a.angles_deg and name in b.angles_deg]
    if angles is None:
        shared = [name for name in shared if name in SAGITTAL_ANGLES]
    else:
        missing = sorted(set(angles) - set(shared))
        if missing:
            raise IncompatibleMotionError(
                f"angles {missing} are not observed in both {a.name!r} and {b.name!r}; both have {shared}",
                details={"missing": missing, "common": shared},
            )
        shared = [name for name in shared if name in set(angles)]
    if not shared:
        raise IncompatibleMotionError(
            f"{a.name!r} and {b.name!r} observe no joint angle in common: there is nothing to compare",
            details={"a_angles": sorted(a.angles_deg), "b_angles": sorted(b.angles_deg)},
        )
    return tuple(shared)


def match_events(
    a_events: Sequence[MotionEvent], b_events: Sequence[MotionEvent], *, max_tempo_ratio: float = 2.0
) -> tuple[tuple[MotionEvent, MotionEvent], ...]:
    """Pair the events of two motions: the longest common subsequence of their labels, at a plausible tempo.

    An event of ``a`` pairs with one of ``b`` of the same kind and foot; the pairs are strictly later in both
    motions than the previous pair, and (our own constraint) the time from one pair to the next may differ
    between the motions by at most a factor ``max_tempo_ratio``: without it a spurious event detected a few
    frames after another pairs a short interval of one clip with a whole stride of the other. Among the longest
    such subsequences, the one whose intervals differ least (sum of ``|log(ratio)|``) is returned.

    Examples
    --------
    >>> from spacecomputer.athletes._motion import MotionEvent
    >>> def events(*spec):
    ...     return [MotionEvent(kind, foot, row=int(t * 10), time_s=t) for kind, foot, t in spec]
    >>> a = events(("contact", "left", 0.0), ("toe_off", "left", 0.2), ("contact", "right", 0.5))
    >>> b = events(("contact", "left", 1.0), ("contact", "right", 1.1), ("toe_off", "left", 1.25),
    ...            ("contact", "right", 1.6))
    >>> [(x.time_s, y.time_s) for x, y in match_events(a, b)]
    [(0.0, 1.0), (0.2, 1.25), (0.5, 1.6)]

    """
    if not max_tempo_ratio >= 1.0:
        raise InvalidInputError(f"max_tempo_ratio must be at least 1; got {max_tempo_ratio!r}")
    candidates = [
        (i, j) for i, x in enumerate(a_events) for j, y in enumerate(b_events) if (x.kind, x.foot) == (y.kind, y.foot)
    ]
    if not candidates:
        return ()
    time_a = np.array([a_events[i].time_s for i, _ in candidates])
    time_b = np.array([b_events[j].time_s for _, j in candidates])
    length = np.ones(len(candidates), dtype=np.int64)
    cost = np.zeros(len(candidates))
    previous = np.full(len(candidates), -1, dtype=np.int64)
    limit = math.log(max_tempo_ratio) + 1e-12
    for p in range(len(candidates)):  # candidates are sorted by (i, j): every predecessor comes first
        gap_a, gap_b = time_a[p] - time_a[:p], time_b[p] - time_b[:p]
        with np.errstate(divide="ignore", invalid="ignore"):
            log_ratio = np.abs(np.log(gap_a / gap_b))
        valid = (gap_a > 0) & (gap_b > 0) & (log_ratio <= limit)
        if valid.any():
            q_all = np.flatnonzero(valid)
            order = np.lexsort((cost[q_all] + log_ratio[q_all], -length[q_all]))
            q = int(q_all[order[0]])
            length[p], cost[p], previous[p] = length[q] + 1, cost[q] + log_ratio[q], q
    end = int(np.lexsort((cost, -length))[0])
    chain = []
    while end >= 0:
        chain.append(candidates[end])
        end = int(previous[end])
    return tuple((a_events[i], b_events[j]) for i, j in reversed(chain))


@dataclass(frozen=True, eq=False)
class _Grid:
    """A motion's angles resampled on a uniform time grid, and the row nearest each grid instant."""

    start_s: float
    step_s: float
    rows: NDArray[np.int64]
    values: NDArray[np.float64]

    @classmethod
    def of(cls, motion: Motion, names: Sequence[str], step_s: float) -> _Grid:
        times = motion.timestamps_s
        count = math.floor((times[-1] - times[0]) / step_s + 1e-9) + 1
        grid = times[0] + step_s * np.arange(count)
        if grid[-1] < times[-1] - 1e-9:  # the last frame, less than a step after the last grid instant
            grid = np.append(grid, times[-1])
        columns = []
        for name in names:
            values = motion.angles_deg[name]
            known = np.isfinite(values)
            filled = np.interp(times, times[known], values[known])
            columns.append(np.interp(grid, times, filled))
        values = np.stack(columns, axis=1)
        return cls(start_s=float(times[0]), step_s=step_s, rows=_nearest(times, grid), values=values)

    def index(self, time_s: float) -> int:
        """Grid sample nearest to ``time_s``."""
        return int(np.clip(round((time_s - self.start_s) / self.step_s), 0, len(self.rows) - 1))


def _nearest(times: NDArray[np.float64], query: NDArray[np.float64]) -> NDArray[np.int64]:
    after = np.clip(np.searchsorted(times, query), 1, len(times) - 1)
    before = after - 1
    closer_before = np.abs(query - times[before]) <= np.abs(times[after] - query)
    return np.where(closer_before, before, after).astype(np.int64)


def _phase_parts(
    za: NDArray[np.float64],
    zb: NDArray[np.float64],
    matched: Sequence[tuple[MotionEvent, MotionEvent]],
    anchors: Sequence[tuple[int, int]],
    *,
    window_fraction: float,
) -> list[_Part]:
    """Lead-in (open start), the phases between consecutive anchors, tail (open end): grid paths in order."""
    parts: list[_Part] = []
    (first_a, first_b), (last_a, last_b) = anchors[0], anchors[-1]
    if first_a > 0 and first_b > 0:
        lead = _warp(za[: first_a + 1], zb[: first_b + 1], window_fraction=window_fraction, open_start=True)
        parts.append(("lead_in", f"start → {matched[0][0].label}", lead))
    for k in range(len(anchors) - 1):
        (sa, sb), (ea, eb) = anchors[k], anchors[k + 1]
        phase = _warp(za[sa : ea + 1], zb[sb : eb + 1], window_fraction=window_fraction)
        parts.append(("phase", f"{matched[k][0].label} → {matched[k + 1][0].label}", phase + np.array([sa, sb])))
    if last_a < len(za) - 1 and last_b < len(zb) - 1:  # the tail is a lead-in of the reversed motions
        tail = _warp(za[last_a:][::-1], zb[last_b:][::-1], window_fraction=window_fraction, open_start=True)
        parts.append(("tail", f"{matched[-1][0].label} → end", np.array([len(za) - 1, len(zb) - 1]) - tail[::-1]))
    return parts


def _warp(
    a: NDArray[np.float64], b: NDArray[np.float64], *, window_fraction: float, open_start: bool = False
) -> NDArray[np.int64]:
    """DTW path (L, 2) of local indices from the start (free when ``open_start``) to both ends."""
    n_a, n_b = len(a), len(b)
    window = max(math.ceil(window_fraction * max(n_a, n_b)), abs(n_a - n_b) + 1)
    relax = {"psi": (n_a - 1, 0, n_b - 1, 0)} if open_start else {}
    if a.shape[1] == 1:  # dtaidistance reads a (T, 1) array as one-dimensional and then wants it flat
        a, b = a[:, 0], b[:, 0]
    path = dtw_ndim.warping_path(np.ascontiguousarray(a), np.ascontiguousarray(b), use_c=True, window=window, **relax)
    return np.asarray(path, dtype=np.int64).reshape(-1, 2)


def _fallback_note(a: Motion, b: Motion, matched: int) -> str:
    if not a.events or not b.events:
        without = " and ".join(f"{m.name!r}" for m in (a, b) if not m.events)
        reason = f"{without} {'has' if without.count(' and ') == 0 else 'have'} no foot events"
    else:
        reason = f"only {matched} foot event{'s' if matched != 1 else ''} could be matched between the two motions"
    return f"{reason}: aligned by DTW over the whole clip, its start and end pinned to the other's"
