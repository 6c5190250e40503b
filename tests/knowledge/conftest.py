"""Fixtures of the knowledge tests: one real MiniLM model per session, counting what it embeds."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from numpy.typing import NDArray

from spacecomputer.knowledge import KnowledgeIndex, MiniLMEmbedder


class CountingEmbedder:
    """The real MiniLM embedder, recording every text it is asked to embed."""

    def __init__(self, inner: MiniLMEmbedder) -> None:
        self.inner = inner
        self.name = inner.name
        self.calls: list[list[str]] = []

    def embed(self, texts: list[str]) -> NDArray[np.float32]:
        self.calls.append(list(texts))
        return self.inner.embed(texts)


@pytest.fixture(scope="session")
def minilm() -> MiniLMEmbedder:
    return MiniLMEmbedder()


@pytest.fixture
def counting(minilm: MiniLMEmbedder) -> CountingEmbedder:
    return CountingEmbedder(minilm)


@pytest.fixture(scope="session")
def shipped_index(tmp_path_factory: pytest.TempPathFactory, minilm: MiniLMEmbedder) -> KnowledgeIndex:
    index = KnowledgeIndex(Path(tmp_path_factory.mktemp("kb")), minilm)
    index.sync_shipped()
    return index
