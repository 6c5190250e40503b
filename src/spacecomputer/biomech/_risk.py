"""Injury-risk *indicators* with traffic-light levels: screening flags, never diagnoses.

Each indicator is one number from the movement (an angle at landing, a peak, an asymmetry) compared with two
thresholds. The thresholds live in one table, :data:`RISK_THRESHOLDS`, in
:mod:`~spacecomputer.biomech._risk_thresholds` with the indicator type :class:`RiskIndicator` (both re-exported
here); every one of them is **our own heuristic, not a validated cut-off** (``heuristic=True``), as we know of no
published cut-off for these exact measures, populations and a video-based estimate. A yellow or red level means
"look at this", not "injured" or "will be injured". This module computes the indicators.

Indicators (``{side}`` is ``left`` or ``right``, the athlete's own side)

==============================================  ======================================================================
name                                            value
==============================================  ======================================================================
``knee_frontal_plane_projection_angle_{side}``  largest valgus FPPA within ``landing_window_s`` of a landing, deg
``landing_peak_knee_flexion_{side}``            peak knee flexion within that window, deg; the smallest over the
                                                landings (the stiffest); low = stiff landing
``trunk_lateral_lean_peak``                     largest ``|trunk_lateral_lean|`` over the clip, deg
``peak_knee_extensor_moment_per_kg_{side}``     largest knee extensor moment per body mass, N·m/kg (estimated from
                                                video by inverse dynamics; given by the caller)
``asymmetry_{metric}``                          ``|L − R| / (0.5·|L + R|) × 100``, % (:func:`asymmetry_index_percent`)
==============================================  ======================================================================

*Landing*: a flight (both feet airborne, :func:`~spacecomputer.biomech.flight_phases`) ends; each foot's first
contact frame within ``landing_window_s`` after the flight's end is that foot's initial contact. Peaks are
searched in ``[t_contact, t_contact + landing_window_s]``.

*Knee frontal-plane projection angle (FPPA)*: the thigh (hip→knee) and shank (knee→ankle) are projected onto
the athlete's frontal plane, spanned by ``up`` and the horizontal part of the left→right hip line; the FPPA
is the signed angle from the projected thigh to the projected shank, 0° when hip, knee and ankle line up in
that plane, **positive for valgus** (knee medial of the hip–ankle line), negative for varus, on both sides.
NaN where the hip line is within 10° of vertical or a projected segment keeps less than sin 10° of its length
(:data:`~spacecomputer.biomech._angles.CONDITIONING_LIMIT_DEG`, our heuristic). This is a 3-D-landmark
version of the 2-D FPPA that clinicians measure on a frontal video frame.

*Asymmetry*: the formula is the symmetry index of Robinson, Herzog and Nigg (1987), *Use of force platform
variables to quantify the effects of chiropractic manipulation on gait symmetry*, J Manipulative Physiol Ther
10(4):172–176, taken as an absolute value; its thresholds here are ours.
"""

from __future__ import annotations

import math
from typing import Literal

import numpy as np
from numpy.typing import ArrayLike, NDArray

from spacecomputer.biomech._angles import CONDITIONING_LIMIT_DEG, _dot, _norm, _perpendicular_unit
from spacecomputer.biomech._events import FEET, FootContacts, flight_phases, up_unit_vector
from spacecomputer.biomech._kinematics import KinematicSeries
from spacecomputer.biomech._risk_thresholds import (
    HEURISTIC_SOURCE,
    RISK_THRESHOLDS,
    RiskIndicator,
    RiskThreshold,
    _indicator,
    _unavailable,
)
from spacecomputer.domain import PoseSequence
from spacecomputer.errors import InvalidInputError, InvalidPoseDataError

__all__ = [
    "HEURISTIC_SOURCE",
    "RISK_THRESHOLDS",
    "RiskIndicator",
    "RiskThreshold",
    "asymmetry_index_percent",
    "knee_frontal_plane_projection_angle_deg",
    "risk_indicators",
]

_MIN_SIN = math.sin(math.radians(CONDITIONING_LIMIT_DEG))


