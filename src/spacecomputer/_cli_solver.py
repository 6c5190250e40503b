"""``spacecomputer solve`` and ``spacecomputer pose``: optimise or manipulate one frame of a run in the pose lab.

``solve RUN --frame N --objective joint_stress [--preserve left_ankle,right_ankle] [--keep-foot left]`` finds the
pose that best meets an objective (:class:`~spacecomputer.biomech.solver.BiomechanicalSolver`); ``pose RUN --frame N
--set left_knee_flexion=60 [--drag left_wrist=x,y,z]`` applies manipulations (:class:`PoseSession`). Both print
the frame's pose before and after: the angles that changed, every joint's quasi-static moment, static balance, and
the limits or constraints involved; ``--json`` prints the same as one JSON document. Our errors print one line and
exit with status 2; an infeasible optimisation prints its result and exits with status 1.
"""

from __future__ import annotations

import json
import math
from dataclasses import replace
from pathlib import Path
from typing import Annotated, Any, Literal

import numpy as np
import typer
from rich.console import Console
from rich.table import Table

from spacecomputer._cli_athletes import fail_on_error
from spacecomputer.biomech.solver import AngleChange, Balance, MomentChange, PoseSession
from spacecomputer.biomech.solver._objectives import OBJECTIVES
from spacecomputer.biomech.solver._optimise import BiomechanicalSolver
from spacecomputer.biomech.solver._optimise_problem import KeepFootOnGround, OptimisationProblem
from spacecomputer.biomech.solver._optimise_result import ConstraintReport, SolveResult
from spacecomputer.biomech.solver._results import ManipulationResult
from spacecomputer.errors import InvalidInputError

__all__ = ["pose", "solve"]

Run = Annotated[Path, typer.Argument(help="Run directory written by `spacecomputer analyze`.")]
Frame = Annotated[int, typer.Option("--frame", help="Row of the run's poses.parquet.")]
Mass = Annotated[float | None, typer.Option("--mass", help="Body mass, kg (default: the run's).")]
Height = Annotated[float | None, typer.Option("--height", help="Body height, m (default: the run's).")]
Json = Annotated[bool, typer.Option("--json", help="Print the result as JSON.")]


# --- parsing ---------------------------------------------------------------------------------------------------


def _split(option: str, text: str, example: str) -> tuple[str, str]:
    name, sep, value = text.partition("=")
    if not sep or not name.strip() or not value.strip():
        raise InvalidInputError(f"{option} takes NAME=VALUE, e.g. {example}; got {text!r}", details={"value": text})
    return name.strip(), value.strip()


