"""The sample video tracked once by AthleteTracker with BlazePose, for the tracking and swap tests.

Running BlazePose over the whole video is most of what the slow tests cost, so the run is cached for
the session: the tracking tests read its per-frame results, the swap tests its pose sequences.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass

import av
import numpy as np

from spacecomputer.domain._frames import CoordinateFrame
from spacecomputer.domain._pose_sequence import PoseSequence
from spacecomputer.vision._pose import BlazePoseEstimator
from spacecomputer.vision._tracking import AthleteTracker, TrackedPose
from tests.conftest import SAMPLE_VIDEO

FPS = 30.0


@dataclass(frozen=True)
class TrackedVideo:
    """The tracker's answer for every frame, and its poses as image and world sequences."""

    results: list[TrackedPose]
    tracks_started: int
    image: PoseSequence
    world: PoseSequence


@functools.cache
def track_sample_video() -> TrackedVideo:
    """Track the whole sample video: BlazePose on full frames (tracking mode) and on crops (static)."""
    results, timestamps = [], []
    with (
        av.open(str(SAMPLE_VIDEO)) as container,
        BlazePoseEstimator() as full,
        BlazePoseEstimator(static_image_mode=True) as crop,
    ):
        tracker = AthleteTracker(full, crop)
        for video_frame in container.decode(video=0):
            results.append(tracker.update(np.asarray(video_frame.to_ndarray(format="rgb24"), dtype=np.uint8)))
            timestamps.append(float(video_frame.time))
    poses = [r.pose for r in results]
    common = {"timestamps_s": timestamps, "frame_indices": np.arange(len(poses)), "fps": FPS}
    return TrackedVideo(
        results=results,
        tracks_started=tracker.tracks_started,
        image=PoseSequence.from_pose_frames(poses, frame=CoordinateFrame.IMAGE, **common),  # type: ignore[arg-type]
        world=PoseSequence.from_pose_frames(poses, frame=CoordinateFrame.HIP_CENTRED, **common),  # type: ignore[arg-type]
    )
