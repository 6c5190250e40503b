"""The hybrid passage index: SQLite FTS5 (BM25) plus MiniLM cosine similarity, fused by reciprocal rank.

Persisted in one directory: ``index.sqlite`` (documents, passages, FTS5 table) and ``embeddings.npy`` with
``embeddings.json`` (the passage id of each row and the embedder's name). Documents are re-indexed only when their
content hash changes, so an unchanged corpus costs no embedding.

Reciprocal rank fusion (Cormack, Clarke and Büttcher 2009, "Reciprocal rank fusion outperforms Condorcet and
individual rank learning methods", SIGIR '09): a passage's score is ``Σ 1 / (k + rank)`` over the two rankings
it appears in (ranks from 1), with ``k = 60`` as in that paper. Each ranking keeps its best ``candidates``
passages.
"""

from __future__ import annotations

import json
import re
import sqlite3
import threading
from collections import OrderedDict
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

import numpy as np
from numpy.typing import NDArray

from spacecomputer.errors import ConflictError, InvalidInputError, OutputError
from spacecomputer.knowledge._corpus import Document, Source, load_document, shipped_corpus, split_passages
from spacecomputer.knowledge._embedder import Embedder

__all__ = ["QUERY_CACHE_ENTRIES", "RRF_K", "IndexUpdate", "KnowledgeIndex", "Passage", "reciprocal_rank_fusion"]

RRF_K = 60
QUERY_CACHE_ENTRIES = 512
"""Question embeddings kept per index (a repeated question is not embedded again)."""
_WORD = re.compile(r"\w+", re.UNICODE)
_SCHEMA = """
CREATE TABLE IF NOT EXISTS documents (
    doc_id TEXT PRIMARY KEY, title TEXT NOT NULL, sport TEXT NOT NULL, tags TEXT NOT NULL,
    sources TEXT NOT NULL, path TEXT, origin TEXT NOT NULL, content_hash TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS passages (
    passage_id TEXT PRIMARY KEY, doc_id TEXT NOT NULL, heading TEXT NOT NULL, text TEXT NOT NULL
);
CREATE VIRTUAL TABLE IF NOT EXISTS passages_fts USING fts5(passage_id UNINDEXED, title, tags, text);
"""


@dataclass(frozen=True)
class Passage:
    """A search result: a passage, its document and its fused score (higher is better)."""

    id: str
    doc_id: str
    title: str
    text: str
    score: float
    sources: tuple[Source, ...]


@dataclass(frozen=True)
class IndexUpdate:
    """What :meth:`KnowledgeIndex.sync` changed: document ids (re)indexed, unchanged and removed."""

    indexed: tuple[str, ...]
    unchanged: tuple[str, ...]
    removed: tuple[str, ...]


def reciprocal_rank_fusion(rankings: list[list[str]], *, k: int = RRF_K) -> dict[str, float]:
    """Fuse rankings (best first) into ``{id: Σ 1 / (k + rank)}``, ranks counted from 1.

    Examples
    --------
    >>> fused = reciprocal_rank_fusion([["a", "b"], ["b"]], k=60)
    >>> round(fused["b"], 5), round(fused["a"], 5)
    (0.03252, 0.01639)

    """
    fused: dict[str, float] = {}
    for ranking in rankings:
        for rank, item in enumerate(ranking, start=1):
            fused[item] = fused.get(item, 0.0) + 1.0 / (k + rank)
    return fused


