"""The analytics engine on a real run: every number it states is the one the run's files hold.

The run is the session's ``short_run`` (the pipeline on frames 45–84 of the sample video); the expected values are
read here independently of the engine, with ``json`` and ``csv``.
"""

from __future__ import annotations

import csv
import json
import math
import shutil
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from spacecomputer.athletes import motion_from_run
from spacecomputer.brain._analytics import Resolution, RunFacts
from spacecomputer.brain._analytics_facts import fact_sentence
from spacecomputer.brain._types import Entities, Fact, Provenance, QueryContext
from spacecomputer.brain._validate import numbers_in
from spacecomputer.errors import InvalidInputError, NotFoundError

slow = pytest.mark.slow


@pytest.fixture(scope="module")
def run(short_run: Path) -> RunFacts:
    return RunFacts.load(short_run)


@pytest.fixture(scope="module")
def document(short_run: Path) -> dict[str, Any]:
    loaded: dict[str, Any] = json.loads((short_run / "analysis.json").read_text(encoding="utf-8"))
    return loaded


@pytest.fixture(scope="module")
def table(short_run: Path) -> dict[str, list[float]]:
    with (short_run / "metrics.csv").open(newline="", encoding="utf-8") as handle:
        rows = list(csv.DictReader(handle))
    return {name: [float(row[name]) if row[name] else math.nan for row in rows] for name in rows[0]}


def _scalar(document: dict[str, Any], name: str) -> dict[str, Any]:
    return next(s for s in document["biomechanics"]["scalars"] if s["name"] == name)


def _assert_shows_its_numbers(fact: Fact) -> None:
    """Every number the fact's words or its sentence write is one of its numbers."""
    for text in (fact.label, fact.display, fact.note or "", fact.provenance.locator, fact_sentence(fact)):
        for written in numbers_in(text):
            assert float(written) in fact.numbers, (written, text, fact.numbers)


def _assert_scalar_fact(fact: Fact, scalar: dict[str, Any], table: dict[str, list[float]], column: str) -> None:
    assert fact.key == scalar["name"]
    assert fact.value == scalar["value"]
    assert fact.uncertainty == scalar["uncertainty"]
    assert fact.display == scalar["display"]
    assert fact.reliable == scalar["reliable"]
    assert fact.estimated_from_video == scalar["estimated_from_video"]
    assert fact.provenance.source == "analysis.json"
    assert f"biomechanics.scalars[{scalar['name']}]" in fact.provenance.locator
    assert all(float(n) in fact.numbers for n in numbers_in(scalar["display"]))
    _assert_shows_its_numbers(fact)
    name = scalar["name"]
    extreme = "min" if "_min_" in name else "max" if "_max_" in name or "peak_" in name else None
    if extreme is None:
        assert fact.time_s is None
    else:
        values = np.array(table[column])
        row = int(np.nanargmax(values) if extreme == "max" else np.nanargmin(values))
        assert fact.row == row
        assert fact.time_s == table["time_s"][row]
        assert fact.frame == int(table["video_frame"][row])
        assert values[row] == pytest.approx(scalar["value"], rel=1e-5)
        assert round(table["time_s"][row], 2) in fact.numbers
        assert float(fact.frame) in fact.numbers


ANGLE_STATISTICS = [
    ("knee", "flexion", "max"),
    ("knee", "flexion", "min"),
    ("knee", "flexion", "range"),
    ("hip", "flexion", "max"),
    ("hip", "adduction", "min"),
    ("ankle", "dorsiflexion", "max"),
    ("shoulder", "flexion", "range"),
    ("shoulder", "abduction", "max"),
    ("shoulder", "elevation", "min"),
    ("elbow", "flexion", "max"),
    ("trunk", "flexion", "max"),
    ("trunk", "lateral_lean", "min"),
    ("pelvis", "obliquity", "range"),
]


