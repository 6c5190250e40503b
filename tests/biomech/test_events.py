from __future__ import annotations

import itertools

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays
from numpy.typing import NDArray
from scipy.spatial.transform import Rotation

from spacecomputer.biomech import BodyModel
from spacecomputer.biomech._events import (
    contact_phases,
    detect_foot_contacts,
    detect_foot_events,
    flight_phases,
)
from spacecomputer.biomech._movement_metrics import STANDARD_GRAVITY_M_S2, MetricValue, movement_metrics
from spacecomputer.domain import BLAZEPOSE_33, PoseSequence
from spacecomputer.errors import InvalidInputError
from tests.biomech.scene import LEFT_SIDE_POINTS, sequence_of, standing_pose

# Synthetic scenes: x forward, y to the athlete's left, z up; metres. Standing pose relative to the mid-hip's
# ground point; each foot is flat, heel 5 cm behind and toe 15 cm ahead of its ankle.
UP = np.array([0.0, 0.0, 1.0])
G = STANDARD_GRAVITY_M_S2
_LEFT = LEFT_SIDE_POINTS
_FOOT_PARTS = ("ankle", "heel", "foot_index")
MODEL = BodyModel.from_anthropometry(mass_kg=70.0, height_m=1.75, sex=None)


def _run(
    *, fps: float = 200.0, step_length_m: float = 1.2, cadence_hz: float = 3.0, duration_s: float = 3.0
) -> PoseSequence:
    """Feet alternate: 0.2 s flat on the ground, then a swing of 2 step lengths with a 25 cm high arc."""
    t = np.arange(round(duration_s * fps)) / fps
    step_s, contact_s = 1.0 / cadence_hz, 0.2
    stride_s, swing_s = 2.0 * step_s, 2.0 * step_s - contact_s
    speed = step_length_m / step_s
    positions = np.repeat(standing_pose()[None], t.size, axis=0)
    positions[:, :, 0] += speed * t[:, None]
    for side, offset_s in (("left", 0.0), ("right", step_s)):
        phase_s = t - offset_s
        k = np.floor(phase_s / stride_s)
        within = phase_s - k * stride_s
        swinging = within > contact_s
        s = np.clip((within - contact_s) / swing_s, 0.0, 1.0)
        x = (offset_s * speed) + k * 2 * step_length_m + np.where(swinging, 2 * step_length_m * s, 0.0)
        z = np.where(swinging, 0.25 * np.sin(np.pi * s), 0.0)
        for part in _FOOT_PARTS:
            i = BLAZEPOSE_33.index(f"{side}_{part}")
            positions[:, i, 0] = x + _LEFT[part][0]
            positions[:, i, 2] = z + _LEFT[part][2]
    return sequence_of(positions, fps)


def _jump(*, flight_s: float = 0.5, fps: float = 200.0) -> PoseSequence:
    """Stand 0.5 s, a rigid ballistic flight of ``flight_s``, stand 0.5 s."""
    n_stand = round(0.5 * fps)
    t_flight = np.arange(round(flight_s * fps)) / fps
    rise = np.concatenate([np.zeros(n_stand), G * flight_s / 2 * t_flight - G / 2 * t_flight**2, np.zeros(n_stand)])
    positions = np.repeat(standing_pose()[None], rise.size, axis=0)
    positions[:, :, 2] += rise[:, None]
    return sequence_of(positions, fps)


def _value(metrics: list[MetricValue], name: str) -> float:
    (metric,) = [m for m in metrics if m.name == name]
    assert metric.available, metric.reason
    assert metric.value is not None
    return metric.value


def test_synthetic_run_recovers_cadence_and_step_length() -> None:
    sequence = _run()
    metrics = movement_metrics(sequence, up=UP, sport="sprint", body_model=MODEL)
    assert _value(metrics, "step_length_m") == pytest.approx(1.2, rel=0.02)
    assert _value(metrics, "step_frequency_hz") == pytest.approx(3.0, rel=0.02)
    assert _value(metrics, "ground_contact_time_s") == pytest.approx(0.2, abs=0.02)
    assert _value(metrics, "flight_time_s") == pytest.approx(1 / 3 - 0.2, abs=0.02)
    assert _value(metrics, "com_horizontal_speed_mean_m_s") == pytest.approx(3.6, rel=0.01)
    events = detect_foot_events(sequence, up=UP)
    feet = [e.foot for e in events if e.kind == "contact"]
    assert len(feet) >= 7
    assert all(a != b for a, b in itertools.pairwise(feet))


