"""What of a run answers each (joint, quantity) of the brain's vocabulary: metrics.csv columns, scalars, angles.

A :class:`MetricSpec` names, for one side, the ``metrics.csv`` column of a quantity, the ``analysis.json`` scalars
that summarise it (by statistic) and the joint angle it rests on. :func:`metric_specs` builds them; it knows the
vocabulary only, not a run: the engine (:mod:`spacecomputer.brain._analytics`) checks what the run has.

Resolved combinations (statistic ``value`` is the column at a row; the others are the scalar where one is named,
else computed from the column):

- angles, statistics max, min, range (scalars), mean (column), value: hip flexion, adduction; knee flexion; ankle
  dorsiflexion; shoulder flexion, abduction, elevation; elbow flexion; trunk flexion, lateral lean; pelvis
  obliquity. Hip and shoulder internal rotation, forearm pronation (elbow or wrist) and pelvis tilt resolve to
  their angle, which the analysis reports as not observable.
- ``angular_velocity`` of each joint's default angle (:data:`DEFAULT_ANGLE`): max, min, mean, range, value.
- ``moment`` (N·m/kg; max is the peak scalar for hip, knee, ankle), ``power`` (W; same), ``work`` (J: positive
  and negative work, whole clip) at hip, knee, ankle, shoulder, elbow, wrist.
- whole body (joint ``com`` or none): ``speed`` (max, mean scalars), ``vertical_velocity``, ``height`` (range
  scalar), ``grf`` (max scalars in N and BW; per foot with a side), ``grf_horizontal`` (the column's
  statistics: no scalar), ``energy`` (range scalar),
  ``margin_of_stability`` (min, mean scalars), ``com_over_base`` (scalar; value: COM-to-base distance),
  ``jump_height``, ``flight_time``, ``takeoff_velocity``, ``step_length``, ``step_frequency``, ``contact_time``
  (whole-clip scalars of the movement family).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

__all__ = [
    "ANGLES",
    "BILATERAL_JOINTS",
    "DEFAULT_ANGLE",
    "HEADLINE_SCALARS",
    "KINETIC_QUANTITIES",
    "SCALAR_LABELS",
    "STATISTIC_WORDS",
    "WHOLE_BODY_QUANTITIES",
    "MetricSpec",
    "canonical_quantity",
    "metric_specs",
    "risk_label",
]

BILATERAL_JOINTS = ("hip", "knee", "ankle", "shoulder", "elbow", "wrist")
"""Joints with a left and a right."""

ANGLES: Mapping[str, Mapping[str, str]] = {
    "hip": {"flexion": "hip_flexion", "adduction": "hip_adduction", "internal_rotation": "hip_internal_rotation"},
    "knee": {"flexion": "knee_flexion"},
    "ankle": {"dorsiflexion": "ankle_dorsiflexion"},
    "shoulder": {
        "flexion": "shoulder_flexion",
        "abduction": "shoulder_abduction",
        "elevation": "shoulder_elevation",
        "internal_rotation": "shoulder_internal_rotation",
    },
    "elbow": {"flexion": "elbow_flexion", "pronation": "forearm_pronation"},
    "wrist": {"pronation": "forearm_pronation"},
    "trunk": {"flexion": "trunk_flexion", "lateral_lean": "trunk_lateral_lean"},
    "pelvis": {"obliquity": "pelvis_obliquity", "tilt": "pelvis_tilt"},
}
"""Joint → angle quantity → the analysis' angle name without its side (``biomechanics.angles``)."""

DEFAULT_ANGLE: Mapping[str, str] = {
    "hip": "flexion",
    "knee": "flexion",
    "ankle": "dorsiflexion",
    "shoulder": "flexion",
    "elbow": "flexion",
    "trunk": "flexion",
    "pelvis": "obliquity",
}
"""The angle meant by a joint named with ``angle`` or with no quantity."""

_ALIASES: Mapping[str, str] = {"extension": "flexion", "plantarflexion": "dorsiflexion", "bend": "flexion"}
_SIGNED_PAIRS: Mapping[tuple[str, str], str] = {
    ("hip", "abduction"): "adduction",
    ("shoulder", "adduction"): "abduction",
}

