"""Strikes and throws: end-effector speed and proximal-to-distal sequencing on motions with known answers."""

from __future__ import annotations

import itertools
from math import erf, sqrt

import numpy as np
import pytest

from spacecomputer.biomech import BodyModel, movement_metrics
from spacecomputer.biomech._movement_metrics import MetricValue
from spacecomputer.biomech._sequencing import (
    ARM_CHAIN,
    LEG_CHAIN,
    end_effector_speed_m_s,
    segment_angular_speeds_deg_s,
    strike_sequencing,
)
from spacecomputer.domain import CoordinateFrame
from spacecomputer.errors import InvalidInputError, InvalidPoseDataError
from tests.biomech.gait_motions import (
    UP,
    index,
    mirrored,
    right_handed_swing,
    sequence_of,
    standing_pose,
)

MODEL = BodyModel.from_anthropometry(mass_kg=70.0, height_m=1.75, sex=None)
WIDTH_S = 0.04
THROW_TIMES_S = (0.90, 0.95, 1.00, 1.05, 1.10)
THROW_SPEEDS_DEG_S = (500.0, 800.0, 1100.0, 1400.0, 1700.0)
KICK_TIMES_S = (0.90, 0.95, 1.00, 1.05)
KICK_SPEEDS_DEG_S = (500.0, 900.0, 1500.0, 1200.0)


def _sampled_peak_deg_s(peak_deg_s: float, fps: float) -> float:
    """What the arc-over-two-intervals rate reads at the peak frame of a Gaussian-rate rotation.

    The angle is A·Φ((t − t₀)/σ) with A = ω σ √(2π); the rate at t₀ from the frames at t₀ ± dt is
    A (Φ(dt/σ) − Φ(−dt/σ)) / (2 dt) = A erf(dt / (σ √2)) / (2 dt).
    """
    dt = 1.0 / fps
    return peak_deg_s * WIDTH_S * sqrt(2.0 * np.pi) * erf(dt / (WIDTH_S * sqrt(2.0))) / (2.0 * dt)


def _throw(fps: float, times: tuple[float, ...] = THROW_TIMES_S):
    return right_handed_swing(fps=fps, limb="arm", peak_times_s=times, peak_speeds_deg_s=THROW_SPEEDS_DEG_S)


def _metrics_by_name(metrics: list[MetricValue]) -> dict[str, MetricValue]:
    names = [m.name for m in metrics]
    assert len(names) == len(set(names)), names
    return {m.name: m for m in metrics}


@pytest.mark.parametrize("fps", [60.0, 240.0])
def test_throw_segments_peak_in_the_built_order_at_the_built_times(fps: float) -> None:
    result = strike_sequencing(_throw(fps), up=UP)
    assert (result.effector, result.side, result.chain) == ("hand", "right", ARM_CHAIN)
    assert result.unavailable_reason is None
    for peak, when, rate in zip(result.peaks, THROW_TIMES_S, THROW_SPEEDS_DEG_S, strict=True):
        assert peak.time_s == pytest.approx(when, abs=1e-9), peak
        assert peak.angular_speed_deg_s == pytest.approx(_sampled_peak_deg_s(rate, fps), rel=1e-6), peak
    assert result.proximal_to_distal is True
    np.testing.assert_allclose(result.lags_s, 0.05, atol=1e-9)
    assert result.peak_time_s is not None
    assert result.window_s is not None
    assert result.window_s[0] <= THROW_TIMES_S[0]
    assert THROW_TIMES_S[-1] <= result.window_s[1]


def test_the_sampled_peak_converges_to_the_built_peak_speed() -> None:
    # The closed form above is the known answer; it tends to the built speed as the frame rate rises.
    assert _sampled_peak_deg_s(1000.0, 60.0) == pytest.approx(1000.0, rel=0.03)
    assert _sampled_peak_deg_s(1000.0, 240.0) == pytest.approx(1000.0, rel=0.002)


@pytest.mark.parametrize("fps", [60.0, 240.0])
def test_a_reversed_order_is_not_proximal_to_distal(fps: float) -> None:
    result = strike_sequencing(_throw(fps, THROW_TIMES_S[::-1]), up=UP)
    assert [p.time_s for p in result.peaks] == pytest.approx(list(THROW_TIMES_S[::-1]), abs=1e-9)
    assert result.proximal_to_distal is False
    np.testing.assert_allclose(result.lags_s, -0.05, atol=1e-9)


