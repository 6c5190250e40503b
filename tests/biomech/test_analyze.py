"""The whole engine on synthetic motions: the section, the series, uncertainty, guards and bad input."""

from __future__ import annotations

import json
import math

import numpy as np
import pytest

from spacecomputer.biomech import (
    BiomechanicsOptions,
    BiomechanicsResult,
    BodyModel,
    analyze_biomechanics,
    estimate_ground_reaction,
    evaluate,
    format_measurement,
    landmark_noise,
    movement_metrics,
)
from spacecomputer.biomech._analyze import _level, is_reliable, unreliable_because
from spacecomputer.biomech._engine import MAX_PLAUSIBLE_COM_ACCELERATION_M_S2, EnginePass
from spacecomputer.biomech._series import metrics_series
from spacecomputer.biomech._uncertainty import VISIBILITY_FLOOR, monte_carlo_spread
from spacecomputer.domain import PoseFlag, PoseSequence
from spacecomputer.domain._analysis_biomech import BiomechanicsSection
from spacecomputer.domain._placement import DepthErrorProcess, PlacementUncertainty
from spacecomputer.errors import InsufficientDataError, InvalidInputError, InvalidPoseDataError
from spacecomputer.vision._depth import smooth_depth
from tests.biomech.gait_motions import UP, drop_landing, gait, index, sequence_of, standing_pose, vertical_jump
from tests.biomech.physics_motions import contacts_of

MODEL = BodyModel.from_anthropometry(mass_kg=70.0, height_m=1.75, sex="male")


def _refuse(constant: str) -> None:
    raise AssertionError(f"JSON holds {constant}")


def _finite_json(section: BiomechanicsSection) -> dict[str, object]:
    return json.loads(section.model_dump_json(), parse_constant=_refuse)  # type: ignore[no-any-return]


def _noisy(sequence: PoseSequence, sigma_m: float, seed: int = 0) -> PoseSequence:
    rng = np.random.default_rng(seed)
    return sequence.replace(positions=sequence.positions + rng.normal(0.0, sigma_m, sequence.positions.shape))


@pytest.fixture(scope="module")
def run_result():  # type: ignore[no-untyped-def]
    sequence, _ = gait(fps=60.0, duration_s=3.0)
    return analyze_biomechanics(
        sequence,
        up=UP,
        up_source="test world",
        options=BiomechanicsOptions(mass_kg=70.0, height_m=1.75, sex="male", draws=8),
        raw=_noisy(sequence, 0.005),
        cutoff_hz=8.0,
    )


def test_a_synthetic_run_gives_a_complete_finite_section(run_result) -> None:  # type: ignore[no-untyped-def]
    section = run_result.section
    document = _finite_json(section)
    assert document["up"] == [0.0, 0.0, 1.0]
    assert section.movement.family == "sprint"
    assert section.movement.source == "detected"
    assert section.body_model.sex == "male"
    assert section.body_model.mass_source == "given"
    assert len(section.body_model.segments) == 14
    assert math.isclose(sum(s.mass_kg for s in section.body_model.segments), 70.0, rel_tol=1e-3)
    names = {s.name for s in section.scalars}
    assert {"step_length_m", "step_frequency_hz", "peak_vertical_grf_bw", "left_knee_flexion_range_deg"} <= names
    kinetic = [s for s in section.scalars if s.category == "kinetics"]
    assert kinetic
    assert all(s.estimated_from_video for s in kinetic)
    assert {e.kind for e in section.events} == {"contact", "toe_off"}
    assert {p.kind for p in section.phases} == {"contact", "flight"}
    assert section.series_columns == list(run_result.series)
    assert section.uncertainty.draws == 8


def test_every_available_scalar_has_an_uncertainty_and_a_display(run_result) -> None:  # type: ignore[no-untyped-def]
    for scalar in run_result.section.scalars:
        if scalar.available:
            assert scalar.value is not None
            assert scalar.uncertainty is not None, scalar.name
            assert "±" in scalar.display
        else:
            assert scalar.reason
            assert scalar.display.startswith("unavailable: ")


