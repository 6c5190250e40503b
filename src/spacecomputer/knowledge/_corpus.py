"""Knowledge documents: front matter, loading and splitting into passages.

A document is Markdown, plain text or PDF. Markdown may open with a front matter block between two ``---`` lines, in
the small YAML subset this module reads (no YAML dependency)::

    ---
    id: jump-height
    title: Jump height
    sport: jump
    tags: [jump, flight time]
    sources:
      - reference: "Author (year), Title. Journal vol:pages"
        supports: "what the reference supports"
    ---

``sources: []`` marks a project-written document. A passage is a heading's section (split further at blank lines
when longer than ``max_passage_chars``); its id is ``"{doc_id}#{n}"`` with ``n`` counted from 1.

A PDF (:mod:`~spacecomputer.knowledge._pdf`: limits and refusals) has no front matter and no Markdown: its title is
the one in its metadata, else its first line of text; its passages are its pages, each cut at blank lines, then at
line ends, then between words where longer than ``max_passage_chars``, so that a citation points to a page. A PDF
passage's heading is ``"p. {page}"`` and its id ``"{doc_id}#p{page}.{k}"``, ``page`` the page's place in the file
and ``k`` the passage's within the page, both counted from 1; a page without text has no passage.
"""

from __future__ import annotations

import hashlib
import re
import textwrap
from dataclasses import dataclass, field
from pathlib import Path

from spacecomputer.errors import InvalidInputError, NotFoundError
from spacecomputer.knowledge._pdf import MAX_PDF_PAGES, read_pdf

__all__ = [
    "SUPPORTED_SUFFIXES",
    "Document",
    "DocumentPassage",
    "Source",
    "load_document",
    "parse_front_matter",
    "shipped_corpus",
    "split_passages",
]

SUPPORTED_SUFFIXES = (".md", ".markdown", ".txt", ".pdf")
_CORPUS_DIR = Path(__file__).resolve().parent / "corpus"
_SLUG = re.compile(r"[^a-z0-9]+")


@dataclass(frozen=True)
class Source:
    """A reference and what it supports in the document."""

    reference: str
    supports: str


@dataclass(frozen=True)
class Document:
    """One knowledge document: metadata from its front matter and its body text.

    ``pages`` holds a PDF's text page by page (page ``n`` is ``pages[n - 1]``, ``""`` without text) and is empty
    for Markdown and text; a PDF's ``body`` is its pages' text joined by blank lines.
    """

    id: str
    title: str
    body: str
    sport: str = "general"
    tags: tuple[str, ...] = ()
    sources: tuple[Source, ...] = ()
    path: Path | None = None
    content_hash: str = field(default="", compare=False)
    pages: tuple[str, ...] = ()


@dataclass(frozen=True)
class DocumentPassage:
    """A passage of a document before indexing: ``id`` is ``"{doc_id}#{n}"``."""

    id: str
    doc_id: str
    heading: str
    text: str


def _scalar(raw: str) -> str:
    value = raw.strip()
    if len(value) >= 2 and value[0] == value[-1] and value[0] in "\"'":
        return value[1:-1]
    return value


def _inline_list(raw: str) -> list[str]:
    value = raw.strip()
    if not (value.startswith("[") and value.endswith("]")):
        return [_scalar(value)] if value else []
    return [_scalar(item) for item in value[1:-1].split(",") if item.strip()]


