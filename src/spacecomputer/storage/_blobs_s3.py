"""A :class:`~spacecomputer.storage.BlobStore` on any S3-compatible object store (AWS S3, SeaweedFS, MinIO…).

boto3 is blocking, so every call runs on the store's threads, one per pooled connection (a boto3 client is
thread-safe).
Streams up to ``part_size_bytes`` are stored with one ``PutObject``; longer ones with a multipart upload whose
parts are sent as the stream arrives (at most one part buffered), aborted on any failure. Either way the object
appears only when complete. Timeouts are short and retries few, so that a dead store fails fast and ``/ready``
can say so instead of hanging requests.
"""

from __future__ import annotations

import asyncio
import contextlib
import re
from collections.abc import AsyncGenerator, AsyncIterable, Callable
from typing import Any, TypeVar

import boto3  # type: ignore[import-untyped]
from botocore.config import Config  # type: ignore[import-untyped]
from botocore.exceptions import BotoCoreError, ClientError  # type: ignore[import-untyped]

from spacecomputer.errors import InvalidInputError, NotFoundError, UpstreamUnavailableError
from spacecomputer.storage._blobs import (
    READ_CHUNK_BYTES,
    BaseBlobStore,
    BlobInfo,
    BlobRange,
    SizeCappedHash,
    check_key,
    check_prefix,
    resolve_range,
)

__all__ = ["S3BlobStore"]

MIN_PART_BYTES = 5 * 1024 * 1024
"""S3's smallest multipart part (all but the last), bytes."""
DELETE_BATCH = 1000
"""Most keys one ``DeleteObjects`` call takes."""
_BUCKET = re.compile(r"[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]")
_MISSING = {"404", "NoSuchKey", "NotFound"}
_T = TypeVar("_T")


