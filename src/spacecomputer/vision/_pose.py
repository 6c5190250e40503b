"""2D + 3D pose estimation: the `PoseEstimator` protocol and its BlazePose implementation."""

from __future__ import annotations

import os
from types import TracebackType
from typing import Any, Protocol, Self

import numpy as np
from numpy.typing import NDArray

from spacecomputer.domain import PoseFrame
from spacecomputer.errors import InvalidInputError

__all__ = ["BlazePoseEstimator", "PoseEstimator"]


class PoseEstimator(Protocol):
    """Finds one person's landmarks in an upright RGB frame."""

    def estimate(self, image_rgb: NDArray[np.uint8]) -> PoseFrame | None:
        """Return the pose in ``image_rgb`` (H × W × 3, uint8, RGB), or ``None`` when nobody is found."""
        ...

    def reset(self) -> None:
        """Forget any state carried from previous frames (tracking ROI)."""
        ...


class BlazePoseEstimator:
    """MediaPipe BlazePose, legacy ``solutions.pose`` API, full model (``model_complexity=1``).

    The full model ships inside the ``mediapipe==0.10.21`` wheel, so nothing is downloaded. In tracking
    mode (the default) BlazePose reuses the previous frame's region of interest, which is faster and
    steadier on video; ``static_image_mode=True`` runs the person detector on every image (used to
    re-acquire the athlete in a crop).

    Parameters
    ----------
    static_image_mode
        Detect on every image instead of tracking across frames.
    min_detection_confidence, min_tracking_confidence
        MediaPipe's thresholds, in [0, 1].

    """

    model_name = "mediapipe_blazepose_full"
    model_complexity = 1

    def __init__(
        self,
        *,
        static_image_mode: bool = False,
        min_detection_confidence: float = 0.5,
        min_tracking_confidence: float = 0.5,
    ) -> None:
        for name, value in (
            ("min_detection_confidence", min_detection_confidence),
            ("min_tracking_confidence", min_tracking_confidence),
        ):
            if not 0.0 <= value <= 1.0:
                raise InvalidInputError(f"{name} must lie in [0, 1]; got {value}")
        self._options: dict[str, Any] = {
            "static_image_mode": static_image_mode,
            "model_complexity": self.model_complexity,
            "smooth_landmarks": False,
            "enable_segmentation": False,
            "min_detection_confidence": min_detection_confidence,
            "min_tracking_confidence": min_tracking_confidence,
        }
        self._pose: Any = self._create()

    def _create(self) -> Any:
        # MediaPipe logs through glog/absl to stderr; keep the CLI's output readable.
        os.environ.setdefault("GLOG_minloglevel", "2")
        from mediapipe.python.solutions import pose as mp_pose

        return mp_pose.Pose(**self._options)

    def estimate(self, image_rgb: NDArray[np.uint8]) -> PoseFrame | None:
        """Return the landmarks of the person in ``image_rgb`` (pixels and hip-centred metres)."""
        if image_rgb.ndim != 3 or image_rgb.shape[2] != 3 or image_rgb.dtype != np.uint8:
            raise InvalidInputError(
                f"estimate expects an H×W×3 uint8 RGB image; got shape {image_rgb.shape} dtype {image_rgb.dtype}"
            )
        height, width = image_rgb.shape[:2]
        result = self._pose.process(np.ascontiguousarray(image_rgb))
        return PoseFrame.from_mediapipe(result, width_px=width, height_px=height)

    def reset(self) -> None:
        """Start again without the previous frame's region of interest."""
        self._pose.reset()

    def close(self) -> None:
        """Release MediaPipe's graph."""
        self._pose.close()

    def __enter__(self) -> Self:
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.close()