@pytest.mark.parametrize("flight_s", [0.3, 0.5])
def test_vertical_jump_height_by_flight_time_and_com_rise(flight_s: float) -> None:
    metrics = movement_metrics(_jump(flight_s=flight_s), up=UP, sport="jump", body_model=MODEL)
    expected_m = G * flight_s**2 / 8
    assert _value(metrics, "jump_flight_time_s") == pytest.approx(flight_s, abs=0.011)
    assert _value(metrics, "jump_height_flight_time_m") == pytest.approx(expected_m, abs=0.02)
    assert _value(metrics, "jump_height_com_rise_m") == pytest.approx(expected_m, abs=0.02)
    assert _value(metrics, "takeoff_vertical_velocity_m_s") == pytest.approx(G * flight_s / 2, abs=0.05)


def test_jump_gives_two_feet_contact_and_toe_off_around_one_flight() -> None:
    contacts = detect_foot_contacts(_jump(), up=UP)
    assert [(e.foot, e.kind) for e in contacts.events] == [
        ("left", "toe_off"), ("right", "toe_off"), ("left", "contact"), ("right", "contact")
    ]  # fmt: skip
    (flight,) = flight_phases(contacts)
    # Central-difference velocities smear each transition by up to one frame.
    assert flight.start_index in (99, 100, 101)
    assert flight.end_index in (199, 200, 201)


def test_free_flight_has_no_contact() -> None:
    t = np.arange(100) / 100.0
    positions = np.repeat(standing_pose()[None], t.size, axis=0)
    positions[:, :, 2] += (5.0 + 4.9 * t - G / 2 * t**2)[:, None]
    contacts = detect_foot_contacts(sequence_of(positions, 100.0), up=UP)
    assert contacts.events == ()
    assert not contacts.in_contact.any()
    assert contacts.known.all(axis=0).any()


def test_millimetre_jitter_creates_no_spurious_events() -> None:
    clean = _run(fps=100.0)
    noise = np.random.default_rng(0).normal(0.0, 0.003, clean.positions.shape)
    noisy = clean.replace(positions=clean.positions + noise)
    expected = detect_foot_events(clean, up=UP)
    found = detect_foot_events(noisy, up=UP)
    assert [(e.foot, e.kind) for e in found] == [(e.foot, e.kind) for e in expected]
    assert max(abs(a.frame_index - b.frame_index) for a, b in zip(found, expected, strict=True)) <= 1


def test_rotating_and_translating_the_scene_keeps_the_events() -> None:
    sequence = _run(fps=100.0)
    rotation = Rotation.from_euler("xyz", [30.0, -50.0, 110.0], degrees=True)
    moved = sequence.replace(
        positions=rotation.apply(np.array(sequence.positions).reshape(-1, 3)).reshape(-1, 33, 3) + 7.0
    )
    assert detect_foot_events(moved, up=rotation.apply(UP)) == detect_foot_events(sequence, up=UP)
    camera_up = np.array([0.0, -1.0, 0.0])
    to_camera = Rotation.align_vectors([camera_up], [UP])[0]
    camera = sequence.replace(positions=to_camera.apply(np.array(sequence.positions).reshape(-1, 3)).reshape(-1, 33, 3))
    assert detect_foot_events(camera, up=camera_up) == detect_foot_events(sequence, up=UP)


