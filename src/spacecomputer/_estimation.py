"""Pose estimation over a whole video: one streamed pass, or overlapping chunks in parallel processes.

BlazePose in tracking mode carries a region of interest from frame to frame, so a chunk that starts cold
differs from a continuous run for its first frames. Each chunk therefore starts ``CHUNK_WARMUP_S``
before the part it owns and throws the warm-up frames away. A chunk can also start on a different person
(the detector picks whoever it finds first): if its warm-up does not follow the athlete that the previous
chunk tracked over the same frames, it is tracked again from that athlete's box.
"""

from __future__ import annotations

import numpy as np

from spacecomputer._chunks import ChunkPlan, EstimatedFrames, plan_chunks, stitch
from spacecomputer._parallel import ChunkRunner, ProgressCallback, ProgressTick, run_chunked, stage_counter
from spacecomputer.domain import PoseFrame
from spacecomputer.domain._analysis import ChunkingInfo
from spacecomputer.vision._pose import BlazePoseEstimator
from spacecomputer.vision._quality import QualityAccumulator
from spacecomputer.vision._tracking import AthleteTracker
from spacecomputer.vision._video import VideoInfo, iter_frames

__all__ = ["CHUNK_WARMUP_S", "estimate_poses"]

CHUNK_WARMUP_S = 1.0
"""Seconds decoded before each chunk's own part so that BlazePose's tracking has settled at the seam."""

ESTIMATION_MAX_WIDTH_PX = 1280
"""Wider frames are downscaled before BlazePose. Its models see 224–256 px crops, while MediaPipe's
graph allocates several full-size buffers per input size: a 1080p frame costs about 230 MB more per
estimator than its model needs. Landmarks are mapped back to full-size pixels."""


def _estimate_range(
    info: VideoInfo,
    plan: ChunkPlan,
    sport: str | None,
    seed_box_px: tuple[float, float, float, float] | None = None,
    *,
    progress: ProgressTick,
) -> tuple[EstimatedFrames, QualityAccumulator]:
    """Track the athlete over one chunk, warm-up included; quality counts only the chunk's own frames.

    ``seed_box_px`` starts the track on a known athlete box instead of the first person detected.
    """
    scale = min(1.0, ESTIMATION_MAX_WIDTH_PX / info.width_px)
    frames = EstimatedFrames()
    quality: QualityAccumulator | None = None
    # One BlazePose graph serves both the full-frame tracking and the re-acquisition crops: a second
    # graph costs about 200 MB per worker, and a reset estimator detects afresh like a static one.
    with BlazePoseEstimator() as estimator:
        tracker = AthleteTracker(estimator, estimator)
        if seed_box_px is not None:
            tracker.follow(tuple(v * scale for v in seed_box_px))  # type: ignore[arg-type]
        max_width = ESTIMATION_MAX_WIDTH_PX if scale < 1.0 else None
        for video_frame in iter_frames(
            info, start_s=plan.decode_from_s, end_s=plan.keep_until_s, max_width_px=max_width
        ):
            if quality is None:
                height_px, width_px = video_frame.image.shape[:2]
                quality = QualityAccumulator(
                    width_px=width_px, height_px=height_px, fps=info.fps, sport=sport, source_width_px=info.width_px
                )
            tracked = tracker.update(video_frame.image)
            pose = tracked.pose
            if pose is not None and scale < 1.0:
                pose = pose.mapped_from_crop(offset_x_px=0.0, offset_y_px=0.0, scale=scale)
            frames.append(video_frame.index, video_frame.timestamp_s, pose, tracked.status.value)
            if video_frame.timestamp_s >= plan.keep_from_s:
                quality.add(video_frame.image, tracked.pose)
                progress(1)
    if quality is None:
        quality = QualityAccumulator(width_px=info.width_px, height_px=info.height_px, fps=info.fps, sport=sport)
    return frames, quality


SEAM_CHECK_FRAMES = 10
"""Frames at the end of a chunk's warm-up on which it must agree with the previous chunk."""

