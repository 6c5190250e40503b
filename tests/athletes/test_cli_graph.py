"""`spacecomputer graph …` and `athletes list/show/search` against the embedded store and the bundled library."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest
from typer.testing import CliRunner

from spacecomputer.cli import app
from spacecomputer.config import get_settings

runner = CliRunner()


@pytest.fixture(autouse=True)
def library_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    monkeypatch.setenv("SPACECOMPUTER_LIBRARY_DIR", str(tmp_path / "lib"))
    monkeypatch.delenv("SPACECOMPUTER_DATABASE_URL", raising=False)
    get_settings.cache_clear()
    yield tmp_path / "lib"
    get_settings.cache_clear()


def invoke(*args: str) -> tuple[int, str, str]:
    result = runner.invoke(app, list(args))
    return result.exit_code, result.stdout, result.stderr


def test_techniques_loading_the_knee_are_ranked(library_dir: Path) -> None:
    code, out, err = invoke("graph", "techniques", "--loading", "knee", "--limit", "3")
    assert code == 0, err
    assert "Long jump" in out
    assert (library_dir / "spacecomputer.db").is_file()
    # A second call re-opens the same store and reloads the content in place.
    assert invoke("graph", "techniques", "--loading", "knee")[0] == 0


def test_clips_showing_a_phase_list_verified_links_only() -> None:
    code, out, err = invoke("graph", "clips", "--phase", "maximum velocity")
    assert code == 0, err
    assert "bolt-force-motion" in out
    assert "hezvo" not in out


def test_faults_linked_to_knee_valgus_and_unknown_names() -> None:
    code, out, _ = invoke("graph", "faults", "--risk", "knee valgus")
    assert code == 0
    assert "valgus" in out
    code, _, err = invoke("graph", "faults", "--risk", "elbow")
    assert code == 2
    assert "valid:" in err
    assert "knee_valgus" in err


def test_athletes_list_and_show() -> None:
    code, out, _ = invoke("athletes", "list", "--json")
    assert code == 0
    entries = {entry["id"]: entry for entry in json.loads(out)}
    assert entries["hezvo"]["usable"] is False
    code, out, _ = invoke("athletes", "show", "lomu")
    assert json.loads(out)["athlete"] == "Jonah Lomu"
    code, _, err = invoke("athletes", "show", "jonah")
    assert code == 2
    assert "valid ids: beijing" in err
