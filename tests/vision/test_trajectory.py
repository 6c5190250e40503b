from __future__ import annotations

from pathlib import Path
from typing import Any

import av
import cv2
import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays
from numpy.typing import NDArray
from scipy.spatial.transform import Rotation

from spacecomputer.domain._frames import CoordinateFrame
from spacecomputer.domain._pose_sequence import PoseFlag, PoseSequence
from spacecomputer.domain._skeleton import BLAZEPOSE_33
from spacecomputer.errors import InsufficientDataError, InvalidInputError, InvalidPoseDataError
from spacecomputer.vision._camera import IMAGE_TO_OPENCV_OFFSET_PX, CameraModel, load_calibration
from spacecomputer.vision._trajectory import (
    SHOULDER_HEIGHT_FRACTION,
    GlobalTrajectory,
    estimate_body_height_m,
    recover_global_trajectory,
)

DATA = Path(__file__).parents[2] / "data" / "videos"
HEIGHT_M = 1.80
BLAZEPOSE_SCALE = 1 / 1.1  # BlazePose's body is 10 % small here: the scale to recover is 1.1

# A standing body facing the camera: (x m, height above the soles as a fraction of stature, z m).
# Heights put the shoulders at SHOULDER_HEIGHT_FRACTION of stature, the model the estimate assumes.
_LANDMARKS = {
    "nose": (0.0, 0.93, -0.10),
    "left_eye_inner": (0.015, 0.94, -0.08),
    "left_eye": (0.03, 0.94, -0.08),
    "left_eye_outer": (0.045, 0.94, -0.07),
    "left_ear": (0.075, 0.93, 0.0),
    "mouth_left": (0.025, 0.905, -0.09),
    "left_shoulder": (0.20, SHOULDER_HEIGHT_FRACTION, 0.0),
    "left_elbow": (0.23, 0.63, 0.0),
    "left_wrist": (0.24, 0.485, 0.0),
    "left_pinky": (0.25, 0.44, 0.01),
    "left_index": (0.24, 0.43, -0.01),
    "left_thumb": (0.22, 0.45, -0.03),
    "left_hip": (0.09, 0.53, 0.0),
    "left_knee": (0.09, 0.285, 0.0),
    "left_ankle": (0.09, 0.039, 0.0),
    "left_heel": (0.09, 0.0, 0.0),
    "left_foot_index": (0.10, 0.0, -0.15),
}


def standing_body(height_m: float = HEIGHT_M) -> NDArray[np.float64]:
    """(33, 3) hip-centred body (x right, y down, z away from the camera), metres."""
    body = np.zeros((33, 3))
    for name, (x_m, fraction, z_m) in _LANDMARKS.items():
        for side, sign in (("left", 1.0), ("right", -1.0)):
            mirrored = name.replace("left", side)
            body[BLAZEPOSE_33.index(mirrored)] = (sign * x_m, (0.53 - fraction) * height_m, z_m)
    return body


def calibrated_camera(distortion: tuple[float, ...] = (-0.12, 0.05, 0.001, -0.0005, 0.0)) -> CameraModel:
    rotation, _ = cv2.Rodrigues(np.array([1.2, 1.2, -1.2]))
    return CameraModel(
        intrinsic_matrix=np.array([[1400.0, 0.0, 955.0], [0.0, 1400.0, 545.0], [0.0, 0.0, 1.0]]),
        distortion=np.array(distortion),
        image_size_px=(1920, 1080),
        rotation=rotation,
        translation_m=np.array([-3.5, 1.7, 10.0]),
        source="synthetic",
    )


def walking_scene(n_frames: int = 30) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
    """Return the (T, 33, 3) hip-centred body, turning, and its (T, 3) pelvis path in the camera frame.

    The pelvis crosses 2.4 m from left to right, 1.5 m deeper, bobbing; the body turns 1.5 rad.
    """
    k = np.arange(n_frames)
    s = k / max(n_frames - 1, 1)
    pelvis = np.column_stack([-1.2 + 2.4 * s, 0.4 + 0.05 * np.sin(k / 3), 7.0 + 1.5 * s])
    turns = Rotation.from_euler("y", 1.5 * s[:, None]).as_matrix()
    bodies = np.einsum("tij,nj->tni", turns, standing_body())
    return bodies, pelvis


