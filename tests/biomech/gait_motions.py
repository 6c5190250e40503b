"""Synthetic movements with known answers: a run or walk, jumps, a drop landing, quiet standing, a throw, a kick.

Scene: z-up world frame, the athlete faces +x, their left is +y; metres and seconds. Every builder returns a
``PoseSequence`` on the BlazePose skeleton (frame ``world``); the gait builder also returns what the detectors
should find. Event times are chosen on the frame grid of 60 and 240 fps, so "within one frame" is exact.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from math import erf, sqrt

import numpy as np
from numpy.typing import NDArray
from scipy.spatial.transform import Rotation

from spacecomputer.biomech._movement_metrics import STANDARD_GRAVITY_M_S2
from spacecomputer.domain import BLAZEPOSE_33, PoseSequence
from tests.biomech.scene import LEFT_SIDE_POINTS, sequence_of, standing_pose

UP = np.array([0.0, 0.0, 1.0])
G = STANDARD_GRAVITY_M_S2
_LEFT = LEFT_SIDE_POINTS
FOOT_PARTS = ("ankle", "heel", "foot_index")
MID_HIP = np.array([0.0, 0.0, 0.95])


def index(name: str) -> int:
    return BLAZEPOSE_33.index(name)


# --- gait ------------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class GaitTruth:
    """What a gait was built with. ``contacts``: (foot, initial contact s, toe-off s) of every ground contact."""

    step_length_m: float
    step_frequency_hz: float
    contact_time_s: float
    flight_time_s: float | None
    speed_m_s: float
    contacts: tuple[tuple[str, float, float], ...]


def gait(
    *,
    fps: float,
    cadence_steps_per_min: float = 180.0,
    step_length_m: float = 1.2,
    contact_time_s: float = 0.2,
    duration_s: float = 3.0,
    swing_height_m: float = 0.25,
) -> tuple[PoseSequence, GaitTruth]:
    """Pelvis and upper body glide forward at constant speed; each foot is planted for ``contact_time_s``, then
    swings two step lengths forward along a ``swing_height_m`` high half-sine arc. The left foot lands at t = 0,
    the right one a step later. A contact time above the step time gives a walk (double support, no flight).
    """
    t = np.arange(round(duration_s * fps)) / fps
    step_s = 60.0 / cadence_steps_per_min
    stride_s, swing_s = 2.0 * step_s, 2.0 * step_s - contact_time_s
    speed = step_length_m / step_s
    positions = np.repeat(standing_pose()[None], t.size, axis=0)
    positions[:, :, 0] += speed * t[:, None]
    contacts = []
    for side, offset_s in (("left", 0.0), ("right", step_s)):
        phase_s = t - offset_s
        k = np.floor(phase_s / stride_s)
        within = phase_s - k * stride_s
        s = np.clip((within - contact_time_s) / swing_s, 0.0, 1.0)
        x = offset_s * speed + k * 2.0 * step_length_m + 2.0 * step_length_m * s
        z = swing_height_m * np.sin(np.pi * s)
        for part in FOOT_PARTS:
            positions[:, index(f"{side}_{part}"), 0] = x + _LEFT[part][0]
            positions[:, index(f"{side}_{part}"), 2] = z + _LEFT[part][2]
        for k_stride in range(-1, int(duration_s / stride_s) + 1):
            start = offset_s + k_stride * stride_s
            contacts.append((side, start, start + contact_time_s))
    flight_s = step_s - contact_time_s
    truth = GaitTruth(
        step_length_m=step_length_m,
        step_frequency_hz=1.0 / step_s,
        contact_time_s=contact_time_s,
        flight_time_s=flight_s if flight_s > 0 else None,
        speed_m_s=speed,
        contacts=tuple(sorted(contacts, key=lambda c: c[1])),
    )
    return sequence_of(positions, fps), truth


# --- jumps, landing, standing ------------------------------------------------------------------------------------


def vertical_jump(*, fps: float, flight_s: float = 0.5, stand_s: float = 0.5) -> PoseSequence:
    """Stand ``stand_s``, a rigid ballistic flight of ``flight_s`` (take-off at t = stand_s), stand ``stand_s``."""
    n_stand = round(stand_s * fps)
    t_flight = np.arange(round(flight_s * fps)) / fps
    rise = G * flight_s / 2 * t_flight - G / 2 * t_flight**2
    height = np.concatenate([np.zeros(n_stand), rise, np.zeros(n_stand)])
    positions = np.repeat(standing_pose()[None], height.size, axis=0)
    positions[:, :, 2] += height[:, None]
    return sequence_of(positions, fps)


def drop_landing(*, fps: float, drop_height_m: float = 0.4, stand_s: float = 1.0) -> PoseSequence:
    """Stand ``stand_s`` on a box ``drop_height_m`` high, fall rigidly from rest to the floor, stand ``stand_s``."""
    fall_s = sqrt(2.0 * drop_height_m / G)
    t_fall = np.arange(int(fall_s * fps) + 1) / fps
    height = np.concatenate(
        [
            np.full(round(stand_s * fps), drop_height_m),
            drop_height_m - G / 2 * t_fall**2,
            np.zeros(round(stand_s * fps)),
        ]
    )
    positions = np.repeat(standing_pose()[None], height.size, axis=0)
    positions[:, :, 2] += np.maximum(height, 0.0)[:, None]
    return sequence_of(positions, fps)


def quiet_standing(*, fps: float, duration_s: float = 2.0, noise_m: float = 0.001, seed: int = 0) -> PoseSequence:
    """Upright stance: the body above the feet sways 1 cm back and forth at 0.25 Hz; every landmark carries
    independent Gaussian noise of ``noise_m`` per axis.
    """
    t = np.arange(round(duration_s * fps)) / fps
    positions = np.repeat(standing_pose()[None], t.size, axis=0)
    above_feet = [i for i, n in enumerate(BLAZEPOSE_33.joint_names) if not n.endswith(FOOT_PARTS)]
    positions[:, above_feet, 0] += 0.01 * np.sin(2.0 * np.pi * 0.25 * t)[:, None]
    positions += np.random.default_rng(seed).normal(0.0, noise_m, positions.shape)
    return sequence_of(positions, fps)


# --- a throw and a kick with known segment peaks -------------------------------------------------------------


def _bump_angle_deg(t: NDArray[np.float64], *, peak_s: float, peak_deg_s: float, width_s: float) -> NDArray[np.float64]:
    """Angle (deg, from 0) whose rate is a Gaussian of standard deviation ``width_s`` peaking at ``peak_deg_s``."""
    cdf = 0.5 * (1.0 + np.vectorize(erf)((t - peak_s) / (width_s * sqrt(2.0))))
    return np.asarray(peak_deg_s * width_s * sqrt(2.0 * np.pi) * cdf, dtype=np.float64)


def _in_sagittal_plane(angle_deg: NDArray[np.float64]) -> NDArray[np.float64]:
    """Unit vectors in the x–z plane, ``angle_deg`` from +x (forward) towards +z (up)."""
    a = np.radians(angle_deg)
    return np.stack([np.cos(a), np.zeros_like(a), np.sin(a)], axis=1)


def _turn_about_vertical(points: NDArray[np.float64], angle_deg: NDArray[np.float64]) -> NDArray[np.float64]:
    """Rotate (T, k, 3) points about the vertical axis through the mid-hip, frame by frame (right-hand about +z)."""
    rotation = Rotation.from_euler("z", angle_deg[:, None], degrees=True)
    shifted = points - MID_HIP
    turned = np.einsum("tij,tkj->tki", rotation.as_matrix(), shifted)
    return np.asarray(turned + MID_HIP, dtype=np.float64)


ARM_START_DEG = {"upper_arm": 170.0, "forearm": 200.0, "hand": 220.0}
"""Throw: each arm segment starts pointing back and up, and swings forward (decreasing angle) in the x–z plane."""
LEG_START_DEG = {"thigh": -120.0, "shank": -160.0, "foot": -100.0}
"""Kick: each leg segment starts pointing back and down, and swings forward (increasing angle)."""
_LENGTH_M = {"upper_arm": 0.28, "forearm": 0.25, "hand": 0.08, "thigh": 0.43, "shank": 0.43}


def right_handed_swing(
    *,
    fps: float,
    limb: str,
    peak_times_s: tuple[float, ...],
    peak_speeds_deg_s: tuple[float, ...],
    width_s: float = 0.04,
    duration_s: float = 2.0,
    arm_start_deg: Mapping[str, float] = ARM_START_DEG,
) -> PoseSequence:
    """A right-sided throw (``limb="arm"``) or kick (``limb="leg"``), feet otherwise planted.

    Each segment of the chain (pelvis, thorax, upper arm, forearm, hand; or pelvis, thigh, shank, foot) turns in
    space at a rate that is a Gaussian bump of ``width_s`` peaking at its ``peak_speeds_deg_s`` at its
    ``peak_times_s``: the pelvis (hip line) and thorax (shoulders, head, left arm) turn about the vertical, the
    limb segments in the x–z plane, each direction set on its own so that its angular speed is exactly the bump.
    A negative peak speed turns the other way (an arm segment with a negative speed swings backwards-to-forwards
    under the shoulder, from ``arm_start_deg``).
    """
    t = np.arange(round(duration_s * fps)) / fps
    chain = (
        ("pelvis", "thorax", "upper_arm", "forearm", "hand") if limb == "arm" else ("pelvis", "thigh", "shank", "foot")
    )
    angle = {
        name: _bump_angle_deg(t, peak_s=when, peak_deg_s=rate, width_s=width_s)
        for name, when, rate in zip(chain, peak_times_s, peak_speeds_deg_s, strict=True)
    }
    positions = np.repeat(standing_pose()[None], t.size, axis=0)
    hips = [index("left_hip"), index("right_hip")]
    pelvis_turn = angle["pelvis"] - angle["pelvis"][-1] / 2.0
    positions[:, hips] = _turn_about_vertical(positions[:, hips], pelvis_turn)
    if limb == "arm":
        upper = [
            i
            for i, n in enumerate(BLAZEPOSE_33.joint_names)
            if not any(p in n for p in ("hip", "knee", "ankle", "heel", "foot"))
        ]
        thorax_turn = angle["thorax"] - angle["thorax"][-1] / 2.0
        positions[:, upper] = _turn_about_vertical(positions[:, upper], thorax_turn)
        u = {name: _in_sagittal_plane(arm_start_deg[name] - angle[name]) for name in ARM_START_DEG}
        elbow = positions[:, index("right_shoulder")] + _LENGTH_M["upper_arm"] * u["upper_arm"]
        wrist = elbow + _LENGTH_M["forearm"] * u["forearm"]
        knuckles = wrist + _LENGTH_M["hand"] * u["hand"]
        across = np.array([0.0, 0.02, 0.0])
        for name, point in (
            ("elbow", elbow), ("wrist", wrist), ("index", knuckles + across), ("pinky", knuckles - across),
            ("thumb", wrist + 0.5 * _LENGTH_M["hand"] * u["hand"] + 1.5 * across),
        ):  # fmt: skip
            positions[:, index(f"right_{name}")] = point
    else:
        u = {name: _in_sagittal_plane(LEG_START_DEG[name] + angle[name]) for name in LEG_START_DEG}
        knee = positions[:, index("right_hip")] + _LENGTH_M["thigh"] * u["thigh"]
        ankle = knee + _LENGTH_M["shank"] * u["shank"]
        sole_normal = _in_sagittal_plane(LEG_START_DEG["foot"] + angle["foot"] + 90.0)
        heel = ankle - 0.05 * u["foot"] - 0.09 * sole_normal
        for name, point in (("knee", knee), ("ankle", ankle), ("heel", heel), ("foot_index", heel + 0.2 * u["foot"])):
            positions[:, index(f"right_{name}")] = point
    return sequence_of(positions, fps)


# --- transforms of a whole scene -----------------------------------------------------------------------------------


def rigidly_moved(sequence: PoseSequence, rotation: Rotation, translation_m: NDArray[np.float64]) -> PoseSequence:
    """Rotate then translate every landmark of every frame."""
    flat = rotation.apply(np.array(sequence.positions).reshape(-1, 3)) + translation_m
    return sequence.replace(positions=flat.reshape(sequence.positions.shape))


def mirrored(sequence: PoseSequence) -> PoseSequence:
    """Reflect across the athlete's sagittal plane (y → −y) and exchange left and right landmark names."""
    reflected = np.asarray(sequence.positions) * np.array([1.0, -1.0, 1.0])
    return sequence.replace(positions=reflected[:, list(BLAZEPOSE_33.mirror_permutation)])
