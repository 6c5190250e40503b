"""Words of the analytics engine: questions back listing what a run has, labels, and what explains a metric."""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence

import numpy as np
from numpy.typing import NDArray

from spacecomputer.brain._analytics_vocab import (
    ANGLES,
    BILATERAL_JOINTS,
    KINETIC_QUANTITIES,
    SCALAR_LABELS,
    WHOLE_BODY_QUANTITIES,
    MetricSpec,
    metric_specs,
)
from spacecomputer.brain._types import Entities, Side
from spacecomputer.domain._analysis_biomech import AngleInfo, BiomechanicsSection, Scalar

__all__ = ["Clarifier", "clip_scalar_label", "companions"]

_JOINTS = (*BILATERAL_JOINTS, "trunk", "pelvis")
_WORK = re.compile(r"(left|right)_(\w+)_(positive|negative)_work_j")
_ASYMMETRIC_ANGLE = re.compile(r"asymmetry_(hip|knee|ankle)_(\w+)_range_deg")
_ASYMMETRIC_MOMENT = re.compile(r"asymmetry_peak_(hip|knee|ankle)_\w+_moment_n_m_per_kg")
_JOINT_RISKS: Mapping[str, tuple[str, ...]] = {
    "knee": ("knee_frontal_plane_projection_angle", "landing_peak_knee_flexion", "asymmetry"),
    "hip": ("asymmetry",),
    "ankle": ("asymmetry",),
    "trunk": ("trunk_lateral_lean_peak",),
}


def clip_scalar_label(name: str) -> str:
    """Plain words for a whole-clip scalar (``left_knee_positive_work_j`` → ``positive work at the left knee``)."""
    work = _WORK.fullmatch(name)
    if work is not None:
        side, joint, sign = work.groups()
        return f"{sign} work at the {side} {joint}"
    return SCALAR_LABELS.get(name, name.replace("_", " "))


def _words(quantity: str) -> str:
    return quantity.replace("_", " ").replace("grf", "ground reaction force").replace("com ", "centre of mass ")


def _listed(items: Sequence[str]) -> str:
    return items[0] if len(items) == 1 else ", ".join(items[:-1]) + " and " + items[-1]


class Clarifier:
    """Questions back that list what one run has, for entities that name something it has not."""

    def __init__(
        self,
        angles: Mapping[str, AngleInfo],
        scalars: Mapping[str, Scalar],
        series: Mapping[str, NDArray[np.float64]],
        biomechanics: BiomechanicsSection | None,
    ) -> None:
        self._angles, self._scalars, self._series, self._bio = angles, scalars, series, biomechanics

    def _has(self, spec: MetricSpec) -> bool:
        names = (*spec.scalars.values(), *spec.clip_scalars)
        return (spec.column is not None and spec.column in self._series) or any(n in self._scalars for n in names)

    def choices(self, joint: str | None) -> str:
        """List in words what the run has for ``joint`` (``None`` or ``com``: the whole body)."""
        have: list[str] = []
        hidden: list[str] = []
        for quantity, base in ANGLES.get(joint or "", {}).items():
            angle = self._angles.get(f"left_{base}" if joint in BILATERAL_JOINTS else base)
            if angle is not None:
                (have if angle.available else hidden).append(_words(quantity))
        candidates = ["angular_velocity", *KINETIC_QUANTITIES] if joint in _JOINTS else list(WHOLE_BODY_QUANTITIES)
        for quantity in candidates:
            if any(self._has(spec) for spec in metric_specs(joint, quantity, ("left", "right"))):
                have.append(_words(quantity))
        text = _listed(have) if have else "nothing"
        if hidden:
            text += f" (not measurable from video landmarks: {_listed(hidden)})"
        return text

    def what(self, joint: str | None, unknown_terms: Sequence[str] = ()) -> str:
        """Ask which measurement, for entities that name no quantity this run can default to."""
        if joint is not None:
            return f"Which {joint} measurement? For the {joint} this run has {self.choices(joint)}."
        prefix = f"This run has nothing called {_listed(list(unknown_terms))}. " if unknown_terms else ""
        joints = [joint for joint in _JOINTS if self.choices(joint) != "nothing"]
        return (
            f"{prefix}Which measurement do you mean? This run has measurements of the {_listed(joints)} (angles, "
            f"angular velocities, and for the limbs moments, powers and work); for the whole body "
            f"{self.choices(None)}; foot events (contact, toe-off, take-off, landing, flight); and risk indicators "
            f"({_listed(self._risk_families())})."
        )

    def combination(self, joint: str | None, quantity: str) -> str:
        """Ask back about a quantity the joint does not have (``knee`` + ``abduction``)."""
        if joint is None:
            joints = [j for j in _JOINTS if any(self._has(s) for s in metric_specs(j, quantity, ("left", "right")))]
            if not joints:
                return f"This run has no {_words(quantity)}. " + self.what(None)
            return f"{_words(quantity).capitalize()} of which joint? This run has it for the {_listed(joints)}."
        return f"This run has no {joint} {_words(quantity)}. For the {joint} it has {self.choices(joint)}. Which?"

    def unknown_joint(self, joint: str) -> str:
        """Ask back about a body part the vocabulary does not know."""
        return (
            f"This run has no joint called {joint}. It has the {_listed(list(_JOINTS))}, and the whole-body centre "
            "of mass. Which do you mean?"
        )

    def events(self, event: str) -> str:
        """Ask back about an event name not known."""
        return f"This run has no event called {event}. It has contact, toe-off, take-off, landing and flight."

    def risks(self, family: str) -> str:
        """Ask back about a risk indicator family the run does not report."""
        return f"This run has no {family.replace('_', ' ')} indicator. It has: {_listed(self._risk_families())}."

    def span(self) -> str:
        """Say the run's time and frame range in words."""
        times, frames = self._series["time_s"], self._series["video_frame"]
        return (
            f"the run goes from {times[0]:.2f} s to {times[-1]:.2f} s, video frames {int(frames[0])} to "
            f"{int(frames[-1])}"
        )

    def contact_warnings(self) -> str:
        """Return the analysis' warnings about foot contacts as a parenthesis (empty when none)."""
        warnings = [w for w in self._bio.warnings if "contact" in w] if self._bio is not None else []
        return f" ({'; '.join(warnings)})" if warnings else ""

    def _risk_families(self) -> list[str]:
        names = [flag.name for flag in self._bio.risk] if self._bio is not None else []
        families = [
            "asymmetry" if n.startswith("asymmetry_") else n.removesuffix("_left").removesuffix("_right") for n in names
        ]
        return [family.replace("_", " ") for family in dict.fromkeys(families)] or ["none"]


