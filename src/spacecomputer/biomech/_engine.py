"""One pass of the biomechanics engine: every series and scalar of one metric pose sequence.

:func:`evaluate` composes the stages in their dependency order — angles, foot contacts, movement metrics,
ground reaction and inverse dynamics, energy and work, stability, risk indicators — and names every scalar
once, so that the Monte Carlo draws of :mod:`~spacecomputer.biomech._uncertainty` can re-run the same pass on
perturbed landmarks and compare scalars by name.

Scalars (our own selection; conventions in each entry and in ``docs/biomechanics.md``)
-------------------------------------------------------------------------------------
- *kinematics*: minimum, maximum and range of every observable joint angle; peak and mean horizontal speed and
  vertical excursion of the whole-body centre of mass.
- the movement family's metrics (:func:`~spacecomputer.biomech._movement_metrics.movement_metrics`).
- *kinetics* (estimated from video): peak vertical ground reaction force (N and body weights), peak extensor
  (plantarflexor) moment of hip, knee and ankle per side (N·m/kg), peak positive joint power (W), positive and
  negative work per joint (J).
- *energy*: range of the total mechanical energy (J).
- *stability*: :func:`~spacecomputer.biomech._stability.stability_metrics`.

Implausible frames (our own guard against tracking glitches)
------------------------------------------------------------
Kinetics, energy and the extrapolated centre of mass rest on the whole-body COM's first and second
derivatives, which a glitch of the monocular trajectory (a wrong depth for a few frames, the athlete leaving
the picture) turns into accelerations no body produces. Frames where the COM acceleration exceeds
:data:`MAX_PLAUSIBLE_COM_ACCELERATION_M_S2` (10 g, our own bound, above what a filtered video trajectory of a
landing shows) are *implausible*, together with :data:`IMPLAUSIBLE_MARGIN_S` on each side (the filter spreads
a glitch over its neighbours): there the ground reaction, joint kinetics, energies and stability distances are
blanked (NaN) before any scalar is taken from them, and the count is reported.

Unreliable positions
--------------------
Frames the trajectory flagged :attr:`~spacecomputer.domain.PoseFlag.UNRELIABLE_POSITION` (the body's depth was
not measured for longer than it bridges, ``vision/_trajectory.py``) are blanked in the same way, and the
whole-body COM is left out there before its speeds are differentiated: the peak and mean horizontal speed come
from reliable frames only, and are unavailable, with the reason, when there is none.
"""

from __future__ import annotations

from dataclasses import dataclass, replace

import numpy as np
from numpy.typing import NDArray

from spacecomputer.biomech._body_model import BodyModel, whole_body_com
from spacecomputer.biomech._energy import EnergySeries, joint_work, mechanical_energy
from spacecomputer.biomech._events import FootContacts, detect_foot_contacts
from spacecomputer.biomech._kinematics import (
    KinematicSeries,
    joint_angles,
    linear_acceleration_m_s2,
    linear_velocity_m_s,
    range_of_motion,
    segment_angles,
    unreliable_position_frames,
)
from spacecomputer.biomech._kinetics import (
    GroundReactionEstimate,
    JointKinetics,
    estimate_ground_reaction,
    inverse_dynamics,
)
from spacecomputer.biomech._movement_metrics import STANDARD_GRAVITY_M_S2, MetricValue, movement_metrics
from spacecomputer.biomech._risk import RiskIndicator, risk_indicators
from spacecomputer.biomech._stability import StabilitySeries, stability, stability_metrics
from spacecomputer.domain import PoseSequence
from spacecomputer.errors import InsufficientDataError

__all__ = [
    "IMPLAUSIBLE_MARGIN_S",
    "LOWER_LIMB_JOINTS",
    "MAX_PLAUSIBLE_COM_ACCELERATION_M_S2",
    "EnginePass",
    "ScalarEntry",
    "evaluate",
]

MAX_PLAUSIBLE_COM_ACCELERATION_M_S2 = 10 * STANDARD_GRAVITY_M_S2
"""Whole-body COM acceleration above which a frame is a tracking glitch (module docstring), m/s²."""
IMPLAUSIBLE_MARGIN_S = 0.1
"""Frames this close to an implausible one are blanked too, s."""

LOWER_LIMB_JOINTS = ("hip", "knee", "ankle")
"""Joints whose sagittal moments and powers are summarised as scalars."""
_PAIRED_FOR_ASYMMETRY = (
    "{side}_knee_flexion_range_deg",
    "{side}_hip_flexion_range_deg",
    "{side}_ankle_dorsiflexion_range_deg",
    "peak_{side}_knee_extensor_moment_n_m_per_kg",
    "peak_{side}_hip_extensor_moment_n_m_per_kg",
    "peak_{side}_ankle_plantarflexor_moment_n_m_per_kg",
)