def sequences(
    image_px: NDArray[np.float64], world_m: NDArray[np.float64], confidence: NDArray[np.float64]
) -> tuple[PoseSequence, PoseSequence]:
    common: dict[str, Any] = {
        "confidence": confidence,
        "timestamps_s": np.arange(len(confidence)) / 30.0,
        "fps": 30.0,
        "image_size_px": (1920, 1080),
    }
    return (
        PoseSequence(positions=image_px, frame=CoordinateFrame.IMAGE, **common),
        PoseSequence(positions=world_m, frame=CoordinateFrame.HIP_CENTRED, **common),
    )


def observe(camera: CameraModel, points_cam_m: NDArray[np.float64]) -> NDArray[np.float64]:
    """Project camera-frame points to ``image``-frame pixels (corner origin), z column 0."""
    pixels = camera.project(points_cam_m.reshape(-1, 3)) + IMAGE_TO_OPENCV_OFFSET_PX
    return np.concatenate([pixels.reshape(*points_cam_m.shape[:-1], 2), np.zeros((*points_cam_m.shape[:-1], 1))], -1)


def test_round_trip_recovers_path_scale_and_world_positions() -> None:
    camera = calibrated_camera()
    bodies, pelvis = walking_scene()
    truth_cam = bodies + pelvis[:, None, :]
    image_px = observe(camera, truth_cam)
    confidence = np.ones(bodies.shape[:2])
    # Occluded landmarks with wrong pixels take no part; a frame without a pose; one too poorly seen.
    confidence[:, BLAZEPOSE_33.index("left_wrist")] = 0.2
    image_px[:, BLAZEPOSE_33.index("left_wrist"), :2] += 150.0
    image_px[5], confidence[5] = np.nan, 0.0
    confidence[8, 5:] = 0.1
    world_m = BLAZEPOSE_SCALE * bodies
    world_m[5] = np.nan
    image, world = sequences(image_px, world_m, confidence)

    result = recover_global_trajectory(image, world, camera=camera, subject_height_m=HEIGHT_M)

    solved = np.setdiff1d(np.arange(30), [5, 8])
    assert result.scale_factor == pytest.approx(1.1, rel=1e-9)
    assert result.body_height_m == pytest.approx(HEIGHT_M * BLAZEPOSE_SCALE, rel=1e-9)
    np.testing.assert_allclose(result.pelvis_camera_m[solved], pelvis[solved], atol=1e-3)
    assert np.all(result.reprojection_rms_px[solved] < 0.01)
    assert np.isnan(result.pelvis_camera_m[[5, 8]]).all()
    assert np.all(result.camera_frame.confidence[[5, 8]] == 0.0)
    assert result.n_rejected_frames == 0
    np.testing.assert_allclose(result.camera_frame.positions[solved], truth_cam[solved], atol=1e-3)
    assert result.camera_frame.frame is CoordinateFrame.CAMERA
    assert result.world_frame is not None
    assert result.world_frame.frame is CoordinateFrame.WORLD
    np.testing.assert_allclose(
        result.world_frame.positions[solved], camera.camera_to_world(truth_cam[solved]), atol=1e-3
    )
    pelvis_world = result.pelvis_world_m
    assert pelvis_world is not None
    np.testing.assert_allclose(pelvis_world[solved], camera.camera_to_world(pelvis[solved]), atol=1e-3)
    assert any("1 frames with a pose had fewer than 6 landmarks" in note for note in result.notes)


def test_one_pixel_noise_gives_bounded_errors() -> None:
    camera = calibrated_camera()
    bodies, pelvis = walking_scene(n_frames=200)
    noise = np.random.default_rng(7).normal(0.0, 1.0, (*bodies.shape[:2], 2))
    image_px = observe(camera, bodies + pelvis[:, None, :])
    image_px[..., :2] += noise
    image, world = sequences(image_px, BLAZEPOSE_SCALE * bodies, np.ones(bodies.shape[:2]))

    result = recover_global_trajectory(image, world, camera=camera, subject_height_m=HEIGHT_M)

    error = result.pelvis_camera_m - pelvis
    ray = pelvis / np.linalg.norm(pelvis, axis=1, keepdims=True)
    along_ray_m = np.sum(error * ray, axis=1)
    across_ray_m = np.linalg.norm(error - along_ray_m[:, None] * ray, axis=1)
    # Measured (3 seeds): across the line of sight RMS 1.4 mm, along it (depth) RMS 12 mm, max 63 mm,
    # at 7-8.5 m; reprojection RMS median 1.37 px (two axes of 1 px noise, less the 3 fitted parameters).
    assert np.sqrt(np.mean(across_ray_m**2)) < 0.003
    assert np.sqrt(np.mean(along_ray_m**2)) < 0.025
    assert 1.2 < np.median(result.reprojection_rms_px) < 1.6
    assert result.n_rejected_frames == 0


