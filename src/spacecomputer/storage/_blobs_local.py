"""A :class:`~spacecomputer.storage.BlobStore` on a local directory (the embedded default).

A key is a relative path under ``root``. Writes go to a temporary file in ``root/.tmp`` (same file system, so the
final ``os.replace`` is atomic), are flushed with ``fsync`` and renamed into place: a reader sees the old blob or
the complete new one, never a part. File I/O runs on the store's threads so the event loop never waits on the disk.
"""

from __future__ import annotations

import asyncio
import os
import uuid
from collections.abc import AsyncGenerator, AsyncIterable
from pathlib import Path
from typing import BinaryIO

from spacecomputer.errors import NotFoundError, UpstreamUnavailableError
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

__all__ = ["LocalBlobStore"]

TMP_DIR = ".tmp"
"""Folder under the root for writes in progress (keys cannot name it: their segments never start with '.')."""


def _write_chunk(file: BinaryIO, hasher: SizeCappedHash, chunk: bytes) -> None:
    hasher.update(chunk)
    file.write(chunk)


def _finish(file: BinaryIO) -> None:
    file.flush()
    os.fsync(file.fileno())
    file.close()


def _discard(file: BinaryIO, path: Path) -> None:
    file.close()
    path.unlink(missing_ok=True)


def _move_into_place(source: Path, target: Path) -> None:
    # A concurrent delete_prefix may prune the freshly made folder; make it again and retry.
    for attempt in range(3):
        target.parent.mkdir(parents=True, exist_ok=True)
        try:
            os.replace(source, target)
            return
        except FileNotFoundError:
            if attempt == 2:
                raise


def _read_range(path: Path, start: int, length: int) -> list[bytes]:
    chunks: list[bytes] = []
    with path.open("rb") as file:
        file.seek(start)
        while length > 0:
            chunk = file.read(min(READ_CHUNK_BYTES, length))
            if not chunk:
                break
            chunks.append(chunk)
            length -= len(chunk)
    return chunks


class LocalBlobStore(BaseBlobStore):
    """Blobs as files under ``root`` (created if missing).

    Parameters
    ----------
    root
        Folder that holds every blob; keys are paths relative to it (validated, so none escapes it).
    max_threads
        Threads doing the file I/O (concurrent reads and writes beyond that wait their turn).

    """

    def __init__(self, root: str | os.PathLike[str], *, max_threads: int = 16) -> None:
        super().__init__(max_threads=max_threads, thread_name="local-blobs")
        self._root = Path(root).expanduser().resolve()
        self._tmp = self._root / TMP_DIR
        self._tmp.mkdir(parents=True, exist_ok=True)

    @property
    def root(self) -> Path:
        """The folder that holds the blobs."""
        return self._root

    def path(self, key: str) -> Path:
        """Return the file that holds ``key`` (validated; the file need not exist)."""
        return self._root / check_key(key)

    async def put_stream(self, key: str, chunks: AsyncIterable[bytes], *, max_bytes: int | None = None) -> BlobInfo:
        """Store the stream at ``key`` atomically (see :class:`~spacecomputer.storage.BlobStore`)."""
        target = self.path(key)
        hasher = SizeCappedHash(key, max_bytes)
        temporary = self._tmp / f"{uuid.uuid4().hex}.partial"
        file = await self._in_thread(temporary.open, "wb")
        try:
            async for chunk in chunks:
                hasher.count(chunk)
                await self._in_thread(_write_chunk, file, hasher, bytes(chunk))
            await self._in_thread(_finish, file)
            await self._in_thread(_move_into_place, temporary, target)
        except BaseException:
            await asyncio.shield(self._in_thread(_discard, file, temporary))
            raise
        finally:
            if isinstance(chunks, AsyncGenerator):
                await chunks.aclose()
        return hasher.info()

    async def open_range(self, key: str, start: int = 0, end: int | None = None) -> BlobRange:
        """Return bytes ``[start, end)`` of ``key`` for streaming (see :class:`~spacecomputer.storage.BlobStore`)."""
        path = self.path(key)
        total = await self._size(path, key)
        start, end = resolve_range(key, start, end, total)
        return BlobRange(start, end, total, self._chunks(path, key, start, end))

    async def _chunks(self, path: Path, key: str, start: int, end: int) -> AsyncGenerator[bytes, None]:
        # Read a few chunks per thread hop: the disk is fast, the hop is what costs.
        step = 8 * READ_CHUNK_BYTES
        position = start
        while position < end:
            try:
                chunks = await self._in_thread(_read_range, path, position, min(step, end - position))
            except FileNotFoundError:
                raise NotFoundError(f"blob {key!r} was deleted while being read", details={"key": key}) from None
            if not chunks:
                break
            for chunk in chunks:
                position += len(chunk)
                yield chunk

    async def _size(self, path: Path, key: str) -> int:
        try:
            stat = await self._in_thread(path.stat)
        except (FileNotFoundError, NotADirectoryError):
            raise NotFoundError(f"no blob {key!r}", details={"key": key}) from None
        if not path.is_file():
            raise NotFoundError(f"no blob {key!r}", details={"key": key})
        return stat.st_size

    async def size(self, key: str) -> int:
        """Return the size of ``key``, bytes."""
        return await self._size(self.path(key), key)

    async def exists(self, key: str) -> bool:
        """Return whether ``key`` is stored."""
        return await self._in_thread(self.path(key).is_file)

    async def delete(self, key: str) -> None:
        """Delete ``key`` if present."""
        path = self.path(key)
        await self._in_thread(path.unlink, missing_ok=True)
        await self._in_thread(self._prune, path.parent)

    async def delete_prefix(self, prefix: str) -> int:
        """Delete every key starting with ``prefix``; return how many."""
        check_prefix(prefix)
        return await self._in_thread(self._delete_prefix, prefix)

    def _delete_prefix(self, prefix: str) -> int:
        folder = self._root / prefix.rpartition("/")[0] if "/" in prefix else self._root
        if not folder.is_dir():
            return 0
        deleted = 0
        folders: list[Path] = []
        for directory, subfolders, files in os.walk(folder, topdown=True):
            here = Path(directory)
            subfolders[:] = [name for name in subfolders if not name.startswith(".")]
            folders.append(here)
            for name in files:
                path = here / name
                if path.relative_to(self._root).as_posix().startswith(prefix):
                    path.unlink(missing_ok=True)
                    deleted += 1
        for here in reversed(folders):
            self._prune(here)
        return deleted

    def _prune(self, folder: Path) -> None:
        """Remove ``folder`` and its parents up to the root while they are empty."""
        while folder != self._root and self._root in folder.parents:
            try:
                folder.rmdir()
            except OSError:
                return
            folder = folder.parent

    async def ping(self) -> None:
        """Check that the root is a writable folder."""
        ok = await self._in_thread(lambda: self._tmp.is_dir() and os.access(self._tmp, os.W_OK | os.X_OK))
        if not ok:
            raise UpstreamUnavailableError(
                f"the blob folder {self._root} is missing or not writable", details={"root": str(self._root)}
            )

    async def aclose(self) -> None:
        """Stop the I/O threads (files are opened per call: none is left open)."""
        self._shutdown_threads()
