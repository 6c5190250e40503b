"""``spacecomputer athletes …``: list, show and add reference clips, re-encode their videos for browsers."""

from __future__ import annotations

import dataclasses
import json
from collections.abc import Callable
from pathlib import Path
from typing import Annotated, TypeVar

import typer
from rich.console import Console
from rich.table import Table
from rich.text import Text

from spacecomputer._cli_progress import ProgressBar
from spacecomputer.athletes import (
    MOVEMENTS,
    AthleteLibrary,
    SearchHit,
    SimilarityIndex,
    add_reference_clip,
    analyse_clip,
    motion_from_run,
    transcode_h264,
)
from spacecomputer.errors import NotFoundError, SpaceComputerError
from spacecomputer.pipeline import AnalyzeOptions, default_workers

__all__ = ["athletes_app", "fail_on_error"]

athletes_app = typer.Typer(help="The elite athlete library: list, show, add reference clips.", no_args_is_help=True)

T = TypeVar("T")


def fail_on_error(console: Console, action: Callable[[], T], *, json_output: bool = False) -> T:
    """Run ``action``; one of our errors is printed (and as JSON with ``json_output``) and exits with status 2."""
    try:
        return action()
    except SpaceComputerError as error:
        if json_output:
            typer.echo(json.dumps({"error": error.to_dict()}))
        console.print(Text.assemble(("error", "bold red"), f" [{error.code}] {error.message}"), soft_wrap=True)
        raise typer.Exit(code=2) from None


@athletes_app.command("list")
def list_clips(
    json_output: Annotated[bool, typer.Option("--json", help="Print the manifest entries as JSON.")] = False,
) -> None:
    """List the reference clips: id, athlete, sport, movement, frames with a pose, usable or why not."""
    console = Console(stderr=True)
    library = fail_on_error(console, AthleteLibrary.default, json_output=json_output)
    entries = library.entries()
    if json_output:
        typer.echo(json.dumps([entry.model_dump(mode="json") for entry in entries], indent=2, ensure_ascii=False))
        return
    table = Table(title=f"Reference clips ({len(entries)})")
    table.add_column("id", no_wrap=True)
    for column in ("athlete", "sport", "technique", "movement", "fps", "frames with pose", "usable"):
        table.add_column(column)
    for entry in entries:
        facts = entry.facts
        table.add_row(
            entry.id,
            entry.athlete or "[dim]not named[/dim]",
            entry.sport,
            entry.technique,
            entry.movement or "—",
            f"{facts.fps:g}",
            f"{facts.frames_with_pose}/{facts.frames_listed}",
            "yes" if entry.usable else "[red]no[/red] (athletes show)",
        )
    Console().print(table)


@athletes_app.command("show")
def show_clip(
    clip_id: Annotated[str, typer.Argument(help="Clip id (see `athletes list`).")],
    analysis: Annotated[
        bool, typer.Option("--analysis", help="Also run the biomechanics engine on it (scale-free results).")
    ] = False,
) -> None:
    """Print one clip's manifest entry as JSON (what is known, what was verified, what is not known)."""
    console = Console(stderr=True)

    def document() -> dict[str, object]:
        library = AthleteLibrary.default()
        shown: dict[str, object] = library.get(clip_id).model_dump(mode="json")
        if analysis:
            shown["analysis"] = analyse_clip(library, clip_id).model_dump(mode="json")
        return shown

    typer.echo(json.dumps(fail_on_error(console, document, json_output=True), indent=2, ensure_ascii=False))