def test_no_event_is_invented_across_a_gap() -> None:
    sequence = _run(fps=100.0)
    positions = sequence.positions.copy()
    gap = slice(95, 135)
    positions[gap, [BLAZEPOSE_33.index(f"left_{p}") for p in _FOOT_PARTS]] = np.nan
    gapped = detect_foot_contacts(sequence.replace(positions=positions), up=UP)
    assert not gapped.known[gap, 0].any()
    left = [e for e in gapped.events if e.foot == "left"]
    assert all(not (gap.start - 1 <= e.frame_index <= gap.stop) for e in left)
    clean_left = [e for e in detect_foot_events(sequence, up=UP) if e.foot == "left"]
    outside = [e for e in clean_left if not (gap.start - 1 <= e.frame_index <= gap.stop)]
    assert left == outside
    assert all(p.start_index >= gap.stop or p.end_index < gap.start for p in contact_phases(gapped) if p.foot == "left")


def test_too_few_frames_and_invisible_feet_are_unavailable_with_the_reason() -> None:
    short = _jump()[:2]
    assert "at least 3 frames" in (detect_foot_contacts(short, up=UP).unavailable_reason or "")
    positions = _run(fps=50.0).positions.copy()
    positions[:, [BLAZEPOSE_33.index(f"{s}_{p}") for s in ("left", "right") for p in _FOOT_PARTS]] = np.nan
    blind = _run(fps=50.0).replace(positions=positions)
    contacts = detect_foot_contacts(blind, up=UP)
    assert contacts.events == ()
    assert "never" in (contacts.unavailable_reason or "")
    for sequence in (short, blind):
        metrics = movement_metrics(sequence, up=UP, sport=None, body_model=MODEL)
        assert {m.name for m in metrics} >= {"step_length_m", "jump_height_flight_time_m", "peak_knee_flexion_deg"}
        # The strike family reads the hands, which both clips show; every family that needs the feet is unavailable.
        foot_metrics = [m for sport in ("sprint", "jump", "landing") for m in movement_metrics(
            sequence, up=UP, sport=sport, body_model=MODEL)]  # fmt: skip
        for metric in foot_metrics:
            if metric.name.startswith("com_") and sequence is short:
                continue  # two frames of a visible body do give a COM velocity
            assert metric.available is False
            assert metric.value is None
            assert metric.reason


def test_bad_arguments_are_refused() -> None:
    sequence = _jump()
    with pytest.raises(InvalidInputError, match="unit 3-vector"):
        detect_foot_contacts(sequence, up=[0.0, 0.0, 2.0])
    with pytest.raises(InvalidInputError, match="height_threshold_m"):
        detect_foot_contacts(sequence, up=UP, height_threshold_m=-0.1)
    with pytest.raises(InvalidInputError, match="sport"):
        movement_metrics(sequence, up=UP, sport="curling", body_model=MODEL)


def test_landing_finds_peak_knee_flexion_after_initial_contact() -> None:
    sequence = _jump()
    positions = sequence.positions.copy()
    knees = [BLAZEPOSE_33.index(f"{s}_knee") for s in ("left", "right")]
    t = sequence.timestamps_s
    bend = np.where(t >= 0.5 + 0.5, 0.15 * np.sin(np.pi * np.clip((t - 1.0) / 0.3, 0, 1)), 0.0)
    positions[:, knees, 0] += bend[:, None]
    metrics = movement_metrics(sequence.replace(positions=positions), up=UP, sport="landing", body_model=MODEL)
    assert _value(metrics, "time_to_peak_knee_flexion_s") == pytest.approx(0.15, abs=0.011)
    assert _value(metrics, "peak_knee_flexion_deg") > 30.0


@settings(max_examples=25, deadline=None)
@given(
    arrays(np.float64, (12, 33, 3), elements=st.one_of(st.floats(-3.0, 3.0), st.just(np.nan))),
)
def test_arbitrary_input_gives_consistent_events_and_json_safe_metrics(positions: NDArray[np.float64]) -> None:
    sequence = sequence_of(positions, 30.0)
    contacts = detect_foot_contacts(sequence, up=UP)
    for event in contacts.events:
        column = 0 if event.foot == "left" else 1
        assert contacts.known[event.frame_index - 1 : event.frame_index + 1, column].all()
        assert contacts.in_contact[event.frame_index, column] == (event.kind == "contact")
    for metric in movement_metrics(sequence, up=UP, sport=None, body_model=MODEL, contacts=contacts):
        assert metric.value is None or np.isfinite(metric.value)
