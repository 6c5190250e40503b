from __future__ import annotations

import dataclasses
import html
import re
from pathlib import Path
from typing import Any

import numpy as np
import plotly.graph_objects as go
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from numpy.typing import NDArray

from spacecomputer._outputs import read_metrics_csv, write_metrics_csv
from spacecomputer.athletes._compare import ComparisonResult, compare_motions_detailed
from spacecomputer.athletes._motion import Motion
from spacecomputer.errors import InvalidInputError, NotFoundError
from spacecomputer.report._comparison import (
    COMPARISON_STYLE,
    MAX_CURVE_POINTS,
    MAX_CURVES,
    MAX_SKELETON_INSTANTS,
    comparison_section,
)
from spacecomputer.report._html import readable_name
from spacecomputer.report._page import render_report, write_report
from tests.athletes.clips import reference_motion
from tests.test_report import analysis, figures, series

BOLT = "bolt-force-motion"
Figure = tuple[list[dict[str, Any]], dict[str, Any]]


@pytest.fixture(scope="module")
def bolt() -> Motion:
    return reference_motion(BOLT)


@pytest.fixture(scope="module")
def mirror(bolt: Motion) -> Motion:
    return bolt.mirrored()


@pytest.fixture(scope="module")
def result(bolt: Motion, mirror: Motion) -> ComparisonResult:
    return compare_motions_detailed(bolt, mirror)


@pytest.fixture(scope="module")
def page(result: ComparisonResult, bolt: Motion, mirror: Motion) -> str:
    return render_report(analysis(), series(), comparison=comparison_section(result, bolt, mirror))


def section_of(page: str) -> str:
    start = page.index('<section id="comparison">')
    return page[start : page.index("</section>", page.rindex('id="comparison-skeleton-')) + len("</section>")]


def comparison_figures(page: str, kind: str) -> list[Figure]:
    found = figures(page)
    keys = sorted((key for key in found if key.startswith(kind)), key=lambda key: int(key.removeprefix(kind)))
    return [found[key] for key in keys]


def named(data: list[dict[str, Any]], name: str, axes: str = "") -> dict[str, Any]:
    return next(t for t in data if t["name"] == name and t.get("xaxis", "x") == f"x{axes}")


def skeleton_points(figure: Figure, axes: str) -> dict[str, NDArray[np.float64]]:
    """Trace name -> (N, 2) drawn points of one subplot ("" or "2"), gaps left out."""
    out = {}
    for trace in figure[0]:
        if trace.get("xaxis") == f"x{axes}":
            out[trace["name"]] = np.array(
                [(x, y) for x, y in zip(trace["x"], trace["y"], strict=True) if x is not None]
            )
    return out


# --- the section on the page -------------------------------------------------------------------------------------


def test_section_sits_after_the_risk_part_with_a_nav_link(page: str) -> None:
    assert '<a href="#comparison">Comparison</a>' in page
    nav = page[page.index("<nav>") : page.index("</nav>")]
    assert nav.index("#risk") < nav.index("#comparison") < nav.index("#plots")
    assert page.index('id="risk"') < page.index('id="comparison"') < page.index('id="plots"')
    assert COMPARISON_STYLE in page


def test_section_names_both_motions_the_score_and_its_definition(page: str, result: ComparisonResult) -> None:
    section = section_of(page)
    comparison = result.comparison
    for text in (
        comparison.you.name,
        comparison.reference.name,
        comparison.similarity.definition,
        *comparison.warnings,
    ):
        assert html.escape(text) in section
    assert f"{comparison.similarity.score:.0f} / 100" in section
    assert "cut at" in section  # the phases method, in words


def test_every_finding_is_listed(page: str, result: ComparisonResult) -> None:
    findings = result.comparison.findings
    assert findings
    section = section_of(page)
    for finding in findings:
        assert f"<li>{html.escape(finding.text)}</li>" in section