def test_uncalibrated_camera_lateral_motion_does_not_depend_on_the_assumed_focal_length() -> None:
    truth = CameraModel.default_for(1920, 1080, horizontal_fov_deg=65.0)
    bodies, pelvis = walking_scene()
    image, world = sequences(observe(truth, bodies + pelvis[:, None, :]), bodies, np.ones(bodies.shape[:2]))

    narrow, wide = (
        recover_global_trajectory(
            image,
            world,
            camera=CameraModel.default_for(1920, 1080, horizontal_fov_deg=fov),
            subject_height_m=None,
        )
        for fov in (50.0, 80.0)
    )

    assert narrow.world_frame is None
    assert narrow.scale_factor == 1.0
    assert any("uncalibrated" in note for note in narrow.notes)
    assert any("subject height unknown" in note for note in narrow.notes)
    lateral = [r.pelvis_camera_m[-1, :2] - r.pelvis_camera_m[0, :2] for r in (narrow, wide)]
    tolerance_m = 0.02 * np.linalg.norm(lateral[0])
    np.testing.assert_allclose(lateral[0], lateral[1], atol=tolerance_m)
    np.testing.assert_allclose(lateral[0], pelvis[-1, :2] - pelvis[0, :2], atol=tolerance_m)
    depth_ratio = narrow.pelvis_camera_m[:, 2] / wide.pelvis_camera_m[:, 2]
    focal_ratio = np.tan(np.radians(80.0 / 2)) / np.tan(np.radians(50.0 / 2))
    np.testing.assert_allclose(depth_ratio, focal_ratio, rtol=0.02)


def test_absurd_solutions_are_rejected_and_counted() -> None:
    camera = calibrated_camera()
    bodies, pelvis = walking_scene(n_frames=6)
    truth_cam = bodies + pelvis[:, None, :]
    image_px = observe(camera, truth_cam)
    # Frame 2 shows the body point-reflected about the pelvis: the exact fit lies behind the camera.
    image_px[2] = observe(camera, pelvis[2] - bodies[2])
    # Frame 4 shows the upper body 250 px right of the legs: no translation reprojects that.
    image_px[4, :23, 0] += 250.0
    image, world = sequences(image_px, bodies, np.ones(bodies.shape[:2]))

    result = recover_global_trajectory(image, world, camera=camera, subject_height_m=HEIGHT_M)

    assert result.n_rejected_frames == 2
    assert np.isnan(result.pelvis_camera_m[[2, 4]]).all()
    assert np.isnan(result.camera_frame.positions[[2, 4]]).all()
    assert result.reprojection_rms_px[4] > 100.0
    np.testing.assert_allclose(result.pelvis_camera_m[[0, 1, 3, 5]], pelvis[[0, 1, 3, 5]], atol=1e-6)


@settings(max_examples=40, deadline=None)
@given(
    pelvis=st.tuples(st.floats(-3.0, 3.0), st.floats(-1.0, 2.0), st.floats(3.0, 25.0)),
    angles=st.tuples(st.floats(-0.5, 0.5), st.floats(-3.1, 3.1), st.floats(-0.5, 0.5)),
    hidden=arrays(np.bool_, 33),
)
def test_translation_is_exact_for_any_placement_and_any_missing_landmarks(
    pelvis: tuple[float, float, float], angles: tuple[float, float, float], hidden: NDArray[np.bool_]
) -> None:
    camera = calibrated_camera()
    body = Rotation.from_euler("xyz", angles).apply(standing_body())
    bodies = np.stack([standing_body(), body])
    image_px = observe(camera, bodies + np.array([[0.0, 0.5, 8.0], pelvis])[:, None, :])
    image_px[1, hidden] = np.nan
    confidence = np.ones((2, 33))
    confidence[1, hidden] = 0.0

    result = recover_global_trajectory(*sequences(image_px, bodies, confidence), camera=camera, subject_height_m=None)

    if (~hidden).sum() < 6:
        assert np.isnan(result.pelvis_camera_m[1]).all()
    else:
        np.testing.assert_allclose(result.pelvis_camera_m[1], pelvis, atol=1e-6)


