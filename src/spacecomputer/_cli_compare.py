"""``spacecomputer compare RUN --athlete ID`` (or ``--run OTHER``): a run against a reference clip or another run."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.table import Table

from spacecomputer._cli_athletes import fail_on_error
from spacecomputer._outputs import read_metrics_csv
from spacecomputer.athletes import AthleteLibrary, ComparisonResult, compare_motions_detailed, motion_from_run
from spacecomputer.athletes._run_motion import load_run_analysis
from spacecomputer.errors import InvalidInputError
from spacecomputer.report import comparison_section, write_report

__all__ = ["compare"]

COMPARISON_FILE = "comparison.json"


def compare(
    run: Annotated[Path, typer.Argument(help='Run directory written by `spacecomputer analyze` ("you").')],
    athlete: Annotated[str | None, typer.Option("--athlete", help="Reference clip id (see `athletes list`).")] = None,
    other_run: Annotated[
        Path | None, typer.Option("--run", help="Another run to compare with (progress over time).")
    ] = None,
    force: Annotated[bool, typer.Option("--force", help="Compare even if the movements differ.")] = False,
    out: Annotated[Path | None, typer.Option("--out", help="Where to write comparison.json (default: RUN).")] = None,
    no_report: Annotated[bool, typer.Option("--no-report", help="Do not add the comparison to report.html.")] = False,
    json_output: Annotated[bool, typer.Option("--json", help="Print comparison.json to stdout.")] = False,
) -> None:
    """Compare RUN with a reference clip or another run, phase by phase; write comparison.json and the report."""
    console = Console(stderr=True)

    def run_comparison() -> tuple[ComparisonResult, Path]:
        if athlete is not None and other_run is None:
            reference = AthleteLibrary.default().motion(athlete)
        elif other_run is not None and athlete is None:
            reference = motion_from_run(other_run)
        else:
            raise InvalidInputError("give exactly one of --athlete ID or --run OTHER_RUN")
        you = motion_from_run(run)
        result = compare_motions_detailed(you, reference, force=force)
        target = result.comparison.to_json_file((out or run) / COMPARISON_FILE)
        if not no_report:
            analysis = load_run_analysis(run)
            metrics = run / analysis.files.metrics if analysis.files.metrics else None
            series = read_metrics_csv(metrics) if metrics is not None and metrics.is_file() else {}
            write_report(
                run / (analysis.files.report or "report.html"),
                analysis,
                series,
                comparison=comparison_section(result, you, reference),
            )
        return result, target

    result, target = fail_on_error(console, run_comparison, json_output=json_output)
    comparison = result.comparison
    if json_output:
        typer.echo(comparison.model_dump_json(indent=2))
        return
    similarity = comparison.similarity
    console.print(
        f"[bold]{comparison.you.name}[/bold] vs [bold]{comparison.reference.name}[/bold]: "
        f"similarity {similarity.score:.0f}/100 (aligned by {comparison.alignment.method.replace('_', ' ')})"
    )
    for line in (comparison.alignment.note, *comparison.warnings):
        if line:
            console.print(f"[yellow]note[/yellow]: {line}")
    if comparison.findings:
        console.print("Largest differences beyond the measurement error:")
        for finding in comparison.findings:
            console.print(f"  • {finding.text}")
    else:
        console.print("No difference larger than the measurement error.")
    table = Table(title="Joint angles over the aligned motion (you − reference)")
    for column in ("angle", "mean difference", "RMS", "beyond the error?"):
        table.add_column(column)
    for joint in sorted(comparison.joints, key=lambda j: -abs(j.mean_difference_deg or 0.0)):
        rms = f"{joint.rms_difference_deg:.1f}°" if joint.rms_difference_deg is not None else "—"
        table.add_row(joint.angle, joint.display, rms, "yes" if joint.significant else "no")
    console.print(table)
    console.print(f"wrote {target}" + ("" if no_report else f" and the comparison section of {run / 'report.html'}"))
