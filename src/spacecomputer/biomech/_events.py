"""Foot contact and toe-off, contact and flight phases, from a metric pose sequence and the up direction.

The rule (our own definition, not taken from a publication)
-----------------------------------------------------------
A foot is *in contact* in a frame when its heel or its toe (BlazePose ``heel`` / ``foot_index``) is both

- *low*: less than ``height_threshold_m`` (default 0.06 m) above the local ground level, and
- *nearly still vertically*: its speed along ``up`` is below ``speed_threshold_m_s`` (default 1.0 m/s).

Only the vertical speed is used: monocular depth makes the horizontal motion of the whole skeleton noisy (on
``data/videos/sports2d-demo.mp4``, standing on the box, the heel's 3-D speed read 1–3 m/s while its vertical
speed stayed mostly under 0.7 m/s), and the height criterion already tells a low foot from a swinging one.

Either point may carry the contact, so a heel strike (heel still, toe still falling) and a push-off (toe
still, heel rising) both count. Published kinematic event detectors exist — e.g. Zeni, Richards and
Higginson (2008), *Two simple methods for determining gait events during treadmill and overground walking
using kinematic data*, Gait & Posture 27(4):710–714, which use the feet's position relative to the pelvis —
but they are made for walking; ours also covers jumps and landings, and its thresholds are our own choice.

*Ground level*: heights are ``position · up``. In every frame, the lower of the heel and toe heights of the
two feet is taken; the ground level of a frame is the ``ground_percentile`` (default 5th) percentile of
those lowest heights over a centred window of ``ground_window_s`` (default 1.0 s), within the contiguous run
of frames where the feet are seen. A local ground follows a box top, a slope or a slowly drifting
calibration; it assumes the athlete touches the ground within every window (a flight longer than about half
the window raises the ground level into the air and is missed).

*Against jitter*: after the per-frame rule, airborne runs shorter than ``min_airborne_s`` between two contact
runs are filled, then contact runs shorter than ``min_contact_s`` are removed (defaults 0.05 s each).

*Gaps*: a foot's state is *unknown* in a frame where its heel or toe is missing (NaN), its speed cannot be
computed, or no ground level is available. An event is only placed between two consecutive frames whose
states are both known; no event is invented across a gap or at the start or end of the clip.

The event and phase conventions, and the types that carry them, are in :mod:`spacecomputer.biomech._events_types`.
"""

from __future__ import annotations

from typing import Literal

import numpy as np
from numpy.typing import ArrayLike, NDArray

from spacecomputer.biomech._events_types import (
    FEET,
    FootContacts,
    FootEvent,
    Phase,
    up_unit_vector,
)
from spacecomputer.biomech._events_types import Foot as Foot
from spacecomputer.biomech._kinematics import linear_velocity_m_s
from spacecomputer.biomech._memo import per_sequence, readonly
from spacecomputer.domain import PoseSequence
from spacecomputer.domain._runs import contiguous_runs
from spacecomputer.errors import InvalidInputError, InvalidPoseDataError

__all__ = [
    "FEET",
    "FootContacts",
    "FootEvent",
    "Phase",
    "contact_phases",
    "detect_foot_contacts",
    "detect_foot_events",
    "flight_phases",
    "up_unit_vector",
]


def _positive(value: float, name: str) -> float:
    if not (np.isfinite(value) and value > 0):
        raise InvalidInputError(f"{name} must be a positive finite number; got {value!r}", details={name: value})
    return float(value)


