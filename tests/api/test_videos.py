"""``/videos`` through the real app on both back-end sets: resumable chunked upload of a real video, the upload
defences (checksums, sizes counted on the bytes, container signatures, probe of truncated files, server-made keys),
object-level access, Range downloads, delete."""

from __future__ import annotations

import asyncio
import hashlib
import io
import sys
import uuid
import zipfile
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from spacecomputer.api import _app
from spacecomputer.api._video_upload import DEFAULT_CHUNK_BYTES, MAX_CHUNK_BYTES, MAX_CHUNKS, MIN_CHUNK_BYTES
from spacecomputer.api.routes import videos
from spacecomputer.storage import Video, VideoStatus
from tests.api.conftest import Account, Api, api_settings, running_api
from tests.videos import png_bytes, sample_frames, write_clip, write_rgb_frames

pytestmark = pytest.mark.anyio

VIDEOS = "/api/v1/videos"
CHUNK = MIN_CHUNK_BYTES


@pytest.fixture(autouse=True)
def _videos_router(monkeypatch: pytest.MonkeyPatch) -> None:
    """Mount the videos router (a no-op once the app lists it)."""
    if videos not in _app.API_ROUTERS:
        monkeypatch.setattr(_app, "API_ROUTERS", (*_app.API_ROUTERS, videos))


@pytest.fixture(scope="session")
def sample_mp4(tmp_path_factory: pytest.TempPathFactory) -> bytes:
    """Twelve full-size frames of the sample video, near-lossless H.264: about 1 MB, five chunks of 256 KiB."""
    path = tmp_path_factory.mktemp("videos") / "sample.mp4"
    return write_rgb_frames(path, sample_frames(12)).read_bytes()


@pytest.fixture(scope="session")
def small_mp4(tmp_path_factory: pytest.TempPathFactory) -> bytes:
    """The default test clip (32 x 16 px, 12 frames): one chunk."""
    return write_clip(tmp_path_factory.mktemp("videos") / "small.mp4").read_bytes()


def _sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


async def _create(api: Api, account: Account, data: bytes, **fields: Any) -> dict[str, Any]:
    body = {"filename": "clip.mp4", "total_size_bytes": len(data), "sha256": _sha256(data), "chunk_size_bytes": CHUNK}
    response = await api.client.post(VIDEOS, json=body | fields, headers=account.headers)
    assert response.status_code == 201, response.text
    assert response.headers["location"] == f"{VIDEOS}/{response.json()['id']}"
    created: dict[str, Any] = response.json()
    return created


async def _put(api: Api, account: Account, video: dict[str, Any], data: bytes, index: int) -> httpx.Response:
    size = video["chunk_size_bytes"]
    piece = data[index * size : (index + 1) * size]
    headers = {**account.headers, "Content-SHA256": _sha256(piece)}
    return await api.client.put(f"{VIDEOS}/{video['id']}/chunks/{index}", content=piece, headers=headers)


async def _upload(api: Api, account: Account, data: bytes, **fields: Any) -> dict[str, Any]:
    video = await _create(api, account, data, **fields)
    for index in range(video["chunk_count"]):
        assert (await _put(api, account, video, data, index)).status_code == 200
    response = await api.client.post(f"{VIDEOS}/{video['id']}/complete", headers=account.headers)
    assert response.status_code == 200, response.text
    ready: dict[str, Any] = response.json()
    return ready


async def _parts_left(api: Api, key: str) -> int:
    return await api.platform.blobs.discard_parts(key)


