from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from numpy.typing import NDArray

from spacecomputer.biomech.solver import CORE_LANDMARKS, DOF_NAMES, JOINT_NAMES, FrameFits, SkeletonModel, _fit_batch
from spacecomputer.biomech.solver._fit_batch import landmark_point_weights, solve_frames
from spacecomputer.domain import BLAZEPOSE_33
from spacecomputer.errors import InvalidPoseDataError

SEEDS = st.integers(min_value=0, max_value=2**32 - 1)
FITTED = tuple(name for name in JOINT_NAMES if name not in ("mid_hip", "mid_shoulder", "head_vertex"))
"""The points the fit matches to landmarks (the mid-points and the vertex are not landmarks)."""
OPTIONAL_POINTS = {
    "nose": "nose",
    "left_ear": "left_ear",
    "right_ear": "right_ear",
    "left_index": "left_hand",
    "right_pinky": "right_hand",
}
"""Optional BlazePose landmark → the fitted point it feeds."""


def poses_inside_limits(model: SkeletonModel, rng: np.random.Generator, n: int) -> NDArray[np.float64]:
    """(n, D) coordinates in the middle half of every joint's range (the root within ±0.5 m and ±0.5 rad).

    The knees and elbows are then bent between about 38° and 116°, so that every coordinate is observable.
    """
    lower, upper = model.bounds()
    lower = np.where(np.isfinite(lower), lower, -1.0)
    upper = np.where(np.isfinite(upper), upper, 1.0)
    centre, half_range = 0.5 * (lower + upper), 0.5 * (upper - lower)
    return rng.uniform(centre - 0.5 * half_range, centre + 0.5 * half_range, size=(n, lower.size))


def landmarks_of(model: SkeletonModel, q: NDArray[np.float64]) -> NDArray[np.float64]:
    """(N, 33, 3) landmarks of the model's own poses (eyes, mouth and thumbs NaN)."""
    return np.array(model.to_sequence(q).positions)


def noisy_landmarks(model: SkeletonModel, seed: int, n: int, sigma_m: float = 0.01) -> NDArray[np.float64]:
    rng = np.random.default_rng(seed)
    landmarks = landmarks_of(model, poses_inside_limits(model, rng, n))
    return landmarks + rng.normal(0.0, sigma_m, landmarks.shape)


def target_of(landmarks: NDArray[np.float64], point: str) -> NDArray[np.float64]:
    """(N, 3) the landmark a fitted point is matched to (a hand's knuckle point: the mean of index and pinky)."""
    if point.endswith("_hand"):
        side = point.removesuffix("_hand")
        fingers = [BLAZEPOSE_33.index(f"{side}_{finger}") for finger in ("index", "pinky")]
        return np.asarray(landmarks[:, fingers].mean(axis=1))
    return landmarks[:, BLAZEPOSE_33.index(point)]


def assert_angles_match(model: SkeletonModel, q: NDArray[np.float64], truth: NDArray[np.float64]) -> None:
    fitted, expected = model.engine_angles_deg(q), model.engine_angles_deg(truth)
    for name, values in expected.items():
        np.testing.assert_allclose(fitted[name], values, rtol=0.0, atol=0.1, err_msg=name)


@settings(max_examples=8, deadline=None)
@given(seed=SEEDS)
def test_the_models_own_poses_are_recovered_in_one_batch(model: SkeletonModel, seed: int) -> None:
    q = poses_inside_limits(model, np.random.default_rng(seed), 12)
    fits = model.fit_frames(landmarks_of(model, q))
    assert fits.converged.all()
    assert fits.point_names == FITTED
    assert fits.distance_m.max() < 1e-4
    assert model.points(fits.q) == pytest.approx(model.points(q), abs=1e-4)
    assert_angles_match(model, fits.q, q)


