"""The shipped corpus, the front-matter reader, document loading and passage splitting."""

from __future__ import annotations

from pathlib import Path

import pytest

from spacecomputer.errors import InvalidInputError, NotFoundError
from spacecomputer.knowledge import Source, load_document, parse_front_matter, shipped_corpus, split_passages

CORPUS = Path(__file__).resolve().parents[2] / "src" / "spacecomputer" / "knowledge" / "corpus"


def test_every_shipped_document_has_id_title_and_sources() -> None:
    documents = shipped_corpus()
    assert 12 <= len(documents) <= 20
    assert len({d.id for d in documents}) == len(documents)
    for document in documents:
        meta, _ = parse_front_matter(document.path.read_text(encoding="utf-8"))  # type: ignore[union-attr]
        assert {"id", "title", "sources"} <= meta.keys(), document.id
        assert isinstance(meta["sources"], list)
        assert document.id == meta["id"] == document.path.stem  # type: ignore[union-attr]
        assert document.title
        assert document.tags
        assert split_passages(document)
        for source in document.sources:
            assert source.reference, document.id
            assert source.supports, document.id


def test_front_matter_with_sources() -> None:
    text = (
        "---\nid: x\ntitle: 'A title'\ntags: [a, b c]\nsources:\n"
        '  - reference: "Ref one (2000)"\n    supports: the formula\n  - reference: Ref two\n'
        "    supports: a table\n---\n# Head\nBody"
    )
    meta, body = parse_front_matter(text)
    assert meta["title"] == "A title"
    assert meta["tags"] == ["a", "b c"]
    assert meta["sources"] == [Source("Ref one (2000)", "the formula"), Source("Ref two", "a table")]
    assert body == "# Head\nBody"


@pytest.mark.parametrize(
    "text",
    [
        "---\nid: x\n",  # never closed
        "---\nid x\n---\n",  # not key: value
        "---\nsources:\n  - supports: no reference\n---\n",
        "---\nsources: [a]\n---\n",
    ],
)
def test_malformed_front_matter_is_refused(text: str) -> None:
    with pytest.raises(InvalidInputError):
        parse_front_matter(text)


def test_passages_split_at_headings_with_citable_ids() -> None:
    document = load_document(CORPUS / "jump-height.md")
    passages = split_passages(document)
    assert [p.id for p in passages] == [f"jump-height#{n}" for n in range(1, len(passages) + 1)]
    assert [p.heading for p in passages][1:3] == ["Flight-time height", "Centre-of-mass rise"]
    assert all(p.doc_id == "jump-height" for p in passages)


def test_long_section_is_cut_at_paragraphs(tmp_path: Path) -> None:
    path = tmp_path / "Long Notes.md"
    path.write_text("# Notes\n\n" + "\n\n".join(f"Paragraph {i} " + "word " * 60 for i in range(10)))
    document = load_document(path)
    assert document.id == "long-notes"
    assert document.title == "Notes"
    assert document.sources == ()
    passages = split_passages(document, max_passage_chars=700)
    assert len(passages) > 3
    assert all(len(p.text) <= 700 for p in passages)
    assert "".join(p.text for p in passages).count("Paragraph") == 10


def test_plain_text_document(tmp_path: Path) -> None:
    path = tmp_path / "coach.txt"
    path.write_text("Squat depth notes\n\nKeep the heels down.\n", encoding="utf-8")
    document = load_document(path)
    assert (document.id, document.title) == ("coach", "Squat depth notes")


def test_bad_files_are_refused(tmp_path: Path) -> None:
    with pytest.raises(NotFoundError):
        load_document(tmp_path / "missing.md")
    pdf = tmp_path / "paper.pdf"
    pdf.write_bytes(b"%PDF-1.4")
    with pytest.raises(InvalidInputError, match="PDF is not supported"):
        load_document(pdf)
    empty = tmp_path / "empty.md"
    empty.write_text("  \n")
    with pytest.raises(InvalidInputError, match="empty"):
        load_document(empty)
    binary = tmp_path / "bin.txt"
    binary.write_bytes(b"\xff\xfe\x00abc")
    with pytest.raises(InvalidInputError, match="UTF-8"):
        load_document(binary)
