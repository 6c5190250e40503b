"""Skeleton definitions: joint names, bones and left/right pairs.

The only skeleton today is MediaPipe BlazePose's 33 landmarks (indices as in MediaPipe's
``PoseLandmark`` enum). Names are ``snake_case`` with the side first (``left_knee``); "left" is the
athlete's own left, not the viewer's.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cached_property

__all__ = ["BLAZEPOSE_33", "Skeleton"]


@dataclass(frozen=True)
class Skeleton:
    """A named set of joints connected by bones.

    Parameters
    ----------
    name
        Stable identifier written into every output (``"blazepose_33"``).
    joint_names
        One name per joint, in array order.
    bones
        Pairs of joint indices drawn and measured as rigid segments.

    """

    name: str
    joint_names: tuple[str, ...]
    bones: tuple[tuple[int, int], ...]

    def __post_init__(self) -> None:
        n = len(self.joint_names)
        if len(set(self.joint_names)) != n:
            raise ValueError(f"skeleton {self.name!r}: joint names must be unique")
        for a, b in self.bones:
            if not (0 <= a < n and 0 <= b < n) or a == b:
                raise ValueError(f"skeleton {self.name!r}: bone ({a}, {b}) is not a pair of distinct joints")

    @property
    def n_joints(self) -> int:
        """Number of joints."""
        return len(self.joint_names)

    def index(self, joint_name: str) -> int:
        """Return the array index of ``joint_name``; ``KeyError`` names the known joints if it is unknown."""
        try:
            return self._index_by_name[joint_name]
        except KeyError:
            raise KeyError(
                f"unknown joint {joint_name!r} for skeleton {self.name!r}; known: {', '.join(self.joint_names)}"
            ) from None

    @cached_property
    def _index_by_name(self) -> dict[str, int]:
        return {name: i for i, name in enumerate(self.joint_names)}

    @cached_property
    def left_right_pairs(self) -> tuple[tuple[int, int], ...]:
        """Index pairs (left, right) of joints whose names differ only by ``left``/``right``.

        The side may be a prefix (``left_knee``) or a suffix (``mouth_left``).
        """
        pairs = []
        for i, name in enumerate(self.joint_names):
            if name.startswith("left_"):
                partner = "right_" + name.removeprefix("left_")
            elif name.endswith("_left"):
                partner = name.removesuffix("_left") + "_right"
            else:
                continue
            if partner in self._index_by_name:
                pairs.append((i, self._index_by_name[partner]))
        return tuple(pairs)

    @cached_property
    def mirror_permutation(self) -> tuple[int, ...]:
        """Index map that exchanges every left joint with its right partner (centre joints map to themselves)."""
        perm = list(range(self.n_joints))
        for left, right in self.left_right_pairs:
            perm[left], perm[right] = right, left
        return tuple(perm)


_BLAZEPOSE_NAMES = (
    "nose",
    "left_eye_inner",
    "left_eye",
    "left_eye_outer",
    "right_eye_inner",
    "right_eye",
    "right_eye_outer",
    "left_ear",
    "right_ear",
    "mouth_left",
    "mouth_right",
    "left_shoulder",
    "right_shoulder",
    "left_elbow",
    "right_elbow",
    "left_wrist",
    "right_wrist",
    "left_pinky",
    "right_pinky",
    "left_index",
    "right_index",
    "left_thumb",
    "right_thumb",
    "left_hip",
    "right_hip",
    "left_knee",
    "right_knee",
    "left_ankle",
    "right_ankle",
    "left_heel",
    "right_heel",
    "left_foot_index",
    "right_foot_index",
)

# The body connections of MediaPipe's POSE_CONNECTIONS (face outline included).
_BLAZEPOSE_BONES = (
    (0, 1), (1, 2), (2, 3), (3, 7), (0, 4), (4, 5), (5, 6), (6, 8), (9, 10),
    (11, 12), (11, 13), (13, 15), (15, 17), (15, 19), (15, 21), (17, 19),
    (12, 14), (14, 16), (16, 18), (16, 20), (16, 22), (18, 20),
    (11, 23), (12, 24), (23, 24),
    (23, 25), (24, 26), (25, 27), (26, 28), (27, 29), (28, 30), (29, 31), (30, 32), (27, 31), (28, 32),
)  # fmt: skip

BLAZEPOSE_33 = Skeleton(name="blazepose_33", joint_names=_BLAZEPOSE_NAMES, bones=_BLAZEPOSE_BONES)
"""MediaPipe BlazePose's 33 landmarks (the athlete's own left and right)."""
