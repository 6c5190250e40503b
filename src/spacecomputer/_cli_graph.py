"""``spacecomputer graph …``: questions to the technique knowledge graph."""

from __future__ import annotations

from typing import Annotated

import typer
from rich.console import Console
from rich.table import Table

from spacecomputer._cli_athletes import fail_on_error
from spacecomputer.athletes import ClipShowing, Fault, TechniqueLoading, open_technique_graph

__all__ = ["graph_app"]

graph_app = typer.Typer(
    help="The technique knowledge graph: sports → techniques → phases → joints, metrics, faults, risk.",
    no_args_is_help=True,
)


@graph_app.command("techniques")
def techniques_loading(
    loading: Annotated[str, typer.Option("--loading", help="Joint, e.g. knee, hip, shoulder.")],
    limit: Annotated[int, typer.Option("--limit", help="Most techniques to list.")] = 10,
) -> None:
    """List the techniques that load a joint most (our own 0–3 rating, not a measurement), with the key phases."""
    console = Console(stderr=True)
    rows: tuple[TechniqueLoading, ...] = fail_on_error(
        console, lambda: open_technique_graph().techniques_loading(loading, limit=limit)
    )
    table = Table(title=f"Techniques loading the {loading} most (load: our own rating 0–3)")
    for column in ("technique", "sport", "load", "phases where it is key", "why"):
        table.add_column(column)
    for row in rows:
        table.add_row(row.technique.name, row.technique.sport, str(row.load), ", ".join(row.key_phases), row.rationale)
    Console().print(table)


@graph_app.command("clips")
def clips_showing(
    phase: Annotated[str, typer.Option("--phase", help="Phase, e.g. 'maximum velocity', 'take-off'.")],
    technique: Annotated[str | None, typer.Option("--technique", help="Restrict to one technique.")] = None,
) -> None:
    """List the reference clips that show a phase (whole clips whose phases were not verified are not listed)."""
    console = Console(stderr=True)
    rows: tuple[ClipShowing, ...] = fail_on_error(
        console, lambda: open_technique_graph().clips_showing(phase, technique=technique)
    )
    if not rows:
        console.print(f"no reference clip is known to show {phase!r}")
        return
    table = Table(title=f"Clips showing {phase}")
    table.add_column("clip", no_wrap=True)
    for column in ("technique", "phase", "frames", "note"):
        table.add_column(column)
    for row in rows:
        frames = "whole clip" if row.frame_range is None else f"{row.frame_range[0]}–{row.frame_range[1]}"
        table.add_row(row.clip_id, row.technique, row.phase or "—", frames, row.note)
    Console().print(table)


@graph_app.command("faults")
def faults_linked(
    risk: Annotated[str, typer.Option("--risk", help="Risk indicator or alias, e.g. 'knee valgus'.")],
) -> None:
    """List the technique faults linked to a risk indicator of the biomechanics engine."""
    console = Console(stderr=True)
    rows: tuple[Fault, ...] = fail_on_error(console, lambda: open_technique_graph().faults_linked_to(risk))
    table = Table(title=f"Faults linked to {risk}")
    for column in ("technique", "phase", "fault", "description"):
        table.add_column(column)
    for row in rows:
        table.add_row(row.technique, row.phase or "whole technique", row.name, row.description)
    Console().print(table)
