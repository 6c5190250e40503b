"""``spacecomputer ask`` and ``spacecomputer chat`` through Typer on a real run."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import typer
from typer.testing import CliRunner

from spacecomputer._cli_ask import ask, chat

pytestmark = pytest.mark.slow  # the session's short run
app = typer.Typer()
app.command("ask")(ask)
app.command("chat")(chat)


@pytest.fixture(scope="module")
def index_dir(tmp_path_factory: pytest.TempPathFactory) -> str:
    return str(tmp_path_factory.mktemp("cli-ask-kb"))


def test_ask_prints_the_answer_its_sources_and_route(short_run: Path, index_dir: str) -> None:
    result = CliRunner().invoke(
        app, ["ask", str(short_run), "What was my peak left knee flexion?", "--index-dir", index_dir]
    )
    assert result.exit_code == 0, result.output
    analysis = json.loads((short_run / "analysis.json").read_text())["biomechanics"]["scalars"]
    peak = next(s for s in analysis if s["name"] == "left_knee_flexion_max_deg")
    assert peak["display"] in result.stdout
    assert "[1] your analysis: peak left knee flexion" in result.stdout
    assert "route: analytics" in result.stdout


def test_ask_as_json_with_context(short_run: Path, index_dir: str) -> None:
    args = ["ask", str(short_run), "How bent was my knee here?", "--frame", "20", "--joint", "left_knee"]
    result = CliRunner().invoke(app, [*args, "--level", "scientist", "--json", "--index-dir", index_dir])
    assert result.exit_code == 0, result.output
    answer = json.loads(result.stdout)
    assert answer["route"] == "analytics"
    assert answer["validation"]["passed"]
    (fact,) = [f for f in answer["facts"] if f["frame"] == 20]
    assert fact["key"].startswith("left_knee_flexion_deg")


def test_ask_refuses_a_folder_that_is_not_a_run(tmp_path: Path, index_dir: str) -> None:
    result = CliRunner().invoke(app, ["ask", str(tmp_path), "How high did I jump?", "--index-dir", index_dir])
    assert result.exit_code != 0
    assert "not a run directory" in result.output


def test_chat_keeps_the_subject_and_the_context_commands(short_run: Path, index_dir: str) -> None:
    lines = "What was my peak left knee flexion?\nAnd the right one?\n/level beginner\nHow high did I jump?\n/quit\n"
    result = CliRunner().invoke(app, ["chat", str(short_run), "--index-dir", index_dir], input=lines)
    assert result.exit_code == 0, result.output
    analysis = json.loads((short_run / "analysis.json").read_text())["biomechanics"]["scalars"]
    right = next(s for s in analysis if s["name"] == "right_knee_flexion_max_deg")
    assert right["display"] in result.stdout
    assert "expertise=<Expertise.BEGINNER" in result.stdout
    assert "give or take" in result.stdout  # the beginner's wording