@slow
@pytest.mark.parametrize(("joint", "quantity", "statistic"), ANGLE_STATISTICS)
def test_a_whole_clip_angle_statistic_is_the_analysis_scalar_with_the_time_of_the_extreme(
    run: RunFacts, document: dict[str, Any], table: dict[str, list[float]], joint: str, quantity: str, statistic: Any
) -> None:
    resolution = run.resolve(Entities(joint=joint, quantity=quantity, statistic=statistic))
    sides = ["left_", "right_"] if joint not in ("trunk", "pelvis") else [""]
    assert resolution.metric == f"{joint}_{quantity}"
    assert resolution.clarification is None
    assert resolution.unavailable is None
    assert [f.key for f in resolution.facts] == [f"{s}{joint}_{quantity}_{statistic}_deg" for s in sides]
    for fact, side in zip(resolution.facts, sides, strict=True):
        _assert_scalar_fact(fact, _scalar(document, fact.key), table, f"{side}{joint}_{quantity}_deg")
        assert fact.label.startswith({"max": "peak ", "min": "lowest ", "range": "range of "}[statistic])
        assert (fact.time_s is None) == (statistic == "range")


@slow
@pytest.mark.parametrize(
    ("entities", "names", "column"),
    [
        (
            Entities(joint="knee", side="left", quantity="moment"),
            ["peak_left_knee_extensor_moment_n_m_per_kg"],
            "left_knee_moment_n_m_per_kg",
        ),
        (
            Entities(joint="ankle", side="right", quantity="moment", statistic="max"),
            ["peak_right_ankle_plantarflexor_moment_n_m_per_kg"],
            "right_ankle_moment_n_m_per_kg",
        ),
        (
            Entities(joint="hip", side="right", quantity="power", statistic="max"),
            ["peak_right_hip_power_w"],
            "right_hip_power_w",
        ),
        (Entities(quantity="grf", statistic="max"), ["peak_vertical_grf_n", "peak_vertical_grf_bw"], None),
        (
            Entities(joint="com", quantity="speed"),
            ["com_peak_horizontal_speed_m_s", "com_mean_horizontal_speed_m_s"],
            "com_horizontal_speed_m_s",
        ),
        (Entities(quantity="height", statistic="range"), ["com_vertical_excursion_m"], "com_height_m"),
        (Entities(quantity="energy"), ["mechanical_energy_range_j"], "energy_total_j"),
        (
            Entities(quantity="margin_of_stability"),
            ["margin_of_stability_min_m", "margin_of_stability_mean_m"],
            "margin_of_stability_m",
        ),
        (Entities(quantity="com_over_base"), ["com_over_base_of_support_percent"], "com_to_bos_m"),
        (Entities(quantity="jump_height"), ["jump_height_com_rise_m", "jump_height_flight_time_m"], None),
        (Entities(quantity="flight_time"), ["jump_flight_time_s"], None),
        (Entities(quantity="takeoff_velocity"), ["takeoff_vertical_velocity_m_s"], None),
        (
            Entities(joint="knee", quantity="work"),
            [
                "left_knee_positive_work_j",
                "left_knee_negative_work_j",
                "right_knee_positive_work_j",
                "right_knee_negative_work_j",
            ],
            None,
        ),
    ],
)
def test_kinetic_whole_body_and_movement_numbers_are_the_analysis_scalars(
    run: RunFacts,
    document: dict[str, Any],
    table: dict[str, list[float]],
    entities: Entities,
    names: list[str],
    column: str | None,
) -> None:
    resolution = run.resolve(entities)
    available = [name for name in names if _scalar(document, name)["available"]]  # a short clip may lack one
    assert available
    assert [f.key for f in resolution.facts] == available
    for fact in resolution.facts:
        scalar = _scalar(document, fact.key)
        columns = {"peak_vertical_grf_n": "grf_vertical_n", "peak_vertical_grf_bw": "grf_vertical_bw"}
        _assert_scalar_fact(fact, scalar, table, columns.get(fact.key, column or ""))
        if "moment" in fact.key or "grf" in fact.key or "work" in fact.key or "power" in fact.key:
            assert fact.estimated_from_video


@slow
@pytest.mark.parametrize("side", ["both", None])
def test_both_sides_give_one_fact_per_side(run: RunFacts, side: Any) -> None:
    facts = run.resolve(Entities(joint="ankle", side=side, quantity="dorsiflexion", statistic="max")).facts
    assert [f.label for f in facts] == ["peak left ankle dorsiflexion", "peak right ankle dorsiflexion"]