def companions(
    joint: str | None, quantity: str | None, risk: str | None, side: Side | None, risk_names: Sequence[str]
) -> tuple[Entities, ...]:
    """Look-ups whose facts an explanation of a metric needs besides the metric itself.

    A joint moment: the vertical ground reaction force peak, the contact phases (or contact time), and for the
    knee its moment risk indicator. A power: the joint's moment peak. An angle: the risk indicators of that joint.
    The ground reaction force: its peak, the contacts, the landing indicator, the jump height. The jump's, the
    sprint's and the stability's numbers go together. A risk indicator: the quantity it is computed from.
    """
    family = risk or ("asymmetry" if quantity == "asymmetry" else None)
    if family is not None:
        return _risk_companions(family, joint, side, risk_names)
    grf_peak = Entities(quantity="grf", statistic="max")
    contacts = Entities(quantity="contact_time", side=side)
    if quantity == "moment" and joint is not None:
        knee = (Entities(risk="peak_knee_extensor_moment_per_kg", side=side),) if joint == "knee" else ()
        return (grf_peak, contacts, *knee)
    if quantity == "power" and joint is not None:
        return (Entities(joint=joint, side=side, quantity="moment", statistic="max"),)
    if joint is not None and quantity in ANGLES.get(joint, {}):
        return tuple(Entities(joint=joint, side=side, risk=r) for r in _JOINT_RISKS.get(joint, ()))
    groups = (
        ("grf", ("grf", "contact_time", "jump_height")),
        ("jump_height", ("jump_height", "flight_time", "takeoff_velocity", "grf")),
        ("flight_time", ("flight_time", "jump_height", "takeoff_velocity")),
        ("takeoff_velocity", ("takeoff_velocity", "jump_height", "flight_time")),
        ("speed", ("speed", "step_length", "step_frequency", "contact_time")),
        ("step_length", ("step_length", "step_frequency", "speed")),
        ("step_frequency", ("step_frequency", "step_length", "speed")),
        ("contact_time", ("contact_time", "grf", "speed")),
        ("margin_of_stability", ("margin_of_stability", "com_over_base")),
        ("com_over_base", ("com_over_base", "margin_of_stability")),
        ("energy", ("energy", "height", "speed")),
    )
    for name, related in groups:
        if quantity == name:
            extra = (Entities(risk="landing_peak_knee_flexion"),) if name == "grf" else ()
            return (*(Entities(quantity=q) for q in related), *extra)
    return ()


def _risk_companions(
    family: str, joint: str | None, side: Side | None, risk_names: Sequence[str]
) -> tuple[Entities, ...]:
    landing = Entities(event="landing")
    knee_peak = Entities(joint="knee", side=side, quantity="flexion", statistic="max")
    if family in ("knee_frontal_plane_projection_angle", "landing_peak_knee_flexion"):
        return (knee_peak, landing)
    if family == "trunk_lateral_lean_peak":
        return (Entities(joint="trunk", quantity="lateral_lean"),)
    if family == "peak_knee_extensor_moment_per_kg":
        return (Entities(joint="knee", side=side, quantity="moment", statistic="max"), Entities(quantity="grf"))
    found: list[Entities] = []
    for name in risk_names:
        angle = _ASYMMETRIC_ANGLE.fullmatch(name)
        moment = _ASYMMETRIC_MOMENT.fullmatch(name)
        if angle is not None and joint in (None, angle.group(1)):
            found.append(Entities(joint=angle.group(1), quantity=angle.group(2), statistic="range"))
        elif moment is not None and joint in (None, moment.group(1)):
            found.append(Entities(joint=moment.group(1), quantity="moment", statistic="max"))
    return tuple(found)
