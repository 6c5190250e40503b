"""Pinhole camera model with OpenCV lens distortion, and the Pose2Sim/Sports2D calibration file.

Conventions
-----------
* Camera frame: OpenCV's (origin at the optical centre, x right, y down, z forward along the optical
  axis), metres.
* Pixels: OpenCV's, integer coordinates at pixel *centres*. The ``image`` frame of
  :class:`~spacecomputer.domain._frames.CoordinateFrame` puts its origin at the top-left pixel
  *corner*, so ``x_opencv = x_image - 0.5`` (:data:`IMAGE_TO_OPENCV_OFFSET_PX`).
* Extrinsics map world to camera: ``X_cam = R @ X_world + t``. This is the Pose2Sim convention: its
  ``reproj_from_trc_calib.computeP`` builds the projection matrix as ``K @ [R | t]`` with ``R`` the
  Rodrigues ``rotation`` and ``t`` the ``translation`` of the TOML file. The example file
  ``data/videos/sports2d-demo.calib.toml`` agrees: read world→camera it puts the optical centre at
  ``-Rᵀt = (10.0, 3.51, 1.71)`` m, 10 m from the origin, 1.71 m above the ground (a tripod), looking
  horizontally along world −X, and the world origin projects onto the image's bottom-left edge
  (a floor point). Read camera→world instead, the camera would float 10 m up and look horizontally,
  which cannot frame a person standing on the ground.
* World "up": +Z for Pose2Sim calibrations (Pose2Sim's world is Z-up; it converts Y-up TRC files
  before reprojection). In the example the camera's y axis (image down) is world −Z within 0.1°,
  so +Z is up. :func:`load_calibration` takes ``world_up`` for files that differ.
"""

from __future__ import annotations

import math
import tomllib
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

import cv2
import numpy as np
from numpy.typing import ArrayLike, NDArray

from spacecomputer.errors import InvalidCalibrationError

__all__ = [
    "DEFAULT_HORIZONTAL_FOV_DEG",
    "IMAGE_TO_OPENCV_OFFSET_PX",
    "POSE2SIM_WORLD_UP",
    "CameraModel",
    "load_calibration",
]

DEFAULT_HORIZONTAL_FOV_DEG = 70.0
"""Assumed horizontal field of view of an uncalibrated camera, degrees. Our assumption: typical phone
main cameras are roughly 65–75° horizontal; 70° sits in the middle."""

IMAGE_TO_OPENCV_OFFSET_PX = 0.5
"""Subtract from ``image``-frame pixel positions (corner origin) to get OpenCV pixel coordinates."""

POSE2SIM_WORLD_UP = (0.0, 0.0, 1.0)
"""The world's up direction in Pose2Sim/Sports2D calibrations (+Z)."""

_DISTORTION_SHAPES = ((4,), (5,), (8,), (12,), (14,))  # the lengths cv2.projectPoints accepts
_UNDISTORT_CRITERIA = (cv2.TERM_CRITERIA_COUNT | cv2.TERM_CRITERIA_EPS, 100, 1e-12)
_PRINCIPAL_POINT_MARGIN = 0.5  # principal point may sit up to half the image size outside the image
_ASPECT_TOLERANCE = 0.01  # relative difference of x and y scale still accepted as "same aspect ratio"


def _fail(message: str, **details: Any) -> InvalidCalibrationError:
    return InvalidCalibrationError(message, details=details)


def _as_float_array(value: Any, name: str, shapes: tuple[tuple[int, ...], ...]) -> NDArray[np.float64]:
    """Copy ``value`` into a finite float64 array of one of ``shapes`` or raise with what arrived."""
    try:
        array = np.array(value, dtype=np.float64)
    except (TypeError, ValueError):
        raise _fail(f"{name} must be numeric with shape {' or '.join(map(str, shapes))}; got {value!r}") from None
    if array.shape not in shapes:
        expected = " or ".join(map(str, shapes))
        raise _fail(f"{name} must have shape {expected}; got {array.shape}", field=name, shape=list(array.shape))
    if not np.all(np.isfinite(array)):
        raise _fail(f"{name} must be finite; got {array.tolist()}", field=name)
    return array


def _intrinsic_matrix(value: Any, width: int, height: int) -> NDArray[np.float64]:
    """Check ``K``: upper triangular with a unit last row, positive focals, principal point near the image."""
    k = _as_float_array(value, "intrinsic matrix", ((3, 3),))
    fx, fy, cx, cy = k[0, 0], k[1, 1], k[0, 2], k[1, 2]
    if fx <= 0 or fy <= 0:
        raise _fail(f"focal lengths must be positive pixels; got fx={fx}, fy={fy}", fx=fx, fy=fy)
    if k[1, 0] != 0.0 or not np.array_equal(k[2], [0.0, 0.0, 1.0]):
        raise _fail(f"intrinsic matrix must be [[fx, s, cx], [0, fy, cy], [0, 0, 1]]; got {k.tolist()}")
    margin_x, margin_y = _PRINCIPAL_POINT_MARGIN * width, _PRINCIPAL_POINT_MARGIN * height
    if not (-margin_x <= cx <= width + margin_x and -margin_y <= cy <= height + margin_y):
        raise _fail(
            f"principal point ({cx}, {cy}) px is far outside the {width}x{height} image",
            principal_point_px=[cx, cy],
            image_size_px=[width, height],
        )
    return k


