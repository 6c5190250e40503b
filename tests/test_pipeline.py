"""End-to-end: the real pipeline on the bundled sample video (BlazePose runs; about 15 s)."""

from __future__ import annotations

import json
from fractions import Fraction
from pathlib import Path

import av
import numpy as np
import pytest

from spacecomputer._cleaning import CleanedPoses, clean_poses
from spacecomputer._estimation import estimate_poses
from spacecomputer.biomech import BiomechanicsOptions, analyze_biomechanics
from spacecomputer.config import get_settings
from spacecomputer.domain import CoordinateFrame, PoseFlag, PoseSequence
from spacecomputer.domain._analysis import Analysis
from spacecomputer.domain._analysis_biomech import Scalar
from spacecomputer.domain._placement import PlacementUncertainty
from spacecomputer.errors import InvalidInputError
from spacecomputer.pipeline import AnalysisResult, AnalyzeOptions, analyze_video
from spacecomputer.vision._camera import load_calibration
from spacecomputer.vision._video import probe_video
from tests.conftest import SAMPLE_CALIBRATION, SAMPLE_VIDEO

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def run(tmp_path_factory: pytest.TempPathFactory) -> AnalysisResult:
    out = tmp_path_factory.mktemp("runs") / "sample run é"
    options = AnalyzeOptions(height_m=1.65, calibration_path=SAMPLE_CALIBRATION, sport="general")
    return analyze_video(SAMPLE_VIDEO, options, out_dir=out)


@pytest.fixture(scope="module")
def parallel_run(tmp_path_factory: pytest.TempPathFactory) -> AnalysisResult:
    out = tmp_path_factory.mktemp("runs") / "parallel"
    options = AnalyzeOptions(height_m=1.65, calibration_path=SAMPLE_CALIBRATION, workers=2, min_chunk_s=2.0)
    return analyze_video(SAMPLE_VIDEO, options, out_dir=out)


@pytest.fixture(scope="module")
def uncalibrated_run() -> AnalysisResult:
    options = AnalyzeOptions(height_m=1.65, overlay=False, uncertainty_draws=0)
    return analyze_video(SAMPLE_VIDEO, options)


def test_parallel_chunks_stitch_into_the_single_process_result(
    run: AnalysisResult, parallel_run: AnalysisResult
) -> None:
    assert parallel_run.analysis.processing.chunking.chunks == 2
    np.testing.assert_array_equal(parallel_run.image.frame_indices, np.arange(230))
    seam_s = parallel_run.analysis.video.duration_s / 2
    # Before the seam both runs decoded and tracked the same frames the same way; the zero-phase filter
    # spreads later differences back by a few tenths of a second.
    early = run.image.timestamps_s < seam_s - 0.5
    difference_px = np.linalg.norm(run.image.positions[early] - parallel_run.image.positions[early], axis=2)
    assert np.nanmax(difference_px) < 0.5
    assert parallel_run.out_dir is not None
    with av.open(str(parallel_run.out_dir / "overlay.mp4")) as container:
        times = [frame.time for frame in container.decode(video=0)]
    assert len(times) == 230
    assert np.all(np.diff(times) > 0)


def test_outputs_are_all_there(run: AnalysisResult) -> None:
    assert run.out_dir is not None
    names = sorted(p.name for p in run.out_dir.iterdir())
    assert names == [
        "analysis.json",
        "kinematics.mot",
        "markers.trc",
        "metrics.csv",
        "overlay.mp4",
        "poses.parquet",
        "poses_image.parquet",
        "quality.json",
        "report.html",
    ]
    assert [p.name for p in run.out_dir.parent.iterdir()] == [run.out_dir.name]


def test_analysis_document_validates_and_matches(run: AnalysisResult) -> None:
    assert run.out_dir is not None
    document = json.loads((run.out_dir / "analysis.json").read_text())
    analysis = Analysis.model_validate(document)
    assert analysis.schema_version == "1.3"
    assert analysis.video.frame_count == 230
    assert analysis.pose.frames == 230
    assert analysis.trajectory.calibrated
    assert analysis.pose.coordinate_frame == "world"
    assert json.loads((run.out_dir / "quality.json").read_text())["score"] == analysis.quality["score"]


def _refuse_non_finite(constant: str) -> None:
    raise AssertionError(f"analysis.json holds {constant}")


