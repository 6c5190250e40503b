"""The knowledge base: a shipped corpus of metric documents, user documents and hybrid passage retrieval.

Usage (loads the bundled MiniLM model, offline)::

    index = KnowledgeIndex(Path("library/knowledge"), MiniLMEmbedder())
    index.sync_shipped()  # re-embeds only new or changed documents
    index.add_document(Path("my-notes.md"))
    index.search("how high did I jump", k=3)[0].id  # 'jump-height#...'
"""

from spacecomputer.knowledge._corpus import (
    SUPPORTED_SUFFIXES,
    Document,
    DocumentPassage,
    Source,
    load_document,
    parse_front_matter,
    shipped_corpus,
    split_passages,
)
from spacecomputer.knowledge._embedder import Embedder, MiniLMEmbedder
from spacecomputer.knowledge._index import RRF_K, IndexUpdate, KnowledgeIndex, Passage, reciprocal_rank_fusion

__all__ = [
    "RRF_K",
    "SUPPORTED_SUFFIXES",
    "Document",
    "DocumentPassage",
    "Embedder",
    "IndexUpdate",
    "KnowledgeIndex",
    "MiniLMEmbedder",
    "Passage",
    "Source",
    "load_document",
    "parse_front_matter",
    "reciprocal_rank_fusion",
    "shipped_corpus",
    "split_passages",
]
