"""The BlobStore contract, on a local folder and on a real S3 server (SeaweedFS started by the session fixture)."""

from __future__ import annotations

import asyncio
import hashlib
import os
import secrets
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from spacecomputer.errors import InvalidInputError, NotFoundError, UpstreamUnavailableError, VideoTooLargeError
from spacecomputer.storage import MAX_PARTS, BlobStore, LocalBlobStore, S3BlobStore, parts_prefix
from spacecomputer.storage._blobs import BaseBlobStore
from tests.storage.conftest import S3Server

MIB = 1024 * 1024
PART_BYTES = 5 * MIB


@dataclass
class Blobs:
    """A store and this test's own key namespace in it."""

    store: BaseBlobStore
    namespace: str
    s3: S3Server | None

    def key(self, name: str) -> str:
        return f"{self.namespace}/{name}"


@pytest.fixture(params=["local", "s3"])
def blobs(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Blobs]:
    namespace = f"t{secrets.token_hex(6)}"
    if request.param == "local":
        yield Blobs(LocalBlobStore(tmp_path / "blobs"), namespace, None)
        return
    yield Blobs(request.getfixturevalue("s3_store"), namespace, request.getfixturevalue("s3_server"))


@pytest.fixture(scope="module")
def s3_store(s3_server: S3Server) -> Iterator[S3BlobStore]:
    """One store for the module: a boto3 client takes a noticeable fraction of a second to build."""
    store = S3BlobStore(
        s3_server.bucket,
        endpoint_url=s3_server.endpoint_url,
        access_key_id=s3_server.access_key_id,
        secret_access_key=s3_server.secret_access_key,
        part_size_bytes=PART_BYTES,
    )
    yield store
    asyncio.run(store.aclose())


def run(body: Callable[[], Awaitable[Any]]) -> Any:
    async def main() -> Any:
        return await body()

    return asyncio.run(main())


async def stream(
    *chunks: bytes, pulled: list[int] | None = None, fail_after: int | None = None
) -> AsyncIterator[bytes]:
    """Yield ``chunks``, counting how many were taken; raise after ``fail_after`` of them if asked."""
    for index, chunk in enumerate(chunks):
        if fail_after is not None and index == fail_after:
            raise ConnectionResetError("client went away")
        if pulled is not None:
            pulled.append(index)
        yield chunk


