from __future__ import annotations

import html
import json
import re
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import numpy as np
import plotly.graph_objects as go
import pytest
from numpy.typing import NDArray

from spacecomputer.biomech._movement_metrics import STANDARD_GRAVITY_M_S2
from spacecomputer.domain._analysis import (
    Analysis,
    ChunkingInfo,
    FilterInfo,
    OutputFiles,
    PoseSummary,
    ProcessingInfo,
    RigidSegmentsInfo,
    SubjectInfo,
    ThroughputInfo,
    TrajectoryInfo,
    VideoSummary,
)
from spacecomputer.domain._analysis_biomech import (
    AngleInfo,
    BiomechanicsSection,
    BodyModelInfo,
    EventInfo,
    MovementInfo,
    PhaseInfo,
    RiskFlag,
    Scalar,
    SegmentInfo,
    UncertaintyInfo,
)
from spacecomputer.errors import InvalidInputError, OutputError
from spacecomputer.report import write_report
from spacecomputer.report._plots import MAX_POINTS, downsample_indices

FPS = 100.0
N = 300
MASS_KG = 70.0
HOSTILE = "<script>alert(1)</script>.mp4"
INTERNAL_ROTATION_REASON = "axial rotation of the thigh is not observable from three landmarks"

SCALARS = [
    Scalar(
        name="peak_left_knee_flexion_deg", category="kinematics", value=38.2, uncertainty=4.1, unit="deg",
        display="38.2° ± 4.1°", reliable=True, available=True, reason=None,
        convention="0° = straight, flexion positive",
    ),
    Scalar(
        name="ground_contact_time_s", category="sprint", value=0.112, uncertainty=0.008, unit="s",
        display="0.112 s ± 0.008 s", reliable=True, available=True, reason=None, convention="mean complete contact",
    ),
    Scalar(
        name="jump_height_flight_time_m", category="jump", value=None, uncertainty=None, unit="m",
        display="unavailable", reliable=True, available=False, reason="no flight phase longer than 0.1 s",
        convention="g·t²/8",
    ),
    Scalar(
        name="peak_knee_extensor_moment_n_m_per_kg", category="kinetics", value=2.9, uncertainty=0.6, unit="N·m/kg",
        display="2.9 N·m/kg ± 0.6 N·m/kg", reliable=True, available=True, reason=None, convention="positive = extensor",
        estimated_from_video=True,
    ),
]  # fmt: skip
RISKS = [
    RiskFlag(
        name="knee_valgus", value=14.0, uncertainty=3.0, unit="deg", display="14° ± 3°", level="red",
        level_agreement=0.85,
        rule="peak knee frontal-plane angle > threshold", yellow_threshold=8.0, red_threshold=12.0,
        source="our own heuristic from typical landing values", heuristic=True, reason=None, time_s=1.2, row=120,
    ),
    RiskFlag(
        name="trunk_lateral_lean", value=4.0, uncertainty=1.0, unit="deg", display="4° ± 1°", level="green",
        level_agreement=1.0,
        rule="peak |trunk lateral lean| < 10°", yellow_threshold=10.0, red_threshold=15.0,
        source="Example Journal 2020 (test fixture)", heuristic=False, reason=None, time_s=None, row=None,
    ),
    RiskFlag(
        name="landing_stiffness", value=None, uncertainty=None, unit="N/m", display="unavailable", level="unavailable",
        level_agreement=None,
        rule="vertical stiffness above threshold", yellow_threshold=None, red_threshold=None,
        source="our own heuristic", heuristic=True, reason="no landing detected", time_s=None, row=None,
    ),
]  # fmt: skip
EVENTS = [
    EventInfo(foot="left", kind="contact", row=20, video_frame=40, time_s=0.2),
    EventInfo(foot="left", kind="toe_off", row=35, video_frame=55, time_s=0.35),
    EventInfo(foot="right", kind="contact", row=70, video_frame=90, time_s=0.7),
    EventInfo(foot="right", kind="toe_off", row=84, video_frame=104, time_s=0.84),
]
PHASES = [
    PhaseInfo(kind="contact", foot="left", start_row=20, end_row=35, start_s=0.2, end_s=0.35, duration_s=0.15),
    PhaseInfo(kind="flight", foot=None, start_row=35, end_row=70, start_s=0.35, end_s=0.7, duration_s=0.35),
    PhaseInfo(kind="contact", foot="right", start_row=70, end_row=84, start_s=0.7, end_s=0.84, duration_s=0.14),
]


