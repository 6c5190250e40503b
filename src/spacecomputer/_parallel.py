"""Run one task per chunk in worker processes, with progress reported back to the parent.

Workers are started with ``spawn``: MediaPipe and FFmpeg hold threads and native state that must not be
copied by ``fork``. Each task receives a ``progress(n)`` callable that counts frames done; in the
parent, :func:`run_chunked` forwards those counts to ``on_progress`` while it waits.

:func:`run_chunked` is the default :class:`ChunkRunner`; a job worker passes another (the job's executor: Ray
tasks on the cluster the job runs on) with the same signature and the same results.
"""

from __future__ import annotations

import multiprocessing
import queue as queue_module
from collections.abc import Callable, Sequence
from concurrent.futures import ProcessPoolExecutor
from typing import Any, Protocol, TypeVar

__all__ = ["ChunkRunner", "ProgressCallback", "ProgressTick", "run_chunked", "stage_counter"]

R = TypeVar("R")
ProgressTick = Callable[[int], None]
"""Called with a number of frames just done."""
ProgressCallback = Callable[[str, int, int | None], None]
"""Called as ``progress(stage, done, total)``; ``total`` is ``None`` when unknown."""

_worker_queue: Any = None


class ChunkRunner(Protocol):
    """Runs one task per chunk somewhere and returns the results in argument order (:func:`run_chunked`'s contract).

    ``task(*args, progress=tick)`` is called once per argument tuple, at most ``workers`` at a time; ``on_progress``
    receives the frame counts the tasks report (possibly only when each task ends). A single task may run in the
    caller's process unless ``isolate``. An exception of a task is raised to the caller as it was raised.
    """

    def __call__(
        self,
        task: Callable[..., R],
        arguments: Sequence[tuple[Any, ...]],
        *,
        workers: int,
        on_progress: ProgressTick,
        isolate: bool = False,
    ) -> list[R]:
        """Return ``[task(*args, progress=…) for args in arguments]``, computed where this runner runs tasks."""
        ...


def _init_worker(channel: Any) -> None:
    global _worker_queue  # set once per worker process by the pool initialiser
    _worker_queue = channel


def _report(n: int) -> None:
    if _worker_queue is not None:
        _worker_queue.put(n)


def _call(task: Callable[..., R], args: tuple[Any, ...]) -> R:
    return task(*args, progress=_report)


def run_chunked(
    task: Callable[..., R],
    arguments: Sequence[tuple[Any, ...]],
    *,
    workers: int,
    on_progress: ProgressTick,
    isolate: bool = False,
) -> list[R]:
    """Return ``[task(*args, progress=…) for args in arguments]``, computed in ``workers`` processes.

    ``task`` must be a module-level function (it is pickled); results come back in argument order. An
    exception in any task is raised here once every task has ended; one raised by ``on_progress`` (a job's
    cancellation) is raised at once. A single task runs in this process unless ``isolate`` (e.g. to keep
    MediaPipe's memory out of a long-lived parent).
    """
    if not isolate and (workers <= 1 or len(arguments) <= 1):
        return [task(*args, progress=on_progress) for args in arguments]
    context = multiprocessing.get_context("spawn")
    channel = context.Queue()
    pool = ProcessPoolExecutor(
        max_workers=max(1, min(workers, len(arguments))),
        mp_context=context,
        initializer=_init_worker,
        initargs=(channel,),
    )
    try:
        futures = [pool.submit(_call, task, args) for args in arguments]
        while not all(f.done() for f in futures):
            try:
                on_progress(channel.get(timeout=0.2))
            except queue_module.Empty:
                continue
        while True:
            try:
                on_progress(channel.get_nowait())
            except queue_module.Empty:
                break
        results = [f.result() for f in futures]
    except BaseException:
        # e.g. a job's progress callback raising JobCancelled: drop the chunks not started and return at once
        # (those running finish in their processes, which then exit) instead of waiting for every chunk.
        pool.shutdown(wait=False, cancel_futures=True)
        raise
    pool.shutdown(wait=True)
    return results


def stage_counter(stage: str, total: int | None, progress: ProgressCallback | None) -> ProgressTick:
    """Return a ``tick(n)`` that adds up frames done and reports ``progress(stage, done, total)``."""
    done = 0

    def tick(n: int) -> None:
        nonlocal done
        done += n
        if progress is not None:
            progress(stage, done, total or None)

    return tick
