"""The labelled question set of the brain's evaluation (``benchmarks/qa/questions.jsonl``, issue 6 §5).

Every label must point at something real: metric names at an analysed run's ``analysis.json`` and ``metrics.csv``,
document ids at the shipped corpus, clip ids and sports at the bundled manifest, entities at the brain's canonical
vocabulary (``_types.Entities``), rows at the sample video. The label rules are in ``benchmarks/qa/README.md``.
"""

from __future__ import annotations

import csv
import json
import re
from collections import Counter
from collections.abc import Callable
from dataclasses import fields
from pathlib import Path
from typing import Any, get_args

import pytest

from spacecomputer.athletes import AthleteLibrary, bundled_library_dir
from spacecomputer.biomech.solver import OBJECTIVES
from spacecomputer.brain._types import Entities, Expertise, Intent, Side, Statistic
from spacecomputer.knowledge import shipped_corpus
from spacecomputer.vision import probe_video
from tests.conftest import ROOT, SAMPLE_VIDEO

QUESTIONS = ROOT / "benchmarks" / "qa" / "questions.jsonl"
MIN_QUESTIONS = 150
MIN_PER_INTENT = 8

ROUTE_OF_INTENT = {
    Intent.METRIC_LOOKUP: "analytics",
    Intent.EVENT_QUERY: "analytics",
    Intent.WHAT_IF: "solver",
    Intent.COMPARE_ATHLETE: "comparison",
    Intent.COMPARE_RUNS: "comparison",
    Intent.TECHNIQUE_SEARCH: "comparison",
    Intent.EXPLANATION: "local",
    Intent.GENERAL_KNOWLEDGE: "local",
    Intent.OUT_OF_SCOPE: "refusal",
}
ROUTES = {*ROUTE_OF_INTENT.values(), "clarify"}

# The brain's canonical vocabulary (the brief of issue 6's query parser and analytics engine).
JOINTS = {"hip", "knee", "ankle", "shoulder", "elbow", "wrist", "trunk", "pelvis", "com"}
QUANTITIES = {
    *("flexion", "adduction", "abduction", "dorsiflexion", "elevation", "lateral_lean", "obliquity", "tilt"),
    *("internal_rotation", "pronation", "angle", "angular_velocity", "moment", "power", "work", "grf", "speed"),
    "grf_horizontal",
    *("vertical_velocity", "height", "jump_height", "flight_time", "takeoff_velocity", "margin_of_stability"),
    *("com_over_base", "energy", "step_length", "step_frequency", "contact_time", "asymmetry"),
}
EVENTS = {"contact", "toe_off", "take_off", "landing", "flight"}
RISK_FAMILIES = {
    "knee_frontal_plane_projection_angle",
    "landing_peak_knee_flexion",
    "trunk_lateral_lean_peak",
    "peak_knee_extensor_moment_per_kg",
    "asymmetry",
}
FACTS = {f"{foot} {kind}" for foot in ("left", "right") for kind in ("contact", "toe_off")} | {
    "flight",
    "take_off",
    "landing",
}
CONTEXT_JOINT = re.compile(r"^((left|right)_(hip|knee|ankle|shoulder|elbow|wrist)|trunk|pelvis)$")
OTHER_RUN = "short-run"
"""The one other run compare_runs questions name: the evaluator registers ``short_run`` (frames 45–84) under it."""

KEYS = {"id", "question", "context", "intent", "route", "entities", "expected", "answerable"}
CONTEXT_KEYS = {"frame", "joint", "expertise"}
EXPECTED_KEYS = {"metric", "statistic", "facts_about", "row", "docs", "athlete", "other_run"}


def _load() -> list[dict[str, Any]]:
    lines = QUESTIONS.read_text(encoding="utf-8").splitlines()
    return [json.loads(line) for line in lines if line.strip()]


@pytest.fixture(scope="module")
def questions() -> list[dict[str, Any]]:
    return _load()


def _metrics(item: dict[str, Any]) -> list[str]:
    metric = item["expected"]["metric"]
    if metric is None:
        return []
    return [metric] if isinstance(metric, str) else list(metric)


def _ids(items: list[dict[str, Any]], predicate: Callable[[dict[str, Any]], bool]) -> list[str]:
    return [item["id"] for item in items if predicate(item)]


