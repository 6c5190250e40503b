"""Domain types shared by every stage: the pose sequence, its skeleton and coordinate frames."""

from spacecomputer.domain._frames import CoordinateFrame
from spacecomputer.domain._pose_frame import PoseFrame
from spacecomputer.domain._pose_sequence import PoseFlag, PoseSequence
from spacecomputer.domain._skeleton import BLAZEPOSE_33, Skeleton

__all__ = ["BLAZEPOSE_33", "CoordinateFrame", "PoseFlag", "PoseFrame", "PoseSequence", "Skeleton"]
