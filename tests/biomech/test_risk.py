from __future__ import annotations

import numpy as np
import pytest
from numpy.typing import NDArray
from scipy.spatial.transform import Rotation

from spacecomputer.biomech import FootContacts, KinematicSeries
from spacecomputer.biomech._events import _events
from spacecomputer.biomech._risk import (
    HEURISTIC_SOURCE,
    RISK_THRESHOLDS,
    RiskIndicator,
    asymmetry_index_percent,
    knee_frontal_plane_projection_angle_deg,
    risk_indicators,
)
from spacecomputer.domain import BLAZEPOSE_33, CoordinateFrame, PoseSequence
from spacecomputer.errors import InvalidInputError
from tests.biomech.scene import standing_pose

# Scene: x forward, y to the athlete's left, z up; metres. The left leg's lateral side is +y, the right's −y.
UP = np.array([0.0, 0.0, 1.0])
X = np.array([1.0, 0.0, 0.0])
FPS = 100.0


def valgus(pose: NDArray[np.float64], side: str, angle_deg: float) -> NDArray[np.float64]:
    """Swing the shank and foot about the knee in the frontal plane, the ankle going lateral by ``angle_deg``.

    The thigh and shank both project onto the frontal (y, z) plane as straight down, so the knee then lies
    ``angle_deg`` medial of the hip–ankle line: valgus of exactly that angle (negative = varus).
    """
    out = pose.copy()
    lateral_turn = 1.0 if side == "left" else -1.0  # about +x, +y (left's lateral) follows −z (down)
    knee = pose[BLAZEPOSE_33.index(f"{side}_knee")]
    index = [BLAZEPOSE_33.index(f"{side}_{part}") for part in ("ankle", "heel", "foot_index")]
    turn = Rotation.from_rotvec(np.radians(lateral_turn * angle_deg) * X)
    out[index] = knee + turn.apply(pose[index] - knee)
    return out


def mirrored(pose: NDArray[np.float64]) -> NDArray[np.float64]:
    """The scene seen in a mirror: y → −y, and every left landmark becomes the right one."""
    out = pose * np.array([1.0, -1.0, 1.0])
    swap = [BLAZEPOSE_33.index(_mirror_name(name)) for name in BLAZEPOSE_33.joint_names]
    return out[swap]


def _mirror_name(name: str) -> str:
    for a, b in (("left", "right"), ("right", "left")):
        if a in name:
            return name.replace(a, b)
    return name


def sequence(poses: NDArray[np.float64]) -> PoseSequence:
    n = poses.shape[0]
    return PoseSequence(
        positions=poses, confidence=np.ones((n, 33)), timestamps_s=np.arange(n) / FPS, fps=FPS,
        frame=CoordinateFrame.WORLD,
    )  # fmt: skip


def contacts(in_contact: NDArray[np.bool_]) -> FootContacts:
    known = np.ones_like(in_contact)
    t = np.arange(in_contact.shape[0]) / FPS
    return FootContacts(in_contact, known, np.zeros(in_contact.shape[0]), t, _events(in_contact, known, t), None)


def series(name: str, values: NDArray[np.float64]) -> KinematicSeries:
    return KinematicSeries(name, np.asarray(values, dtype=np.float64), "synthetic", ("left_knee",))


def by_name(indicators: list[RiskIndicator]) -> dict[str, RiskIndicator]:
    return {i.name: i for i in indicators}


# --- knee frontal-plane projection angle ----------------------------------------------------------------------


@pytest.mark.parametrize("angle_deg", [-8.0, 5.0, 12.0, 20.0])
@pytest.mark.parametrize("side", ["left", "right"])
def test_knee_displaced_medially_by_a_known_angle_reads_that_fppa(side: str, angle_deg: float) -> None:
    fppa = knee_frontal_plane_projection_angle_deg(sequence(valgus(standing_pose(), side, angle_deg)[None]), up=UP)
    other = "right" if side == "left" else "left"
    assert fppa[side][0] == pytest.approx(angle_deg, abs=1e-9)  # valgus positive, varus negative
    assert fppa[other][0] == pytest.approx(0.0, abs=1e-9)