def biomechanics() -> BiomechanicsSection:
    return BiomechanicsSection(
        coordinate_frame="world",
        up=[0.0, 0.0, 1.0],
        up_source="calibration",
        body_model=BodyModelInfo(
            source="de Leva (1996)",
            sex=None,
            mass_kg=MASS_KG,
            mass_source="default",
            height_m=1.75,
            height_source="given",
            notes=["mass not given: 70 kg default"],
            segments=[SegmentInfo(name="left_thigh", mass_kg=9.9, length_m=0.42, com_fraction=0.41)],
        ),
        movement=MovementInfo(family="sprint", source="detected", confidence=0.8, evidence="alternating contacts"),
        scalars=SCALARS,
        angles=[
            AngleInfo(
                name="left_knee_flexion",
                kind="joint",
                convention="0° straight",
                landmarks=["left_hip"],
                available=True,
                reason=None,
            ),
            AngleInfo(
                name="left_hip_internal_rotation",
                kind="joint",
                convention="—",
                landmarks=[],
                available=False,
                reason=INTERNAL_ROTATION_REASON,
            ),
        ],
        events=EVENTS,
        phases=PHASES,
        risk=RISKS,
        kinetics_note="Kinetics estimated by inverse dynamics from video, without force plates.",
        uncertainty=UncertaintyInfo(
            method="Monte Carlo over landmark noise",
            draws=20,
            seed=7,
            median_landmark_sigma_m=0.012,
            common_sigma_m=[0.05, 0.01, 0.02],
            notes=["sigma from BlazePose visibility"],
        ),
        series_columns=[],
        warnings=["biomech warning: camera not calibrated"],
    )


def analysis(*, filename: str = "sprint.mp4", with_biomechanics: bool = True) -> Analysis:
    quality = {
        "score": 0.71, "min_score": 0.5, "passed": True, "sub_scores": {"sharpness": 0.9, "detection": 1.0},
        "camera_motion": "static", "sport": "sprint", "n_frames": N, "n_sampled_frames": 60,
        "metrics": {"sharpness_laplacian_var": {"value": 120.0, "unit": "grey level²"}},
        "reasons": ["median_body_height_px = 150 is below 200: athlete too small in the frame"],
        "warnings": ["only one frame was sampled"],
    }  # fmt: skip
    return Analysis(
        spacecomputer_version="0.1.0",
        created_at=datetime(2025, 3, 1, 12, 0, tzinfo=UTC),
        video=VideoSummary(
            filename=filename,
            container="mp4",
            codec="h264",
            width_px=1920,
            height_px=1080,
            rotation_deg=0,
            fps=FPS,
            variable_frame_rate=False,
            duration_s=3.0,
            frame_count=N,
            file_size_bytes=1_000_000,
        ),
        subject=SubjectInfo(height_m=1.75, mass_kg=None, sport="sprint", height_note="metric scale from height"),
        quality=quality,
        pose=PoseSummary(
            frames=N,
            frames_with_pose=N,
            detection_rate=1.0,
            mean_visibility=0.9,
            coordinate_frame="world",
            units="m",
            first_detection_s=0.0,
            last_detection_s=2.99,
        ),
        trajectory=TrajectoryInfo(
            calibrated=True, camera_source="calib.toml", scale_factor=1.02, median_reprojection_error_px=2.0, notes=[]
        ),
        processing=ProcessingInfo(
            estimator="blazepose",
            model_complexity=1,
            workers=1,
            chunking=ChunkingInfo(chunks=1, seams_reconciled=0),
            max_gap_s=0.2,
            filter=FilterInfo(order=4, cutoff_hz=6.0, cutoff_method="fixed", sampling_rate_hz=FPS),
            frames_filled=0,
            long_gaps=0,
            swap_corrected_frames=0,
            rigid_segments=RigidSegmentsInfo(
                bone_length_cv_before=0.05,
                bone_length_cv_after=0.0,
                median_displacement_m=0.01,
                max_displacement_m=0.03,
            ),
            identity_jumps_rejected=0,
            reacquired_frames=0,
        ),
        throughput=ThroughputInfo(wall_s=10.0, frames_per_s=30.0, stage_s={}),
        biomechanics=biomechanics() if with_biomechanics else None,
        warnings=["quality warning: panning camera"],
        files=OutputFiles(),
    )