def parse_front_matter(text: str, *, origin: str = "<text>") -> tuple[dict[str, object], str]:
    r"""Split ``text`` into its front matter and its body.

    Parameters
    ----------
    text
        The whole document; front matter, if any, opens on its first line with ``---``.
    origin
        Name of the document, for error messages.

    Returns
    -------
    tuple
        ``(meta, body)``: ``meta`` maps keys to strings, lists of strings (``tags``) or lists of
        :class:`Source` (``sources``); empty without front matter.

    Raises
    ------
    InvalidInputError
        An unterminated block, a line that is not ``key: value``, or a source without ``reference``.

    Examples
    --------
    >>> meta, body = parse_front_matter("---\nid: a\ntags: [x, y]\nsources: []\n---\nHello")
    >>> meta["id"], meta["tags"], meta["sources"], body
    ('a', ['x', 'y'], [], 'Hello')

    """
    lines = text.splitlines()
    if not lines or lines[0].strip() != "---":
        return {}, text
    try:
        end = next(i for i in range(1, len(lines)) if lines[i].strip() == "---")
    except StopIteration:
        raise InvalidInputError(
            f"{origin}: front matter opened with '---' is never closed", details={"document": origin}
        ) from None
    meta: dict[str, object] = {}
    sources: list[Source] = []
    current: dict[str, str] | None = None
    in_sources = False
    for number, line in enumerate(lines[1:end], start=2):
        if not line.strip():
            continue
        stripped = line.strip()
        if in_sources and line.startswith((" ", "-")):
            if stripped.startswith("- "):
                current = {}
                sources.append(Source("", ""))
                stripped = stripped[2:]
            key, sep, value = stripped.partition(":")
            if current is None or not sep or key.strip() not in ("reference", "supports"):
                raise InvalidInputError(
                    f"{origin} line {number}: expected '- reference: ...' or 'supports: ...' under sources",
                    details={"document": origin, "line": number},
                )
            current[key.strip()] = _scalar(value)
            sources[-1] = Source(current.get("reference", ""), current.get("supports", ""))
            continue
        key, sep, value = line.partition(":")
        if not sep or line.startswith(" "):
            raise InvalidInputError(
                f"{origin} line {number}: expected 'key: value', got {line!r}",
                details={"document": origin, "line": number},
            )
        key = key.strip()
        in_sources = key == "sources"
        if in_sources:
            if value.strip() not in ("", "[]"):
                raise InvalidInputError(
                    f"{origin} line {number}: sources must be [] or a list of reference/supports entries",
                    details={"document": origin, "line": number},
                )
            meta["sources"] = sources
        elif key == "tags":
            meta[key] = _inline_list(value)
        else:
            meta[key] = _scalar(value)
    for source in sources:
        if not source.reference:
            raise InvalidInputError(f"{origin}: a source has no reference", details={"document": origin})
    body = "\n".join(lines[end + 1 :]).strip("\n")
    return meta, body


def _slug(text: str) -> str:
    return _SLUG.sub("-", text.lower()).strip("-") or "document"


def _first_line(text: str) -> str | None:
    return next((line.strip()[:120] for line in text.splitlines() if line.strip()), None)


def _load_pdf(path: Path, max_pages: int) -> Document:
    pdf = read_pdf(path, max_pages=max_pages)
    title = pdf.title or next(line for line in map(_first_line, pdf.pages) if line)
    return Document(
        id=_slug(path.stem),
        title=title,
        body="\n\n".join(page for page in pdf.pages if page),
        path=path.resolve(),
        content_hash=hashlib.sha256("\f".join((title, *pdf.pages)).encode("utf-8")).hexdigest(),
        pages=pdf.pages,
    )


def load_document(path: Path, *, max_pdf_pages: int = MAX_PDF_PAGES) -> Document:
    """Read a Markdown (``.md``, ``.markdown``), plain-text (``.txt``) or PDF (``.pdf``) document.

    Without front matter the id is the file name's slug and the title the first Markdown heading, else the first
    non-empty line (for a PDF: the title in its metadata, else its first line of text).

    Parameters
    ----------
    path
        The document's file; its type is taken from its suffix.
    max_pdf_pages
        Most pages accepted in a PDF (:data:`~spacecomputer.knowledge._pdf.MAX_PDF_PAGES` by default).

    Raises
    ------
    NotFoundError
        ``path`` is not a file.
    InvalidInputError
        An unsupported type, text that is not UTF-8, an empty document, malformed front matter, or a PDF that is
        refused (not a PDF, damaged, encrypted, too large or long, without text: ``details["reason"]``).

    """
    path = Path(path)
    if not path.is_file():
        raise NotFoundError(f"no such document: {path}", details={"path": str(path)})
    suffix = path.suffix.lower()
    if suffix not in SUPPORTED_SUFFIXES:
        raise InvalidInputError(
            f"unsupported document type {suffix or '(none)'!r} for {path.name}; expected one of "
            f"{', '.join(SUPPORTED_SUFFIXES)}",
            details={"path": str(path), "suffix": suffix, "expected": list(SUPPORTED_SUFFIXES)},
        )
    if suffix == ".pdf":
        return _load_pdf(path, max_pdf_pages)
    try:
        text = path.read_text(encoding="utf-8")
    except UnicodeDecodeError:
        raise InvalidInputError(f"{path.name} is not UTF-8 text", details={"path": str(path)}) from None
    if not text.strip():
        raise InvalidInputError(f"{path.name} is empty", details={"path": str(path)})
    meta, body = parse_front_matter(text, origin=path.name) if suffix != ".txt" else ({}, text)
    first_lines = [line.strip() for line in body.splitlines() if line.strip()]
    heading = next((line.lstrip("#").strip() for line in first_lines if line.startswith("# ")), None)
    title = str(meta.get("title") or heading or _first_line(body) or path.stem)
    tags = meta.get("tags", [])
    sources = meta.get("sources", [])
    return Document(
        id=_slug(str(meta.get("id") or path.stem)),
        title=title,
        body=body,
        sport=str(meta.get("sport") or "general"),
        tags=tuple(str(tag) for tag in tags) if isinstance(tags, list) else (),
        sources=tuple(s for s in sources if isinstance(s, Source)) if isinstance(sources, list) else (),
        path=path.resolve(),
        content_hash=hashlib.sha256(text.encode("utf-8")).hexdigest(),
    )