def test_series_columns_have_one_value_per_frame(run_result) -> None:  # type: ignore[no-untyped-def]
    lengths = {values.shape for values in run_result.series.values()}
    assert lengths == {(180,)}
    np.testing.assert_array_equal(run_result.series["row"], np.arange(180))
    contact = run_result.series["left_contact"]
    assert set(np.unique(contact[np.isfinite(contact)])) <= {0.0, 1.0}
    standing_weight = run_result.series["grf_vertical_bw"]
    assert np.nanmax(standing_weight) > 1.0


def test_the_step_length_is_recovered_within_its_uncertainty(run_result) -> None:  # type: ignore[no-untyped-def]
    step = {s.name: s for s in run_result.section.scalars}["step_length_m"]
    assert step.value == pytest.approx(1.2, abs=0.02)
    assert step.uncertainty is not None
    assert step.uncertainty < 0.1


# --- noise model -----------------------------------------------------------------------------------------------


def test_landmark_noise_separates_the_common_and_the_own_part() -> None:
    n, fps = 4000, 100.0
    smooth = sequence_of(np.repeat(standing_pose()[None], n, axis=0), fps)
    rng = np.random.default_rng(3)
    own = rng.normal(0.0, 0.01, smooth.positions.shape)
    shared = rng.normal(0.0, 1.0, (n, 3)) * np.array([0.2, 0.02, 0.03])
    raw = smooth.replace(positions=smooth.positions + own + shared[:, None, :])
    noise = landmark_noise(raw, smooth, cutoff_hz=None)
    np.testing.assert_allclose(noise.common_sigma_m, [0.2, 0.02, 0.03], rtol=0.06)
    assert np.median(noise.sigma_m) == pytest.approx(0.01, rel=0.06)


def test_the_filter_share_and_visibility_scale_the_noise() -> None:
    n, fps = 2000, 100.0
    smooth = sequence_of(np.repeat(standing_pose()[None], n, axis=0), fps)
    own = np.random.default_rng(4).normal(0.0, 0.01, smooth.positions.shape)
    raw = smooth.replace(positions=smooth.positions + own)
    # A 25 Hz cut-off at 100 fps keeps half of white noise's variance: the residual is sqrt(0.5) of it.
    residual_only = raw.replace(positions=smooth.positions + own * math.sqrt(0.5))
    half_seen = smooth.replace(confidence=np.full((n, 33), 0.5))
    noise = landmark_noise(residual_only, half_seen, cutoff_hz=25.0)
    assert np.median(noise.sigma_m) == pytest.approx(0.02, rel=0.06)
    unseen = smooth.replace(confidence=np.zeros((n, 33)))
    floor = landmark_noise(residual_only, unseen, cutoff_hz=25.0)
    assert np.median(floor.sigma_m) == pytest.approx(0.01 / VISIBILITY_FLOOR, rel=0.06)


def test_without_a_raw_sequence_a_default_is_assumed_and_said() -> None:
    sequence, _ = gait(fps=60.0, duration_s=1.0)
    noise = landmark_noise(None, sequence, cutoff_hz=6.0)
    assert not noise.measured
    np.testing.assert_array_equal(noise.common_covariance_m2, np.zeros((3, 3)))
    with pytest.raises(InvalidInputError, match="Nyquist"):
        landmark_noise(sequence, sequence, cutoff_hz=40.0)


