from datetime import UTC, datetime
from pathlib import Path

import pytest

from spacecomputer._rundir import check_output_directory, default_run_directory, staged_directory
from spacecomputer.errors import OutputError


def test_default_run_directory_is_named_after_video_and_time() -> None:
    when = datetime(2026, 1, 2, 3, 4, 5, tzinfo=UTC)
    assert default_run_directory(Path("runs"), Path("a b/clip é.mp4"), now=when) == Path("runs/clip é-20260102-030405")


def test_success_moves_the_staged_directory_into_place(tmp_path: Path) -> None:
    final = tmp_path / "deep" / "run"
    with staged_directory(final) as staging:
        assert staging.parent == final.parent
        (staging / "a.txt").write_text("x")
        assert not final.exists()
    assert (final / "a.txt").read_text() == "x"
    assert [p.name for p in final.parent.iterdir()] == ["run"]


def test_failure_leaves_nothing(tmp_path: Path) -> None:
    final = tmp_path / "run"

    def write_half_then_fail() -> None:
        with staged_directory(final) as staging:
            (staging / "half.txt").write_text("x")
            raise RuntimeError("boom")

    with pytest.raises(RuntimeError, match="boom"):
        write_half_then_fail()
    assert list(tmp_path.iterdir()) == []


def test_existing_empty_directory_is_reused(tmp_path: Path) -> None:
    final = tmp_path / "run"
    final.mkdir()
    with staged_directory(final) as staging:
        (staging / "a.txt").write_text("x")
    assert (final / "a.txt").exists()


def test_non_empty_or_unwritable_targets_are_refused(tmp_path: Path) -> None:
    full = tmp_path / "full"
    full.mkdir()
    (full / "x").write_text("x")
    with pytest.raises(OutputError, match="not empty"):
        check_output_directory(full)
    a_file = tmp_path / "file"
    a_file.write_text("x")
    with pytest.raises(OutputError, match="not a writable directory"):
        check_output_directory(a_file / "run")