def test_joint_table_marks_significance_and_measurement_error(page: str, result: ComparisonResult) -> None:
    section = section_of(page)
    table = section[section.index("Joint angle differences") : section.index("At matched foot events")]
    rows = re.findall(r"<tr( class=\"significant\")?><td>([^<]*)</td><td>([^<]*)</td>(.*?)</tr>", table)
    by_angle = {name: (bool(mark), display, rest) for mark, name, display, rest in rows}
    joints = result.comparison.joints
    assert {j.significant for j in joints} == {True, False}  # the mirror gives both kinds
    for joint in joints:
        marked, display, rest = by_angle[html.escape(readable_name(joint.angle))]
        assert marked is joint.significant
        assert display == html.escape(joint.display)
        assert ("<td>yes</td>" if joint.significant else "<td>no: within measurement error</td>") in rest


def test_event_table_has_a_row_and_details_per_matched_event(page: str, result: ComparisonResult) -> None:
    section = section_of(page)
    events = result.comparison.events
    assert len(events) >= 2
    assert section.count("<summary>Every angle at ") == len(events)
    for event in events:
        assert f"<td>{event.event.a_time_s:.2f} s</td><td>{event.event.b_time_s:.2f} s</td>" in section


def test_figures_are_strict_json_and_valid_plotly(page: str) -> None:
    found = {key: figure for key, figure in figures(page).items() if key.startswith("comparison-")}
    assert found  # figures() refuses NaN and Infinity while parsing
    for data, layout in found.values():
        go.Figure(data=data, layout=layout)  # raises on any unknown property or bad value


def test_curves_show_the_most_different_angles_along_the_path(
    page: str, result: ComparisonResult, bolt: Motion
) -> None:
    joints = [j for j in result.comparison.joints if j.mean_difference_deg is not None and j.uncertainty_deg]
    expected = sorted(joints, key=lambda j: -abs(j.mean_difference_deg or 0.0) / (j.uncertainty_deg or 1.0))
    curves = comparison_figures(page, "comparison-curve-")
    assert len(curves) == min(MAX_CURVES, len(joints))
    path = result.alignment.path
    assert len(path) <= MAX_CURVE_POINTS
    for (data, layout), joint in zip(curves, expected, strict=False):
        you = named(data, "you")
        assert you["x"] == pytest.approx(np.round(bolt.timestamps_s[path[:, 0]], 4).tolist())
        values = bolt.angles_deg[joint.angle][path[:, 0]]
        assert [v is None for v in you["y"]] == np.isnan(values).tolist()
        assert np.allclose([v for v in you["y"] if v is not None], values[np.isfinite(values)], atol=0.006)
        assert len(named(data, "reference")["y"]) == len(path)
        assert sum(t.get("fill") == "toself" for t in data) == 2  # one ± σ band per motion
        assert len(layout["shapes"]) == len(result.comparison.events)  # a line per matched event
    titles = re.findall(r"<h4>([^<:]*): ", section_of(page))
    assert titles[: len(curves)] == [html.escape(readable_name(j.angle)) for j in expected[: len(curves)]]