def test_monte_carlo_spread_reproduces_a_known_standard_deviation() -> None:
    n = 50
    smooth = sequence_of(np.repeat(standing_pose()[None], n, axis=0), 100.0)
    own = np.random.default_rng(5).normal(0.0, 0.01, smooth.positions.shape)
    shared = np.random.default_rng(6).normal(0.0, 0.05, (n, 3))
    raw = smooth.replace(positions=smooth.positions + own + shared[:, None, :])
    noise = landmark_noise(raw, smooth, cutoff_hz=None)
    nose = index("nose")

    def nose_x(perturbed: PoseSequence) -> dict[str, float | None]:
        return {"x": float(perturbed.positions[10, nose, 0])}

    spread = monte_carlo_spread(smooth, noise, nose_x, draws=400, seed=1, cutoff_hz=None)
    expected = math.sqrt(noise.sigma_m[10, nose] ** 2 + noise.common_covariance_m2[0, 0])
    assert spread.std("x") == pytest.approx(expected, rel=0.12)
    assert spread.std("missing") is None


def _depth_placement(sequence: PoseSequence, *, scatter_m: float, seed: int = 2) -> PlacementUncertainty:
    """The depth smoother's error for a sample-like depth track, seen along +x (horizontal)."""
    n = sequence.n_frames
    depth_m = 11.0 + np.random.default_rng(seed).normal(0.0, scatter_m, n)
    track = smooth_depth(depth_m, np.full(n, max(scatter_m, 1e-3)), sequence.timestamps_s)
    assert track.error is not None
    return PlacementUncertainty(track.error, np.tile([1.0, 0.0, 0.0], (n, 1)))


def _uncertainties(result: BiomechanicsResult) -> dict[str, float | None]:
    return {s.name: s.uncertainty for s in result.section.scalars}


def test_a_placement_without_error_leaves_every_draw_as_without_one() -> None:
    # The depth error has its own random generator: the landmark noise of each draw does not change.
    sequence, _ = gait(fps=60.0, duration_s=2.0)
    zero = PlacementUncertainty(
        DepthErrorProcess(np.zeros((sequence.n_frames, 2, 2)), np.zeros((sequence.n_frames, 2, 2))),
        np.tile([1.0, 0.0, 0.0], (sequence.n_frames, 1)),
    )
    common = {"up": UP, "up_source": "test", "options": BiomechanicsOptions(draws=5), "cutoff_hz": 8.0}
    raw = _noisy(sequence, 0.005)

    without = analyze_biomechanics(sequence, raw=raw, **common)  # type: ignore[arg-type]
    with_zero = analyze_biomechanics(sequence, raw=raw, placement=zero, **common)  # type: ignore[arg-type]

    assert _uncertainties(with_zero) == _uncertainties(without)


def test_the_depth_error_moves_the_whole_body_speeds_change_angles_do_not() -> None:
    sequence, _ = gait(fps=60.0, duration_s=3.0)
    placement = _depth_placement(sequence, scatter_m=0.3)
    common = {"up": UP, "up_source": "test", "options": BiomechanicsOptions(draws=10), "cutoff_hz": 8.0}
    raw = _noisy(sequence, 0.005)

    without = _uncertainties(analyze_biomechanics(sequence, raw=raw, **common))  # type: ignore[arg-type]
    with_depth = _uncertainties(analyze_biomechanics(sequence, raw=raw, placement=placement, **common))  # type: ignore[arg-type]

    speed = "com_peak_horizontal_speed_m_s"
    assert with_depth[speed] is not None
    assert without[speed] is not None
    assert with_depth[speed] > 3.0 * without[speed]
    angles = [name for name in without if name.endswith("_deg") and without[name] is not None]
    assert angles
    for name in angles:  # angles do not change when the whole body moves
        assert with_depth[name] == pytest.approx(without[name], rel=1e-3), name


def test_a_placement_for_other_frames_is_refused() -> None:
    sequence, _ = gait(fps=60.0, duration_s=1.0)
    placement = _depth_placement(sequence[:-1], scatter_m=0.3)
    with pytest.raises(InvalidInputError, match="placement uncertainty covers"):
        analyze_biomechanics(
            sequence, up=UP, up_source="test", options=BiomechanicsOptions(draws=2), placement=placement
        )