def asymmetry_index_percent(left: float, right: float) -> float | None:
    """Return ``|L − R| / (0.5·|L + R|) × 100``, %, or ``None`` when it is undefined.

    Undefined when a value is not finite, when the two have opposite signs, or when both are zero: the index
    compares two magnitudes of one sign (lengths, times, forces).

    Examples
    --------
    >>> round(asymmetry_index_percent(10.0, 12.0), 2)
    18.18

    """
    if not (math.isfinite(left) and math.isfinite(right)) or left * right < 0 or left + right == 0:
        return None
    return abs(left - right) / (0.5 * abs(left + right)) * 100.0


def knee_frontal_plane_projection_angle_deg(sequence: PoseSequence, *, up: ArrayLike) -> dict[str, NDArray[np.float64]]:
    """Return each knee's (T,) frontal-plane projection angle, deg, valgus positive (module docstring).

    Raises
    ------
    InvalidPoseDataError
        If the sequence is not metric or lacks the hip, knee or ankle landmarks.
    InvalidInputError
        If ``up`` is not a unit vector.

    """
    up_unit = up_unit_vector(up)
    sequence.require_metric("knee frontal-plane projection angles")
    p = {}
    for side in FEET:
        for part in ("hip", "knee", "ankle"):
            name = f"{side}_{part}"
            try:
                p[name] = np.asarray(sequence.joint(name), dtype=np.float64)
            except KeyError:
                raise InvalidPoseDataError(
                    f"the knee FPPA needs the BlazePose landmark {name!r}", details={"missing": name}
                ) from None
    right = _perpendicular_unit(p["right_hip"] - p["left_hip"], up_unit)
    out: dict[str, NDArray[np.float64]] = {}
    for side in FEET:
        lateral = right if side == "right" else -right
        thigh, shank = p[f"{side}_knee"] - p[f"{side}_hip"], p[f"{side}_ankle"] - p[f"{side}_knee"]
        tu, tw = _dot(thigh, lateral), thigh @ up_unit
        su, sw = _dot(shank, lateral), shank @ up_unit
        angle = np.degrees(np.arctan2(tu * sw - tw * su, tu * su + tw * sw))
        with np.errstate(invalid="ignore"):  # strict: a zero-length segment is never conditioned
            conditioned = (np.hypot(tu, tw) > _MIN_SIN * _norm(thigh)) & (np.hypot(su, sw) > _MIN_SIN * _norm(shank))
        angle[~conditioned] = np.nan
        out[side] = angle
    return out


def risk_indicators(
    sequence: PoseSequence,
    *,
    up: ArrayLike,
    angles: dict[str, KinematicSeries],
    contacts: FootContacts,
    knee_moment_n_m_per_kg: dict[str, NDArray[np.float64]] | None = None,
    paired_metrics: dict[str, tuple[float | None, float | None]] | None = None,
    landing_window_s: float = 0.3,
) -> list[RiskIndicator]:
    """Compute every indicator of the module table, in its order.

    Parameters
    ----------
    sequence
        Metric pose sequence on the BlazePose skeleton.
    up
        Unit 3-vector pointing up in the sequence's frame.
    angles
        Joint angles of the sequence (:func:`~spacecomputer.biomech.joint_angles`): ``{side}_knee_flexion``
        and ``trunk_lateral_lean`` are read.
    contacts
        Foot contacts of the sequence, for the landings.
    knee_moment_n_m_per_kg
        ``{"left": (T,), "right": (T,)}`` net knee moment per body mass, extensor positive, N·m/kg.
    paired_metrics
        ``name -> (left, right)`` values of one metric for the asymmetry indicators.
    landing_window_s
        How long after initial contact the landing peaks are searched for, s.

    Raises
    ------
    InvalidInputError
        ``up`` not a unit vector, a non-positive window, inputs of another length than the sequence.
    InvalidPoseDataError
        The sequence is not metric or lacks a landmark.

    """
    if not (math.isfinite(landing_window_s) and landing_window_s > 0):
        raise InvalidInputError(f"landing_window_s must be a positive number of seconds; got {landing_window_s!r}")
    n = sequence.n_frames
    if contacts.in_contact.shape != (n, 2):
        raise InvalidInputError(f"contacts must cover the sequence's {n} frames; got {contacts.in_contact.shape[0]}")
    t = sequence.timestamps_s
    landings = _landings(contacts, landing_window_s)
    no_landing = contacts.unavailable_reason or "no landing (a foot contact right after a flight) found"
    fppa = knee_frontal_plane_projection_angle_deg(sequence, up=up)
    out = []
    for side in FEET:
        name = f"knee_frontal_plane_projection_angle_{side}"
        out.append(
            _landing_peak(name, fppa[side], t, landings[side], landing_window_s, worst="largest", why=no_landing)
        )
    for side in FEET:
        name = f"landing_peak_knee_flexion_{side}"
        flexion, why = _series(angles, f"{side}_knee_flexion", n)
        if flexion is None:
            out.append(_unavailable(name, why or ""))
        else:
            out.append(
                _landing_peak(name, flexion, t, landings[side], landing_window_s, worst="smallest", why=no_landing)
            )
    lean, why = _series(angles, "trunk_lateral_lean", n)
    out.append(_peak("trunk_lateral_lean_peak", None if lean is None else np.abs(lean), t, why))
    for side in FEET:
        name = f"peak_knee_extensor_moment_per_kg_{side}"
        if knee_moment_n_m_per_kg is None or side not in knee_moment_n_m_per_kg:
            out.append(_unavailable(name, "no knee moments were given (inverse dynamics not run)"))
            continue
        moment = np.asarray(knee_moment_n_m_per_kg[side], dtype=np.float64)
        if moment.shape != (n,):
            raise InvalidInputError(f"knee_moment_n_m_per_kg[{side!r}] must have shape ({n},); got {moment.shape}")
        out.append(_peak(name, moment, t, "the knee moment is unknown in every frame"))
    for metric, (left, right) in (paired_metrics or {}).items():
        name = f"asymmetry_{metric}"
        if left is None or right is None:
            out.append(_unavailable(name, f"{metric} is unavailable on the {'left' if left is None else 'right'} side"))
            continue
        index = asymmetry_index_percent(left, right)
        why = (
            f"the asymmetry index is undefined for {metric} = ({left!r}, {right!r}): non-finite, zero or opposite signs"
        )
        out.append(_indicator(name, index, why))
    return out