@dataclass(frozen=True, eq=False)
class CameraModel:
    """A pinhole camera with OpenCV distortion and optional world→camera extrinsics.

    Parameters
    ----------
    intrinsic_matrix
        (3, 3) ``K`` in OpenCV pixels (see the module conventions): ``[[fx, s, cx], [0, fy, cy], [0, 0, 1]]``.
    distortion
        OpenCV coefficients ``(k1, k2, p1, p2[, k3[, k4, k5, k6[, s1..s4[, tx, ty]]]])``: 4, 5, 8, 12 or 14.
    image_size_px
        (width, height) of the images this ``K`` belongs to, pixels.
    rotation
        (3, 3) rotation ``R`` from world to camera (``X_cam = R X_world + t``); ``None`` when uncalibrated.
    translation_m
        (3,) ``t`` in metres; ``None`` exactly when ``rotation`` is ``None``.
    world_up
        Unit vector of the world's up direction, in world coordinates (+Z for Pose2Sim).
    source
        Where the model came from (a file and camera name, or the assumption made).

    """

    intrinsic_matrix: NDArray[np.float64]
    distortion: NDArray[np.float64]
    image_size_px: tuple[int, int]
    rotation: NDArray[np.float64] | None = None
    translation_m: NDArray[np.float64] | None = None
    world_up: NDArray[np.float64] = field(default_factory=lambda: np.array(POSE2SIM_WORLD_UP))
    source: str = "unknown"

    def __post_init__(self) -> None:
        size = tuple(self.image_size_px)
        if len(size) != 2 or not all(isinstance(v, int | np.integer) and v > 0 for v in size):
            raise _fail(f"image size must be two positive integers (width, height); got {self.image_size_px}")
        width, height = int(size[0]), int(size[1])
        k = _intrinsic_matrix(self.intrinsic_matrix, width, height)
        dist = _as_float_array(self.distortion, "distortions", _DISTORTION_SHAPES)
        if (self.rotation is None) != (self.translation_m is None):
            raise _fail("rotation and translation must both be given (calibrated) or both be None")
        rotation = translation = None
        if self.rotation is not None and self.translation_m is not None:
            rotation = _as_float_array(self.rotation, "rotation matrix", ((3, 3),))
            if not np.allclose(rotation @ rotation.T, np.eye(3), atol=1e-6) or np.linalg.det(rotation) <= 0:
                raise _fail(f"rotation must be a proper rotation matrix; got {rotation.tolist()}")
            translation = _as_float_array(self.translation_m, "translation", ((3,),))
        up = _as_float_array(self.world_up, "world_up", ((3,),))
        if not math.isclose(float(np.linalg.norm(up)), 1.0, abs_tol=1e-6):
            raise _fail(f"world_up must be a unit vector; got {up.tolist()}")
        for name, value in (
            ("intrinsic_matrix", k),
            ("distortion", dist),
            ("rotation", rotation),
            ("translation_m", translation),
            ("world_up", up),
        ):
            if value is not None:
                value.setflags(write=False)
            object.__setattr__(self, name, value)
        object.__setattr__(self, "image_size_px", (width, height))

    @classmethod
    def default_for(
        cls, width_px: int, height_px: int, *, horizontal_fov_deg: float = DEFAULT_HORIZONTAL_FOV_DEG
    ) -> CameraModel:
        """Return an uncalibrated pinhole for a ``width_px`` × ``height_px`` video.

        The principal point is the image centre, pixels are square, there is no distortion and no
        extrinsics, and the focal length follows from ``horizontal_fov_deg`` — an assumption (default
        :data:`DEFAULT_HORIZONTAL_FOV_DEG`), not a measurement: depths recovered with it scale with it.

        Examples
        --------
        >>> cam = CameraModel.default_for(1920, 1080, horizontal_fov_deg=90.0)
        >>> round(float(cam.intrinsic_matrix[0, 0]), 6), cam.is_calibrated
        (960.0, False)

        """
        if not 1.0 <= horizontal_fov_deg <= 179.0:
            raise _fail(f"horizontal_fov_deg must lie in [1, 179] degrees; got {horizontal_fov_deg}")
        focal_px = (width_px / 2.0) / math.tan(math.radians(horizontal_fov_deg) / 2.0)
        k = np.array([[focal_px, 0.0, (width_px - 1) / 2.0], [0.0, focal_px, (height_px - 1) / 2.0], [0, 0, 1.0]])
        return cls(
            intrinsic_matrix=k,
            distortion=np.zeros(5),
            image_size_px=(width_px, height_px),
            source=f"assumed: uncalibrated pinhole, {horizontal_fov_deg:g}° horizontal field of view",
        )

    @property
    def is_calibrated(self) -> bool:
        """Whether world→camera extrinsics are known."""
        return self.rotation is not None

    @property
    def up_vector_camera(self) -> NDArray[np.float64]:
        """The world's up direction in camera coordinates, unit (3,); ``(0, -1, 0)`` when uncalibrated."""
        if self.rotation is None:
            return np.array([0.0, -1.0, 0.0])
        return np.asarray(self.rotation @ self.world_up, dtype=np.float64)

    @property
    def optical_centre_world_m(self) -> NDArray[np.float64] | None:
        """Position of the optical centre in the world frame, ``-Rᵀ t`` (m); ``None`` if uncalibrated."""
        if self.rotation is None or self.translation_m is None:
            return None
        return np.asarray(-self.rotation.T @ self.translation_m, dtype=np.float64)

    def scaled_to(self, width_px: int, height_px: int) -> CameraModel:
        """Return the model for the same camera recording at ``width_px`` × ``height_px``.

        ``K`` is scaled per axis about pixel corners (``c' = (c + 0.5) s - 0.5``); distortion and
        extrinsics are unchanged. The aspect ratio must match within 1 %.
        """
        width, height = self.image_size_px
        scale_x, scale_y = width_px / width, height_px / height
        if abs(scale_x - scale_y) > _ASPECT_TOLERANCE * max(scale_x, scale_y):
            raise _fail(
                f"calibration is for {width}x{height} px but the video is {width_px}x{height_px} px "
                "(different aspect ratio; recalibrate for this video size)",
                calibration_size_px=[width, height],
                video_size_px=[width_px, height_px],
            )
        if (width_px, height_px) == (width, height):
            return self
        k = self.intrinsic_matrix.copy()
        k[0, :2] *= scale_x
        k[1, 1] *= scale_y
        k[0, 2] = (k[0, 2] + 0.5) * scale_x - 0.5
        k[1, 2] = (k[1, 2] + 0.5) * scale_y - 0.5
        return replace(
            self,
            intrinsic_matrix=k,
            image_size_px=(width_px, height_px),
            source=f"{self.source} (scaled from {width}x{height} to {width_px}x{height_px} px)",
        )

    def project(self, points_cam_m: ArrayLike) -> NDArray[np.float64]:
        """Project (N, 3) camera-frame points (m) to (N, 2) OpenCV pixels, with lens distortion.

        Points that are NaN or not in front of the camera (z ≤ 0) give NaN.
        """
        points = np.asarray(points_cam_m, dtype=np.float64).reshape(-1, 3)
        pixels = np.full((points.shape[0], 2), np.nan)
        ok = np.all(np.isfinite(points), axis=1) & (points[:, 2] > 0)
        if ok.any():
            projected, _ = cv2.projectPoints(
                points[ok], np.zeros(3), np.zeros(3), self.intrinsic_matrix, self.distortion
            )
            pixels[ok] = projected.reshape(-1, 2)
        return pixels

    def undistort_points(self, pixels_px: ArrayLike) -> NDArray[np.float64]:
        """Map (N, 2) OpenCV pixels to (N, 2) undistorted normalised image coordinates ``(x/z, y/z)``.

        NaN rows stay NaN. Uses OpenCV's iterative inversion run to 1e-12 (its default stops after
        five iterations, which leaves visible error with strong distortion).
        """
        pixels = np.asarray(pixels_px, dtype=np.float64).reshape(-1, 2)
        normalised = np.full_like(pixels, np.nan)
        ok = np.all(np.isfinite(pixels), axis=1)
        if ok.any():
            undistorted = cv2.undistortPoints(
                pixels[ok].reshape(-1, 1, 2),
                self.intrinsic_matrix,
                self.distortion,
                criteria=_UNDISTORT_CRITERIA,
            )
            normalised[ok] = undistorted.reshape(-1, 2)
        return normalised

    def world_to_camera(self, points_world_m: ArrayLike) -> NDArray[np.float64]:
        """Map world points (..., 3) to the camera frame: ``R X + t`` (m). Needs extrinsics."""
        rotation, translation = self._extrinsics("world_to_camera")
        points = np.asarray(points_world_m, dtype=np.float64)
        return np.asarray(points @ rotation.T + translation, dtype=np.float64)

    def camera_to_world(self, points_cam_m: ArrayLike) -> NDArray[np.float64]:
        """Map camera-frame points (..., 3) to the world frame: ``Rᵀ (X - t)`` (m). Needs extrinsics."""
        rotation, translation = self._extrinsics("camera_to_world")
        points = np.asarray(points_cam_m, dtype=np.float64)
        return np.asarray((points - translation) @ rotation, dtype=np.float64)

    def _extrinsics(self, operation: str) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
        if self.rotation is None or self.translation_m is None:
            raise _fail(f"{operation} needs a calibrated camera (rotation and translation); {self.source}")
        return self.rotation, self.translation_m


