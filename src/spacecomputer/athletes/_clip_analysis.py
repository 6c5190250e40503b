"""A library clip through the same biomechanics engine as a user's video, keeping only what its data can support.

The clip, scaled to the reference stature (:mod:`spacecomputer.athletes._reference`), goes through
:func:`spacecomputer.biomech.analyze_biomechanics` — events, phases, angles, movement metrics, risk indicators,
each with its Monte Carlo uncertainty. Everything whose value depends on that arbitrary scale (lengths, speeds,
forces, moments, powers, energies, and the stability margins built on them) is dropped and listed by name in
``left_out``; what remains is scale-free: angles (deg), angular velocities (deg/s), durations (s), frequencies (Hz)
and percentages.
"""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field

from spacecomputer.biomech import DEFAULT_DRAWS, BiomechanicsOptions, analyze_biomechanics
from spacecomputer.domain._analysis_biomech import AngleInfo, EventInfo, MovementInfo, PhaseInfo, RiskFlag, Scalar

from ._library import AthleteLibrary
from ._reference import IMAGE_UP, scale_reference_clip

__all__ = ["SCALE_FREE_UNITS", "ClipAnalysis", "analyse_clip"]

SCALE_FREE_UNITS = frozenset({"deg", "deg/s", "s", "Hz", "%"})
"""Units of the quantities a library clip can support (no metric scale needed)."""
_SCALE_DEPENDENT_NAMES = ("margin_of_stability",)
"""Scale-free units but built on lengths (the extrapolated centre of mass uses the leg length)."""


class ClipAnalysis(BaseModel):
    """The engine's results for one library clip, scale-free quantities only (module docstring)."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    clip_id: str
    movement: MovementInfo
    scalars: list[Scalar]
    risk: list[RiskFlag]
    angles: list[AngleInfo]
    events: list[EventInfo]
    phases: list[PhaseInfo]
    left_out: list[str] = Field(description="Quantities dropped because they depend on the stature scale.")
    notes: list[str]
    warnings: list[str]


def analyse_clip(library: AthleteLibrary, clip_id: str, *, draws: int = DEFAULT_DRAWS) -> ClipAnalysis:
    """Run the biomechanics engine on a library clip and keep its scale-free results.

    Raises
    ------
    NotFoundError
        No such clip (the valid ids are listed).
    InsufficientDataError
        The clip has too little pose for the engine.

    """
    entry = library.get(clip_id)
    scaled = scale_reference_clip(library.sequence(clip_id))
    result = analyze_biomechanics(
        scaled.smoothed,
        up=IMAGE_UP,
        up_source="the image's up (level camera assumed)",
        options=BiomechanicsOptions(sport=entry.movement, draws=draws),
        raw=scaled.raw,
        cutoff_hz=scaled.cutoff_hz,
    )
    section = result.section

    def supported(name: str, unit: str) -> bool:
        return unit in SCALE_FREE_UNITS and not name.startswith(_SCALE_DEPENDENT_NAMES)

    scalars = [s for s in section.scalars if supported(s.name, s.unit)]
    risk = [r for r in section.risk if supported(r.name, r.unit)]
    left_out = sorted(
        [s.name for s in section.scalars if not supported(s.name, s.unit)]
        + [r.name for r in section.risk if not supported(r.name, r.unit)]
    )
    notes = [
        *scaled.notes,
        "only scale-free quantities are kept (angles, angular velocities, durations, frequencies, percentages); "
        "lengths, speeds, forces, moments, powers, energies and stability margins are left out",
    ]
    return ClipAnalysis(
        clip_id=clip_id,
        movement=section.movement,
        scalars=scalars,
        risk=risk,
        angles=section.angles,
        events=section.events,
        phases=section.phases,
        left_out=left_out,
        notes=notes,
        warnings=section.warnings,
    )