@athletes_app.command("add")
def add_clip(
    video: Annotated[Path, typer.Argument(help="Video of the reference performance.")],
    name: Annotated[str, typer.Option("--name", help="What the clip shows; also the default id.")],
    sport: Annotated[str, typer.Option("--sport", help="Sport, e.g. athletics, boxing.")],
    movement: Annotated[str, typer.Option("--movement", help=f"Movement family: {', '.join(MOVEMENTS)}.")],
    technique: Annotated[str | None, typer.Option("--technique", help="Technique, e.g. 'ball carry'.")] = None,
    athlete: Annotated[str | None, typer.Option("--athlete", help="Athlete's name, if known.")] = None,
    clip_id: Annotated[str | None, typer.Option("--id", help="Clip id (default: from --name).")] = None,
    view: Annotated[str | None, typer.Option("--view", help="Camera view (default: estimated).")] = None,
    source: Annotated[str, typer.Option("--source", help="Where the footage comes from.")] = "added by the user",
    licence: Annotated[str, typer.Option("--licence", help="Terms of use of the footage.")] = "not stated",
) -> None:
    """Analyse VIDEO and add it to your reference library (SPACECOMPUTER_LIBRARY_DIR/athletes)."""
    console = Console(stderr=True)
    bar = ProgressBar(console)
    with bar.progress:
        entry = fail_on_error(
            console,
            lambda: add_reference_clip(
                video,
                name=name,
                sport=sport,
                movement=movement,
                technique=technique,
                athlete=athlete,
                clip_id=clip_id,
                camera_view=view,
                source=source,
                licence=licence,
                options=AnalyzeOptions(workers=default_workers()),
                progress=bar,
            ),
        )
    facts = entry.facts
    console.print(
        f"added [bold]{entry.id}[/bold]: {entry.sport}, {entry.movement}, "
        f"{facts.frames_with_pose}/{facts.frames_listed} frames with a pose at {facts.fps:g} fps"
    )
    for note in entry.notes:
        console.print(f"  note: {note}")


@athletes_app.command("transcode")
def transcode(
    clip_id: Annotated[str, typer.Argument(help="Clip id whose shipped video to re-encode.")],
) -> None:
    """Re-encode a clip's shipped video to H.264 (the file its manifest entry names) for browsers."""
    console = Console(stderr=True)

    def run() -> tuple[Path, int]:
        library = AthleteLibrary.default()
        entry = library.get(clip_id)
        if entry.video is None or entry.video_h264 is None:
            raise NotFoundError(f"clip {clip_id!r} ships no video to re-encode", details={"id": clip_id})
        target = library.path(clip_id, entry.video_h264)
        return target, transcode_h264(library.path(clip_id, entry.video), target)

    target, frames = fail_on_error(console, run)
    console.print(f"wrote {target} ({frames} frames, H.264)")


@athletes_app.command("search")
def search_clips(
    run: Annotated[Path, typer.Argument(help="Run directory written by `spacecomputer analyze`.")],
    movement: Annotated[
        str, typer.Option("--movement", help="'same' (the run's movement), 'all', or a movement family.")
    ] = "same",
    top: Annotated[int, typer.Option("--top", help="How many clips to list.")] = 5,
    json_output: Annotated[bool, typer.Option("--json", help="Print the hits as JSON.")] = False,
) -> None:
    """Which reference clip moves most like RUN? Candidates by motion descriptor, ranked by DTW distance."""
    console = Console(stderr=True)

    def run_search() -> list[SearchHit]:
        library = AthleteLibrary.default()
        index = SimilarityIndex()
        for clip_id in library.usable_ids():
            index.add(clip_id, library.motion(clip_id, draws=0))
        query = motion_from_run(run, draws=0)
        return index.search(query, movement=None if movement == "all" else movement, k=top)

    hits = fail_on_error(console, run_search, json_output=json_output)
    if json_output:
        typer.echo(json.dumps([dataclasses.asdict(hit) for hit in hits], indent=2))
        return
    table = Table(title=f"Reference clips moving most like {run.name}")
    for column in ("rank", "clip", "movement", "DTW distance", "descriptor distance"):
        table.add_column(column)
    for hit in hits:
        table.add_row(
            str(hit.rank), hit.clip_id, hit.movement or "—", f"{hit.dtw_distance:.1f}", f"{hit.descriptor_distance:.2f}"
        )
    Console().print(table)