class KnowledgeIndex:
    """A persisted hybrid index over knowledge documents.

    Parameters
    ----------
    directory
        Where the index lives; created when missing.
    embedder
        Dense embedding model (:class:`~spacecomputer.knowledge.MiniLMEmbedder` in production).

    """

    def __init__(self, directory: Path, embedder: Embedder) -> None:
        self.directory = Path(directory)
        self.embedder = embedder
        try:
            self.directory.mkdir(parents=True, exist_ok=True)
            # One connection shared by the threads a service answers from; every use holds ``_lock``.
            self._db = sqlite3.connect(self.directory / "index.sqlite", check_same_thread=False)
            self._db.executescript(_SCHEMA)
        except (OSError, sqlite3.Error) as error:
            raise OutputError(
                f"cannot open the knowledge index in {self.directory}: {error}",
                details={"directory": str(self.directory)},
            ) from error
        self._lock = threading.RLock()
        self._ids: list[str] = []
        self._vectors: NDArray[np.float32] = np.zeros((0, 0), dtype=np.float32)
        self._queries: OrderedDict[str, NDArray[np.float32]] = OrderedDict()
        self._load_embeddings()

    def close(self) -> None:
        """Close the SQLite connection."""
        self._db.close()

    def __enter__(self) -> KnowledgeIndex:
        return self

    def __exit__(self, *_: object) -> None:
        self.close()

    def _load_embeddings(self) -> None:
        meta_path = self.directory / "embeddings.json"
        if not meta_path.is_file():
            return
        meta = json.loads(meta_path.read_text(encoding="utf-8"))
        if meta.get("embedder") != self.embedder.name:
            self._db.execute("UPDATE documents SET content_hash = ''")
            return
        vectors = np.load(self.directory / "embeddings.npy")
        if vectors.shape[0] != len(meta["ids"]):
            # A half-written index: embed everything again rather than pair vectors with the wrong passages.
            self._db.execute("UPDATE documents SET content_hash = ''")
            return
        self._ids = list(meta["ids"])
        self._vectors = vectors

    def _save_embeddings(self) -> None:
        np.save(self.directory / "embeddings.npy", self._vectors)
        meta = {"embedder": self.embedder.name, "ids": self._ids}
        (self.directory / "embeddings.json").write_text(json.dumps(meta), encoding="utf-8")

    def document_ids(self) -> dict[str, str]:
        """Return ``{doc_id: origin}`` of every indexed document (origin ``"shipped"`` or ``"user"``)."""
        return dict(self._db.execute("SELECT doc_id, origin FROM documents").fetchall())

    def _remove(self, doc_ids: set[str]) -> None:
        if not doc_ids:
            return
        marks = ",".join("?" * len(doc_ids))
        gone = {
            row[0] for row in self._db.execute(f"SELECT passage_id FROM passages WHERE doc_id IN ({marks})", [*doc_ids])
        }
        self._db.execute(
            f"DELETE FROM passages_fts WHERE passage_id IN (SELECT passage_id FROM passages WHERE doc_id IN ({marks}))",
            [*doc_ids],
        )
        self._db.execute(f"DELETE FROM passages WHERE doc_id IN ({marks})", [*doc_ids])
        self._db.execute(f"DELETE FROM documents WHERE doc_id IN ({marks})", [*doc_ids])
        keep = [i for i, pid in enumerate(self._ids) if pid not in gone]
        self._ids = [self._ids[i] for i in keep]
        self._vectors = self._vectors[keep] if self._vectors.size else self._vectors

    def _insert(self, documents: list[Document], origin: str) -> None:
        rows, texts = [], []
        for doc in documents:
            self._db.execute(
                "INSERT INTO documents VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                (
                    doc.id,
                    doc.title,
                    doc.sport,
                    json.dumps(list(doc.tags)),
                    json.dumps([[s.reference, s.supports] for s in doc.sources]),
                    str(doc.path) if doc.path else None,
                    origin,
                    doc.content_hash,
                ),
            )
            for passage in split_passages(doc):
                rows.append((passage.id, doc.id, passage.heading, passage.text))
                self._db.execute(
                    "INSERT INTO passages_fts VALUES (?, ?, ?, ?)",
                    (passage.id, f"{doc.title} {passage.heading}", " ".join(doc.tags), passage.text),
                )
                texts.append(f"{doc.title}. {passage.heading}. {passage.text}")
        self._db.executemany("INSERT INTO passages VALUES (?, ?, ?, ?)", rows)
        if texts:
            vectors = self.embedder.embed(texts)
            self._vectors = vectors if not self._ids else np.concatenate([self._vectors, vectors])
            self._ids.extend(row[0] for row in rows)

    def sync(self, documents: list[Document], *, origin: str = "shipped", remove_missing: bool = True) -> IndexUpdate:
        """Bring the index in line with ``documents``, re-embedding only new or changed ones.

        Parameters
        ----------
        documents
            The documents of ``origin`` that should be indexed.
        origin
            ``"shipped"`` or ``"user"``; ``remove_missing`` only removes documents of the same origin.
        remove_missing
            Drop indexed documents of ``origin`` that are not in ``documents``.

        """
        with self._lock:
            stored = dict(self._db.execute("SELECT doc_id, content_hash FROM documents WHERE origin = ?", (origin,)))
            others = {d for d, o in self.document_ids().items() if o != origin}
            clash = sorted(d.id for d in documents if d.id in others)
            if clash:
                raise ConflictError(
                    f"document id(s) {', '.join(clash)} already indexed from another origin", details={"ids": clash}
                )
            changed = [d for d in documents if stored.get(d.id) != d.content_hash or not d.content_hash]
            changed_ids = {d.id for d in changed}
            unchanged = tuple(sorted(d.id for d in documents if d.id not in changed_ids))
            removed = set(stored) - {d.id for d in documents} if remove_missing else set()
            with self._db:
                self._remove({d.id for d in changed} | removed)
                self._insert(changed, origin)
            self._save_embeddings()
            return IndexUpdate(tuple(sorted(d.id for d in changed)), unchanged, tuple(sorted(removed)))

    def sync_shipped(self) -> IndexUpdate:
        """Index the shipped corpus (``spacecomputer/knowledge/corpus``), incrementally."""
        return self.sync(shipped_corpus(), origin="shipped")

    def add_document(self, path: Path) -> Document:
        """Index a user's Markdown or text file, replacing an earlier version with the same id.

        Raises
        ------
        NotFoundError, InvalidInputError
            See :func:`~spacecomputer.knowledge.load_document` (PDF is refused).
        ConflictError
            The document's id is one of the shipped documents'.

        """
        with self._lock:
            document = load_document(path)
            self.sync([document], origin="user", remove_missing=False)
            return document

    def _lexical(self, query: str, limit: int) -> list[str]:
        words = _WORD.findall(query.lower())
        if not words:
            return []
        match = " OR ".join(f'"{word}"' for word in words)
        rows = self._db.execute(
            "SELECT passage_id FROM passages_fts WHERE passages_fts MATCH ? ORDER BY bm25(passages_fts) LIMIT ?",
            (match, limit),
        )
        return [row[0] for row in rows]

    def _dense(self, query: str, limit: int) -> list[str]:
        if not self._ids:
            return []
        vector = self._queries.get(query)
        if vector is None:
            vector = self.embedder.embed([query])[0]
            self._queries[query] = vector
            if len(self._queries) > QUERY_CACHE_ENTRIES:
                self._queries.popitem(last=False)
        similarity = self._vectors @ vector
        order = np.argsort(-similarity, kind="stable")[:limit]
        return [self._ids[i] for i in order]

    def search(
        self, query: str, k: int = 5, *, candidates: int = 50, mode: Literal["hybrid", "bm25", "dense"] = "hybrid"
    ) -> list[Passage]:
        """Return the ``k`` best passages for ``query``, best first.

        Parameters
        ----------
        query
            A question or keywords in natural language.
        k
            Number of passages to return (at most the number indexed).
        candidates
            How many passages each ranking (BM25, cosine) contributes to the fusion.
        mode
            ``hybrid`` (both rankings fused by reciprocal rank), or one ranking alone (``bm25``, ``dense``), for
            evaluating what the fusion adds; a single ranking is still scored by reciprocal rank.

        Raises
        ------
        InvalidInputError
            An empty query or ``k < 1``.

        """
        with self._lock:
            if not query.strip():
                raise InvalidInputError("the search query is empty", details={"query": query})
            if k < 1:
                raise InvalidInputError(f"k must be at least 1, got {k}", details={"k": k})
            if mode not in {"hybrid", "bm25", "dense"}:
                raise InvalidInputError(f"mode must be hybrid, bm25 or dense; got {mode!r}", details={"mode": mode})
            rankings = []
            if mode in {"hybrid", "bm25"}:
                rankings.append(self._lexical(query, candidates))
            if mode in {"hybrid", "dense"}:
                rankings.append(self._dense(query, candidates))
            fused = reciprocal_rank_fusion(rankings)
            best = sorted(fused.items(), key=lambda item: (-item[1], item[0]))[:k]
            return [self._passage(passage_id, score) for passage_id, score in best]

    def _passage(self, passage_id: str, score: float) -> Passage:
        doc_id, title, text, sources = self._db.execute(
            "SELECT p.doc_id, d.title, p.text, d.sources FROM passages p JOIN documents d USING (doc_id) "
            "WHERE p.passage_id = ?",
            (passage_id,),
        ).fetchone()
        cited = tuple(Source(ref, sup) for ref, sup in json.loads(sources))
        return Passage(passage_id, doc_id, title, text, score, cited)

    def lead_passage(self, doc_id: str) -> Passage | None:
        """Return the first passage of document ``doc_id`` (its opening section; score 0), None if not indexed."""
        with self._lock:
            row = self._db.execute(
                "SELECT passage_id FROM passages WHERE doc_id = ? ORDER BY rowid LIMIT 1", (doc_id,)
            ).fetchone()
            return None if row is None else self._passage(row[0], 0.0)
