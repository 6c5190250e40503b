"""Seam checks between parallel chunks, on real PoseFrame objects."""

from __future__ import annotations

import math

import numpy as np

from spacecomputer._chunks import ChunkPlan, EstimatedFrames
from spacecomputer._estimation import _same_athlete_at_seam, _seed_box
from spacecomputer.domain import PoseFrame


def _person(cx_px: float) -> PoseFrame:
    image = np.zeros((33, 3))
    image[:, 0] = cx_px + np.linspace(-40, 40, 33)
    image[:, 1] = np.linspace(100, 300, 33)
    return PoseFrame(image_px=image, world_m=np.zeros((33, 3)), visibility=np.ones(33))


PLAN = ChunkPlan(index=1, decode_from_s=1.0, keep_from_s=2.0, keep_until_s=math.inf)


def _frames(first: int, last: int, poses: dict[int, PoseFrame | None]) -> EstimatedFrames:
    frames = EstimatedFrames()
    for i in range(first, last):
        frames.append(i, i / 10, poses.get(i), "tracked")
    return frames


def test_same_person_in_the_warm_up_agrees() -> None:
    previous = _frames(0, 20, {i: _person(200 + i) for i in range(20)})
    current = _frames(10, 30, {i: _person(202 + i) for i in range(10, 30)})
    assert _same_athlete_at_seam(previous, current, PLAN)


def test_another_person_or_nobody_in_the_warm_up_disagrees() -> None:
    previous = _frames(0, 20, {i: _person(200) for i in range(20)})
    assert not _same_athlete_at_seam(previous, _frames(10, 30, {i: _person(700) for i in range(10, 30)}), PLAN)
    assert not _same_athlete_at_seam(previous, _frames(10, 30, {}), PLAN)


def test_nothing_to_compare_counts_as_agreement() -> None:
    assert _same_athlete_at_seam(_frames(0, 20, {}), _frames(10, 30, {15: _person(5)}), PLAN)


def test_seed_box_is_the_first_pose_at_or_after_the_warm_up_start() -> None:
    previous = _frames(0, 20, {5: _person(100), 12: _person(300), 15: _person(400)})
    box = _seed_box(previous, PLAN)
    assert box is not None
    assert (box[0] + box[2]) / 2 == 300
    assert _seed_box(_frames(0, 20, {3: _person(1)}), PLAN) is None
