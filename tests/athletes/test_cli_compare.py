"""`spacecomputer compare` and `athletes search` on a real run made by `spacecomputer analyze` on a short clip."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from spacecomputer.athletes import Comparison
from spacecomputer.cli import app
from tests.videos import sample_frames, write_rgb_frames

pytestmark = pytest.mark.slow
runner = CliRunner()


@pytest.fixture(scope="module")
def run_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """An analysed run of frames 45–104 of the sample video (jumping jacks on the box)."""
    root = tmp_path_factory.mktemp("compare")
    clip = write_rgb_frames(root / "jacks.mp4", sample_frames(105)[45:])
    result = runner.invoke(app, ["analyze", str(clip), "--out", str(root / "run"), "--height", "1.65"])
    assert result.exit_code == 0, result.stderr
    return root / "run"


def invoke(*args: str) -> tuple[int, str, str]:
    result = runner.invoke(app, list(args))
    return result.exit_code, result.stdout, result.stderr


def test_a_run_against_itself_scores_100_with_no_difference(run_dir: Path, tmp_path: Path) -> None:
    code, out, err = invoke("compare", str(run_dir), "--run", str(run_dir), "--out", str(tmp_path), "--json")
    assert code == 0, err
    comparison = Comparison.model_validate_json((tmp_path / "comparison.json").read_text())
    assert json.loads(out)["similarity"]["score"] == comparison.similarity.score == pytest.approx(100.0)
    assert comparison.findings == []
    assert not any(joint.significant for joint in comparison.joints)
    report = (run_dir / "report.html").read_text()
    assert 'id="comparison"' in report


def test_a_reference_clip_of_another_movement_needs_force(run_dir: Path, tmp_path: Path) -> None:
    movement = json.loads((run_dir / "analysis.json").read_text())["biomechanics"]["movement"]["family"]
    other = "bolt-force-motion" if movement != "sprint" else "pound"
    code, _, err = invoke("compare", str(run_dir), "--athlete", other, "--out", str(tmp_path), "--no-report")
    assert code == 2
    assert "--force" in err
    assert not (tmp_path / "comparison.json").exists()
    code, _, err = invoke("compare", str(run_dir), "--athlete", other, "--force", "--out", str(tmp_path))
    assert code == 0, err
    assert "similarity" in err
    comparison = Comparison.model_validate_json((tmp_path / "comparison.json").read_text())
    assert comparison.reference.name == other
    assert any("force" in warning or "differ" in warning for warning in comparison.warnings)


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--athlete", "usain"], "valid ids: beijing"),
        (["--athlete", "hezvo"], "marked unusable"),
        ([], "exactly one of --athlete"),
    ],
)
def test_bad_requests_are_explained(run_dir: Path, args: list[str], message: str) -> None:
    code, _, err = invoke("compare", str(run_dir), *args)
    assert code == 2
    assert message in err


def test_a_directory_that_is_not_a_run_is_refused(tmp_path: Path) -> None:
    code, _, err = invoke("compare", str(tmp_path), "--athlete", "lomu")
    assert code == 2
    assert "not a run directory" in err


def test_search_ranks_library_clips_for_the_run(run_dir: Path) -> None:
    code, out, err = invoke("athletes", "search", str(run_dir), "--movement", "all", "--top", "3", "--json")
    assert code == 0, err
    hits = json.loads(out)
    assert [hit["rank"] for hit in hits] == [1, 2, 3]
    assert all(hit["clip_id"] != "hezvo" for hit in hits)
    assert hits[0]["dtw_distance"] <= hits[1]["dtw_distance"] <= hits[2]["dtw_distance"]