def test_biomechanics_are_in_the_document_with_uncertainty_and_no_nan(run: AnalysisResult) -> None:
    assert run.out_dir is not None
    document = json.loads((run.out_dir / "analysis.json").read_text(), parse_constant=_refuse_non_finite)
    section = Analysis.model_validate(document).biomechanics
    assert section is not None
    assert section.coordinate_frame == "world"
    assert section.up == [0.0, 0.0, 1.0]
    assert section.body_model.height_source == "given"
    assert section.body_model.mass_source == "default"
    assert section.movement.source == "sport_option"
    assert section.uncertainty.draws > 0
    assert section.uncertainty.common_sigma_m[0] > 0
    knee = {s.name: s for s in section.scalars}["left_knee_flexion_range_deg"]
    assert knee.available
    assert knee.uncertainty is not None
    assert knee.uncertainty > 0
    assert "°" in knee.display
    assert "±" in knee.display
    assert any(s.estimated_from_video for s in section.scalars)
    assert section.events, "the athlete lands from the box: foot contacts are expected"
    assert {flag.level for flag in section.risk} <= {"green", "yellow", "red", "unavailable"}


def test_metrics_csv_has_the_documented_columns_and_a_row_per_frame(run: AnalysisResult) -> None:
    assert run.out_dir is not None
    assert run.analysis.biomechanics is not None
    lines = (run.out_dir / "metrics.csv").read_text().splitlines()
    assert lines[0].split(",") == run.analysis.biomechanics.series_columns
    assert len(lines) == 1 + run.analysis.pose.frames
    assert "nan" not in (run.out_dir / "metrics.csv").read_text().lower()
    row = dict(zip(lines[0].split(","), lines[100].split(","), strict=True))
    assert int(row["row"]) == 99
    assert float(row["time_s"]) == pytest.approx(run.metric.timestamps_s[99], abs=1e-5)


def test_opensim_files_and_the_report_are_written(run: AnalysisResult) -> None:
    assert run.out_dir is not None
    assert run.analysis.biomechanics is not None
    assert (run.out_dir / "markers.trc").read_text().startswith("PathFileType")
    mot = (run.out_dir / "kinematics.mot").read_text()
    assert "inDegrees=yes" in mot
    assert "left_knee_flexion" in mot
    page = (run.out_dir / "report.html").read_text()
    assert "<script src" not in page
    knee = {s.name: s for s in run.analysis.biomechanics.scalars}["left_knee_flexion_range_deg"]
    assert knee.display in page
    fit = run.analysis.processing.skeleton_fit
    assert fit is not None
    assert f"fitted to {fit.frames_fitted} frames" in page


MAX_HUMAN_SPEED_M_S = 10.0
"""Above anything a person on the sample can reach: the athlete jumps on the spot on a 1.9 m box, flips off it
and jogs away (a sprinter's top speed is about this). The per-frame depth cue once read 48.7 m/s here."""


@pytest.mark.parametrize("which", ["calibrated", "uncalibrated"])
def test_centre_of_mass_speed_stays_humanly_possible(
    run: AnalysisResult, uncalibrated_run: AnalysisResult, which: str
) -> None:
    result = run if which == "calibrated" else uncalibrated_run
    assert result.biomechanics is not None
    speed_m_s = result.biomechanics.series["com_horizontal_speed_m_s"]
    unreliable = (result.metric.flags & PoseFlag.UNRELIABLE_POSITION).any(axis=1)
    t = result.metric.timestamps_s
    on_box = (t > 0.4) & (t < 5.0)  # standing and jumping on the spot on top of the box

    assert np.isnan(speed_m_s[unreliable]).all()
    reliable = speed_m_s[np.isfinite(speed_m_s)]
    assert reliable.size > 180
    # Before depth was held to human motion: peak 48.7, p90 14.1, median 2.9 m/s (24.1, 7.4, 1.8 uncalibrated).
    assert reliable.max() < MAX_HUMAN_SPEED_M_S
    assert np.percentile(reliable, 90) < 4.0
    assert np.nanmedian(speed_m_s[on_box]) < 1.0
    scalars = {s.name: s for s in result.biomechanics.section.scalars}
    peak = scalars["com_peak_horizontal_speed_m_s"].value
    assert peak is not None
    assert peak < MAX_HUMAN_SPEED_M_S
    assert not any("implausible centre-of-mass acceleration" in w for w in result.biomechanics.section.warnings)


def test_unreliable_positions_are_flagged_counted_and_warned_about(run: AnalysisResult) -> None:
    assert run.out_dir is not None
    unreliable = (run.metric.flags & PoseFlag.UNRELIABLE_POSITION).any(axis=1)
    # The flip into the sun (about 6.0-6.4 s): the 2D skeleton collapses and the depth goes unmeasured.
    assert 0 < unreliable.sum() < 30
    assert np.all((run.metric.timestamps_s[unreliable] > 5.5) & (run.metric.timestamps_s[unreliable] < 6.7))
    assert run.analysis.trajectory.unreliable_position_frames == unreliable.sum()
    assert run.analysis.trajectory.depth_acceleration_sigma_m_s2 == 10.0
    assert any("global position unreliable" in w for w in run.analysis.warnings)
    back = PoseSequence.from_parquet(run.out_dir / "poses.parquet")
    np.testing.assert_array_equal(back.flags, run.metric.flags)
    header, *rows = (run.out_dir / "metrics.csv").read_text().splitlines()
    column = header.split(",").index("com_horizontal_speed_m_s")
    assert all(rows[i].split(",")[column] == "" for i in np.flatnonzero(unreliable))


