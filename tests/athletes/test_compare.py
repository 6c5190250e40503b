from __future__ import annotations

import dataclasses
import json
import math
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from pydantic import ValidationError

from spacecomputer.athletes._compare import (
    SCORE_SCALE_DEG,
    Comparison,
    compare_motions,
    compare_motions_detailed,
)
from spacecomputer.athletes._motion import Motion
from spacecomputer.errors import IncompatibleMotionError, InsufficientDataError
from tests.athletes.clips import reference_motion

BOLT = "bolt-force-motion"


def shifted(motion: Motion, **offsets_deg: float) -> Motion:
    """The motion with constant offsets added to some angles (the pose, events and uncertainties unchanged)."""
    angles = {name: values + offsets_deg.get(name, 0.0) for name, values in motion.angles_deg.items()}
    return dataclasses.replace(motion, name=f"{motion.name} (shifted)", angles_deg=angles)


def numbers(document: Any) -> list[float]:
    if isinstance(document, dict):
        return [x for value in document.values() for x in numbers(value)]
    if isinstance(document, list):
        return [x for value in document for x in numbers(value)]
    return [float(document)] if isinstance(document, int | float) and not isinstance(document, bool) else []


# --- self and mirror --------------------------------------------------------------------------------------------


def test_a_motion_compared_with_itself_scores_100_without_any_difference() -> None:
    motion = reference_motion(BOLT)
    comparison = compare_motions(motion, motion)
    assert comparison.similarity.score == 100.0
    assert comparison.similarity.rms_difference_deg == 0.0
    assert comparison.similarity.excess_rms_deg == 0.0
    assert comparison.findings == []
    assert not any(joint.significant for joint in comparison.joints)
    assert not any(angle.significant for event in comparison.events for angle in event.angles)
    assert all(joint.max_abs_difference_deg == 0.0 for joint in comparison.joints)
    assert len(comparison.events) == len(comparison.alignment.matched_events) > 2


def test_the_mirror_image_shows_left_right_differences() -> None:
    motion = reference_motion(BOLT)
    comparison = compare_motions(motion, motion.mirrored())
    significant = [joint.angle for joint in comparison.joints if joint.significant]
    assert any(name.startswith("left_") for name in significant)
    assert any(name.startswith("right_") for name in significant)
    assert comparison.similarity.score < 50.0
    assert 1 <= len(comparison.findings) <= 3
    assert all(" left" in finding.text or " right" in finding.text or finding.text.startswith(("left", "right"))
               for finding in comparison.findings)  # fmt: skip
    assert len({finding.angle for finding in comparison.findings}) == len(comparison.findings)


# --- known differences in words ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("angle", "offset", "subject", "direction"),
    [
        ("left_knee_flexion", 15.0, "left knee", "more flexed at"),
        ("left_knee_flexion", -15.0, "left knee", "more extended at"),
        ("left_ankle_dorsiflexion", -20.0, "left ankle", "more plantarflexed at"),
        ("left_hip_adduction", -12.0, "left hip", "more abducted at"),
        ("trunk_lateral_lean", 6.0, "trunk", "leaning further to the right at"),
        ("trunk_flexion", 5.0, "trunk", "leaning further forward at"),
    ],
)
def test_a_known_offset_is_reported_with_its_direction(angle: str, offset: float, subject: str, direction: str) -> None:
    reference = reference_motion(BOLT)
    # Every observed angle, frontal-plane ones included (by default only flexion/extension is compared).
    result = compare_motions_detailed(
        shifted(reference, **{angle: offset}), reference, angles=sorted(reference.angles_deg)
    )
    # The offset joint pulls the warping a little; the path stays within a frame of the identity.
    assert np.abs(result.alignment.path[:, 0] - result.alignment.path[:, 1]).max() <= 1
    comparison = result.comparison
    (joint,) = [joint for joint in comparison.joints if joint.significant]
    assert joint.angle == angle
    assert joint.mean_difference_deg == pytest.approx(offset, abs=1.0)
    sigma = math.hypot(reference.angle_sd_deg[angle], reference.angle_sd_deg[angle])
    assert joint.uncertainty_deg == pytest.approx(sigma)
    (finding,) = comparison.findings
    assert finding.scope == "event"
    assert finding.text.startswith(f"{subject} ")
    assert direction in finding.text
    assert finding.difference_deg == pytest.approx(offset, abs=0.5)
    assert finding.text.endswith(f"than {BOLT}")


def test_only_flexion_extension_is_compared_by_default() -> None:
    reference = reference_motion(BOLT)
    comparison = compare_motions(shifted(reference, trunk_lateral_lean=30.0), reference)
    assert "trunk_lateral_lean" not in {joint.angle for joint in comparison.joints}
    assert {joint.angle for joint in comparison.joints} == {
        name for name in reference.angles_deg if name.endswith("flexion")
    }


def test_an_offset_within_twice_the_uncertainty_is_not_significant() -> None:
    reference = reference_motion(BOLT)
    sigma = math.sqrt(2.0) * reference.angle_sd_deg["left_knee_flexion"]
    comparison = compare_motions(shifted(reference, left_knee_flexion=1.5 * sigma), reference)
    (joint,) = [joint for joint in comparison.joints if joint.angle == "left_knee_flexion"]
    assert joint.mean_difference_deg == pytest.approx(1.5 * sigma, abs=0.5)
    assert not joint.significant
    assert comparison.findings == []


