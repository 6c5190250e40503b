"""The standing athlete of ``tests/biomech/scene.py`` as a short still sequence, for the pose-lab tests."""

from __future__ import annotations

import numpy as np

from spacecomputer.domain import PoseSequence
from tests.biomech.scene import sequence_of, standing_pose

MASS_KG = 70.0


def standing_sequence(frames: int = 5) -> PoseSequence:
    """``frames`` identical frames of the upright template at 30 fps."""
    return sequence_of(np.repeat(standing_pose()[None], frames, axis=0), 30.0)