async def test_a_chunked_upload_resumes_and_ends_ready_with_its_probe(api: Api, sample_mp4: bytes) -> None:
    account = await api.new_user()
    video = await _create(api, account, sample_mp4)
    count = -(-len(sample_mp4) // CHUNK)
    assert count >= 4
    assert (video["status"], video["chunk_count"], video["chunk_size_bytes"]) == ("uploading", count, CHUNK)
    assert video["upload_url"] == f"{VIDEOS}/{video['id']}/chunks/{{index}}"
    for index in (0, 2, 0):  # chunk 1 is skipped; chunk 0 is sent again, as after a dropped connection
        response = await _put(api, account, video, sample_mp4, index)
        assert response.status_code == 200, response.text
        assert response.json() == {
            "index": index,
            "size_bytes": CHUNK,
            "sha256": _sha256(sample_mp4[index * CHUNK : (index + 1) * CHUNK]),
        }
    status = (await api.client.get(f"{VIDEOS}/{video['id']}/upload", headers=account.headers)).json()
    assert (status["received_chunks"], status["missing_chunks"]) == ([0, 2], [1, *range(3, count)])
    assert (status["received_bytes"], status["upload_offset_bytes"]) == (2 * CHUNK, CHUNK)
    early = await api.client.post(f"{VIDEOS}/{video['id']}/complete", headers=account.headers)
    assert early.status_code == 409
    assert early.json()["error"]["details"]["missing_chunks"] == [1, *range(3, count)]
    resent = await asyncio.gather(*(_put(api, account, video, sample_mp4, i) for i in status["missing_chunks"]))
    assert [response.status_code for response in resent] == [200] * len(status["missing_chunks"])
    status = (await api.client.get(f"{VIDEOS}/{video['id']}/upload", headers=account.headers)).json()
    assert (status["received_chunks"], status["missing_chunks"]) == (list(range(count)), [])
    assert status["received_bytes"] == status["upload_offset_bytes"] == len(sample_mp4)

    done = await api.client.post(f"{VIDEOS}/{video['id']}/complete", headers=account.headers)
    assert done.status_code == 200, done.text
    ready = done.json()
    assert (ready["status"], ready["size_bytes"], ready["sha256"]) == ("ready", len(sample_mp4), _sha256(sample_mp4))
    probe = ready["probe"]
    assert (probe["width_px"], probe["height_px"], probe["fps"], probe["frame_count"]) == (1768, 994, 30.0, 12)
    assert (probe["codec"], probe["rotation_deg"], probe["content_type"]) == ("h264", 0, "video/mp4")
    assert probe["duration_s"] == pytest.approx(12 / 30, abs=0.02)
    again = await api.client.post(f"{VIDEOS}/{video['id']}/complete", headers=account.headers)
    assert again.status_code == 200
    assert again.json() == ready
    assert (await api.client.get(f"{VIDEOS}/{video['id']}", headers=account.headers)).json() == ready

    key = f"users/{account.id}/videos/{video['id']}/original"
    async with api.platform.database.session() as session:
        row = await session.get(Video, uuid.UUID(video["id"]))
    assert row is not None
    assert (row.storage_key, row.status) == (key, VideoStatus.READY)
    assert await api.platform.blobs.read_bytes(key) == sample_mp4
    assert await _parts_left(api, key) == 0
    whole = await api.client.get(f"{VIDEOS}/{video['id']}/content", headers=account.headers)
    assert whole.status_code == 200
    assert whole.content == sample_mp4
    assert whole.headers["etag"] == f'"{_sha256(sample_mp4)}"'
    assert (whole.headers["accept-ranges"], whole.headers["content-type"]) == ("bytes", "video/mp4")
    assert whole.headers["content-length"] == str(len(sample_mp4))
    late = await _put(api, account, video, sample_mp4, 1)
    assert late.status_code == 409


async def test_range_downloads_answer_the_slices(api: Api, small_mp4: bytes) -> None:
    account = await api.new_user()
    video = await _upload(api, account, small_mp4)
    url, size = f"{VIDEOS}/{video['id']}/content", len(small_mp4)
    slices = {
        "bytes=0-99": (0, 100),
        "bytes=100-": (100, size),
        "bytes=-500": (size - 500, size),
        "bytes=0-0": (0, 1),
        f"bytes={size - 1}-{size + 1000}": (size - 1, size),
        f"bytes=-{size + 10}": (0, size),
    }
    for header, (start, end) in slices.items():
        response = await api.client.get(url, headers={**account.headers, "Range": header})
        assert response.status_code == 206, header
        assert response.content == small_mp4[start:end], header
        assert response.headers["content-range"] == f"bytes {start}-{end - 1}/{size}"
        assert response.headers["content-length"] == str(end - start)
        assert response.headers["content-type"] == "video/mp4"
    for header in (f"bytes={size}-", f"bytes={size + 5}-{size + 9}", "bytes=-0"):
        refused = await api.client.get(url, headers={**account.headers, "Range": header})
        assert refused.status_code == 416, header
        assert refused.headers["content-range"] == f"bytes */{size}"
        assert refused.json()["error"]["code"] == "range_not_satisfiable"
    for header in ("bytes=5-2", "bytes=0-1,5-6", "items=0-1", "bytes=abc", f"bytes={'9' * 5000}-"):  # ignored
        whole = await api.client.get(url, headers={**account.headers, "Range": header})
        assert (whole.status_code, whole.content) == (200, small_mp4), header
    etag = f'"{_sha256(small_mp4)}"'
    async with api.platform.database.session() as session, session.begin():  # as stored by the sample import
        row = await session.get(Video, uuid.UUID(video["id"]))
        assert row is not None
        row.probe = {name: value for name, value in video["probe"].items() if name != "content_type"}
    assert (await api.client.get(f"{VIDEOS}/{video['id']}", headers=account.headers)).json()["probe"] == video["probe"]
    same = await api.client.get(url, headers={**account.headers, "Range": "bytes=0-9", "If-Range": etag})
    assert (same.status_code, same.content, same.headers["content-type"]) == (206, small_mp4[:10], "video/mp4")
    other = await api.client.get(url, headers={**account.headers, "Range": "bytes=0-9", "If-Range": '"other"'})
    assert (other.status_code, other.content) == (200, small_mp4)


async def test_a_chunk_with_a_wrong_checksum_is_refused_and_not_stored(api: Api, small_mp4: bytes) -> None:
    account = await api.new_user()
    video = await _create(api, account, small_mp4)
    url = f"{VIDEOS}/{video['id']}/chunks/0"
    wrong = await api.client.put(url, content=small_mp4, headers={**account.headers, "Content-SHA256": "0" * 64})
    assert wrong.status_code == 422
    assert wrong.json()["error"]["details"]["received_sha256"] == _sha256(small_mp4)
    for headers in ({}, {"Content-SHA256": "xyz"}, {"Content-SHA256": _sha256(small_mp4), "X-Chunk-SHA256": "1" * 64}):
        response = await api.client.put(url, content=small_mp4, headers={**account.headers, **headers})
        assert response.status_code == 422, headers
    status = (await api.client.get(f"{VIDEOS}/{video['id']}/upload", headers=account.headers)).json()
    assert (status["status"], status["received_chunks"]) == ("uploading", [])
    other_name = await api.client.put(
        url, content=small_mp4, headers={**account.headers, "X-Chunk-SHA256": _sha256(small_mp4).upper()}
    )
    assert other_name.status_code == 200


async def _stream(total_bytes: int) -> AsyncIterator[bytes]:
    for _ in range(total_bytes // 65536):
        yield b"\0" * 65536


async def test_chunk_sizes_are_counted_on_the_bytes(api: Api) -> None:
    account = await api.new_user()
    video = await _create(api, account, b"", total_size_bytes=3 * CHUNK, sha256="a" * 64)
    url = f"{VIDEOS}/{video['id']}/chunks/1"
    short = b"\0" * (CHUNK - 1)
    response = await api.client.put(url, content=short, headers={**account.headers, "Content-SHA256": _sha256(short)})
    assert response.status_code == 422
    assert response.json()["error"]["details"]["received_bytes"] == CHUNK - 1
    long = b"\0" * (CHUNK + 1)
    declared = await api.client.put(url, content=long, headers={**account.headers, "Content-SHA256": _sha256(long)})
    assert declared.status_code == 413
    streamed = await api.client.put(
        url, content=_stream(4 * CHUNK), headers={**account.headers, "Content-SHA256": "0" * 64}
    )
    assert "content-length" not in streamed.request.headers
    assert streamed.status_code == 413
    assert streamed.json()["error"]["code"] == "video_too_large"
    big = await _create(
        api,
        account,
        b"",
        total_size_bytes=DEFAULT_CHUNK_BYTES + 1,
        sha256="a" * 64,
        chunk_size_bytes=DEFAULT_CHUNK_BYTES,
    )
    assert big["chunk_count"] == 2  # chunk 0: 8 MiB, far over the 1 MiB body limit of ordinary routes
    mp4_head = bytes.fromhex("00000018") + b"ftypisom" + bytes(12)
    full = mp4_head + b"\0" * (DEFAULT_CHUNK_BYTES - len(mp4_head))
    stored = await api.client.put(
        f"{VIDEOS}/{big['id']}/chunks/0", content=full, headers={**account.headers, "Content-SHA256": _sha256(full)}
    )
    assert stored.status_code == 200, stored.text
    huge = b"\0" * (MAX_CHUNK_BYTES + 1)
    over_cap = await api.client.put(url, content=huge, headers={**account.headers, "Content-SHA256": "0" * 64})
    assert over_cap.status_code == 413
    for index in ("3", "-1", "abc", str(MAX_CHUNKS)):
        outside = await api.client.put(
            f"{VIDEOS}/{video['id']}/chunks/{index}",
            content=b"x",
            headers={**account.headers, "Content-SHA256": "0" * 64},
        )
        assert outside.status_code == 422, index
    status = (await api.client.get(f"{VIDEOS}/{video['id']}/upload", headers=account.headers)).json()
    assert status["received_chunks"] == []


def _zip_bytes(member: bytes) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("clip.mp4", member)
    return buffer.getvalue()


DISGUISES = {
    "png": (lambda: png_bytes(), "a PNG image"),
    "elf": (lambda: Path(sys.executable).resolve().read_bytes()[:16384], "an ELF executable"),
    "zip": (lambda: _zip_bytes(b"\0" * 1000), "a ZIP archive"),
    "html": (lambda: b"<!DOCTYPE html><html><body><script>alert(1)</script></body></html>\n" * 20, "a text file"),
}


@pytest.mark.parametrize("disguise", sorted(DISGUISES))
async def test_a_file_disguised_as_mp4_is_415_and_fails_the_upload(api: Api, disguise: str) -> None:
    build, found = DISGUISES[disguise]
    data = build()
    account = await api.new_user()
    video = await _create(api, account, data, filename="holiday.mp4", content_type="video/mp4")
    refused = await _put(api, account, video, data, 0)
    assert refused.status_code == 415
    error = refused.json()["error"]
    assert (error["code"], error["details"]["found"]) == ("unsupported_video", found)
    failed = (await api.client.get(f"{VIDEOS}/{video['id']}", headers=account.headers)).json()
    assert (failed["status"], failed["error"]["code"]) == ("failed", "unsupported_video")
    assert (await _put(api, account, video, data, 0)).status_code == 409
    assert (await api.client.post(f"{VIDEOS}/{video['id']}/complete", headers=account.headers)).status_code == 409
    assert await _parts_left(api, f"users/{account.id}/videos/{video['id']}/original") == 0


async def test_a_truncated_video_fails_at_completion_with_a_reason(api: Api, small_mp4: bytes) -> None:
    account = await api.new_user()
    truncated = small_mp4[: len(small_mp4) // 2]  # the MP4 header (ftyp) is there, its index (moov) is not
    video = await _create(api, account, truncated)
    assert (await _put(api, account, video, truncated, 0)).status_code == 200
    response = await api.client.post(f"{VIDEOS}/{video['id']}/complete", headers=account.headers)
    assert response.status_code == 422
    error = response.json()["error"]
    assert error["code"] == "invalid_video"
    assert "truncated" in error["message"]
    assert "path" not in error["details"]
    assert str(api.platform.settings.library_dir) not in response.text  # no server path is shown
    failed = (await api.client.get(f"{VIDEOS}/{video['id']}", headers=account.headers)).json()
    assert (failed["status"], failed["error"]["code"], failed["probe"]) == ("failed", "invalid_video", None)
    key = f"users/{account.id}/videos/{video['id']}/original"
    assert not await api.platform.blobs.exists(key)
    assert await _parts_left(api, key) == 0
    unready = await api.client.get(f"{VIDEOS}/{video['id']}/content", headers=account.headers)
    assert unready.status_code == 409


async def test_a_whole_file_digest_mismatch_fails_the_upload(api: Api, small_mp4: bytes) -> None:
    account = await api.new_user()
    video = await _create(api, account, small_mp4, sha256=_sha256(b"another file"))
    assert (await _put(api, account, video, small_mp4, 0)).status_code == 200
    response = await api.client.post(f"{VIDEOS}/{video['id']}/complete", headers=account.headers)
    assert response.status_code == 422
    assert response.json()["error"]["details"]["sha256"] == _sha256(small_mp4)
    assert not await api.platform.blobs.exists(f"users/{account.id}/videos/{video['id']}/original")


async def test_uploads_over_the_limit_and_bad_declarations_are_refused(backends: dict[str, Any]) -> None:
    async with running_api(api_settings(backends, max_upload_bytes=1_000_000)) as api:
        account = await api.new_user()
        base = {"filename": "a.mp4", "total_size_bytes": 1_000_000, "sha256": "a" * 64}
        assert (await api.client.post(VIDEOS, json=base, headers=account.headers)).status_code == 201
        too_large = await api.client.post(VIDEOS, json=base | {"total_size_bytes": 1_000_001}, headers=account.headers)
        assert too_large.status_code == 413
        assert too_large.json()["error"]["details"]["max_upload_bytes"] == 1_000_000
        bad: list[dict[str, Any]] = [
            {"chunk_size_bytes": CHUNK - 1},
            {"chunk_size_bytes": MAX_CHUNK_BYTES + 1},
            {"sha256": "abc"},
            {"total_size_bytes": 0},
            {"total_size_bytes": "1000"},
            {"content_type": "text/html"},
            {"filename": "../"},
            {"owner_id": str(uuid.uuid4())},
            {"storage_key": "users/x/videos/y/original"},
            {"status": "ready"},
        ]
        for fields in bad:
            response = await api.client.post(VIDEOS, json=base | fields, headers=account.headers)
            assert response.status_code == 422, fields
    async with running_api(api_settings(backends)) as api:
        account = await api.new_user()
        many = base | {"total_size_bytes": MAX_CHUNKS * CHUNK + 1, "chunk_size_bytes": CHUNK}
        response = await api.client.post(VIDEOS, json=many, headers=account.headers)
        assert response.status_code == 422
        assert response.json()["error"]["details"]["max_chunks"] == MAX_CHUNKS


async def test_a_path_traversal_file_name_never_reaches_the_storage_key(
    api: Api, small_mp4: bytes, backends: dict[str, Any]
) -> None:
    account = await api.new_user()
    names = {
        "../../../../etc/passwd.mp4": "passwd.mp4",
        "..\\..\\boot.ini": "boot.ini",
        "/var/x.mp4\n": "x.mp4",
        "run\u202e4pm.mov": "run4pm.mov",
    }
    for sent, shown in names.items():
        video = await _upload(api, account, small_mp4, filename=sent)
        assert video["filename"] == shown
        async with api.platform.database.session() as session:
            row = await session.get(Video, uuid.UUID(video["id"]))
        assert row is not None
        assert row.storage_key == f"users/{account.id}/videos/{video['id']}/original"
        assert await api.platform.blobs.read_bytes(row.storage_key) == small_mp4
    library = Path(backends["library_dir"])
    assert not list(library.parent.glob("**/passwd.mp4"))
    assert not list(library.parent.glob("**/boot.ini"))


async def test_another_users_video_is_not_found(api: Api, small_mp4: bytes) -> None:
    owner, other = await api.new_user(), await api.new_user()
    ready = await _upload(api, owner, small_mp4)
    uploading = await _create(api, owner, small_mp4)
    for video in (ready, uploading):
        base = f"{VIDEOS}/{video['id']}"
        answers = [
            await api.client.get(base, headers=other.headers),
            await api.client.get(f"{base}/content", headers=other.headers),
            await api.client.get(f"{base}/upload", headers=other.headers),
            await api.client.put(
                f"{base}/chunks/0", content=small_mp4, headers={**other.headers, "Content-SHA256": _sha256(small_mp4)}
            ),
            await api.client.post(f"{base}/complete", headers=other.headers),
            await api.client.delete(base, headers=other.headers),
        ]
        assert [answer.status_code for answer in answers] == [404] * 6
        assert answers[0].json()["error"]["message"] == f"video {video['id']} not found"
    assert (await api.client.get(VIDEOS, headers=other.headers)).json()["total"] == 0
    assert (await api.client.get(f"{VIDEOS}/{ready['id']}", headers=owner.headers)).json() == ready
    unknown = await api.client.get(f"{VIDEOS}/{uuid.uuid4()}", headers=owner.headers)
    assert unknown.status_code == 404


async def test_delete_removes_the_row_and_every_blob(api: Api, small_mp4: bytes, sample_mp4: bytes) -> None:
    account = await api.new_user()
    ready = await _upload(api, account, small_mp4)
    uploading = await _create(api, account, sample_mp4)
    assert (await _put(api, account, uploading, sample_mp4, 1)).status_code == 200
    for video in (ready, uploading):
        key = f"users/{account.id}/videos/{video['id']}/original"
        response = await api.client.delete(f"{VIDEOS}/{video['id']}", headers=account.headers)
        assert response.status_code == 204
        assert (await api.client.get(f"{VIDEOS}/{video['id']}", headers=account.headers)).status_code == 404
        assert not await api.platform.blobs.exists(key)
        assert await _parts_left(api, key) == 0
        assert (await api.client.delete(f"{VIDEOS}/{video['id']}", headers=account.headers)).status_code == 404


async def test_the_list_is_mine_paginated_and_filtered(api: Api) -> None:
    account = await api.new_user()
    created = [await _create(api, account, b"", total_size_bytes=10, sha256="b" * 64) for _ in range(3)]
    first = (await api.client.get(VIDEOS, params={"limit": 2}, headers=account.headers)).json()
    assert (first["total"], len(first["items"])) == (3, 2)
    rest = (await api.client.get(VIDEOS, params={"limit": 2, "offset": 2}, headers=account.headers)).json()
    assert {item["id"] for item in first["items"] + rest["items"]} == {video["id"] for video in created}
    assert (await api.client.get(VIDEOS, params={"status": "ready"}, headers=account.headers)).json()["total"] == 0
    assert (await api.client.get(VIDEOS, params={"status": "bogus"}, headers=account.headers)).status_code == 422


def _empty_multipart_fields(count: int) -> tuple[bytes, str]:
    boundary = "spacecomputerboundary"
    parts = "".join(f'--{boundary}\r\nContent-Disposition: form-data; name="f{i}"\r\n\r\n\r\n' for i in range(count))
    return f"{parts}--{boundary}--\r\n".encode(), f"multipart/form-data; boundary={boundary}"


async def test_junk_bodies_and_missing_permissions_are_4xx(api: Api) -> None:
    account = await api.new_user()
    body, content_type = _empty_multipart_fields(1000)
    junk_posts = [
        (body, content_type),
        (b"\x00\xff" * 500, "application/json"),
        (b"[]", "application/json"),
        (b"null", "application/json"),
        (b"{" * 5000, "application/json"),
    ]
    for content, kind in junk_posts:
        response = await api.client.post(VIDEOS, content=content, headers={**account.headers, "Content-Type": kind})
        assert response.status_code == 422, content[:20]
    video = await _create(api, account, b"", total_size_bytes=2 * CHUNK, sha256="c" * 64)
    chunk_headers = {**account.headers, "Content-Type": content_type, "Content-SHA256": _sha256(body)}
    junk_chunk = await api.client.put(f"{VIDEOS}/{video['id']}/chunks/1", content=body, headers=chunk_headers)
    assert junk_chunk.status_code == 422
    assert (await api.client.post(VIDEOS, json={})).status_code == 401
    created_key = await api.client.post(
        "/api/v1/users/me/api-keys", json={"name": "reader", "scopes": ["ai.query"]}, headers=account.headers
    )
    key_headers = {"X-API-Key": created_key.json()["key"]}
    no_permission = await api.client.post(
        VIDEOS, json={"filename": "a.mp4", "total_size_bytes": 10, "sha256": "d" * 64}, headers=key_headers
    )
    assert no_permission.status_code == 403
    assert (await api.client.get(f"{VIDEOS}/{video['id']}", headers=key_headers)).status_code == 200
