"""The job queue on SQLite and PostgreSQL: claiming, leases, retries, cancellation, stale recovery, analyses."""

from __future__ import annotations

import asyncio
import math
import uuid

import pytest
import sqlalchemy as sa

from spacecomputer.errors import InvalidInputError, NotFoundError
from spacecomputer.jobs import JobControl, JobLease, JobQueue
from spacecomputer.storage import Analysis, Database, Job, JobStatus, migrate
from tests.jobs.conftest import Backend, age_heartbeat, make_user, run


async def claimed(queue: JobQueue, worker_id: str = "w1") -> JobLease:
    job = await queue.claim(worker_id)
    assert job is not None
    return JobLease.of(job)


def test_enqueue_then_claim_in_order_with_kinds(backend: Backend) -> None:
    async def body(db: Database) -> None:
        queue = JobQueue(db)
        owner = await make_user(db)
        first = await queue.enqueue("echo", {"n": 1}, owner_id=owner)
        second = await queue.enqueue("sleep", {"seconds": 1}, owner_id=None, max_attempts=5)
        third = await queue.enqueue("echo", {"n": 3}, owner_id=owner)
        job = await queue.get(second)
        assert (job.status, job.attempts, job.max_attempts, job.payload) == (JobStatus.QUEUED, 0, 5, {"seconds": 1})

        got = await queue.claim("w1", kinds=["sleep"])
        assert got is not None
        assert got.id == second
        assert (got.status, got.attempts, got.worker_id) == (JobStatus.RUNNING, 1, "w1")
        assert got.heartbeat_at is not None
        assert got.started_at is not None
        rest = [await queue.claim("w2"), await queue.claim("w2")]
        assert [job.id if job else None for job in rest] == [first, third]
        assert {job.worker_id for job in rest if job} == {"w2"}
        assert await queue.claim("w2") is None
        assert (await queue.depth())[JobStatus.RUNNING] == 3

    run(backend, body)


def test_claims_follow_creation_order(backend: Backend) -> None:
    async def body(db: Database) -> list[bool]:
        queue = JobQueue(db)
        ids = [await queue.enqueue("echo", {"n": n}, owner_id=None) for n in range(4)]
        got = [await queue.claim("w") for _ in ids]
        return [job is not None and job.id == job_id for job, job_id in zip(got, ids, strict=True)]

    assert run(backend, body) == [True] * 4


@pytest.mark.parametrize(
    ("kind", "payload", "max_attempts"),
    [("", {}, 3), ("x" * 65, {}, 3), ("echo", {"bad": math.nan}, 3), ("echo", {"x": object()}, 3), ("echo", {}, 0)],
)
def test_enqueue_refuses_bad_jobs(kind: str, payload: dict[str, object], max_attempts: int) -> None:
    async def main() -> None:
        db = Database.from_url("sqlite://")
        try:
            with pytest.raises(InvalidInputError):
                await JobQueue(db).enqueue(kind, payload, owner_id=None, max_attempts=max_attempts)
        finally:
            await db.dispose()

    asyncio.run(main())


def test_concurrent_claimers_each_get_distinct_jobs(backend: Backend) -> None:
    """Two engines (as two worker processes would have), four claimers each: every job claimed exactly once."""

    async def body(db: Database) -> None:
        queue = JobQueue(db)
        ids = {await queue.enqueue("echo", {"n": n}, owner_id=None) for n in range(40)}
        other = backend.database()
        try:
            queues = [queue, JobQueue(other)]

            async def claimer(index: int) -> list[uuid.UUID]:
                mine = []
                while (job := await queues[index % 2].claim(f"w{index}")) is not None:
                    mine.append(job.id)
                return mine

            claims = await asyncio.gather(*(claimer(index) for index in range(8)))
        finally:
            await other.dispose()
        flat = [job_id for batch in claims for job_id in batch]
        assert len(flat) == len(set(flat)) == 40
        assert set(flat) == ids
        assert sum(1 for batch in claims if batch) >= 2  # the claimers really competed
        assert all(job.attempts == 1 for job in await queue.list(limit=100))

    run(backend, body)


def test_retryable_failures_requeue_until_max_attempts(backend: Backend) -> None:
    async def body(db: Database) -> None:
        queue = JobQueue(db)
        job_id = await queue.enqueue("echo", {}, owner_id=None, max_attempts=3)
        statuses = []
        for attempt in (1, 2, 3):
            lease = await claimed(queue)
            assert lease.attempt == attempt
            error = {"code": "internal_error", "message": f"boom {attempt}", "details": {}}
            statuses.append(await queue.fail(lease, error, retryable=True))
        assert statuses == [JobStatus.QUEUED, JobStatus.QUEUED, JobStatus.FAILED]
        job = await queue.get(job_id)
        assert (job.status, job.attempts, job.error) == (
            JobStatus.FAILED,
            3,
            {"code": "internal_error", "message": "boom 3", "details": {}, "attempt": 3},
        )
        assert job.finished_at is not None
        assert await queue.claim("w1") is None

    run(backend, body)