def test_mirroring_the_scene_swaps_the_left_and_right_fppa() -> None:
    pose = valgus(valgus(standing_pose(), "left", 12.0), "right", -4.0)
    original = knee_frontal_plane_projection_angle_deg(sequence(pose[None]), up=UP)
    mirror = knee_frontal_plane_projection_angle_deg(sequence(mirrored(pose)[None]), up=UP)
    assert (original["left"][0], original["right"][0]) == pytest.approx((12.0, -4.0))
    assert (mirror["left"][0], mirror["right"][0]) == pytest.approx((-4.0, 12.0))


def test_fppa_does_not_depend_on_the_axes_of_the_frame() -> None:
    pose = valgus(valgus(standing_pose(), "left", 9.0), "right", 3.0)
    to_camera = Rotation.from_rotvec([np.pi / 2, 0.0, 0.3])  # any rotation; up follows it
    camera = to_camera.apply(pose) + np.array([0.2, 1.0, 3.5])
    fppa = knee_frontal_plane_projection_angle_deg(sequence(camera[None]), up=to_camera.apply(UP))
    assert (fppa["left"][0], fppa["right"][0]) == pytest.approx((9.0, 3.0))


def test_fppa_is_nan_when_the_thigh_points_along_the_frontal_plane_normal() -> None:
    pose = standing_pose()
    hip = pose[BLAZEPOSE_33.index("left_hip")]
    index = [BLAZEPOSE_33.index(f"left_{part}") for part in ("knee", "ankle", "heel", "foot_index")]
    pose[index] = hip + Rotation.from_rotvec(np.radians(90.0) * np.array([0.0, -1.0, 0.0])).apply(pose[index] - hip)
    fppa = knee_frontal_plane_projection_angle_deg(sequence(pose[None]), up=UP)
    assert np.isnan(fppa["left"][0])  # hip flexed 90° with a nearly straight knee: thigh along x
    assert fppa["right"][0] == pytest.approx(0.0, abs=1e-9)


# --- indicators over a landing ----------------------------------------------------------------------------------


def _landing_clip() -> tuple[PoseSequence, FootContacts]:
    """60 frames at 100 Hz: stance 0–4, flight 5–9, landing at frame 10 (t = 0.10 s); window to frame 40."""
    n = 60
    left, right = np.zeros(n), np.zeros(n)
    left[10:21] = 12.0 * np.sin(np.linspace(0.0, np.pi, 11))  # peak 12° at frame 15
    right[10:31] = 7.0 * np.sin(np.linspace(0.0, np.pi, 21))  # peak 7° at frame 20
    left[50] = right[50] = 25.0  # after the window: must not count
    poses = np.stack([valgus(valgus(standing_pose(), "left", a), "right", b) for a, b in zip(left, right, strict=True)])
    in_contact = np.ones((n, 2), dtype=bool)
    in_contact[5:10] = False
    return sequence(poses), contacts(in_contact)