@dataclass(frozen=True)
class ScalarEntry:
    """A scalar and how it is grouped and labelled."""

    metric: MetricValue
    category: str
    estimated_from_video: bool = False


@dataclass(frozen=True, eq=False)
class EnginePass:
    """Everything one pass computed."""

    joint_angles: dict[str, KinematicSeries]
    segment_angles: dict[str, KinematicSeries]
    contacts: FootContacts
    com_m: NDArray[np.float64]
    ground_reaction: GroundReactionEstimate
    kinetics: dict[str, JointKinetics]
    energy: EnergySeries
    stability: StabilitySeries
    implausible: NDArray[np.bool_]
    """(T,) frames with an implausible COM acceleration (module docstring)."""
    unreliable_position: NDArray[np.bool_]
    """(T,) frames whose global position was not measured; blanked like ``implausible`` (module docstring)."""
    scalars: dict[str, ScalarEntry]
    risk: list[RiskIndicator]


def evaluate(sequence: PoseSequence, model: BodyModel, *, up: NDArray[np.float64], family: str | None) -> EnginePass:
    """Run every stage once on ``sequence`` (metric, BlazePose skeleton) with ``up`` a unit vector.

    ``family`` selects the movement metrics (``None``: none). Raises what the stages raise for unusable
    input (typed errors of :mod:`spacecomputer.errors`); a quantity that cannot be computed from usable input
    is reported unavailable with its reason instead.
    """
    angles = joint_angles(sequence, up=up)
    segments = segment_angles(sequence, up=up)
    contacts = detect_foot_contacts(sequence, up=up)
    com = whole_body_com(sequence, model)
    unreliable = unreliable_position_frames(sequence)
    implausible = _implausible_frames(com, sequence.timestamps_s)
    grf = estimate_ground_reaction(sequence, model, contacts, up=up)
    kinetics = inverse_dynamics(sequence, model, grf, up=up)
    energy = mechanical_energy(sequence, model, up=up, ground_level_m=contacts.ground_level_m)
    balance = stability(sequence, model, contacts, up=up)
    if (implausible | unreliable).any():
        grf, kinetics, energy, balance = _blanked(implausible | unreliable, grf, kinetics, energy, balance)

    scalars: dict[str, ScalarEntry] = {}

    def add(metric: MetricValue, category: str, *, estimated: bool = False) -> None:
        scalars[metric.name] = ScalarEntry(metric, category, estimated)

    for metric in _angle_scalars(angles):
        add(metric, "kinematics")
    for metric in _com_scalars(com, sequence.timestamps_s, up, unreliable):
        add(metric, "kinematics")
    if family is not None:
        for metric in movement_metrics(sequence, up=up, sport=family, body_model=model, contacts=contacts):
            add(metric, family)
    for metric in _kinetic_scalars(grf, kinetics, model, sequence.timestamps_s, up):
        add(metric, "kinetics", estimated=True)
    add(_energy_range(energy), "energy", estimated=True)
    for metric in stability_metrics(balance, contacts):
        add(metric, "stability")

    moments_per_kg = {
        side: kinetics[f"{side}_knee"].flexion_moment_n_m / model.mass_kg
        for side in ("left", "right")
        if f"{side}_knee" in kinetics
    }
    paired = {
        template.format(side="").replace("__", "_").strip("_"): (
            _value(scalars, template.format(side="left")),
            _value(scalars, template.format(side="right")),
        )
        for template in _PAIRED_FOR_ASYMMETRY
    }
    risk = risk_indicators(
        sequence,
        up=up,
        angles=angles,
        contacts=contacts,
        knee_moment_n_m_per_kg=moments_per_kg or None,
        paired_metrics=paired,
    )
    return EnginePass(
        angles, segments, contacts, com, grf, kinetics, energy, balance, implausible, unreliable, scalars, risk
    )


