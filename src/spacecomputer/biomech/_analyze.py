"""The biomechanics of one run: the engine's pass, its Monte Carlo uncertainty, the report section and series.

:func:`analyze_biomechanics` is what the pipeline calls after the pose is cleaned; it returns the
``biomechanics`` section of ``analysis.json`` and the per-frame columns of ``metrics.csv``.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from numpy.typing import ArrayLike, NDArray

from spacecomputer.biomech._body_model import BodyModel, Sex, segment_lengths_m
from spacecomputer.biomech._engine import EnginePass, evaluate
from spacecomputer.biomech._events import (
    contact_phases,
    detect_foot_contacts,
    flight_phases,
    up_unit_vector,
)
from spacecomputer.biomech._kinematics import KinematicSeries
from spacecomputer.biomech._kinetics import MAX_FRICTION_COEFFICIENT
from spacecomputer.biomech._movement_detect import detect_movement, movement_family
from spacecomputer.biomech._series import metrics_series
from spacecomputer.biomech._uncertainty import (
    MIN_DRAWS_FOR_SPREAD,
    VISIBILITY_FLOOR,
    DrawSpread,
    LandmarkNoise,
    format_measurement,
    landmark_noise,
    monte_carlo_spread,
)
from spacecomputer.domain import PoseSequence
from spacecomputer.domain._analysis_biomech import (
    AngleInfo,
    BiomechanicsSection,
    BodyModelInfo,
    EventInfo,
    MovementInfo,
    PhaseInfo,
    RiskFlag,
    Scalar,
    SegmentInfo,
    UncertaintyInfo,
)
from spacecomputer.domain._placement import PlacementUncertainty
from spacecomputer.errors import InvalidInputError

__all__ = ["DEFAULT_DRAWS", "BiomechanicsOptions", "BiomechanicsResult", "analyze_biomechanics"]

RELIABLE_RELATIVE_UNCERTAINTY = 0.5
"""A scalar whose ± exceeds this share of its magnitude is marked unreliable (our own rule: beyond it, a second
measurement of the same movement could easily read half or twice the value). Angles are judged otherwise
(:data:`RELIABLE_ANGLE_UNCERTAINTY_DEG`)."""
RELIABLE_ANGLE_UNCERTAINTY_DEG = 5.0
"""An angle (unit ``deg``) whose ± exceeds this is marked unreliable, whatever its value (our own rule). An angle's
zero is a convention — a straight knee reads 0° — so "± more than half the value" says nothing about it: a knee
minimum of 0.0° ± 1.0° is known to a degree, a shoulder maximum of 180° ± 37° is not. 5° is the accuracy this project
targets for joint angles (its OpenSim agreement benchmark, ``docs/biomechanics.md``)."""
DEFAULT_DRAWS = 20
"""Monte Carlo draws per run (our own choice: the standard deviation of 20 draws is within about ±30 % of the
true one at 95 % confidence, enough to tell a 1° from a 10° uncertainty)."""
KINETICS_NOTE = (
    "Kinetic quantities (ground reaction force, joint moments, powers, work, energies) are estimated from video "
    "without force plates: F = m(a − g) from the whole-body centre of mass during ground contact, shared between "
    "the feet by contact state, then Newton–Euler inverse dynamics on de Leva's segment model. They inherit the "
    "errors of the second derivative of video landmarks and of the body model."
)


@dataclass(frozen=True)
class BiomechanicsOptions:
    """The subject and how the uncertainty is estimated."""

    mass_kg: float | None = None
    height_m: float | None = None
    sex: Sex | str | None = None
    sport: str | None = None
    draws: int = DEFAULT_DRAWS
    seed: int = 0

    def __post_init__(self) -> None:
        if not 0 <= self.draws <= 1000:
            raise InvalidInputError(f"draws must be between 0 and 1000; got {self.draws}")


@dataclass(frozen=True, eq=False)
class BiomechanicsResult:
    """The section for ``analysis.json``, the ``metrics.csv`` columns and the unperturbed pass."""

    section: BiomechanicsSection
    series: dict[str, NDArray[np.float64]]
    baseline: EnginePass
    body_model: BodyModel


def analyze_biomechanics(
    sequence: PoseSequence,
    *,
    up: ArrayLike,
    up_source: str,
    options: BiomechanicsOptions | None = None,
    raw: PoseSequence | None = None,
    smoothed: PoseSequence | None = None,
    cutoff_hz: float | None = None,
    placement: PlacementUncertainty | None = None,
) -> BiomechanicsResult:
    """Compute every biomechanical quantity of a metric, smoothed sequence, each scalar with its uncertainty.

    Parameters
    ----------
    sequence
        Metric (``camera`` or ``world``) BlazePose sequence after gap filling and the low-pass filter.
    up
        Unit vector pointing up in the sequence's frame.
    up_source
        Where ``up`` came from, in words (recorded in the section).
    options
        Subject anthropometry, sport and Monte Carlo settings.
    raw, cutoff_hz
        The same sequence before the low-pass and the filter's cut-off, Hz: they measure the landmark jitter
        of the uncertainty model (see :mod:`~spacecomputer.biomech._uncertainty`).
    smoothed
        ``raw`` after the low-pass, when ``sequence`` was then put on a rigid skeleton: the jitter is measured as
        ``raw − smoothed``, not against the fitted landmarks (whose departure from ``raw`` is mostly the fit's
        correction, not noise). Default: ``sequence``.
    placement
        The smoothed depth's error in ``sequence``'s frame, on the same frames: each Monte Carlo draw moves the
        body by a draw of it (step 4 of the uncertainty model). ``None`` (no depth smoother, e.g. the elite
        clips) leaves the uncertainty to the landmark noise.

    Raises
    ------
    InvalidInputError, InvalidPoseDataError, InsufficientDataError
        Unusable anthropometry, a non-metric or non-BlazePose sequence, too few frames.

    """
    options = options or BiomechanicsOptions()
    up_unit = up_unit_vector(up)
    model = BodyModel.from_anthropometry(mass_kg=options.mass_kg, height_m=options.height_m, sex=options.sex)
    movement = _movement(sequence, model, up_unit, options.sport)
    baseline = evaluate(sequence, model, up=up_unit, family=movement.family)
    noise = landmark_noise(raw, sequence if smoothed is None else smoothed, cutoff_hz=cutoff_hz)

    def scalars_of(perturbed: PoseSequence) -> dict[str, float | None]:
        result = evaluate(perturbed, model, up=up_unit, family=movement.family)
        values = {name: entry.metric.value for name, entry in result.scalars.items()}
        values.update({f"risk:{flag.name}": flag.value for flag in result.risk})
        return values

    spread = monte_carlo_spread(
        sequence, noise, scalars_of, draws=options.draws, seed=options.seed, cutoff_hz=cutoff_hz, placement=placement
    )
    series = metrics_series(sequence, baseline, model, up_unit)
    section = BiomechanicsSection(
        coordinate_frame=sequence.frame.value,
        up=[round(float(c), 6) for c in up_unit],
        up_source=up_source,
        body_model=_body_model_info(sequence, model, options),
        movement=movement,
        scalars=_scalars(baseline, spread),
        angles=_angles(baseline),
        events=_events(sequence, baseline),
        phases=_phases(baseline),
        risk=_risk(baseline, spread),
        kinetics_note=KINETICS_NOTE,
        uncertainty=_uncertainty_info(noise, spread, options, placement),
        series_columns=list(series),
        warnings=_warnings(baseline, spread),
    )
    return BiomechanicsResult(section=section, series=series, baseline=baseline, body_model=model)


def _movement(sequence: PoseSequence, model: BodyModel, up: NDArray[np.float64], sport: str | None) -> MovementInfo:
    if sport is not None:
        family = movement_family(sport)
        evidence = (
            f"--sport {sport!r} maps to the {family} metrics"
            if family is not None
            else f"--sport {sport!r} maps to no movement family: no movement metrics"
        )
        return MovementInfo(family=family, source="sport_option", confidence=None, evidence=evidence)
    detected = detect_movement(sequence, up=up, contacts=detect_foot_contacts(sequence, up=up), body_model=model)
    return MovementInfo(
        family=detected.family,
        source="detected" if detected.family is not None else "none",
        confidence=round(float(detected.confidence), 3),
        evidence=detected.evidence,
    )


def _scalars(baseline: EnginePass, spread: DrawSpread) -> list[Scalar]:
    scalars = []
    for name, entry in baseline.scalars.items():
        metric = entry.metric
        uncertainty = spread.std(name) if metric.available else None
        reliable = is_reliable(metric.value, uncertainty, metric.unit)
        display = (
            format_measurement(metric.value, uncertainty, metric.unit) + ("" if reliable else " (unreliable)")
            if metric.available
            else f"unavailable: {metric.reason}"
        )
        scalars.append(
            Scalar(
                name=name,
                category=entry.category,
                value=metric.value,
                uncertainty=uncertainty,
                unit=metric.unit,
                display=display,
                reliable=reliable,
                available=metric.available,
                reason=metric.reason,
                convention=metric.convention,
                estimated_from_video=entry.estimated_from_video,
            )
        )
    return scalars


def _risk(baseline: EnginePass, spread: DrawSpread) -> list[RiskFlag]:
    flags = []
    for flag in baseline.risk:
        uncertainty = spread.std(f"risk:{flag.name}") if flag.value is not None else None
        display = (
            format_measurement(flag.value, uncertainty, flag.unit)
            + ("" if is_reliable(flag.value, uncertainty, flag.unit) else " (unreliable)")
            if flag.value is not None
            else f"unavailable: {flag.reason}"
        )
        draws = spread.values.get(f"risk:{flag.name}", [])
        agreement = None
        if flag.value is not None and len(draws) >= MIN_DRAWS_FOR_SPREAD:
            same = [_level(v, flag.yellow_threshold, flag.red_threshold) == flag.level for v in draws]
            agreement = round(sum(same) / len(same), 3)
        flags.append(
            RiskFlag(
                name=flag.name,
                value=flag.value,
                uncertainty=uncertainty,
                unit=flag.unit,
                display=display,
                level=flag.level,
                level_agreement=agreement,
                rule=flag.rule,
                yellow_threshold=flag.yellow_threshold,
                red_threshold=flag.red_threshold,
                source=flag.source,
                heuristic=flag.heuristic,
                reason=flag.reason,
                time_s=flag.time_s,
                row=flag.frame_index,
            )
        )
    return flags


def is_reliable(value: float | None, uncertainty: float | None, unit: str) -> bool:
    """Return whether a reported value passes the reliability rule of its unit (:func:`unreliable_because`)."""
    if value is None or uncertainty is None:
        return True
    if unit == "deg":
        return uncertainty <= RELIABLE_ANGLE_UNCERTAINTY_DEG
    return uncertainty <= RELIABLE_RELATIVE_UNCERTAINTY * abs(value)


def unreliable_because(unit: str) -> str:
    """Return, in words, the rule an unreliable value of this unit broke."""
    if unit == "deg":
        return f"the uncertainty is more than {RELIABLE_ANGLE_UNCERTAINTY_DEG:g}°"
    return "the uncertainty is more than half the value"


def _level(value: float, yellow: float | None, red: float | None) -> str:
    """Level of a draw's value under a flag's thresholds (red above yellow: higher is worse, else lower is)."""
    if yellow is None or red is None:
        return "unavailable"
    worse_when_higher = red > yellow
    if (value > red) if worse_when_higher else (value < red):
        return "red"
    if (value > yellow) if worse_when_higher else (value < yellow):
        return "yellow"
    return "green"


def _angles(baseline: EnginePass) -> list[AngleInfo]:
    def info(series: KinematicSeries, kind: str) -> AngleInfo:
        return AngleInfo(
            name=series.name,
            kind="joint" if kind == "joint" else "segment",
            convention=series.convention,
            landmarks=list(series.landmarks),
            available=series.available,
            reason=series.reason,
        )

    return [info(s, "joint") for s in baseline.joint_angles.values()] + [
        info(s, "segment") for s in baseline.segment_angles.values()
    ]


def _events(sequence: PoseSequence, baseline: EnginePass) -> list[EventInfo]:
    return [
        EventInfo(
            foot=event.foot,
            kind=event.kind,
            row=event.frame_index,
            video_frame=int(sequence.frame_indices[event.frame_index]),
            time_s=round(event.time_s, 6),
        )
        for event in baseline.contacts.events
    ]


def _phases(baseline: EnginePass) -> list[PhaseInfo]:
    phases = [*contact_phases(baseline.contacts), *flight_phases(baseline.contacts)]
    phases.sort(key=lambda p: (p.start_index, p.kind))
    return [
        PhaseInfo(
            kind=p.kind,
            foot=p.foot,
            start_row=p.start_index,
            end_row=p.end_index,
            start_s=round(p.start_s, 6),
            end_s=round(p.end_s, 6),
            duration_s=round(p.duration_s, 6),
        )
        for p in phases
    ]


def _body_model_info(sequence: PoseSequence, model: BodyModel, options: BiomechanicsOptions) -> BodyModelInfo:
    lengths = segment_lengths_m(sequence, model)
    masses = model.segment_masses_kg
    return BodyModelInfo(
        source=(
            "de Leva P. (1996) Adjustments to Zatsiorsky–Seluyanov's segment inertia parameters. "
            "Journal of Biomechanics 29(9):1223–1230, Table 4"
        ),
        sex=None if model.sex is None else model.sex.value,
        mass_kg=model.mass_kg,
        mass_source="given" if options.mass_kg is not None else "default",
        height_m=model.height_m,
        height_source="given" if options.height_m is not None else "default",
        notes=list(model.defaults_used),
        segments=[
            SegmentInfo(
                name=s.name,
                mass_kg=round(masses[s.name], 4),
                length_m=round(lengths[s.name], 4) if np.isfinite(lengths.get(s.name, np.nan)) else None,
                com_fraction=s.com_fraction,
            )
            for s in model.segments
        ],
    )


def _uncertainty_info(
    noise: LandmarkNoise, spread: DrawSpread, options: BiomechanicsOptions, placement: PlacementUncertainty | None
) -> UncertaintyInfo:
    finite = noise.sigma_m[np.isfinite(noise.sigma_m)]
    measured = noise.measured
    notes = [
        "± is one standard deviation over the draws of the value's spread caused by landmark noise"
        + ("" if placement is None else " and the smoothed depth's error")
        + "; it does not include errors that are constant over the clip (monocular depth bias, height, mass, "
        "body model).",
        "landmark noise measured as the jitter the low-pass removed: a part common to all landmarks of a frame "
        "(the body's placement in space) and each landmark's own part"
        if measured
        else "landmark noise not measured (no raw sequence): a default standard deviation was assumed, with no "
        "common part",
        f"noise scaled by 1 / max(visibility, {VISIBILITY_FLOOR}) per landmark and frame",
    ]
    if placement is not None:
        sigma_m = placement.depth_error.sigma_m[np.isfinite(placement.direction).all(axis=1)]
        notes.append(
            "each draw also moves the whole body along the line of sight by a draw of the depth smoother's own "
            "error (its posterior standard deviation and correlation in time"
            + (
                f": median {np.median(sigma_m):.2f} m, {np.min(sigma_m):.2f}–{np.max(sigma_m):.2f} m)"
                if sigma_m.size
                else ")"
            )
        )
    if spread.failed_draws:
        notes.append(f"{spread.failed_draws} of {spread.draws} draws could not be computed and were skipped")
    return UncertaintyInfo(
        method="monte_carlo_landmark_perturbation",
        draws=options.draws,
        seed=options.seed,
        median_landmark_sigma_m=round(float(np.median(finite)), 5) if finite.size else None,
        common_sigma_m=[round(float(v), 5) for v in noise.common_sigma_m],
        notes=notes,
    )


def _warnings(baseline: EnginePass, spread: DrawSpread) -> list[str]:
    warnings = []
    if baseline.contacts.unavailable_reason is not None:
        warnings.append(f"foot contacts unknown: {baseline.contacts.unavailable_reason}")
    clipped = baseline.ground_reaction.clipped_frames
    if clipped:
        warnings.append(
            f"estimated vertical ground reaction force was negative in {clipped} contact frames and set to zero "
            "(the centre-of-mass acceleration exceeded gravity downwards: landmark noise or a wrong contact state)"
        )
    limited = baseline.ground_reaction.friction_limited_frames
    if limited:
        warnings.append(
            f"estimated horizontal ground reaction force exceeded the vertical one (friction coefficient "
            f"{MAX_FRICTION_COEFFICIENT:g}) in {limited} contact frames and was scaled down: the body's placement "
            "in depth is noisy in this video"
        )
    implausible = int(baseline.implausible.sum())
    if implausible:
        warnings.append(
            f"{implausible} frames with an implausible centre-of-mass acceleration (> 10 g: a tracking glitch) were "
            "left out of the kinetics, energies and stability"
        )
    unreliable = int(baseline.unreliable_position.sum())
    if unreliable:
        warnings.append(
            f"{unreliable} frames with an unreliable global position (the body's depth was not measured there) "
            "were left out of the centre-of-mass speeds, kinetics, energies and stability"
        )
    if spread.draws and spread.failed_draws == spread.draws:
        warnings.append("no Monte Carlo draw could be computed: no uncertainty is reported")
    return warnings
