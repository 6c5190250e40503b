"""``spacecomputer kb …``: add documents to the knowledge base and search it.

The integrator registers :func:`kb_add` as ``kb add FILE`` and :func:`kb_search` as ``kb search QUERY``. The index
lives in ``--index-dir`` (default ``library_dir/knowledge`` from the settings); the shipped corpus is synced into
it, incrementally, before every command. ``kb add`` reads Markdown, text and PDF; a PDF's passages carry their page
(``{doc_id}#p{page}.{k}``), and a scanned, encrypted or damaged PDF is refused with the reason.
"""

from __future__ import annotations

import dataclasses
import json
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.markup import escape

from spacecomputer._cli_athletes import fail_on_error
from spacecomputer.config import get_settings
from spacecomputer.knowledge import KnowledgeIndex, MiniLMEmbedder, Passage

__all__ = ["kb_add", "kb_search"]

_INDEX_DIR_HELP = "Folder of the knowledge index (default: library_dir/knowledge)."


def _open_index(index_dir: Path | None) -> KnowledgeIndex:
    directory = index_dir if index_dir is not None else get_settings().library_dir / "knowledge"
    index = KnowledgeIndex(directory, MiniLMEmbedder())
    index.sync_shipped()
    return index


def kb_add(
    file: Annotated[
        Path,
        typer.Argument(help="A Markdown (.md), plain-text (.txt) or PDF (.pdf, with a text layer) document."),
    ],
    index_dir: Annotated[Path | None, typer.Option("--index-dir", help=_INDEX_DIR_HELP)] = None,
) -> None:
    """Add (or update) a document in the knowledge base."""
    console = Console()

    def action() -> str:
        with _open_index(index_dir) as index:
            document = index.add_document(file)
        pages = f", {len(document.pages)} pages" if document.pages else ""
        return f"indexed {document.id!r} ({escape(document.title)}{pages})"

    console.print(fail_on_error(console, action))


def kb_search(
    query: Annotated[str, typer.Argument(help="A question or keywords.")],
    k: Annotated[int, typer.Option("-k", "--top", min=1, help="Number of passages.")] = 5,
    index_dir: Annotated[Path | None, typer.Option("--index-dir", help=_INDEX_DIR_HELP)] = None,
    json_output: Annotated[bool, typer.Option("--json", help="Print the passages as JSON.")] = False,
) -> None:
    """Search the knowledge base; print the best passages with their ids and sources."""
    console = Console()

    def action() -> list[Passage]:
        with _open_index(index_dir) as index:
            return index.search(query, k)

    passages = fail_on_error(console, action, json_output=json_output)
    if json_output:
        typer.echo(json.dumps([dataclasses.asdict(p) for p in passages], indent=2))
        return
    for passage in passages:
        console.print(f"[bold]{escape(passage.id)}[/bold]  {escape(passage.title)}  (score {passage.score:.4f})")
        console.print(passage.text, soft_wrap=True, markup=False)
        for source in passage.sources:
            console.print(
                f"  source: {source.reference} — {source.supports}", style="dim", soft_wrap=True, markup=False
            )
        console.print()