# --- internals --------------------------------------------------------------------------------------------------


def _series(angles: dict[str, KinematicSeries], key: str, n: int) -> tuple[NDArray[np.float64] | None, str | None]:
    series = angles.get(key)
    if series is None:
        return None, f"the angle {key!r} was not given"
    if series.values_deg.shape != (n,):
        raise InvalidInputError(f"angles[{key!r}] must have shape ({n},); got {series.values_deg.shape}")
    if not series.available:
        return None, series.reason
    return series.values_deg, "the angle is unknown in every frame"


def _peak(name: str, values: NDArray[np.float64] | None, t: NDArray[np.float64], why: str | None) -> RiskIndicator:
    finite = np.isfinite(values) if values is not None else None
    if values is None or finite is None or not finite.any():
        return _unavailable(name, why or "no value is known")
    row = int(np.argmax(np.where(finite, values, -np.inf)))
    return _indicator(name, float(values[row]), "", row, t)


def _landings(contacts: FootContacts, window_s: float) -> dict[str, list[int]]:
    """Each foot's initial-contact rows: its first contact within ``window_s`` after the end of a flight."""
    t = contacts.timestamps_s
    touching = contacts.in_contact & contacts.known
    out: dict[str, list[int]] = {foot: [] for foot in FEET}
    for flight in flight_phases(contacts):
        end = flight.end_index
        stop = int(np.searchsorted(t, t[end] + window_s, side="right"))
        for column, foot in enumerate(FEET):
            rows = np.flatnonzero(touching[end:stop, column])
            if rows.size:
                out[foot].append(end + int(rows[0]))
    return out


def _landing_peak(
    name: str,
    values: NDArray[np.float64],
    t: NDArray[np.float64],
    landings: list[int],
    window_s: float,
    *,
    worst: Literal["largest", "smallest"],
    why: str,
) -> RiskIndicator:
    """Take the largest value in each landing window, then the worst landing (largest or smallest peak)."""
    if not landings:
        return _unavailable(name, why)
    peaks = []
    for start in landings:
        stop = int(np.searchsorted(t, t[start] + window_s, side="right"))
        window = values[start:stop]
        if np.isfinite(window).any():
            row = start + int(np.argmax(np.where(np.isfinite(window), window, -np.inf)))
            peaks.append((float(values[row]), row))
    if not peaks:
        return _unavailable(name, "the value is unknown in every landing window (missing or ill-conditioned landmarks)")
    value, row = max(peaks) if worst == "largest" else min(peaks)
    return _indicator(name, value, "", row, t)
