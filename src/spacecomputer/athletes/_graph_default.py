"""The technique graph of this installation: the configured relational store, filled with the shipped content."""

from __future__ import annotations

from spacecomputer.config import get_settings

from ._graph import TechniqueGraph, graph_engine
from ._graph_results import LIBRARY_CLIP_LINKS
from ._library import AthleteLibrary

__all__ = ["open_technique_graph"]


def open_technique_graph(library: AthleteLibrary | None = None) -> TechniqueGraph:
    """Open the graph in ``SPACECOMPUTER_DATABASE_URL`` (default: ``library_dir/spacecomputer.db``), ready to query.

    The schema is created if missing and the shipped content (re)loaded in one transaction, with the links to the
    library's usable clips (a clip marked unusable in the manifest is not linked), so the graph always matches the
    installed package and library.
    """
    settings = get_settings()
    sqlite_path = None
    if settings.database_url is None:
        settings.library_dir.mkdir(parents=True, exist_ok=True)
        sqlite_path = settings.library_dir / "spacecomputer.db"
    graph = TechniqueGraph(graph_engine(settings.database_url, sqlite_path=sqlite_path))
    graph.create_schema()
    graph.load_content()
    usable = set((library or AthleteLibrary.default()).usable_ids())
    graph.load_clips(link for link in LIBRARY_CLIP_LINKS if link.clip_id in usable)
    return graph
