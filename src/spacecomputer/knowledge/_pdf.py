"""Text of a PDF document, page by page, for the knowledge base (``pypdf``; no OCR).

:func:`read_pdf` returns the title from the PDF's metadata (``None`` without one) and the text of every page in
order: page ``n`` of the file, counted from 1 whatever labels the PDF prints on its pages, is ``pages[n - 1]``. A
page without a text layer (a scanned image, a drawing) reads as ``""``. A PDF encrypted only against editing, with
an empty password to open it, is read; one that needs a password is refused, since none is asked for.

Refusals are :class:`~spacecomputer.errors.InvalidInputError`, with ``details["reason"]``:

==================  ==================================================================================
reason              when
==================  ==================================================================================
``too_large``       the file is larger than ``max_bytes`` (:data:`MAX_PDF_BYTES`)
``not_pdf``         the file is empty, or has no ``%PDF-`` header in its first 1024 bytes (our window)
``damaged``         pypdf cannot read the file, its page tree or one of its pages
``encrypted``       a password is needed to open it
``too_many_pages``  more than ``max_pages`` pages (:data:`MAX_PDF_PAGES`)
``no_text``         no page has any text: a scanned document (OCR is not done) or no page at all
==================  ==================================================================================

The two limits are our own. pypdf holds the whole file in memory, hence the size limit; the page limit bounds the
time to index one document. Measured on the 2-core development machine while it was busy (load about 9): a dense
100-page PDF (45 lines a page) took 0.85 s to read and made 400 passages, which took 75 s to embed with MiniLM.
"""

from __future__ import annotations

import io
from dataclasses import dataclass
from pathlib import Path

from pypdf import PasswordType, PdfReader

from spacecomputer.errors import InvalidInputError, NotFoundError

__all__ = ["MAX_PDF_BYTES", "MAX_PDF_PAGES", "PdfText", "read_pdf"]

MAX_PDF_PAGES = 300
"""Most pages :func:`read_pdf` reads by default (our own limit: the indexing time of one document)."""
MAX_PDF_BYTES = 100 * 2**20
"""Largest file :func:`read_pdf` reads by default, bytes (100 MiB; our own limit: pypdf reads it into memory)."""
_HEADER = b"%PDF-"
_HEADER_WINDOW_BYTES = 1024


@dataclass(frozen=True)
class PdfText:
    """A PDF's metadata title (``None`` when it has none) and the text of each page, in page order."""

    title: str | None
    pages: tuple[str, ...]


def _refusal(path: Path, message: str, reason: str, **details: object) -> InvalidInputError:
    return InvalidInputError(f"{path.name} {message}", details={"path": str(path), "reason": reason, **details})


def _open(path: Path, data: bytes) -> tuple[PdfReader, int, str | None]:
    """Open ``data`` and return the reader, its page count and its title; refuse a damaged or locked file."""
    try:
        reader = PdfReader(io.BytesIO(data))
        # pypdf opens a file whose password to open is empty by itself; decrypt("") tells whether that worked.
        if reader.is_encrypted and reader.decrypt("") == PasswordType.NOT_DECRYPTED:
            raise _refusal(
                path,
                "is encrypted and needs a password to open; save a copy without the password and add that",
                "encrypted",
            )
        n_pages = len(reader.pages)
        metadata = reader.metadata
        title = (metadata.title or "").strip() if metadata is not None else ""
    except InvalidInputError:
        raise
    except Exception as error:  # pypdf raises its own errors but also ValueError, KeyError, ... on malformed files
        raise _refusal(path, f"is a damaged PDF that cannot be read ({error})", "damaged") from error
    return reader, n_pages, title or None


def read_pdf(path: Path, *, max_pages: int = MAX_PDF_PAGES, max_bytes: int = MAX_PDF_BYTES) -> PdfText:
    """Read the title and the text of every page of the PDF at ``path``.

    Parameters
    ----------
    path
        The PDF file.
    max_pages
        Most pages accepted; a longer PDF is refused before any text is extracted.
    max_bytes
        Largest file accepted, bytes; a larger one is refused before it is read.

    Raises
    ------
    NotFoundError
        ``path`` is not a file.
    InvalidInputError
        A refused file (module docstring: ``details["reason"]`` says why), or a limit below 1.

    """
    path = Path(path)
    if max_pages < 1 or max_bytes < 1:
        raise InvalidInputError(
            f"max_pages and max_bytes must be at least 1; got {max_pages} and {max_bytes}",
            details={"max_pages": max_pages, "max_bytes": max_bytes},
        )
    if not path.is_file():
        raise NotFoundError(f"no such document: {path}", details={"path": str(path)})
    size = path.stat().st_size
    if size > max_bytes:
        raise _refusal(
            path, f"is {size} bytes, over the limit of {max_bytes}", "too_large", bytes=size, limit=max_bytes
        )
    data = path.read_bytes()
    if not data:
        raise _refusal(path, "is empty, not a PDF", "not_pdf")
    if _HEADER not in data[:_HEADER_WINDOW_BYTES]:
        raise _refusal(
            path, f"is not a PDF: it does not start with {_HEADER.decode()} (starts {data[:8]!r})", "not_pdf"
        )
    reader, n_pages, title = _open(path, data)
    if n_pages > max_pages:
        raise _refusal(
            path,
            f"has {n_pages} pages, over the limit of {max_pages}",
            "too_many_pages",
            pages=n_pages,
            limit=max_pages,
        )
    pages = []
    for number, page in enumerate(reader.pages, start=1):
        try:
            text = page.extract_text()
        except Exception as error:  # as in _open: a malformed page can raise anything
            raise _refusal(path, f"page {number} cannot be read ({error})", "damaged", page=number) from error
        pages.append(text.replace("\x00", "").strip())
    if not pages:
        raise _refusal(path, "has no pages", "no_text", pages=0)
    if not any(pages):
        raise _refusal(
            path,
            f"has no extractable text on any of its {len(pages)} page(s): it looks like a scanned image, and OCR is "
            "not supported; add a version with a text layer, or the text as .txt or .md",
            "no_text",
            pages=len(pages),
        )
    return PdfText(title, tuple(pages))