def test_the_score_follows_its_definition_on_a_real_pair() -> None:
    a, b = reference_motion(BOLT), reference_motion("pound")
    result = compare_motions_detailed(a, b, force=True)
    names = list(result.alignment.angles)
    path = result.alignment.path
    raw = a.angle_matrix(names)[path[:, 0]] - b.angle_matrix(names)[path[:, 1]]
    differences = (raw + 180.0) % 360.0 - 180.0
    excess = []
    for k, name in enumerate(names):
        column = differences[:, k][np.isfinite(differences[:, k])]
        sigma_sq = a.angle_sd_deg[name] ** 2 + b.angle_sd_deg[name] ** 2
        excess.append(math.sqrt(max(0.0, float(np.mean(column**2)) - sigma_sq)))
    similarity = result.comparison.similarity
    known = np.isfinite(differences)
    assert similarity.rms_difference_deg == pytest.approx(math.sqrt(float(np.mean(differences[known] ** 2))))
    assert similarity.excess_rms_deg == pytest.approx(float(np.mean(excess)))
    assert similarity.score == pytest.approx(100.0 * math.exp(-float(np.mean(excess)) / SCORE_SCALE_DEG))
    assert 0.0 < similarity.score < 100.0


def test_one_joint_off_among_equal_ones_lowers_the_score_a_little() -> None:
    reference = reference_motion(BOLT)
    comparison = compare_motions(shifted(reference, left_knee_flexion=15.0), reference)
    assert 85.0 < comparison.similarity.score < 99.0


# --- refusals and warnings --------------------------------------------------------------------------------------


def test_different_movements_are_refused_unless_forced() -> None:
    sprint = dataclasses.replace(reference_motion(BOLT), movement="sprint")
    strike = dataclasses.replace(reference_motion("pound"), movement="strike")
    with pytest.raises(IncompatibleMotionError, match="use --force to compare anyway") as caught:
        compare_motions(sprint, strike)
    assert "sprint" in caught.value.message
    assert "strike" in caught.value.message
    forced = compare_motions(sprint, strike, force=True)
    assert any("sprint vs strike" in warning for warning in forced.warnings)


def test_an_unknown_movement_is_compared_with_a_warning() -> None:
    sprint = dataclasses.replace(reference_motion(BOLT), movement="sprint")
    unknown = reference_motion("pound")
    comparison = compare_motions(sprint, unknown)
    assert comparison.warnings == [
        "the movement of 'pound' is not known: compared without checking that both are the same movement"
    ]


def test_a_motion_without_events_falls_back_to_the_whole_clip() -> None:
    motion = reference_motion(BOLT)
    comparison = compare_motions(dataclasses.replace(motion, events=()), motion)
    assert comparison.alignment.method == "whole_clip"
    assert comparison.alignment.note is not None
    assert "no foot events" in comparison.alignment.note
    assert comparison.alignment.note in comparison.warnings
    assert comparison.events == []
    assert comparison.similarity.score == 100.0


def test_no_common_angle_and_no_overlap_are_refused() -> None:
    motion = reference_motion(BOLT)
    knee = {"left_knee_flexion": motion.angles_deg["left_knee_flexion"]}
    with pytest.raises(IncompatibleMotionError):
        compare_motions(dataclasses.replace(motion, angles_deg=knee), motion, angles=["trunk_flexion"])
    # a's knee is known in the first frame only, b's in the last only: within the DTW window, never together
    only_first, only_last = np.full(motion.n_frames, np.nan), np.full(motion.n_frames, np.nan)
    only_first[0], only_last[-1] = 30.0, 40.0
    half_a = dataclasses.replace(motion, angles_deg={"left_knee_flexion": only_first}, events=())
    half_b = dataclasses.replace(motion, angles_deg={"left_knee_flexion": only_last}, events=())
    with pytest.raises(InsufficientDataError):
        compare_motions(half_a, half_b)


def test_the_angles_asked_for_are_the_only_ones_compared() -> None:
    motion = reference_motion(BOLT)
    comparison = compare_motions(motion, motion.mirrored(), angles=["right_knee_flexion", "left_knee_flexion"])
    assert [joint.angle for joint in comparison.joints] == ["left_knee_flexion", "right_knee_flexion"]
    assert comparison.alignment.angles == ["left_knee_flexion", "right_knee_flexion"]


# --- the document -----------------------------------------------------------------------------------------------


@pytest.mark.parametrize("reference", ["pound", "mirrored"])
def test_every_number_is_finite_and_the_document_round_trips(reference: str, tmp_path: Path) -> None:
    motion = reference_motion(BOLT)
    other = motion.mirrored() if reference == "mirrored" else reference_motion(reference)
    comparison = compare_motions(motion, other)
    values = numbers(comparison.model_dump(mode="json"))
    assert values
    assert all(math.isfinite(value) for value in values)
    for joint in comparison.joints:
        assert joint.max_at is not None
        assert joint.max_abs_difference_deg is not None
        assert joint.max_abs_difference_deg >= abs(joint.mean_difference_deg or 0.0)
    target = comparison.to_json_file(tmp_path / "out" / "comparison.json")
    assert Comparison.model_validate_json(target.read_text(encoding="utf-8")) == comparison
    assert json.loads(target.read_text(encoding="utf-8"))["schema_version"] == "1.0"
    assert sorted(path.name for path in target.parent.iterdir()) == ["comparison.json"]


def test_the_document_refuses_unknown_fields() -> None:
    motion = reference_motion(BOLT)
    document = compare_motions(motion, motion).model_dump(mode="json")
    with pytest.raises(ValidationError):
        Comparison.model_validate({**document, "extra": 1})
