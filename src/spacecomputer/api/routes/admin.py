"""``/admin`` (``admin.manage`` only; 403 for anyone else): usage statistics, the job queue, recent errors."""

from __future__ import annotations

from typing import Annotated, Any

import sqlalchemy as sa
from fastapi import APIRouter, Query
from sqlalchemy.orm import InstrumentedAttribute

from spacecomputer.api._deps import API_PREFIX, MAX_PAGE_OFFSET, AdminUser, SessionDep
from spacecomputer.api._errors import error_responses
from spacecomputer.api._schemas import CountsByStatus, ErrorEventPublic, JobPage, JobPublic, UsageStats
from spacecomputer.storage import Analysis, ErrorEvent, Job, JobStatus, User, Video

__all__ = ["router"]

router = APIRouter(prefix=f"{API_PREFIX}/admin", tags=["admin"], responses=error_responses(401, 403))


async def _counts(session: SessionDep, column: InstrumentedAttribute[Any]) -> CountsByStatus:
    rows = (await session.execute(sa.select(column, sa.func.count()).group_by(column))).all()
    by_value = {str(value): int(count) for value, count in rows}
    return CountsByStatus(total=sum(by_value.values()), by_status=by_value)


@router.get("/stats")
async def usage_stats(_admin: AdminUser, session: SessionDep) -> UsageStats:
    """Count users (by role and plan), videos (and their bytes), analyses and jobs (by status)."""
    users = await _counts(session, User.role)
    plans = await _counts(session, User.plan)
    video_bytes = await session.scalar(sa.select(sa.func.coalesce(sa.func.sum(Video.size_bytes), 0)))
    return UsageStats(
        users=users,
        users_by_plan=plans.by_status,
        videos=await _counts(session, Video.status),
        video_bytes=int(video_bytes or 0),
        analyses=await _counts(session, Analysis.status),
        jobs=await _counts(session, Job.status),
    )


@router.get("/jobs", responses=error_responses(422))
async def job_queue(
    _admin: AdminUser,
    session: SessionDep,
    status: Annotated[JobStatus | None, Query(description="Only jobs in this state.")] = None,
    limit: Annotated[int, Query(ge=1, le=500)] = 50,
    offset: Annotated[int, Query(ge=0, le=MAX_PAGE_OFFSET)] = 0,
) -> JobPage:
    """List jobs newest first, optionally of one status."""
    condition = sa.true() if status is None else Job.status == status
    total = await session.scalar(sa.select(sa.func.count()).select_from(Job).where(condition))
    jobs = await session.scalars(
        sa.select(Job).where(condition).order_by(Job.created_at.desc(), Job.id).limit(limit).offset(offset)
    )
    return JobPage(items=[JobPublic.of(job) for job in jobs], total=int(total or 0), limit=limit, offset=offset)


@router.get("/errors", responses=error_responses(422))
async def recent_errors(
    _admin: AdminUser, session: SessionDep, limit: Annotated[int, Query(ge=1, le=500)] = 50
) -> list[ErrorEventPublic]:
    """List the most recent server errors, newest first."""
    events = await session.scalars(
        sa.select(ErrorEvent).order_by(ErrorEvent.created_at.desc(), ErrorEvent.id).limit(limit)
    )
    return [ErrorEventPublic.of(event) for event in events]
