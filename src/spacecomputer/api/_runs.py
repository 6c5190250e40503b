"""A succeeded analysis's run files in the blob store: the allow-list, cached reads, copies, and deleting it all.

The run of analysis ``a`` of user ``u`` lives under ``users/<u>/analyses/<a>/`` (the job uploads ``spacecomputer
analyze``'s output folder there). Only the files of :data:`RUN_FILES` are ever served. The derived documents —
``analysis.json`` as text, ``metrics.csv`` as text and as JSON columns, the events — are cached under the owner's
cache prefix (``user:<u>:analysis:<a>:``) for :data:`CACHE_TTL_S`; a run never changes once stored, so deleting the
analysis is the only invalidation. A cache that fails is bypassed: the read goes to the blob store. In front of the
cache, this process keeps the text of the documents it read last (``_memo``), which spares decoding them again.

That an analysis is the caller's and has succeeded is cached there too (:func:`owned_run`), for
:data:`RUN_FACTS_TTL_S` only: a cached read of a run's documents then touches no database. The bound: a deleted
analysis stays readable by its owner for at most that long through an API process that missed the deletion (another
process's in-process cache, a cache that failed while the entries were dropped, a read that raced the deletion).
"""

from __future__ import annotations

import asyncio
import csv
import io
import json
import logging
import math
import time
import uuid
from collections.abc import Awaitable, Callable, Mapping
from pathlib import Path
from types import MappingProxyType
from typing import Any

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncSession

from spacecomputer.api._platform import Platform, analysis_blob_prefix, user_cache_prefix
from spacecomputer.api._platform_metrics import PlatformMetrics
from spacecomputer.errors import ConflictError, NotFoundError, UpstreamUnavailableError
from spacecomputer.storage import Analysis, Job, JobStatus

__all__ = [
    "CACHE_TTL_S",
    "RUN_FACTS_TTL_S",
    "RUN_FILES",
    "RunFiles",
    "analysis_cache_prefix",
    "cached_text",
    "delete_analysis",
    "metrics_columns",
    "owned_analysis",
    "owned_run",
]

RUN_FILES: Mapping[str, str] = MappingProxyType(
    {
        "analysis.json": "application/json",
        "quality.json": "application/json",
        "metrics.csv": "text/csv; charset=utf-8",
        "poses.parquet": "application/vnd.apache.parquet",
        "poses_image.parquet": "application/vnd.apache.parquet",
        "overlay.mp4": "video/mp4",
        "report.html": "text/html; charset=utf-8",
        "markers.trc": "text/plain; charset=utf-8",
        "kinematics.mot": "text/plain; charset=utf-8",
    }
)
"""The files of a run that may be downloaded, with their media types (what ``spacecomputer analyze`` writes)."""
CACHE_TTL_S = 3600.0
"""Lifetime of a cached run document, seconds (our own choice: bounds the cache, not correctness)."""
RUN_FACTS_TTL_S = 30.0
"""How long a read may take "this succeeded analysis is the caller's" from the cache, seconds (our own choice,
the same bound as the account facts of ``_auth``; module docstring)."""
_WAIT_POLL_S = 0.1
_log = logging.getLogger(__name__)


async def owned_analysis(session: AsyncSession, owner_id: uuid.UUID, analysis_id: uuid.UUID) -> Analysis:
    """Return analysis ``analysis_id`` if ``owner_id`` owns it.

    Raises
    ------
    NotFoundError
        No such analysis, or another user's (the same answer: existence is not revealed).

    """
    analysis = await session.get(Analysis, analysis_id)
    if analysis is None or analysis.owner_id != owner_id:
        raise NotFoundError(
            f"analysis {analysis_id} not found", details={"resource": "analysis", "id": str(analysis_id)}
        )
    return analysis


def analysis_cache_prefix(owner_id: uuid.UUID, analysis_id: uuid.UUID) -> str:
    """Return the cache prefix of every entry about one analysis (``user:<owner>:analysis:<id>:``)."""
    return f"{user_cache_prefix(owner_id)}analysis:{analysis_id}:"


async def cached_text(
    platform: Platform,
    metrics: PlatformMetrics,
    *,
    key: str,
    cache_name: str,
    compute: Callable[[], Awaitable[str]],
    ttl_s: float = CACHE_TTL_S,
) -> str:
    """Return the text cached at ``key``, or ``compute()`` it and cache it; a failing cache is bypassed."""
    try:
        cached = await platform.cache.get(key)
    except UpstreamUnavailableError:
        metrics.count_cache(cache_name, "error")
        return await compute()
    if isinstance(cached, str):
        metrics.count_cache(cache_name, "hit")
        return cached
    metrics.count_cache(cache_name, "miss")
    text = await compute()
    try:
        await platform.cache.set(key, text, ttl_s=ttl_s)
    except UpstreamUnavailableError:
        _log.warning("could not cache %s", key)
    return text


