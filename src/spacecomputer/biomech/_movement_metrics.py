"""Movement metrics by sport, from foot events and the whole-body centre of mass (COM).

Every metric is a :class:`MetricValue` in SI units with its convention; one that cannot be computed is
returned with ``available=False``, ``value=None`` and the reason, never NaN or infinity. "Horizontal" means
perpendicular to ``up``; "vertical" along it. ``g`` is the standard acceleration of gravity,
:data:`STANDARD_GRAVITY_M_S2`. Both are defined in :mod:`~spacecomputer.biomech._movement_metrics_value` and
re-exported here.

=================  ======================================================================================
sport              metrics
=================  ======================================================================================
``sprint``         ``step_length_m`` (mean distance between the feet's positions at consecutive contacts
                   of opposite feet, along the direction of progression: the whole-body COM's horizontal
                   displacement between the two contacts, so the step width does not count; a foot's
                   position is the heel–toe midpoint at its contact frame; a step whose COM moves less than
                   1 mm is left out), ``step_frequency_hz`` (1 / mean time between those contacts; two
                   feet landing in the same frame make no step),
                   ``ground_contact_time_s`` (mean complete contact), ``flight_time_s`` (mean flight),
                   ``com_horizontal_speed_mean_m_s`` and ``com_horizontal_speed_peak_m_s`` (the profile is
                   :func:`com_horizontal_speed_m_s`)
``jump``           over the longest flight: ``jump_flight_time_s``, ``jump_height_flight_time_m``
                   (g·t²/8: a ballistic flight, take-off and landing at the same COM height),
                   ``jump_height_com_rise_m`` (highest COM height in the flight minus that at take-off),
                   ``takeoff_vertical_velocity_m_s`` (from a least-squares ballistic fit, g fixed, to the
                   COM height during the flight, evaluated at the take-off time)
``landing``        ``peak_knee_flexion_deg`` (larger of the two knees) within ``landing_window_s`` after the
                   first contact that ends a flight (the first contact of the clip if none), and
                   ``time_to_peak_knee_flexion_s`` after that contact
``strike``         the fastest strike of the clip, by the hand or the foot point (whichever peaks faster;
                   :mod:`~spacecomputer.biomech._sequencing`): ``end_effector_peak_speed_m_s`` and
                   ``end_effector_peak_time_s``; per segment of the chain (pelvis, thorax, upper arm,
                   forearm, hand; or pelvis, thigh, shank, foot), ``{segment}_peak_angular_speed_deg_s`` and
                   ``{segment}_peak_angular_speed_time_s`` within −0.5 s / +0.15 s of the end effector's
                   peak; ``sequencing_proximal_to_distal`` (1 when every segment peaks strictly after the
                   one before it, else 0) and ``sequencing_lag_{a}_to_{b}_s`` (peak time of ``b`` minus
                   that of ``a``)
``throw``          the same, with the hand as end effector
``None``           sprint, jump, landing and strike (a throw's metrics are a strike's by the hand, so they
                   are not repeated)
=================  ======================================================================================

``sport`` may also be a common sport name (``"tennis"``, ``"high jump"``), turned into its family by
:func:`~spacecomputer.biomech._movement_detect.movement_family`. The side analysed by ``strike`` and ``throw`` is
the faster one unless ``side`` is given; it is named in each metric's convention.
"""

from __future__ import annotations

import itertools
from collections.abc import Callable

import numpy as np
from numpy.typing import ArrayLike, NDArray