KINETIC_QUANTITIES = ("moment", "power", "work")
_MOMENT_WORD: Mapping[str, str] = {
    "hip": "extensor",
    "knee": "extensor",
    "ankle": "plantarflexor",
    "shoulder": "flexor",
    "elbow": "flexor",
    "wrist": "flexor",
}
"""The direction a positive net moment of the joint turns (``docs/analysis-schema.md``)."""
_PEAK_MOMENT_JOINTS = ("hip", "knee", "ankle")
"""Joints whose peak moment and power are scalars of the analysis."""

WHOLE_BODY_QUANTITIES = (
    "speed",
    "vertical_velocity",
    "height",
    "grf",
    "grf_horizontal",
    "energy",
    "margin_of_stability",
    "com_over_base",
    "jump_height",
    "flight_time",
    "takeoff_velocity",
    "step_length",
    "step_frequency",
    "contact_time",
)

STATISTIC_WORDS: Mapping[str, str] = {"max": "peak", "min": "lowest", "range": "range of", "mean": "mean"}

SCALAR_LABELS: Mapping[str, str] = {
    "jump_height_com_rise_m": "jump height (centre-of-mass rise)",
    "jump_height_flight_time_m": "jump height (from the flight time)",
    "jump_flight_time_s": "flight time of the longest flight",
    "takeoff_vertical_velocity_m_s": "vertical take-off velocity",
    "flight_time_s": "mean flight time",
    "step_length_m": "mean step length",
    "step_frequency_hz": "step frequency",
    "ground_contact_time_s": "mean ground contact time",
    "com_horizontal_speed_peak_m_s": "peak centre-of-mass horizontal speed",
    "com_horizontal_speed_mean_m_s": "mean centre-of-mass horizontal speed",
    "peak_knee_flexion_deg": "peak knee flexion after landing",
    "time_to_peak_knee_flexion_s": "time from landing to peak knee flexion",
    "end_effector_peak_speed_m_s": "peak speed of the striking hand or foot",
    "com_over_base_of_support_percent": "share of stance frames with the centre of mass over the base of support",
}
"""Plain words for the whole-clip scalars that are not a statistic of one series."""

HEADLINE_SCALARS: Mapping[str, tuple[str, ...]] = {
    "jump": (
        "jump_height_com_rise_m",
        "jump_height_flight_time_m",
        "jump_flight_time_s",
        "takeoff_vertical_velocity_m_s",
    ),
    "sprint": ("com_horizontal_speed_peak_m_s", "step_length_m", "step_frequency_hz", "ground_contact_time_s"),
    "landing": ("peak_knee_flexion_deg", "time_to_peak_knee_flexion_s"),
    "strike": ("end_effector_peak_speed_m_s",),
    "throw": ("end_effector_peak_speed_m_s",),
}
"""Movement family → the scalars an overview of the run leads with."""

_RISK_LABELS: Mapping[str, str] = {
    "knee_frontal_plane_projection_angle": "knee frontal-plane projection angle (knee valgus)",
    "landing_peak_knee_flexion": "peak knee flexion at landing",
    "trunk_lateral_lean_peak": "peak trunk lateral lean",
    "peak_knee_extensor_moment_per_kg": "peak knee extensor moment",
}


@dataclass(frozen=True)
class MetricSpec:
    """Where one side of a quantity lives in a run (module docstring)."""

    metric: str
    """Side-free name of what is resolved: ``knee_flexion``, ``knee_moment``, ``com_speed``, ``jump_height``."""
    label: str
    """Plain words, side included: ``left knee flexion``."""
    unit: str
    column: str | None = None
    """The ``metrics.csv`` column (``None``: the quantity is a whole-clip number only)."""
    scalars: Mapping[str, str] = field(default_factory=dict)
    """Statistic → the ``biomechanics.scalars`` name that gives it."""
    clip_scalars: tuple[str, ...] = ()
    """Whole-clip scalars that answer every statistic but ``value`` (work, jump height, …)."""
    angle: str | None = None
    """The ``biomechanics.angles`` name the quantity rests on (availability; per-frame uncertainty)."""
    side: str | None = None
    """``left`` or ``right`` for one side of the body, ``None`` for the trunk, pelvis or whole body."""
    estimated_from_video: bool = False


