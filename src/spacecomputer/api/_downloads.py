"""Blob downloads over HTTP: the whole blob or one byte range (RFC 9110 §14), streamed from the blob store.

``Range: bytes=first-last``, ``bytes=first-`` and ``bytes=-suffix_length`` are served as ``206 Partial Content``
with ``Content-Range``; a range that starts past the end (or a zero suffix, or a malformed one) is ``416`` with
``Content-Range: bytes */size``. A header in another unit, or asking for several ranges, is ignored and the whole
blob is sent (RFC 9110 §14.2 lets a server do so); so is any ``Range`` sent with ``If-Range``: these blobs carry no
validator (no ``ETag``, no ``Last-Modified``) that its condition could match, and a condition that does not match
means the whole representation (RFC 9110 §13.1.5). Every answer says ``Accept-Ranges: bytes``. Nothing is read
before the client reads it: the body streams in the blob store's chunks.

A route declares the two headers with :data:`RequestedRange` and its answers with :func:`range_responses`, so that
the OpenAPI document shows them.
"""

from __future__ import annotations

import re
from collections.abc import AsyncIterator, Iterable, Mapping
from typing import Annotated, Any

from fastapi import Depends, Header, Request, Response
from fastapi.responses import StreamingResponse

from spacecomputer.api._errors import error_response, error_responses, request_id_of
from spacecomputer.storage import BlobRange, BlobStore

__all__ = [
    "RANGE_HEADER_DESCRIPTION",
    "RangeNotSatisfiableError",
    "RequestedRange",
    "blob_download",
    "parse_range",
    "range_responses",
]

RANGE_HEADER_DESCRIPTION = (
    "One byte range (RFC 9110 §14.1.2): `bytes=first-last`, `bytes=first-` or `bytes=-suffix_length`, answered "
    "with 206 and Content-Range. Another unit, or several ranges: the whole file (200)."
)
"""What the ``Range`` parameter of every download says (each route adds what it does with a refused range)."""
_RANGE = re.compile(r"\s*(\d{0,18})\s*-\s*(\d{0,18})\s*", re.ASCII)  # longer numbers are no byte position
_ACCEPT_RANGES = {
    "Accept-Ranges": {
        "description": "`bytes`: byte ranges of this file are served.",
        "required": True,
        "schema": {"type": "string", "enum": ["bytes"]},
    }
}
_CONTENT_RANGE = {
    "Content-Range": {
        "description": "`bytes first-last/size`: the bytes sent (both ends included) and the file's size.",
        "required": True,
        "schema": {"type": "string", "pattern": r"^bytes [0-9]+-[0-9]+/[0-9]+$"},
    }
}


class RangeNotSatisfiableError(ValueError):
    """The ``Range`` header asks for bytes the blob does not have, or cannot be read (416)."""


def parse_range(header: str | None, size_bytes: int) -> tuple[int, int] | None:
    """Return the ``[start, end)`` byte span one ``Range`` header asks of a blob of ``size_bytes``.

    ``None`` means "send the whole blob": no header, another unit than ``bytes``, or several ranges.

    Raises
    ------
    RangeNotSatisfiableError
        A malformed byte range, or one that selects no byte of the blob.

    Examples
    --------
    >>> parse_range("bytes=0-99", 1000), parse_range("bytes=900-", 1000), parse_range("bytes=-100", 1000)
    ((0, 100), (900, 1000), (900, 1000))
    >>> parse_range("bytes=990-2000", 1000), parse_range(None, 1000), parse_range("bytes=0-1,5-9", 1000)
    ((990, 1000), None, None)

    """
    if header is None:
        return None
    unit, _, spec = header.partition("=")
    if unit.strip().lower() != "bytes":
        return None
    if "," in spec:
        return None
    match = _RANGE.fullmatch(spec)
    if match is None or match.group(1) == match.group(2) == "":
        raise RangeNotSatisfiableError(f"malformed byte range {header!r}")
    first, last = match.group(1), match.group(2)
    if first == "":  # a suffix: the last `last` bytes
        length = int(last)
        if length == 0 or size_bytes == 0:
            raise RangeNotSatisfiableError(f"{header!r} selects no byte of {size_bytes}")
        return max(0, size_bytes - length), size_bytes
    start = int(first)
    end = size_bytes if last == "" else min(int(last) + 1, size_bytes)
    if last != "" and int(last) < start:
        raise RangeNotSatisfiableError(f"malformed byte range {header!r}: last before first")
    if start >= size_bytes:
        raise RangeNotSatisfiableError(f"{header!r} starts at or past the end of {size_bytes} bytes")
    return start, end