@slow
def test_hip_abduction_is_the_signed_adduction_angle(run: RunFacts) -> None:
    facts = run.resolve(Entities(joint="hip", side="left", quantity="abduction", statistic="min")).facts
    assert [f.key for f in facts] == ["left_hip_adduction_min_deg"]


@slow
def test_a_statistic_without_a_scalar_is_computed_from_the_csv_without_uncertainty(
    run: RunFacts, table: dict[str, list[float]]
) -> None:
    mean = run.resolve(Entities(joint="knee", side="left", quantity="flexion", statistic="mean")).facts
    assert len(mean) == 1
    assert mean[0].value == pytest.approx(float(np.nanmean(table["left_knee_flexion_deg"])))
    assert mean[0].uncertainty is None
    assert mean[0].provenance.source == "metrics.csv"
    assert "no uncertainty" in (mean[0].note or "")
    velocity = run.resolve(Entities(joint="knee", side="right", quantity="angular_velocity", statistic="min")).facts
    values = np.array(table["right_knee_flexion_velocity_deg_s"])
    assert velocity[0].value == np.nanmin(values)
    assert velocity[0].row == int(np.nanargmin(values))
    _assert_shows_its_numbers(velocity[0])


@slow
def test_the_value_at_a_frame_is_the_csv_cell_with_the_angles_measured_uncertainty(
    run: RunFacts, table: dict[str, list[float]], short_run: Path
) -> None:
    row = 20
    frame = int(table["video_frame"][row])
    facts = run.resolve(Entities(joint="knee", quantity="flexion", frame=frame)).facts
    sigma = motion_from_run(short_run).angle_sd_deg
    assert [f.key for f in facts] == [f"left_knee_flexion_deg@{row}", f"right_knee_flexion_deg@{row}"]
    for fact, side in zip(facts, ("left", "right"), strict=True):
        assert fact.value == table[f"{side}_knee_flexion_deg"][row]
        assert fact.uncertainty == sigma[f"{side}_knee_flexion"]
        assert (fact.row, fact.frame, fact.time_s) == (row, frame, table["time_s"][row])
        assert fact.provenance == Provenance("metrics.csv", f"{side}_knee_flexion_deg row {row}")
        _assert_shows_its_numbers(fact)


@slow
def test_the_value_at_a_time_is_read_at_the_nearest_row_and_says_so(
    run: RunFacts, table: dict[str, list[float]]
) -> None:
    asked = table["time_s"][16] + 0.01
    facts = run.resolve(Entities(joint="trunk", quantity="lateral_lean", statistic="value", time_s=asked)).facts
    assert len(facts) == 1
    assert facts[0].row == 16
    assert facts[0].value == table["trunk_lateral_lean_deg"][16]
    assert f"nearest to {asked:g} s" in (facts[0].note or "")
    _assert_shows_its_numbers(facts[0])


@slow
def test_a_series_without_per_frame_uncertainty_states_none(run: RunFacts, table: dict[str, list[float]]) -> None:
    row = int(np.nanargmax(table["left_knee_moment_n_m_per_kg"]))
    frame = int(table["video_frame"][row])
    facts = run.resolve(Entities(joint="knee", side="left", quantity="moment", frame=frame)).facts
    assert facts[0].value == table["left_knee_moment_n_m_per_kg"][row]
    assert facts[0].uncertainty is None
    assert "no per-frame uncertainty" in (facts[0].note or "")
    assert facts[0].estimated_from_video


@slow
def test_the_viewer_frame_and_joint_answer_a_bare_question(run: RunFacts, table: dict[str, list[float]]) -> None:
    frame = int(table["video_frame"][10])
    facts = run.resolve(Entities(), QueryContext(frame=frame, joint="right_knee")).facts
    assert [f.key for f in facts] == ["right_knee_flexion_deg@10"]
    assert "on screen" in (facts[0].note or "")
    viewing_a_knee = QueryContext(joint="left_knee")
    speed = run.resolve(Entities(quantity="speed", statistic="max"), viewing_a_knee).facts
    assert [f.key for f in speed] == ["com_peak_horizontal_speed_m_s"]
    contacts = run.resolve(Entities(event="contact"), viewing_a_knee)
    assert contacts.metric == "contact"
    assert {f.key.split("@")[0] for f in contacts.facts} == {"event:left_contact", "event:right_contact"}


