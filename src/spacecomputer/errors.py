"""The one exception hierarchy of Space Computer.

Every error the system raises on purpose derives from :class:`SpaceComputerError` and carries a stable
machine-readable ``code`` (for the API's error body and for scripts) and a ``details`` mapping (for
the parameters that explain it: which limit, what arrived, what was expected)::

    SpaceComputerError                      code
    ├── InvalidInputError                   invalid_input
    │   ├── InvalidVideoError               invalid_video
    │   │   └── UnsupportedVideoError       unsupported_video
    │   ├── VideoTooLargeError              video_too_large
    │   ├── InvalidCalibrationError         invalid_calibration
    │   ├── InvalidPoseDataError            invalid_pose_data
    │   └── IncompatibleMotionError         incompatible_motion
    ├── NoAthleteDetectedError              no_athlete_detected
    ├── InsufficientDataError               insufficient_data
    ├── OutputError                         output_error
    ├── QualityRejectedError                quality_rejected
    ├── AuthenticationError                 authentication_failed
    ├── NotFoundError                       not_found
    ├── ConflictError                       conflict
    ├── PermissionDeniedError               permission_denied
    ├── RateLimitedError                    rate_limited
    └── UpstreamUnavailableError            upstream_unavailable

The CLI prints ``str(error)`` (one line) and exits non-zero; the API maps ``code`` to an HTTP status in
one handler.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, ClassVar

__all__ = [
    "AuthenticationError",
    "ConflictError",
    "IncompatibleMotionError",
    "InsufficientDataError",
    "InvalidCalibrationError",
    "InvalidInputError",
    "InvalidPoseDataError",
    "InvalidVideoError",
    "NoAthleteDetectedError",
    "NotFoundError",
    "OutputError",
    "PermissionDeniedError",
    "QualityRejectedError",
    "RateLimitedError",
    "SpaceComputerError",
    "UnsupportedVideoError",
    "UpstreamUnavailableError",
    "VideoTooLargeError",
]


class SpaceComputerError(Exception):
    """Base of every deliberate Space Computer error.

    Parameters
    ----------
    message
        One line, for a person: what went wrong and, where it helps, what to do.
    details
        Machine-readable facts behind the message (limits, values that arrived, paths).

    """

    code: ClassVar[str] = "error"

    def __init__(self, message: str, *, details: Mapping[str, Any] | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.details: dict[str, Any] = dict(details or {})

    def to_dict(self) -> dict[str, Any]:
        """Return the error as the ``{"code", "message", "details"}`` body used by the API and ``--json``."""
        return {"code": self.code, "message": self.message, "details": self.details}


class InvalidInputError(SpaceComputerError):
    """An input (file, option, array) is not what the operation accepts."""

    code = "invalid_input"


class InvalidVideoError(InvalidInputError):
    """The file is missing, empty, not a video, corrupt, or has no decodable video frames."""

    code = "invalid_video"


class UnsupportedVideoError(InvalidVideoError):
    """The file is a container or protocol we refuse to open (playlists, concat lists, network URLs)."""

    code = "unsupported_video"


class VideoTooLargeError(InvalidInputError):
    """The video exceeds a configured cap (file size, pixels per frame, duration, fps, frame count)."""

    code = "video_too_large"


class InvalidCalibrationError(InvalidInputError):
    """A camera calibration file cannot be read or is physically impossible."""

    code = "invalid_calibration"


class InvalidPoseDataError(InvalidInputError):
    """Pose data (arrays or files) has the wrong shape, units or content."""

    code = "invalid_pose_data"


class IncompatibleMotionError(InvalidInputError):
    """Two motions cannot be compared as asked (different movements, no common joint angle)."""

    code = "incompatible_motion"


class NoAthleteDetectedError(SpaceComputerError):
    """No person was found in the frames that were checked."""

    code = "no_athlete_detected"


class InsufficientDataError(SpaceComputerError):
    """There is too little valid data for the requested computation."""

    code = "insufficient_data"


class OutputError(SpaceComputerError):
    """Results cannot be written where they were asked to go."""

    code = "output_error"


class QualityRejectedError(SpaceComputerError):
    """The video's quality score is below the threshold and strict mode refuses to go on."""

    code = "quality_rejected"


class AuthenticationError(SpaceComputerError):
    """The credential (token, API key, password, one-time code) is missing, invalid, expired or revoked (401).

    A valid credential that lacks a permission is a :class:`PermissionDeniedError` (403) instead.
    ``details["reason"]`` names the cause (``"expired"``, ``"refresh_reused"`` …) for logs and tests.
    """

    code = "authentication_failed"

    def __init__(self, message: str, *, reason: str) -> None:
        super().__init__(message, details={"reason": reason})
        self.reason = reason


class NotFoundError(SpaceComputerError):
    """A requested resource does not exist."""

    code = "not_found"


class ConflictError(SpaceComputerError):
    """The request clashes with the current state of a resource (an e-mail already registered, 409)."""

    code = "conflict"


class PermissionDeniedError(SpaceComputerError):
    """The caller may not perform this operation."""

    code = "permission_denied"


class RateLimitedError(SpaceComputerError):
    """Too many requests; retry later."""

    code = "rate_limited"


class UpstreamUnavailableError(SpaceComputerError):
    """A service we depend on (database, object store, language model) did not answer."""

    code = "upstream_unavailable"