from spacecomputer.biomech._body_model import BodyModel, whole_body_com
from spacecomputer.biomech._events import (
    FEET,
    Foot,
    FootContacts,
    contact_phases,
    detect_foot_contacts,
    flight_phases,
    up_unit_vector,
)
from spacecomputer.biomech._kinematics import joint_angles, linear_velocity_m_s, unreliable_position_frames
from spacecomputer.biomech._movement_detect import movement_family
from spacecomputer.biomech._movement_metrics_value import STANDARD_GRAVITY_M_S2, MetricValue
from spacecomputer.biomech._movement_metrics_value import _metric as _metric  # re-exported: _stability imports it
from spacecomputer.biomech._sequencing import (
    SEGMENT_DIRECTIONS,
    WINDOW_AFTER_S,
    WINDOW_BEFORE_S,
    peak_index,
    strike_sequencing,
)
from spacecomputer.domain import PoseSequence
from spacecomputer.errors import InvalidInputError

__all__ = [
    "SPORTS",
    "STANDARD_GRAVITY_M_S2",
    "MetricValue",
    "com_horizontal_speed_m_s",
    "movement_family",
    "movement_metrics",
]

_MIN_PROGRESSION_M = 1e-3
"""A step whose COM travels less than this (on the spot, or unknown) has no direction of progression: our choice."""
SAME_LEVEL_TOLERANCE_M = 0.05
"""Take-off and landing surfaces closer in height than this count as one level (our own tolerance, about the
vertical noise of a foot landmark); beyond it the flight-time jump height is not computed."""
SPORTS = ("sprint", "jump", "landing", "strike", "throw")
"""Movement families :func:`movement_metrics` knows."""


def com_horizontal_speed_m_s(sequence: PoseSequence, *, up: ArrayLike, body_model: BodyModel) -> NDArray[np.float64]:
    """Return the (T,) horizontal speed of the whole-body COM, m/s (NaN where the COM is unknown).

    Central differences on the real timestamps within each NaN-free run (as ``linear_velocity_m_s``); frames
    whose global position was not measured (:func:`unreliable_position_frames`) count as unknown.
    """
    return _horizontal_speed_m_s(whole_body_com(sequence, body_model), sequence, up_unit_vector(up))


def _horizontal_speed_m_s(
    com: NDArray[np.float64], sequence: PoseSequence, up: NDArray[np.float64]
) -> NDArray[np.float64]:
    known = np.where(unreliable_position_frames(sequence)[:, None], np.nan, com)
    velocity = linear_velocity_m_s(known, sequence.timestamps_s)
    horizontal = velocity - np.outer(velocity @ up, up)
    return np.asarray(np.linalg.norm(horizontal, axis=1), dtype=np.float64)


def movement_metrics(
    sequence: PoseSequence,
    *,
    up: ArrayLike,
    sport: str | None,
    body_model: BodyModel,
    contacts: FootContacts | None = None,
    landing_window_s: float = 0.5,
    side: Foot | None = None,
) -> list[MetricValue]:
    """Compute the movement metrics of ``sport`` (table in the module docstring).

    Parameters
    ----------
    sequence
        Metric pose sequence on the BlazePose skeleton.
    up
        Unit 3-vector pointing up in the sequence's frame.
    sport
        A family of :data:`SPORTS`, a sport's name that :func:`movement_family` knows, or ``None`` for all
        families (module docstring).
    body_model
        Segment model for the whole-body COM.
    contacts
        Foot contacts already detected; detected with the defaults of
        :func:`~spacecomputer.biomech._events.detect_foot_contacts` when omitted.
    landing_window_s
        How long after initial contact the peak knee flexion is searched for, s.
    side
        Side analysed by ``strike`` and ``throw``: ``"left"``, ``"right"``, or ``None`` for the faster.

    Raises
    ------
    InvalidInputError
        Unknown sport, ``up`` not a unit vector, non-positive window, unknown side.

    """
    family = sport if sport is None or sport in SPORTS else movement_family(sport)
    if sport is not None and family is None:
        raise InvalidInputError(
            f"sport must be one of {list(SPORTS)}, a sport's name mapped to one of them, or None; got {sport!r}",
            details={"sport": sport},
        )
    if side is not None and side not in FEET:
        raise InvalidInputError(f"side must be 'left', 'right' or None; got {side!r}", details={"side": side})
    if not (np.isfinite(landing_window_s) and landing_window_s > 0):
        raise InvalidInputError(f"landing_window_s must be positive; got {landing_window_s!r}")
    up_unit = up_unit_vector(up)
    if contacts is None:
        contacts = detect_foot_contacts(sequence, up=up_unit)
    families: dict[str, Callable[[], list[MetricValue]]] = {
        "sprint": lambda: _sprint(sequence, up_unit, body_model, contacts),
        "jump": lambda: _jump(sequence, up_unit, body_model, contacts),
        "landing": lambda: _landing(sequence, up_unit, contacts, landing_window_s),
        "strike": lambda: _strike(sequence, up_unit, "strike", side),
        "throw": lambda: _strike(sequence, up_unit, "throw", side),
    }
    chosen = ("sprint", "jump", "landing", "strike") if family is None else (family,)
    return [metric for family in chosen for metric in families[family]()]