def canonical_quantity(joint: str | None, quantity: str) -> str:
    """Map synonyms a question may still carry onto the vocabulary (``extension`` → ``flexion``).

    >>> canonical_quantity("hip", "abduction")
    'adduction'
    """
    quantity = _ALIASES.get(quantity, quantity)
    if joint is not None and quantity == "angle":
        return DEFAULT_ANGLE.get(joint, quantity)
    return _SIGNED_PAIRS.get((joint or "", quantity), quantity)


def risk_label(name: str) -> str:
    """Plain words for a risk indicator name of ``analysis.json`` (``..._left`` → ``left ...``).

    >>> risk_label("landing_peak_knee_flexion_left")
    'left peak knee flexion at landing'
    """
    base, side = name, ""
    for suffix in ("_left", "_right"):
        if name.endswith(suffix):
            base, side = name.removesuffix(suffix), suffix[1:] + " "
    if base.startswith("asymmetry_"):
        measure = base.removeprefix("asymmetry_").removesuffix("_deg").removesuffix("_n_m_per_kg")
        return "left–right asymmetry of " + measure.replace("_", " ")
    return side + _RISK_LABELS.get(base, base.replace("_", " "))


def metric_specs(joint: str | None, quantity: str, sides: tuple[str, ...]) -> tuple[MetricSpec, ...]:
    """Return the specs of ``quantity`` of ``joint`` for each of ``sides``; ``()`` for a combination not known.

    ``sides`` matter for bilateral joints and for ``grf`` (per foot; ``()`` for the total); ``joint`` ``None`` or
    ``com`` means the whole body.
    """
    if joint is None or joint == "com":
        return _whole_body_specs(quantity, sides) if quantity in WHOLE_BODY_QUANTITIES else ()
    if quantity in ANGLES.get(joint, {}):
        return tuple(_angle_spec(joint, quantity, side) for side in _sides(joint, sides))
    if quantity == "angular_velocity" and joint in DEFAULT_ANGLE:
        return tuple(_velocity_spec(joint, side) for side in _sides(joint, sides))
    if quantity in KINETIC_QUANTITIES and joint in BILATERAL_JOINTS:
        return tuple(_kinetic_spec(joint, quantity, side) for side in sides)
    return ()


def _sides(joint: str, sides: tuple[str, ...]) -> tuple[str | None, ...]:
    return tuple(sides) if joint in BILATERAL_JOINTS else (None,)


def _prefixed(side: str | None, name: str) -> str:
    return name if side is None else f"{side}_{name}"


def _angle_spec(joint: str, quantity: str, side: str | None) -> MetricSpec:
    angle = _prefixed(side, ANGLES[joint][quantity])
    scalars = {stat: f"{angle}_{stat}_deg" for stat in ("max", "min", "range")}
    words = angle.replace("_", " ")
    return MetricSpec(f"{joint}_{quantity}", words, "deg", f"{angle}_deg", scalars, angle=angle, side=side)


def _velocity_spec(joint: str, side: str | None) -> MetricSpec:
    angle = _prefixed(side, ANGLES[joint][DEFAULT_ANGLE[joint]])
    label = angle.replace("_", " ") + " angular velocity"
    column = f"{angle}_velocity_deg_s"
    return MetricSpec(f"{joint}_angular_velocity", label, "deg/s", column, angle=angle, side=side)