def _implausible_frames(com: NDArray[np.float64], timestamps_s: NDArray[np.float64]) -> NDArray[np.bool_]:
    acceleration = linear_acceleration_m_s2(com, timestamps_s)
    with np.errstate(invalid="ignore"):
        glitch_times = timestamps_s[
            np.einsum("ti,ti->t", acceleration, acceleration) > MAX_PLAUSIBLE_COM_ACCELERATION_M_S2**2
        ]
    # Each glitch blanks the frames within the margin of it: +1 where such a window opens, −1 after it closes.
    opens = np.searchsorted(timestamps_s, glitch_times - IMPLAUSIBLE_MARGIN_S, side="left")
    closes = np.searchsorted(timestamps_s, glitch_times + IMPLAUSIBLE_MARGIN_S, side="right")
    depth = np.zeros(timestamps_s.size + 1, dtype=np.int64)
    np.add.at(depth, opens, 1)
    np.add.at(depth, closes, -1)
    return np.asarray(np.cumsum(depth[:-1]) > 0)


def _blank(values: NDArray[np.float64], rows: NDArray[np.bool_]) -> NDArray[np.float64]:
    out = np.array(values, dtype=np.float64)
    out[rows] = np.nan
    return out


def _blanked(
    rows: NDArray[np.bool_],
    grf: GroundReactionEstimate,
    kinetics: dict[str, JointKinetics],
    energy: EnergySeries,
    balance: StabilitySeries,
) -> tuple[GroundReactionEstimate, dict[str, JointKinetics], EnergySeries, StabilitySeries]:
    """Blank the COM-derivative quantities in ``rows`` (see the module docstring)."""
    grf = replace(
        grf,
        total_n=_blank(grf.total_n, rows),
        per_foot_n=_blank(grf.per_foot_n, rows),
        centre_of_pressure_m=_blank(grf.centre_of_pressure_m, rows),
        known=grf.known & ~rows,
    )
    kinetics = {
        joint: replace(
            loads,
            force_n=_blank(loads.force_n, rows),
            moment_n_m=_blank(loads.moment_n_m, rows),
            flexion_moment_n_m=_blank(loads.flexion_moment_n_m, rows),
            power_w=_blank(loads.power_w, rows),
        )
        for joint, loads in kinetics.items()
    }
    energy = replace(
        energy,
        translational_j=_blank(energy.translational_j, rows),
        rotational_j=_blank(energy.rotational_j, rows),
        potential_j=_blank(energy.potential_j, rows),
        total_j=_blank(energy.total_j, rows),
        per_segment={name: _blank(values, rows) for name, values in energy.per_segment.items()},
    )
    balance = replace(
        balance,
        xcom_m=_blank(balance.xcom_m, rows),
        com_to_bos_m=_blank(balance.com_to_bos_m, rows),
        margin_of_stability_m=_blank(balance.margin_of_stability_m, rows),
    )
    return grf, kinetics, energy, balance


def _value(scalars: dict[str, ScalarEntry], name: str) -> float | None:
    entry = scalars.get(name)
    return None if entry is None else entry.metric.value


def _metric(name: str, unit: str, convention: str, value: float | None, reason: str) -> MetricValue:
    if value is not None and np.isfinite(value):
        return MetricValue(name, float(value), unit, True, None, convention)
    return MetricValue(name, None, unit, False, reason, convention)


def _angle_scalars(angles: dict[str, KinematicSeries]) -> list[MetricValue]:
    metrics = []
    for name, series in angles.items():
        if not series.available:
            continue
        try:
            rom = range_of_motion(series)
            values: tuple[float | None, ...] = (rom.min_deg, rom.max_deg, rom.range_deg)
            reason = ""
        except InsufficientDataError as error:
            values, reason = (None, None, None), error.message
        for key, value, what in zip(("min", "max", "range"), values, ("minimum", "maximum", "range"), strict=True):
            convention = f"{what} over the clip of {name} ({series.convention})"
            if key != "range":
                convention += _at_joint_limit(name, value)
            metrics.append(_metric(f"{name}_{key}_deg", "deg", convention, value, reason))
    return metrics


_AT_LIMIT_DEG = 0.05
"""An extreme within this of a joint limit is said to sit on it (the fit's bounds are met to about 1e-7 rad)."""


def _at_joint_limit(name: str, value: float | None) -> str:
    """Say so when an angle's extreme is a limit of the pose lab's skeleton: the rigid-skeleton fit stopped there.

    The pipeline fits the skeleton within these limits (``biomech/solver/joint_limits.toml``), so an extreme that
    equals one says where the fit stopped, not necessarily where the athlete's joint went: the landmarks may have
    asked for more, or come from a poorly tracked frame.
    """
    from spacecomputer.biomech.solver._limits import joint_limits  # the solver builds on this package

    limit = joint_limits().get(name)
    if limit is None or value is None or not np.isfinite(value):
        return ""
    for bound in (limit.lower, limit.upper):
        if np.isfinite(bound) and abs(value - bound) <= _AT_LIMIT_DEG:
            return (
                f"; {value:.1f}° is a limit of the skeleton's range for this joint ({limit.lower:g}° to "
                f"{limit.upper:g}°): the rigid-skeleton fit stopped there, so the athlete's joint may have gone "
                "further or the frame was poorly tracked"
            )
    return ""


