"""Which plots the report draws and which ``metrics.csv`` columns each holds (:data:`PLOTS`).

Column names follow ``metrics.csv``: joint angles ``<angle>_deg``, segment angles
``<segment>_segment_angle_deg``, moments ``<joint>_moment_n_m_per_kg``, powers ``<joint>_power_w``, and so
on. Sign conventions in the descriptions are those of the modules that compute the columns.
"""

from __future__ import annotations

from dataclasses import dataclass

from spacecomputer.biomech._movement_metrics import STANDARD_GRAVITY_M_S2

__all__ = ["PLOTS", "SIDES", "PlotSpec", "Trace"]

SIDES = ("left", "right")
_UPPER_JOINTS = ("shoulder", "elbow", "wrist")
_JOINTS = ("ankle", "knee", "hip", *_UPPER_JOINTS)
_SEGMENTS = ("thigh", "shank", "foot", "upper_arm", "forearm")


@dataclass(frozen=True)
class Trace:
    """One line of a plot: a ``metrics.csv`` column, optionally divided by the body weight (N → BW)."""

    column: str
    label: str | None = None
    per_body_weight: bool = False
    hidden: bool = False


@dataclass(frozen=True)
class PlotSpec:
    """A plot: its anchor ``key``, title, y-axis label, traces and a one-line description."""

    key: str
    title: str
    y_label: str
    traces: tuple[Trace, ...]
    description: str = ""
    estimated_from_video: bool = False


def _sided(names: tuple[str, ...], suffix: str, *, hide_upper: bool = False) -> tuple[Trace, ...]:
    return tuple(
        Trace(f"{side}_{name}{suffix}", hidden=hide_upper and name.split("_")[0] in _UPPER_JOINTS)
        for name in names
        for side in SIDES
    )


PLOTS: tuple[PlotSpec, ...] = (
    PlotSpec(
        "sagittal-angles",
        "Lower-limb sagittal joint angles",
        "angle (°)",
        _sided(("hip_flexion", "knee_flexion", "ankle_dorsiflexion"), "_deg"),
        "Flexion positive; ankle: dorsiflexion positive (0° = foot perpendicular to the shank).",
    ),
    PlotSpec(
        "upper-limb-angles",
        "Upper-limb joint angles",
        "angle (°)",
        _sided(("shoulder_flexion", "shoulder_abduction", "shoulder_elevation", "elbow_flexion"), "_deg"),
        "Shoulder angles of the upper arm in the thorax frame; elbow 0° = straight.",
    ),
    PlotSpec(
        "trunk-angles",
        "Trunk and pelvis angles",
        "angle (°)",
        tuple(Trace(f"{name}_deg") for name in ("trunk_flexion", "trunk_lateral_lean", "pelvis_obliquity")),
        "Trunk flexion forward positive, lateral lean to the right positive, pelvis obliquity right hip higher.",
    ),
    PlotSpec("other-angles", "Other joint angles", "angle (°)", _sided(("hip_adduction",), "_deg")),
    PlotSpec(
        "segment-angles",
        "Segment angles to the horizontal",
        "angle (°)",
        (Trace("trunk_segment_angle_deg"), *_sided(_SEGMENTS, "_segment_angle_deg")),
        "Proximal→distal vector above the forward horizontal in the sagittal plane: 0° forward, +90° up.",
    ),
    PlotSpec(
        "joint-moments",
        "Net joint moments per kg body mass",
        "moment (N·m/kg)",
        _sided(_JOINTS, "_moment_n_m_per_kg", hide_upper=True),
        "Sagittal (flexion-axis) moments; positive = extensor at hip and knee, plantarflexor at the ankle. "
        "Upper-limb traces start hidden: click their legend entries.",
        estimated_from_video=True,
    ),
    PlotSpec(
        "joint-powers",
        "Joint powers",
        "power (W)",
        _sided(_JOINTS, "_power_w", hide_upper=True),
        "Moment × angular velocity: positive = energy generated at the joint, negative = absorbed. "
        "Upper-limb traces start hidden.",
        estimated_from_video=True,
    ),
    PlotSpec(
        "ground-reaction",
        "Ground reaction force in body weights",
        "force (body weights)",
        (
            Trace("grf_vertical_bw", "vertical, both feet"),
            Trace("grf_left_vertical_n", "vertical, left foot", per_body_weight=True),
            Trace("grf_right_vertical_n", "vertical, right foot", per_body_weight=True),
            Trace("grf_horizontal_n", "horizontal", per_body_weight=True),
        ),
        f"1 body weight = body mass × g (g = {STANDARD_GRAVITY_M_S2} m/s²); no force plate was used.",
        estimated_from_video=True,
    ),
    PlotSpec("com-height", "Centre of mass height", "height (m)", (Trace("com_height_m", "above the ground"),)),
    PlotSpec(
        "com-velocity",
        "Centre of mass speed",
        "velocity (m/s)",
        (Trace("com_horizontal_speed_m_s", "horizontal speed"), Trace("com_vertical_velocity_m_s", "vertical")),
        "Vertical velocity is positive upwards.",
    ),
    PlotSpec(
        "energy",
        "Whole-body mechanical energy",
        "energy (J)",
        tuple(Trace(f"energy_{kind}_j", kind) for kind in ("translational", "rotational", "potential", "total")),
    ),
    PlotSpec(
        "stability",
        "Stability",
        "distance (m)",
        (Trace("com_to_bos_m", "COM to base of support"), Trace("margin_of_stability_m", "margin of stability")),
    ),
)
"""Every plot of the report, in page order."""