@settings(max_examples=40, deadline=None)
@given(
    angles=st.tuples(st.floats(-3.1, 3.1), st.floats(-3.1, 3.1), st.floats(-3.1, 3.1)),
    knee_flexion_rad=st.floats(0.0, 2.0),
    height_m=st.floats(1.0, 2.2),
)
def test_body_height_ignores_orientation_and_knee_flexion(
    angles: tuple[float, float, float], knee_flexion_rad: float, height_m: float
) -> None:
    body = standing_body(height_m)
    for side in ("left", "right"):
        knee = body[BLAZEPOSE_33.index(f"{side}_knee")]
        below = [BLAZEPOSE_33.index(f"{side}_{name}") for name in ("ankle", "heel", "foot_index")]
        body[below] = Rotation.from_euler("x", knee_flexion_rad).apply(body[below] - knee) + knee
    posed = Rotation.from_euler("xyz", angles).apply(body)
    _, world = sequences(np.zeros((1, 33, 3)), posed[None], np.ones((1, 33)))

    assert estimate_body_height_m(world) == pytest.approx(height_m, rel=0.02)


def test_body_height_uses_only_visible_chains_and_takes_the_median() -> None:
    bodies = np.stack([standing_body(), standing_body(), standing_body(2.4), standing_body(1.0)])
    confidence = np.ones((4, 33))
    image_px = np.zeros((4, 33, 3))
    confidence[3, BLAZEPOSE_33.index("left_shoulder")] = 0.1  # this 1 m frame cannot be measured
    bodies[1, BLAZEPOSE_33.index("right_heel")] = np.nan  # one leg is enough
    _, world = sequences(image_px, bodies.copy(), confidence.copy())

    assert estimate_body_height_m(world) == pytest.approx(HEIGHT_M, rel=1e-9)

    confidence[:, BLAZEPOSE_33.index("left_heel")] = 0.0
    confidence[:, BLAZEPOSE_33.index("right_heel")] = 0.0
    _, hidden_heels = sequences(image_px, bodies, confidence)
    with pytest.raises(InsufficientDataError, match="no frame shows a heel-to-hip leg"):
        estimate_body_height_m(hidden_heels)


@pytest.mark.parametrize("height_m", [0.2, 3.5, float("nan"), float("inf")])
def test_implausible_subject_height_is_refused(height_m: float) -> None:
    image, world = sequences(np.zeros((1, 33, 3)), standing_body()[None], np.ones((1, 33)))
    with pytest.raises(InvalidInputError, match="subject_height_m must be a standing height"):
        recover_global_trajectory(image, world, camera=calibrated_camera(), subject_height_m=height_m)


def test_mismatched_inputs_are_refused() -> None:
    image, world = sequences(np.zeros((2, 33, 3)), np.stack([standing_body()] * 2), np.ones((2, 33)))
    camera = calibrated_camera()
    with pytest.raises(InvalidPoseDataError, match="got hip_centred and hip_centred"):
        recover_global_trajectory(world, world, camera=camera, subject_height_m=None)
    with pytest.raises(InvalidPoseDataError, match="same frames"):
        recover_global_trajectory(image[:1], world, camera=camera, subject_height_m=None)


@pytest.fixture(scope="module")
def demo_trajectory() -> GlobalTrajectory:
    from spacecomputer.vision._pose import BlazePoseEstimator

    frames, timestamps = [], []
    with av.open(str(DATA / "sports2d-demo.mp4")) as container, BlazePoseEstimator() as estimator:
        for video_frame in container.decode(video=0):
            frames.append(estimator.estimate(video_frame.to_ndarray(format="rgb24")))
            timestamps.append(float(video_frame.time))
    common: dict[str, Any] = {
        "timestamps_s": timestamps,
        "frame_indices": np.arange(len(frames)),
        "fps": 30.0,
    }
    image = PoseSequence.from_pose_frames(frames, frame=CoordinateFrame.IMAGE, image_size_px=(1768, 994), **common)
    world = PoseSequence.from_pose_frames(frames, frame=CoordinateFrame.HIP_CENTRED, **common)
    camera = load_calibration(DATA / "sports2d-demo.calib.toml")
    return recover_global_trajectory(image, world, camera=camera, subject_height_m=1.65)


