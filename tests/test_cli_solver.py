"""`spacecomputer solve` and `spacecomputer pose` on a real run analysed from a short clip of the sample video."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any, Literal

import pytest
import typer
from typer.testing import CliRunner

from spacecomputer._cli_solver import pose, solve
from spacecomputer.biomech.solver import BiomechanicalSolver, KeepFootOnGround, OptimisationProblem, PoseSession
from spacecomputer.pipeline import AnalyzeOptions, analyze_video
from tests.videos import sample_frames, write_rgb_frames

pytestmark = pytest.mark.slow
runner = CliRunner()
app = typer.Typer()  # the two commands as `spacecomputer` registers them
app.command()(solve)
app.command()(pose)


@pytest.fixture(scope="module")
def run_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """An analysed run of frames 45–84 of the sample video (jumping jacks), as `spacecomputer analyze` writes it."""
    root = tmp_path_factory.mktemp("solver")
    clip = write_rgb_frames(root / "jacks.mp4", sample_frames(85)[45:])
    analyze_video(clip, AnalyzeOptions(height_m=1.65, overlay=False, workers=1), out_dir=root / "run")
    return root / "run"


@pytest.fixture(scope="module")
def standing(run_dir: Path) -> dict[int, PoseSession]:
    """Sessions on the rows of the clip's second half that stand on both feet with the COM over them.

    Which rows these are, and how far inside the base of support each COM is, varies a little with the machine
    (BlazePose's output is not bit-identical across CPUs); the tests below hold on any of them.
    """
    sessions = {row: PoseSession.from_run(run_dir, row) for row in range(20, 40)}
    out = {row: s for row, s in sessions.items() if s.balance.inside and len(s.balance.feet_in_contact) == 2}
    assert out, "no frame of the clip stands on both feet"
    return out


@pytest.fixture(scope="module")
def frame(standing: dict[int, PoseSession]) -> str:
    """The most stable standing frame: its COM deepest inside the base of support (the jumps leave the ground in
    others)."""
    return str(max(standing, key=lambda row: standing[row].balance.margin_m))


def invoke(*args: str) -> tuple[int, str, str]:
    result = runner.invoke(app, list(args))
    return result.exit_code, result.stdout, result.stderr


def document(out: str) -> dict[str, Any]:
    parsed: dict[str, Any] = json.loads(out)
    return parsed


def test_solve_prints_the_pose_before_and_after(run_dir: Path, frame: str) -> None:
    code, out, err = invoke("solve", str(run_dir), "--frame", frame, "--objective", "joint_stress")
    assert code == 0, err
    headline = re.search(r"joint_stress \(minimise, 1\): (\S+) → (\S+)\s", out)
    assert headline, out
    assert float(headline[2]) < 0.9 * float(headline[1]), out  # a standing pose's arms and trunk can always ease it
    for text in ("joint_stress (minimise", "Joint angles that changed", "Quasi-static joint moments"):
        assert text in out
    assert "balance before" in out
    assert "balance after" in out
    assert "the left foot held on the ground" in out  # the feet on the ground are kept by default
    assert "independent recomputation" in out
    assert "(passed)" in out


def test_solve_as_json_lowers_the_objective_and_preserves_what_it_is_told(run_dir: Path, frame: str) -> None:
    args = ("solve", str(run_dir), "--frame", frame, "--objective", "energy_efficiency", "--json")
    code, out, err = invoke(*args, "--preserve", "left_ankle,right_ankle", "--keep-foot", "left")
    assert code == 0, err
    result = document(out)
    assert result["objective_after"] < result["objective_before"]
    assert result["validity"]["passed"]
    assert result["balance"]["after"]["inside"]
    assert len(result["q"]) == 30
    assert not {"left_ankle_dorsiflexion", "right_ankle_dorsiflexion"} & set(result["free_dofs"])
    assert "left_ankle_dorsiflexion" not in {a["name"] for a in result["angles"]}
    held = {c["name"] for c in result["active"] if c["kind"] == "equality"}
    assert held == {"the left foot held on the ground"}
    assert {m["joint"] for m in result["moments"]} >= {"left_knee", "right_hip", "left_elbow"}


def test_a_solve_with_nothing_free_says_so_and_keeps_the_pose(run_dir: Path, frame: str) -> None:
    joints = ",".join(
        f"{side}_{joint}" for side in ("left", "right") for joint in ("hip", "knee", "ankle", "shoulder", "elbow")
    )
    code, out, err = invoke(
        "solve", str(run_dir), "--frame", frame, "--preserve", f"pelvis,lumbar,neck,{joints}", "--json"
    )
    assert code == 0, err
    result = document(out)
    assert result["message"] == "nothing to optimise: every coordinate is preserved"
    assert result["objective_after"] == result["objective_before"]
    assert result["free_dofs"] == []
    assert result["angles"] == []


@pytest.mark.parametrize(
    ("objective", "preserve", "feet"),
    [
        ("joint_stress", (), ("left", "right")),  # `solve RUN --frame N`'s defaults on a standing frame
        ("energy_efficiency", ("left_ankle", "right_ankle"), ("left",)),  # the options of the JSON test above
    ],
)
def test_every_standing_frame_is_improved_within_its_constraints(
    standing: dict[int, PoseSession],
    objective: str,
    preserve: tuple[str, ...],
    feet: tuple[Literal["left", "right"], ...],
) -> None:
    """Whichever rows BlazePose leaves standing on this machine, the solver improves each one, and its result keeps
    the constraints, the balance and the independent recomputation (a stalled or wandering solver fails here)."""
    problem = OptimisationProblem(objective, preserve=preserve, keep=tuple(KeepFootOnGround(f) for f in feet))
    for row, session in standing.items():
        result = BiomechanicalSolver(session).solve(problem)
        assert result.objective_after < result.objective_before, (row, result.message)
        assert not result.violated, (row, result.violated)
        assert result.validity.passed, (row, result.validity)
        assert result.frames[0].balance.inside, (row, result.frames[0].balance)


def test_an_infeasible_request_is_flagged_and_exits_1(run_dir: Path, frame: str) -> None:
    code, out, _ = invoke("solve", str(run_dir), "--frame", frame, "--margin", "0.5", "--json")
    assert code == 1
    result = document(out)
    assert result["infeasible"]
    assert not result["success"]
    assert any(v["name"].startswith("balance") for v in result["violated"])


def test_pose_sets_an_angle_and_drags_a_wrist(run_dir: Path, frame: str) -> None:
    args = ("pose", str(run_dir), "--frame", frame, "--set", "left_knee_flexion=60", "--drag", "left_wrist=0,0,0")
    code, out, err = invoke(*args, "--json")
    assert code == 0, err
    result = document(out)
    assert [(s["target"], s["kind"]) for s in result["steps"]] == [
        ("left_knee_flexion", "angle"),
        ("left_wrist", "joint"),
    ]
    assert result["steps"][0]["reached"]
    assert result["steps"][1]["miss_distance_m"] > 0.1  # the ground origin is out of the arm's reach: flagged
    assert not result["steps"][1]["reached"]
    knee = {a["name"]: a for a in result["angles"]}["left_knee_flexion"]
    assert knee["after_deg"] == pytest.approx(60.0)
    code, out, err = invoke("pose", str(run_dir), "--frame", frame, "--set", "right_elbow_flexion=90")
    assert code == 0, err
    assert "right_elbow_flexion" in out
    assert "balance after" in out


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["pose", "--set", "left_knee_bend=60"], "unknown joint or angle 'left_knee_bend'; angles: lumbar_bending"),
        (["pose", "--set", "left_knee_flexion"], "--set takes NAME=VALUE"),
        (["pose", "--set", "left_knee_flexion=nan"], "must be finite"),
        (["pose", "--drag", "left_wrist=1,2"], "three coordinates"),
        (["pose"], "at least one --set"),
        (["solve", "--objective", "comfort"], "valid objectives: joint_stress"),
        (["solve", "--preserve", "left_toe"], "valid names: the joints left_hip"),
        (["solve", "--keep-foot", "middle"], "left, right or none"),
    ],
)
def test_bad_requests_print_one_line_and_exit_2(run_dir: Path, frame: str, args: list[str], message: str) -> None:
    code, _, err = invoke(args[0], str(run_dir), "--frame", frame, *args[1:])
    assert code == 2
    assert message in err
    assert err.strip().startswith("error [invalid_input]")


def test_a_frame_out_of_range_or_a_missing_run_is_refused(run_dir: Path, tmp_path: Path) -> None:
    code, _, err = invoke("solve", str(run_dir), "--frame", "4000")
    assert code == 2
    assert "an integer from 0 to 39" in err
    code, out, err = invoke("pose", str(tmp_path), "--frame", "3", "--set", "left_knee_flexion=10", "--json")
    assert code == 2
    assert document(out)["error"]["code"] == "not_found"
