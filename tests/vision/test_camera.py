from __future__ import annotations

import math
from pathlib import Path

import cv2
import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays

from spacecomputer.errors import InvalidCalibrationError
from spacecomputer.vision._camera import (
    DEFAULT_HORIZONTAL_FOV_DEG,
    IMAGE_TO_OPENCV_OFFSET_PX,
    CameraModel,
    load_calibration,
)

EXAMPLE = Path(__file__).parents[2] / "data" / "videos" / "sports2d-demo.calib.toml"

GOOD_TABLE = """
[cam_a]
name = "cam_a"
size = [ 1920, 1080]
matrix = [ [ 1500.0, 0.0, 960.0], [ 0.0, 1500.0, 540.0], [ 0.0, 0.0, 1.0]]
distortions = [ -0.1, 0.02, 0.0, 0.0]
rotation = [ 0.1, -0.2, 0.3]
translation = [ 0.5, 1.0, 8.0]
fisheye = false
"""


def _camera(distortion: tuple[float, ...] = (-0.12, 0.05, 0.001, -0.0005, 0.0)) -> CameraModel:
    rotation, _ = cv2.Rodrigues(np.array([0.2, -0.4, 0.1]))
    return CameraModel(
        intrinsic_matrix=np.array([[1400.0, 0.0, 950.0], [0.0, 1380.0, 530.0], [0.0, 0.0, 1.0]]),
        distortion=np.array(distortion),
        image_size_px=(1920, 1080),
        rotation=rotation,
        translation_m=np.array([0.3, 1.2, 7.5]),
        source="test",
    )


def test_load_calibration_reads_the_example_file() -> None:
    camera = load_calibration(EXAMPLE)

    np.testing.assert_allclose(
        camera.intrinsic_matrix, [[2520.0897058227038, 0, 884], [0, 2520.0897058227038, 497], [0, 0, 1]]
    )
    assert camera.distortion.shape == (4,)
    assert camera.image_size_px == (1768, 994)
    assert camera.rotation is not None
    assert camera.rotation.shape == (3, 3)
    expected_rotation, _ = cv2.Rodrigues(np.array([1.2082126924727719, 1.2098328575850605, -1.2082126924727719]))
    np.testing.assert_allclose(camera.rotation, expected_rotation)
    np.testing.assert_allclose(camera.translation_m, [-3.510103521992233, 1.7079310029359385, 10.0])
    assert camera.is_calibrated
    assert "[demo]" in camera.source


def test_example_calibration_is_world_to_camera_with_z_up() -> None:
    camera = load_calibration(EXAMPLE)

    # World→camera puts a tripod 1.7 m above the ground, 10 m from the origin, looking horizontally.
    centre = camera.optical_centre_world_m
    assert centre is not None
    np.testing.assert_allclose(centre, [10.0, 3.508, 1.713], atol=1e-3)
    np.testing.assert_allclose(camera.up_vector_camera, [0.0, -1.0, 0.0], atol=2e-3)
    # The world origin (a floor point) is in the lower half of the image; 1 m above it is higher up.
    origin_px, above_px = camera.project(camera.world_to_camera([[0.0, 0.0, 0.0], [0.0, 0.0, 1.0]]))
    assert origin_px[1] > camera.image_size_px[1] / 2
    assert above_px[1] < origin_px[1]


def test_load_calibration_picks_a_camera_by_name(tmp_path: Path) -> None:
    second = GOOD_TABLE.replace("[cam_a]", "[cam_b]").replace("1500.0", "1600.0")
    path = tmp_path / "two.toml"
    path.write_text(GOOD_TABLE + second + "\n[metadata]\nadjusted = false\n")

    assert load_calibration(path).intrinsic_matrix[0, 0] == 1500.0
    assert load_calibration(path, camera_name="cam_b").intrinsic_matrix[0, 0] == 1600.0