def test_indicators_of_a_landing_with_known_values() -> None:
    seq, foot_contacts = _landing_clip()
    n = seq.n_frames
    knee = {side: np.full(n, 20.0) for side in ("left", "right")}
    knee["left"][18], knee["right"][25] = 50.0, 40.0
    knee["left"][55] = knee["right"][55] = 100.0  # after the window
    lean = np.zeros(n)
    lean[30], lean[40] = -22.0, 15.0
    moment = np.full(n, 1.0)
    moment[12] = 3.5
    angles = {
        "left_knee_flexion": series("left_knee_flexion", knee["left"]),
        "right_knee_flexion": series("right_knee_flexion", knee["right"]),
        "trunk_lateral_lean": series("trunk_lateral_lean", lean),
    }
    result = by_name(
        risk_indicators(
            seq,
            up=UP,
            angles=angles,
            contacts=foot_contacts,
            knee_moment_n_m_per_kg={"left": moment, "right": np.full(n, np.nan)},
            paired_metrics={"step_length_m": (10.0, 12.0), "contact_time_s": (None, 0.2), "odd": (1.0, -1.0)},
        )
    )
    expected = {  # name: (value, level, frame)
        "knee_frontal_plane_projection_angle_left": (12.0, "yellow", 15),
        "knee_frontal_plane_projection_angle_right": (7.0, "green", 20),
        "landing_peak_knee_flexion_left": (50.0, "yellow", 18),
        "landing_peak_knee_flexion_right": (40.0, "red", 25),
        "trunk_lateral_lean_peak": (22.0, "red", 30),
        "peak_knee_extensor_moment_per_kg_left": (3.5, "yellow", 12),
    }
    for name, (value, level, frame) in expected.items():
        indicator = result[name]
        assert indicator.value == pytest.approx(value, abs=1e-9), name
        assert (indicator.level, indicator.frame_index) == (level, frame), name
        assert indicator.time_s == pytest.approx(frame / FPS), name
        assert indicator.heuristic
        assert indicator.source == HEURISTIC_SOURCE
    assert result["knee_frontal_plane_projection_angle_left"].unit == "deg"
    assert result["knee_frontal_plane_projection_angle_left"].rule == "red if > 15 deg, yellow if > 10 deg, else green"
    assert "estimated from video" in result["peak_knee_extensor_moment_per_kg_left"].rule
    assert result["peak_knee_extensor_moment_per_kg_right"].level == "unavailable"
    asymmetry = result["asymmetry_step_length_m"]
    assert (asymmetry.value, asymmetry.level, asymmetry.unit) == (pytest.approx(18.1818, abs=1e-4), "yellow", "%")
    assert asymmetry.time_s is None
    for name in ("asymmetry_contact_time_s", "asymmetry_odd"):
        assert result[name].level == "unavailable"
        assert result[name].value is None
        assert result[name].reason


def test_without_a_landing_the_landing_indicators_are_unavailable_with_a_reason() -> None:
    seq, _ = _landing_clip()
    always_on_ground = contacts(np.ones((seq.n_frames, 2), dtype=bool))
    angles = {f"{s}_knee_flexion": series(f"{s}_knee_flexion", np.full(seq.n_frames, 30.0)) for s in ("left", "right")}
    result = by_name(risk_indicators(seq, up=UP, angles=angles, contacts=always_on_ground))
    for name in (
        "knee_frontal_plane_projection_angle_left",
        "landing_peak_knee_flexion_right",
    ):
        assert result[name].level == "unavailable"
        assert result[name].value is None
        assert result[name].reason is not None
        assert "landing" in result[name].reason
    assert result["trunk_lateral_lean_peak"].reason == "the angle 'trunk_lateral_lean' was not given"
    assert "no knee moments" in (result["peak_knee_extensor_moment_per_kg_left"].reason or "")


def test_nan_inputs_give_unavailable_indicators_never_nan_values() -> None:
    seq, foot_contacts = _landing_clip()
    positions = np.array(seq.positions)
    positions[:, BLAZEPOSE_33.index("left_knee")] = np.nan
    seq = seq.replace(positions=positions)
    n = seq.n_frames
    nan = np.full(n, np.nan)
    angles = {
        "left_knee_flexion": series("left_knee_flexion", nan),
        "right_knee_flexion": series("right_knee_flexion", np.full(n, 70.0)),
        "trunk_lateral_lean": series("trunk_lateral_lean", nan),
    }
    indicators = risk_indicators(
        seq, up=UP, angles=angles, contacts=foot_contacts, knee_moment_n_m_per_kg={"left": nan, "right": nan}
    )
    for indicator in indicators:
        assert indicator.value is None or np.isfinite(indicator.value)
    result = by_name(indicators)
    for name in (
        "knee_frontal_plane_projection_angle_left",
        "landing_peak_knee_flexion_left",
        "trunk_lateral_lean_peak",
        "peak_knee_extensor_moment_per_kg_left",
    ):
        assert (result[name].value, result[name].level) == (None, "unavailable"), name
        assert result[name].reason, name
    assert result["landing_peak_knee_flexion_right"].level == "green"