def test_bands_stop_at_gaps(bolt: Motion) -> None:
    hip = bolt.angles_deg["left_hip_flexion"].copy()
    hip[50:60] = np.nan
    gappy = dataclasses.replace(bolt, angles_deg={**bolt.angles_deg, "left_hip_flexion": hip})
    same = compare_motions_detailed(gappy, gappy)
    page = render_report(analysis(), {}, comparison=comparison_section(same, gappy, gappy))
    data, _ = comparison_figures(page, "comparison-curve-")[0]  # every difference is 0: the first angle
    band = named(data, "you ± σ")
    assert band["fill"] == "toself"
    assert band["x"].count(None) == band["y"].count(None) == 2  # one outline before the gap, one after
    sd = gappy.angle_sd_deg["left_hip_flexion"]
    first = band["y"][: band["y"].index(None)]
    known = hip[same.alignment.path[:, 0]][: len(first) // 2]
    assert np.allclose(first[: len(known)], known + sd, atol=0.006)
    assert np.allclose(first[len(known) :], (known - sd)[::-1], atol=0.006)


def test_long_paths_are_thinned(bolt: Motion) -> None:
    slow = compare_motions_detailed(bolt, bolt)
    long_path = np.repeat(slow.alignment.path, 8, axis=0)
    stretched = ComparisonResult(
        comparison=slow.comparison, alignment=dataclasses.replace(slow.alignment, path=long_path)
    )
    page = render_report(analysis(), series(), comparison=comparison_section(stretched, bolt, bolt))
    data, _ = comparison_figures(page, "comparison-curve-")[0]
    assert len(named(data, "you")["x"]) == MAX_CURVE_POINTS


def test_skeletons_are_drawn_side_by_side_at_matched_events(page: str, result: ComparisonResult) -> None:
    skeletons = comparison_figures(page, "comparison-skeleton-")
    events = result.comparison.events
    assert len(skeletons) == min(MAX_SKELETON_INSTANTS, len(events))
    for data, layout in skeletons:
        for axes in ("", "2"):
            drawn = skeleton_points((data, layout), axes)
            assert all(len(drawn[side]) for side in ("left side", "right side", "across the body"))
        assert layout["xaxis"]["domain"][1] < layout["xaxis2"]["domain"][0]
        assert [a["text"].split(",")[0] for a in layout["annotations"]] == ["you", "reference"]
    # the events the findings name are among the instants drawn
    titles = re.findall(r'<div class="skeleton"><h4>([^<]*)</h4>', page)
    event_findings = [f.event for f in result.comparison.findings if f.event is not None]
    assert set(event_findings[:MAX_SKELETON_INSTANTS]) <= {html.unescape(t) for t in titles}


def test_skeletons_do_not_depend_on_stature(result: ComparisonResult, bolt: Motion, mirror: Motion) -> None:
    taller = dataclasses.replace(bolt, pose=bolt.pose.replace(positions=bolt.pose.positions * 1.7 + 3.0))
    pages = [render_report(analysis(), {}, comparison=comparison_section(result, m, mirror)) for m in (bolt, taller)]
    for one, other in zip(*(comparison_figures(p, "comparison-skeleton-") for p in pages), strict=True):
        first, second = skeleton_points(one, ""), skeleton_points(other, "")
        for name, points in first.items():
            assert np.allclose(points, second[name], atol=2e-3)


def test_a_mirror_image_is_drawn_with_its_sides_exchanged(bolt: Motion, mirror: Motion) -> None:
    drawn = []
    for motion in (bolt, mirror):
        same = compare_motions_detailed(motion, motion)
        page = render_report(analysis(), {}, comparison=comparison_section(same, motion, motion))
        drawn.append(comparison_figures(page, "comparison-skeleton-"))
    assert len(drawn[0]) == len(drawn[1]) > 0
    for original, mirrored in zip(*drawn, strict=True):
        first, second = skeleton_points(original, ""), skeleton_points(mirrored, "")
        assert np.allclose(first["left side"], second["right side"], atol=2e-3)
        # bones across the body run from the other end in the mirror image: compare them as sets of points
        across = [
            points[np.lexsort(points.T[::-1])] for points in (first["across the body"], second["across the body"])
        ]
        assert np.allclose(*across, atol=2e-3)


def test_without_matched_events_three_instants_are_drawn(bolt: Motion) -> None:
    still = dataclasses.replace(bolt, events=())
    result = compare_motions_detailed(still, still)
    assert result.comparison.events == []
    section = comparison_section(result, still, still)
    page = render_report(analysis(), series(), comparison=section)
    assert len(comparison_figures(page, "comparison-skeleton-")) == 3
    assert "No foot event was matched" in section
    assert "No significant difference" in section  # a motion against itself
    assert "<h4>50% of the aligned motion</h4>" in section


def test_text_from_the_motions_is_escaped(bolt: Motion) -> None:
    hostile = dataclasses.replace(bolt, name="<script>alert(1)</script>")
    section = comparison_section(compare_motions_detailed(hostile, bolt), hostile, bolt)
    assert "<script>alert" not in section
    assert html.escape("<script>alert(1)</script>") in section


def test_without_a_comparison_the_page_is_unchanged() -> None:
    for document, columns in ((analysis(), series()), (analysis(with_biomechanics=False), {})):
        plain = render_report(document, columns)
        assert plain == render_report(document, columns, comparison=None) == render_report(document, columns)
        assert "#comparison" not in plain
        assert COMPARISON_STYLE not in plain


def test_write_report_writes_the_comparison(
    tmp_path: Path, result: ComparisonResult, bolt: Motion, mirror: Motion
) -> None:
    section = comparison_section(result, bolt, mirror)
    write_report(tmp_path / "report.html", analysis(), series(), comparison=section)
    assert (tmp_path / "report.html").read_text(encoding="utf-8") == render_report(
        analysis(), series(), comparison=section
    )


# --- metrics.csv read back ---------------------------------------------------------------------------------------


def expected_after_writing(name: str, values: NDArray[np.float64]) -> NDArray[np.float64]:
    if name in {"row", "video_frame"}:
        return np.where(np.isfinite(values), np.trunc(values), np.nan)
    return np.array([float(f"{v:.6g}") if np.isfinite(v) else np.nan for v in values])


def assert_same(read: dict[str, NDArray[np.float64]], expected: dict[str, NDArray[np.float64]]) -> None:
    assert list(read) == list(expected)
    for name, values in expected.items():
        assert read[name].dtype == np.float64
        np.testing.assert_array_equal(read[name], values)  # NaN equals NaN here


def test_the_report_series_round_trip(tmp_path: Path) -> None:
    columns = series()
    write_metrics_csv(tmp_path / "metrics.csv", columns)
    assert_same(
        read_metrics_csv(tmp_path / "metrics.csv"), {n: expected_after_writing(n, v) for n, v in columns.items()}
    )


_NAMES = st.lists(st.from_regex(r"[a-z][a-z0-9_]{0,12}", fullmatch=True) | st.sampled_from(["row", "video_frame"]),
                  min_size=1, max_size=5, unique=True)  # fmt: skip
_VALUES = st.floats(allow_nan=True, allow_infinity=True, width=64) | st.integers(-(10**6), 10**6).map(float)


@settings(max_examples=60, deadline=None)
@given(names=_NAMES, n_rows=st.integers(0, 6), data=st.data())
def test_read_inverts_write(
    tmp_path_factory: pytest.TempPathFactory, names: list[str], n_rows: int, data: st.DataObject
) -> None:
    columns = {}
    for name in names:
        drawn = data.draw(st.lists(_VALUES, min_size=n_rows, max_size=n_rows))
        if name in {"row", "video_frame"}:
            drawn = [float(int(v)) if np.isfinite(v) and abs(v) < 1e15 else np.nan for v in drawn]
        columns[name] = np.array(drawn, dtype=np.float64)
    path = tmp_path_factory.mktemp("csv") / "metrics.csv"
    write_metrics_csv(path, columns)
    once = read_metrics_csv(path)
    assert_same(once, {name: expected_after_writing(name, values) for name, values in columns.items()})
    text = path.read_bytes()
    write_metrics_csv(path, once)
    assert path.read_bytes() == text  # what was read writes back byte for byte
    assert_same(read_metrics_csv(path), once)


def test_no_columns_read_as_an_empty_mapping(tmp_path: Path) -> None:
    write_metrics_csv(tmp_path / "metrics.csv", {})
    assert read_metrics_csv(tmp_path / "metrics.csv") == {}


def test_a_missing_file_is_not_found(tmp_path: Path) -> None:
    with pytest.raises(NotFoundError, match="does not exist"):
        read_metrics_csv(tmp_path / "metrics.csv")


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (b"", "is empty"),
        (b"a,a\r\n1,2\r\n", "unique"),
        (b"a,\r\n1,2\r\n", "unique and not empty"),
        (b"a,b\r\n1,2\r\n3\r\n", "line 3: 1 cells where the header has 2"),
        (b"a,b\r\n1,x\r\n", "line 2, column 'b'"),
        (b"a\r\n1_000\r\n", "is not a number"),
        (b"a\r\n\xff\xfe\r\n", "cannot read"),
    ],
)
def test_malformed_files_are_refused(tmp_path: Path, content: bytes, message: str) -> None:
    path = tmp_path / "metrics.csv"
    path.write_bytes(content)
    with pytest.raises(InvalidInputError, match=message):
        read_metrics_csv(path)