@slow
@pytest.mark.parametrize(("event", "side"), [("contact", None), ("contact", "left"), ("toe_off", "right")])
def test_foot_events_are_the_analysis_events(run: RunFacts, document: dict[str, Any], event: str, side: Any) -> None:
    expected = [
        e for e in document["biomechanics"]["events"] if e["kind"] == event and (side is None or e["foot"] == side)
    ]
    resolution = run.resolve(Entities(event=event, side=side))
    assert resolution.metric == event
    assert len(resolution.facts) == len(expected) > 0
    assert sorted((f.time_s, f.frame, f.row) for f in resolution.facts) == sorted(
        (e["time_s"], e["video_frame"], e["row"]) for e in expected
    )
    for fact in resolution.facts:
        assert fact.value == fact.time_s
        assert fact.provenance.locator.startswith("biomechanics.events[")
        _assert_shows_its_numbers(fact)


def test_an_ordinal_keeps_that_occurrence_of_each_foot(run: RunFacts, document: dict[str, Any]) -> None:
    contacts = [e for e in document["biomechanics"]["events"] if e["kind"] == "contact"]
    feet = sorted({e["foot"] for e in contacts})
    for ordinal, pick in ((1, min), (-1, max)):
        facts = run.resolve(Entities(event="contact", ordinal=ordinal)).facts
        expected = {pick(e["time_s"] for e in contacts if e["foot"] == foot) for foot in feet}
        assert len(facts) == len(feet)
        assert {f.time_s for f in facts} == expected
    left = [e["time_s"] for e in contacts if e["foot"] == "left"]
    if len(left) >= 2:
        (second,) = run.resolve(Entities(event="contact", side="left", ordinal=2)).facts
        assert second.time_s == sorted(left)[1]
    beyond = run.resolve(Entities(event="contact", side="left", ordinal=len(left) + 1))
    assert not beyond.facts
    assert beyond.unavailable is not None
    assert f"no number {len(left) + 1}" in beyond.unavailable


@slow
def test_the_last_flight_is_the_last_flight_phase(run: RunFacts, document: dict[str, Any]) -> None:
    flights = [p for p in document["biomechanics"]["phases"] if p["kind"] == "flight"]
    (last,) = run.resolve(Entities(event="flight", ordinal=-1)).facts
    assert last.value == flights[-1]["duration_s"]
    (landing,) = run.resolve(Entities(event="landing", ordinal=1)).facts
    assert landing.row == flights[0]["end_row"]


def test_an_ordinal_contact_time_is_that_contact_phase(run: RunFacts, document: dict[str, Any]) -> None:
    contacts = [p for p in document["biomechanics"]["phases"] if p["kind"] == "contact" and p["foot"] == "right"]
    (first,) = run.resolve(Entities(quantity="contact_time", side="right", event="contact", ordinal=1)).facts
    assert first.value == contacts[0]["duration_s"]
    beyond = run.resolve(Entities(quantity="contact_time", side="right", ordinal=len(contacts) + 1))
    assert not beyond.facts
    assert beyond.unavailable is not None


@slow
def test_take_off_landing_and_flight_come_from_the_flight_phases(run: RunFacts, document: dict[str, Any]) -> None:
    flights = [p for p in document["biomechanics"]["phases"] if p["kind"] == "flight"]
    assert flights
    take_offs = run.resolve(Entities(event="take_off")).facts
    landings = run.resolve(Entities(event="landing")).facts
    durations = run.resolve(Entities(event="flight")).facts
    assert [(f.time_s, f.row) for f in take_offs] == [(p["start_s"], p["start_row"]) for p in flights]
    assert [(f.time_s, f.row) for f in landings] == [(p["end_s"], p["end_row"]) for p in flights]
    assert [f.value for f in durations] == [p["duration_s"] for p in flights]
    assert fact_sentence(take_offs[0]).startswith(f"take-off 1 of {len(flights)} at ")


@slow
def test_a_value_at_an_event_pairs_each_side_with_its_own_foot(
    run: RunFacts, document: dict[str, Any], table: dict[str, list[float]]
) -> None:
    facts = run.resolve(Entities(joint="knee", quantity="flexion", event="contact")).facts
    contacts = document["biomechanics"]["events"]
    expected = {(f"{e['foot']}_knee_flexion_deg@{e['row']}") for e in contacts if e["kind"] == "contact"}
    assert {f.key for f in facts} == expected
    for fact in facts:
        column = fact.key.split("@")[0]
        assert fact.value == table[column][fact.row or 0]