def series(n: int = N) -> dict[str, NDArray[np.float64]]:
    t = np.arange(n) / FPS
    return {
        "row": np.arange(n, dtype=np.float64),
        "time_s": t,
        "left_contact": np.where((t >= 0.2) & (t < 0.35), 1.0, 0.0),
        "left_knee_flexion_deg": 40.0 + 30.0 * np.sin(2 * np.pi * t),
        "left_hip_flexion_deg": np.where(t < 1.0, np.nan, 20.0),  # unknown for the first second
        "left_hip_internal_rotation_deg": np.full(n, np.nan),  # never observable
        "left_knee_moment_n_m_per_kg": np.where(np.arange(n) == 5, np.inf, 1.0),  # a non-finite sample
        "left_shoulder_moment_n_m_per_kg": np.full(n, 0.5),
        "grf_vertical_bw": np.full(n, 1.0),
        "grf_left_vertical_n": np.full(n, 1.5 * MASS_KG * STANDARD_GRAVITY_M_S2),
        "com_height_m": np.full(n, 0.95),
        "left_knee_flexion_velocity_deg_s": np.zeros(n),
    }


def _reject_constant(name: str) -> Any:
    raise AssertionError(f"non-strict JSON constant {name} in a figure")


def figures(page: str) -> dict[str, tuple[list[dict[str, Any]], dict[str, Any]]]:
    """Every Plotly.newPlot call of the page: div id -> (data, layout), parsed as strict JSON."""
    decoder = json.JSONDecoder(parse_constant=_reject_constant)
    found = {}
    for match in re.finditer(r'Plotly\.newPlot\(\s*"([^"]+)",\s*', page):
        data, end = decoder.raw_decode(page, match.end())
        layout, _ = decoder.raw_decode(page, end + re.match(r"\s*,\s*", page[end:]).end())  # type: ignore[union-attr]
        found[match.group(1)] = (data, layout)
    return found


def xs(trace: dict[str, Any]) -> list[float | None]:
    """The x values of a trace, explicit or as x0 + i dx."""
    if "x" in trace:
        return list(trace["x"])
    return [trace["x0"] + i * trace["dx"] for i in range(len(trace["y"]))]


def render(tmp_path: Path, document: Analysis, columns: dict[str, NDArray[np.float64]]) -> str:
    path = tmp_path / "report.html"
    write_report(path, document, columns)
    return path.read_text(encoding="utf-8")


@pytest.fixture(scope="module")
def page(tmp_path_factory: pytest.TempPathFactory) -> str:
    return render(tmp_path_factory.mktemp("report"), analysis(filename=HOSTILE), series())


def outside_scripts(page: str) -> str:
    return re.sub(r"<script[^>]*>.*?</script>", "", page, flags=re.DOTALL)


def test_page_is_self_contained_with_plotly_inlined_once(page: str) -> None:
    assert page.startswith("<!DOCTYPE html>")
    assert page.count("plotly.js v") == 1
    assert re.search(r"<script[^>]*\ssrc\s*=", page) is None
    assert "<link" not in page
    assert re.search(r"(src|href)\s*=\s*[\"']?\s*(https?:)?//", outside_scripts(page)) is None
    assert "@import" not in outside_scripts(page)
    assert len(page) < 6_000_000


def test_every_scalar_is_shown_with_its_display_or_reason(page: str) -> None:
    for scalar in SCALARS:
        assert html.escape(scalar.display) in page
        assert html.escape(scalar.convention) in page
    assert "Why: no flight phase longer than 0.1 s" in page
    assert "estimated from video" in page