def test_a_final_failure_is_not_retried(backend: Backend) -> None:
    async def body(db: Database) -> None:
        queue = JobQueue(db)
        job_id = await queue.enqueue("echo", {}, owner_id=None, max_attempts=3)
        lease = await claimed(queue)
        error = {"code": "invalid_video", "message": "truncated", "details": {}}
        assert await queue.fail(lease, error, retryable=False) == JobStatus.FAILED
        assert (await queue.get(job_id)).attempts == 1

    run(backend, body)


def test_cancel_queued_at_once_and_running_at_the_next_check(backend: Backend) -> None:
    async def body(db: Database) -> None:
        queue = JobQueue(db)
        waiting = await queue.enqueue("echo", {}, owner_id=None)
        assert await queue.cancel(waiting) == JobStatus.CANCELLED
        assert (await queue.get(waiting)).finished_at is not None
        assert await queue.claim("w1") is None

        busy = await queue.enqueue("echo", {}, owner_id=None)
        lease = await claimed(queue)
        assert await queue.progress(lease, 0.25, "estimate") is JobControl.CONTINUE
        assert await queue.cancel(busy) == JobStatus.RUNNING
        assert (await queue.get(busy)).cancel_requested
        assert await queue.heartbeat(lease) is JobControl.CANCEL
        assert await queue.progress(lease, 0.5) is JobControl.CANCEL
        assert await queue.mark_cancelled(lease)
        job = await queue.get(busy)
        assert (job.status, job.progress) == (JobStatus.CANCELLED, 0.5)
        assert await queue.heartbeat(lease) is JobControl.LOST

        done = await queue.enqueue("echo", {}, owner_id=None)
        assert await queue.succeed(await claimed(queue), {"ok": True})
        assert await queue.cancel(done) == JobStatus.SUCCEEDED
        with pytest.raises(NotFoundError):
            await queue.cancel(uuid.uuid4())

    run(backend, body)


def test_a_cancelled_run_that_fails_or_is_released_ends_cancelled(backend: Backend) -> None:
    async def body(db: Database) -> list[JobStatus | None]:
        queue = JobQueue(db)
        first = await queue.enqueue("echo", {}, owner_id=None)
        lease = await claimed(queue)
        await queue.cancel(first)
        failed = await queue.fail(lease, {"code": "x", "message": "m", "details": {}}, retryable=True)
        second = await queue.enqueue("echo", {}, owner_id=None)
        lease = await claimed(queue)
        await queue.cancel(second)
        assert await queue.release(lease)
        return [failed, (await queue.get(second)).status]

    assert run(backend, body) == [JobStatus.CANCELLED, JobStatus.CANCELLED]


def test_stale_jobs_are_requeued_and_the_old_lease_is_fenced_off(backend: Backend) -> None:
    async def body(db: Database) -> None:
        queue = JobQueue(db)
        job_id = await queue.enqueue("echo", {}, owner_id=None, max_attempts=2)
        old = await claimed(queue, "dead-worker")
        assert await queue.requeue_stale(60) == {}  # a fresh heartbeat is not stale
        await age_heartbeat(db, job_id, 120)
        assert await queue.requeue_stale(60) == {job_id: JobStatus.QUEUED}
        job = await queue.get(job_id)
        assert (job.status, job.attempts, job.worker_id) == (JobStatus.QUEUED, 1, None)
        assert job.error is not None
        assert job.error["code"] == "worker_lost"

        new = await claimed(queue, "live-worker")
        assert new.attempt == 2
        assert await queue.heartbeat(old) is JobControl.LOST
        assert await queue.progress(old, 0.9) is JobControl.LOST
        assert not await queue.succeed(old, {"from": "old"})
        assert await queue.fail(old, {"code": "x", "message": "m", "details": {}}, retryable=True) is None
        assert await queue.succeed(new, {"from": "new"})
        assert not await queue.succeed(new, {"from": "new again"})
        job = await queue.get(job_id)
        assert (job.status, job.result, job.attempts) == (JobStatus.SUCCEEDED, {"from": "new"}, 2)

    run(backend, body)


def test_a_stale_last_attempt_fails_and_a_stale_cancelled_job_is_cancelled(backend: Backend) -> None:
    async def body(db: Database) -> dict[uuid.UUID, JobStatus]:
        queue = JobQueue(db)
        last = await queue.enqueue("echo", {}, owner_id=None, max_attempts=1)
        await claimed(queue)
        doomed = await queue.enqueue("echo", {}, owner_id=None)
        await claimed(queue)
        await queue.cancel(doomed)
        for job_id in (last, doomed):
            await age_heartbeat(db, job_id, 30)
        recovered = await queue.requeue_stale(10)
        assert recovered == {last: JobStatus.FAILED, doomed: JobStatus.CANCELLED}
        return recovered

    run(backend, body)


