"""``spacecomputer ask RUN "question"`` and ``spacecomputer chat RUN``: questions about a run in plain language.

Both go through the :class:`~spacecomputer.brain.Orchestrator`: the answer names the route that produced it, its
citations (``[n]``: a passage of the knowledge base or a field of the run's own files) and suggested follow-ups.
``chat`` keeps the conversation: a follow-up ("and the right one?") inherits the previous question's subject, and
``/level``, ``/frame``, ``/joint`` change the context; ``/quit`` (or end of input) leaves.
"""

from __future__ import annotations

import json
from dataclasses import replace
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.markup import escape

from spacecomputer._cli_athletes import fail_on_error
from spacecomputer.brain._orchestrator import Conversation, open_orchestrator
from spacecomputer.brain._serialise import answer_to_dict
from spacecomputer.brain._types import Answer, Expertise, QueryContext
from spacecomputer.errors import InvalidInputError

__all__ = ["ask", "chat"]

Run = Annotated[Path, typer.Argument(help="Run directory written by `spacecomputer analyze`.")]
FrameOption = Annotated[int | None, typer.Option("--frame", help="The video frame you are looking at.")]
JointOption = Annotated[str | None, typer.Option("--joint", help="The joint you selected, e.g. left_knee.")]
LevelOption = Annotated[Expertise, typer.Option("--level", help="Who the answer is for.")]
IndexOption = Annotated[
    Path | None, typer.Option("--index-dir", help="Folder of the knowledge index (default: library_dir/knowledge).")
]


def print_answer(console: Console, answer: Answer, *, expertise: Expertise) -> None:
    """Print an answer: text, sources, route and confidence, follow-ups."""
    console.print(answer.text, soft_wrap=True, markup=False)
    for citation in answer.citations:
        console.print(f"  [{citation.n}] {escape(citation.title)} — {escape(citation.reference)}", style="dim")
        if expertise is Expertise.SCIENTIST:
            for source in citation.sources:
                console.print(f"      {source}", style="dim", markup=False, soft_wrap=True)
    how = f"route: {answer.route.value}" + (f" ({answer.provider})" if answer.provider else "")
    how += f", confidence {answer.confidence:.2f}, {answer.latency_ms:.0f} ms" + (", cached" if answer.cached else "")
    console.print(how, style="dim")
    if answer.fallback:
        console.print(f"note: {answer.fallback}", style="yellow", markup=False)
    if not answer.validation.passed:
        console.print(f"validation: {answer.validation}", style="red", markup=False)
    for suggestion in answer.follow_ups:
        console.print(f"  → {suggestion}", style="cyan", markup=False)


def ask(
    run: Run,
    question: Annotated[str, typer.Argument(help="Your question, in English.")],
    frame: FrameOption = None,
    joint: JointOption = None,
    level: LevelOption = Expertise.COACH,
    compare_run: Annotated[
        Path | None, typer.Option("--compare-run", help="Another run, for 'compare with my other run'.")
    ] = None,
    index_dir: IndexOption = None,
    json_output: Annotated[bool, typer.Option("--json", help="Print the whole answer as JSON.")] = False,
) -> None:
    """Ask a question about RUN; the answer cites its sources and says which engine produced it."""
    console = Console(stderr=True)
    context = QueryContext(analysis_id=run.name, frame=frame, joint=joint, expertise=level)

    def answer() -> Answer:
        if not (run / "analysis.json").is_file():
            raise InvalidInputError(f"{run} is not a run directory (no analysis.json)", details={"run": str(run)})
        return open_orchestrator(index_dir=index_dir).ask(question, run, context=context, compare_with=compare_run)

    result = fail_on_error(console, answer, json_output=json_output)
    if json_output:
        typer.echo(json.dumps(answer_to_dict(result), indent=2, ensure_ascii=False, allow_nan=False))
    else:
        print_answer(Console(), result, expertise=level)


def _command(line: str, context: QueryContext, console: Console) -> QueryContext | None:
    """Apply a ``/level``, ``/frame`` or ``/joint`` command; ``None`` when ``line`` is not one."""
    name, _, value = line[1:].partition(" ")
    value = value.strip()
    try:
        if name == "level":
            context = replace(context, expertise=Expertise(value))
        elif name == "frame":
            context = replace(context, frame=int(value) if value else None)
        elif name == "joint":
            context = replace(context, joint=value or None)
        else:
            console.print("commands: /level beginner|coach|scientist, /frame N, /joint left_knee, /quit", style="dim")
            return context
    except ValueError:
        console.print(f"cannot read {value!r} for /{name}", style="red", markup=False)
        return context
    console.print(f"context: {context}", style="dim", markup=False)
    return context


def chat(
    run: Run,
    frame: FrameOption = None,
    joint: JointOption = None,
    level: LevelOption = Expertise.COACH,
    index_dir: IndexOption = None,
) -> None:
    """Talk about RUN: ask question after question; follow-ups keep the subject. /quit to leave."""
    console = Console()
    context = QueryContext(analysis_id=run.name, frame=frame, joint=joint, expertise=level)
    if not (run / "analysis.json").is_file():
        console.print(f"error: {run} is not a run directory (no analysis.json)", markup=False)
        raise typer.Exit(code=2)
    conversation = Conversation(open_orchestrator(index_dir=index_dir), run, context=context)
    console.print(f"Ask about {run.name} (/quit to leave, /help for commands).", style="dim", markup=False)
    while True:
        try:
            line = input("you> ").strip()
        except EOFError:
            break
        if not line:
            continue
        if line in {"/quit", "/exit"}:
            break
        if line.startswith("/"):
            conversation.context = _command(line, conversation.context, console) or conversation.context
            continue
        try:
            answer = conversation.ask(line)
        except InvalidInputError as error:
            console.print(f"error: {error}", style="red", markup=False)
            continue
        print_answer(console, answer, expertise=conversation.context.expertise)
