import json
from pathlib import Path

import numpy as np
import pytest

from spacecomputer.domain import CoordinateFrame, PoseFlag, PoseSequence
from spacecomputer.errors import InvalidPoseDataError
from tests.conftest import ATHLETE_FILES


def test_all_eleven_clips_are_bundled() -> None:
    assert len(ATHLETE_FILES) == 11


@pytest.mark.parametrize("path", ATHLETE_FILES, ids=lambda p: p.stem)
def test_elite_json_round_trips_exactly(path: Path) -> None:
    document = json.loads(path.read_text())
    seq = PoseSequence.from_elite_json(path)
    assert seq.frame is CoordinateFrame.NORMALIZED
    assert seq.n_frames == len(document["pose_data"])
    assert int(seq.detected.sum()) == document["summary"]["valid_poses"]
    assert seq.to_elite_json() == document


@pytest.mark.parametrize("path", ATHLETE_FILES[:3], ids=lambda p: p.stem)
def test_parquet_json_and_csv_round_trip(path: Path, tmp_path: Path) -> None:
    seq = PoseSequence.from_elite_json(path)
    flags = np.array(seq.flags)
    flags[0, 0] = PoseFlag.INTERPOLATED
    seq = seq.replace(flags=flags)
    seq.to_parquet(tmp_path / "p.parquet")
    back = PoseSequence.from_parquet(tmp_path / "p.parquet")
    np.testing.assert_array_equal(back.positions, seq.positions)
    np.testing.assert_array_equal(back.flags, seq.flags)
    np.testing.assert_array_equal(back.frame_indices, seq.frame_indices)
    assert back.metadata == seq.metadata
    assert back.image_size_px == seq.image_size_px
    from_json = PoseSequence.from_json(json.loads(json.dumps(seq.to_json())))
    np.testing.assert_allclose(from_json.positions, seq.positions, atol=1e-9)
    seq.to_csv(tmp_path / "p.csv")
    lines = (tmp_path / "p.csv").read_text().splitlines()
    assert len(lines) == seq.n_frames + 1
    assert lines[0].split(",")[2] == "nose_x_ratio"


def test_bad_documents_raise_typed_errors(tmp_path: Path) -> None:
    (tmp_path / "bad.json").write_text("{not json")
    with pytest.raises(InvalidPoseDataError, match="cannot read"):
        PoseSequence.from_elite_json(tmp_path / "bad.json")
    with pytest.raises(InvalidPoseDataError, match="elite pose format"):
        PoseSequence.from_elite_json({"video_info": {}})
    with pytest.raises(InvalidPoseDataError, match="schema"):
        PoseSequence.from_json({"schema": "other"})
    (tmp_path / "x.parquet").write_bytes(b"PAR1garbage")
    with pytest.raises(InvalidPoseDataError, match="not a Space Computer"):
        PoseSequence.from_parquet(tmp_path / "x.parquet")


def test_elite_writer_refuses_metric_sequences() -> None:
    seq = PoseSequence(
        positions=np.zeros((1, 33, 3)),
        confidence=np.ones((1, 33)),
        timestamps_s=np.zeros(1),
        fps=30.0,
        frame=CoordinateFrame.CAMERA,
    )
    with pytest.raises(InvalidPoseDataError, match="normalised"):
        seq.to_elite_json()