def shipped_corpus() -> list[Document]:
    """Return the documents shipped in ``spacecomputer/knowledge/corpus``, sorted by id."""
    return sorted((load_document(path) for path in _CORPUS_DIR.glob("*.md")), key=lambda d: d.id)


def _paragraph_chunks(text: str, max_chars: int) -> list[str]:
    chunks: list[str] = []
    for paragraph in re.split(r"\n\s*\n", text):
        paragraph = paragraph.strip()
        if not paragraph:
            continue
        if chunks and len(chunks[-1]) + len(paragraph) + 2 <= max_chars:
            chunks[-1] = f"{chunks[-1]}\n\n{paragraph}"
        else:
            chunks.append(paragraph)
    return chunks


def _page_chunks(text: str, max_chars: int) -> list[str]:
    """Cut a PDF page's text at blank lines, then line ends, then between words, into chunks of ``max_chars``."""
    pieces: list[tuple[str, str]] = []  # (separator from the piece before, piece)
    for paragraph in re.split(r"\n\s*\n", text):
        paragraph = paragraph.strip()
        if len(paragraph) <= max_chars:
            lines = [paragraph] if paragraph else []
        else:
            lines = [part for line in paragraph.splitlines() for part in textwrap.wrap(line, max_chars)]
        pieces += [("\n" if i else "\n\n", line) for i, line in enumerate(lines)]
    chunks: list[str] = []
    for separator, piece in pieces:
        if chunks and len(chunks[-1]) + len(separator) + len(piece) <= max_chars:
            chunks[-1] += separator + piece
        else:
            chunks.append(piece)
    return chunks


def split_passages(document: Document, *, max_passage_chars: int = 1200) -> list[DocumentPassage]:
    """Split ``document`` at its Markdown headings, then at blank lines where a section is too long.

    A PDF is split by page instead (module docstring), each passage at most ``max_passage_chars`` long.

    Parameters
    ----------
    document
        The document to split.
    max_passage_chars
        A section longer than this (characters) is cut at paragraph boundaries; a single longer paragraph stays
        whole (except in a PDF).

    """
    if document.pages:
        return [
            DocumentPassage(f"{document.id}#p{page}.{k}", document.id, f"p. {page}", chunk)
            for page, text in enumerate(document.pages, start=1)
            for k, chunk in enumerate(_page_chunks(text, max_passage_chars), start=1)
        ]
    sections: list[tuple[str, list[str]]] = [(document.title, [])]
    for line in document.body.splitlines():
        if re.match(r"#{1,6}\s", line):
            sections.append((line.lstrip("#").strip(), []))
        else:
            sections[-1][1].append(line)
    passages: list[DocumentPassage] = []
    for heading, lines in sections:
        for chunk in _paragraph_chunks("\n".join(lines), max_passage_chars):
            n = len(passages) + 1
            passages.append(DocumentPassage(f"{document.id}#{n}", document.id, heading, chunk))
    return passages