def test_release_refunds_the_attempt(backend: Backend) -> None:
    async def body(db: Database) -> None:
        queue = JobQueue(db)
        job_id = await queue.enqueue("echo", {}, owner_id=None)
        lease = await claimed(queue, "stopping-worker")
        await queue.progress(lease, 0.3)
        assert await queue.release(lease)
        job = await queue.get(job_id)
        assert (job.status, job.attempts, job.progress, job.worker_id) == (JobStatus.QUEUED, 0, 0.0, None)
        assert not await queue.release(lease)
        assert (await claimed(queue)).attempt == 1

    run(backend, body)


def test_the_analysis_row_follows_its_job(backend: Backend) -> None:
    async def body(db: Database) -> None:
        queue = JobQueue(db)
        owner = await make_user(db)
        async with db.session() as session, session.begin():
            job_id = await queue.enqueue("analysis", {"video_key": "v"}, owner_id=owner, session=session)
            analysis = Analysis(owner_id=owner, job_id=job_id)
            session.add(analysis)

        async def row() -> Analysis:
            async with db.session() as session:
                found = await session.get(Analysis, analysis.id)
                assert found is not None
                return found

        lease = await claimed(queue)
        assert ((await row()).status, (await row()).started_at is not None) == (JobStatus.RUNNING, True)
        await queue.progress(lease, 0.4, "estimate")
        assert (await row()).progress == pytest.approx(0.4)
        await queue.fail(lease, {"code": "upstream_unavailable", "message": "s3 down", "details": {}}, retryable=True)
        assert ((await row()).status, (await row()).progress) == (JobStatus.QUEUED, 0.0)
        lease = await claimed(queue)
        result = {"run_key": "users/u/analyses/a/", "frames": 40}
        assert await queue.succeed(lease, result)
        done = await row()
        assert (done.status, done.progress, done.summary, done.run_key) == (
            JobStatus.SUCCEEDED,
            1.0,
            result,
            "users/u/analyses/a/",
        )
        assert done.finished_at is not None
        assert done.error is None

    run(backend, body)


def test_a_failed_analysis_keeps_the_reason(backend: Backend) -> None:
    async def body(db: Database) -> Analysis | None:
        queue = JobQueue(db)
        owner = await make_user(db)
        async with db.session() as session, session.begin():
            job_id = await queue.enqueue("analysis", {}, owner_id=owner, session=session)
            session.add(Analysis(owner_id=owner, job_id=job_id))
        error = {"code": "invalid_video", "message": "the file is truncated", "details": {}}
        await queue.fail(await claimed(queue), error, retryable=False)
        async with db.session() as session:
            return (await session.execute(sa.select(Analysis))).scalar_one()

    found = run(backend, body)
    assert found is not None
    assert found.status == JobStatus.FAILED
    assert found.error == {"code": "invalid_video", "message": "the file is truncated", "details": {}, "attempt": 1}


def test_depth_and_list_filter_by_status_owner_and_kind(backend: Backend) -> None:
    async def body(db: Database) -> None:
        queue = JobQueue(db)
        alice = await make_user(db, "alice@example.com")
        bob = await make_user(db, "bob@example.com")
        for _ in range(3):
            await queue.enqueue("echo", {}, owner_id=alice)
        await queue.enqueue("sleep", {"seconds": 0}, owner_id=bob)
        await queue.succeed(await claimed(queue), {})
        depth = await queue.depth()
        assert depth == {**dict.fromkeys(JobStatus, 0), JobStatus.QUEUED: 3, JobStatus.SUCCEEDED: 1}
        assert len(await queue.list(owner_id=alice)) == 3
        assert [job.kind for job in await queue.list(owner_id=bob)] == ["sleep"]
        assert len(await queue.list(status=JobStatus.QUEUED, owner_id=alice)) == 2
        assert len(await queue.list(kind="sleep", status=JobStatus.SUCCEEDED)) == 0
        assert len(await queue.list(limit=2)) == 2
        with pytest.raises(InvalidInputError):
            await queue.list(limit=0)
        with pytest.raises(NotFoundError):
            await queue.get(uuid.uuid4())

    run(backend, body)


@pytest.mark.parametrize("fraction", [math.nan, math.inf, -0.5, 1.5])
def test_progress_must_be_a_fraction(fraction: float) -> None:
    async def main() -> None:
        db = Database.from_url("sqlite://")
        try:
            await migrate(db)
            queue = JobQueue(db)
            await queue.enqueue("echo", {}, owner_id=None)
            lease = await claimed(queue)
            with pytest.raises(InvalidInputError):
                await queue.progress(lease, fraction)
        finally:
            await db.dispose()

    asyncio.run(main())


def test_a_lease_needs_a_running_job() -> None:
    with pytest.raises(InvalidInputError):
        JobLease.of(Job(kind="echo"))