def detect_foot_contacts(
    sequence: PoseSequence,
    *,
    up: ArrayLike,
    height_threshold_m: float = 0.06,
    speed_threshold_m_s: float = 1.0,
    min_contact_s: float = 0.05,
    min_airborne_s: float = 0.05,
    ground_window_s: float = 1.0,
    ground_percentile: float = 5.0,
) -> FootContacts:
    """Decide, frame by frame, which foot touches the ground (rule and defaults in the module docstring).

    Parameters
    ----------
    sequence
        Metric pose sequence (``hip_centred``, ``camera`` or ``world``) on the BlazePose skeleton.
    up
        Unit 3-vector pointing up in the sequence's frame (``(0, -1, 0)`` for a level OpenCV camera,
        ``(0, 0, 1)`` for a z-up world).
    height_threshold_m, speed_threshold_m_s
        A heel or toe lower than this above the ground (m) and slower than this along ``up`` (m/s)
        is in contact.
    min_contact_s, min_airborne_s
        Shorter contact runs are dropped, shorter airborne runs between contacts are filled, s.
    ground_window_s
        Width of the centred window over which the ground level is taken, s.
    ground_percentile
        Percentile (0–100) of the lowest foot heights in the window taken as the ground level.

    Returns
    -------
    FootContacts
        The states and events; with ``unavailable_reason`` set when the feet are never seen, or the clip
        has fewer than 3 frames. Computed once per sequence, ``up`` and tuning, and shared: its arrays are
        read-only.

    Raises
    ------
    InvalidPoseDataError
        If the sequence is not metric or lacks the heel and foot index landmarks.
    InvalidInputError
        If ``up`` is not a unit vector or a threshold is not positive.

    """
    up_unit = up_unit_vector(up)
    for value, name in (
        (height_threshold_m, "height_threshold_m"),
        (speed_threshold_m_s, "speed_threshold_m_s"),
        (min_contact_s, "min_contact_s"),
        (min_airborne_s, "min_airborne_s"),
        (ground_window_s, "ground_window_s"),
    ):
        _positive(value, name)
    if not 0.0 <= ground_percentile <= 100.0:
        raise InvalidInputError(f"ground_percentile must lie in [0, 100]; got {ground_percentile!r}")
    sequence.require_metric("foot events")
    tuning = (
        height_threshold_m,
        speed_threshold_m_s,
        min_contact_s,
        min_airborne_s,
        ground_window_s,
        ground_percentile,
    )
    return _contacts(sequence, tuple(float(c) for c in up_unit), *(float(value) for value in tuning))