def test_metric_cards_are_grouped_by_category_in_a_fixed_order(page: str) -> None:
    headings = re.findall(r"<h3>(Kinematics|Sprint|Jump|Kinetics)</h3>", page)
    assert headings == ["Kinematics", "Sprint", "Jump", "Kinetics"]


def test_every_risk_flag_shows_level_rule_thresholds_and_source(page: str) -> None:
    assert "indicators computed from a video, not diagnoses" in page
    for flag in RISKS:
        block = re.search(rf'<div class="risk {flag.level}">(.*?)</div></div>', page, flags=re.DOTALL)
        assert block is not None, flag.name
        assert f'<span class="badge {flag.level}">{flag.level}</span>' in block.group(1)
        assert html.escape(flag.rule) in block.group(1)
        assert html.escape(flag.source) in block.group(1)
        assert ("our own heuristic</span>" in block.group(1)) == flag.heuristic
    assert "yellow at 8 deg, red at 12 deg" in page
    assert "Why unavailable: no landing detected" in page
    assert "Same level in 85% of the uncertainty draws" in page


def test_foot_events_are_vertical_lines_and_contacts_shaded_in_every_plot(page: str) -> None:
    plots = figures(page)
    assert "plot-sagittal-angles" in plots
    for data, layout in plots.values():
        overlay = {trace["name"]: trace for trace in data if trace.get("yaxis") == "y2"}
        assert layout["yaxis2"]["range"] == [0, 1]
        for name, time_s, dash in (
            ("left contact", 0.2, "solid"),
            ("left toe-off", 0.35, "dot"),
            ("right contact", 0.7, "solid"),
            ("right toe-off", 0.84, "dot"),
        ):
            assert overlay[name]["x"] == [time_s, time_s, None]
            assert overlay[name]["y"] == [0, 1, None]
            assert overlay[name]["line"]["dash"] == dash
        left, right = overlay["left foot contact phase"], overlay["right foot contact phase"]
        assert left["x"] == [0.2, 0.35, 0.35, 0.2, 0.2, None]
        assert right["x"] == [0.7, 0.84, 0.84, 0.7, 0.7, None]
        assert left["y"] == [0, 0, 1, 1, 0, None]
        assert left["fill"] == "toself"
        assert len(overlay) == 6  # no shading for the flight phase
    assert "<td>toe-off</td><td>0.35 s</td><td>55</td><td>35</td>" in page


def test_hostile_file_name_is_escaped_everywhere(page: str) -> None:
    assert HOSTILE not in page
    assert "alert(1)" not in re.sub(r"&lt;script&gt;alert\(1\)&lt;/script&gt;", "", page)
    assert f"<title>Space Computer report: {html.escape(HOSTILE)}</title>" in page


def test_figure_json_is_strict_with_gaps_as_null(page: str) -> None:
    plots = figures(page)  # parse_constant rejects NaN and Infinity
    assert not re.search(r"\b(NaN|-?Infinity)\b", "".join(re.findall(r"Plotly\.newPlot\(.*?\)\s*\}", page, re.S)))
    traces = {trace["name"]: trace for data, _ in plots.values() for trace in data}
    hip = traces["left hip flexion"]["y"]
    assert hip[:100] == [None] * 100
    assert set(hip[100:]) == {20.0}
    moment = next(trace["y"] for trace in plots["plot-joint-moments"][0] if trace["name"] == "left knee moment")
    assert moment[5] is None
    assert moment[4] == 1.0
    knee = traces["left knee flexion"]
    assert xs(knee)[25] == pytest.approx(0.25)
    assert knee["y"][25] == pytest.approx(70.0)


def test_forces_of_one_foot_are_plotted_in_body_weights(page: str) -> None:
    data, layout = figures(page)["plot-ground-reaction"]
    traces = {trace["name"]: trace["y"] for trace in data}
    assert set(traces["vertical, left foot"]) == {1.5}
    assert set(traces["vertical, both feet"]) == {1.0}
    assert any(a["text"] == "estimated from video" for a in layout["annotations"])
    assert "Not in metrics.csv: grf_right_vertical_n, grf_horizontal_n." in page