@pytest.fixture(scope="module")
def cleaned_sample() -> CleanedPoses:
    """The calibrated sample's cleaned poses: what the pipeline hands the biomechanics."""
    info = probe_video(SAMPLE_VIDEO, limits=get_settings().limits)
    camera = load_calibration(SAMPLE_CALIBRATION).scaled_to(info.width_px, info.height_px)
    frames, _, _ = estimate_poses(info, sport="general")
    return clean_poses(info, frames, camera, max_gap_s=None, height_m=1.65, cutoff_hz=None)


def test_the_smoothed_depth_error_widens_speed_and_kinetic_uncertainty_not_angles(
    run: AnalysisResult, cleaned_sample: CleanedPoses
) -> None:
    # The depth is smoothed before the metric landmarks are formed, so its slow error is not in raw − smoothed:
    # without the depth term the COM peak speed read 4.0 ± 0.22 m/s although the depth is uncertain by 0.05-0.3 m.
    assert cleaned_sample.placement is not None
    assert run.analysis.biomechanics is not None
    assert any("depth smoother's own error" in note for note in run.analysis.biomechanics.uncertainty.notes)

    def scalars(placement: PlacementUncertainty | None) -> dict[str, Scalar]:
        result = analyze_biomechanics(
            cleaned_sample.metric,
            up=(0.0, 0.0, 1.0),
            up_source="the calibration's world vertical axis",
            options=BiomechanicsOptions(height_m=1.65, sport="general"),
            raw=cleaned_sample.metric_raw,
            smoothed=cleaned_sample.metric_smoothed,
            cutoff_hz=cleaned_sample.cutoff_hz,
            placement=placement,
        )
        return {s.name: s for s in result.section.scalars}

    with_depth, without = scalars(cleaned_sample.placement), scalars(None)

    def ratio(name: str) -> float:
        wide, narrow = with_depth[name].uncertainty, without[name].uncertainty
        assert wide is not None, name
        assert narrow is not None, name
        return wide / narrow

    assert ratio("com_mean_horizontal_speed_m_s") > 3.0
    assert ratio("com_peak_horizontal_speed_m_s") > 2.0
    kinetic = [n for n, s in without.items() if s.category == "kinetics" and s.uncertainty]
    assert np.median([ratio(n) for n in kinetic]) > 1.0
    assert max(ratio(n) for n in kinetic) > 1.2
    angles = [n for n, s in without.items() if n.endswith("_deg") and s.category == "kinematics" and s.uncertainty]
    assert len(angles) > 10
    for name in angles:  # a displacement of the whole body does not turn a joint
        assert ratio(name) == pytest.approx(1.0, abs=1e-3), name


def test_metric_poses_are_put_on_one_rigid_skeleton(run: AnalysisResult, cleaned_sample: CleanedPoses) -> None:
    info = run.analysis.processing.skeleton_fit
    assert info is not None
    assert info.frames_fitted == int(np.asarray(run.metric.detected).sum())
    assert info.frames_not_fitted == 0
    assert info.median_residual_m is not None
    assert 0.005 < info.median_residual_m < 0.05  # BlazePose's landmarks are not rigid: a centimetre or two
    fitted = np.isfinite(run.metric.positions).all(axis=2).any(axis=1)
    for a, b in [("left_hip", "right_hip"), ("left_hip", "left_knee"), ("right_knee", "right_ankle")]:
        length = np.linalg.norm(run.metric.joint(a)[fitted] - run.metric.joint(b)[fitted], axis=1)
        assert np.std(length) < 1e-6, (a, b)
    # The fit moves each landmark by about its residual; the smoothed landmarks stay available for the noise model.
    moved = np.linalg.norm(cleaned_sample.metric.positions - cleaned_sample.metric_smoothed.positions, axis=2)
    assert 0.0 < np.nanmedian(moved) < 0.05


