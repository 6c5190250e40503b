"""Coordinate frames and units of pose data.

Every :class:`~spacecomputer.domain.PoseSequence` says which frame its positions are in; the unit
follows from the frame.

==================  =======  ==========================================================================
frame               unit     axes
==================  =======  ==========================================================================
``image``           px       x right, y down, origin at the top-left pixel corner of the upright
                             frame; z is BlazePose's relative depth (smaller = nearer the camera),
                             scaled like x (pixels), origin at the mid-hip.
``normalized``      ratio    as ``image`` but x divided by the image width and y by its height; z in
                             the scale of x. The format of the elite reference clips.
``hip_centred``     m        MediaPipe world landmarks: origin midway between the hips, axes parallel
                             to the camera's (x right, y down, z away from the camera).
``camera``          m        OpenCV camera frame: origin at the optical centre, x right, y down,
                             z along the optical axis (forward).
``world``           m        The scene frame of a camera calibration file (Pose2Sim/Sports2D TOML).
==================  =======  ==========================================================================
"""

from __future__ import annotations

from enum import StrEnum

__all__ = ["CoordinateFrame"]


class CoordinateFrame(StrEnum):
    """Which frame (and therefore which unit) pose positions are expressed in."""

    IMAGE = "image"
    NORMALIZED = "normalized"
    HIP_CENTRED = "hip_centred"
    CAMERA = "camera"
    WORLD = "world"

    @property
    def unit(self) -> str:
        """Unit of positions in this frame: ``"px"``, ``"ratio"`` or ``"m"``."""
        if self is CoordinateFrame.IMAGE:
            return "px"
        if self is CoordinateFrame.NORMALIZED:
            return "ratio"
        return "m"

    @property
    def is_metric(self) -> bool:
        """Whether positions in this frame are in metres."""
        return self.unit == "m"