def test_missing_and_empty_columns_are_named_with_their_reason(page: str) -> None:
    sagittal = re.search(r'<section id="section-sagittal-angles" class="plot">(.*?)</section>', page, re.S)
    assert sagittal is not None
    assert "Not in metrics.csv: right_hip_flexion_deg, right_knee_flexion_deg, left_ankle_dorsiflexion_deg" in (
        sagittal.group(1)
    )
    assert f"No value in any frame: left_hip_internal_rotation_deg ({INTERNAL_ROTATION_REASON})." in page
    traces = {trace["name"] for data, _ in figures(page).values() for trace in data}
    assert "left hip internal rotation" not in traces
    assert "In metrics.csv but not plotted: left_knee_flexion_velocity_deg_s." in page


def test_renders_without_biomechanics(tmp_path: Path) -> None:
    page = render(tmp_path, analysis(with_biomechanics=False), {})
    assert "No biomechanics were computed for this run" in page
    assert "quality warning: panning camera" in page
    assert "athlete too small in the frame" in page
    assert 'id="pose"' in page
    assert 'id="risk"' not in page
    assert figures(page) == {}


def test_series_without_biomechanics_are_plotted_without_events(tmp_path: Path) -> None:
    page = render(tmp_path, analysis(with_biomechanics=False), series())
    data, _ = figures(page)["plot-sagittal-angles"]
    assert {trace["name"] for trace in data} == {"left knee flexion", "left hip flexion"}
    assert "vertical, left foot" not in {t["name"] for d, _ in figures(page).values() for t in d}
    assert "Not drawn: grf_left_vertical_n (not converted to body weights: the body mass is unknown)." in page


def test_without_time_the_rows_are_the_axis(tmp_path: Path) -> None:
    columns = {k: v for k, v in series().items() if k != "time_s"}
    data, layout = figures(render(tmp_path, analysis(), columns))["plot-sagittal-angles"]
    event_rows = {x for trace in data if trace.get("yaxis") == "y2" and "fill" not in trace for x in trace["x"]}
    assert event_rows == {20, 35, 70, 84, None}
    phase = next(trace for trace in data if trace["name"] == "left foot contact phase")
    assert phase["x"] == [20, 35, 35, 20, 20, None]
    assert layout["xaxis"]["title"]["text"] == "row of metrics.csv"


def test_long_series_are_downsampled_keeping_the_peak(tmp_path: Path) -> None:
    n = 3 * MAX_POINTS + 7
    knee = np.zeros(n)
    knee[4321] = 90.0
    columns = {"time_s": np.arange(n) / FPS, "left_knee_flexion_deg": knee}
    data, _ = figures(render(tmp_path, analysis(), columns))["plot-sagittal-angles"]
    assert len(data[0]["y"]) <= MAX_POINTS
    assert max(data[0]["y"]) == 90.0
    assert data[0]["x"][data[0]["y"].index(90.0)] == pytest.approx(43.21)


def test_upper_limb_moments_start_hidden(page: str) -> None:
    visible = {t["name"]: t["visible"] for t in figures(page)["plot-joint-moments"][0] if t.get("yaxis") != "y2"}
    assert visible["left knee moment"] is True
    assert visible["left shoulder moment"] == "legendonly"


def test_evenly_spaced_time_is_sent_as_start_and_step(page: str) -> None:
    knee = next(t for t in figures(page)["plot-sagittal-angles"][0] if t["name"] == "left knee flexion")
    assert "x" not in knee
    assert (knee["x0"], knee["dx"]) == (0.0, pytest.approx(1 / FPS))


def test_uneven_time_is_sent_point_by_point(tmp_path: Path) -> None:
    columns = series()
    columns["time_s"] = columns["time_s"] + np.where(np.arange(N) > 150, 0.5, 0.0)  # a dropped half second
    data, _ = figures(render(tmp_path, analysis(), columns))["plot-sagittal-angles"]
    knee = next(t for t in data if t["name"] == "left knee flexion")
    assert knee["x"][150:152] == [1.5, pytest.approx(2.01)]


