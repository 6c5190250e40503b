"""The ``spacecomputer`` command line."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.table import Table
from rich.text import Text

from spacecomputer import __version__
from spacecomputer._cli_ask import ask, chat
from spacecomputer._cli_athletes import athletes_app
from spacecomputer._cli_compare import compare
from spacecomputer._cli_graph import graph_app
from spacecomputer._cli_kb import kb_add, kb_search
from spacecomputer._cli_progress import ProgressBar
from spacecomputer._cli_serve import serve
from spacecomputer._cli_solver import pose, solve
from spacecomputer._native_logs import filtered_stderr
from spacecomputer._rundir import default_run_directory
from spacecomputer.config import get_settings
from spacecomputer.domain._analysis_biomech import BiomechanicsSection
from spacecomputer.errors import InvalidInputError, SpaceComputerError
from spacecomputer.pipeline import AnalysisResult, AnalyzeOptions, analyze_video, default_workers

__all__ = ["app", "main"]

app = typer.Typer(
    name="spacecomputer",
    help="Sports video to metric 3D pose and biomechanics.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)


app.add_typer(athletes_app, name="athletes")
app.add_typer(graph_app, name="graph")
kb_app = typer.Typer(help="The knowledge base: add documents, search passages with citations.", no_args_is_help=True)
kb_app.command("add")(kb_add)
kb_app.command("search")(kb_search)
app.add_typer(kb_app, name="kb")
app.command()(compare)
app.command()(ask)
app.command()(chat)
app.command()(serve)
app.command()(solve)
app.command()(pose)


@app.callback()
def _root(
    version: Annotated[bool, typer.Option("--version", help="Print the version and exit.")] = False,
) -> None:
    if version:
        typer.echo(__version__)
        raise typer.Exit()


def _parse_cutoff(value: str | None) -> float | str | None:
    if value is None or value == "auto":
        return value
    try:
        return float(value)
    except ValueError:
        raise InvalidInputError(f"--cutoff must be a frequency in Hz or 'auto'; got {value!r}") from None


def _summary_table(result: AnalysisResult) -> Table:
    analysis = result.analysis
    table = Table(title=f"Space Computer — {analysis.video.filename}", show_header=False)
    table.add_column("", style="bold")
    table.add_column("")
    video = analysis.video
    table.add_row("video", f"{video.width_px}×{video.height_px} @ {video.fps:.2f} fps, {video.duration_s:.2f} s")
    table.add_row(
        "frames",
        f"{analysis.pose.frames_with_pose} of {analysis.pose.frames} with the athlete "
        f"(detection rate {analysis.pose.detection_rate:.1%})",
    )
    score = analysis.quality.get("score", 0.0)
    colour = "green" if result.quality.passed else "yellow"
    table.add_row(
        "quality",
        f"[{colour}]{score:.2f}[/{colour}]" + ("" if result.quality.passed else " (below threshold)"),
    )
    for warning in analysis.warnings:
        table.add_row("warning", f"[yellow]{warning}[/yellow]")
    table.add_row(
        "3D",
        f"{analysis.pose.coordinate_frame} frame, {analysis.pose.units}; scale ×{analysis.trajectory.scale_factor:.3f}",
    )
    low_pass = analysis.processing.filter
    table.add_row(
        "smoothing",
        f"Butterworth zero-phase, {low_pass.cutoff_hz:.2f} Hz ({low_pass.cutoff_method})",
    )
    table.add_row(
        "throughput",
        f"{analysis.throughput.frames_per_s:.1f} frames/s ({analysis.throughput.wall_s:.1f} s, "
        f"{analysis.processing.chunking.chunks} chunk(s) on up to {analysis.processing.workers} worker(s))",
    )
    if result.out_dir is not None:
        table.add_row("outputs", str(result.out_dir))
    return table


_HEADLINE_CATEGORIES = ("sprint", "jump", "landing", "strike", "throw", "kinetics", "stability")
_RISK_COLOURS = {"green": "green", "yellow": "yellow", "red": "red", "unavailable": "dim"}


def _biomechanics_table(section: BiomechanicsSection) -> Table:
    """Movement metrics, headline kinetics and risk flags, each with its ± (the rest is in analysis.json)."""
    movement = section.movement
    title = f"Biomechanics — {movement.family or 'no movement family'} ({movement.source.replace('_', ' ')})"
    table = Table(title=title, show_header=False)
    table.add_column("", style="bold", overflow="fold")
    table.add_column("")
    for scalar in section.scalars:
        if scalar.category in _HEADLINE_CATEGORIES and scalar.available and not scalar.name.endswith("_work_j"):
            label = scalar.name + (" *" if scalar.estimated_from_video else "")
            table.add_row(label, scalar.display)
    for flag in section.risk:
        colour = _RISK_COLOURS[flag.level]
        agreement = "" if flag.level_agreement is None else f" (same level in {flag.level_agreement:.0%} of draws)"
        table.add_row(
            f"risk: {flag.name}", f"[{colour}]{flag.level}[/{colour}] {flag.display}{agreement} — {flag.rule}"
        )
    table.add_row("", "* estimated from video (no force plates); ± = spread from landmark and depth noise")
    return table


@app.command()
def analyze(
    video: Annotated[Path, typer.Argument(help="Video file (MP4, MOV, MKV, WebM, AVI).")],
    height: Annotated[
        float | None, typer.Option("--height", help="Athlete height, metres (sets the 3D scale).")
    ] = None,
    mass: Annotated[float | None, typer.Option("--mass", help="Athlete body mass, kilograms.")] = None,
    sex: Annotated[
        str | None, typer.Option("--sex", help="female or male: de Leva's segment table (default: their mean).")
    ] = None,
    sport: Annotated[str | None, typer.Option("--sport", help="Movement, e.g. sprint, jump, boxing.")] = None,
    calib: Annotated[Path | None, typer.Option("--calib", help="Camera calibration, Pose2Sim/Sports2D TOML.")] = None,
    out: Annotated[Path | None, typer.Option("--out", help="Output directory (default runs/<video>-<time>).")] = None,
    json_output: Annotated[bool, typer.Option("--json", help="Print analysis.json to stdout, no bar.")] = False,
    strict: Annotated[bool, typer.Option("--strict", help="Refuse videos below the quality threshold.")] = False,
    workers: Annotated[int, typer.Option("--workers", help="Processes for long videos; 0 = one per core.")] = 0,
    cutoff: Annotated[str | None, typer.Option("--cutoff", help="Low-pass cut-off in Hz, or 'auto'.")] = None,
    no_overlay: Annotated[bool, typer.Option("--no-overlay", help="Skip overlay.mp4.")] = False,
) -> None:
    """Track the athlete in VIDEO and write a metric 3D pose sequence, a quality report and an overlay."""
    console = Console(stderr=True)
    try:
        options = AnalyzeOptions(
            height_m=height,
            mass_kg=mass,
            sex=sex.lower() if sex is not None else None,
            sport=sport,
            calibration_path=calib,
            cutoff_hz=_parse_cutoff(cutoff),  # type: ignore[arg-type]
            workers=workers or default_workers(),
            strict=strict,
            overlay=not no_overlay,
        )
        out_dir = out if out is not None else default_run_directory(get_settings().runs_dir, video)
        if json_output:
            result = analyze_video(video, options, out_dir=out_dir)
        else:
            bar = ProgressBar(console)
            with bar.progress:
                result = analyze_video(video, options, out_dir=out_dir, progress=bar)
    except SpaceComputerError as error:
        if json_output:
            typer.echo(json.dumps({"error": error.to_dict()}))
        console.print(Text.assemble(("error", "bold red"), f" [{error.code}] {error.message}"), soft_wrap=True)
        raise typer.Exit(code=2) from None
    if json_output:
        typer.echo(result.analysis.model_dump_json(indent=2))
        return
    console.print(_summary_table(result))
    if result.biomechanics is not None:
        console.print(_biomechanics_table(result.biomechanics.section))
    if not result.quality.passed:
        console.print(
            f"[yellow]warning[/yellow]: quality score {result.quality.score:.2f} is below the threshold; "
            "results may be unreliable (use --strict to refuse such videos)"
        )


def main() -> None:
    """Entry point of the ``spacecomputer`` console script (exits with the command's status)."""
    with filtered_stderr():
        app(prog_name="spacecomputer")