def test_throw_metrics_report_the_sequence_and_its_lags() -> None:
    forward = _metrics_by_name(movement_metrics(_throw(240.0), up=UP, sport="throw", body_model=MODEL))
    assert forward["sequencing_proximal_to_distal"].value == 1.0
    assert forward["sequencing_proximal_to_distal"].unit == "1"
    for a, b in itertools.pairwise(ARM_CHAIN):
        assert forward[f"sequencing_lag_{a}_to_{b}_s"].value == pytest.approx(0.05, abs=1e-9)
    for segment, when in zip(ARM_CHAIN, THROW_TIMES_S, strict=True):
        assert forward[f"{segment}_peak_angular_speed_time_s"].value == pytest.approx(when, abs=1e-9)
        assert forward[f"{segment}_peak_angular_speed_deg_s"].unit == "deg/s"
    assert "right hand" in forward["end_effector_peak_speed_m_s"].convention
    backward = _metrics_by_name(
        movement_metrics(_throw(240.0, THROW_TIMES_S[::-1]), up=UP, sport="baseball pitching", body_model=MODEL)
    )
    assert backward["sequencing_proximal_to_distal"].value == 0.0
    assert backward["sequencing_lag_pelvis_to_thorax_s"].value == pytest.approx(-0.05, abs=1e-9)


@pytest.mark.parametrize("fps", [60.0, 240.0])
def test_a_kick_is_found_on_the_foot_with_the_leg_chain(fps: float) -> None:
    kick = right_handed_swing(fps=fps, limb="leg", peak_times_s=KICK_TIMES_S, peak_speeds_deg_s=KICK_SPEEDS_DEG_S)
    result = strike_sequencing(kick, up=UP)
    assert (result.effector, result.side, result.chain) == ("foot", "right", LEG_CHAIN)
    for peak, when, rate in zip(result.peaks, KICK_TIMES_S, KICK_SPEEDS_DEG_S, strict=True):
        assert peak.time_s == pytest.approx(when, abs=1e-9), peak
        assert peak.angular_speed_deg_s == pytest.approx(_sampled_peak_deg_s(rate, fps), rel=1e-6), peak
    assert result.proximal_to_distal is True
    metrics = _metrics_by_name(movement_metrics(kick, up=UP, sport="football kick", body_model=MODEL))
    assert metrics["sequencing_lag_shank_to_foot_s"].value == pytest.approx(0.05, abs=1e-9)
    assert "right foot" in metrics["end_effector_peak_speed_m_s"].convention


def _arm_circle(fps: float, rate_deg_s: float) -> tuple[np.ndarray, float]:
    """The straight right arm turns about the shoulder at a constant rate in the x–z plane."""
    t = np.arange(round(0.5 * fps)) / fps
    angle = np.radians(-90.0 + rate_deg_s * t)
    direction = np.stack([np.cos(angle), np.zeros_like(angle), np.sin(angle)], axis=1)
    positions = np.repeat(standing_pose()[None], t.size, axis=0)
    shoulder = positions[:, index("right_shoulder")]
    reach = {"elbow": 0.28, "wrist": 0.53, "index": 0.61, "pinky": 0.61, "thumb": 0.57}
    for name, r in reach.items():
        positions[:, index(f"right_{name}")] = shoulder + r * direction
    return positions, (0.53 + 0.61 + 0.61) / 3.0


@pytest.mark.parametrize("fps", [60.0, 240.0])
def test_hand_speed_of_an_arm_turning_at_a_constant_rate(fps: float) -> None:
    rate_deg_s = 720.0
    positions, radius_m = _arm_circle(fps, rate_deg_s)
    speed = end_effector_speed_m_s(sequence_of(positions, fps), effector="hand", side="right")
    # Central differences on a circle: the chord over two frames, r·sin(ω dt)/dt.
    step = np.radians(rate_deg_s) / fps
    np.testing.assert_allclose(speed[1:-1], radius_m * np.sin(step) * fps, rtol=1e-9)
    angular = segment_angular_speeds_deg_s(sequence_of(positions, fps), up=UP, side="right")
    np.testing.assert_allclose(angular["upper_arm"], rate_deg_s, rtol=1e-9)
    np.testing.assert_allclose(angular["forearm"], rate_deg_s, rtol=1e-9)
    np.testing.assert_allclose(angular["pelvis"], 0.0, atol=1e-9)


