"""Hybrid retrieval over the shipped corpus, incremental updates, persistence and user documents."""

from __future__ import annotations

import shutil
from pathlib import Path

import numpy as np
import pytest

from spacecomputer.errors import ConflictError, InvalidInputError, NotFoundError
from spacecomputer.knowledge import KnowledgeIndex, MiniLMEmbedder, load_document, reciprocal_rank_fusion
from tests.knowledge.conftest import CountingEmbedder
from tests.knowledge.test_corpus import CORPUS

# Paraphrased questions an athlete might ask, and the document that answers each.
QUERIES = [
    ("how high did I jump", "jump-height"),
    ("my knee is caving in when I land", "risk-knee-fppa"),
    ("how long is my foot on the ground each step", "foot-events"),
    ("am I landing too stiffly", "risk-landing-knee-flexion"),
    ("how much force goes through the ground", "ground-reaction-force"),
    ("is my left leg different from my right", "risk-asymmetry"),
    ("am I keeping my balance", "margin-of-stability"),
    ("what does the similarity score mean", "comparison-score"),
    ("how are my stride length and cadence measured", "sprint-metrics"),
    ("does my body lean to one side", "risk-trunk-lean"),
]


def test_paraphrased_questions_find_their_document_in_the_top_3(shipped_index: KnowledgeIndex) -> None:
    found = {query: [p.doc_id for p in shipped_index.search(query, 3)] for query, _ in QUERIES}
    misses = [(query, found[query]) for query, expected in QUERIES if expected not in found[query]]
    assert len(QUERIES) - len(misses) >= 8, misses


def test_results_carry_passage_ids_scores_and_sources(shipped_index: KnowledgeIndex) -> None:
    results = shipped_index.search("extrapolated centre of mass", 4)
    assert len(results) == 4
    assert [r.score for r in results] == sorted((r.score for r in results), reverse=True)
    top = results[0]
    assert top.doc_id == "margin-of-stability"
    assert top.id.startswith("margin-of-stability#")
    assert top.title.startswith("Margin of stability")
    assert any("Hof" in s.reference for s in top.sources)
    assert 0 < top.score <= 2 / 61


def test_reciprocal_rank_fusion_rewards_agreement() -> None:
    fused = reciprocal_rank_fusion([["a", "b", "c"], ["b", "c"]])
    assert fused["b"] == pytest.approx(1 / 62 + 1 / 61)
    assert fused["c"] == pytest.approx(1 / 63 + 1 / 62)
    assert fused["a"] == pytest.approx(1 / 61)
    assert sorted(fused, key=fused.__getitem__, reverse=True) == ["b", "c", "a"]
    assert reciprocal_rank_fusion([["x"]], k=0) == {"x": 1.0}


def _copy_corpus(target: Path, names: list[str]) -> list[Path]:
    target.mkdir()
    return [Path(shutil.copy(CORPUS / f"{name}.md", target)) for name in names]


def test_incremental_update_reembeds_only_the_changed_document(tmp_path: Path, counting: CountingEmbedder) -> None:
    paths = _copy_corpus(tmp_path / "docs", ["jump-height", "foot-events", "risk-asymmetry"])
    index = KnowledgeIndex(tmp_path / "index", counting)
    first = index.sync([load_document(p) for p in paths])
    assert first.indexed == ("foot-events", "jump-height", "risk-asymmetry")
    counting.calls.clear()

    assert index.sync([load_document(p) for p in paths]).indexed == ()
    assert counting.calls == []

    paths[0].write_text(paths[0].read_text() + "\n## Countermovement\n\nA dip before the take-off.\n")
    update = index.sync([load_document(p) for p in paths])
    assert update.indexed == ("jump-height",)
    assert update.unchanged == ("foot-events", "risk-asymmetry")
    embedded = [text for call in counting.calls for text in call]
    assert embedded
    assert all(text.startswith("Jump height") for text in embedded)
    assert index.search("dip before the take-off", 1)[0].doc_id == "jump-height"

    removed = index.sync([load_document(p) for p in paths[:2]])
    assert removed.removed == ("risk-asymmetry",)
    assert "risk-asymmetry" not in {p.doc_id for p in index.search("asymmetry left right", 5)}
    index.close()


def test_index_persists_and_reopens_without_embedding(tmp_path: Path, counting: CountingEmbedder) -> None:
    paths = _copy_corpus(tmp_path / "docs", ["margin-of-stability", "energy-work"])
    with KnowledgeIndex(tmp_path / "index", counting) as index:
        index.sync([load_document(p) for p in paths])
        before = index.search("balance base of support", 3)
    counting.calls.clear()
    with KnowledgeIndex(tmp_path / "index", counting) as reopened:
        assert reopened.sync([load_document(p) for p in paths]).indexed == ()
        assert counting.calls == []
        after = reopened.search("balance base of support", 3)
    assert [(p.id, p.text) for p in after] == [(p.id, p.text) for p in before]
    assert [p.score for p in after] == pytest.approx([p.score for p in before])
    assert (tmp_path / "index" / "index.sqlite").is_file()
    assert np.load(tmp_path / "index" / "embeddings.npy").shape[1] == 384


def test_user_document_is_added_and_found(tmp_path: Path, minilm: MiniLMEmbedder) -> None:
    (tmp_path / "docs").mkdir()
    note = tmp_path / "docs" / "hurdles.md"
    note.write_text("# Hurdle clearance\n\nLead leg drive and trail leg snap over the barrier.\n")
    with KnowledgeIndex(tmp_path / "index", minilm) as index:
        index.sync([load_document(CORPUS / "jump-height.md")])
        document = index.add_document(note)
        assert document.id == "hurdles"
        assert index.document_ids() == {"jump-height": "shipped", "hurdles": "user"}
        assert index.search("trail leg over the barrier", 1)[0].id == "hurdles#1"
        clash = tmp_path / "docs" / "jump-height.md"
        clash.write_text("my own jump notes")
        with pytest.raises(ConflictError):
            index.add_document(clash)


def test_bad_inputs_are_refused(tmp_path: Path, minilm: MiniLMEmbedder) -> None:
    with KnowledgeIndex(tmp_path / "index", minilm) as index:
        for query in ("", "   "):
            with pytest.raises(InvalidInputError, match="empty"):
                index.search(query)
        with pytest.raises(InvalidInputError):
            index.search("jump", 0)
        assert index.search("jump", 3) == []
        with pytest.raises(NotFoundError):
            index.add_document(tmp_path / "nope.md")
        (tmp_path / "slides.pdf").write_bytes(b"%PDF-1.7")
        with pytest.raises(InvalidInputError, match="PDF"):
            index.add_document(tmp_path / "slides.pdf")


def test_mismatched_embeddings_are_rebuilt(tmp_path: Path, counting: CountingEmbedder) -> None:
    paths = _copy_corpus(tmp_path / "docs", ["risk-trunk-lean", "body-model"])
    with KnowledgeIndex(tmp_path / "index", counting) as index:
        index.sync([load_document(p) for p in paths])
    vectors = np.load(tmp_path / "index" / "embeddings.npy")
    np.save(tmp_path / "index" / "embeddings.npy", vectors[:1])
    with KnowledgeIndex(tmp_path / "index", counting) as reopened:
        assert reopened.sync([load_document(p) for p in paths]).indexed == ("body-model", "risk-trunk-lean")
        assert np.load(tmp_path / "index" / "embeddings.npy").shape == vectors.shape
        assert reopened.search("sideways lean of the trunk", 1)[0].doc_id == "risk-trunk-lean"