async def _requested_range(
    range_header: Annotated[
        str | None,
        Header(
            alias="Range",
            description=f"{RANGE_HEADER_DESCRIPTION} One that starts past the end, a zero suffix or a malformed "
            "one: 416.",
        ),
    ] = None,
    if_range: Annotated[
        str | None,
        Header(alias="If-Range", description="Sent with Range: the whole file is sent (these files carry no ETag)."),
    ] = None,
) -> str | None:
    """Return the ``Range`` header to honour: none when ``If-Range`` is sent too (module docstring)."""
    return None if if_range is not None else range_header


RequestedRange = Annotated[str | None, Depends(_requested_range)]
"""The ``Range`` header a blob download honours (for :func:`blob_download`); declares both headers in OpenAPI."""


def range_responses(
    media_types: Iterable[str], *, what: str, refused: str = "The Range is malformed or selects no byte of the file."
) -> dict[int | str, dict[str, Any]]:
    """Return the OpenAPI answers of a download that honours ``Range``: the whole file, one byte range, 416.

    Parameters
    ----------
    media_types
        The types the file may be served as (``Content-Type`` of the 200 and 206 answers; ``video/*`` ranges allowed).
    what
        What the file is, for the descriptions ("video", "report").
    refused
        What the 416 answer means: by default :func:`parse_range`'s refusals (a malformed range too; the video
        download ignores a malformed range, and says so).

    """
    content: dict[str, Any] = {media_type: {} for media_type in media_types}
    refusal = error_responses(416)
    refusal[416]["description"] = refused
    refusal[416]["headers"] |= _ACCEPT_RANGES
    return {
        200: {"description": f"The whole {what}.", "content": content, "headers": dict(_ACCEPT_RANGES)},
        206: {
            "description": f"One byte range of the {what}.",
            "content": content,
            "headers": _ACCEPT_RANGES | _CONTENT_RANGE,
        },
        **refusal,
    }


async def _chunks(blob_range: BlobRange) -> AsyncIterator[bytes]:
    try:
        async for chunk in blob_range:
            yield chunk
    finally:  # the client may go away half-way: release the file or connection
        await blob_range.aclose()


async def blob_download(
    request: Request,
    blobs: BlobStore,
    key: str,
    *,
    range_header: str | None,
    media_type: str,
    filename: str,
    inline: bool,
    headers: Mapping[str, str] | None = None,
) -> Response:
    """Answer ``request`` with the blob at ``key``, or the byte range ``range_header`` asks of it (module docstring).

    Parameters
    ----------
    request
        The request (its id, for a 416).
    blobs, key
        The blob store and the blob's key.
    range_header
        The ``Range`` header to honour (:data:`RequestedRange`); ``None`` sends the whole blob.
    media_type
        ``Content-Type`` of the answer.
    filename
        Name offered to the browser (``Content-Disposition``); a server-chosen ASCII name, never a user's.
    inline
        Whether a browser shows the blob (a video, a report) rather than saving it.
    headers
        More response headers (a report's own Content-Security-Policy).

    Raises
    ------
    NotFoundError
        No blob at ``key``.
    UpstreamUnavailableError
        The blob store does not answer.

    """
    size_bytes = await blobs.size(key)
    try:
        span = parse_range(range_header, size_bytes)
    except RangeNotSatisfiableError as error:
        return error_response(
            416,
            "range_not_satisfiable",
            str(error),
            request_id=request_id_of(request.scope),
            details={"size_bytes": size_bytes},
            headers={"Accept-Ranges": "bytes", "Content-Range": f"bytes */{size_bytes}"},
        )
    start, end = span if span is not None else (0, size_bytes)
    blob_range = await blobs.open_range(key, start, end)
    answer = {
        **dict(headers or {}),
        "Accept-Ranges": "bytes",
        "Content-Length": str(blob_range.length_bytes),
        "Content-Disposition": f'{"inline" if inline else "attachment"}; filename="{filename}"',
    }
    if span is not None:
        answer["Content-Range"] = f"bytes {start}-{end - 1}/{size_bytes}"
    return StreamingResponse(
        _chunks(blob_range), status_code=206 if span is not None else 200, media_type=media_type, headers=answer
    )