@pytest.mark.parametrize(
    ("content", "message"),
    [
        ("[cam_a\nsize = [1, 2]", "not valid TOML"),
        ("[metadata]\nadjusted = false\n", "no camera table"),
        (GOOD_TABLE.replace("matrix = ", "# matrix = "), "missing keys ['matrix']"),
        (GOOD_TABLE.replace("[ 0.0, 0.0, 1.0]]", "]"), "matrix must have shape (3, 3)"),
        (GOOD_TABLE.replace("-0.1, 0.02, 0.0, 0.0", "-0.1, 0.02, 0.0"), "distortions must have shape"),
        (GOOD_TABLE.replace("[ 0.5, 1.0, 8.0]", "[ 0.5, 1.0]"), "translation must have shape (3,)"),
        (GOOD_TABLE.replace("[ 1920, 1080]", "[ 1920, 0]"), "size must be two positive integers"),
        (GOOD_TABLE.replace("[ 1920, 1080]", "[ 1920.5, 1080]"), "size must be two positive integers"),
        (GOOD_TABLE.replace("[ 1500.0, 0.0, 960.0]", '"K"'), "matrix must be numeric"),
        (GOOD_TABLE.replace("[ 0.1, -0.2, 0.3]", "[ nan, -0.2, 0.3]"), "rotation must be finite"),
        (GOOD_TABLE.replace("[ 0.5, 1.0, 8.0]", "[ 0.5, inf, 8.0]"), "translation must be finite"),
        (GOOD_TABLE.replace("1500.0, 0.0, 960.0", "0.0, 0.0, 960.0"), "focal lengths must be positive"),
        (GOOD_TABLE.replace("1500.0, 540.0", "-1500.0, 540.0"), "focal lengths must be positive"),
        (GOOD_TABLE.replace("960.0]", "5000.0]"), "principal point"),
        (GOOD_TABLE.replace("[ 0.0, 0.0, 1.0]]", "[ 0.0, 0.1, 1.0]]"), "intrinsic matrix must be"),
        (GOOD_TABLE.replace("fisheye = false", "fisheye = true"), "fisheye calibrations are unsupported"),
        (GOOD_TABLE.replace("fisheye = false", 'fisheye = "no"'), "fisheye must be true or false"),
        (GOOD_TABLE.replace("[ 0.1, -0.2, 0.3]", "[[ 0.1, -0.2, 0.3], [0.1, -0.2, 0.3]]"), "moving cameras"),
    ],
)
def test_load_calibration_rejects_bad_files(tmp_path: Path, content: str, message: str) -> None:
    path = tmp_path / "bad.toml"
    path.write_text(content)

    with pytest.raises(InvalidCalibrationError) as caught:
        load_calibration(path)

    assert message in str(caught.value)
    assert "\n" not in str(caught.value)
    assert caught.value.details["path"] == str(path)


def test_load_calibration_rejects_a_missing_file_and_an_unknown_camera(tmp_path: Path) -> None:
    with pytest.raises(InvalidCalibrationError, match="calibration file not found"):
        load_calibration(tmp_path / "absent.toml")
    path = tmp_path / "one.toml"
    path.write_text(GOOD_TABLE)
    with pytest.raises(InvalidCalibrationError, match="no camera 'cam_z'; cameras: cam_a"):
        load_calibration(path, camera_name="cam_z")


def test_calibration_is_rescaled_to_a_video_of_the_same_aspect_ratio() -> None:
    full = load_calibration(EXAMPLE)
    half = load_calibration(EXAMPLE, image_size_px=(884, 497))

    assert half.image_size_px == (884, 497)
    np.testing.assert_allclose(half.intrinsic_matrix[0, 0], full.intrinsic_matrix[0, 0] / 2)
    np.testing.assert_allclose(half.intrinsic_matrix[:2, 2], [441.75, 248.25])
    # A point lands on the same place of the picture: pixel corners scale, centres shift by half a pixel.
    points = np.array([[0.3, -0.2, 6.0], [-1.0, 0.5, 9.0]])
    full_corner = full.project(points) + IMAGE_TO_OPENCV_OFFSET_PX
    half_corner = half.project(points) + IMAGE_TO_OPENCV_OFFSET_PX
    np.testing.assert_allclose(half_corner, full_corner / 2)


def test_calibration_for_another_aspect_ratio_is_refused() -> None:
    with pytest.raises(InvalidCalibrationError, match="different aspect ratio"):
        load_calibration(EXAMPLE, image_size_px=(1440, 1080))


