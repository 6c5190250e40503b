"""The shipped corpus, the front-matter reader, document loading and passage splitting."""

from __future__ import annotations

import json
import re
from functools import cache
from pathlib import Path

import pytest

from spacecomputer.biomech import BodyModel, evaluate, movement_metrics
from spacecomputer.biomech._series import metrics_series
from spacecomputer.domain._analysis_biomech import BiomechanicsSection
from spacecomputer.errors import InvalidInputError, NotFoundError
from spacecomputer.knowledge import Source, load_document, parse_front_matter, shipped_corpus, split_passages
from tests.biomech.gait_motions import UP, gait, right_handed_swing

ROOT = Path(__file__).resolve().parents[2]
CORPUS = ROOT / "src" / "spacecomputer" / "knowledge" / "corpus"
MANIFEST = ROOT / "data" / "athletes" / "manifest.json"
_CODE = re.compile(r"`([^`]+)`")
_IDENTIFIER = re.compile(r"[a-z0-9_{},]+")


def test_every_shipped_document_has_id_title_and_sources() -> None:
    documents = shipped_corpus()
    assert 24 <= len(documents) <= 30
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
    word = tmp_path / "paper.docx"
    word.write_bytes(b"PK\x03\x04")
    with pytest.raises(InvalidInputError, match=r"unsupported document type '.docx'.*\.md, \.markdown, \.txt, \.pdf"):
        load_document(word)
    empty = tmp_path / "empty.md"
    empty.write_text("  \n")
    with pytest.raises(InvalidInputError, match="empty"):
        load_document(empty)
    binary = tmp_path / "bin.txt"
    binary.write_bytes(b"\xff\xfe\x00abc")
    with pytest.raises(InvalidInputError, match="UTF-8"):
        load_document(binary)


@cache
def engine_names() -> frozenset[str]:
    """Every scalar, angle, risk indicator and ``metrics.csv`` column the engine writes, on a run and on a throw."""
    model = BodyModel.from_anthropometry(mass_kg=70.0, height_m=1.75, sex=None)
    run, _ = gait(fps=60.0, duration_s=1.0)
    throw = right_handed_swing(
        fps=120.0, limb="arm", peak_times_s=(0.9, 0.95, 1.0, 1.05, 1.1), peak_speeds_deg_s=(500, 800, 1100, 1400, 1700)
    )
    engine_pass = evaluate(run, model, up=UP, family="sprint")
    names = {*engine_pass.scalars, *engine_pass.joint_angles, *engine_pass.segment_angles}
    names |= {indicator.name for indicator in engine_pass.risk} | set(metrics_series(run, engine_pass, model, UP))
    for sequence in (run, throw):
        names |= {m.name for m in movement_metrics(sequence, up=UP, sport=None, body_model=model)}
    return frozenset(names)


def _expanded(name: str) -> list[str]:
    """``{side}`` and ``{left,right}`` stand for both sides."""
    if "{side}" in name or "{left,right}" in name:
        return [name.replace("{side}", side).replace("{left,right}", side) for side in ("left", "right")]
    return [name]


def _technique_documents() -> list[Path]:
    return sorted(CORPUS.glob("technique-*.md"))


def test_every_usable_library_clip_has_one_technique_document() -> None:
    clips = {e["id"]: e["movement"] for e in json.loads(MANIFEST.read_text())["entries"] if e["usable"]}
    named: dict[str, list[str]] = {}
    for path in _technique_documents():
        for code in set(_CODE.findall(path.read_text(encoding="utf-8"))) & set(clips):
            named.setdefault(code, []).append(path.stem)
    assert named.keys() == clips.keys(), sorted(clips.keys() - named.keys())
    assert all(len(stems) == 1 for stems in named.values()), named
    assert 6 <= len(_technique_documents()) <= 10


@pytest.mark.parametrize("path", _technique_documents(), ids=lambda p: p.stem)
def test_technique_documents_name_only_what_the_engine_writes(path: Path) -> None:
    document = load_document(path)
    headings = [p.heading for p in split_passages(document)]
    assert "technique" in document.tags
    assert any(h.startswith("Risk indicators") for h in headings), headings
    clips = {e["id"] for e in json.loads(MANIFEST.read_text())["entries"]}
    families = {"sprint", "jump", "landing", "strike", "throw", "grappling", "contact", "toe_off", "flight"}
    fields = set(BiomechanicsSection.model_fields)
    unknown = []
    for code in _CODE.findall(document.body):
        if code.startswith("biomechanics."):
            unknown += [code] if code.removeprefix("biomechanics.") not in fields else []
        elif _IDENTIFIER.fullmatch(code):
            unknown += [n for n in _expanded(code) if n not in engine_names() | clips | families]
    assert not unknown, unknown
    for source in document.sources:
        assert re.search(r"\(\d{4}\)", source.reference), source