def test_the_iteration_reaches_the_pose_from_a_distant_start(model: SkeletonModel) -> None:
    rng = np.random.default_rng(11)
    q = poses_inside_limits(model, rng, 20)
    points = model.points(q)
    targets = {name: points[:, JOINT_NAMES.index(name)] for name in FITTED}
    lower, upper = model.bounds()
    start = np.clip(q + rng.normal(0.0, 0.2, q.shape), lower + 1e-9, upper - 1e-9)
    fits = solve_frames(model, targets, {name: np.ones(20) for name in FITTED}, start)
    assert fits.converged.all()
    assert (fits.iterations > 1).all()
    assert fits.distance_m.max() < 1e-4
    assert_angles_match(model, fits.q, q)


def test_a_batch_agrees_with_fitting_each_frame_alone(model: SkeletonModel) -> None:
    landmarks = noisy_landmarks(model, seed=12, n=8)
    fits = model.fit_frames(landmarks)
    for frame, pose in enumerate(landmarks):
        single = model.fit(pose)
        np.testing.assert_allclose(fits.q[frame], single.q, rtol=0.0, atol=1e-9)
        assert fits.residual_rms_m[frame] == pytest.approx(single.residual_rms_m, abs=1e-12)
        assert dict(zip(fits.point_names, fits.distance_m[frame], strict=True)) == pytest.approx(single.residual_m)
        assert single.at_limits == tuple(np.array(DOF_NAMES)[fits.at_limits[frame]])


def test_no_small_move_of_one_coordinate_brings_the_skeleton_closer_to_noisy_landmarks(model: SkeletonModel) -> None:
    landmarks = noisy_landmarks(model, seed=20, n=6, sigma_m=0.02)
    fits = model.fit_frames(landmarks)
    targets = np.stack([target_of(landmarks, name) for name in FITTED], axis=1)
    rows = [JOINT_NAMES.index(name) for name in FITTED]

    def squared_distances_m2(q: NDArray[np.float64]) -> NDArray[np.float64]:
        return np.asarray(((model.points(q)[:, rows] - targets) ** 2).sum(axis=(1, 2)))

    best = squared_distances_m2(fits.q)
    lower, upper = model.bounds()
    for i in range(len(DOF_NAMES)):
        for step in (-1e-3, 1e-3):
            moved = fits.q.copy()
            moved[:, i] += step
            inside = (moved[:, i] >= lower[i]) & (moved[:, i] <= upper[i])
            # 1e-9 m² allows for the fit's weak pull towards its start (FIT_REGULARISATION).
            assert (squared_distances_m2(moved)[inside] > best[inside] - 1e-9).all(), DOF_NAMES[i]


@pytest.mark.parametrize("whole_point", [True, False], ids=["point", "one_coordinate"])
@pytest.mark.parametrize("landmark", ["left_knee", "right_heel", "left_shoulder", "right_wrist", "left_foot_index"])
def test_frames_missing_a_core_landmark_are_skipped_without_disturbing_the_others(
    model: SkeletonModel, landmark: str, whole_point: bool
) -> None:
    assert landmark in CORE_LANDMARKS
    landmarks = noisy_landmarks(model, seed=13, n=10)
    skipped = [2, 7]
    for frame in skipped:
        landmarks[frame, BLAZEPOSE_33.index(landmark), slice(None) if whole_point else 1] = np.nan
    kept = np.setdiff1d(np.arange(10), skipped)
    fits = model.fit_frames(landmarks)
    alone = model.fit_frames(landmarks[kept])
    assert np.isnan(fits.q[skipped]).all()
    assert np.isnan(fits.distance_m[skipped]).all()
    assert not fits.converged[skipped].any()
    assert not fits.at_limits[skipped].any()
    assert fits.converged[kept].all()
    np.testing.assert_allclose(fits.q[kept], alone.q, rtol=0.0, atol=1e-12)
    np.testing.assert_allclose(fits.distance_m[kept], alone.distance_m, rtol=0.0, atol=1e-12)