@slow
def test_risk_indicators_carry_value_level_rule_thresholds_and_source(run: RunFacts, document: dict[str, Any]) -> None:
    flags = [f for f in document["biomechanics"]["risk"] if f["name"].startswith("knee_frontal_plane_projection")]
    facts = run.resolve(Entities(risk="knee_frontal_plane_projection_angle", side="both")).facts
    assert [f.key for f in facts] == [flag["name"] for flag in flags] != []
    for fact, flag in zip(facts, flags, strict=True):
        assert (fact.value, fact.uncertainty, fact.display) == (flag["value"], flag["uncertainty"], flag["display"])
        assert flag["yellow_threshold"] in fact.numbers
        assert flag["red_threshold"] in fact.numbers
        note = fact.note or ""
        assert f"level {flag['level']}" in note
        assert flag["rule"] in note
        assert flag["source"] in note
        assert fact.time_s == flag["time_s"]
        _assert_shows_its_numbers(fact)
    left = run.resolve(Entities(risk="knee_frontal_plane_projection_angle", side="left")).facts
    assert [f.key for f in left] == ["knee_frontal_plane_projection_angle_left"]


@slow
def test_asymmetry_indicators_narrow_to_the_joint(run: RunFacts, document: dict[str, Any]) -> None:
    names = [f["name"] for f in document["biomechanics"]["risk"] if f["name"].startswith("asymmetry_")]
    assert [f.key for f in run.resolve(Entities(quantity="asymmetry")).facts] == names
    knee = [f.key for f in run.resolve(Entities(joint="knee", risk="asymmetry")).facts]
    assert knee == [name for name in names if "_knee_" in name] != []


@slow
@pytest.mark.parametrize(
    ("joint", "quantity", "angle"),
    [
        ("hip", "internal_rotation", "left_hip_internal_rotation"),
        ("shoulder", "internal_rotation", "right_shoulder_internal_rotation"),
        ("elbow", "pronation", "left_forearm_pronation"),
        ("pelvis", "tilt", "pelvis_tilt"),
    ],
)
def test_an_unobservable_angle_is_unavailable_with_the_analysis_reason(
    run: RunFacts, document: dict[str, Any], joint: str, quantity: str, angle: str
) -> None:
    reason = next(a["reason"] for a in document["biomechanics"]["angles"] if a["name"] == angle)
    resolution = run.resolve(Entities(joint=joint, quantity=quantity, statistic="max"))
    assert resolution.facts == ()
    assert resolution.clarification is None
    assert reason in (resolution.unavailable or "")


@slow
@pytest.mark.parametrize(
    ("entities", "context", "choices"),
    [
        (Entities(joint="knee", quantity="abduction"), None, ["flexion", "moment"]),
        (Entities(quantity="flexion"), None, ["hip", "knee", "elbow"]),
        (Entities(joint="wrist"), None, ["moment", "power"]),
        (Entities(joint="com", quantity="flexion"), None, ["speed", "height"]),
        (Entities(joint="neck"), None, ["knee", "trunk"]),
        (Entities(unknown_terms=("spine",)), None, ["spine", "knee", "contact"]),
        (Entities(frame=10_000), None, ["Frame 10000"]),
        (Entities(event="heel_whip"), None, ["contact", "landing"]),
        (Entities(risk="acl_rupture"), None, ["knee frontal plane projection angle"]),
        (Entities(joint="knee", statistic="value"), None, ["0.00 s"]),
        (Entities(joint="knee", frame=10_000), None, ["Frame 10000", "0.00 s"]),
        (Entities(joint="knee", time_s=99.0), None, ["99 s"]),
    ],
)
def test_entities_naming_nothing_the_run_has_get_a_question_back_with_the_choices(
    run: RunFacts, entities: Entities, context: QueryContext | None, choices: list[str]
) -> None:
    resolution = run.resolve(entities, context)
    assert resolution.facts == ()
    assert resolution.clarification is not None
    for choice in choices:
        assert choice in resolution.clarification