def test_every_line_has_the_schema(questions: list[dict[str, Any]]) -> None:
    for item in questions:
        qid = item.get("id")
        assert KEYS <= item.keys() <= KEYS | {"note"}, qid
        assert isinstance(item["question"], str), qid
        assert item["question"].strip(), qid
        assert isinstance(item["answerable"], bool), qid
        assert isinstance(item.get("note", ""), str), qid
        context = item["context"]
        assert context.keys() == CONTEXT_KEYS, qid
        assert context["frame"] is None or (isinstance(context["frame"], int) and context["frame"] >= 0), qid
        assert context["joint"] is None or CONTEXT_JOINT.match(context["joint"]), qid
        assert context["expertise"] in {e.value for e in Expertise}, qid
        assert item["intent"] in {i.value for i in Intent}, qid
        assert item["route"] in ROUTES, qid
        assert isinstance(item["entities"], dict), qid
        expected = item["expected"]
        assert expected.keys() == EXPECTED_KEYS, qid
        metric = expected["metric"]
        assert (
            metric is None
            or isinstance(metric, str)
            or (isinstance(metric, list) and len(metric) >= 2 and all(isinstance(m, str) for m in metric))
        ), qid
        assert expected["statistic"] is None or expected["statistic"] in get_args(Statistic), qid
        assert expected["facts_about"] is None or expected["facts_about"] in FACTS, qid
        assert expected["row"] is None or isinstance(expected["row"], int), qid
        assert isinstance(expected["docs"], list), qid
        assert len(set(expected["docs"])) == len(expected["docs"]), qid


def test_ids_are_unique_and_numbered_in_order(questions: list[dict[str, Any]]) -> None:
    assert [item["id"] for item in questions] == [f"q{n:03d}" for n in range(1, len(questions) + 1)]


def test_the_set_is_large_and_covers_every_intent(questions: list[dict[str, Any]]) -> None:
    assert len(questions) >= MIN_QUESTIONS
    assert len({item["question"].casefold() for item in questions}) == len(questions), "duplicate questions"
    per_intent = Counter(item["intent"] for item in questions)
    assert {i.value: per_intent[i.value] for i in Intent if per_intent[i.value] < MIN_PER_INTENT} == {}
    per_route = Counter(item["route"] for item in questions)
    assert set(per_route) == ROUTES


def test_routes_follow_the_label_rules(questions: list[dict[str, Any]]) -> None:
    assert _ids(questions, lambda i: i["intent"] == "out_of_scope" and i["route"] != "refusal") == []
    exceptions = [i for i in questions if i["route"] != ROUTE_OF_INTENT[Intent(i["intent"])]]
    # Clarify keeps the intent label and says why; an in-scope refusal is only for a language we do not cover.
    assert all(i["route"] in {"clarify", "refusal"} for i in exceptions)
    assert _ids(exceptions, lambda i: not i.get("note")) == []
    assert _ids(exceptions, lambda i: i["route"] == "refusal" and not i["note"].startswith("language")) == []
    assert _ids(questions, lambda i: i["route"] in {"clarify", "refusal"} and i["answerable"]) == []


def test_answerable_questions_say_what_answers_them(questions: list[dict[str, Any]]) -> None:
    answerable = [i for i in questions if i["answerable"]]
    assert _ids(answerable, lambda i: i["intent"] == "metric_lookup" and not _metrics(i)) == []
    assert (
        _ids(answerable, lambda i: i["intent"] == "event_query" and not (_metrics(i) or i["expected"]["facts_about"]))
        == []
    )
    assert _ids(answerable, lambda i: i["intent"] == "compare_athlete" and not i["expected"]["athlete"]) == []
    assert _ids(answerable, lambda i: i["intent"] == "general_knowledge" and not i["expected"]["docs"]) == []
    assert _ids(answerable, lambda i: i["intent"] == "out_of_scope") == []
    assert _ids(questions, lambda i: i["expected"]["statistic"] == "value" and i["expected"]["row"] is None) == []


