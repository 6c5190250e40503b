"""One long video, one analysis job: wall time and speed-up with 1, 2 and 4 chunk workers on the local pool and Ray.

Builds a ``--repeat``-times concatenation of the sample video (about 30 s for 4) with PyAV, stores it in a local blob
store, and runs one ``analysis`` job of it through a :class:`~spacecomputer.jobs.JobRunner` per configuration: the
executor (``LocalProcessExecutor(1, chunk_workers=w)`` or ``RayExecutor(num_cpus=max(workers), chunk_workers=w)``)
splits the pose estimation into at most ``w`` chunks of at least ``--min-chunk-s`` that run at once
(``spacecomputer.jobs.Chunking``). Prints the job's wall time (enqueue to end, process start-up included) and the
speed-up over one chunk worker of the same executor. CPU-bound: on a machine of ``c`` cores the speed-up stops near
``c``; the biomechanics and the uploads stay in the job's process, the overlay uses up to ``w`` processes there.

Run: ``.venv/bin/python benchmarks/chunked_job.py [--repeat 4] [--workers 1 2 4] [--executors local ray]``.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import tempfile
import time
import uuid
from fractions import Fraction
from pathlib import Path

import av

from spacecomputer.jobs import (
    BlobStoreConfig,
    Executor,
    JobQueue,
    JobRunner,
    LocalProcessExecutor,
    WorkerConfig,
    analysis_payload,
)
from spacecomputer.storage import Database, JobStatus, LocalBlobStore, migrate

SAMPLE = Path(__file__).resolve().parents[1] / "data" / "videos" / "sports2d-demo.mp4"


def concatenate(source: Path, target: Path, repeat: int) -> float:
    """Write ``source``'s frames ``repeat`` times into ``target`` (H.264, same rate); return its duration, seconds."""
    with av.open(str(source)) as container:
        stream = container.streams.video[0]
        rate = stream.average_rate or Fraction(30)
        frames = [frame.to_ndarray(format="rgb24") for frame in container.decode(video=0)]
    with av.open(str(target), "w") as out:
        video = out.add_stream("libx264", rate=rate, options={"crf": "18"})
        video.height, video.width = frames[0].shape[:2]
        video.pix_fmt = "yuv420p"
        for index in range(repeat * len(frames)):
            frame = av.VideoFrame.from_ndarray(frames[index % len(frames)], format="rgb24")
            frame.pts, frame.time_base = index, 1 / Fraction(rate)
            out.mux(video.encode(frame))
        out.mux(video.encode())
    return repeat * len(frames) / float(rate)


async def one_job(url: str, executor: Executor, blobs: Path, video: Path) -> tuple[float, dict[str, object]]:
    """Return the wall time, seconds, of one analysis job of ``video``, and its result."""
    db = Database.from_url(url)
    try:
        await migrate(db)
        store = LocalBlobStore(blobs)
        key = f"bench/{uuid.uuid4()}/video"
        await store.put_bytes(key, video.read_bytes())
        queue = JobQueue(db)
        config = WorkerConfig(url, blob_store=BlobStoreConfig("local", root=str(blobs)))
        async with JobRunner(queue, executor, config=config, poll_s=0.05):
            started = time.perf_counter()
            payload = analysis_payload(video_key=key, output_prefix=f"{key}-out/", options={"height_m": 1.65})
            job_id = await queue.enqueue("analysis", payload, owner_id=None)
            while (job := await queue.get(job_id)).status in (JobStatus.QUEUED, JobStatus.RUNNING):
                await asyncio.sleep(0.05)
            wall_s = time.perf_counter() - started
        if job.status != JobStatus.SUCCEEDED or job.result is None:
            raise RuntimeError(f"the analysis job ended {job.status}: {job.error}")
        return wall_s, job.result
    finally:
        await db.dispose()


def make_executor(kind: str, workers: int, ray_cpus: int, min_chunk_s: float) -> Executor:
    if kind == "local":
        return LocalProcessExecutor(1, chunk_workers=workers, min_chunk_s=min_chunk_s)
    from spacecomputer.jobs import RayExecutor

    return RayExecutor(
        num_cpus=ray_cpus, chunk_workers=workers, min_chunk_s=min_chunk_s, init_options={"log_to_driver": False}
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=4, help="copies of the 7.7 s sample video")
    parser.add_argument("--workers", type=int, nargs="+", default=[1, 2, 4])
    parser.add_argument("--executors", nargs="+", default=["local", "ray"], choices=["local", "ray"])
    parser.add_argument("--min-chunk-s", type=float, default=5.0, help="shortest part of the video worth a chunk")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as folder:
        video = Path(folder) / "long.mp4"
        duration_s = concatenate(SAMPLE, video, args.repeat)
        cores = len(os.sched_getaffinity(0))
        print(f"one analysis job of a {duration_s:.1f} s video; this machine has {cores} cores")
        print(f"{'executor':<8} {'workers':>7} {'chunks':>6} {'wall s':>8} {'speed-up':>9}", flush=True)
        for kind in args.executors:
            baseline = None
            for workers in args.workers:
                executor = make_executor(kind, workers, max(args.workers), args.min_chunk_s)
                url = f"sqlite:///{Path(folder) / f'{kind}-{workers}.db'}"
                try:
                    wall_s, result = asyncio.run(one_job(url, executor, Path(folder) / "blobs", video))
                finally:
                    executor.shutdown()
                baseline = baseline or wall_s
                print(
                    f"{kind:<8} {workers:>7} {result['chunks']!s:>6} {wall_s:>8.1f} {baseline / wall_s:>8.2f}x",
                    flush=True,
                )


if __name__ == "__main__":
    main()
