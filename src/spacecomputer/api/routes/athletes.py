"""``/athletes`` (the elite library: clips, their manifest entries, the engine's scale-free results) and ``/compare``.

``POST /compare`` compares one of my succeeded analyses ("you") with a library clip (``athlete_id``) or with another
of my analyses (``other_analysis_id``): the run's ``analysis.json`` and ``poses.parquet`` are copied to a scratch
folder of the server's, read as a :class:`~spacecomputer.athletes.Motion`, aligned phase by phase and compared
(:func:`~spacecomputer.athletes.compare_motions_detailed`); the answer is the comparison document
(``comparison.json`` of ``spacecomputer compare``). Two known, different movements are a 422 unless ``force`` is
set; an unknown clip is a 404 that lists the valid ids.
"""

from __future__ import annotations

import asyncio
import tempfile
from pathlib import Path
from typing import Annotated

from fastapi import APIRouter, Query, Response

from spacecomputer.api._analysis_schemas import CompareRequest
from spacecomputer.api._deps import API_PREFIX, CurrentPrincipal, CurrentUser, PlatformDep, SessionDep
from spacecomputer.api._errors import BODY, error_responses
from spacecomputer.api._platform_metrics import PlatformMetricsDep
from spacecomputer.api._runs import RunFiles, cached_text, owned_analysis
from spacecomputer.athletes import (
    ClipAnalysis,
    Comparison,
    ManifestEntry,
    Motion,
    analyse_clip,
    compare_motions_detailed,
    motion_from_run,
)
from spacecomputer.errors import IncompatibleMotionError

__all__ = ["ATHLETE_ANALYSIS_TTL_S", "router"]

ATHLETE_ANALYSIS_TTL_S = 86400.0
"""Lifetime of a cached clip analysis, seconds (the library is read-only while the API runs)."""
_RUN_FILES_COMPARED = ("analysis.json", "poses.parquet")

router = APIRouter(prefix=API_PREFIX, tags=["athletes"], responses=error_responses(401, 422))


@router.get("/athletes")
async def list_athletes(
    _caller: CurrentPrincipal,
    platform: PlatformDep,
    movement: Annotated[str | None, Query(max_length=32, description="Only clips of this movement family.")] = None,
) -> list[ManifestEntry]:
    """List the library's clips (manifest entries: athlete, sport, movement, camera view, what is known and not)."""
    return [entry for entry in platform.athletes.entries() if movement is None or entry.movement == movement]


@router.get("/athletes/{athlete_id}", responses=error_responses(404))
async def read_athlete(athlete_id: str, _caller: CurrentPrincipal, platform: PlatformDep) -> ManifestEntry:
    """Return one clip's manifest entry (404 lists the valid ids)."""
    return platform.athletes.get(athlete_id)


@router.get(
    "/athletes/{athlete_id}/analysis",
    response_class=Response,
    responses={200: {"model": ClipAnalysis}, **error_responses(404)},
)
async def read_athlete_analysis(
    athlete_id: str, _caller: CurrentPrincipal, platform: PlatformDep, metrics: PlatformMetricsDep
) -> Response:
    """Return the biomechanics engine's results for one clip, scale-free quantities only (angles, durations, %)."""
    platform.athletes.get(athlete_id)

    async def compute() -> str:
        analysis = await asyncio.to_thread(analyse_clip, platform.athletes, athlete_id)
        return analysis.model_dump_json()

    text = await cached_text(
        platform,
        metrics,
        key=f"athletes:analysis:{athlete_id}",
        cache_name="athlete_analysis",
        compute=compute,
        ttl_s=ATHLETE_ANALYSIS_TTL_S,
    )
    return Response(text, media_type="application/json")


async def _run_motion(run: RunFiles, folder: Path) -> Motion:
    folder.mkdir(parents=True)
    await run.copy_to(folder, _RUN_FILES_COMPARED)
    return await asyncio.to_thread(motion_from_run, folder)


@router.post("/compare", responses=error_responses(*BODY, 404, 409))
async def compare(
    body: CompareRequest,
    user: CurrentUser,
    session: SessionDep,
    platform: PlatformDep,
    metrics: PlatformMetricsDep,
) -> Comparison:
    """Compare my analysis with a library clip or another of my analyses: similarity, joint differences, findings.

    404 for an analysis that is not mine or an unknown clip (valid ids listed); 409 for an analysis that has not
    succeeded; 422 when the movements differ (unless ``force``) or the run has no biomechanics to compare.
    """
    you_run = RunFiles.of(platform, metrics, await owned_analysis(session, user.id, body.analysis_id))
    other_run = None
    if body.other_analysis_id is not None:
        other_run = RunFiles.of(platform, metrics, await owned_analysis(session, user.id, body.other_analysis_id))
    else:
        platform.athletes.get(str(body.athlete_id))  # an unknown clip is a 404 before any work
    await session.rollback()  # nothing more to read: release the connection while the motions are computed
    with tempfile.TemporaryDirectory(prefix="spacecomputer-compare-") as scratch:
        you = await _run_motion(you_run, Path(scratch) / "you" / str(body.analysis_id))
        if other_run is not None:
            reference = await _run_motion(other_run, Path(scratch) / "reference" / str(body.other_analysis_id))
        else:
            reference = await asyncio.to_thread(platform.athletes.motion, str(body.athlete_id))
    try:
        result = await asyncio.to_thread(compare_motions_detailed, you, reference, force=body.force)
    except IncompatibleMotionError as error:
        movements = (error.details.get("a_movement"), error.details.get("b_movement"))
        if None in movements:
            raise
        raise IncompatibleMotionError(
            f"your analysis is a {movements[0]} and {reference.name!r} a {movements[1]}: different movements are "
            'not compared (send "force": true to compare anyway)',
            details=error.details,
        ) from None
    return result.comparison
