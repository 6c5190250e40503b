from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from numpy.typing import NDArray

from spacecomputer.biomech import joint_angles
from spacecomputer.biomech.solver import DOF_NAMES, JOINT_NAMES, SkeletonModel
from spacecomputer.biomech.solver._fit import coordinates_from_points
from spacecomputer.domain import BLAZEPOSE_33, PoseSequence
from spacecomputer.errors import InsufficientDataError, InvalidInputError, InvalidPoseDataError
from tests.biomech.scene import UP, standing_pose

ROOT = Path(__file__).resolve().parents[3]
ENGINE_DOFS = [n for n in DOF_NAMES if n.endswith(("flexion", "adduction", "abduction", "dorsiflexion"))]
ENGINE_DOFS = [n for n in ENGINE_DOFS if not n.startswith("neck")]
SEEDS = st.integers(min_value=0, max_value=2**32 - 1)


def random_q(model: SkeletonModel, rng: np.random.Generator, n: int) -> NDArray[np.float64]:
    lower, upper = model.bounds()
    lower = np.where(np.isfinite(lower), lower, -2.0)
    upper = np.where(np.isfinite(upper), upper, 2.0)
    return rng.uniform(lower, upper, size=(n, lower.size))


def named(points: NDArray[np.float64]) -> dict[str, NDArray[np.float64]]:
    return {name: points[:, i] for i, name in enumerate(JOINT_NAMES)}


@settings(max_examples=40, deadline=None)
@given(seed=SEEDS)
def test_every_bone_keeps_its_length_in_any_pose(model: SkeletonModel, seed: int) -> None:
    points = model.points(random_q(model, np.random.default_rng(seed), 8))
    for (a, b), length in model.bone_lengths_m().items():
        distance = np.linalg.norm(points[:, JOINT_NAMES.index(a)] - points[:, JOINT_NAMES.index(b)], axis=1)
        assert distance == pytest.approx(np.full(8, length), abs=1e-9), (a, b)


def test_bone_lengths_are_the_subjects_median_dimensions(model: SkeletonModel) -> None:
    lengths = model.bone_lengths_m()
    assert lengths[("left_hip", "left_knee")] == pytest.approx(np.hypot(0.02, 0.43))  # the scene's thigh
    assert lengths[("left_shoulder", "left_elbow")] == pytest.approx(0.28)
    assert lengths[("left_hip", "right_hip")] == pytest.approx(0.20)
    assert lengths[("mid_hip", "mid_shoulder")] == pytest.approx(0.50)
    assert lengths[("left_ankle", "left_heel")] == pytest.approx(np.hypot(0.05, 0.09))


def test_coordinates_read_off_the_points_invert_the_kinematics(model: SkeletonModel) -> None:
    q = random_q(model, np.random.default_rng(3), 200)
    back = coordinates_from_points(model, named(model.points(q)))
    error = np.abs(np.angle(np.exp(1j * (back - q))))
    elbow_straight = {
        side: np.degrees(q[:, DOF_NAMES.index(f"{side}_elbow_flexion")]) < 10.0 for side in ("left", "right")
    }
    for i, name in enumerate(DOF_NAMES):
        rows = ~elbow_straight[name.split("_")[0]] if name.endswith("shoulder_internal_rotation") else slice(None)
        assert error[rows, i].max() < 1e-9, name  # the arm's spin is unobservable with the elbow straight


def test_the_engines_joint_angles_read_the_coordinates_back(model: SkeletonModel) -> None:
    q = random_q(model, np.random.default_rng(4), 100)
    engine = joint_angles(model.to_sequence(q), up=UP)
    for name in ENGINE_DOFS:
        values = engine[name].values_deg
        seen = np.isfinite(values)
        assert seen.mean() > 0.7, name  # NaN only within the engine's 10° conditioning limit
        assert values[seen] == pytest.approx(np.degrees(q[seen, DOF_NAMES.index(name)]), abs=1e-7), name
    assert model.engine_angles_deg(q)["left_knee_flexion"] == pytest.approx(engine["left_knee_flexion"].values_deg)


def test_fitting_the_models_own_pose_recovers_it(model: SkeletonModel) -> None:
    q = random_q(model, np.random.default_rng(5), 1)[0]
    for side in ("left", "right"):  # a bent elbow, so that the arm's spin is observable
        q[DOF_NAMES.index(f"{side}_elbow_flexion")] = np.radians(60.0)
    fit = model.fit(model.to_sequence(q).positions[0])
    assert fit.residual_max_m < 1e-6
    assert model.points(fit.q) == pytest.approx(model.points(q), abs=1e-6)