def _number(value: str) -> float | int | None:
    try:
        return int(value)
    except ValueError:
        pass
    try:
        number = float(value)
    except ValueError:
        return None
    return number if math.isfinite(number) else None


def metrics_columns(text: str) -> dict[str, Any]:
    r"""Return ``metrics.csv`` as ``{"rows": n, "columns": {name: [values]}}``; empty or non-finite cells are ``None``.

    Examples
    --------
    >>> metrics_columns("row,time_s,knee_flexion_deg\n0,0,12.5\n1,0.0333,nan\n")
    {'rows': 2, 'columns': {'row': [0, 1], 'time_s': [0, 0.0333], 'knee_flexion_deg': [12.5, None]}}

    """
    reader = csv.reader(io.StringIO(text))
    header = next(reader, [])
    columns: dict[str, list[float | int | None]] = {name: [] for name in header}
    rows = 0
    for row in reader:
        if not row:
            continue
        rows += 1
        cells = row + [""] * (len(header) - len(row))
        for name, cell in zip(header, cells, strict=False):
            columns[name].append(_number(cell))
    return {"rows": rows, "columns": columns}


class RunFiles:
    """The run files of one succeeded analysis, read through the cache where they are documents.

    Built by :meth:`of` from the analysis row, or by :func:`owned_run`; the constructor itself trusts that analysis
    ``analysis_id`` of ``owner_id`` has succeeded.
    """

    def __init__(
        self, platform: Platform, metrics: PlatformMetrics, *, owner_id: uuid.UUID, analysis_id: uuid.UUID
    ) -> None:
        self._platform = platform
        self._metrics = metrics
        self._prefix = analysis_blob_prefix(owner_id, analysis_id)
        self._cache_prefix = analysis_cache_prefix(owner_id, analysis_id)

    @classmethod
    def of(cls, platform: Platform, metrics: PlatformMetrics, analysis: Analysis) -> RunFiles:
        """Return the run files of ``analysis``.

        Raises
        ------
        ConflictError
            The analysis has not succeeded (409: its files do not exist yet, or never will).

        """
        if analysis.status != JobStatus.SUCCEEDED or analysis.run_key is None:
            raise ConflictError(
                f"analysis {analysis.id} is {analysis.status.value}: its outputs exist once it has succeeded",
                details={"analysis_id": str(analysis.id), "status": analysis.status.value},
            )
        return cls(platform, metrics, owner_id=analysis.owner_id, analysis_id=analysis.id)

    def key(self, name: str) -> str:
        """Return the blob key of run file ``name``.

        Raises
        ------
        NotFoundError
            ``name`` is not one of :data:`RUN_FILES` (the valid names are listed).

        """
        if name not in RUN_FILES:
            raise NotFoundError(
                f"no artefact {name!r}; an analysis has {', '.join(RUN_FILES)}",
                details={"name": name[:100], "valid": list(RUN_FILES)},
            )
        return self._prefix + name

    async def _text(self, name: str) -> str:
        try:
            data = await self._platform.blobs.read_bytes(self.key(name))
        except NotFoundError:
            raise NotFoundError(f"this analysis has no {name}", details={"name": name}) from None
        return data.decode("utf-8")

    async def _cached(self, what: str, compute: Callable[[], Awaitable[str]]) -> str:
        key, cache_name = self._cache_prefix + what, f"analysis_{what}"
        text = self._platform.documents.get(key)
        if text is not None:
            self._metrics.count_cache(cache_name, "hit")
            return text
        text = await cached_text(self._platform, self._metrics, key=key, cache_name=cache_name, compute=compute)
        self._platform.documents.put(key, text)
        return text

    async def results(self) -> str:
        """Return ``analysis.json`` as text."""
        return await self._cached("results", lambda: self._text("analysis.json"))

    async def metrics_csv(self) -> str:
        """Return ``metrics.csv`` as text."""
        return await self._cached("metrics_csv", lambda: self._text("metrics.csv"))

    async def metrics_json(self) -> str:
        """Return ``metrics.csv`` by column (:func:`metrics_columns`), as JSON text."""

        async def compute() -> str:
            columns = await asyncio.to_thread(metrics_columns, await self.metrics_csv())
            return json.dumps(columns, separators=(",", ":"), allow_nan=False)

        return await self._cached("metrics_json", compute)

    async def events(self) -> str:
        """Return the movement, foot events, phases and warnings of ``analysis.json``, as JSON text."""

        async def compute() -> str:
            document = json.loads(await self.results())
            section = document.get("biomechanics") or {}
            body = {
                "movement": section.get("movement"),
                "events": section.get("events", []),
                "phases": section.get("phases", []),
                "warnings": [*document.get("warnings", []), *section.get("warnings", [])],
            }
            return json.dumps(body, separators=(",", ":"), allow_nan=False)

        return await self._cached("events", compute)

    async def copy_to(self, folder: Path, names: tuple[str, ...]) -> None:
        """Write run files ``names`` into ``folder`` (a local scratch folder of the server's)."""
        for name in names:
            data = await self._platform.blobs.read_bytes(self.key(name))
            await asyncio.to_thread((folder / name).write_bytes, data)