def test_format_measurement_rounds_to_the_uncertainty() -> None:
    assert format_measurement(38.234, 4.06, "deg") == "38.2° ± 4.1°"
    assert format_measurement(2751.3, 415.2, "N") == "2751 N ± 415 N"
    assert format_measurement(0.1234, 0.0123, "m") == "0.123 m ± 0.012 m"
    assert format_measurement(None, None, "m") == "unavailable"


def test_reliability_and_risk_level_rules() -> None:
    assert is_reliable(10.0, 5.0, "N·m")
    assert not is_reliable(10.0, 5.1, "N·m")
    assert not is_reliable(-2.0, 3.0, "W")
    assert is_reliable(None, None, "W")
    # An angle's zero is a convention: judged by its ± alone (5°), not against its value.
    assert is_reliable(0.0, 0.96, "deg")
    assert is_reliable(3.8, 2.3, "deg")
    assert not is_reliable(180.0, 37.0, "deg")
    assert not is_reliable(30.0, 5.1, "deg")
    assert is_reliable(30.0, 5.0, "deg")
    assert not is_reliable(10.0, 6.0, "deg/s")  # an angular velocity has a true zero: the relative rule
    assert unreliable_because("deg") == "the uncertainty is more than 5°"
    assert unreliable_because("J") == "the uncertainty is more than half the value"
    assert _level(16.0, 10.0, 15.0) == "red"
    assert _level(12.0, 10.0, 15.0) == "yellow"
    assert _level(10.0, 10.0, 15.0) == "green"
    assert _level(40.0, 60.0, 45.0) == "red"
    assert _level(50.0, 60.0, 45.0) == "yellow"


# --- physical guards -------------------------------------------------------------------------------------------


def test_horizontal_ground_force_is_limited_to_the_friction_cone() -> None:
    n, fps = 60, 100.0
    t = np.arange(n) / fps
    positions = np.repeat(standing_pose()[None], n, axis=0)
    above_feet = [
        i
        for i in range(33)
        if i not in {index(f"{s}_{p}") for s in ("left", "right") for p in ("heel", "foot_index", "ankle")}
    ]
    # The body above the ankles accelerates sideways at 2 g while both feet stay planted.
    positions[:, above_feet, 1] += 0.5 * 2.0 * 9.80665 * t[:, None] ** 2
    sequence = sequence_of(positions, fps)
    contacts = contacts_of(np.ones((n, 2), dtype=bool), fps=fps)
    grf = estimate_ground_reaction(sequence, MODEL, contacts, up=UP)
    inner = slice(5, n - 5)
    vertical = grf.total_n[inner] @ UP
    horizontal = np.linalg.norm(grf.total_n[inner] - np.outer(vertical, UP), axis=1)
    np.testing.assert_allclose(horizontal, vertical, rtol=1e-9)
    assert grf.friction_limited_frames >= n - 10
    free = estimate_ground_reaction(sequence, MODEL, contacts, up=UP, friction_coefficient=10.0)
    assert free.friction_limited_frames == 0


def test_a_tracking_glitch_is_left_out_of_the_kinetics() -> None:
    sequence, _ = gait(fps=60.0, duration_s=3.0)
    positions = np.array(sequence.positions)
    positions[90:93] += np.array([0.8, 0.0, 0.0])  # three frames placed 0.8 m too far: a depth glitch
    glitched = sequence.replace(positions=positions)
    result = evaluate(glitched, MODEL, up=UP, family="sprint")
    assert result.implausible[88:95].all()
    assert not result.implausible[:70].any()
    assert np.isnan(result.ground_reaction.total_n[result.implausible]).all()
    assert np.isnan(result.kinetics["left_knee"].power_w[result.implausible]).all()
    peak = result.scalars["peak_vertical_grf_bw"].metric.value
    assert peak is not None
    assert peak < MAX_PLAUSIBLE_COM_ACCELERATION_M_S2 / 9.80665


