"""One person's pose in one video frame, as a pose estimator returns it."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
from numpy.typing import NDArray

from spacecomputer.errors import InvalidPoseDataError

__all__ = ["PoseFrame"]


@dataclass(frozen=True, eq=False)
class PoseFrame:
    """Landmarks of one detected person in one frame.

    Parameters
    ----------
    image_px
        (J, 3) positions in the upright image: x, y in pixels (origin top-left), z BlazePose's relative
        depth scaled like x (see :class:`~spacecomputer.domain.CoordinateFrame`).
    world_m
        (J, 3) hip-centred positions in metres (MediaPipe world landmarks).
    visibility
        (J,) probability in [0, 1] that each landmark is visible (not occluded, inside the image).

    """

    image_px: NDArray[np.float64]
    world_m: NDArray[np.float64]
    visibility: NDArray[np.float64]

    def __post_init__(self) -> None:
        n = self.visibility.shape[0] if self.visibility.ndim == 1 else -1
        for name, arr in (("image_px", self.image_px), ("world_m", self.world_m)):
            if arr.shape != (n, 3):
                raise InvalidPoseDataError(
                    f"PoseFrame.{name} must have shape ({n}, 3) to match visibility; got {arr.shape}",
                    details={"field": name, "shape": list(arr.shape)},
                )
            if not np.all(np.isfinite(arr)):
                raise InvalidPoseDataError(f"PoseFrame.{name} contains NaN or infinite values")
        if not np.all((self.visibility >= 0.0) & (self.visibility <= 1.0)):
            raise InvalidPoseDataError("PoseFrame.visibility must lie in [0, 1]")

    @property
    def n_joints(self) -> int:
        """Number of landmarks."""
        return int(self.visibility.shape[0])

    @property
    def mean_visibility(self) -> float:
        """Mean landmark visibility, in [0, 1]."""
        return float(self.visibility.mean())

    def bbox_px(self, *, min_visibility: float = 0.3) -> tuple[float, float, float, float]:
        """Return the (x0, y0, x1, y1) pixel box around the landmarks at least ``min_visibility`` visible.

        Falls back to all landmarks when fewer than two pass the threshold.
        """
        keep = self.visibility >= min_visibility
        points = self.image_px[keep, :2] if keep.sum() >= 2 else self.image_px[:, :2]
        x0, y0 = points.min(axis=0)
        x1, y1 = points.max(axis=0)
        return float(x0), float(y0), float(x1), float(y1)

    def mapped_from_crop(self, *, offset_x_px: float, offset_y_px: float, scale: float = 1.0) -> PoseFrame:
        """Map a pose found in a crop back to the full image.

        ``image_px`` of the crop is divided by ``scale`` (crop pixels per full-image pixel) and shifted by
        the crop's top-left corner; world landmarks are hip-centred and unchanged.
        """
        image = self.image_px / scale
        image[:, 0] += offset_x_px
        image[:, 1] += offset_y_px
        return PoseFrame(image_px=image, world_m=self.world_m.copy(), visibility=self.visibility.copy())

    @classmethod
    def from_mediapipe(cls, result: Any, *, width_px: int, height_px: int) -> PoseFrame | None:
        """Convert one MediaPipe ``Pose.process`` result; ``None`` when no person was found.

        MediaPipe gives x, y normalised to the image (z in the scale of x); they are converted to pixels.
        """
        if result.pose_landmarks is None or result.pose_world_landmarks is None:
            return None
        image = np.array([(lm.x, lm.y, lm.z) for lm in result.pose_landmarks.landmark], dtype=np.float64)
        image[:, 0] *= width_px
        image[:, 1] *= height_px
        image[:, 2] *= width_px
        world = np.array([(lm.x, lm.y, lm.z) for lm in result.pose_world_landmarks.landmark], dtype=np.float64)
        visibility = np.clip(
            np.array([lm.visibility for lm in result.pose_landmarks.landmark], dtype=np.float64), 0.0, 1.0
        )
        return cls(image_px=image, world_m=world, visibility=visibility)
