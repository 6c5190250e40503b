"""Mechanical energy of the segment model and the work done by the net joint moments.

Energy (:func:`mechanical_energy`), summed over the 14 de Leva segments, in joules:

- translational ``½ m |v|²``, ``v`` the segment COM velocity (central differences of
  :func:`~spacecomputer.biomech._body_model.segment_com`);
- rotational ``½ ωᵀ I ω``, ``ω`` the angular velocity of the segment frame and ``I`` its principal moments
  rotated into the sequence's frame (:mod:`spacecomputer.biomech._segment_motion`);
- potential ``m g h``, ``h = c · up − ground_level_m``: the COM height along ``up`` above the given ground
  level, or, when none is given, above the lowest heel or foot-index point of the whole clip (one constant, so a
  jump's flight does not lift the reference).

Energies are relative: velocities are in the sequence's frame (a hip-centred frame drops the body's
translation), and the potential energy's zero is the ground level. A frame where a segment's term is unknown
is NaN in the totals (never summed over the segments that happen to be known).

Work (:func:`joint_work`): per joint, the time integrals of the positive and the negative part of the net
joint power, ``∫ max(P, 0) dt`` and ``∫ min(P, 0) dt`` (J), of the power interpolated linearly between frames:
the trapezoid rule, with an interval split where the power changes sign, so the two add up to the trapezoid
integral of ``P``. Only intervals whose two samples are finite count; intervals touching a NaN are skipped,
not bridged.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from numpy.typing import ArrayLike, NDArray

from spacecomputer.biomech._body_model import BodyModel
from spacecomputer.biomech._events import FEET, up_unit_vector
from spacecomputer.biomech._kinetics import JointKinetics
from spacecomputer.biomech._movement_metrics import STANDARD_GRAVITY_M_S2, MetricValue
from spacecomputer.biomech._segment_motion import segment_motion
from spacecomputer.domain import PoseSequence
from spacecomputer.errors import InvalidInputError

__all__ = ["EnergySeries", "joint_work", "mechanical_energy"]


@dataclass(frozen=True, eq=False)
class EnergySeries:
    """Mechanical energy of the body over time, J (NaN where a segment's term is unknown).

    Attributes
    ----------
    translational_j
        (T,) ``Σ ½ m |v|²`` over segments.
    rotational_j
        (T,) ``Σ ½ ωᵀ I ω`` over segments.
    potential_j
        (T,) ``Σ m g h`` over segments, ``h`` above the ground level along ``up``.
    total_j
        (T,) sum of the three.
    per_segment
        Segment name → (T,) total energy of that segment.

    """

    translational_j: NDArray[np.float64]
    rotational_j: NDArray[np.float64]
    potential_j: NDArray[np.float64]
    total_j: NDArray[np.float64]
    per_segment: dict[str, NDArray[np.float64]]


def _ground_level_m(
    sequence: PoseSequence, up: NDArray[np.float64], ground_level_m: ArrayLike | None
) -> NDArray[np.float64]:
    n = sequence.n_frames
    if ground_level_m is None:
        feet = np.stack([sequence.joint(f"{foot}_{part}") @ up for foot in FEET for part in ("heel", "foot_index")])
        return np.full(n, np.min(feet[np.isfinite(feet)]) if np.isfinite(feet).any() else np.nan)
    ground = np.asarray(ground_level_m, dtype=np.float64)
    if ground.shape not in ((), (n,)) or np.isinf(ground).any():
        raise InvalidInputError(
            f"ground_level_m must be a number or a (T,) = ({n},) array of metres along up (NaN = unknown); "
            f"got shape {ground.shape}",
            details={"shape": list(ground.shape), "frames": n},
        )
    return np.broadcast_to(ground, (n,))


def mechanical_energy(
    sequence: PoseSequence,
    model: BodyModel,
    *,
    up: ArrayLike,
    ground_level_m: ArrayLike | None = None,
    gravity_m_s2: float = STANDARD_GRAVITY_M_S2,
) -> EnergySeries:
    """Return the translational, rotational and potential energy of the segment model over time.

    Parameters
    ----------
    sequence
        Metric pose sequence on the BlazePose skeleton.
    model
        Body model (segment masses and inertia).
    up
        Unit 3-vector pointing up in the sequence's frame.
    ground_level_m
        Height of the ground along ``up``, m: a number or a (T,) array (NaN = unknown, such as
        :attr:`~spacecomputer.biomech._events.FootContacts.ground_level_m`); ``None`` = the lowest heel or
        foot-index height of the clip.
    gravity_m_s2
        Magnitude of gravity, m/s².

    Returns
    -------
    EnergySeries
        Energies in J (see the module docstring).

    Raises
    ------
    InvalidInputError
        ``up`` not a unit vector, a negative gravity, or a ground level of the wrong shape.
    InvalidPoseDataError
        The sequence is not metric or lacks a landmark.

    """
    up_unit = up_unit_vector(up)
    if not (isinstance(gravity_m_s2, int | float) and np.isfinite(gravity_m_s2) and gravity_m_s2 >= 0):
        raise InvalidInputError(f"gravity_m_s2 must be a finite number ≥ 0 (m/s²); got {gravity_m_s2!r}")
    ground = _ground_level_m(sequence, up_unit, ground_level_m)
    n = sequence.n_frames
    translational, rotational, potential = np.zeros(n), np.zeros(n), np.zeros(n)
    per_segment = {}
    for name, motion in segment_motion(sequence, model).items():
        velocity = motion.com_velocity_m_s
        kinetic = 0.5 * motion.mass_kg * (velocity**2).sum(axis=1)
        spin = motion.rotational_energy_j
        height = motion.com_m @ up_unit - ground
        lifted = motion.mass_kg * float(gravity_m_s2) * height
        translational += kinetic
        rotational += spin
        potential += lifted
        per_segment[name] = kinetic + spin + lifted
    return EnergySeries(
        translational_j=translational,
        rotational_j=rotational,
        potential_j=potential,
        total_j=translational + rotational + potential,
        per_segment=per_segment,
    )


def _work_j(power_w: NDArray[np.float64], t: NDArray[np.float64]) -> tuple[float | None, float | None]:
    both = np.isfinite(power_w[:-1]) & np.isfinite(power_w[1:])
    if not both.any():
        return None, None
    dt = np.diff(t)[both]
    start, stop = power_w[:-1][both], power_w[1:][both]
    # Where the power changes sign, the linear interpolant's positive triangle has area ½ p₊² / (|p₀| + |p₁|) dt.
    crossing = start * stop < 0.0
    spread = np.where(crossing, np.abs(start) + np.abs(stop), 1.0)
    areas = []
    for clip in (np.maximum, np.minimum):
        a, b = clip(start, 0.0), clip(stop, 0.0)
        areas.append(float(np.sum(np.where(crossing, (a * np.abs(a) + b * np.abs(b)) / spread, a + b) * 0.5 * dt)))
    return areas[0], areas[1]


def joint_work(
    kinetics: dict[str, JointKinetics], timestamps_s: ArrayLike
) -> dict[str, tuple[MetricValue, MetricValue]]:
    """Return each joint's positive and negative work, J (power linear between frames, NaN gaps skipped).

    Parameters
    ----------
    kinetics
        Joint kinetics of :func:`~spacecomputer.biomech._kinetics.inverse_dynamics`.
    timestamps_s
        (T,) timestamps of the frames, s, strictly increasing.

    Returns
    -------
    dict of str to (MetricValue, MetricValue)
        Per joint, ``{joint}_positive_work_j`` (≥ 0, energy generated) and ``{joint}_negative_work_j``
        (≤ 0, energy absorbed); unavailable when no two consecutive frames have a known power.

    Raises
    ------
    InvalidInputError
        Timestamps not finite and strictly increasing, or not one per frame of the powers.

    Examples
    --------
    >>> k = JointKinetics("left_knee", np.zeros((3, 3)), np.zeros((3, 3)), np.zeros(3),
    ...                   np.array([10.0, 10.0, -10.0]), "demo")
    >>> positive, negative = joint_work({"left_knee": k}, [0.0, 1.0, 2.0])["left_knee"]
    >>> positive.value, negative.value
    (12.5, -2.5)

    """
    t = np.asarray(timestamps_s, dtype=np.float64)
    if t.ndim != 1 or not np.isfinite(t).all() or not (np.diff(t) > 0).all():
        raise InvalidInputError("timestamps_s must be a 1-D array of finite, strictly increasing seconds")
    out = {}
    for name, joint in kinetics.items():
        if joint.power_w.shape != t.shape:
            raise InvalidInputError(
                f"{name}: power_w has shape {joint.power_w.shape}, timestamps_s {t.shape}; they must match",
                details={"joint": name},
            )
        positive, negative = _work_j(joint.power_w, t) if t.size > 1 else (None, None)
        reason = None if positive is not None else "no two consecutive frames have a known joint power"
        out[name] = (
            MetricValue(
                f"{name}_positive_work_j",
                positive,
                "J",
                positive is not None,
                reason,
                "time integral of max(power, 0), power linear between frames, gaps skipped: energy generated",
            ),
            MetricValue(
                f"{name}_negative_work_j",
                negative,
                "J",
                negative is not None,
                reason,
                "time integral of min(power, 0), power linear between frames, gaps skipped: energy absorbed",
            ),
        )
    return out