def _flagged(sequence: PoseSequence, rows: slice) -> PoseSequence:
    flags = np.array(sequence.flags)
    flags[rows] |= np.uint8(PoseFlag.UNRELIABLE_POSITION)
    return sequence.replace(flags=flags)


def test_frames_with_an_unreliable_global_position_give_no_speed() -> None:
    sequence, _ = gait(fps=60.0, duration_s=3.0)
    clean = evaluate(sequence, MODEL, up=UP, family="sprint")
    positions = np.array(sequence.positions)
    # Frames 90-110: the body drifts 0.6 m sideways and back (a depth the trajectory could not measure).
    positions[90:111, :, 1] += 0.6 * np.sin(np.linspace(0.0, np.pi, 21))[:, None]
    drifting = sequence.replace(positions=positions)
    unflagged = evaluate(drifting, MODEL, up=UP, family="sprint")
    flagged_sequence = _flagged(drifting, slice(90, 111))

    result = evaluate(flagged_sequence, MODEL, up=UP, family="sprint")

    def peak(run: EnginePass) -> float:
        value = run.scalars["com_peak_horizontal_speed_m_s"].metric.value
        assert value is not None
        return value

    assert peak(unflagged) > peak(clean) + 1.0  # the drift shows as speed when nothing is flagged
    assert peak(result) == pytest.approx(peak(clean), abs=0.05)
    assert "reliable global position" in result.scalars["com_peak_horizontal_speed_m_s"].metric.convention
    np.testing.assert_array_equal(np.flatnonzero(result.unreliable_position), np.arange(90, 111))
    assert np.isnan(result.ground_reaction.total_n[90:111]).all()
    series = metrics_series(flagged_sequence, result, MODEL, UP)
    assert np.isnan(series["com_horizontal_speed_m_s"][90:111]).all()
    assert np.isnan(series["com_vertical_velocity_m_s"][90:111]).all()
    assert np.isfinite(series["com_horizontal_speed_m_s"][5:85]).all()
    assert np.isfinite(series["com_x_m"][90:111]).all()  # the bridged position itself is kept
    sprint_peak = result.scalars["com_horizontal_speed_peak_m_s"].metric.value
    assert sprint_peak == pytest.approx(peak(clean), abs=0.05)


def test_speeds_are_unavailable_when_no_frame_has_a_reliable_position() -> None:
    sequence, _ = gait(fps=60.0, duration_s=1.0)
    result = analyze_biomechanics(
        _flagged(sequence, slice(None)), up=UP, up_source="test", options=BiomechanicsOptions(draws=0)
    )
    speed = next(s for s in result.section.scalars if s.name == "com_peak_horizontal_speed_m_s")
    assert not speed.available
    assert speed.reason is not None
    assert "reliable global position" in speed.reason
    assert any("unreliable global position" in warning for warning in result.section.warnings)
    assert np.isnan(result.series["com_horizontal_speed_m_s"]).all()


# --- bad input -------------------------------------------------------------------------------------------------


def test_nan_landmarks_never_reach_the_json() -> None:
    sequence, _ = gait(fps=60.0, duration_s=2.0)
    positions = np.array(sequence.positions)
    positions[40:60] = np.nan
    positions[:, index("left_wrist")] = np.nan
    result = analyze_biomechanics(
        sequence.replace(positions=positions), up=UP, up_source="test", options=BiomechanicsOptions(draws=3)
    )
    _finite_json(result.section)
    assert result.section.body_model.mass_source == "default"
    assert result.section.body_model.notes


def test_feet_never_seen_make_foot_metrics_unavailable_with_reasons() -> None:
    sequence, _ = gait(fps=60.0, duration_s=2.0)
    positions = np.array(sequence.positions)
    for side in ("left", "right"):
        for part in ("heel", "foot_index"):
            positions[:, index(f"{side}_{part}")] = np.nan
    result = analyze_biomechanics(
        sequence.replace(positions=positions),
        up=UP,
        up_source="test",
        options=BiomechanicsOptions(sport="sprint", draws=3),
    )
    section = result.section
    _finite_json(section)
    assert not section.events
    assert any("foot contacts unknown" in w for w in section.warnings)
    step = {s.name: s for s in section.scalars}["step_length_m"]
    assert not step.available
    assert step.reason