def _mean_or_reason(values: list[float], what: str) -> tuple[float | None, str | None]:
    finite = [v for v in values if np.isfinite(v)]
    if not finite:
        return None, f"no {what} found"
    return float(np.mean(finite)), None


def _sprint(
    sequence: PoseSequence, up: NDArray[np.float64], model: BodyModel, contacts: FootContacts
) -> list[MetricValue]:
    why = contacts.unavailable_reason
    strikes = [e for e in contacts.events if e.kind == "contact"]
    com = whole_body_com(sequence, model)
    lengths, times = [], []
    for before, after in itertools.pairwise(strikes):
        if before.foot == after.foot or after.frame_index == before.frame_index:
            continue
        times.append(after.time_s - before.time_s)
        step = _horizontal(
            _foot_point(sequence, after.foot, after.frame_index)
            - _foot_point(sequence, before.foot, before.frame_index),
            up,
        )
        travel = _horizontal(com[after.frame_index] - com[before.frame_index], up)
        travel_m = float(np.linalg.norm(travel))
        if travel_m > _MIN_PROGRESSION_M:
            lengths.append(float(step @ travel) / travel_m)
    step_length, step_why = _mean_or_reason(lengths, "consecutive contacts of opposite feet with the COM progressing")
    step_time, _ = _mean_or_reason(times, "steps")
    contact_time, contact_why = _mean_or_reason([p.duration_s for p in contact_phases(contacts)], "complete contact")
    flight_time, flight_why = _mean_or_reason([p.duration_s for p in flight_phases(contacts)], "flight phase")
    speed = _horizontal_speed_m_s(com, sequence, up)
    finite_speed = speed[np.isfinite(speed)]
    speed_why = (
        None
        if finite_speed.size
        else "the whole-body COM is never known in two consecutive frames with a reliable global position"
    )
    return [
        _metric("step_length_m", "m", "mean heel–toe midpoint distance along the COM's horizontal travel, contact "
                "to opposite contact", step_length, why or step_why),
        _metric("step_frequency_hz", "Hz", "1 / mean time between contacts of opposite feet",
                None if step_time is None or step_time <= 0 else 1.0 / step_time, why or step_why),
        _metric("ground_contact_time_s", "s", "mean duration of complete contacts, contact to toe-off",
                contact_time, why or contact_why),
        _metric("flight_time_s", "s", "mean duration of flights (both feet airborne)", flight_time, why or flight_why),
        _metric("com_horizontal_speed_mean_m_s", "m/s", "mean horizontal speed of the whole-body COM",
                float(finite_speed.mean()) if finite_speed.size else None, speed_why),
        _metric("com_horizontal_speed_peak_m_s", "m/s", "peak horizontal speed of the whole-body COM",
                float(finite_speed.max()) if finite_speed.size else None, speed_why),
    ]  # fmt: skip


def _horizontal(vector: NDArray[np.float64], up: NDArray[np.float64]) -> NDArray[np.float64]:
    return np.asarray(vector - (vector @ up) * up, dtype=np.float64)


