"""Job kinds and their handlers: the analysis of an uploaded video, and two tiny kinds for tests and benchmarks.

A handler is a module-level function ``handler(context) -> dict`` (so that it pickles by reference to a pool
worker or a Ray task). A runner takes a mapping of kinds to handlers: :data:`PLATFORM_HANDLERS` (the default)
or :data:`TEST_HANDLERS`, or any other (``{**PLATFORM_HANDLERS, "mine": my_handler}`` adds a kind)::

    kind       payload                                                    result
    analysis   video_key, output_prefix, options (analysis_payload())    summary of the run, run_key, output keys
    echo       anything                                                   {"echo": payload, "pid", "attempt"}
    sleep      seconds, [fail_attempts], [trace_dir]                      {"slept_s", "pid", "attempt"}

``echo`` and ``sleep`` exist for tests and benchmarks only (in :data:`TEST_HANDLERS`, not in the platform's
runner, since ``trace_dir`` names a folder to write in): ``sleep`` reports progress (so it can be cancelled), can
fail its first ``fail_attempts`` runs on purpose, and with ``trace_dir`` (a local folder, for tests) writes a
file per run started and finished, named ``<job id>.<attempt>.started|finished`` and holding the process id.
"""

from __future__ import annotations

import asyncio
import math
import os
import tempfile
import time
from collections.abc import AsyncIterator, Mapping
from pathlib import Path
from types import MappingProxyType
from typing import TYPE_CHECKING, Any

from spacecomputer.errors import InvalidInputError
from spacecomputer.jobs._context import Handler, JobContext
from spacecomputer.storage import BlobStore, check_key, check_prefix

if TYPE_CHECKING:
    from spacecomputer.domain._analysis import Analysis as AnalysisDocument

__all__ = [
    "ANALYSIS_OPTION_TYPES",
    "ANALYSIS_STAGES",
    "PLATFORM_HANDLERS",
    "TEST_HANDLERS",
    "analysis_handler",
    "analysis_payload",
    "echo_handler",
    "run_summary",
    "sleep_handler",
]

ANALYSIS_OPTION_TYPES: Mapping[str, tuple[type, ...]] = MappingProxyType(
    {
        "height_m": (int, float),
        "mass_kg": (int, float),
        "sex": (str,),
        "sport": (str,),
        "cutoff_hz": (int, float, str),
        "max_gap_s": (int, float),
        "strict": (bool,),
        "min_quality_score": (int, float),
        "overlay": (bool,),
        "uncertainty_draws": (int,),
    }
)
"""The :class:`~spacecomputer.pipeline.AnalyzeOptions` a job may set, with their JSON types. Paths (calibration),
worker counts and limits are the platform's to choose, never a payload's."""

ANALYSIS_STAGES: Mapping[str, tuple[float, float]] = MappingProxyType(
    {
        "download": (0.00, 0.02),
        "probe": (0.02, 0.01),
        "estimate": (0.03, 0.57),
        "post-process": (0.60, 0.05),
        "biomechanics": (0.65, 0.10),
        "overlay": (0.75, 0.15),
        "write": (0.90, 0.03),
        "upload": (0.93, 0.07),
    }
)
"""Each stage's (start, share) of an analysis job's progress: our own weights, from where a short clip's time goes
(pose estimation dominates)."""

_READ_CHUNK_BYTES = 1024 * 1024