def _number(option: str, text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise InvalidInputError(f"{option}: {text!r} is not a number") from None
    if not math.isfinite(value):
        raise InvalidInputError(f"{option}: the value must be finite; got {text!r}")
    return value


def parse_sets(values: list[str]) -> list[tuple[str, float]]:
    """Parse ``--set NAME=DEGREES`` options."""
    pairs = (_split("--set", v, "left_knee_flexion=60") for v in values)
    return [(name, _number("--set", value)) for name, value in pairs]


def parse_drags(values: list[str]) -> list[tuple[str, list[float]]]:
    """Parse ``--drag JOINT=X,Y,Z`` options (metres, in the run's pose frame)."""
    out = []
    for text in values:
        name, value = _split("--drag", text, "left_wrist=0.3,0.2,1.4")
        parts = value.split(",")
        if len(parts) != 3:
            raise InvalidInputError(f"--drag takes JOINT=X,Y,Z (three coordinates in metres); got {text!r}")
        out.append((name, [_number("--drag", part) for part in parts]))
    return out


def parse_feet(values: list[str] | None) -> tuple[KeepFootOnGround, ...] | None:
    """Parse ``--keep-foot`` options: the feet named, ``()`` for ``none``, ``None`` when not given."""
    if not values:
        return None
    if values == ["none"]:
        return ()
    bad = [v for v in values if v not in ("left", "right")]
    if bad:
        raise InvalidInputError(f"--keep-foot takes left, right or none; got {', '.join(bad)}")
    return tuple(KeepFootOnGround(side) for side in dict.fromkeys(values))  # type: ignore[arg-type]


def _feet_on_the_ground(session: PoseSession) -> tuple[KeepFootOnGround, ...]:
    sides: tuple[Literal["left", "right"], ...] = ("left", "right")
    touching = session.analysis.in_contact[0]
    return tuple(KeepFootOnGround(side) for side, down in zip(sides, touching, strict=True) if down)


# --- printing --------------------------------------------------------------------------------------------------


def _balance(balance: Balance) -> dict[str, Any]:
    return {
        "inside": balance.inside,
        "margin_m": balance.margin_m if math.isfinite(balance.margin_m) else None,
        "feet_in_contact": list(balance.feet_in_contact),
        "com_m": balance.com_m.tolist(),
        "note": balance.note,
    }


def _changes(angles: tuple[AngleChange, ...], moments: tuple[MomentChange, ...]) -> dict[str, Any]:
    def finite(value: float) -> float | None:
        return value if math.isfinite(value) else None

    return {
        "angles": [
            {"name": a.name, "before_deg": finite(a.before_deg), "after_deg": finite(a.after_deg)} for a in angles
        ],
        "moments": [
            {
                "joint": m.joint,
                "before_n_m": finite(m.before_n_m),
                "after_n_m": finite(m.after_n_m),
                "before_n_m_per_kg": finite(m.before_n_m_per_kg),
                "after_n_m_per_kg": finite(m.after_n_m_per_kg),
                "load": m.load,
                "direction": m.direction,
            }
            for m in moments
        ],
    }


def _print_changes(
    console: Console,
    angles: tuple[AngleChange, ...],
    moments: tuple[MomentChange, ...],
    before: Balance,
    after: Balance,
) -> None:
    table = Table(title="Joint angles that changed (degrees)")
    for column in ("angle", "before", "after", "change"):
        table.add_column(column, justify="left" if column == "angle" else "right")
    for a in sorted(angles, key=lambda c: -abs(c.change_deg) if math.isfinite(c.change_deg) else 0.0):
        table.add_row(a.name, f"{a.before_deg:.1f}", f"{a.after_deg:.1f}", f"{a.change_deg:+.1f}")
    console.print(table if angles else "No joint angle changed.")
    table = Table(title="Quasi-static joint moments (N·m; per kg in brackets)")
    for column in ("joint", "before", "after", "load", "kind"):
        table.add_column(column, justify="right" if column in ("before", "after") else "left")
    for m in moments:
        table.add_row(
            m.joint,
            f"{m.before_n_m:+.1f} ({m.before_n_m_per_kg:+.2f})",
            f"{m.after_n_m:+.1f} ({m.after_n_m_per_kg:+.2f})",
            m.load,
            m.direction,
        )
    console.print(table)
    for label, balance in (("before", before), ("after", after)):
        state = "inside" if balance.inside else "[yellow]outside[/yellow]"
        feet = ", ".join(balance.feet_in_contact) or "none"
        console.print(
            f"balance {label}: COM {state} the base of support by {100 * balance.margin_m:+.1f} cm (feet on the "
            f"ground: {feet})"
        )


# --- solve -----------------------------------------------------------------------------------------------------


def _constraint(report: ConstraintReport) -> dict[str, Any]:
    return {"kind": report.kind, "name": report.name, "amount": report.amount, "unit": report.unit}


def _solve_document(result: SolveResult) -> dict[str, Any]:
    frame = result.frames[0]
    return {
        "objective": result.objective,
        "sense": result.sense,
        "unit": result.unit,
        "objective_before": result.objective_before,
        "objective_after": result.objective_after,
        "success": result.success,
        "infeasible": result.infeasible,
        "message": result.message,
        "violated": [_constraint(c) for c in result.violated],
        "active": [_constraint(c) for c in result.active],
        "free_dofs": list(result.free_dofs),
        "q": result.q.tolist(),
        "balance": {"before": _balance(frame.balance_before), "after": _balance(frame.balance)},
        **_changes(frame.angle_changes, frame.moment_changes),
        "validity": {
            "angle_error_deg": result.validity.angle_error_deg,
            "com_error_m": result.validity.com_error_m,
            "moment_error_n_m": result.validity.moment_error_n_m,
            "bone_error_m": result.validity.bone_error_m,
            "within_limits": result.validity.within_limits,
            "not_recomputed": list(result.validity.not_recomputed),
            "passed": result.validity.passed,
        },
        "iterations": result.iterations,
        "elapsed_ms": result.elapsed_ms,
        "warnings": list(result.warnings),
    }


def solve(
    run: Run,
    frame: Frame,
    objective: Annotated[
        str, typer.Option("--objective", help=f"What to optimise: {', '.join(OBJECTIVES)}.")
    ] = "joint_stress",
    preserve: Annotated[
        str | None, typer.Option("--preserve", help="Comma-separated joints or coordinates to keep as they are.")
    ] = None,
    keep_foot: Annotated[
        list[str] | None,
        typer.Option("--keep-foot", help="left, right (repeatable) or none; default: the feet on the ground."),
    ] = None,
    max_change: Annotated[
        float | None, typer.Option("--max-change", help="Largest change of any angle, degrees.")
    ] = None,
    no_balance: Annotated[bool, typer.Option("--no-balance", help="Do not require static balance.")] = False,
    margin: Annotated[float, typer.Option("--margin", help="Balance margin inside the base of support, m.")] = 0.0,
    mass: Mass = None,
    height: Height = None,
    json_output: Json = False,
) -> None:
    """Find the pose of frame N of RUN that best meets an objective under joint limits, balance and constraints."""
    console = Console(stderr=True)

    def optimise() -> SolveResult:
        names = tuple(n.strip() for n in (preserve or "").split(",") if n.strip())
        feet = parse_feet(keep_foot)
        problem = OptimisationProblem(
            objective,
            preserve=names,
            balance_required=not no_balance,
            balance_margin_m=margin,
            max_change_deg=max_change,
        )
        session = PoseSession.from_run(run, frame, mass_kg=mass, height_m=height)
        problem = replace(problem, keep=_feet_on_the_ground(session) if feet is None else feet)
        return BiomechanicalSolver(session).solve(problem)

    result = fail_on_error(console, optimise, json_output=json_output)
    if json_output:
        typer.echo(json.dumps(_solve_document(result), indent=2, ensure_ascii=False))
    else:
        out = Console()
        colour = "green" if result.success else ("red" if result.infeasible else "yellow")
        out.print(
            f"[bold]{result.objective}[/bold] ({result.sense}, {result.unit}): {result.objective_before:.4g} → "
            f"{result.objective_after:.4g}  [{colour}]{result.message}[/{colour}]"
        )
        frame_outcome = result.frames[0]
        _print_changes(
            out,
            frame_outcome.angle_changes,
            frame_outcome.moment_changes,
            frame_outcome.balance_before,
            frame_outcome.balance,
        )
        for label, reports in (("violated", result.violated), ("active", result.active)):
            for report in reports:
                out.print(f"{label}: {report}")
        check = result.validity
        out.print(
            f"independent recomputation: angles within {check.angle_error_deg:.2g}°, COM within "
            f"{1000 * check.com_error_m:.2g} mm, moments within {check.moment_error_n_m:.2g} N·m "
            f"({'passed' if check.passed else '[red]failed[/red]'}); {result.iterations} iterations, "
            f"{result.elapsed_ms:.0f} ms"
        )
        for warning in result.warnings:
            out.print(f"[yellow]warning[/yellow]: {warning}")
    if result.infeasible:
        raise typer.Exit(code=1)


# --- pose ------------------------------------------------------------------------------------------------------


def pose(
    run: Run,
    frame: Frame,
    set_angle: Annotated[
        list[str] | None, typer.Option("--set", help="NAME=DEGREES, e.g. left_knee_flexion=60 (repeatable).")
    ] = None,
    drag: Annotated[
        list[str] | None,
        typer.Option("--drag", help="JOINT=X,Y,Z: move a joint centre to a position, m (repeatable)."),
    ] = None,
    mass: Mass = None,
    height: Height = None,
    json_output: Json = False,
) -> None:
    """Set angles (then drag joints, in the order given) on frame N of RUN and show what changes."""
    console = Console(stderr=True)

    def manipulate() -> tuple[PoseSession, list[ManipulationResult]]:
        sets, drags = parse_sets(set_angle or []), parse_drags(drag or [])
        if not sets and not drags:
            raise InvalidInputError("give at least one --set NAME=DEGREES or --drag JOINT=X,Y,Z")
        session = PoseSession.from_run(run, frame, mass_kg=mass, height_m=height)
        session.save("before")
        steps = [session.manipulate(n, v) for n, v in sets]
        steps += [session.manipulate(n, np.asarray(p)) for n, p in drags]
        session.save("after")
        return session, steps

    session, steps = fail_on_error(console, manipulate, json_output=json_output)
    comparison = session.compare("before", "after")
    if json_output:
        document = {
            "steps": [
                {
                    "target": s.target,
                    "kind": s.kind,
                    "reached": s.reached,
                    "miss_distance_m": s.miss_distance_m,
                    "angle_shortfall_deg": s.angle_shortfall_deg,
                    "violations": [str(v) for v in s.violations],
                    "warnings": list(s.warnings),
                }
                for s in steps
            ],
            "balance": {"before": _balance(comparison.balance_a), "after": _balance(comparison.balance_b)},
            **_changes(comparison.angle_changes, comparison.moment_changes),
            "q": session.q.tolist(),
        }
        typer.echo(json.dumps(document, indent=2, ensure_ascii=False))
        return
    out = Console()
    for step in steps:
        state = "reached" if step.reached else "[yellow]not reached[/yellow]"
        out.print(f"[bold]{step.target}[/bold]: {state} ({step.elapsed_ms:.1f} ms)")
        for line in (*step.violations, *step.warnings):
            out.print(f"  [yellow]•[/yellow] {line}")
    _print_changes(out, comparison.angle_changes, comparison.moment_changes, comparison.balance_a, comparison.balance_b)