@pytest.mark.parametrize("n_frames", [0, 3])
def test_a_batch_with_no_fittable_frame_gives_nan_rows(model: SkeletonModel, n_frames: int) -> None:
    landmarks = noisy_landmarks(model, seed=14, n=n_frames)
    landmarks[:, BLAZEPOSE_33.index("right_ankle")] = np.nan
    fits = model.fit_frames(landmarks)
    assert fits.q.shape == (n_frames, len(DOF_NAMES))
    assert fits.distance_m.shape == (n_frames, len(FITTED))
    assert np.isnan(fits.q).all()
    assert not fits.converged.any()


def _one_unfitted_frame(model: SkeletonModel) -> FrameFits:
    landmarks = noisy_landmarks(model, seed=15, n=2)
    landmarks[1, BLAZEPOSE_33.index("left_knee")] = np.nan
    return model.fit_frames(landmarks)


def test_the_rms_residual_of_an_unfitted_frame_is_nan(model: SkeletonModel) -> None:
    assert np.isnan(_one_unfitted_frame(model).residual_rms_m[1])


def test_the_largest_residual_of_an_unfitted_frame_is_nan_without_warning(model: SkeletonModel) -> None:
    assert np.isnan(_one_unfitted_frame(model).residual_max_m[1])


def test_the_residual_summaries_are_over_the_seen_points() -> None:
    fits = FrameFits(
        q=np.zeros((1, len(DOF_NAMES))),
        distance_m=np.array([[0.03, np.nan, 0.04]]),
        point_names=("nose", "left_ear", "right_ear"),
        at_limits=np.zeros((1, len(DOF_NAMES)), dtype=bool),
        iterations=np.ones(1, dtype=np.int64),
        converged=np.ones(1, dtype=bool),
    )
    assert fits.residual_rms_m == pytest.approx([np.sqrt((0.03**2 + 0.04**2) / 2)])
    assert fits.residual_max_m == pytest.approx([0.04])


@pytest.mark.parametrize("landmark", list(OPTIONAL_POINTS))
def test_a_frame_missing_an_optional_landmark_is_still_fitted(model: SkeletonModel, landmark: str) -> None:
    q = poses_inside_limits(model, np.random.default_rng(16), 4)
    landmarks = landmarks_of(model, q)
    landmarks[1, BLAZEPOSE_33.index(landmark)] = np.nan
    fits = model.fit_frames(landmarks)
    unseen = fits.point_names.index(OPTIONAL_POINTS[landmark])
    assert fits.converged.all()
    assert np.isfinite(fits.q).all()
    assert np.isnan(fits.distance_m[1, unseen])
    assert np.isfinite(np.delete(fits.distance_m[1], unseen)).all()
    assert np.isfinite(fits.distance_m[[0, 2, 3]]).all()
    assert np.nanmax(fits.distance_m) < 1e-4  # the remaining landmarks still fix the pose
    assert_angles_match(model, fits.q, q)


@pytest.mark.parametrize(
    ("dof", "beyond_deg", "bound"),
    [
        ("left_knee_flexion", 170.0, "upper"),
        ("right_knee_flexion", -20.0, "lower"),  # hyper-extended
        ("right_elbow_flexion", 170.0, "upper"),
        ("left_hip_flexion", -80.0, "lower"),
        ("right_ankle_dorsiflexion", 75.0, "upper"),
        ("neck_rotation", -70.0, "lower"),
    ],
)
def test_a_pose_beyond_a_joint_limit_ends_on_the_bound(
    model: SkeletonModel, dof: str, beyond_deg: float, bound: str
) -> None:
    q = poses_inside_limits(model, np.random.default_rng(17), 1)
    i = DOF_NAMES.index(dof)
    q[0, i] = np.radians(beyond_deg)
    fits = model.fit_frames(landmarks_of(model, q))
    lower, upper = model.bounds()
    assert fits.q[0, i] == pytest.approx((lower if bound == "lower" else upper)[i], abs=1e-9)
    assert fits.at_limits[0, i]
    assert ((fits.q >= lower) & (fits.q <= upper)).all()
    assert fits.converged.all()


