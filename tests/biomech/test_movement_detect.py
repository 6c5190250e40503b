"""Movement family from the sport's name and from the motion, on synthetic movements with known answers."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays

from spacecomputer.biomech import BodyModel, detect_foot_contacts, movement_metrics
from spacecomputer.biomech._movement_detect import SPORT_FAMILIES, DetectedMovement, detect_movement, movement_family
from spacecomputer.biomech._movement_metrics import SPORTS
from spacecomputer.domain import PoseSequence
from spacecomputer.errors import InvalidInputError
from tests.biomech.gait_motions import (
    FOOT_PARTS,
    UP,
    drop_landing,
    gait,
    index,
    quiet_standing,
    right_handed_swing,
    sequence_of,
    vertical_jump,
)

MODEL = BodyModel.from_anthropometry(mass_kg=70.0, height_m=1.75, sex=None)
ARM_TIMES_S = (0.90, 0.95, 1.00, 1.05, 1.10)


def _overarm_throw(fps: float) -> PoseSequence:
    return right_handed_swing(
        fps=fps, limb="arm", peak_times_s=ARM_TIMES_S, peak_speeds_deg_s=(500.0, 800.0, 1100.0, 1400.0, 1700.0)
    )


def _underarm_swing(fps: float) -> PoseSequence:
    """The arm swings from behind to in front under the shoulder, like a bowling or a golf swing."""
    return right_handed_swing(
        fps=fps,
        limb="arm",
        peak_times_s=ARM_TIMES_S,
        peak_speeds_deg_s=(500.0, 800.0, -1100.0, -1400.0, -1700.0),
        arm_start_deg={"upper_arm": -150.0, "forearm": -160.0, "hand": -170.0},
    )


def _kick(fps: float) -> PoseSequence:
    return right_handed_swing(
        fps=fps, limb="leg", peak_times_s=(0.90, 0.95, 1.00, 1.05), peak_speeds_deg_s=(500.0, 900.0, 1500.0, 1200.0)
    )


def _detect(sequence: PoseSequence) -> DetectedMovement:
    return detect_movement(sequence, up=UP, contacts=detect_foot_contacts(sequence, up=UP), body_model=MODEL)


SCENES = {
    "run": (lambda fps: gait(fps=fps)[0], "sprint"),
    "walk": (
        lambda fps: gait(fps=fps, cadence_steps_per_min=120.0, step_length_m=0.7, contact_time_s=0.6)[0],
        "sprint",
    ),
    "vertical jump": (lambda fps: vertical_jump(fps=fps), "jump"),
    "bounding run (0.4 s flights)": (
        lambda fps: gait(fps=fps, cadence_steps_per_min=100.0, step_length_m=2.0, swing_height_m=0.6)[0],
        "jump",
    ),
    "drop from a 0.4 m box": (lambda fps: drop_landing(fps=fps), "landing"),
    "overarm throw": (_overarm_throw, "throw"),
    "underarm swing": (_underarm_swing, "strike"),
    "kick": (_kick, "strike"),
    "quiet standing": (lambda fps: quiet_standing(fps=fps), None),
}


@pytest.mark.parametrize("fps", [60.0, 240.0])
@pytest.mark.parametrize("scene", SCENES)
def test_each_synthetic_movement_is_recognised(scene: str, fps: float) -> None:
    build, family = SCENES[scene]
    detected = _detect(build(fps))
    assert detected.family == family, detected.evidence
    assert 0.5 <= detected.confidence <= 1.0
    assert detected.evidence
    assert all(np.isfinite(v) for v in detected.features.values())


def test_the_features_behind_each_answer_are_the_built_ones() -> None:
    run = _detect(gait(fps=60.0)[0])
    # 3 s at 3 steps/s: contacts at 20, 40, …, 160 frames, all alternating; the arms ride along with the body.
    assert run.features["alternating_contacts"] == 7.0
    assert run.features["com_horizontal_speed_median_m_s"] == pytest.approx(3.6, rel=0.03)
    assert run.features["hand_speed_relative_to_com_peak_m_s"] < 0.5
    assert run.features["simultaneous_takeoff_flight_s"] == 0.0
    assert run.confidence == 1.0  # both features at least twice their thresholds
    jump = _detect(vertical_jump(fps=240.0, flight_s=0.5))
    assert jump.features["simultaneous_takeoff_flight_s"] == pytest.approx(0.5, abs=2 / 240)
    assert "both feet left together" in jump.evidence
    drop = _detect(drop_landing(fps=240.0, drop_height_m=0.4))
    assert drop.features["com_drop_in_flight_m"] == pytest.approx(0.4, abs=1e-9)
    assert drop.confidence == 1.0  # 0.4 m ≥ twice 0.15 m
    throw = _detect(_overarm_throw(240.0))
    assert "right hand" in throw.evidence
    assert "above its shoulder" in throw.evidence
    assert throw.features["foot_speed_relative_to_com_peak_m_s"] < 1.0


def test_walk_confidence_follows_the_documented_ramp() -> None:
    walk = _detect(gait(fps=60.0, cadence_steps_per_min=120.0, step_length_m=0.7, contact_time_s=0.6)[0])
    # 3 s at 2 steps/s: contacts at 0.5, 1.0, …, 2.5 s, so 4 alternations for a threshold of 3; 1.4 m/s for 1.0.
    assert walk.features["alternating_contacts"] == 4.0
    assert walk.confidence == pytest.approx(0.5 + 0.5 * min(4 / 3 - 1, 1.4 / 1.0 - 1), abs=0.01)


def test_unseen_feet_still_allow_a_throw_with_less_confidence() -> None:
    throw = _overarm_throw(60.0)
    positions = throw.positions.copy()
    positions[:, [index(f"{s}_{p}") for s in ("left", "right") for p in FOOT_PARTS]] = np.nan
    blind = sequence_of(positions, 60.0)
    seen, unseen = _detect(throw), _detect(blind)
    assert unseen.family == "throw"
    assert "feet not seen" in unseen.evidence
    # Without the feet the COM is unknown and the mid-hip stands in; it barely moves, as the COM barely does.
    assert unseen.features["hand_speed_relative_to_com_peak_m_s"] == pytest.approx(
        seen.features["hand_speed_relative_to_com_peak_m_s"], rel=0.05
    )
    assert unseen.confidence == pytest.approx(0.75 * seen.confidence, rel=0.05)


def test_standing_without_visible_feet_is_not_confidently_nothing() -> None:
    positions = quiet_standing(fps=60.0).positions.copy()
    positions[:, [index(f"{s}_{p}") for s in ("left", "right") for p in FOOT_PARTS]] = np.nan
    detected = _detect(sequence_of(positions, 60.0))
    assert detected.family is None
    assert detected.confidence <= 0.5
    assert "foot contacts unknown" in detected.evidence


def test_bad_arguments_are_refused() -> None:
    sequence = quiet_standing(fps=60.0)
    contacts = detect_foot_contacts(sequence, up=UP)
    with pytest.raises(InvalidInputError, match="strike_speed_threshold_m_s"):
        detect_movement(sequence, up=UP, contacts=contacts, body_model=MODEL, strike_speed_threshold_m_s=0.0)
    with pytest.raises(InvalidInputError, match="unit 3-vector"):
        detect_movement(sequence, up=[0.0, 0.0, 0.5], contacts=contacts, body_model=MODEL)
    with pytest.raises(InvalidInputError, match="contacts cover"):
        detect_movement(sequence[:50], up=UP, contacts=contacts, body_model=MODEL)


# --- from the sport's name -------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("sport", "family"),
    [
        ("running", "sprint"),
        ("Sprint", "sprint"),
        ("athletics", "sprint"),
        ("high jump", "jump"),
        ("Long-Jump", "jump"),
        ("basketball", "jump"),
        ("drop_landing", "landing"),
        ("boxing", "strike"),
        ("karate", "strike"),
        ("taekwondo", "strike"),
        ("tennis", "strike"),
        ("golf", "strike"),
        ("baseball batting", "strike"),
        ("  football   kick ", "strike"),
        ("javelin", "throw"),
        ("SHOT_PUT", "throw"),
        ("baseball pitching", "throw"),
        ("cricket bowling", "throw"),
        ("football", None),
        ("baseball", None),
        ("curling", None),
        ("", None),
        (None, None),
    ],
)
def test_sport_names_map_to_families(sport: str | None, family: str | None) -> None:
    assert movement_family(sport) == family


def test_every_mapped_family_is_one_movement_metrics_knows() -> None:
    assert set(SPORT_FAMILIES.values()) == set(SPORTS)
    for name in SPORT_FAMILIES:
        assert name == " ".join(name.lower().split())  # keys are stored normalised


def test_movement_metrics_accepts_a_sport_name() -> None:
    sequence = vertical_jump(fps=60.0)
    by_name = movement_metrics(sequence, up=UP, sport="high jump", body_model=MODEL)
    by_family = movement_metrics(sequence, up=UP, sport="jump", body_model=MODEL)
    assert [(m.name, m.value) for m in by_name] == [(m.name, m.value) for m in by_family]
    with pytest.raises(InvalidInputError, match="football"):
        movement_metrics(sequence, up=UP, sport="football", body_model=MODEL)


@settings(max_examples=30, deadline=None)
@given(arrays(np.float64, (12, 33, 3), elements=st.one_of(st.floats(-3.0, 3.0), st.just(np.nan))))
def test_arbitrary_input_gives_a_bounded_answer_and_json_safe_strike_metrics(positions: np.ndarray) -> None:
    sequence = sequence_of(positions, 30.0)
    contacts = detect_foot_contacts(sequence, up=UP)
    detected = detect_movement(sequence, up=UP, contacts=contacts, body_model=MODEL)
    assert detected.family is None or detected.family in SPORTS
    assert 0.0 <= detected.confidence <= 1.0
    assert all(np.isfinite(v) for v in detected.features.values())
    for sport in ("strike", "throw"):
        for metric in movement_metrics(sequence, up=UP, sport=sport, body_model=MODEL, contacts=contacts):
            assert metric.value is None or np.isfinite(metric.value)