async def owned_run(
    platform: Platform, metrics: PlatformMetrics, *, owner_id: uuid.UUID, analysis_id: uuid.UUID
) -> RunFiles:
    """Return the run files of analysis ``analysis_id`` if ``owner_id`` owns it and it has succeeded.

    Once the database has said so, the cache remembers it for :data:`RUN_FACTS_TTL_S` (a succeeded analysis changes
    no more until it is deleted); only that positive answer is cached, under ``owner_id``'s own prefix.

    Raises
    ------
    NotFoundError
        No such analysis, or another user's.
    ConflictError
        The analysis has not succeeded.
    UpstreamUnavailableError
        Not cached, and the database did not answer.

    """
    key = analysis_cache_prefix(owner_id, analysis_id) + "succeeded"
    try:
        known = await platform.cache.get(key) is True
    except UpstreamUnavailableError:
        metrics.count_cache("analysis_succeeded", "error")
        known = False
    else:
        metrics.count_cache("analysis_succeeded", "hit" if known else "miss")
    if known:
        return RunFiles(platform, metrics, owner_id=owner_id, analysis_id=analysis_id)
    async with platform.database.session() as session:
        run = RunFiles.of(platform, metrics, await owned_analysis(session, owner_id, analysis_id))
    try:
        await platform.cache.set(key, True, ttl_s=RUN_FACTS_TTL_S)
    except UpstreamUnavailableError:
        _log.debug("cache unavailable: analysis %s not remembered as succeeded", analysis_id)
    return run


async def _wait_until_stopped(platform: Platform, job_id: uuid.UUID, timeout_s: float) -> bool:
    """Wait until job ``job_id`` is no longer running (at most ``timeout_s``); return whether it stopped."""
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        try:
            if (await platform.jobs.get(job_id)).status != JobStatus.RUNNING:
                return True
        except NotFoundError:
            return True
        await asyncio.sleep(_WAIT_POLL_S)
    return False


async def delete_analysis(
    platform: Platform, *, owner_id: uuid.UUID, analysis_id: uuid.UUID, job_id: uuid.UUID | None
) -> None:
    """Delete an analysis: cancel its job, then remove its blobs, its rows (analysis and job) and cache entries.

    A running job is cancelled and waited for (up to ``job_stale_after_s``) so that it stores nothing after its
    files are removed; one that does not stop in time loses its job row, so its next report finds its lease gone
    and it stops then (a file it uploads meanwhile is swept once more after the rows).

    Raises
    ------
    UpstreamUnavailableError
        The blob store or the database did not answer; the analysis is left in place to try again.

    """
    stopped = True
    if job_id is not None:
        try:
            status = await platform.jobs.cancel(job_id)
        except NotFoundError:
            status = None
        if status == JobStatus.RUNNING:
            stopped = await _wait_until_stopped(platform, job_id, platform.settings.job_stale_after_s)
    prefix = analysis_blob_prefix(owner_id, analysis_id)
    await platform.blobs.delete_prefix(prefix)
    async with platform.database.session() as session, session.begin():
        await session.execute(sa.delete(Analysis).where(Analysis.id == analysis_id))
        if job_id is not None:
            await session.execute(sa.delete(Job).where(Job.id == job_id))
    if not stopped:
        _log.warning(
            "job %s of analysis %s did not stop within the wait; sweeping its files again", job_id, analysis_id
        )
        await platform.blobs.delete_prefix(prefix)
    platform.documents.drop_prefix(analysis_cache_prefix(owner_id, analysis_id))
    try:
        await platform.cache.delete_prefix(analysis_cache_prefix(owner_id, analysis_id))
    except UpstreamUnavailableError:
        _log.warning("cache entries of analysis %s remain until they expire", analysis_id)