@settings(max_examples=10, deadline=None)
@given(seed=SEEDS)
def test_the_fit_stays_within_the_joint_limits(model: SkeletonModel, seed: int) -> None:
    rng = np.random.default_rng(seed)
    lower, upper = model.bounds()
    low, high = np.where(np.isfinite(lower), lower, -1.0), np.where(np.isfinite(upper), upper, 1.0)
    centre, span = 0.5 * (low + high), high - low
    q = rng.uniform(centre - 0.7 * span, centre + 0.7 * span, size=(6, len(DOF_NAMES)))  # beyond limits too
    landmarks = landmarks_of(model, q) + rng.normal(0.0, 0.02, (6, 33, 3))
    fits = model.fit_frames(landmarks)
    assert ((fits.q >= lower) & (fits.q <= upper)).all()
    on_bound = (fits.q == lower) | (fits.q == upper)
    near_bound = np.isclose(fits.q, lower, rtol=0.0, atol=1e-4) | np.isclose(fits.q, upper, rtol=0.0, atol=1e-4)
    assert not (on_bound & ~fits.at_limits).any()
    assert not (fits.at_limits & ~near_bound).any()


@pytest.mark.parametrize("landmark", ["nose", "left_wrist", "right_knee"])
def test_a_landmark_of_weight_zero_is_ignored_while_equal_weights_spread_its_error(
    model: SkeletonModel, landmark: str
) -> None:
    landmarks = landmarks_of(model, poses_inside_limits(model, np.random.default_rng(18), 1))
    column = BLAZEPOSE_33.index(landmark)
    landmarks[0, column] += (0.0, 0.2, 0.2)
    weights = np.ones((1, 33))
    weights[0, column] = 0.0
    ignored = model.fit_frames(landmarks, weights=weights)
    spread = model.fit_frames(landmarks)
    point = ignored.point_names.index(landmark)
    assert np.delete(ignored.distance_m[0], point).max() < 1e-4
    assert ignored.distance_m[0, point] == pytest.approx(np.hypot(0.2, 0.2), abs=1e-4)
    assert np.delete(spread.distance_m[0], point).max() > 0.01
    assert spread.distance_m[0, point] < 0.9 * np.hypot(0.2, 0.2)


def test_a_hands_weight_is_the_mean_of_its_index_and_pinky() -> None:
    weights = np.arange(2 * 33, dtype=np.float64).reshape(2, 33)
    out = landmark_point_weights(weights, ("left_knee", "right_hand"))
    assert set(out) == {"left_knee", "right_hand"}
    np.testing.assert_array_equal(out["left_knee"], weights[:, BLAZEPOSE_33.index("left_knee")])
    fingers = [BLAZEPOSE_33.index(name) for name in ("right_index", "right_pinky")]
    np.testing.assert_array_equal(out["right_hand"], weights[:, fingers].mean(axis=1))


def test_batches_longer_than_a_block_give_the_same_fit(model: SkeletonModel, monkeypatch: pytest.MonkeyPatch) -> None:
    landmarks = noisy_landmarks(model, seed=19, n=10)
    landmarks[4, BLAZEPOSE_33.index("left_elbow")] = np.nan
    whole = model.fit_frames(landmarks)
    monkeypatch.setattr(_fit_batch, "BLOCK_FRAMES", 3)
    blocks = model.fit_frames(landmarks)
    np.testing.assert_allclose(blocks.q, whole.q, rtol=0.0, atol=1e-12)
    np.testing.assert_allclose(blocks.distance_m, whole.distance_m, rtol=0.0, atol=1e-12)
    np.testing.assert_array_equal(blocks.at_limits, whole.at_limits)
    np.testing.assert_array_equal(blocks.converged, whole.converged)
    np.testing.assert_array_equal(blocks.iterations, whole.iterations)


def _frames(n: int = 4) -> NDArray[np.float64]:
    return np.zeros((n, 33, 3))