@pytest.mark.slow
def test_demo_video_trajectory_is_plausible_and_continuous(demo_trajectory: GlobalTrajectory) -> None:
    # The demo: frames ~0-165 the athlete jumps on top of a ~1.9 m utility box; from ~205 he runs on
    # the grass (in between BlazePose follows another person; identity is the tracker's job).
    result = demo_trajectory
    assert result.world_frame is not None
    pelvis_world = result.pelvis_world_m
    assert pelvis_world is not None
    feet = [BLAZEPOSE_33.index(n) for n in ("left_heel", "right_heel", "left_foot_index", "right_foot_index")]
    lowest_foot_m = np.min(result.world_frame.positions[:, feet, 2], axis=1)  # NaN when no pose
    on_box, on_grass = slice(10, 160), slice(206, 227)

    assert result.n_rejected_frames == 0
    assert 1.5 < np.nanmedian(lowest_foot_m[on_box]) < 2.3
    assert 0.6 < np.nanmedian(pelvis_world[on_box, 2] - lowest_foot_m[on_box]) < 1.1
    assert abs(np.nanmedian(lowest_foot_m[on_grass])) < 0.3
    assert 0.5 < np.nanmedian(pelvis_world[on_grass, 2]) < 1.1
    assert np.nanmedian(result.reprojection_rms_px) < 20.0
    steps_m = np.abs(np.diff(result.pelvis_camera_m[on_box], axis=0))
    assert np.nanmedian(np.hypot(steps_m[:, 0], steps_m[:, 1])) < 0.08  # lateral, per frame at 30 fps
    assert np.nanmedian(steps_m[:, 2]) < 0.25  # depth from apparent size is the noisy direction


@pytest.mark.parametrize(
    "tuning",
    [{"min_visibility": 1.5}, {"min_landmarks": 1}, {"max_reprojection_rms_fraction": 0.0}],
)
def test_bad_tuning_parameters_are_refused(tuning: dict[str, Any]) -> None:
    image, world = sequences(np.zeros((1, 33, 3)), standing_body()[None], np.ones((1, 33)))
    with pytest.raises(InvalidInputError, match="expected min_visibility in"):
        recover_global_trajectory(image, world, camera=calibrated_camera(), subject_height_m=None, **tuning)


def test_a_skeleton_collapsing_to_half_its_size_does_not_double_the_depth() -> None:
    # A still athlete 8 m away. For 12 frames (0.4 s) the 2D skeleton shrinks to half its size about the
    # pelvis while BlazePose's 3D body does not: what a tucked flip into the sun did to the Sports2D sample.
    # Each frame's own solve then puts the athlete at 16 m; the trajectory must keep him at 8 m and flag them.
    camera = calibrated_camera()
    n_frames, collapsed = 60, slice(24, 36)
    bodies = np.repeat(standing_body()[None], n_frames, axis=0)
    pelvis = np.tile([0.3, 0.4, 8.0], (n_frames, 1))
    image_px = observe(camera, bodies + pelvis[:, None, :])
    image_px[collapsed] = observe(camera, 0.5 * bodies[collapsed] + pelvis[collapsed, None, :])
    image_px[..., :2] += np.random.default_rng(1).normal(0.0, 1.0, (*bodies.shape[:2], 2))
    image, world = sequences(image_px, BLAZEPOSE_SCALE * bodies, np.ones(bodies.shape[:2]))

    result = recover_global_trajectory(image, world, camera=camera, subject_height_m=HEIGHT_M)
    per_frame = recover_global_trajectory(
        image, world, camera=camera, subject_height_m=HEIGHT_M, depth_acceleration_sigma_m_s2=None
    )

    np.testing.assert_allclose(per_frame.pelvis_camera_m[collapsed, 2], 16.0, rtol=0.02)  # the failure
    np.testing.assert_allclose(result.per_frame_pelvis_camera_m, per_frame.pelvis_camera_m)
    np.testing.assert_allclose(result.pelvis_camera_m[:, 2], 8.0, atol=0.1)
    # Across the image the body follows the shrunken skeleton's centroid, a few centimetres from the pelvis.
    np.testing.assert_allclose(result.pelvis_camera_m[:, :2], pelvis[:, :2], atol=0.05)
    speed_m_s = np.linalg.norm(np.diff(result.pelvis_camera_m, axis=0), axis=1) * 30.0
    assert speed_m_s.max() < 1.0
    assert result.depth is not None
    assert result.depth.n_outliers == 12
    expected = np.zeros(n_frames, dtype=bool)
    expected[collapsed] = True
    np.testing.assert_array_equal(result.unreliable_position, expected)
    flagged = (result.camera_frame.flags & PoseFlag.UNRELIABLE_POSITION) != 0
    np.testing.assert_array_equal(flagged, np.repeat(expected[:, None], 33, axis=1))
    assert result.world_frame is not None
    np.testing.assert_array_equal(result.world_frame.flags, result.camera_frame.flags)
    assert any("12 frames flagged unreliable_position" in note for note in result.notes)
    assert not per_frame.unreliable_position.any()