def test_figures_are_valid_plotly_figures(page: str) -> None:
    for data, layout in figures(page).values():
        go.Figure(data=data, layout=layout)  # raises on any unknown property or bad value


def test_downsampling_keeps_bucket_extremes_and_gaps() -> None:
    values = np.array([0.0, 5.0, 1.0, 2.0, -3.0, 0.0, np.nan, np.nan, np.nan, np.nan, np.nan, np.nan])
    assert downsample_indices(values, 12).tolist() == list(range(12))
    assert downsample_indices(values, 6).tolist() == [0, 1, 4, 5, 8]  # an all-NaN bucket keeps its first index
    long = np.sin(np.linspace(0.0, 20.0, 100_000))
    kept = downsample_indices(long, 2000)
    assert len(kept) <= 2000
    assert np.all(np.diff(kept) > 0)
    assert long[kept].max() == long.max()
    assert long[kept].min() == long.min()


def test_escapes_text_from_the_analysis(tmp_path: Path) -> None:
    hostile = SCALARS[0].model_copy(update={"display": "<b>38°</b>", "convention": '" onmouseover="x'})
    document = analysis()
    assert document.biomechanics is not None
    sections = document.biomechanics.model_copy(update={"scalars": [hostile]})
    page = render(tmp_path, document.model_copy(update={"biomechanics": sections}), {})
    assert "<b>38°</b>" not in page
    assert "&lt;b&gt;38°&lt;/b&gt;" in page
    assert 'title="peak_left_knee_flexion_deg: &quot; onmouseover=&quot;x"' in page


def test_quality_without_any_key_still_renders(tmp_path: Path) -> None:
    page = render(tmp_path, analysis(with_biomechanics=False).model_copy(update={"quality": {}}), {})
    assert '<strong>Score —</strong> (threshold —) <span class="badge unavailable">not judged</span>' in page
    assert 'href="#biomechanics"' in page
    assert 'href="#plots"' not in page


@pytest.mark.parametrize(
    ("columns", "message"),
    [
        ({"time_s": np.zeros(3), "com_height_m": np.zeros(4)}, "all of one length"),
        ({"time_s": np.zeros((3, 2))}, "all of one length"),
        ({'<img src=x onerror="alert(1)">': np.zeros(3)}, "snake_case identifiers"),
    ],
)
def test_malformed_series_are_refused(tmp_path: Path, columns: dict[str, NDArray[np.float64]], message: str) -> None:
    with pytest.raises(InvalidInputError, match=message):
        render(tmp_path, analysis(), columns)


def test_unwritable_path_raises_output_error(tmp_path: Path) -> None:
    with pytest.raises(OutputError, match="cannot write the report"):
        write_report(tmp_path / "missing" / "report.html", analysis(), {})


def test_ranges_of_motion_are_one_table_row_per_angle(tmp_path: Path) -> None:
    def extreme(key: str, value: float) -> Scalar:
        return Scalar(
            name=f"left_knee_flexion_{key}_deg", category="kinematics", value=value, uncertainty=1.5, unit="deg",
            display=f"{value:.1f}° ± 1.5°", reliable=True, available=True, reason=None, convention=f"{key} of knee",
        )  # fmt: skip

    document = analysis()
    assert document.biomechanics is not None
    scalars = [extreme("min", 4.7), extreme("max", 147.2), extreme("range", 142.5), *SCALARS]
    document = document.model_copy(
        update={"biomechanics": document.biomechanics.model_copy(update={"scalars": scalars})}
    )
    page = render(tmp_path, document, {})
    row = re.search(r"<tr><td>(left knee flexion)</td>(.*?)</tr>", page, flags=re.DOTALL)
    assert row is not None, "the knee's extremes should share one row"
    cells = re.findall(r"<td>(.*?)</td>", row.group(2))
    assert [re.sub(r"<[^>]+>", "", c) for c in cells] == ["4.7° ± 1.5°", "147.2° ± 1.5°", "142.5° ± 1.5°"]
    assert 'title="max of knee"' in row.group(2)