def test_noisy_landmarks_fit_within_two_degrees_of_the_engines_angles(model: SkeletonModel) -> None:
    rng = np.random.default_rng(6)
    lower, upper = model.bounds()
    worst = {name: 0.0 for name in ("left_knee_flexion", "right_hip_flexion", "left_elbow_flexion")}
    for _ in range(10):
        q = model.fit(standing_pose()).q
        for name in worst:  # flexed mid-range, away from the engine's singular directions
            i = DOF_NAMES.index(name)
            q[i] = rng.uniform(lower[i] + 0.5, min(upper[i], np.radians(120.0)) - 0.2)
        landmarks = model.to_sequence(q).positions[0] + rng.normal(0.0, 0.002, (33, 3))
        fit = model.fit(landmarks)
        engine = joint_angles(PoseSequence(landmarks[None], np.ones((1, 33)), np.zeros(1), 30.0, "world"), up=UP)
        for name in worst:
            worst[name] = max(worst[name], abs(np.degrees(fit.q[DOF_NAMES.index(name)]) - engine[name].values_deg[0]))
    assert max(worst.values()) < 2.0, worst


@pytest.mark.slow
def test_on_real_frames_the_model_angles_are_the_engines_on_the_fitted_pose(short_run: Path) -> None:
    sequence = PoseSequence.from_parquet(short_run / "poses.parquet")
    up = json.loads((short_run / "analysis.json").read_text())["biomechanics"]["up"]
    model = SkeletonModel.from_sequence(sequence, up=up)
    frames = [f for f in range(0, sequence.n_frames, 5) if np.isfinite(sequence.positions[f]).all()]
    fits = [model.fit(sequence.positions[f]) for f in frames]
    q = np.stack([fit.q for fit in fits])
    engine = joint_angles(model.to_sequence(q), up=up)
    for name in ("left_knee_flexion", "right_knee_flexion", "left_hip_flexion", "right_elbow_flexion"):
        seen = np.isfinite(engine[name].values_deg)
        assert engine[name].values_deg[seen] == pytest.approx(np.degrees(q[seen, DOF_NAMES.index(name)]), abs=1e-7)
    assert np.median([fit.residual_rms_m for fit in fits]) < 0.05


def test_the_neck_is_measured_from_the_subjects_head_carriage() -> None:
    pose = standing_pose()
    for ear in ("left_ear", "right_ear", "nose"):
        pose[BLAZEPOSE_33.index(ear), 0] += 0.06  # the head carried forward of the trunk axis
    sequence = PoseSequence(np.repeat(pose[None], 3, axis=0), np.ones((3, 33)), np.arange(3) / 30, 30.0, "world")
    model = SkeletonModel.from_sequence(sequence, up=UP)
    assert np.degrees(model.neck_neutral_rad[0]) == pytest.approx(np.degrees(np.arctan2(0.06, 0.19)), abs=1e-6)
    fit = model.fit(pose)
    assert np.degrees(fit.q[DOF_NAMES.index("neck_flexion")]) == pytest.approx(0.0, abs=0.01)


@pytest.mark.parametrize(
    "q", [np.zeros(29), np.zeros((2, 31)), np.full(30, np.nan), np.array([np.inf, *np.zeros(29)])], ids=str
)
def test_coordinates_of_the_wrong_shape_or_not_finite_are_refused(model: SkeletonModel, q: NDArray[np.float64]) -> None:
    with pytest.raises(InvalidInputError, match="q must"):
        model.points(q)


def test_invalid_dimensions_and_up_are_refused(model: SkeletonModel) -> None:
    with pytest.raises(InvalidInputError, match="missing"):
        SkeletonModel({k: v for k, v in model.dimensions_m.items() if k != "trunk"}, up=UP)
    with pytest.raises(InvalidInputError, match="invalid"):
        SkeletonModel({**model.dimensions_m, "left_thigh": -0.4}, up=UP)
    with pytest.raises(InvalidInputError, match="unit"):
        SkeletonModel(model.dimensions_m, up=np.array([0.0, 0.0, 2.0]))


def test_a_frame_without_its_core_landmarks_cannot_be_fitted(model: SkeletonModel) -> None:
    pose = standing_pose()
    pose[BLAZEPOSE_33.index("left_knee")] = np.nan
    with pytest.raises(InsufficientDataError, match="left_knee"):
        model.fit(pose)
    with pytest.raises(InvalidPoseDataError, match=r"\(33, 3\)"):
        model.fit(pose[:20])
    pose = standing_pose()
    pose[BLAZEPOSE_33.index("left_ear")] = np.nan  # optional landmarks may be missing
    assert model.fit(pose).residual_max_m < 0.01