@slow
def test_entities_naming_no_metric_resolve_to_nothing_or_to_the_instant_they_name(
    run: RunFacts, table: dict[str, list[float]]
) -> None:
    assert run.resolve(Entities()) == Resolution()
    frame = int(table["video_frame"][12])
    facts = run.resolve(Entities(frame=frame)).facts
    assert [(f.row, f.frame, f.time_s) for f in facts] == [(12, frame, table["time_s"][12])]
    assert fact_sentence(facts[0]) == f"video frame {frame} at {table['time_s'][12]:.2f} s (frame {frame})"
    near = run.resolve(Entities(time_s=table["time_s"][30] - 0.004)).facts
    assert [f.row for f in near] == [30]


@slow
def test_a_whole_clip_number_asked_at_an_instant_is_stated_as_a_whole_clip_number(
    run: RunFacts, document: dict[str, Any]
) -> None:
    facts = run.resolve(Entities(quantity="takeoff_velocity", statistic="value", frame=3)).facts
    assert [f.key for f in facts] == ["takeoff_vertical_velocity_m_s"]
    assert "whole-clip" in (facts[0].note or "")
    bare = run.resolve(Entities(quantity="jump_height", statistic="value")).facts
    heights = ["jump_height_com_rise_m", "jump_height_flight_time_m"]
    assert [f.key for f in bare] == [name for name in heights if _scalar(document, name)["available"]]
    assert bare


@slow
def test_a_movement_metric_of_another_family_is_unavailable(run: RunFacts) -> None:
    resolution = run.resolve(Entities(quantity="step_length"))
    assert resolution.facts == ()
    assert "step length" in (resolution.unavailable or "")
    assert "jump" in (resolution.unavailable or "")


@slow
def test_without_a_sprint_scalar_contact_time_is_the_contact_phases(run: RunFacts, document: dict[str, Any]) -> None:
    phases = [p for p in document["biomechanics"]["phases"] if p["kind"] == "contact" and p["foot"] == "left"]
    facts = run.resolve(Entities(quantity="contact_time", side="left")).facts
    assert [f.value for f in facts] == [p["duration_s"] for p in phases]


@slow
def test_the_overview_leads_with_duration_movement_headlines_and_flags(run: RunFacts, document: dict[str, Any]) -> None:
    facts = {f.key: f for f in run.overview()}
    assert facts["video.duration_s"].value == document["video"]["duration_s"]
    assert facts["video.frame_count"].value == document["video"]["frame_count"]
    assert facts["biomechanics.movement"].display == document["biomechanics"]["movement"]["family"] == "jump"
    assert "jump_height_com_rise_m" in facts
    flagged = {f["name"] for f in document["biomechanics"]["risk"] if f["level"] in ("red", "yellow")}
    assert flagged <= set(facts)
    green = {f["name"] for f in document["biomechanics"]["risk"] if f["level"] == "green"}
    assert not green & set(facts)
    for fact in facts.values():
        _assert_shows_its_numbers(fact)


@slow
def test_an_explanation_of_a_knee_moment_gets_the_angle_at_its_peak_and_the_ground_force(run: RunFacts) -> None:
    facts = run.related(Entities(joint="knee", side="left", quantity="moment"))
    keys = [f.key for f in facts]
    assert keys[0] == "peak_left_knee_extensor_moment_n_m_per_kg"
    assert f"left_knee_flexion_deg@{facts[0].row}" in keys
    assert "peak_vertical_grf_n" in keys
    assert "peak_knee_extensor_moment_per_kg_left" in keys
    assert len(keys) == len(set(keys))


@slow
def test_resolving_many_entities_shows_only_numbers_of_the_facts(run: RunFacts) -> None:
    questions = [
        Entities(joint=joint, quantity=quantity, statistic=statistic) for joint, quantity, statistic in ANGLE_STATISTICS
    ] + [
        Entities(joint="shoulder", quantity="angular_velocity"),
        Entities(joint="elbow", quantity="power"),
        Entities(quantity="vertical_velocity"),
        Entities(quantity="grf", side="both"),
        Entities(event="flight"),
        Entities(risk="landing_peak_knee_flexion"),
        Entities(risk="trunk_lateral_lean_peak"),
    ]
    for question in questions:
        resolution = run.resolve(question)
        assert resolution.facts, question
        for fact in resolution.facts:
            _assert_shows_its_numbers(fact)