def _com_scalars(
    com: NDArray[np.float64], timestamps_s: NDArray[np.float64], up: NDArray[np.float64], unreliable: NDArray[np.bool_]
) -> list[MetricValue]:
    velocity = linear_velocity_m_s(np.where(unreliable[:, None], np.nan, com), timestamps_s)
    horizontal = np.linalg.norm(velocity - np.outer(velocity @ up, up), axis=1)
    height = com @ up
    seen = np.isfinite(horizontal)
    reason = "the whole-body centre of mass is never known (a needed landmark is missing in every frame)"
    if not seen.any() and unreliable.any():
        reason = (
            "the whole-body centre of mass is never known in two consecutive frames with a reliable global "
            "position (the body's depth was not measured there)"
        )
    peak = float(np.max(horizontal[seen])) if seen.any() else None
    mean = float(np.mean(horizontal[seen])) if seen.any() else None
    finite_height = height[np.isfinite(height)]
    excursion = float(np.ptp(finite_height)) if finite_height.size else None
    speed_note = " (frames with a reliable global position)" if unreliable.any() else ""
    return [
        _metric(
            "com_peak_horizontal_speed_m_s",
            "m/s",
            f"largest horizontal speed of the whole-body COM{speed_note}",
            peak,
            reason,
        ),
        _metric(
            "com_mean_horizontal_speed_m_s",
            "m/s",
            f"mean horizontal speed of the whole-body COM{speed_note}",
            mean,
            reason,
        ),
        _metric("com_vertical_excursion_m", "m", "highest minus lowest COM height along up", excursion, reason),
    ]


def _peak(values: NDArray[np.float64]) -> float | None:
    finite = values[np.isfinite(values)]
    return float(finite.max()) if finite.size else None


def _kinetic_scalars(
    grf: GroundReactionEstimate,
    kinetics: dict[str, JointKinetics],
    model: BodyModel,
    timestamps_s: NDArray[np.float64],
    up: NDArray[np.float64],
) -> list[MetricValue]:
    weight_n = model.mass_kg * STANDARD_GRAVITY_M_S2
    no_force = "no frame with a known ground contact and centre-of-mass acceleration"
    vertical = np.asarray(grf.total_n @ up, dtype=np.float64)
    peak_n = _peak(vertical)
    metrics = [
        _metric("peak_vertical_grf_n", "N", "largest estimated vertical ground reaction force", peak_n, no_force),
        _metric(
            "peak_vertical_grf_bw",
            "BW",
            "largest estimated vertical ground reaction force over body weight (m·g)",
            None if peak_n is None else peak_n / weight_n,
            no_force,
        ),
    ]
    names = {"hip": "extensor", "knee": "extensor", "ankle": "plantarflexor"}
    axes = {
        "hip": "about the left-right hip line",
        "knee": "about the leg plane's normal",
        "ankle": "about the leg plane's normal",
    }
    for side in ("left", "right"):
        for joint in LOWER_LIMB_JOINTS:
            key = f"{side}_{joint}"
            loads = kinetics.get(key)
            reason = f"no {key} moment could be computed (landmarks or ground contact missing)"
            moment = None if loads is None else _peak(loads.flexion_moment_n_m / model.mass_kg)
            power = None if loads is None else _peak(loads.power_w)
            metrics.append(
                _metric(
                    f"peak_{side}_{joint}_{names[joint]}_moment_n_m_per_kg",
                    "N·m/kg",
                    f"largest internal {names[joint]} moment at the {side} {joint} over body mass ({axes[joint]})",
                    moment,
                    reason,
                )
            )
            metrics.append(
                _metric(
                    f"peak_{side}_{joint}_power_w",
                    "W",
                    f"largest positive (generating) net power at the {side} {joint}",
                    power,
                    reason,
                )
            )
    for positive, negative in joint_work(kinetics, timestamps_s).values():
        metrics.extend((positive, negative))
    return metrics


def _energy_range(energy: EnergySeries) -> MetricValue:
    finite = energy.total_j[np.isfinite(energy.total_j)]
    return _metric(
        "mechanical_energy_range_j",
        "J",
        "highest minus lowest total mechanical energy (translational + rotational + potential) of the segments",
        float(np.ptp(finite)) if finite.size else None,
        "segment energies are never all known in one frame",
    )