def _kinetic_spec(joint: str, quantity: str, side: str) -> MetricSpec:
    key = f"{side}_{joint}"
    if quantity == "work":
        clip = (f"{key}_positive_work_j", f"{key}_negative_work_j")
        return MetricSpec(
            f"{joint}_work", f"{side} {joint} work", "J", clip_scalars=clip, side=side, estimated_from_video=True
        )
    if quantity == "moment":
        peak = f"peak_{key}_{_MOMENT_WORD[joint]}_moment_n_m_per_kg"
        scalars = {"max": peak} if joint in _PEAK_MOMENT_JOINTS else {}
        label = f"{side} {joint} {_MOMENT_WORD[joint]} moment"
        column = f"{key}_moment_n_m_per_kg"
        return MetricSpec(f"{joint}_moment", label, "N·m/kg", column, scalars, side=side, estimated_from_video=True)
    scalars = {"max": f"peak_{key}_power_w"} if joint in _PEAK_MOMENT_JOINTS else {}
    label = f"{side} {joint} power"
    return MetricSpec(f"{joint}_power", label, "W", f"{key}_power_w", scalars, side=side, estimated_from_video=True)


_CLIP_QUANTITIES: Mapping[str, tuple[str, str, tuple[str, ...]]] = {
    "jump_height": ("jump height", "m", ("jump_height_com_rise_m", "jump_height_flight_time_m")),
    "flight_time": ("flight time", "s", ("jump_flight_time_s", "flight_time_s")),
    "takeoff_velocity": ("take-off velocity", "m/s", ("takeoff_vertical_velocity_m_s",)),
    "step_length": ("step length", "m", ("step_length_m",)),
    "step_frequency": ("step frequency", "Hz", ("step_frequency_hz",)),
    "contact_time": ("ground contact time", "s", ("ground_contact_time_s",)),
}
"""Quantity → label, unit and the whole-clip scalars of the movement families that answer it."""


def _whole_body_specs(quantity: str, sides: tuple[str, ...]) -> tuple[MetricSpec, ...]:
    if quantity in _CLIP_QUANTITIES:
        label, unit, clip = _CLIP_QUANTITIES[quantity]
        return (MetricSpec(quantity, label, unit, clip_scalars=clip),)
    if quantity == "grf":
        if sides:
            return tuple(
                MetricSpec(
                    "grf",
                    f"{side} foot vertical ground reaction force",
                    "N",
                    f"grf_{side}_vertical_n",
                    side=side,
                    estimated_from_video=True,
                )
                for side in sides
            )
        return (
            MetricSpec(
                "grf",
                "vertical ground reaction force",
                "N",
                "grf_vertical_n",
                {"max": "peak_vertical_grf_n"},
                estimated_from_video=True,
            ),
            MetricSpec(
                "grf",
                "vertical ground reaction force over body weight",
                "BW",
                "grf_vertical_bw",
                {"max": "peak_vertical_grf_bw"},
                estimated_from_video=True,
            ),
        )
    specs: Mapping[str, MetricSpec] = {
        "grf_horizontal": MetricSpec(
            "grf_horizontal",
            "horizontal ground reaction force",
            "N",
            "grf_horizontal_n",
            estimated_from_video=True,
        ),
        "speed": MetricSpec(
            "com_speed",
            "centre-of-mass horizontal speed",
            "m/s",
            "com_horizontal_speed_m_s",
            {"max": "com_peak_horizontal_speed_m_s", "mean": "com_mean_horizontal_speed_m_s"},
        ),
        "vertical_velocity": MetricSpec(
            "com_vertical_velocity", "centre-of-mass vertical velocity", "m/s", "com_vertical_velocity_m_s"
        ),
        "height": MetricSpec(
            "com_height", "centre-of-mass height", "m", "com_height_m", {"range": "com_vertical_excursion_m"}
        ),
        "energy": MetricSpec(
            "energy",
            "total mechanical energy",
            "J",
            "energy_total_j",
            {"range": "mechanical_energy_range_j"},
            estimated_from_video=True,
        ),
        "margin_of_stability": MetricSpec(
            "margin_of_stability",
            "margin of stability",
            "m",
            "margin_of_stability_m",
            {"min": "margin_of_stability_min_m", "mean": "margin_of_stability_mean_m"},
        ),
        "com_over_base": MetricSpec(
            "com_over_base",
            "distance of the centre of mass inside the base of support",
            "m",
            "com_to_bos_m",
            clip_scalars=("com_over_base_of_support_percent",),
        ),
    }
    return (specs[quantity],)