def test_fact_sentence_states_value_time_and_frame() -> None:
    fact = Fact(
        key="left_knee_flexion_max_deg",
        label="peak left knee flexion",
        value=147.17,
        unit="deg",
        display="147.2° ± 8.7°",
        provenance=Provenance("analysis.json", "biomechanics.scalars[left_knee_flexion_max_deg]"),
        uncertainty=8.68,
        time_s=2.4066,
        frame=72,
    )
    assert fact_sentence(fact) == "peak left knee flexion 147.2° ± 8.7° at 2.41 s (frame 72)"


def _copy_run(short_run: Path, target: Path, *, names: tuple[str, ...] = ("analysis.json", "metrics.csv")) -> Path:
    target.mkdir()
    for name in names:
        shutil.copy(short_run / name, target / name)
    return target


@slow
def test_an_extreme_the_csv_does_not_hold_is_stated_without_a_time(short_run: Path, tmp_path: Path) -> None:
    copy = _copy_run(short_run, tmp_path / "run")
    path = copy / "metrics.csv"
    with path.open(newline="", encoding="utf-8") as handle:
        rows = list(csv.reader(handle))
    column = rows[0].index("left_knee_flexion_deg")
    for row in rows[1:]:
        row[column] = "1" if row[column] else ""
    with path.open("w", newline="", encoding="utf-8") as handle:
        csv.writer(handle).writerows(rows)
    facts = RunFacts.load(copy).resolve(Entities(joint="knee", side="left", quantity="flexion", statistic="max")).facts
    assert facts[0].key == "left_knee_flexion_max_deg"
    assert facts[0].time_s is None
    assert "differs" in (facts[0].note or "")


def test_a_missing_run_is_not_found(tmp_path: Path) -> None:
    with pytest.raises(NotFoundError, match=r"analysis\.json"):
        RunFacts.load(tmp_path / "nowhere")
    with pytest.raises(NotFoundError, match=r"analysis\.json"):
        RunFacts.load(tmp_path)


def test_a_corrupt_analysis_is_invalid_input(tmp_path: Path) -> None:
    (tmp_path / "analysis.json").write_text('{"schema_version": "1.1", "video": ', encoding="utf-8")
    with pytest.raises(InvalidInputError, match="not a valid analysis document"):
        RunFacts.load(tmp_path)


@slow
def test_a_corrupt_or_missing_metrics_table_is_refused(short_run: Path, tmp_path: Path) -> None:
    copy = _copy_run(short_run, tmp_path / "corrupt")
    (copy / "metrics.csv").write_text("row,video_frame,time_s\n0,0,zero\n", encoding="utf-8")
    with pytest.raises(InvalidInputError, match="not a number"):
        RunFacts.load(copy)
    (copy / "metrics.csv").write_text("row,time_s\n0,0\n", encoding="utf-8")
    with pytest.raises(InvalidInputError, match="video_frame"):
        RunFacts.load(copy)
    (copy / "metrics.csv").unlink()
    with pytest.raises(NotFoundError, match=r"metrics\.csv"):
        RunFacts.load(copy)


@slow
def test_a_run_without_biomechanics_loads_and_says_why_for_every_look_up(
    short_run: Path, document: dict[str, Any], tmp_path: Path
) -> None:
    bare = dict(document, biomechanics=None, warnings=["no usable pose: the athlete was never fully in view"])
    bare["files"] = dict(document["files"], metrics=None, markers=None, kinematics=None)
    (tmp_path / "analysis.json").write_text(json.dumps(bare), encoding="utf-8")
    run = RunFacts.load(tmp_path)
    for entities in (Entities(joint="knee", quantity="flexion"), Entities(event="contact"), Entities(risk="asymmetry")):
        resolution = run.resolve(entities)
        assert resolution == Resolution(unavailable=resolution.unavailable)
        assert "no biomechanics" in (resolution.unavailable or "")
        assert "never fully in view" in (resolution.unavailable or "")
    assert [f.key for f in run.overview()] == ["video.duration_s", "video.frame_count"]