def test_default_camera_is_a_level_pinhole_with_the_assumed_field_of_view() -> None:
    camera = CameraModel.default_for(1280, 720)

    half_fov = math.degrees(math.atan((1280 / 2) / camera.intrinsic_matrix[0, 0]))
    assert half_fov == pytest.approx(DEFAULT_HORIZONTAL_FOV_DEG / 2)
    np.testing.assert_allclose(camera.intrinsic_matrix[:2, 2], [639.5, 359.5])
    assert camera.intrinsic_matrix[1, 1] == camera.intrinsic_matrix[0, 0]
    assert not camera.is_calibrated
    assert camera.optical_centre_world_m is None
    np.testing.assert_array_equal(camera.up_vector_camera, [0.0, -1.0, 0.0])
    assert "assumed" in camera.source
    with pytest.raises(InvalidCalibrationError, match="needs a calibrated camera"):
        camera.camera_to_world(np.zeros((1, 3)))
    with pytest.raises(InvalidCalibrationError, match="horizontal_fov_deg"):
        CameraModel.default_for(1280, 720, horizontal_fov_deg=0.0)


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"rotation": np.diag([1.0, 1.0, 2.0])}, "proper rotation matrix"),
        ({"rotation": np.diag([1.0, 1.0, -1.0])}, "proper rotation matrix"),
        ({"translation_m": None}, "both be given"),
        ({"world_up": np.array([0.0, 0.0, 2.0])}, "unit vector"),
        ({"image_size_px": (0, 1080)}, "image size"),
    ],
)
def test_camera_model_rejects_impossible_values(changes: dict[str, object], message: str) -> None:
    camera = _camera()
    fields = {
        "intrinsic_matrix": camera.intrinsic_matrix,
        "distortion": camera.distortion,
        "image_size_px": camera.image_size_px,
        "rotation": camera.rotation,
        "translation_m": camera.translation_m,
    }
    with pytest.raises(InvalidCalibrationError, match=message):
        CameraModel(**{**fields, **changes})  # type: ignore[arg-type]


def test_project_matches_the_pinhole_formula_without_distortion() -> None:
    camera = _camera(distortion=(0.0, 0.0, 0.0, 0.0))
    points = np.array([[0.5, -0.25, 5.0], [0.0, 0.0, 2.0]])

    expected = points[:, :2] / points[:, 2:] * [1400.0, 1380.0] + [950.0, 530.0]
    np.testing.assert_allclose(camera.project(points), expected)


def test_project_gives_nan_for_missing_points_and_points_behind_the_camera() -> None:
    pixels = _camera().project(np.array([[np.nan, 0.0, 5.0], [0.1, 0.1, -3.0], [0.1, 0.1, 0.0], [0.1, 0.1, 3.0]]))

    assert np.isnan(pixels[:3]).all()
    assert np.isfinite(pixels[3]).all()


finite_xy = st.floats(-1.0, 1.0, allow_nan=False)
coefficient = st.floats(-0.15, 0.15)


@settings(max_examples=50, deadline=None)
@given(
    normalised=arrays(np.float64, st.tuples(st.integers(1, 20), st.just(2)), elements=finite_xy | st.just(np.nan)),
    depth_m=st.floats(0.5, 50.0),
    k1=coefficient,
    k2=coefficient,
)
def test_undistort_inverts_project(normalised: np.ndarray, depth_m: float, k1: float, k2: float) -> None:
    # Keep to the field of view (|x|, |y| < 0.6) where radial distortion of this size is monotonic.
    normalised = normalised * 0.6
    camera = _camera(distortion=(k1, k2, 0.001, -0.0005, 0.0))
    points = np.column_stack([normalised * depth_m, np.full(len(normalised), depth_m)])

    recovered = camera.undistort_points(camera.project(points))

    missing = np.isnan(normalised).any(axis=1)
    assert np.isnan(recovered[missing]).all()
    np.testing.assert_allclose(recovered[~missing], normalised[~missing], atol=1e-9)


@settings(max_examples=50, deadline=None)
@given(points=arrays(np.float64, st.tuples(st.integers(0, 10), st.just(3)), elements=st.floats(-100, 100)))
def test_camera_to_world_inverts_world_to_camera(points: np.ndarray) -> None:
    camera = _camera()

    np.testing.assert_allclose(camera.camera_to_world(camera.world_to_camera(points)), points, atol=1e-9)