def test_landmark_jitter_is_measured_against_the_smoothed_not_the_fitted_landmarks(
    cleaned_sample: CleanedPoses,
) -> None:
    def knee_range_uncertainty(smoothed: PoseSequence | None) -> float:
        result = analyze_biomechanics(
            cleaned_sample.metric,
            up=(0.0, 0.0, 1.0),
            up_source="the calibration's world vertical axis",
            options=BiomechanicsOptions(height_m=1.65, sport="general", draws=8),
            raw=cleaned_sample.metric_raw,
            smoothed=smoothed,
            cutoff_hz=cleaned_sample.cutoff_hz,
        )
        value = {s.name: s for s in result.section.scalars}["left_knee_flexion_range_deg"].uncertainty
        assert value is not None
        return value

    # raw − fitted holds the fit's correction (centimetres), which is not frame-to-frame noise.
    assert knee_range_uncertainty(cleaned_sample.metric_smoothed) < knee_range_uncertainty(None)


def test_detection_rate_is_high(run: AnalysisResult) -> None:
    assert run.analysis.pose.detection_rate >= 0.9


def test_visible_landmarks_lie_inside_the_image(run: AnalysisResult) -> None:
    image = run.image
    width, height = image.image_size_px or (0, 0)
    visible = image.confidence >= 0.5
    xy = image.positions[..., :2][visible]
    inside = (xy[:, 0] >= 0) & (xy[:, 0] <= width) & (xy[:, 1] >= 0) & (xy[:, 1] <= height)
    assert inside.mean() >= 0.99


@pytest.mark.parametrize(("upper", "lower"), [("hip", "knee"), ("knee", "ankle")], ids=["thigh", "shank"])
@pytest.mark.parametrize("side", ["left", "right"])
def test_bone_lengths_in_world_coordinates_are_stable(run: AnalysisResult, side: str, upper: str, lower: str) -> None:
    metric = run.metric
    length = np.linalg.norm(metric.joint(f"{side}_{upper}") - metric.joint(f"{side}_{lower}"), axis=1)
    length = length[np.isfinite(length)]
    assert length.size > 150
    cv = length.std() / length.mean()
    assert cv < 0.10, f"{side} {upper}-{lower}: CV {cv:.3f}"
    assert 0.25 < np.median(length) < 0.6


def test_overlay_decodes_with_the_input_frame_count(run: AnalysisResult) -> None:
    assert run.out_dir is not None
    with av.open(str(run.out_dir / "overlay.mp4")) as container:
        stream = container.streams.video[0]
        assert stream.codec_context.name == "h264"
        assert sum(1 for _ in container.decode(stream)) == 230


def test_parquet_round_trips_the_metric_sequence(run: AnalysisResult) -> None:
    assert run.out_dir is not None
    back = PoseSequence.from_parquet(run.out_dir / "poses.parquet")
    assert back.frame is CoordinateFrame.WORLD
    np.testing.assert_array_equal(back.positions, run.metric.positions)
    image = PoseSequence.from_parquet(run.out_dir / "poses_image.parquet")
    assert image.frame is CoordinateFrame.IMAGE


def test_athlete_stays_on_the_ground_plane(run: AnalysisResult) -> None:
    """World frame is z-up (Pose2Sim); on the grass at the end the feet are near z = 0."""
    feet_z = run.metric.positions[:, [29, 30, 31, 32], 2]
    last = np.flatnonzero(np.isfinite(feet_z).all(axis=1))[-15:]
    assert last.size == 15
    assert np.median(feet_z[last].min(axis=1)) == pytest.approx(0.0, abs=0.3)


@pytest.mark.parametrize(
    ("field", "value", "message"),
    [
        ("height_m", 165.0, "did you mean 1.65"),
        ("mass_kg", 0.07, "kilograms"),
        ("workers", 0, "workers"),
        ("cutoff_hz", -1.0, "cutoff"),
    ],
)
def test_options_with_wrong_units_are_refused(field: str, value: float, message: str) -> None:
    with pytest.raises(InvalidInputError, match=message):
        AnalyzeOptions(**{field: value})  # type: ignore[arg-type]


def test_in_memory_analysis_writes_nothing(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    clip = tmp_path / "short.mp4"
    _trim(SAMPLE_VIDEO, clip, frames=45)
    result = analyze_video(clip, AnalyzeOptions(overlay=False))
    assert result.out_dir is None
    assert [p.name for p in tmp_path.iterdir()] == ["short.mp4"]
    assert result.metric.frame is CoordinateFrame.CAMERA
    assert "BlazePose's own body scale" in result.analysis.subject.height_note


def _trim(source: Path, target: Path, *, frames: int) -> None:
    with av.open(str(source)) as inp, av.open(str(target), "w") as out:
        stream = out.add_stream("libx264", rate=30)
        stream.width, stream.height, stream.pix_fmt = 884, 496, "yuv420p"
        for i, frame in enumerate(inp.decode(video=0)):
            if i == frames:
                break
            small = frame.reformat(width=884, height=496, format="yuv420p")
            small.pts, small.time_base = i, Fraction(1, 30)
            out.mux(stream.encode(small))
        out.mux(stream.encode())
