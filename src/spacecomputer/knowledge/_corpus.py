"""Knowledge documents: front matter, loading and splitting into passages.

A document is Markdown or plain text. Markdown may open with a front matter block between two ``---`` lines, in
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
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass, field
from pathlib import Path

from spacecomputer.errors import InvalidInputError, NotFoundError

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

SUPPORTED_SUFFIXES = (".md", ".markdown", ".txt")
_CORPUS_DIR = Path(__file__).resolve().parent / "corpus"
_SLUG = re.compile(r"[^a-z0-9]+")


@dataclass(frozen=True)
class Source:
    """A reference and what it supports in the document."""

    reference: str
    supports: str


@dataclass(frozen=True)
class Document:
    """One knowledge document: metadata from its front matter and its body text."""

    id: str
    title: str
    body: str
    sport: str = "general"
    tags: tuple[str, ...] = ()
    sources: tuple[Source, ...] = ()
    path: Path | None = None
    content_hash: str = field(default="", compare=False)


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


def load_document(path: Path) -> Document:
    """Read a Markdown (``.md``, ``.markdown``) or plain-text (``.txt``) document.

    Without front matter the id is the file name's slug and the title the first Markdown heading, else the first
    non-empty line.

    Raises
    ------
    NotFoundError
        ``path`` is not a file.
    InvalidInputError
        An unsupported type (PDF included: no PDF parser is bundled), text that is not UTF-8, an empty document or
        malformed front matter.

    """
    path = Path(path)
    if not path.is_file():
        raise NotFoundError(f"no such document: {path}", details={"path": str(path)})
    suffix = path.suffix.lower()
    if suffix not in SUPPORTED_SUFFIXES:
        hint = " (PDF is not supported yet: convert it to text or Markdown first)" if suffix == ".pdf" else ""
        raise InvalidInputError(
            f"unsupported document type {suffix or '(none)'!r} for {path.name}{hint}; expected one of "
            f"{', '.join(SUPPORTED_SUFFIXES)}",
            details={"path": str(path), "suffix": suffix, "expected": list(SUPPORTED_SUFFIXES)},
        )
    try:
        text = path.read_text(encoding="utf-8")
    except UnicodeDecodeError:
        raise InvalidInputError(f"{path.name} is not UTF-8 text", details={"path": str(path)}) from None
    if not text.strip():
        raise InvalidInputError(f"{path.name} is empty", details={"path": str(path)})
    meta, body = parse_front_matter(text, origin=path.name) if suffix != ".txt" else ({}, text)
    first_lines = [line.strip() for line in body.splitlines() if line.strip()]
    heading = next((line.lstrip("#").strip() for line in first_lines if line.startswith("# ")), None)
    title = str(meta.get("title") or heading or (first_lines[0][:120] if first_lines else path.stem))
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


def split_passages(document: Document, *, max_passage_chars: int = 1200) -> list[DocumentPassage]:
    """Split ``document`` at its Markdown headings, then at blank lines where a section is too long.

    Parameters
    ----------
    document
        The document to split.
    max_passage_chars
        A section longer than this (characters) is cut at paragraph boundaries; a single longer paragraph stays
        whole.

    """
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