def _with_inf() -> NDArray[np.float64]:
    landmarks = _frames()
    landmarks[1, 5, 2] = np.inf
    return landmarks


@pytest.mark.parametrize(
    ("landmarks", "message"),
    [
        (np.zeros((33, 3)), r"\(N, 33, 3\).*got \(33, 3\)"),
        (np.zeros((4, 32, 3)), r"\(N, 33, 3\).*got \(4, 32, 3\)"),
        (np.zeros((4, 33, 2)), r"\(N, 33, 3\).*got \(4, 33, 2\)"),
        (_with_inf(), r"must be finite"),
    ],
    ids=["one_frame", "32_landmarks", "2d", "inf"],
)
def test_landmarks_of_the_wrong_shape_or_infinite_are_refused(
    model: SkeletonModel, landmarks: NDArray[np.float64], message: str
) -> None:
    with pytest.raises(InvalidPoseDataError, match=message):
        model.fit_frames(landmarks)


def _weights(value: float) -> NDArray[np.float64]:
    weights = np.ones((4, 33))
    weights[2, 7] = value
    return weights


@pytest.mark.parametrize(
    ("weights", "message"),
    [
        (_weights(-0.5), r"≥ 0.*got \(4, 33\)"),
        (_weights(np.nan), r"finite numbers ≥ 0.*got \(4, 33\)"),
        (_weights(np.inf), r"finite numbers ≥ 0.*got \(4, 33\)"),
        (np.ones((4, 32)), r"\(N, 33\).*got \(4, 32\)"),
        (np.ones(33), r"one row per frame; got \(33,\)"),
        (np.ones((3, 33)), r"one row per frame; got \(3, 33\)"),
    ],
    ids=["negative", "nan", "inf", "32_columns", "one_row", "too_few_rows"],
)
def test_invalid_weights_are_refused(model: SkeletonModel, weights: NDArray[np.float64], message: str) -> None:
    with pytest.raises(InvalidPoseDataError, match=message):
        model.fit_frames(_frames(), weights=weights)


def _total_cost(model: SkeletonModel, landmarks: NDArray[np.float64], fits: FrameFits) -> NDArray[np.float64]:
    """Each frame's objective: half the squared distances plus the pull of the angles towards their start."""
    from spacecomputer.biomech.solver._fit import _landmarks, coordinates_from_points
    from spacecomputer.biomech.solver._fit_batch import FIT_REGULARISATION

    lower, upper = model.bounds()
    start = np.clip(coordinates_from_points(model, _landmarks(landmarks)), lower + 1e-9, upper - 1e-9)
    angular = np.arange(len(DOF_NAMES)) >= 3
    pull = FIT_REGULARISATION * (fits.q - start)[:, angular]
    return np.asarray(0.5 * np.nansum(fits.distance_m**2, axis=1) + 0.5 * (pull**2).sum(axis=1))


def test_consecutive_frames_take_a_neighbours_solution_only_where_it_costs_less(model: SkeletonModel) -> None:
    # A slow motion seen with 4 cm of landmark noise: frame by frame the fit lands on different local minima.
    rng = np.random.default_rng(5)
    ends = poses_inside_limits(model, rng, 2)
    path = ends[0] + np.linspace(0.0, 1.0, 40)[:, None] * (ends[1] - ends[0])
    landmarks = landmarks_of(model, path) + rng.normal(0.0, 0.04, (40, 33, 3))
    alone = model.fit_frames(landmarks)
    together = model.fit_frames(landmarks, consecutive=True)
    cost_alone, cost_together = _total_cost(model, landmarks, alone), _total_cost(model, landmarks, together)
    assert (cost_together <= cost_alone + 1e-12).all()
    changed = np.abs(together.q - alone.q).max(axis=1) > 1e-6
    assert changed.any(), "no frame was solved again from a neighbour: the test no longer exercises that path"
    assert (cost_together[changed] < cost_alone[changed]).all()
    assert together.converged.all()
    assert (together.iterations >= alone.iterations).all()