def test_an_unavailable_angle_passes_on_its_reason() -> None:
    seq, foot_contacts = _landing_clip()
    unavailable = KinematicSeries(
        "trunk_lateral_lean", np.full(seq.n_frames, np.nan), "x", ("left_hip",), available=False, reason="not seen"
    )
    result = by_name(risk_indicators(seq, up=UP, angles={"trunk_lateral_lean": unavailable}, contacts=foot_contacts))
    assert result["trunk_lateral_lean_peak"].reason == "not seen"


# --- asymmetry, levels, table -----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("left", "right", "expected"),
    [
        (10.0, 12.0, 18.181818),  # |10 − 12| / 11 × 100
        (12.0, 10.0, 18.181818),
        (-10.0, -12.0, 18.181818),
        (5.0, 5.0, 0.0),
        (0.0, 4.0, 200.0),
        (0.0, 0.0, None),
        (1.0, -1.0, None),
        (float("nan"), 1.0, None),
        (float("inf"), 1.0, None),
    ],
)
def test_asymmetry_index(left: float, right: float, expected: float | None) -> None:
    value = asymmetry_index_percent(left, right)
    if expected is None:
        assert value is None
    else:
        assert value == pytest.approx(expected, abs=1e-6)


@pytest.mark.parametrize(
    ("family", "values_and_levels"),
    [
        ("knee_frontal_plane_projection_angle", [(10.0, "green"), (10.01, "yellow"), (15.0, "yellow"), (15.01, "red")]),
        ("landing_peak_knee_flexion", [(60.0, "green"), (59.99, "yellow"), (45.0, "yellow"), (44.99, "red")]),
        ("trunk_lateral_lean_peak", [(10.0, "green"), (10.01, "yellow"), (20.0, "yellow"), (20.01, "red")]),
        ("peak_knee_extensor_moment_per_kg", [(3.0, "green"), (3.01, "yellow"), (4.0, "yellow"), (4.01, "red")]),
        ("asymmetry", [(10.0, "green"), (10.01, "yellow"), (20.0, "yellow"), (20.01, "red")]),
    ],
)
def test_levels_at_the_thresholds(family: str, values_and_levels: list[tuple[float, str]]) -> None:
    threshold = RISK_THRESHOLDS[family]
    for value, level in values_and_levels:
        assert threshold.level(value) == level, value


def test_every_threshold_is_marked_as_our_heuristic() -> None:
    for threshold in RISK_THRESHOLDS.values():
        assert threshold.heuristic
        assert threshold.source == HEURISTIC_SOURCE
        assert threshold.rationale


def test_an_indicator_refuses_nan_and_inconsistent_fields() -> None:
    common = {"unit": "deg", "rule": "r", "yellow_threshold": 1.0, "red_threshold": 2.0, "source": "s"}
    with pytest.raises(InvalidInputError):
        RiskIndicator("x", float("nan"), level="green", heuristic=True, reason=None, **common)  # type: ignore[arg-type]
    with pytest.raises(InvalidInputError):
        RiskIndicator("x", None, level="green", heuristic=True, reason=None, **common)  # type: ignore[arg-type]


def test_bad_inputs_are_refused() -> None:
    seq, foot_contacts = _landing_clip()
    with pytest.raises(InvalidInputError, match="landing_window_s"):
        risk_indicators(seq, up=UP, angles={}, contacts=foot_contacts, landing_window_s=0.0)
    with pytest.raises(InvalidInputError, match="shape"):
        risk_indicators(seq, up=UP, angles={}, contacts=foot_contacts, knee_moment_n_m_per_kg={"left": np.zeros(3)})
    with pytest.raises(InvalidInputError):
        risk_indicators(seq, up=(0.0, 0.0, 2.0), angles={}, contacts=foot_contacts)