def _foot_point(sequence: PoseSequence, foot: str, row: int) -> NDArray[np.float64]:
    heel = sequence.joint(f"{foot}_heel")[row]
    toe = sequence.joint(f"{foot}_foot_index")[row]
    return np.asarray(0.5 * (heel + toe), dtype=np.float64)


def _jump(
    sequence: PoseSequence, up: NDArray[np.float64], model: BodyModel, contacts: FootContacts
) -> list[MetricValue]:
    flights = flight_phases(contacts)
    names = (
        ("jump_flight_time_s", "s", "duration of the longest flight, take-off to landing"),
        ("jump_height_flight_time_m", "m", "g·t²/8 with t the longest flight's duration"),
        ("jump_height_com_rise_m", "m", "highest COM height in the longest flight minus the COM height at take-off"),
        ("takeoff_vertical_velocity_m_s", "m/s", "COM vertical velocity at take-off, ballistic fit (g fixed)"),
    )
    if not flights:
        why = contacts.unavailable_reason or "no flight phase (both feet airborne between two contacts) found"
        return [_metric(name, unit, convention, None, why) for name, unit, convention in names]
    flight = max(flights, key=lambda p: p.duration_s)
    t_flight = flight.duration_s
    height = whole_body_com(sequence, model) @ up
    rows = slice(flight.start_index, flight.end_index)
    in_flight = height[rows]
    t = sequence.timestamps_s[rows] - flight.start_s
    com_why = "the whole-body COM is unknown at take-off or in the flight"
    rise = None
    if np.isfinite(height[flight.start_index]) and np.isfinite(in_flight).any():
        rise = float(np.nanmax(in_flight) - height[flight.start_index])
    velocity = None
    seen = np.isfinite(in_flight)
    if seen.sum() >= 2:
        # h(t) + g t²/2 = h0 + v0 t: a straight line whose slope is the take-off velocity.
        design = np.column_stack([np.ones(int(seen.sum())), t[seen]])
        target = in_flight[seen] + 0.5 * STANDARD_GRAVITY_M_S2 * t[seen] ** 2
        velocity = float(np.linalg.lstsq(design, target, rcond=None)[0][1])
    step_m = _surface_step_m(sequence, up, flight.start_index - 1, flight.end_index)
    flight_height: float | None = STANDARD_GRAVITY_M_S2 * t_flight**2 / 8.0
    flight_why = com_why
    if step_m is None:
        flight_height, flight_why = None, "the feet are not seen at take-off and landing to compare their levels"
    elif abs(step_m) > SAME_LEVEL_TOLERANCE_M:
        flight_height = None
        flight_why = (
            f"take-off and landing surfaces differ by {abs(step_m):.2f} m (a box or a step): g·t²/8 assumes one level"
        )
    values = (t_flight, flight_height, rise, velocity)
    reasons = (com_why, flight_why, com_why, com_why)
    return [
        _metric(name, unit, convention, value, why)
        for (name, unit, convention), value, why in zip(names, values, reasons, strict=True)
    ]


def _surface_step_m(sequence: PoseSequence, up: NDArray[np.float64], before: int, after: int) -> float | None:
    """Landing minus take-off height of the lowest heel or toe point, m; ``None`` when either is unseen."""
    if before < 0 or after >= sequence.n_frames:
        return None
    points = [sequence.joint(f"{foot}_{part}") for foot in ("left", "right") for part in ("heel", "foot_index")]
    heights = np.stack([p[[before, after]] @ up for p in points])
    if not np.isfinite(heights).any(axis=0).all():
        return None
    lowest = np.nanmin(heights, axis=0)
    return float(lowest[1] - lowest[0])