def load_calibration(
    path: Path | str,
    *,
    camera_name: str | None = None,
    image_size_px: tuple[int, int] | None = None,
    world_up: tuple[float, float, float] = POSE2SIM_WORLD_UP,
) -> CameraModel:
    """Read one camera of a Pose2Sim/Sports2D calibration TOML file.

    The file holds one table per camera (``size`` [w, h] px, ``matrix`` 3×3 ``K``, ``distortions``
    OpenCV coefficients, Rodrigues ``rotation`` and ``translation`` in metres mapping world to camera,
    ``fisheye``) and an ignored ``[metadata]`` table. See the module docstring for the conventions.

    Parameters
    ----------
    path
        The ``.toml`` file.
    camera_name
        Table to read; the first camera table when ``None``.
    image_size_px
        (width, height) of the video to be analysed; ``K`` is rescaled when it differs from ``size``
        with the same aspect ratio (see :meth:`CameraModel.scaled_to`).
    world_up
        The world's up direction (unit vector, world coordinates); +Z for Pose2Sim.

    Raises
    ------
    InvalidCalibrationError
        Missing file, bad TOML, missing keys, wrong shapes, non-finite or impossible values, a fisheye
        or moving camera (unsupported), or a video size with another aspect ratio.

    """
    path = Path(path)
    try:
        document = tomllib.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise _fail(f"calibration file not found: {path}", path=str(path)) from None
    except (OSError, UnicodeDecodeError) as error:
        raise _fail(f"cannot read calibration file {path}: {error}", path=str(path)) from None
    except tomllib.TOMLDecodeError as error:
        raise _fail(f"calibration file {path} is not valid TOML: {error}", path=str(path)) from None
    cameras = {name: table for name, table in document.items() if name != "metadata" and isinstance(table, dict)}
    if not cameras:
        raise _fail(f"calibration file {path} has no camera table (only [metadata] or nothing)", path=str(path))
    if camera_name is None:
        camera_name = next(iter(cameras))
    elif camera_name not in cameras:
        raise _fail(
            f"calibration file {path} has no camera {camera_name!r}; cameras: {', '.join(cameras)}",
            path=str(path),
            cameras=list(cameras),
        )
    try:
        camera = _camera_from_table(cameras[camera_name], world_up=world_up)
        camera = replace(camera, source=f"{path} [{camera_name}]")
        return camera if image_size_px is None else camera.scaled_to(*image_size_px)
    except InvalidCalibrationError as error:
        raise InvalidCalibrationError(
            f"{path} [{camera_name}]: {error.message}", details={**error.details, "path": str(path)}
        ) from None