def analysis_payload(*, video_key: str, output_prefix: str, options: Mapping[str, Any] | None = None) -> dict[str, Any]:
    """Return a checked payload for an ``analysis`` job.

    Parameters
    ----------
    video_key
        Blob key of the uploaded video (``Video.storage_key``).
    output_prefix
        Blob prefix, ending in ``/``, under which every output file is stored (e.g. ``users/<owner>/analyses/<id>/``).
    options
        Analysis options by :data:`ANALYSIS_OPTION_TYPES` name (``{"height_m": 1.8, "sport": "sprint"}``).

    Raises
    ------
    InvalidInputError
        An invalid key or prefix, an unknown option or one of the wrong JSON type.

    """
    check_key(video_key)
    if not output_prefix.endswith("/"):
        raise InvalidInputError(f"output_prefix must end with '/'; got {output_prefix!r}")
    check_prefix(output_prefix)
    checked = dict(options or {})
    unknown = sorted(set(checked) - set(ANALYSIS_OPTION_TYPES))
    if unknown:
        raise InvalidInputError(
            f"unknown analysis options {unknown}; expected some of {sorted(ANALYSIS_OPTION_TYPES)}",
            details={"unknown": unknown},
        )
    for name, value in checked.items():
        types = ANALYSIS_OPTION_TYPES[name]
        if value is not None and (not isinstance(value, types) or (isinstance(value, bool) and bool not in types)):
            expected = " or ".join(t.__name__ for t in types)
            raise InvalidInputError(
                f"analysis option {name} must be {expected} or null; got {type(value).__name__}",
                details={"option": name},
            )
    if isinstance(checked.get("cutoff_hz"), str) and checked["cutoff_hz"] != "auto":
        raise InvalidInputError(f"analysis option cutoff_hz must be a number or 'auto'; got {checked['cutoff_hz']!r}")
    return {"video_key": video_key, "output_prefix": output_prefix, "options": checked}


def echo_handler(context: JobContext) -> dict[str, Any]:
    """Return the payload unchanged (for tests and benchmarks: proves a job ran, where, and which attempt)."""
    return {"echo": context.payload, "pid": os.getpid(), "attempt": context.attempt}


def _trace(context: JobContext, event: str) -> None:
    folder = context.payload.get("trace_dir")
    if folder is None:
        return
    # Written aside and renamed into place, so that a reader never sees the file before its process id (a test
    # that killed the process read an empty file once).
    final = Path(str(folder)) / f"{context.job_id}.{context.attempt}.{event}"
    partial = final.with_name(f".{final.name}.partial")
    partial.write_text(str(os.getpid()), encoding="utf-8")
    os.replace(partial, final)


def sleep_handler(context: JobContext) -> dict[str, Any]:
    """Sleep ``payload["seconds"]`` in 50 ms steps, reporting progress (for tests and benchmarks; module docstring).

    Raises
    ------
    InvalidInputError
        ``seconds`` missing, negative, not finite or over an hour.
    RuntimeError
        On purpose, while ``context.attempt <= payload["fail_attempts"]`` (a retryable failure).

    """
    seconds = context.payload.get("seconds")
    if isinstance(seconds, bool) or not isinstance(seconds, int | float) or not 0 <= seconds <= 3600:
        raise InvalidInputError(f"sleep needs 'seconds' in [0, 3600]; got {seconds!r}")
    _trace(context, "started")
    if context.attempt <= int(context.payload.get("fail_attempts", 0)):
        raise RuntimeError(f"failing attempt {context.attempt} on purpose (fail_attempts)")
    started = time.monotonic()
    while (elapsed := time.monotonic() - started) < seconds:
        context.progress(elapsed / seconds, "sleep")
        time.sleep(min(0.05, seconds - elapsed))
    _trace(context, "finished")
    return {"slept_s": round(time.monotonic() - started, 3), "pid": os.getpid(), "attempt": context.attempt}


async def _download(store: BlobStore, key: str, path: Path) -> None:
    with path.open("wb") as file:
        async for chunk in await store.open_range(key):
            file.write(chunk)


async def _file_chunks(path: Path) -> AsyncIterator[bytes]:
    with path.open("rb") as file:
        while chunk := file.read(_READ_CHUNK_BYTES):
            yield chunk


async def _upload(store: BlobStore, folder: Path, prefix: str, context: JobContext) -> list[str]:
    files = sorted(path for path in folder.rglob("*") if path.is_file())
    keys = []
    for index, path in enumerate(files):
        key = check_key(prefix + path.relative_to(folder).as_posix())
        await store.put_stream(key, _file_chunks(path))
        keys.append(key)
        start, share = ANALYSIS_STAGES["upload"]
        context.progress(start + share * (index + 1) / len(files), "upload")
    return keys


