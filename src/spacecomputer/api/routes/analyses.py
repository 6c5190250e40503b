"""``/analyses``: analyse one of my videos, follow the job, download what it produced, delete it.

``POST /analyses`` creates the analysis and its job in one transaction and answers ``202`` with the status URL
(``Location``); the job runs on the platform's executor and the analysis follows it (status, progress, error).
Once it has ``succeeded``: ``/results`` (``analysis.json``), ``/metrics`` (``metrics.csv`` as JSON columns, or the
CSV itself for ``Accept: text/csv``), ``/events``, ``/report``, ``/overlay`` and ``/artefacts/{name}`` (any file of
:data:`~spacecomputer.api._runs.RUN_FILES`); before then they answer ``409``. The last three are downloads that
honour ``Range`` (``206``, or ``416`` for a range they refuse: :mod:`~spacecomputer.api._downloads`). Another user's
analysis answers ``404``, the same as one that does not exist.
"""

from __future__ import annotations

import uuid
from typing import Annotated, Any

import sqlalchemy as sa
from fastapi import APIRouter, Depends, Query, Request, Response, status

from spacecomputer.api._analyses import enqueue_analysis
from spacecomputer.api._analysis_schemas import (
    AnalysisCreate,
    AnalysisEvents,
    AnalysisPage,
    AnalysisPublic,
    MetricsColumns,
    check_analysis_options,
)
from spacecomputer.api._deps import (
    API_PREFIX,
    MAX_PAGE_OFFSET,
    CurrentPrincipal,
    CurrentUser,
    PlatformDep,
    SessionDep,
    require_permission,
)
from spacecomputer.api._downloads import RequestedRange, blob_download, range_responses
from spacecomputer.api._errors import BODY, ErrorBody, error_responses
from spacecomputer.api._platform_metrics import PlatformMetricsDep
from spacecomputer.api._runs import RUN_FILES, RunFiles, delete_analysis, owned_analysis, owned_run
from spacecomputer.api.security import Principal
from spacecomputer.domain._analysis import Analysis as AnalysisDocument
from spacecomputer.errors import ConflictError, NotFoundError
from spacecomputer.storage import Analysis, JobStatus, Video, VideoStatus

__all__ = ["REPORT_CSP", "router"]

REPORT_CSP = (
    "sandbox allow-scripts; default-src 'none'; script-src 'unsafe-inline' 'unsafe-eval'; "
    "style-src 'unsafe-inline'; img-src data: blob:; media-src data: blob:; font-src data:; frame-ancestors 'self'"
)
"""Content-Security-Policy of a report: its inline charts run, sandboxed in an origin of their own (no access to
the API's origin, no request anywhere)."""

router = APIRouter(prefix=f"{API_PREFIX}/analyses", tags=["analyses"], responses=error_responses(401, 422))
AnalysisRequester = Annotated[Principal, Depends(require_permission("analysis.request"))]


async def _run_files(
    analysis_id: uuid.UUID, principal: CurrentPrincipal, platform: PlatformDep, metrics: PlatformMetricsDep
) -> RunFiles:
    # The principal, not the account row: authentication has checked the account already, and a cached read of
    # the run's documents then needs no database at all (``owned_run``).
    return await owned_run(platform, metrics, owner_id=principal.user_id, analysis_id=analysis_id)


RunFilesDep = Annotated[RunFiles, Depends(_run_files)]


@router.post("", status_code=status.HTTP_202_ACCEPTED, responses=error_responses(*BODY, 403, 404, 409))
async def create_analysis(
    body: AnalysisCreate,
    response: Response,
    _requester: AnalysisRequester,
    user: CurrentUser,
    session: SessionDep,
    platform: PlatformDep,
) -> AnalysisPublic:
    """Analyse one of my ready videos: 202 with the analysis (queued) and its status URL in ``Location``.

    404 for a video that is not mine, 409 for one not fully uploaded, 422 for options the pipeline refuses
    (a height in centimetres, say).
    """
    video = await session.get(Video, body.video_id)
    if video is None or video.owner_id != user.id:
        raise NotFoundError(f"video {body.video_id} not found", details={"resource": "video", "id": str(body.video_id)})
    if video.status != VideoStatus.READY:
        raise ConflictError(
            f"video {video.id} is {video.status.value}: only a fully uploaded video can be analysed",
            details={"video_id": str(video.id), "status": video.status.value},
        )
    options = body.options.model_dump(exclude_none=True)
    check_analysis_options(options)
    analysis = await enqueue_analysis(platform, session, video=video, options=options)
    await session.commit()
    public = AnalysisPublic.of(analysis)
    response.headers["Location"] = public.links["self"]
    return public


@router.get("")
async def list_analyses(
    user: CurrentUser,
    session: SessionDep,
    status_filter: Annotated[
        JobStatus | None, Query(alias="status", description="Only analyses in this state.")
    ] = None,
    video_id: Annotated[uuid.UUID | None, Query(description="Only analyses of this video.")] = None,
    limit: Annotated[int, Query(ge=1, le=200)] = 50,
    offset: Annotated[int, Query(ge=0, le=MAX_PAGE_OFFSET)] = 0,
) -> AnalysisPage:
    """List my analyses, newest first."""
    condition = Analysis.owner_id == user.id
    if status_filter is not None:
        condition = condition & (Analysis.status == status_filter)
    if video_id is not None:
        condition = condition & (Analysis.video_id == video_id)
    total = await session.scalar(sa.select(sa.func.count()).select_from(Analysis).where(condition))
    rows = await session.scalars(
        sa.select(Analysis)
        .where(condition)
        .order_by(Analysis.created_at.desc(), Analysis.id)
        .limit(limit)
        .offset(offset)
    )
    return AnalysisPage(
        items=[AnalysisPublic.of(row) for row in rows], total=int(total or 0), limit=limit, offset=offset
    )


