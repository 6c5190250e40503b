"""Moving, turning or mirroring the whole scene changes no event and no metric, except by swapping sides (§9).

``test_kinematics.py`` covers the joint angles of single postures; here whole movements go through events,
movement metrics, strike sequencing and movement detection.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import pytest
from scipy.spatial.transform import Rotation

from spacecomputer.biomech import BodyModel, detect_foot_contacts, joint_angles, movement_metrics
from spacecomputer.biomech._movement_detect import DetectedMovement, detect_movement
from spacecomputer.biomech._movement_metrics import MetricValue
from spacecomputer.biomech._sequencing import StrikeSequencing, strike_sequencing
from spacecomputer.domain import PoseSequence
from tests.biomech.gait_motions import UP, gait, mirrored, right_handed_swing, rigidly_moved, vertical_jump

MODEL = BodyModel.from_anthropometry(mass_kg=70.0, height_m=1.75, sex=None)


def _throw() -> PoseSequence:
    return right_handed_swing(
        fps=60.0,
        limb="arm",
        peak_times_s=(0.90, 0.95, 1.00, 1.05, 1.10),
        peak_speeds_deg_s=(500.0, 800.0, 1100.0, 1400.0, 1700.0),
    )


# Scene → builder, detected family, and the metric families whose values have a side to swap when mirrored. The
# run's and the jump's hands and feet are mirror images of each other, so their fastest side is a tie (broken
# towards the left); the strike family is compared on the throw only.
SCENES: dict[str, tuple[Callable[[], PoseSequence], str, tuple[str, ...]]] = {
    "run": (lambda: gait(fps=60.0)[0], "sprint", ("sprint", "landing")),
    "jump": (lambda: vertical_jump(fps=60.0), "jump", ("jump", "landing")),
    "throw": (_throw, "throw", ("throw", "strike")),
}
ALL_FAMILIES = ("sprint", "jump", "landing", "strike", "throw")


def _transforms() -> list[tuple[str, Rotation, np.ndarray]]:
    rng = np.random.default_rng(7)
    out = [
        (f"random {i}", Rotation.random(random_state=seed), rng.uniform(-50.0, 50.0, 3))
        for i, seed in enumerate((11, 12, 13))
    ]
    # An OpenCV-like camera frame: z-up becomes y-down, i.e. up = (0, -1, 0), and the athlete 4 m away.
    out.append(("camera", Rotation.from_euler("x", 90.0, degrees=True), np.array([0.0, 1.0, 4.0])))
    return out


@dataclass(frozen=True, eq=False)
class Outcome:
    events: list[tuple[str, str, int]]
    in_contact: np.ndarray
    metrics: list[MetricValue]
    angles: dict[str, np.ndarray]
    strike: StrikeSequencing
    detected: DetectedMovement


def _everything(sequence: PoseSequence, up: np.ndarray, families: tuple[str, ...]) -> Outcome:
    contacts = detect_foot_contacts(sequence, up=up)
    metrics = [
        metric
        for family in families
        for metric in movement_metrics(sequence, up=up, sport=family, body_model=MODEL, contacts=contacts)
    ]
    return Outcome(
        events=[(e.foot, e.kind, e.frame_index) for e in contacts.events],
        in_contact=contacts.in_contact,
        metrics=metrics,
        angles={name: s.values_deg for name, s in joint_angles(sequence, up=up).items()},
        strike=strike_sequencing(sequence, up=up),
        detected=detect_movement(sequence, up=up, contacts=contacts, body_model=MODEL),
    )


def _assert_same_metrics(after: list[MetricValue], before: list[MetricValue], *, swap_sides: bool = False) -> None:
    assert [m.name for m in after] == [m.name for m in before]
    for a, b in zip(after, before, strict=True):
        assert a.available == b.available, a.name
        assert a.convention == (_swap_sides(b.convention) if swap_sides else b.convention), a.name
        if b.value is None:
            assert a.value is None, a.name
        else:
            assert a.value == pytest.approx(b.value, abs=1e-6), a.name


def _swap_sides(text: str) -> str:
    """Swap the side an analysis names ("the left hand"), not the words of a definition ("left→right hip line")."""
    return re.sub(r"\bthe (left|right)\b", lambda m: "the " + {"left": "right", "right": "left"}[m[1]], text)


@pytest.mark.parametrize(("label", "rotation", "translation"), _transforms(), ids=[t[0] for t in _transforms()])
@pytest.mark.parametrize("scene", SCENES)
def test_a_rigid_motion_of_the_scene_and_its_up_changes_nothing(
    scene: str, label: str, rotation: Rotation, translation: np.ndarray
) -> None:
    build, family, _ = SCENES[scene]
    sequence = build()
    before = _everything(sequence, UP, ALL_FAMILIES)
    after = _everything(rigidly_moved(sequence, rotation, translation), rotation.apply(UP), ALL_FAMILIES)
    assert before.events or scene == "throw"
    assert after.events == before.events
    _assert_same_metrics(after.metrics, before.metrics)
    for name, values in before.angles.items():
        np.testing.assert_allclose(after.angles[name], values, atol=1e-6, err_msg=name)
    strike_before, strike_after = before.strike, after.strike
    assert (strike_after.effector, strike_after.side) == (strike_before.effector, strike_before.side)
    for p_after, p_before in zip(strike_after.peaks, strike_before.peaks, strict=True):
        assert p_after.frame_index == p_before.frame_index
        assert p_after.angular_speed_deg_s == pytest.approx(p_before.angular_speed_deg_s, rel=1e-9, abs=1e-6)
    detected_before, detected_after = before.detected, after.detected
    assert detected_after.family == detected_before.family == family
    assert detected_after.confidence == pytest.approx(detected_before.confidence, abs=1e-9)
    assert detected_after.features == pytest.approx(detected_before.features, abs=1e-6)


def _mirrored_name(name: str) -> str:
    for a, b in (("left_", "right_"), ("right_", "left_")):
        if name.startswith(a):
            return b + name.removeprefix(a)
    return name


@pytest.mark.parametrize("scene", SCENES)
def test_mirroring_the_scene_swaps_left_and_right(scene: str) -> None:
    build, _, families = SCENES[scene]
    sequence = build()
    before = _everything(sequence, UP, families)
    after = _everything(mirrored(sequence), UP, families)
    swapped = {"left": "right", "right": "left"}
    expected_events = sorted((swapped[foot], kind, frame) for foot, kind, frame in before.events)
    assert sorted(after.events) == expected_events
    np.testing.assert_array_equal(after.in_contact, before.in_contact[:, ::-1])
    _assert_same_metrics(after.metrics, before.metrics, swap_sides=True)
    for name, values in before.angles.items():
        sign = -1.0 if name in ("trunk_lateral_lean", "pelvis_obliquity") else 1.0
        np.testing.assert_allclose(after.angles[_mirrored_name(name)], sign * values, atol=1e-9, err_msg=name)
    if scene == "throw":
        assert (before.strike.side, after.strike.side) == ("right", "left")
        assert after.strike.peaks == before.strike.peaks
    detected_before, detected_after = before.detected, after.detected
    assert detected_after.family == detected_before.family
    assert detected_after.evidence == _swap_sides(detected_before.evidence)