@per_sequence
def _contacts(
    sequence: PoseSequence,
    up: tuple[float, ...],
    height_threshold_m: float,
    speed_threshold_m_s: float,
    min_contact_s: float,
    min_airborne_s: float,
    ground_window_s: float,
    ground_percentile: float,
) -> FootContacts:
    """Detect the contacts once per sequence, ``up`` and tuning (the result is immutable, so it is shared)."""
    up_unit = np.array(up)
    t = sequence.timestamps_s
    n = sequence.n_frames
    dt_s = float(np.median(np.diff(t))) if n > 1 else 1.0 / sequence.fps
    points = {(foot, part): _joint(sequence, f"{foot}_{part}") for foot in FEET for part in ("heel", "foot_index")}
    heights = {key: p @ up_unit for key, p in points.items()}
    lowest = np.stack(list(heights.values()))
    seen = np.isfinite(lowest)
    lowest_m = np.where(seen.any(axis=0), np.min(np.where(seen, lowest, np.inf), axis=0), np.nan)
    window = max(1, round(ground_window_s / dt_s))
    ground_m = _rolling_low_percentile(lowest_m, half_width=window // 2, percentile=ground_percentile)
    in_contact = np.zeros((n, 2), dtype=bool)
    known = np.zeros((n, 2), dtype=bool)
    if n >= 3:
        for column, foot in enumerate(FEET):
            raw = np.zeros(n, dtype=bool)
            foot_known = np.isfinite(ground_m)
            for part in ("heel", "foot_index"):
                speed = np.abs(linear_velocity_m_s(heights[foot, part], t))
                clearance = heights[foot, part] - ground_m
                foot_known &= np.isfinite(speed) & np.isfinite(clearance)
                with np.errstate(invalid="ignore"):
                    raw |= (clearance < height_threshold_m) & (speed < speed_threshold_m_s)
            cleaned = _debounce(raw, foot_known, min_contact=min_contact_s / dt_s, min_airborne=min_airborne_s / dt_s)
            in_contact[:, column] = cleaned & foot_known
            known[:, column] = foot_known
    reason = None
    if n < 3:
        reason = f"foot contacts need at least 3 frames (velocities); got {n}"
    elif not known.any():
        reason = "the heel and foot index landmarks are never all seen, so no foot contact can be decided"
    return FootContacts(
        in_contact=readonly(in_contact),
        known=readonly(known),
        ground_level_m=readonly(ground_m),
        timestamps_s=t,
        events=_events(in_contact, known, t),
        unavailable_reason=reason,
    )


def detect_foot_events(sequence: PoseSequence, *, up: ArrayLike, **tuning: float) -> list[FootEvent]:
    """Return the contact and toe-off events of both feet in time order.

    Parameters are those of :func:`detect_foot_contacts` (tuning by keyword only). A clip where the feet
    are never seen gives an empty list; use :func:`detect_foot_contacts` to learn why.
    """
    return list(detect_foot_contacts(sequence, up=up, **tuning).events)


def contact_phases(contacts: FootContacts) -> list[Phase]:
    """Return every complete ground contact (initial contact → toe-off of the same foot), in time order.

    A contact that starts or ends in a gap or at the clip's ends is not complete and is left out.
    """
    phases = []
    for column, foot in enumerate(FEET):
        state = np.where(contacts.known[:, column], contacts.in_contact[:, column].astype(np.int8), -1)
        phases += [
            _phase("contact", foot, start, stop, contacts.timestamps_s) for start, stop in _bounded_runs(state, 1, 0)
        ]
    return sorted(phases, key=lambda p: (p.start_index, p.foot or ""))


def flight_phases(contacts: FootContacts) -> list[Phase]:
    """Return every flight (both feet known and airborne) bounded by known contact frames, in time order.

    Each flight's ``start_index`` is the take-off frame and its ``end_index`` the landing frame.
    """
    both_known = contacts.known.all(axis=1)
    airborne = both_known & ~contacts.in_contact.any(axis=1)
    touching = (contacts.in_contact & contacts.known).any(axis=1)
    state = np.where(airborne, 1, np.where(touching, 0, -1)).astype(np.int8)
    return [_phase("flight", None, start, stop, contacts.timestamps_s) for start, stop in _bounded_runs(state, 1, 0)]


# --- internals --------------------------------------------------------------------------------------------------


def _joint(sequence: PoseSequence, name: str) -> NDArray[np.float64]:
    try:
        return np.asarray(sequence.joint(name), dtype=np.float64)
    except KeyError:
        raise InvalidPoseDataError(
            f"foot events need the BlazePose landmark {name!r}; skeleton {sequence.skeleton.name!r} lacks it",
            details={"skeleton": sequence.skeleton.name, "missing": name},
        ) from None


def _rolling_low_percentile(values: NDArray[np.float64], *, half_width: int, percentile: float) -> NDArray[np.float64]:
    """Percentile of the finite values in a centred window, computed within each contiguous finite run.

    A window that reaches past an end of the run holds only the run's values inside it. Each window is sorted
    (far faster than the selection ``numpy.percentile`` does for many short rows) and the percentile taken with
    ``numpy.percentile``'s default rule (:func:`_percentile_of_sorted`).
    """
    out = np.full(values.shape, np.nan)
    width = 2 * half_width + 1
    for start, stop in contiguous_runs(np.isfinite(values)):
        run = values[start:stop]
        n = run.size
        lows = np.maximum(np.arange(n) - half_width, 0)
        counts = np.minimum(np.arange(n) + half_width + 1, n) - lows
        full = counts == width
        result = np.empty(n)
        if full.any():
            windows = np.sort(np.lib.stride_tricks.sliding_window_view(run, width), axis=1)
            result[full] = _percentile_of_sorted(windows, counts[full], percentile)
        if not full.all():  # the windows at the run's ends, padded with +inf, which sorts last
            rows = np.flatnonzero(~full)
            offsets = np.arange(min(width, n))
            inside = offsets < counts[rows, None]
            padded = np.where(inside, run[np.minimum(lows[rows, None] + offsets, n - 1)], np.inf)
            result[rows] = _percentile_of_sorted(np.sort(padded, axis=1), counts[rows], percentile)
        out[start:stop] = result
    return out


def _percentile_of_sorted(
    rows: NDArray[np.float64], counts: NDArray[np.intp], percentile: float
) -> NDArray[np.float64]:
    """Percentile of the first ``counts`` values of each sorted row, by ``numpy.percentile``'s linear rule.

    Its steps, operation for operation (``numpy/lib/_function_base_impl.py``: ``_quantile``, ``_get_indexes``,
    ``_lerp``): virtual index ``(n − 1) q``, the values at its floor and the next index, interpolated as
    ``a + (b − a) γ``, or ``b − (b − a)(1 − γ)`` when ``γ ≥ 0.5``.
    """
    quantile = percentile / 100.0
    virtual = (counts - 1) * quantile
    previous = np.floor(virtual)
    last = virtual >= counts - 1
    below = np.where(last, counts - 1, previous).astype(np.intp)
    above = np.where(last, counts - 1, previous + 1).astype(np.intp)
    gamma = virtual - np.where(last, -1.0, previous)
    index = np.arange(rows.shape[0])
    a, b = rows[index, below], rows[index, above]
    difference = b - a
    return np.asarray(np.where(gamma >= 0.5, b - difference * (1 - gamma), a + difference * gamma), dtype=np.float64)


def _debounce(
    raw: NDArray[np.bool_], known: NDArray[np.bool_], *, min_contact: float, min_airborne: float
) -> NDArray[np.bool_]:
    """Fill short airborne runs between contacts, then drop short contact runs, within each known run."""
    out = raw & known
    for start, stop in contiguous_runs(known):
        segment = out[start:stop]
        for a, b in contiguous_runs(~segment):
            if a > 0 and b < segment.size and b - a < min_airborne:
                segment[a:b] = True
        for a, b in contiguous_runs(segment):
            if b - a < min_contact:
                segment[a:b] = False
    return out


def _events(in_contact: NDArray[np.bool_], known: NDArray[np.bool_], t: NDArray[np.float64]) -> tuple[FootEvent, ...]:
    events = []
    for column, foot in enumerate(FEET):
        both = known[1:, column] & known[:-1, column]
        change = in_contact[1:, column].astype(np.int8) - in_contact[:-1, column].astype(np.int8)
        for i in np.flatnonzero(both & (change != 0)) + 1:
            kind: Literal["contact", "toe_off"] = "contact" if in_contact[i, column] else "toe_off"
            events.append(FootEvent(foot=foot, kind=kind, frame_index=int(i), time_s=float(t[i])))
    return tuple(sorted(events, key=lambda e: (e.frame_index, e.foot)))


def _bounded_runs(state: NDArray[np.int8], inside: int, outside: int) -> list[tuple[int, int]]:
    """Return the runs of ``state == inside`` preceded and followed by a frame with ``state == outside``."""
    n = state.size
    return [
        (start, stop)
        for start, stop in contiguous_runs(state == inside)
        if start > 0 and stop < n and state[start - 1] == outside and state[stop] == outside
    ]


def _phase(
    kind: Literal["contact", "flight"], foot: Foot | None, start: int, stop: int, t: NDArray[np.float64]
) -> Phase:
    return Phase(
        kind=kind,
        foot=foot,
        start_index=start,
        end_index=stop,
        start_s=float(t[start]),
        end_s=float(t[stop]),
        duration_s=float(t[stop] - t[start]),
    )
