"""Run one task per chunk in worker processes, with progress reported back to the parent.

Workers are started with ``spawn``: MediaPipe and FFmpeg hold threads and native state that must not be
copied by ``fork``. Each task receives a ``progress(n)`` callable that counts frames done; in the
parent, :func:`run_chunked` forwards those counts to ``on_progress`` while it waits.
"""

from __future__ import annotations

import multiprocessing
import queue as queue_module
from collections.abc import Callable, Sequence
from concurrent.futures import ProcessPoolExecutor
from typing import Any, TypeVar

__all__ = ["ProgressCallback", "ProgressTick", "run_chunked", "stage_counter"]

R = TypeVar("R")
ProgressTick = Callable[[int], None]
"""Called with a number of frames just done."""
ProgressCallback = Callable[[str, int, int | None], None]
"""Called as ``progress(stage, done, total)``; ``total`` is ``None`` when unknown."""

_worker_queue: Any = None


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
    exception in any task is raised here, after the pool has shut down. A single task runs in this
    process unless ``isolate`` (e.g. to keep MediaPipe's memory out of a long-lived parent).
    """
    if not isolate and (workers <= 1 or len(arguments) <= 1):
        return [task(*args, progress=on_progress) for args in arguments]
    context = multiprocessing.get_context("spawn")
    channel = context.Queue()
    with ProcessPoolExecutor(
        max_workers=max(1, workers), mp_context=context, initializer=_init_worker, initargs=(channel,)
    ) as pool:
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
        return [f.result() for f in futures]


def stage_counter(stage: str, total: int | None, progress: ProgressCallback | None) -> ProgressTick:
    """Return a ``tick(n)`` that adds up frames done and reports ``progress(stage, done, total)``."""
    done = 0

    def tick(n: int) -> None:
        nonlocal done
        done += n
        if progress is not None:
            progress(stage, done, total or None)

    return tick