def digest(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def test_both_stores_satisfy_the_protocol(blobs: Blobs) -> None:
    assert isinstance(blobs.store, BlobStore)


def test_a_stream_is_stored_with_its_size_and_sha256(blobs: Blobs) -> None:
    # 11 MiB in uneven chunks: on S3 that is a multipart upload of 5 + 5 + 1 MiB.
    data = os.urandom(11 * MIB + 123)
    chunks = [data[i : i + 700_001] for i in range(0, len(data), 700_001)]
    key = blobs.key("videos/v1/original")

    async def body() -> tuple[Any, bytes, int, bool, bool]:
        info = await blobs.store.put_stream(key, stream(*chunks), max_bytes=len(data))
        return (
            info,
            await blobs.store.read_bytes(key),
            await blobs.store.size(key),
            await blobs.store.exists(key),
            await blobs.store.exists(blobs.key("videos/v1/other")),
        )

    info, stored, size, exists, other_exists = run(body)
    assert (info.size_bytes, info.sha256) == (len(data), digest(data))
    assert stored == data
    assert (size, exists, other_exists) == (len(data), True, False)


def test_small_and_empty_blobs(blobs: Blobs) -> None:
    async def body() -> tuple[Any, Any, bytes, bytes]:
        small = await blobs.store.put_bytes(blobs.key("a.json"), b'{"ok": true}')
        empty = await blobs.store.put_stream(blobs.key("empty"), stream())
        return (
            small,
            empty,
            await blobs.store.read_bytes(blobs.key("a.json")),
            await blobs.store.read_bytes(blobs.key("empty")),
        )

    small, empty, small_data, empty_data = run(body)
    assert small.size_bytes == 12
    assert small_data == b'{"ok": true}'
    assert (empty.size_bytes, empty.sha256, empty_data) == (0, digest(b""), b"")


@pytest.mark.parametrize(
    ("chunk_sizes", "max_bytes", "pulled_before_refusal"),
    [
        ([1000, 1000, 1000, 1000], 2500, 3),  # refused on the chunk that crosses the cap, never reading the 4th
        ([3 * MIB, 3 * MIB, 3 * MIB, 3 * MIB], 10 * MIB, 4),  # refused after S3 started a multipart upload
        ([2501], 2500, 1),
    ],
)
def test_the_size_cap_is_enforced_while_streaming_and_nothing_is_left(
    blobs: Blobs, chunk_sizes: list[int], max_bytes: int, pulled_before_refusal: int
) -> None:
    key = blobs.key("videos/big/original")
    pulled: list[int] = []

    async def body() -> tuple[bool, bytes]:
        await blobs.store.put_bytes(key, b"previous version")
        with pytest.raises(VideoTooLargeError) as caught:
            await blobs.store.put_stream(
                key, stream(*(b"x" * n for n in chunk_sizes), pulled=pulled), max_bytes=max_bytes
            )
        assert caught.value.details["max_bytes"] == max_bytes
        return await blobs.store.exists(key), await blobs.store.read_bytes(key)

    exists, kept = run(body)
    assert len(pulled) == pulled_before_refusal
    assert exists
    assert kept == b"previous version"
    assert_no_debris(blobs)


def test_a_stream_that_fails_midway_leaves_nothing(blobs: Blobs) -> None:
    key = blobs.key("videos/broken/original")

    async def body() -> bool:
        with pytest.raises(ConnectionResetError):
            await blobs.store.put_stream(key, stream(b"a" * (3 * MIB), b"b" * (3 * MIB), b"c", fail_after=2))
        return await blobs.store.exists(key)

    assert run(body) is False
    assert_no_debris(blobs)


def assert_no_debris(blobs: Blobs) -> None:
    """No temporary file (local) and no unfinished multipart upload (S3) is left behind."""
    if isinstance(blobs.store, LocalBlobStore):
        assert list((blobs.store.root / ".tmp").iterdir()) == []
    else:
        assert blobs.s3 is not None
        uploads = blobs.s3.client().list_multipart_uploads(Bucket=blobs.s3.bucket, Prefix=blobs.namespace)
        assert uploads.get("Uploads", []) == []


@pytest.mark.parametrize(
    ("start", "end", "expected"),
    [
        (0, None, slice(0, None)),
        (10, 20, slice(10, 20)),
        (0, 1, slice(0, 1)),
        (2 * MIB - 5, 2 * MIB + 5, slice(2 * MIB - 5, 2 * MIB + 5)),  # across read chunks
        (3 * MIB - 1, None, slice(3 * MIB - 1, None)),  # the last byte
        (100, 10 * MIB, slice(100, None)),  # an end past the blob is clipped
        (3 * MIB, None, slice(3 * MIB, None)),  # start at the size: empty
        (50, 50, slice(50, 50)),
    ],
)
def test_range_reads(blobs: Blobs, start: int, end: int | None, expected: slice) -> None:
    data = os.urandom(3 * MIB)
    key = blobs.key("runs/r1/overlay.mp4")

    async def body() -> tuple[int, int, int, int, bytes]:
        await blobs.store.put_bytes(key, data)
        part = await blobs.store.open_range(key, start, end)
        received = b"".join([chunk async for chunk in part])
        return part.start, part.end, part.length_bytes, part.total_size_bytes, received

    got_start, got_end, length, total, received = run(body)
    assert received == data[expected]
    assert (got_start, got_end, length, total) == (start, start + len(received), len(received), len(data))


@pytest.mark.parametrize(("start", "end"), [(-1, None), (11, None), (5, 4)])
def test_ranges_outside_the_blob_are_refused(blobs: Blobs, start: int, end: int | None) -> None:
    async def body() -> None:
        await blobs.store.put_bytes(blobs.key("ten"), b"0123456789")
        with pytest.raises(InvalidInputError, match="byte range"):
            await blobs.store.open_range(blobs.key("ten"), start, end)

    run(body)


def test_a_range_abandoned_half_read_can_be_closed(blobs: Blobs) -> None:
    async def body() -> bytes:
        await blobs.store.put_bytes(blobs.key("big"), b"z" * (3 * MIB))
        part = await blobs.store.open_range(blobs.key("big"))
        async for chunk in part:
            await part.aclose()
            return chunk[:3]
        raise AssertionError("no chunk")

    assert run(body) == b"zzz"


def test_missing_blobs(blobs: Blobs) -> None:
    key = blobs.key("nothing/here")

    async def body() -> bool:
        for operation in (blobs.store.size, blobs.store.read_bytes, blobs.store.open_range):
            with pytest.raises(NotFoundError) as caught:
                await operation(key)
            assert caught.value.details == {"key": key}
        await blobs.store.delete(key)  # deleting what is not there is fine
        return await blobs.store.exists(key)

    assert run(body) is False


def test_delete_and_delete_prefix(blobs: Blobs) -> None:
    names = ["u1/v1/original", "u1/v1/original.parts/00000000", "u1/run/a.json", "u10/x", "u2/y", "u1x"]

    async def body() -> tuple[int, int, int, dict[str, bool]]:
        for name in names:
            await blobs.store.put_bytes(blobs.key(name), name.encode())
        await blobs.store.delete(blobs.key("u2/y"))
        first = await blobs.store.delete_prefix(blobs.key("u1/"))
        second = await blobs.store.delete_prefix(blobs.key("u1"))  # now u10/x and u1x
        again = await blobs.store.delete_prefix(blobs.key("u1/"))
        return first, second, again, {name: await blobs.store.exists(blobs.key(name)) for name in names}

    first, second, again, left = run(body)
    assert (first, second, again) == (3, 2, 0)
    assert not any(left.values())
    if isinstance(blobs.store, LocalBlobStore):
        assert sorted(p.name for p in blobs.store.root.iterdir()) == [".tmp"]  # emptied folders are pruned


def test_resumable_upload_parts_are_composed_in_order(blobs: Blobs) -> None:
    parts = [os.urandom(PART_BYTES), os.urandom(PART_BYTES), os.urandom(1234)]
    whole = b"".join(parts)
    key = blobs.key("videos/v9/original")

    async def body() -> tuple[Any, bytes, bool, int]:
        # Out of order, and part 1 sent twice (a retried chunk after a dropped connection).
        for index in (2, 1, 0, 1):
            info = await blobs.store.write_part(key, index, parts[index])
            assert info.sha256 == digest(parts[index])
        composed = await blobs.store.compose(key, part_count=3, max_bytes=len(whole))
        leftover = await blobs.store.exists(f"{parts_prefix(key)}00000000")
        return composed, await blobs.store.read_bytes(key), leftover, await blobs.store.discard_parts(key)

    composed, stored, leftover, discarded = run(body)
    assert (composed.size_bytes, composed.sha256) == (len(whole), digest(whole))
    assert stored == whole
    assert (leftover, discarded) == (False, 0)


def test_compose_with_a_missing_part_or_too_many_bytes_writes_nothing(blobs: Blobs) -> None:
    key = blobs.key("videos/v10/original")

    async def body() -> tuple[bool, int]:
        await blobs.store.write_part(key, 0, b"a" * 100)
        await blobs.store.write_part(key, 2, b"c" * 100)
        with pytest.raises(NotFoundError, match="part 1"):
            await blobs.store.compose(key, part_count=3)
        await blobs.store.write_part(key, 1, b"b" * 100)
        with pytest.raises(VideoTooLargeError):
            await blobs.store.compose(key, part_count=3, max_bytes=250)
        exists = await blobs.store.exists(key)
        return exists, await blobs.store.discard_parts(key)  # the parts stay until discarded

    assert run(body) == (False, 3)
    assert_no_debris(blobs)


@pytest.mark.parametrize("index", [-1, MAX_PARTS, True, 1.0, "0"])
def test_part_indexes_outside_the_range_are_refused(blobs: Blobs, index: Any) -> None:
    async def body() -> None:
        with pytest.raises(InvalidInputError, match="part index"):
            await blobs.store.write_part(blobs.key("v"), index, b"x")

    run(body)


HOSTILE_KEYS = [
    "", "/etc/passwd", "../outside", "a/../../b", "a/./b", "a//b", "a/", ".hidden", "a/.tmp/x", ".tmp/x", "..",
    "a\\..\\b", "C:\\x", "~/x", "a b", "naïve", "a\x00b", "a\nb", "%2e%2e/x", "x" * 513, "a/" + "y" * 201,
]  # fmt: skip


@pytest.mark.parametrize("key", HOSTILE_KEYS)
def test_hostile_keys_are_refused_by_every_operation(blobs: Blobs, key: str, tmp_path: Path) -> None:
    operations: list[Callable[[], Awaitable[Any]]] = [
        lambda: blobs.store.put_bytes(key, b"x"),
        lambda: blobs.store.put_stream(key, stream(b"x")),
        lambda: blobs.store.write_part(key, 0, b"x"),
        lambda: blobs.store.compose(key, part_count=1),
        lambda: blobs.store.open_range(key),
        lambda: blobs.store.read_bytes(key),
        lambda: blobs.store.size(key),
        lambda: blobs.store.exists(key),
        lambda: blobs.store.delete(key),
    ]

    async def body() -> None:
        for operation in operations:
            with pytest.raises(InvalidInputError):
                await operation()

    run(body)
    assert [p.name for p in tmp_path.iterdir()] == (["blobs"] if isinstance(blobs.store, LocalBlobStore) else [])
    if isinstance(blobs.store, LocalBlobStore):
        assert sorted(p.name for p in blobs.store.root.iterdir()) == [".tmp"]


@pytest.mark.parametrize("prefix", ["", "/", "..", "../", "a/../", ".tmp/", "/etc/", "a//"])
def test_hostile_prefixes_are_refused(blobs: Blobs, prefix: str) -> None:
    async def body() -> bool:
        await blobs.store.put_bytes(blobs.key("keep"), b"k")
        with pytest.raises(InvalidInputError):
            await blobs.store.delete_prefix(prefix)
        return await blobs.store.exists(blobs.key("keep"))

    assert run(body) is True


def test_concurrent_writes_and_reads(blobs: Blobs) -> None:
    payloads = {blobs.key(f"c/{i}"): os.urandom(10_000 + i) for i in range(16)}

    async def body() -> list[bytes]:
        await asyncio.gather(*(blobs.store.put_bytes(key, data) for key, data in payloads.items()))
        return list(await asyncio.gather(*(blobs.store.read_bytes(key) for key in payloads)))

    assert run(body) == list(payloads.values())


def test_ping(blobs: Blobs) -> None:
    run(blobs.store.ping)


def test_local_ping_fails_when_the_folder_is_gone(tmp_path: Path) -> None:
    store = LocalBlobStore(tmp_path / "blobs")
    (tmp_path / "blobs" / ".tmp").rmdir()
    with pytest.raises(UpstreamUnavailableError, match="missing or not writable"):
        run(store.ping)


@pytest.mark.parametrize("problem", ["wrong-secret", "no-bucket", "no-server"])
def test_s3_problems_are_upstream_errors(s3_server: S3Server, problem: str) -> None:
    store = S3BlobStore(
        "no-such-bucket" if problem == "no-bucket" else s3_server.bucket,
        endpoint_url="http://127.0.0.1:1" if problem == "no-server" else s3_server.endpoint_url,
        access_key_id=s3_server.access_key_id,
        secret_access_key="wrong" if problem == "wrong-secret" else s3_server.secret_access_key,
        connect_timeout_s=1.0,
        max_attempts=1,
    )

    async def body() -> None:
        try:
            with pytest.raises(UpstreamUnavailableError):
                await store.ping()
            with pytest.raises(UpstreamUnavailableError):
                await store.put_bytes("k", b"x")
        finally:
            await store.aclose()

    run(body)


@pytest.mark.parametrize("bucket", ["ab", "UPPER", "under_score", "a" * 64, "-dash", "dot..dot"])
def test_s3_bucket_names_are_checked(bucket: str) -> None:
    with pytest.raises(InvalidInputError, match="bucket"):
        S3BlobStore(bucket, endpoint_url="http://127.0.0.1:1")


def test_s3_part_size_must_meet_the_s3_minimum() -> None:
    with pytest.raises(InvalidInputError, match="part_size_bytes"):
        S3BlobStore("bucket", endpoint_url="http://127.0.0.1:1", part_size_bytes=MIB)