def _landing(
    sequence: PoseSequence, up: NDArray[np.float64], contacts: FootContacts, window_s: float
) -> list[MetricValue]:
    names = (
        (
            "peak_knee_flexion_deg",
            "deg",
            f"largest knee flexion (either knee) within {window_s:g} s of initial contact",
        ),
        ("time_to_peak_knee_flexion_s", "s", "time from initial contact to the peak knee flexion"),
    )
    flights = flight_phases(contacts)
    strikes = [e for e in contacts.events if e.kind == "contact"]
    if flights:
        start = flights[0].end_index
    elif strikes:
        start = strikes[0].frame_index
    else:
        why = contacts.unavailable_reason or "no initial contact found"
        return [_metric(name, unit, convention, None, why) for name, unit, convention in names]
    t = sequence.timestamps_s
    angles = joint_angles(sequence, up=up)
    knees = np.stack([angles[f"{foot}_knee_flexion"].values_deg for foot in FEET])
    window = (t >= t[start]) & (t <= t[start] + window_s)
    flexion = np.max(np.where(np.isfinite(knees), knees, -np.inf), axis=0)
    flexion = np.where(window & np.isfinite(flexion), flexion, np.nan)
    if not np.isfinite(flexion).any():
        why = "no knee flexion is known in the landing window"
        return [_metric(name, unit, convention, None, why) for name, unit, convention in names]
    peak = peak_index(flexion)
    values = (float(flexion[peak]), float(t[peak] - t[start]))
    return [
        _metric(name, unit, convention, value, None)
        for (name, unit, convention), value in zip(names, values, strict=True)
    ]


def _strike(sequence: PoseSequence, up: NDArray[np.float64], family: str, side: Foot | None) -> list[MetricValue]:
    result = strike_sequencing(sequence, up=up, effector="hand" if family == "throw" else None, side=side)
    why = result.unavailable_reason
    point = {"hand": "hand point (mean of wrist, index, pinky; the wrist where those are missing)",
             "foot": "foot point (foot index)"}[result.effector]  # fmt: skip
    choice = ("side given" if side else "the faster side") + (", faster of hand and foot" * (family == "strike"))
    metrics = [
        _metric("end_effector_peak_speed_m_s", "m/s", f"peak speed of the {result.side} {point} ({choice})",
                result.peak_speed_m_s, why),
        _metric("end_effector_peak_time_s", "s", "timestamp of the end effector's peak speed", result.peak_time_s, why),
    ]  # fmt: skip
    for peak in result.peaks:
        owner = "" if peak.segment in ("pelvis", "thorax") else f"{result.side} "
        segment_why = why or f"the {peak.segment} is never known in the window around the end effector's peak"
        convention = (
            f"peak angular speed of the {owner}{peak.segment} ({SEGMENT_DIRECTIONS[peak.segment]}) "
            f"within -{WINDOW_BEFORE_S:g} s / +{WINDOW_AFTER_S:g} s of the end effector's peak"
        )
        metrics += [
            _metric(f"{peak.segment}_peak_angular_speed_deg_s", "deg/s", convention, peak.angular_speed_deg_s,
                    segment_why),
            _metric(f"{peak.segment}_peak_angular_speed_time_s", "s", f"timestamp of the {peak.segment}'s peak",
                    peak.time_s, segment_why),
        ]  # fmt: skip
    order_why = why or "a segment's peak angular speed is unknown"
    in_order = None if result.proximal_to_distal is None else float(result.proximal_to_distal)
    chain = " → ".join(result.chain)
    metrics.append(
        _metric("sequencing_proximal_to_distal", "1", f"1 when each of {chain} peaks strictly after the one before, "
                "else 0", in_order, order_why)
    )  # fmt: skip
    for (a, b), lag in zip(itertools.pairwise(result.chain), result.lags_s, strict=True):
        metrics.append(_metric(f"sequencing_lag_{a}_to_{b}_s", "s", f"peak time of the {b} minus that of the {a}",
                               lag, order_why))  # fmt: skip
    return metrics
