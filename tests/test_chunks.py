import math

import numpy as np
import pytest

from spacecomputer._chunks import EstimatedFrames, plan_chunks, stitch
from spacecomputer.domain import PoseFrame


def test_plan_covers_the_video_without_overlap_in_kept_parts() -> None:
    plans = plan_chunks(12.0, n_chunks=3, warmup_s=1.0)
    assert [p.keep_from_s for p in plans] == [-math.inf, 4.0, 8.0]
    assert [p.keep_until_s for p in plans] == [4.0, 8.0, math.inf]
    assert [p.decode_from_s for p in plans] == [0.0, 3.0, 7.0]


@pytest.mark.parametrize("n", [0, 1])
def test_single_chunk_plan(n: int) -> None:
    (plan,) = plan_chunks(5.0, n_chunks=n, warmup_s=1.0)
    assert plan.decode_from_s == 0.0
    assert plan.keep_until_s == math.inf


def test_stitch_keeps_frame_order_and_drops_repeats() -> None:
    pose = PoseFrame(image_px=np.zeros((33, 3)), world_m=np.zeros((33, 3)), visibility=np.ones(33))
    a, b = EstimatedFrames(), EstimatedFrames()
    for i in range(4):
        a.append(i, i / 10, pose, "tracked")
    for i in range(3, 7):
        b.append(i, i / 10, None, "not_detected")
    out = stitch([a, b])
    assert out.frame_indices == list(range(7))
    assert out.statuses[3] == "tracked"
    assert out.selected(lambda t: t >= 0.5).frame_indices == [5, 6]
