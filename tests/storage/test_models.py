"""The platform's tables on SQLite and PostgreSQL: cascades, UTC times, constraints, JSON columns, secrets."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime, timedelta, timezone
from typing import Any

import pytest
import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncSession

from spacecomputer.storage import (
    Analysis,
    ApiKey,
    Base,
    Conversation,
    Database,
    ErrorEvent,
    Job,
    JobStatus,
    Message,
    MessageRole,
    RefreshToken,
    User,
    UTCDateTime,
    Video,
    VideoStatus,
    migrate,
    utc_now,
)
from tests.storage.conftest import Backend

OWNED = [RefreshToken, ApiKey, Video, Job, Analysis, Conversation, Message, ErrorEvent]


def run(backend: Backend, body: Callable[[Database], Awaitable[Any]]) -> Any:
    """Migrate a fresh database, run ``body`` against it, dispose of the engine."""

    async def main() -> Any:
        db = backend.database()
        try:
            await migrate(db)
            return await body(db)
        finally:
            await db.dispose()

    return asyncio.run(main())


async def populate(session: AsyncSession, email: str) -> User:
    """One user owning a row in every table: a rotated token pair, a key, a video with its analysis, a chat."""
    user = User(email=email, password_hash="argon2-hash")
    session.add(user)
    await session.flush()
    family, later = uuid.uuid4(), utc_now() + timedelta(days=30)
    first = RefreshToken(user_id=user.id, family_id=family, token_hash=f"{email}-1", expires_at=later)
    second = RefreshToken(user_id=user.id, family_id=family, token_hash=f"{email}-2", expires_at=later)
    session.add_all([first, second])
    await session.flush()
    first.replaced_by, first.revoked_at = second.id, utc_now()
    video = Video(
        owner_id=user.id,
        filename="../../etc/passwd.mp4",
        storage_key=f"videos/{uuid.uuid4()}/original",
        total_size_bytes=10,
        chunk_size_bytes=5,
    )
    job = Job(kind="analysis", owner_id=user.id, payload={"video": str(video.id)})
    session.add_all(
        [ApiKey(user_id=user.id, prefix=f"sk_{email[:8]}", key_hash="k", scopes=["video.upload"]), video, job]
    )
    await session.flush()
    analysis = Analysis(owner_id=user.id, video_id=video.id, job_id=job.id, options={"height_m": 1.8})
    session.add(analysis)
    await session.flush()
    conversation = Conversation(owner_id=user.id, analysis_id=analysis.id, title="knee angle")
    session.add(conversation)
    await session.flush()
    session.add_all(
        [
            Message(conversation_id=conversation.id, role=MessageRole.USER, content="Why is my knee collapsing?"),
            Message(
                conversation_id=conversation.id,
                role=MessageRole.ASSISTANT,
                content="Valgus at landing.",
                citations=[{"metric": "knee_valgus", "frame": 41}],
            ),
            ErrorEvent(code="internal", message="boom", user_id=user.id, request_id="req-1", status_code=500),
        ]
    )
    return user


async def counts(session: AsyncSession) -> dict[str, int]:
    return {
        model.__tablename__: int((await session.execute(sa.select(sa.func.count()).select_from(model))).scalar_one())
        for model in [User, *OWNED]
    }


def test_deleting_a_user_deletes_every_row_they_own(backend: Backend) -> None:
    async def body(db: Database) -> tuple[dict[str, int], dict[str, int], dict[str, int]]:
        async with db.session() as session, session.begin():
            alice = await populate(session, "alice@example.com")
            await populate(session, "bob@example.com")
            session.add(Job(kind="cleanup"))  # a system job: no owner
        async with db.session() as session:
            before = await counts(session)
        async with db.session() as session, session.begin():
            await session.delete(await session.get_one(User, alice.id))
        async with db.session() as session:
            after = await counts(session)
            left_for_alice = {
                model.__tablename__: len(
                    (await session.execute(sa.select(model).where(owner(model) == alice.id))).all()
                )
                for model in OWNED
                if model is not Message
            }
        return before, after, left_for_alice

    before, after, left_for_alice = run(backend, body)
    assert before == {"users": 2, "refresh_tokens": 4, "api_keys": 2, "videos": 2, "jobs": 3, "analyses": 2,
                      "conversations": 2, "messages": 4, "error_events": 2}  # fmt: skip
    assert after == {"users": 1, "refresh_tokens": 2, "api_keys": 1, "videos": 1, "jobs": 2, "analyses": 1,
                     "conversations": 1, "messages": 2, "error_events": 1}  # fmt: skip
    assert set(left_for_alice.values()) == {0}


def owner(model: type[Base]) -> sa.ColumnElement[Any]:
    column = getattr(model, "owner_id", None)
    return column if column is not None else model.user_id  # type: ignore[attr-defined]


def test_an_analysis_outlives_its_video_and_a_conversation_does_not_outlive_its_analysis(backend: Backend) -> None:
    async def body(db: Database) -> tuple[Analysis, int, int]:
        async with db.session() as session, session.begin():
            user = await populate(session, "carol@example.com")
        async with db.session() as session, session.begin():
            await session.execute(sa.delete(Video).where(Video.owner_id == user.id))
        async with db.session() as session, session.begin():
            analysis = (await session.execute(sa.select(Analysis))).scalar_one()
            await session.delete(analysis)
        async with db.session() as session:
            left = await counts(session)
        return analysis, left["conversations"], left["messages"]

    analysis, conversations, messages = run(backend, body)
    assert analysis.video_id is None
    assert (conversations, messages) == (0, 0)


def test_times_come_back_aware_in_utc_and_naive_ones_are_refused(backend: Backend) -> None:
    cest = timezone(timedelta(hours=2))
    noon_utc = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)

    async def body(db: Database) -> tuple[datetime, list[str]]:
        async with db.session() as session, session.begin():
            session.add_all(
                [
                    User(email="late@example.com", password_hash="h", created_at=noon_utc + timedelta(minutes=30)),
                    User(
                        email="local@example.com",
                        password_hash="h",
                        created_at=datetime(2026, 3, 1, 14, 0, tzinfo=cest),
                    ),
                    User(email="early@example.com", password_hash="h", created_at=noon_utc - timedelta(minutes=30)),
                ]
            )
        async with db.session() as session:
            local = (await session.execute(sa.select(User).where(User.email == "local@example.com"))).scalar_one()
            after_noon = await session.execute(
                sa.select(User.email).where(User.created_at >= noon_utc).order_by(User.created_at)
            )
            ordered = list(after_noon.scalars())
            created_at = local.created_at
            session.add(User(email="naive@example.com", password_hash="h", created_at=datetime(2026, 3, 1, 12)))
            with pytest.raises(sa.exc.StatementError, match="naive datetime"):
                await session.flush()
        return created_at, ordered

    created_at, ordered = run(backend, body)
    assert created_at == noon_utc
    assert created_at.utcoffset() == timedelta(0)
    assert ordered == ["local@example.com", "late@example.com"]


def test_utc_datetime_rejects_naive_values_before_any_database() -> None:
    with pytest.raises(ValueError, match="naive"):
        UTCDateTime().process_bind_param(datetime(2026, 1, 1), sa.dialects.sqlite.dialect())


@pytest.mark.parametrize(
    "bad",
    [
        pytest.param(lambda u: User(email="alice@example.com", password_hash="again"), id="duplicate-email"),
        pytest.param(lambda u: Job(kind="x", progress=1.5), id="progress-above-one"),
        pytest.param(lambda u: Job(kind="x", max_attempts=0), id="no-attempts"),
        pytest.param(lambda u: ApiKey(user_id=uuid.uuid4(), prefix="p", key_hash="h"), id="dangling-owner"),
    ],
)
def test_the_database_enforces_uniqueness_ranges_and_foreign_keys(
    backend: Backend, bad: Callable[[User], Base]
) -> None:
    async def body(db: Database) -> None:
        async with db.session() as session, session.begin():
            user = User(email="alice@example.com", password_hash="h")
            session.add(user)
        async with db.session() as session:
            session.add(bad(user))
            with pytest.raises(sa.exc.IntegrityError):
                await session.commit()

    run(backend, body)


def test_a_status_outside_its_states_is_refused_by_the_check_constraint(backend: Backend) -> None:
    insert = sa.text(
        "INSERT INTO videos (id, owner_id, filename, storage_key, total_size_bytes, chunk_size_bytes, "
        "upload_offset_bytes, status, created_at, updated_at) "
        "VALUES (:id, :owner, 'f', 'k', 1, 1, 0, :status, :now, :now)"
    ).bindparams(
        sa.bindparam("id", type_=sa.Uuid()),
        sa.bindparam("owner", type_=sa.Uuid()),
        sa.bindparam("now", type_=UTCDateTime()),
    )

    async def body(db: Database) -> VideoStatus:
        async with db.session() as session, session.begin():
            user = User(email="dave@example.com", password_hash="h")
            session.add(user)
        async with db.session() as session:
            with pytest.raises(sa.exc.IntegrityError):
                await session.execute(
                    insert, {"id": uuid.uuid4(), "owner": user.id, "status": "hacked", "now": utc_now()}
                )
            await session.rollback()
            video_id = uuid.uuid4()
            await session.execute(insert, {"id": video_id, "owner": user.id, "status": "ready", "now": utc_now()})
            await session.commit()
            return (await session.get_one(Video, video_id)).status

    assert run(backend, body) is VideoStatus.READY


def test_json_columns_keep_in_place_changes_and_enums_round_trip(backend: Backend) -> None:
    async def body(db: Database) -> tuple[User, ApiKey, Job]:
        async with db.session() as session, session.begin():
            user = User(email="erin@example.com", password_hash="h", preferences={"units": "metric"})
            session.add(user)
            await session.flush()
            key = ApiKey(user_id=user.id, prefix="sk_erin", key_hash="h", scopes=["video.upload"])
            job = Job(kind="analysis", owner_id=user.id, payload={"nested": {"a": [1, 2.5, None, True]}})
            session.add_all([key, job])
        async with db.session() as session, session.begin():
            # Hold the rows: an unmodified row is only weakly referenced by the session.
            stored_user, stored_key, stored_job = [
                await session.get_one(model, id_) for model, id_ in ((User, user.id), (ApiKey, key.id), (Job, job.id))
            ]
            stored_user.preferences["theme"] = "dark"
            stored_key.scopes.append("ai.query")
            stored_job.status = JobStatus.RUNNING
        async with db.session() as session:
            return (
                await session.get_one(User, user.id),
                await session.get_one(ApiKey, key.id),
                await session.get_one(Job, job.id),
            )

    user, key, job = run(backend, body)
    assert user.preferences == {"units": "metric", "theme": "dark"}
    assert key.scopes == ["video.upload", "ai.query"]
    assert job.status is JobStatus.RUNNING
    assert job.payload == {"nested": {"a": [1, 2.5, None, True]}}
    assert (job.attempts, job.max_attempts, job.progress, job.cancel_requested) == (0, 3, 0.0, False)


def test_defaults_are_set_at_construction_and_secrets_stay_out_of_repr() -> None:
    user = User(email="frank@example.com", password_hash="argon2id$secret-hash", totp_secret="JBSWY3DPEHPK3PXP")
    assert isinstance(user.id, uuid.UUID)
    assert (user.role, user.plan, user.disabled, user.preferences) == ("user", "free", False, {})
    assert user.created_at.tzinfo is UTC
    text = repr(user) + repr(
        RefreshToken(user_id=user.id, family_id=uuid.uuid4(), token_hash="tok", expires_at=utc_now())
    )
    assert "secret-hash" not in text
    assert "JBSWY3DPEHPK3PXP" not in text
    assert "tok'" not in text
    assert "frank@example.com" in text
    assert Video(
        owner_id=user.id, filename="a.mp4", storage_key="k", total_size_bytes=1, chunk_size_bytes=1
    ).status == (VideoStatus.UPLOADING)