SEAM_AGREEMENT = 0.25
"""Largest median distance between the two chunks' athlete box centres, as a fraction of body size."""


def _same_athlete_at_seam(previous: EstimatedFrames, current: EstimatedFrames, plan: ChunkPlan) -> bool:
    """Whether ``current``'s warm-up follows the athlete that ``previous`` tracked over the same frames."""
    earlier = dict(zip(previous.frame_indices, previous.poses, strict=True))
    pairs: list[tuple[PoseFrame, PoseFrame | None]] = []
    for index, t, pose in zip(current.frame_indices, current.timestamps_s, current.poses, strict=True):
        before = earlier.get(index)
        if t < plan.keep_from_s and before is not None:
            pairs.append((before, pose))
    pairs = pairs[-SEAM_CHECK_FRAMES:]
    if not pairs:
        return True
    distances = []
    for before, after in pairs:
        if after is None:
            return False
        box_a, box_b = np.asarray(before.bbox_px()), np.asarray(after.bbox_px())
        size = max(box_a[2] - box_a[0], box_a[3] - box_a[1], 1.0)
        centre_shift = np.linalg.norm((box_a[:2] + box_a[2:]) / 2 - (box_b[:2] + box_b[2:]) / 2)
        distances.append(centre_shift / size)
    return bool(np.median(distances) <= SEAM_AGREEMENT)


def _ignore_progress(_: int) -> None:
    """Progress of a re-tracked chunk: its frames were counted the first time."""


def _seed_box(previous: EstimatedFrames, plan: ChunkPlan) -> tuple[float, float, float, float] | None:
    """Return the previous chunk's athlete box at the first frame of ``plan``'s warm-up that has one."""
    for t, pose in zip(previous.timestamps_s, previous.poses, strict=True):
        if t >= plan.decode_from_s and pose is not None:
            return pose.bbox_px()
    return None


def estimate_poses(
    info: VideoInfo,
    *,
    workers: int = 1,
    sport: str | None = None,
    progress: ProgressCallback | None = None,
    min_chunk_s: float = 10.0,
    chunk_runner: ChunkRunner = run_chunked,
) -> tuple[EstimatedFrames, QualityAccumulator, ChunkingInfo]:
    """Decode the video once and track the athlete in every frame; returns frames, quality, chunking.

    With ``workers > 1`` the video is cut into overlapping chunks estimated in parallel by ``chunk_runner``
    (default: processes of this machine; a job passes its executor's), at most one per ``min_chunk_s`` of
    video (see :mod:`spacecomputer._chunks`); the result is stitched in frame order. A chunk whose warm-up
    follows another person than the previous chunk did over the same frames is tracked again, sequentially,
    from the previous chunk's athlete box.
    """
    tick = stage_counter("estimate", info.frame_count, progress)
    n_chunks = max(1, min(workers, int(info.duration_s // max(min_chunk_s, 2 * CHUNK_WARMUP_S))))
    plans = plan_chunks(info.duration_s, n_chunks=n_chunks, warmup_s=CHUNK_WARMUP_S)
    results = chunk_runner(_estimate_range, [(info, plan, sport) for plan in plans], workers=n_chunks, on_progress=tick)
    reconciled = 0
    for i in range(1, n_chunks):
        previous, current = results[i - 1][0], results[i][0]
        if _same_athlete_at_seam(previous, current, plans[i]):
            continue
        # The chunk started on someone else: track it again from the athlete the previous chunk followed.
        seed = _seed_box(previous, plans[i])
        if seed is not None:
            (results[i],) = chunk_runner(
                _estimate_range, [(info, plans[i], sport, seed)], workers=1, on_progress=_ignore_progress, isolate=True
            )
            reconciled += 1
    quality = results[0][1]
    for _, other in results[1:]:
        quality.merge(other)
    owned = [plan.owned(frames) for (frames, _), plan in zip(results, plans, strict=True)]
    return stitch(owned), quality, ChunkingInfo(chunks=n_chunks, seams_reconciled=reconciled)