def test_a_short_stretch_without_depth_is_bridged_without_a_flag() -> None:
    # Four collapsed frames (0.13 s) are rejected as depth outliers but bridged: no longer than max_depth_gap_s.
    camera = calibrated_camera()
    bodies, pelvis = walking_scene(n_frames=40)
    image_px = observe(camera, bodies + pelvis[:, None, :])
    image_px[18:22] = observe(camera, 0.5 * bodies[18:22] + pelvis[18:22, None, :])
    image, world = sequences(image_px, BLAZEPOSE_SCALE * bodies, np.ones(bodies.shape[:2]))

    result = recover_global_trajectory(image, world, camera=camera, subject_height_m=HEIGHT_M)

    assert result.depth is not None
    assert result.depth.n_outliers == 4
    assert not result.unreliable_position.any()
    np.testing.assert_allclose(result.pelvis_camera_m[18:22], pelvis[18:22], atol=0.05)


def test_interpolated_frames_do_not_measure_depth() -> None:
    camera = calibrated_camera()
    bodies, pelvis = walking_scene(n_frames=30)
    image_px = observe(camera, bodies + pelvis[:, None, :])
    flags = np.zeros(bodies.shape[:2], dtype=np.uint8)
    flags[10:13] = PoseFlag.INTERPOLATED
    image, world = sequences(image_px, BLAZEPOSE_SCALE * bodies, np.ones(bodies.shape[:2]))

    result = recover_global_trajectory(image.replace(flags=flags), world, camera=camera, subject_height_m=HEIGHT_M)

    assert result.depth is not None
    np.testing.assert_array_equal(np.flatnonzero(~result.depth.offered), [10, 11, 12])
    np.testing.assert_allclose(result.pelvis_camera_m, pelvis, atol=1e-3)


@pytest.mark.parametrize("tuning", [{"depth_acceleration_sigma_m_s2": 0.0}, {"max_depth_gap_s": -0.1}])
def test_bad_depth_tuning_is_refused(tuning: dict[str, Any]) -> None:
    image, world = sequences(np.zeros((1, 33, 3)), standing_body()[None], np.ones((1, 33)))
    with pytest.raises(InvalidInputError, match="expected depth_acceleration_sigma_m_s2 > 0"):
        recover_global_trajectory(image, world, camera=calibrated_camera(), subject_height_m=None, **tuning)


def test_the_placement_uncertainty_moves_the_body_along_the_line_of_sight() -> None:
    camera = calibrated_camera()
    bodies, pelvis = walking_scene(n_frames=30)
    image_px = observe(camera, bodies + pelvis[:, None, :])
    image_px[7], confidence = np.nan, np.ones(bodies.shape[:2])
    confidence[7] = 0.0
    image, world = sequences(image_px, BLAZEPOSE_SCALE * bodies, confidence)

    result = recover_global_trajectory(image, world, camera=camera, subject_height_m=HEIGHT_M)

    assert result.depth is not None
    assert result.placement_camera is not None
    assert result.placement_world is not None
    assert result.placement_camera.depth_error is result.depth.error
    direction = result.placement_camera.direction
    solved = np.setdiff1d(np.arange(30), [7])
    assert np.isnan(direction[7]).all()
    np.testing.assert_allclose(direction[solved, 2], 1.0)  # per metre of depth
    # The body's landmarks, not only its pelvis, set the line of sight: within a few centimetres per metre.
    np.testing.assert_allclose(direction[solved], pelvis[solved] / pelvis[solved, 2:], atol=0.03)
    world_direction = camera.camera_to_world(direction[solved]) - camera.camera_to_world(np.zeros(3))
    np.testing.assert_allclose(result.placement_world.direction[solved], world_direction, atol=1e-12)


def test_without_depth_smoothing_there_is_no_placement_uncertainty() -> None:
    camera = calibrated_camera()
    bodies, pelvis = walking_scene(n_frames=10)
    image, world = sequences(observe(camera, bodies + pelvis[:, None, :]), bodies, np.ones(bodies.shape[:2]))

    result = recover_global_trajectory(
        image, world, camera=camera, subject_height_m=HEIGHT_M, depth_acceleration_sigma_m_s2=None
    )

    assert result.placement_camera is None
    assert result.placement_world is None
