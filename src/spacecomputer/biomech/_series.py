"""The per-frame columns of ``metrics.csv`` from one pass of the engine (names carry their units)."""

from __future__ import annotations

import numpy as np
from numpy.typing import NDArray

from spacecomputer.biomech._body_model import BodyModel
from spacecomputer.biomech._engine import EnginePass
from spacecomputer.biomech._events import FEET
from spacecomputer.biomech._kinematics import angular_velocity_deg_s, linear_velocity_m_s
from spacecomputer.biomech._movement_metrics import STANDARD_GRAVITY_M_S2
from spacecomputer.domain import PoseSequence

__all__ = ["metrics_series"]


def metrics_series(
    sequence: PoseSequence, baseline: EnginePass, model: BodyModel, up: NDArray[np.float64]
) -> dict[str, NDArray[np.float64]]:
    """Return the columns of metrics.csv (names carry units; NaN = unknown)."""
    t = sequence.timestamps_s
    columns: dict[str, NDArray[np.float64]] = {
        "row": np.arange(sequence.n_frames, dtype=np.float64),
        "video_frame": sequence.frame_indices.astype(np.float64),
        "time_s": t.astype(np.float64),
    }
    contacts = baseline.contacts
    for column, foot in enumerate(FEET):
        state = contacts.in_contact[:, column].astype(np.float64)
        columns[f"{foot}_contact"] = np.where(contacts.known[:, column], state, np.nan)
    for name, series in baseline.joint_angles.items():
        if series.available:
            columns[f"{name}_deg"] = series.values_deg
            columns[f"{name}_velocity_deg_s"] = angular_velocity_deg_s(series, t)
    for name, series in baseline.segment_angles.items():
        if series.available:
            columns[f"{name}_segment_angle_deg"] = series.values_deg
    com = baseline.com_m
    for axis, label in enumerate("xyz"):
        columns[f"com_{label}_m"] = com[:, axis]
    ground = contacts.ground_level_m
    ground_level = float(np.nanmedian(ground)) if np.isfinite(ground).any() else 0.0
    columns["com_height_m"] = com @ up - ground_level
    # No speed from a frame whose global position was not measured (the engine's module docstring).
    velocity = linear_velocity_m_s(np.where(baseline.unreliable_position[:, None], np.nan, com), t)
    vertical_velocity = velocity @ up
    columns["com_horizontal_speed_m_s"] = np.linalg.norm(velocity - np.outer(vertical_velocity, up), axis=1)
    columns["com_vertical_velocity_m_s"] = vertical_velocity
    grf = baseline.ground_reaction
    vertical = grf.total_n @ up
    columns["grf_vertical_n"] = vertical
    columns["grf_horizontal_n"] = np.linalg.norm(grf.total_n - np.outer(vertical, up), axis=1)
    for column, foot in enumerate(FEET):
        columns[f"grf_{foot}_vertical_n"] = grf.per_foot_n[:, column] @ up
    columns["grf_vertical_bw"] = vertical / (model.mass_kg * STANDARD_GRAVITY_M_S2)
    for joint, loads in baseline.kinetics.items():
        columns[f"{joint}_moment_n_m"] = loads.flexion_moment_n_m
        columns[f"{joint}_moment_n_m_per_kg"] = loads.flexion_moment_n_m / model.mass_kg
        columns[f"{joint}_power_w"] = loads.power_w
    energy = baseline.energy
    columns["energy_translational_j"] = energy.translational_j
    columns["energy_rotational_j"] = energy.rotational_j
    columns["energy_potential_j"] = energy.potential_j
    columns["energy_total_j"] = energy.total_j
    columns["com_to_bos_m"] = baseline.stability.com_to_bos_m
    columns["margin_of_stability_m"] = baseline.stability.margin_of_stability_m
    return {name: np.asarray(values, dtype=np.float64) for name, values in columns.items()}