@pytest.mark.parametrize(
    ("options", "error"),
    [
        ({"mass_kg": 0.0}, InvalidInputError),
        ({"mass_kg": -70.0}, InvalidInputError),
        ({"height_m": 175.0}, InvalidInputError),
        ({"sex": "other"}, InvalidInputError),
        ({"draws": -1}, InvalidInputError),
    ],
)
def test_bad_options_are_refused(options: dict[str, object], error: type[Exception]) -> None:
    sequence, _ = gait(fps=60.0, duration_s=1.0)
    with pytest.raises(error):
        analyze_biomechanics(sequence, up=UP, up_source="test", options=BiomechanicsOptions(**options))  # type: ignore[arg-type]


def test_two_frames_and_image_frames_are_refused_or_unavailable() -> None:
    sequence, _ = gait(fps=60.0, duration_s=1.0)
    try:
        result = analyze_biomechanics(sequence[:2], up=UP, up_source="test", options=BiomechanicsOptions(draws=2))
    except InsufficientDataError:
        pass
    else:
        _finite_json(result.section)
        assert not any(s.available for s in result.section.scalars if s.category == "kinetics")
    image = sequence.replace(frame=sequence.frame.__class__.IMAGE, image_size_px=(640, 480))
    with pytest.raises(InvalidPoseDataError):
        analyze_biomechanics(image, up=UP, up_source="test")
    with pytest.raises(InvalidInputError):
        analyze_biomechanics(sequence, up=(0.0, 0.0, 2.0), up_source="test")


def test_flight_time_jump_height_needs_one_level_for_take_off_and_landing() -> None:
    same_level = {m.name: m for m in movement_metrics(vertical_jump(fps=100.0), up=UP, sport="jump", body_model=MODEL)}
    height = same_level["jump_height_flight_time_m"]
    assert height.value == pytest.approx(9.80665 * 0.5**2 / 8, rel=0.1)
    off_a_box = {m.name: m for m in movement_metrics(drop_landing(fps=100.0), up=UP, sport="jump", body_model=MODEL)}
    refused = off_a_box["jump_height_flight_time_m"]
    assert not refused.available
    assert refused.reason is not None
    assert "differ by 0.4" in refused.reason


def test_an_angle_extreme_on_a_joint_limit_says_the_fit_stopped_there() -> None:
    # Standing with straight legs: the knee's minimum is 0°, the lower limit of the skeleton's knee (0° to 155°).
    pose = standing_pose()
    for side in ("left", "right"):
        hip, knee, ankle = (index(f"{side}_{part}") for part in ("hip", "knee", "ankle"))
        pose[knee] = pose[hip] + 0.52 * (pose[ankle] - pose[hip])  # on the hip-ankle line: a straight knee
    frames = np.stack([pose for _ in range(30)])
    result = analyze_biomechanics(
        sequence_of(frames, fps=30.0),
        up=UP,
        up_source="test world",
        options=BiomechanicsOptions(mass_kg=70.0, height_m=1.75, draws=0),
    )
    scalars = {s.name: s for s in result.section.scalars}
    knee_min = scalars["left_knee_flexion_min_deg"]
    assert knee_min.value == pytest.approx(0.0, abs=0.05)
    assert "limit of the skeleton's range for this joint (0° to 155°)" in knee_min.convention
    assert "limit" not in scalars["left_knee_flexion_range_deg"].convention.split("(", 1)[0]
    hip_max = scalars["left_hip_flexion_max_deg"]  # 0°: inside the hip's range, so no note
    assert hip_max.value == pytest.approx(0.0, abs=0.05)
    assert "skeleton's range" not in hip_max.convention