def test_entities_use_the_vocabulary(questions: list[dict[str, Any]]) -> None:
    entity_fields = {f.name for f in fields(Entities)}
    sports = {entry.sport for entry in AthleteLibrary([bundled_library_dir()]).entries() if entry.usable}
    allowed: dict[str, Callable[[Any], bool]] = {
        "joint": JOINTS.__contains__,
        "side": set(get_args(Side)).__contains__,
        "quantity": QUANTITIES.__contains__,
        "statistic": set(get_args(Statistic)).__contains__,
        "event": EVENTS.__contains__,
        "risk": RISK_FAMILIES.__contains__,
        "objective": set(OBJECTIVES).__contains__,
        "sport": sports.__contains__,
        "athlete": lambda v: isinstance(v, str),
        "frame": lambda v: isinstance(v, int) and v >= 0,
        "time_s": lambda v: isinstance(v, float) and v >= 0,
        "change_deg": lambda v: isinstance(v, float) and v != 0,
        "ordinal": lambda v: isinstance(v, int) and v != 0,
        "change_direction": lambda v: v in (-1, 1),
        "unknown_terms": lambda v: isinstance(v, list) and len(v) > 0 and all(isinstance(t, str) and t for t in v),
    }
    assert allowed.keys() == entity_fields, "the vocabulary check no longer matches Entities"
    for item in questions:
        for name, value in item["entities"].items():
            assert name in entity_fields, (item["id"], name)
            assert value is not None, (item["id"], name)
            assert allowed[name](value), (item["id"], name, value)


def test_expected_labels_agree_with_the_entities(questions: list[dict[str, Any]]) -> None:
    for item in questions:
        entities, expected = item["entities"], item["expected"]
        statistic = entities.get("statistic")
        if statistic is not None and expected["statistic"] is not None:
            assert statistic == expected["statistic"], item["id"]
        if "athlete" in entities:
            assert expected["athlete"] == entities["athlete"], item["id"]
        if item["intent"] == "compare_runs":
            assert expected["other_run"] == (OTHER_RUN if item["route"] == "comparison" else None), item["id"]
        else:
            assert expected["other_run"] is None, item["id"]


def test_docs_are_shipped_corpus_documents(questions: list[dict[str, Any]]) -> None:
    corpus = {document.id for document in shipped_corpus()}
    unknown = {(item["id"], doc) for item in questions for doc in item["expected"]["docs"] if doc not in corpus}
    assert unknown == set()


def test_athletes_are_clips_of_the_manifest(questions: list[dict[str, Any]]) -> None:
    entries = {entry.id: entry for entry in AthleteLibrary([bundled_library_dir()]).entries()}
    for item in questions:
        athlete = item["expected"]["athlete"]
        if athlete is None:
            continue
        assert athlete in entries, item["id"]
        # An unusable clip cannot be compared with: the question must be routed to a clarifying answer.
        assert entries[athlete].usable or item["route"] == "clarify", item["id"]


def test_rows_frames_and_times_point_at_the_same_sample_frame(questions: list[dict[str, Any]]) -> None:
    video = probe_video(SAMPLE_VIDEO)
    for item in questions:
        row = item["expected"]["row"]
        if row is None:
            continue
        assert 0 <= row < video.frame_count, item["id"]
        frame = item["entities"].get("frame", item["context"]["frame"])
        if frame is not None:
            assert row == frame, item["id"]
        if "time_s" in item["entities"]:
            assert row == round(item["entities"]["time_s"] * video.fps), item["id"]


def _run_names(run: Path) -> tuple[set[str], set[str], set[str]]:
    """Return a run's scalar names, risk indicator names and ``metrics.csv`` columns."""
    analysis = json.loads((run / "analysis.json").read_text(encoding="utf-8"))
    biomechanics = analysis["biomechanics"]
    scalars = {scalar["name"] for scalar in biomechanics["scalars"]}
    risks = {risk["name"] for risk in biomechanics["risk"]}
    with (run / "metrics.csv").open(newline="", encoding="utf-8") as stream:
        columns = set(next(csv.reader(stream)))
    return scalars, risks, columns


@pytest.mark.slow
def test_every_expected_metric_exists_in_an_analysed_run(questions: list[dict[str, Any]], short_run: Path) -> None:
    # The short run (frames 45–84 of the sample) is also detected as a jump and has the same names as the full
    # sample run: the same scalars, risk indicators and columns.
    scalars, risks, columns = _run_names(short_run)
    names = scalars | risks | columns
    assert {(item["id"], name) for item in questions for name in _metrics(item) if name not in names} == set()
    # A value at a row, and a statistic the run does not store as a scalar, are read from a metrics.csv column.
    for item in questions:
        if item["expected"]["row"] is not None and _metrics(item):
            assert set(_metrics(item)) <= columns, item["id"]
    # Every labelled risk family names indicators of the run (side suffix stripped, asymmetry_* grouped).
    families = {re.sub(r"_(left|right)$", "", name) for name in risks if not name.startswith("asymmetry_")}
    assert families | {"asymmetry"} == RISK_FAMILIES
