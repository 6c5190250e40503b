"""Fixtures of the brain's tests: one knowledge index with the shipped corpus, one orchestrator over it."""

from __future__ import annotations

from pathlib import Path

import pytest

from spacecomputer.brain import Orchestrator
from spacecomputer.knowledge import KnowledgeIndex, MiniLMEmbedder


@pytest.fixture(scope="session")
def knowledge(tmp_path_factory: pytest.TempPathFactory) -> KnowledgeIndex:
    """The shipped corpus indexed with the bundled MiniLM model (once per test session)."""
    index = KnowledgeIndex(tmp_path_factory.mktemp("brain-knowledge"), MiniLMEmbedder())
    index.sync_shipped()
    return index


@pytest.fixture(scope="session")
def orchestrator(knowledge: KnowledgeIndex) -> Orchestrator:
    """An orchestrator with no LLM configured: every answer comes from a local route."""
    return Orchestrator(knowledge)


@pytest.fixture
def fresh(knowledge: KnowledgeIndex) -> Orchestrator:
    """An orchestrator of its own (its own cache and monitor)."""
    return Orchestrator(knowledge)


def scalar(run: Path, name: str) -> dict[str, object]:
    """Read a scalar of the run's ``analysis.json`` independently of the brain."""
    import json

    scalars = json.loads((run / "analysis.json").read_text())["biomechanics"]["scalars"]
    found: dict[str, object] = next(s for s in scalars if s["name"] == name)
    return found