def _run_blobs(context: JobContext, work: Any) -> Any:
    """Run the coroutine function ``work(store)`` against a freshly opened blob store, closing it afterwards."""

    async def main() -> Any:
        store = context.open_blob_store()
        try:
            return await work(store)
        finally:
            await store.aclose()

    return asyncio.run(main())


def analysis_handler(context: JobContext) -> dict[str, Any]:
    """Analyse an uploaded video: fetch it, run :func:`~spacecomputer.pipeline.analyze_video`, store every output.

    The payload is :func:`analysis_payload`'s. A long video's pose estimation is split as ``context.chunking``
    says (its executor's chunk workers and runner). The video is copied to a temporary folder under a fixed name (no
    user-given name touches the disk); the run's files go under ``output_prefix``; the result is a small
    summary (frames, quality score, detection rate, movement family, chunks, output keys), which the queue also stores
    as the analysis's ``summary``.

    Raises
    ------
    SpaceComputerError
        Whatever the pipeline raises for the input (invalid or truncated video, nobody in view): the job fails
        for good with that message. ``UpstreamUnavailableError`` (a store not answering) is retried.

    """
    from spacecomputer.pipeline import AnalyzeOptions, analyze_video  # heavy: only workers that analyse load it

    payload = analysis_payload(
        video_key=str(context.payload.get("video_key")),
        output_prefix=str(context.payload.get("output_prefix")),
        options=context.payload.get("options") or {},
    )
    chunking = context.chunking
    options = AnalyzeOptions(**payload["options"], workers=chunking.workers, min_chunk_s=chunking.min_chunk_s)

    def on_stage(stage: str, done: int, total: int | None) -> None:
        start, share = ANALYSIS_STAGES.get(stage, (None, 0.0))
        if start is not None:
            within = min(1.0, done / total) if total else 0.0
            context.progress(start + share * within, stage)

    with tempfile.TemporaryDirectory(prefix="spacecomputer-job-") as scratch:
        video = Path(scratch) / "video"
        context.progress(0.0, "download")
        _run_blobs(context, lambda store: _download(store, payload["video_key"], video))
        started = time.perf_counter()
        result = analyze_video(
            video, options, out_dir=Path(scratch) / "run", progress=on_stage, chunk_runner=chunking.runner
        )
        context.check()  # a cancelled or lost run stores nothing
        prefix = payload["output_prefix"]
        keys: list[str] = _run_blobs(context, lambda store: _upload(store, Path(scratch) / "run", prefix, context))
    return {
        **run_summary(result.analysis, run_key=prefix, outputs=keys),
        "wall_s": round(time.perf_counter() - started, 3),
    }


def run_summary(document: AnalysisDocument, *, run_key: str, outputs: list[str]) -> dict[str, Any]:
    """Return the summary an analysis keeps of its run (an analysis job's result), read from its ``analysis.json``.

    ``wall_s`` is the pipeline's own time (an analysis job replaces it with the time it measured around the run).
    """
    score = document.quality.get("score")
    section = document.biomechanics
    return {
        "run_key": run_key,
        "frames": document.pose.frames,
        "frames_with_pose": document.pose.frames_with_pose,
        "detection_rate": document.pose.detection_rate,
        "quality_score": score if isinstance(score, float) and math.isfinite(score) else None,
        "quality_passed": bool(document.quality.get("passed")),
        "movement_family": None if section is None else section.movement.family,
        "duration_s": document.video.duration_s,
        "fps": document.video.fps,
        "warnings": len(document.warnings),
        "chunks": document.processing.chunking.chunks,
        "wall_s": document.throughput.wall_s,
        "outputs": outputs,
    }


PLATFORM_HANDLERS: Mapping[str, Handler] = MappingProxyType({"analysis": analysis_handler})
"""The job kinds the platform runs, by name (a runner's default)."""
TEST_HANDLERS: Mapping[str, Handler] = MappingProxyType(
    {**PLATFORM_HANDLERS, "echo": echo_handler, "sleep": sleep_handler}
)
"""The platform's kinds plus ``echo`` and ``sleep``, for tests and benchmarks."""