@router.get("/{analysis_id}", responses=error_responses(404))
async def read_analysis(analysis_id: uuid.UUID, user: CurrentUser, session: SessionDep) -> AnalysisPublic:
    """Return one of my analyses: status, progress (0–1), the summary once succeeded or the error once failed."""
    return AnalysisPublic.of(await owned_analysis(session, user.id, analysis_id))


_RUN_FILE: dict[int | str, dict[str, Any]] = {
    **error_responses(404),
    409: {"model": ErrorBody, "description": "The analysis has not succeeded."},
}
"""The refusals of a route that reads a run file: no such analysis (or file), or an analysis not yet succeeded."""


@router.get(
    "/{analysis_id}/results", response_class=Response, responses={200: {"model": AnalysisDocument}, **_RUN_FILE}
)
async def read_results(run: RunFilesDep) -> Response:
    """Return the analysis document (``analysis.json``): video, subject, quality, pose, biomechanics, warnings."""
    return Response(await run.results(), media_type="application/json")


def _wants_csv(accept: str | None) -> bool:
    """Whether ``Accept`` prefers ``text/csv`` to JSON (quality values compared; JSON wins ties and absence)."""
    best = {"application/json": 0.0, "text/csv": 0.0}
    for part in (accept or "").split(","):
        media, *parameters = (piece.strip() for piece in part.split(";"))
        quality = 1.0
        for parameter in parameters:
            name, _, value = parameter.partition("=")
            if name.strip() == "q":
                try:
                    quality = float(value)
                except ValueError:
                    quality = 0.0
        if media in best:
            best[media] = max(best[media], quality)
    return best["text/csv"] > best["application/json"]


@router.get(
    "/{analysis_id}/metrics",
    response_class=Response,
    responses={200: {"model": MetricsColumns, "content": {"text/csv": {}}}, **_RUN_FILE},
)
async def read_metrics(run: RunFilesDep, request: Request) -> Response:
    """Return the per-frame biomechanics series: JSON columns, or ``metrics.csv`` itself for ``Accept: text/csv``."""
    if _wants_csv(request.headers.get("accept")):
        return Response(await run.metrics_csv(), media_type=RUN_FILES["metrics.csv"])
    return Response(await run.metrics_json(), media_type="application/json")


@router.get("/{analysis_id}/events", response_class=Response, responses={200: {"model": AnalysisEvents}, **_RUN_FILE})
async def read_events(run: RunFilesDep) -> Response:
    """Return the movement found, the foot events and the contact/flight phases (rows, frames, times in s)."""
    return Response(await run.events(), media_type="application/json")


@router.get(
    "/{analysis_id}/report",
    response_class=Response,
    responses={**range_responses(["text/html"], what="report"), **_RUN_FILE},
)
async def read_report(run: RunFilesDep, request: Request, platform: PlatformDep, wanted: RequestedRange) -> Response:
    """Return the self-contained HTML report, for a browser to show (sandboxed: it cannot reach the API)."""
    return await blob_download(
        request,
        platform.blobs,
        run.key("report.html"),
        range_header=wanted,
        media_type=RUN_FILES["report.html"],
        filename="report.html",
        inline=True,
        headers={"Content-Security-Policy": REPORT_CSP, "X-Frame-Options": "SAMEORIGIN"},
    )


@router.get(
    "/{analysis_id}/overlay",
    response_class=Response,
    responses={**range_responses(["video/mp4"], what="overlay video"), **_RUN_FILE},
)
async def read_overlay(run: RunFilesDep, request: Request, platform: PlatformDep, wanted: RequestedRange) -> Response:
    """Stream the H.264 overlay video (the pose drawn on the frames); ``Range`` requests answer 206."""
    return await blob_download(
        request,
        platform.blobs,
        run.key("overlay.mp4"),
        range_header=wanted,
        media_type="video/mp4",
        filename="overlay.mp4",
        inline=True,
    )


_ARTEFACT_MEDIA_TYPES = sorted({media_type.partition(";")[0] for media_type in RUN_FILES.values()})


@router.get(
    "/{analysis_id}/artefacts/{name}",
    response_class=Response,
    responses={**range_responses(_ARTEFACT_MEDIA_TYPES, what="file"), **_RUN_FILE},
)
async def read_artefact(
    name: str, run: RunFilesDep, request: Request, platform: PlatformDep, wanted: RequestedRange
) -> Response:
    """Download one file of the run by name (``analysis.json``, ``poses.parquet``, ``metrics.csv`` …); 404 lists all."""
    key = run.key(name)
    headers = {"Content-Security-Policy": REPORT_CSP} if name == "report.html" else None
    return await blob_download(
        request,
        platform.blobs,
        key,
        range_header=wanted,
        media_type=RUN_FILES[name],
        filename=name,
        inline=False,
        headers=headers,
    )


@router.delete("/{analysis_id}", status_code=status.HTTP_204_NO_CONTENT, responses=error_responses(404))
async def remove_analysis(
    analysis_id: uuid.UUID, user: CurrentUser, session: SessionDep, platform: PlatformDep
) -> None:
    """Delete one of my analyses: its job is cancelled if it runs, then its files, rows and cached reads go."""
    owner_id, job_id = user.id, (await owned_analysis(session, user.id, analysis_id)).job_id
    await session.rollback()  # hold no transaction of this request's while the job stops and the rows go
    await delete_analysis(platform, owner_id=owner_id, analysis_id=analysis_id, job_id=job_id)
