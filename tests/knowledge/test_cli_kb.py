"""``kb add`` and ``kb search`` through Typer, as the integrator will register them."""

from __future__ import annotations

import json
from pathlib import Path

import typer
from typer.testing import CliRunner

from spacecomputer._cli_kb import kb_add, kb_search
from tests.knowledge.pdfs import pdf_bytes

app = typer.Typer()
app.command("add")(kb_add)
app.command("search")(kb_search)


def test_add_then_search(tmp_path: Path) -> None:
    note = tmp_path / "pole-vault.md"
    note.write_text(
        "---\nid: pole-vault\ntitle: Pole vault plant\nsources: []\n---\nThe plant of the pole into the box.\n"
    )
    index_dir = str(tmp_path / "kb")
    runner = CliRunner()

    added = runner.invoke(app, ["add", str(note), "--index-dir", index_dir])
    assert added.exit_code == 0, added.output
    assert "pole-vault" in added.output

    found = runner.invoke(app, ["search", "planting the pole", "--index-dir", index_dir, "--json", "-k", "2"])
    assert found.exit_code == 0, found.output
    passages = json.loads(found.stdout)
    assert len(passages) == 2
    assert passages[0]["id"] == "pole-vault#1"

    shipped = runner.invoke(app, ["search", "jump height from the flight time", "--index-dir", index_dir, "-k", "1"])
    assert shipped.exit_code == 0
    assert "jump-height#" in shipped.output

    refused = runner.invoke(app, ["add", str(tmp_path / "paper.pdf"), "--index-dir", index_dir])
    assert refused.exit_code == 2
    assert "not_found" in refused.output

    (tmp_path / "drills.pdf").write_bytes(
        pdf_bytes([["Bounding drills"], ["Alternate-leg bounds for [bold]power[/]."]])
    )
    pdf = runner.invoke(app, ["add", str(tmp_path / "drills.pdf"), "--index-dir", index_dir])
    assert pdf.exit_code == 0, pdf.output
    assert "indexed 'drills' (Bounding drills, 2 pages)" in pdf.output
    found = runner.invoke(app, ["search", "alternate-leg bounds", "--index-dir", index_dir, "--json", "-k", "1"])
    assert json.loads(found.stdout)[0]["id"] == "drills#p2.1"

    (tmp_path / "scan.pdf").write_bytes(pdf_bytes([None]))
    scanned = runner.invoke(app, ["add", str(tmp_path / "scan.pdf"), "--index-dir", index_dir])
    assert scanned.exit_code == 2
    assert "invalid_input" in scanned.output
    assert "OCR is not supported" in scanned.output
