from __future__ import annotations

import math
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest

from spacecomputer.biomech.solver import DOF_NAMES, joint_limits, limits_source

LIMITS = joint_limits()


def _model_file() -> Path:
    try:
        from spacecomputer.biomech._opensim_check_scaling import pose2sim_setup_dir

        path = pose2sim_setup_dir() / "Model_Pose2Sim_simple.osim"
    except ImportError:
        pytest.skip("Pose2Sim is not installed (the Makefile installs it): the model file is not available")
    if not path.is_file():
        pytest.skip(f"Pose2Sim is installed without {path.name}")
    return path


@pytest.fixture(scope="module")
def coordinates() -> dict[str, tuple[float, float, bool]]:
    """Every <Coordinate> of the model file: (lower, upper) in degrees and whether it is clamped."""
    out = {}
    for element in ET.parse(_model_file()).iter("Coordinate"):
        low, high = (math.degrees(float(v)) for v in (element.findtext("range") or "").split())
        out[element.get("name", "")] = (low, high, (element.findtext("clamped") or "").strip() == "true")
    return out


def test_every_degree_of_freedom_has_a_limit_with_a_source() -> None:
    assert set(LIMITS) == set(DOF_NAMES)
    for name, limit in LIMITS.items():
        assert limit.lower <= limit.upper, name
        assert limit.source in ("model", "our own"), name
        assert limit.note, name
        assert (limit.coordinate is not None) == (limit.source == "model"), name


def test_model_limits_are_re_derived_from_the_osim_file(coordinates: dict[str, tuple[float, float, bool]]) -> None:
    derived = 0
    for name, limit in LIMITS.items():
        if limit.source != "model":
            continue
        assert limit.coordinate is not None
        low, high, clamped = coordinates[limit.coordinate]
        if limit.sign == -1:
            low, high = -high, -low
        assert (limit.lower, limit.upper) == pytest.approx((low, high), abs=1e-9), name
        assert clamped, f"{name}: the model does not clamp {limit.coordinate}, so its range is no limit there"
        derived += 1
    assert derived == 17  # hips, knees, ankles, elbows (both sides), lumbar bending and rotation, the neck


def test_the_left_hip_takes_the_right_hips_range_which_the_file_lists_for_both(
    coordinates: dict[str, tuple[float, float, bool]],
) -> None:
    for motion in ("adduction", "rotation"):
        assert coordinates[f"hip_{motion}_l"] == coordinates[f"hip_{motion}_r"]
    assert LIMITS["left_hip_adduction"].coordinate == "hip_adduction_r"


def test_our_own_shoulder_limits_replace_coordinates_the_model_leaves_unclamped(
    coordinates: dict[str, tuple[float, float, bool]],
) -> None:
    for side in ("l", "r"):
        for coordinate in ("arm_flex", "arm_add", "arm_rot"):
            assert not coordinates[f"{coordinate}_{side}"][2]
    assert LIMITS["left_shoulder_flexion"].source == "our own"
    assert (LIMITS["left_shoulder_flexion"].lower, LIMITS["left_shoulder_flexion"].upper) == (-60.0, 180.0)


def test_the_quoted_credits_are_the_files_own_words() -> None:
    root = ET.parse(_model_file()).getroot()
    model = root.find("Model")
    assert model is not None
    source = limits_source()
    assert source["credits"] == model.findtext("credits")
    assert source["publications"] == model.findtext("publications")
    assert source["model"] == model.get("name")


def test_the_root_is_free_and_the_knee_is_clamped_as_the_model_says() -> None:
    assert math.isinf(LIMITS["pelvis_tx"].lower)
    assert math.isinf(LIMITS["pelvis_rot_z"].upper)
    knee = LIMITS["right_knee_flexion"]
    assert (knee.lower, knee.upper, knee.coordinate, knee.sign) == (0.0, 155.0, "knee_angle_r", 1)
    assert knee.clamp(170.0) == 155.0
    assert knee.clamp(-5.0) == 0.0
    assert knee.clamp(60.0) == 60.0
    assert knee.contains(155.0)
    assert not knee.contains(155.1)
    assert knee.contains(155.1, tolerance=0.2)
    neck = LIMITS["neck_flexion"]
    assert neck.sign == -1
    assert neck.lower == pytest.approx(-math.degrees(0.5))