def test_the_wrist_stands_in_where_the_fingers_are_missing() -> None:
    positions, _ = _arm_circle(60.0, 720.0)
    assert np.allclose(end_effector_speed_m_s(sequence_of(positions, 60.0), effector="foot", side="right"), 0.0)
    gappy = positions.copy()
    gappy[10:20, index("right_index")] = np.nan
    speed = end_effector_speed_m_s(sequence_of(gappy, 60.0), effector="hand", side="right")
    assert np.isfinite(speed).all()
    step = np.radians(720.0) / 60.0
    np.testing.assert_allclose(speed[10:20], 0.53 * np.sin(step) * 60.0, rtol=1e-9)


def test_pelvis_speed_is_its_turning_about_up_only() -> None:
    # The hip line tilts (obliquity) about the forward axis: its heading, and so its speed about up, stays.
    t = np.arange(30) / 60.0
    positions = np.repeat(standing_pose()[None], t.size, axis=0)
    tilt = np.radians(30.0 * t / t[-1])
    for side, sign in (("left", 1.0), ("right", -1.0)):
        positions[:, index(f"{side}_hip"), 1] = sign * 0.10 * np.cos(tilt)
        positions[:, index(f"{side}_hip"), 2] = 0.95 + sign * 0.10 * np.sin(tilt)
    angular = segment_angular_speeds_deg_s(sequence_of(positions, 60.0), up=UP, side="left")
    np.testing.assert_allclose(angular["pelvis"], 0.0, atol=1e-9)


def test_the_faster_side_is_chosen_unless_a_side_is_given() -> None:
    left_handed = mirrored(_throw(60.0))
    result = strike_sequencing(left_handed, up=UP)
    assert (result.effector, result.side) == ("hand", "left")
    right = strike_sequencing(left_handed, up=UP, effector="hand", side="right")
    assert right.side == "right"
    assert right.peak_speed_m_s is not None
    assert result.peak_speed_m_s is not None
    assert right.peak_speed_m_s < 0.5 * result.peak_speed_m_s
    metrics = _metrics_by_name(movement_metrics(left_handed, up=UP, sport="throw", body_model=MODEL, side="right"))
    assert "right hand" in metrics["end_effector_peak_speed_m_s"].convention


def test_no_visible_hand_or_foot_makes_every_strike_metric_unavailable() -> None:
    positions = _throw(60.0).positions.copy()
    limbs = [index(f"{s}_{p}") for s in ("left", "right") for p in ("wrist", "index", "pinky", "foot_index")]
    positions[:, limbs] = np.nan
    blind = sequence_of(positions, 60.0)
    result = strike_sequencing(blind, up=UP)
    assert result.peak_speed_m_s is None
    assert result.proximal_to_distal is None
    assert "never known" in (result.unavailable_reason or "")
    for metric in movement_metrics(blind, up=UP, sport="strike", body_model=MODEL):
        assert not metric.available
        assert metric.value is None
        assert metric.reason


def test_a_segment_unseen_in_the_window_leaves_the_order_unknown() -> None:
    positions = _throw(60.0).positions.copy()
    positions[:, index("right_elbow")] = np.nan
    result = strike_sequencing(sequence_of(positions, 60.0), up=UP)
    by_segment = {p.segment: p for p in result.peaks}
    assert by_segment["upper_arm"].angular_speed_deg_s is None
    assert by_segment["forearm"].time_s is None
    assert by_segment["pelvis"].time_s == pytest.approx(0.9)
    assert result.proximal_to_distal is None
    metrics = _metrics_by_name(movement_metrics(sequence_of(positions, 60.0), up=UP, sport="throw", body_model=MODEL))
    assert not metrics["sequencing_proximal_to_distal"].available
    assert metrics["pelvis_peak_angular_speed_deg_s"].available


def test_bad_arguments_are_refused() -> None:
    throw = _throw(60.0)
    with pytest.raises(InvalidInputError, match="side"):
        strike_sequencing(throw, up=UP, side="middle")  # type: ignore[arg-type]
    with pytest.raises(InvalidInputError, match="effector"):
        strike_sequencing(throw, up=UP, effector="head")  # type: ignore[arg-type]
    with pytest.raises(InvalidInputError, match="window_before_s"):
        strike_sequencing(throw, up=UP, window_before_s=-0.1)
    with pytest.raises(InvalidInputError, match="unit 3-vector"):
        strike_sequencing(throw, up=[0.0, 0.0, 9.8])
    with pytest.raises(InvalidInputError, match="side"):
        movement_metrics(throw, up=UP, sport="throw", body_model=MODEL, side="middle")  # type: ignore[arg-type]
    with pytest.raises(InvalidPoseDataError, match="metric"):
        strike_sequencing(throw.replace(frame=CoordinateFrame.IMAGE), up=UP)