def _camera_from_table(table: dict[str, Any], *, world_up: tuple[float, float, float]) -> CameraModel:
    missing = [key for key in ("size", "matrix", "distortions", "rotation", "translation") if key not in table]
    if missing:
        raise _fail(f"missing keys {missing}; expected size, matrix, distortions, rotation, translation")
    fisheye = table.get("fisheye", False)
    if not isinstance(fisheye, bool):
        raise _fail(f"fisheye must be true or false; got {fisheye!r}")
    if fisheye:
        raise _fail("fisheye calibrations are unsupported (only the pinhole model with OpenCV distortion)")
    if np.ndim(table["rotation"]) == 2:
        raise _fail("moving cameras (one rotation per frame) are unsupported; expected one Rodrigues vector")
    size = _as_float_array(table["size"], "size", ((2,),))
    if not np.all(size == np.round(size)) or np.any(size <= 0):
        raise _fail(f"size must be two positive integers [width, height] px; got {size.tolist()}")
    rotation_vector = _as_float_array(table["rotation"], "rotation", ((3,),))
    rotation = np.asarray(cv2.Rodrigues(rotation_vector)[0], dtype=np.float64)
    return CameraModel(
        intrinsic_matrix=_as_float_array(table["matrix"], "matrix", ((3, 3),)),
        distortion=_as_float_array(table["distortions"], "distortions", _DISTORTION_SHAPES),
        image_size_px=(int(size[0]), int(size[1])),
        rotation=rotation,
        translation_m=_as_float_array(table["translation"], "translation", ((3,),)),
        world_up=np.asarray(world_up, dtype=np.float64),
    )
