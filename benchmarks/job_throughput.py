"""Job throughput and speed-up with the number of workers: the local process pool and Ray, same jobs, same queue.

Runs ``--jobs`` ``sleep`` jobs of ``--seconds`` each through a :class:`~spacecomputer.jobs.JobRunner` whose
concurrency equals the worker count, for 1, 2 and 4 workers on each executor, and prints jobs per second and the
speed-up over one worker of the same executor. Each configuration gets a fresh SQLite queue (or a PostgreSQL
database given with ``--database-url``: its ``jobs`` table is emptied first) and warm workers (a warm-up
round runs first, so process start-up is not timed).

A ``sleep`` job holds a worker without using its CPU, so this measures what the queue, the runner and the
executor add per job and how well they keep workers busy — not CPU-bound scaling, which on this 2-core machine
stops near 2× for real analyses. The ideal speed-up with ``w`` workers is ``w``.

Run: ``.venv/bin/python benchmarks/job_throughput.py [--jobs 24] [--seconds 0.5] [--executors local ray]``.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import tempfile
import time
from pathlib import Path

import sqlalchemy as sa

from spacecomputer.jobs import TEST_HANDLERS, Executor, JobQueue, JobRunner, LocalProcessExecutor, WorkerConfig
from spacecomputer.storage import Database, Job, JobStatus, migrate

ENDS = (JobStatus.SUCCEEDED, JobStatus.FAILED, JobStatus.CANCELLED)


async def drain(queue: JobQueue, count: int, timeout_s: float) -> None:
    deadline = time.monotonic() + timeout_s
    while True:
        depth = await queue.depth()
        if sum(depth[status] for status in ENDS) >= count:
            if depth[JobStatus.SUCCEEDED] < count:
                raise RuntimeError(f"not every job succeeded: {depth}")
            return
        if time.monotonic() > deadline:
            raise TimeoutError(f"jobs still pending after {timeout_s} s: {depth}")
        await asyncio.sleep(0.01)


async def measure(url: str, executor: Executor, *, workers: int, jobs: int, seconds: float, poll_s: float) -> float:
    """Return the wall time, seconds, of ``jobs`` sleep jobs through a runner of ``workers`` concurrency."""
    db = Database.from_url(url)
    try:
        await migrate(db)
        async with db.session() as session, session.begin():
            await session.execute(sa.delete(Job))
        queue = JobQueue(db)
        config = WorkerConfig(url)
        runner = JobRunner(
            queue, executor, config=config, handlers=TEST_HANDLERS, concurrency=workers, heartbeat_s=1.0, poll_s=poll_s
        )
        async with runner:
            for _ in range(workers):  # warm-up: every worker process started and its imports done
                await queue.enqueue("sleep", {"seconds": 0.2}, owner_id=None)
            await drain(queue, workers, timeout_s=120)
            async with db.session() as session, session.begin():
                await session.execute(sa.delete(Job))
            for _ in range(jobs):
                await queue.enqueue("sleep", {"seconds": seconds}, owner_id=None)
            started = time.perf_counter()
            await drain(queue, jobs, timeout_s=60 + 4 * jobs * seconds)
            return time.perf_counter() - started
    finally:
        await db.dispose()


def make_executor(kind: str, workers: int, ray_cpus: int) -> Executor:
    if kind == "local":
        return LocalProcessExecutor(workers)
    from spacecomputer.jobs import RayExecutor

    return RayExecutor(num_cpus=ray_cpus, init_options={"log_to_driver": False})


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--jobs", type=int, default=24)
    parser.add_argument("--seconds", type=float, default=0.5)
    parser.add_argument("--workers", type=int, nargs="+", default=[1, 2, 4])
    parser.add_argument("--executors", nargs="+", default=["local", "ray"], choices=["local", "ray"])
    parser.add_argument("--poll-s", type=float, default=0.02, help="the runner's loop interval, seconds")
    parser.add_argument("--database-url", default=None, help="default: a temporary SQLite file")
    args = parser.parse_args()
    cores = len(os.sched_getaffinity(0))
    print(f"{args.jobs} sleep jobs of {args.seconds} s; this machine has {cores} cores")
    print("sleep jobs hold a worker without using CPU: the figures measure queue and executor overhead.")
    print(f"{'executor':<8} {'workers':>7} {'wall s':>8} {'jobs/s':>8} {'speed-up':>9} {'ideal':>6} {'per job ms':>11}")
    with tempfile.TemporaryDirectory() as folder:
        for kind in args.executors:
            ray_executor = make_executor(kind, 0, max(args.workers)) if kind == "ray" else None
            baseline = None
            for workers in args.workers:
                url = args.database_url or f"sqlite:///{Path(folder) / f'{kind}-{workers}.db'}"
                executor = ray_executor or make_executor(kind, workers, 0)
                try:
                    wall_s = asyncio.run(
                        measure(
                            url, executor, workers=workers, jobs=args.jobs, seconds=args.seconds, poll_s=args.poll_s
                        )
                    )
                finally:
                    if ray_executor is None:
                        executor.shutdown()
                rate = args.jobs / wall_s
                baseline = baseline or rate
                overhead_ms = 1000 * (wall_s * workers / args.jobs - args.seconds)
                print(
                    f"{kind:<8} {workers:>7} {wall_s:>8.2f} {rate:>8.2f} {rate / baseline:>8.2f}x "
                    f"{workers:>5}x {overhead_ms:>11.0f}"
                )
            if ray_executor is not None:
                ray_executor.shutdown()
    print("per job ms: wall time × workers / jobs − sleep time, the runner's and executor's cost per job.")


if __name__ == "__main__":
    main()
