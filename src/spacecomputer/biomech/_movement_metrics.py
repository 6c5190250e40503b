"""Movement metrics by sport, from foot events and the whole-body centre of mass (COM).

Every metric is a :class:`MetricValue` in SI units with its convention; one that cannot be computed is
returned with ``available=False``, ``value=None`` and the reason, never NaN or infinity. "Horizontal" means
perpendicular to ``up``; "vertical" along it. ``g`` is the standard acceleration of gravity, 9.80665 m/s²
(the conventional value adopted by the 3rd CGPM, 1901).

=================  ======================================================================================
sport              metrics
=================  ======================================================================================
``sprint``         ``step_length_m`` (mean horizontal distance between the feet's positions at consecutive
                   contacts of opposite feet; a foot's position is the heel–toe midpoint at its contact
                   frame), ``step_frequency_hz`` (1 / mean time between those contacts),
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
``None``           all of the above
=================  ======================================================================================
"""

from __future__ import annotations

import itertools
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
from numpy.typing import ArrayLike, NDArray

from spacecomputer.biomech._body_model import BodyModel, whole_body_com
from spacecomputer.biomech._events import (
    FEET,
    FootContacts,
    contact_phases,
    detect_foot_contacts,
    flight_phases,
    up_unit_vector,
)
from spacecomputer.biomech._kinematics import joint_angles, linear_velocity_m_s
from spacecomputer.domain import PoseSequence
from spacecomputer.errors import InvalidInputError

__all__ = ["SPORTS", "STANDARD_GRAVITY_M_S2", "MetricValue", "com_horizontal_speed_m_s", "movement_metrics"]

STANDARD_GRAVITY_M_S2 = 9.80665
"""Standard acceleration of gravity, m/s² (3rd CGPM, 1901)."""
SPORTS = ("sprint", "jump", "landing")
"""Movement families :func:`movement_metrics` knows."""


@dataclass(frozen=True)
class MetricValue:
    """One scalar metric, JSON-safe.

    Parameters
    ----------
    name
        Key, with its unit in the name (``step_length_m``).
    value
        Finite value in ``unit``; ``None`` when unavailable.
    unit
        SI unit (``m``, ``s``, ``Hz``, ``m/s``, ``deg``).
    available
        Whether it could be computed.
    reason
        Why not; ``None`` when available.
    convention
        How it is defined, in words.

    """

    name: str
    value: float | None
    unit: str
    available: bool
    reason: str | None
    convention: str

    def __post_init__(self) -> None:
        if self.available != (self.value is not None) or self.available == (self.reason is not None):
            raise InvalidInputError(f"{self.name}: an available metric has a value and no reason, and vice versa")
        if self.value is not None and not np.isfinite(self.value):
            raise InvalidInputError(f"{self.name}: value must be finite; got {self.value}")


def _metric(name: str, unit: str, convention: str, value: float | None, reason: str | None) -> MetricValue:
    if value is not None and np.isfinite(value):
        return MetricValue(name, float(value), unit, True, None, convention)
    return MetricValue(name, None, unit, False, reason or "the value is not finite", convention)


def com_horizontal_speed_m_s(sequence: PoseSequence, *, up: ArrayLike, body_model: BodyModel) -> NDArray[np.float64]:
    """Return the (T,) horizontal speed of the whole-body COM, m/s (NaN where the COM is unknown).

    Central differences on the real timestamps within each NaN-free run (as ``linear_velocity_m_s``).
    """
    up_unit = up_unit_vector(up)
    velocity = linear_velocity_m_s(whole_body_com(sequence, body_model), sequence.timestamps_s)
    horizontal = velocity - np.outer(velocity @ up_unit, up_unit)
    return np.asarray(np.linalg.norm(horizontal, axis=1), dtype=np.float64)


def movement_metrics(
    sequence: PoseSequence,
    *,
    up: ArrayLike,
    sport: str | None,
    body_model: BodyModel,
    contacts: FootContacts | None = None,
    landing_window_s: float = 0.5,
) -> list[MetricValue]:
    """Compute the movement metrics of ``sport`` (table in the module docstring).

    Parameters
    ----------
    sequence
        Metric pose sequence on the BlazePose skeleton.
    up
        Unit 3-vector pointing up in the sequence's frame.
    sport
        ``"sprint"``, ``"jump"``, ``"landing"`` or ``None`` for all of them.
    body_model
        Segment model for the whole-body COM.
    contacts
        Foot contacts already detected; detected with the defaults of
        :func:`~spacecomputer.biomech._events.detect_foot_contacts` when omitted.
    landing_window_s
        How long after initial contact the peak knee flexion is searched for, s.

    Raises
    ------
    InvalidInputError
        Unknown sport, ``up`` not a unit vector, non-positive window.

    """
    if sport is not None and sport not in SPORTS:
        raise InvalidInputError(f"sport must be one of {list(SPORTS)} or None; got {sport!r}", details={"sport": sport})
    if not (np.isfinite(landing_window_s) and landing_window_s > 0):
        raise InvalidInputError(f"landing_window_s must be positive; got {landing_window_s!r}")
    up_unit = up_unit_vector(up)
    if contacts is None:
        contacts = detect_foot_contacts(sequence, up=up_unit)
    families: dict[str, Callable[[], list[MetricValue]]] = {
        "sprint": lambda: _sprint(sequence, up_unit, body_model, contacts),
        "jump": lambda: _jump(sequence, up_unit, body_model, contacts),
        "landing": lambda: _landing(sequence, up_unit, contacts, landing_window_s),
    }
    chosen = SPORTS if sport is None else (sport,)
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
    lengths, times = [], []
    for before, after in itertools.pairwise(strikes):
        if before.foot == after.foot:
            continue
        a = _foot_point(sequence, before.foot, before.frame_index)
        b = _foot_point(sequence, after.foot, after.frame_index)
        step = b - a - np.dot(b - a, up) * up
        lengths.append(float(np.linalg.norm(step)))
        times.append(after.time_s - before.time_s)
    step_length, step_why = _mean_or_reason(lengths, "consecutive contacts of opposite feet")
    step_time, _ = _mean_or_reason(times, "steps")
    contact_time, contact_why = _mean_or_reason([p.duration_s for p in contact_phases(contacts)], "complete contact")
    flight_time, flight_why = _mean_or_reason([p.duration_s for p in flight_phases(contacts)], "flight phase")
    speed = com_horizontal_speed_m_s(sequence, up=up, body_model=model)
    finite_speed = speed[np.isfinite(speed)]
    speed_why = None if finite_speed.size else "the whole-body COM is never known in two consecutive frames"
    return [
        _metric("step_length_m", "m", "mean horizontal heel–toe midpoint distance, contact to opposite contact",
                step_length, why or step_why),
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
    values = (t_flight, STANDARD_GRAVITY_M_S2 * t_flight**2 / 8.0, rise, velocity)
    return [
        _metric(name, unit, convention, value, com_why)
        for (name, unit, convention), value in zip(names, values, strict=True)
    ]


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
    flexion = np.where(window & np.isfinite(flexion), flexion, -np.inf)
    if not np.isfinite(flexion).any():
        why = "no knee flexion is known in the landing window"
        return [_metric(name, unit, convention, None, why) for name, unit, convention in names]
    peak = int(np.argmax(flexion))
    values = (float(flexion[peak]), float(t[peak] - t[start]))
    return [
        _metric(name, unit, convention, value, None)
        for (name, unit, convention), value in zip(names, values, strict=True)
    ]