class S3BlobStore(BaseBlobStore):
    """Blobs as objects of one bucket.

    Parameters
    ----------
    bucket
        Bucket name: 3–63 characters of ``[a-z0-9.-]`` (S3's rule).
    endpoint_url
        The store's URL (``http://127.0.0.1:8333``); ``None`` for AWS S3.
    region_name, access_key_id, secret_access_key
        Credentials and region; ``None`` falls back to boto3's usual sources (environment, config files).
    part_size_bytes
        Multipart part size, bytes (≥ 5 MiB): also how much of a stream is held in memory at once.
    connect_timeout_s, read_timeout_s
        Socket timeouts, seconds.
    max_attempts
        Tries per request, the first included (botocore's "standard" retry mode).
    max_pool_connections
        Concurrent HTTP connections to the store, and threads making the requests.

    """

    def __init__(
        self,
        bucket: str,
        *,
        endpoint_url: str | None = None,
        region_name: str | None = None,
        access_key_id: str | None = None,
        secret_access_key: str | None = None,
        part_size_bytes: int = 8 * 1024 * 1024,
        connect_timeout_s: float = 2.0,
        read_timeout_s: float = 30.0,
        max_attempts: int = 2,
        max_pool_connections: int = 32,
    ) -> None:
        if not isinstance(bucket, str) or not _BUCKET.fullmatch(bucket) or ".." in bucket:
            raise InvalidInputError(
                f"invalid S3 bucket name {bucket!r}: expected 3–63 characters of [a-z0-9.-]", details={"bucket": bucket}
            )
        if part_size_bytes < MIN_PART_BYTES:
            raise InvalidInputError(
                f"part_size_bytes must be ≥ {MIN_PART_BYTES} (S3's minimum part); got {part_size_bytes}",
                details={"part_size_bytes": part_size_bytes},
            )
        super().__init__(max_threads=max_pool_connections, thread_name="s3-blobs")
        self._bucket = bucket
        self._part_size = part_size_bytes
        config = Config(
            connect_timeout=connect_timeout_s,
            read_timeout=read_timeout_s,
            retries={"max_attempts": max_attempts, "mode": "standard"},
            max_pool_connections=max_pool_connections,
            s3={"addressing_style": "path"},
            # Checksums only where S3 demands them: several S3-compatible stores reject the newer defaults.
            request_checksum_calculation="when_required",
            response_checksum_validation="when_required",
        )
        self._client: Any = boto3.session.Session().client(
            "s3",
            endpoint_url=endpoint_url,
            region_name=region_name or "us-east-1",
            aws_access_key_id=access_key_id,
            aws_secret_access_key=secret_access_key,
            config=config,
        )

    @property
    def bucket(self) -> str:
        """The bucket the blobs live in."""
        return self._bucket

    async def _call(self, function: Callable[..., _T], /, *, key: str | None = None, **kwargs: Any) -> _T:
        """Run one boto3 call in a thread, translating its errors into ours."""
        try:
            return await self._in_thread(function, **kwargs)
        except ClientError as error:
            code = str(error.response.get("Error", {}).get("Code", ""))
            if key is not None and code in _MISSING:
                raise NotFoundError(f"no blob {key!r}", details={"key": key}) from None
            raise UpstreamUnavailableError(
                f"the object store refused {function.__name__} on bucket {self._bucket!r}: {code or error}",
                details={"bucket": self._bucket, "code": code, "key": key},
            ) from error
        except BotoCoreError as error:
            raise UpstreamUnavailableError(
                f"the object store is unreachable ({type(error).__name__})",
                details={"bucket": self._bucket, "key": key},
            ) from error

    async def ensure_bucket(self) -> None:
        """Create the bucket if it does not exist (development and tests; production buckets are provisioned)."""
        try:
            await self._call(self._client.head_bucket, Bucket=self._bucket)
        except UpstreamUnavailableError as error:
            if error.details.get("code") not in _MISSING:
                raise
            await self._call(self._client.create_bucket, Bucket=self._bucket)

    async def put_stream(self, key: str, chunks: AsyncIterable[bytes], *, max_bytes: int | None = None) -> BlobInfo:
        """Store the stream at ``key`` (see :class:`~spacecomputer.storage.BlobStore`)."""
        check_key(key)
        hasher = SizeCappedHash(key, max_bytes)
        buffer = bytearray()
        upload_id: str | None = None
        parts: list[dict[str, Any]] = []
        try:
            async for chunk in chunks:
                hasher.count(chunk)
                buffer += chunk
                while len(buffer) >= self._part_size:
                    if upload_id is None:
                        created = await self._call(self._client.create_multipart_upload, Bucket=self._bucket, Key=key)
                        upload_id = str(created["UploadId"])
                    part, buffer = bytes(buffer[: self._part_size]), buffer[self._part_size :]
                    parts.append(await self._upload_part(key, upload_id, len(parts) + 1, part, hasher))
            rest = bytes(buffer)
            if upload_id is None:
                await self._in_thread(hasher.update, rest)
                await self._call(self._client.put_object, Bucket=self._bucket, Key=key, Body=rest)
            else:
                if rest:
                    parts.append(await self._upload_part(key, upload_id, len(parts) + 1, rest, hasher))
                await self._call(
                    self._client.complete_multipart_upload,
                    Bucket=self._bucket,
                    Key=key,
                    UploadId=upload_id,
                    MultipartUpload={"Parts": parts},
                )
        except BaseException:
            if upload_id is not None:
                await asyncio.shield(self._abort(key, upload_id))
            raise
        finally:
            if isinstance(chunks, AsyncGenerator):
                await chunks.aclose()
        return hasher.info()

    async def _upload_part(
        self, key: str, upload_id: str, number: int, data: bytes, hasher: SizeCappedHash
    ) -> dict[str, Any]:
        await self._in_thread(hasher.update, data)
        answer = await self._call(
            self._client.upload_part, Bucket=self._bucket, Key=key, UploadId=upload_id, PartNumber=number, Body=data
        )
        return {"PartNumber": number, "ETag": answer["ETag"]}

    async def _abort(self, key: str, upload_id: str) -> None:
        # If the store is gone, it expires the abandoned upload itself (bucket lifecycle rules).
        with contextlib.suppress(UpstreamUnavailableError):
            await self._call(self._client.abort_multipart_upload, Bucket=self._bucket, Key=key, UploadId=upload_id)

    async def open_range(self, key: str, start: int = 0, end: int | None = None) -> BlobRange:
        """Return bytes ``[start, end)`` of ``key`` for streaming (see :class:`~spacecomputer.storage.BlobStore`)."""
        total = await self.size(key)
        start, end = resolve_range(key, start, end, total)
        return BlobRange(start, end, total, self._chunks(key, start, end))

    async def _chunks(self, key: str, start: int, end: int) -> AsyncGenerator[bytes, None]:
        if end <= start:
            return
        answer = await self._call(
            self._client.get_object, key=key, Bucket=self._bucket, Key=key, Range=f"bytes={start}-{end - 1}"
        )
        body = answer["Body"]
        try:
            while True:
                try:
                    chunk: bytes = await self._in_thread(body.read, READ_CHUNK_BYTES)
                except (BotoCoreError, OSError) as error:
                    raise UpstreamUnavailableError(
                        f"reading {key!r} from the object store failed ({type(error).__name__})",
                        details={"bucket": self._bucket, "key": key},
                    ) from error
                if not chunk:
                    break
                yield chunk
        finally:
            body.close()

    async def size(self, key: str) -> int:
        """Return the size of ``key``, bytes."""
        check_key(key)
        answer = await self._call(self._client.head_object, key=key, Bucket=self._bucket, Key=key)
        return int(answer["ContentLength"])

    async def exists(self, key: str) -> bool:
        """Return whether ``key`` is stored."""
        try:
            await self.size(key)
        except NotFoundError:
            return False
        return True

    async def delete(self, key: str) -> None:
        """Delete ``key`` if present."""
        check_key(key)
        await self._call(self._client.delete_object, Bucket=self._bucket, Key=key)

    async def delete_prefix(self, prefix: str) -> int:
        """Delete every key starting with ``prefix`` (listed page by page); return how many."""
        check_prefix(prefix)
        deleted = 0
        token: dict[str, str] = {}
        while True:
            page = await self._call(
                self._client.list_objects_v2, Bucket=self._bucket, Prefix=prefix, MaxKeys=DELETE_BATCH, **token
            )
            keys = [{"Key": item["Key"]} for item in page.get("Contents", [])]
            if keys:
                answer = await self._call(
                    self._client.delete_objects, Bucket=self._bucket, Delete={"Objects": keys, "Quiet": True}
                )
                if answer.get("Errors"):
                    raise UpstreamUnavailableError(
                        f"the object store failed to delete {len(answer['Errors'])} objects under {prefix!r}",
                        details={"bucket": self._bucket, "prefix": prefix, "errors": answer["Errors"][:10]},
                    )
                deleted += len(keys)
            if not page.get("IsTruncated"):
                return deleted
            token = {"ContinuationToken": page["NextContinuationToken"]}

    async def ping(self) -> None:
        """Check that the bucket answers (``HeadBucket``)."""
        await self._call(self._client.head_bucket, Bucket=self._bucket)

    async def aclose(self) -> None:
        """Close the client's connection pool and stop the request threads."""
        await self._in_thread(self._client.close)
        self._shutdown_threads()
