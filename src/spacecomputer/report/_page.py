"""Assemble ``report.html``: one self-contained page, plotly.js inlined once, no network needed.

The page holds the text sections (:mod:`spacecomputer.report._sections`), the time plots
(:mod:`spacecomputer.report._plots`) and, when a run was compared with a reference clip, the comparison
(:mod:`spacecomputer.report._comparison`); its only scripts are plotly.js (``plotly.offline.get_plotlyjs()``)
and each figure's ``Plotly.newPlot`` call, its only style the inline sheet below (system fonts). No
``<script src>``, no external link, font or image: the report opens offline and leaks nothing.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path

import numpy as np
import plotly.offline
from numpy.typing import NDArray

from spacecomputer.domain._analysis import Analysis
from spacecomputer.errors import OutputError
from spacecomputer.report import _sections as sections
from spacecomputer.report._comparison import COMPARISON_STYLE
from spacecomputer.report._html import Html, element, escape, join
from spacecomputer.report._plots import plots_html

__all__ = ["render_report", "write_report"]

_STYLE = """
body { font-family: system-ui, -apple-system, "Segoe UI", Roboto, "Helvetica Neue", Arial, sans-serif;
       margin: 0 auto; max-width: 1200px; padding: 1rem 1.5rem 3rem; color: #1f2933; line-height: 1.4; }
h1 { font-size: 1.5rem; } h2 { border-bottom: 1px solid #d9e2ec; padding-bottom: .2rem; margin-top: 2rem; }
.filename { font-family: ui-monospace, SFMono-Regular, Menlo, Consolas, monospace; word-break: break-all; }
table { border-collapse: collapse; margin: .5rem 0; }
th, td { text-align: left; vertical-align: top; padding: .2rem .6rem; }
table.facts th { color: #52606d; font-weight: 600; white-space: nowrap; }
table.grid th, table.grid td { border: 1px solid #d9e2ec; font-size: .9rem; }
.small, .convention { font-size: .85rem; color: #52606d; } .note { color: #7b8794; font-style: italic; }
.banner { background: #fff8e1; border-left: 4px solid #f0b429; padding: .6rem .9rem; }
.cards { display: grid; grid-template-columns: repeat(auto-fill, minmax(220px, 1fr)); gap: .6rem; }
.card { border: 1px solid #d9e2ec; border-radius: 6px; padding: .6rem .8rem; background: #fff; }
.card.off { background: #f5f7fa; color: #7b8794; }
.card .name { font-weight: 600; } .card .value { font-size: 1.25rem; margin: .2rem 0; }
.card .value.unavailable { font-size: .9rem; }
.badge { display: inline-block; border-radius: 999px; padding: 0 .55rem; font-size: .8rem; font-weight: 600;
         border: 1px solid transparent; }
.badge.green { background: #e3f9e5; color: #207227; border-color: #57ae5b; }
.badge.yellow { background: #fffbea; color: #8d2b0b; border-color: #f0b429; }
.badge.red { background: #ffe3e3; color: #8a041a; border-color: #e12d39; }
.badge.unavailable { background: #f0f4f8; color: #52606d; border-color: #bcccdc; }
.badge.estimated { background: #fff3c4; color: #9a3412; } .badge.heuristic { background: #e6f6ff; color: #03449e; }
.risk { border-left: 4px solid #bcccdc; padding: .4rem .8rem; margin: .5rem 0; background: #fafbfc; }
.risk.green { border-color: #57ae5b; } .risk.yellow { border-color: #f0b429; } .risk.red { border-color: #e12d39; }
nav a { margin-right: .8rem; }
"""

_NAV = (
    ("quality", "Quality"),
    ("pose", "Pose"),
    ("biomechanics", "Biomechanics"),
    ("metrics", "Metrics"),
    ("risk", "Risk"),
    ("comparison", "Comparison"),
    ("plots", "Time series"),
    ("events", "Events"),
    ("angles", "Angles"),
    ("uncertainty", "Uncertainty"),
    ("warnings", "Warnings"),
)


def render_report(
    analysis: Analysis, series: Mapping[str, NDArray[np.float64]], *, comparison: Html | None = None
) -> str:
    """Return the report page for ``analysis``, the ``metrics.csv`` columns ``series`` and an optional comparison.

    See :func:`write_report`; without ``comparison`` the page is the same, byte for byte, as before comparisons
    existed.
    """
    biomechanics = analysis.biomechanics
    parts: list[tuple[str, Html]] = [
        ("quality", sections.quality_section(analysis.quality)),
        ("pose", sections.pose_section(analysis)),
    ]
    if biomechanics is None:
        parts.append(("biomechanics", sections.no_biomechanics_section(analysis)))
    else:
        parts += [("metrics", sections.cards_section(biomechanics)), ("risk", sections.risk_section(biomechanics))]
    if comparison is not None:
        parts.append(("comparison", comparison))
    if biomechanics is not None or series:
        plots = element("section", element("h2", "Time series"), plots_html(series, biomechanics), id_="plots")
        parts.append(("plots", plots))
    if biomechanics is not None:
        parts += [
            ("events", sections.events_section(biomechanics)),
            ("angles", sections.angles_section(biomechanics)),
            ("uncertainty", sections.uncertainty_section(biomechanics)),
        ]
    parts.append(("warnings", sections.warnings_section(analysis)))
    anchors = {anchor for anchor, _ in parts}
    links = [Html(f'<a href="#{anchor}">{escape(text)}</a>') for anchor, text in _NAV if anchor in anchors]
    body = join([sections.header_section(analysis), element("nav", *links), *(part for _, part in parts)])
    title = escape(f"Space Computer report: {analysis.video.filename}")
    return (
        "<!DOCTYPE html>\n"
        '<html lang="en">\n<head>\n<meta charset="utf-8">\n'
        '<meta name="viewport" content="width=device-width, initial-scale=1">\n'
        f"<title>{title}</title>\n<style>{_STYLE if comparison is None else _STYLE + COMPARISON_STYLE}</style>\n"
        f'<script type="text/javascript">{plotly.offline.get_plotlyjs()}</script>\n'
        f"</head>\n<body>\n{body}\n</body>\n</html>\n"
    )


def write_report(
    path: Path, analysis: Analysis, series: Mapping[str, NDArray[np.float64]], *, comparison: Html | None = None
) -> None:
    """Write the self-contained HTML report of one run to ``path``.

    Parameters
    ----------
    path
        Where to write ``report.html`` (UTF-8). Its directory must exist.
    analysis
        The run's document; when ``analysis.biomechanics`` is ``None`` the page shows the video, quality and
        pose parts and says why there is no biomechanics.
    series
        The columns of ``metrics.csv`` by name, each a (T,) float array with NaN where unknown; any column may
        be missing. All arrays must have the same length.
    comparison
        The comparison of this run with a reference clip, as built by
        :func:`~spacecomputer.report._comparison.comparison_section`; it is placed after the metrics and risk
        indicators (or after the no-biomechanics note), with a "Comparison" link in the navigation. ``None`` (the
        default): no comparison section.

    Raises
    ------
    InvalidInputError
        When the series are not 1-D arrays of one length.
    OutputError
        When the file cannot be written.

    """
    page = render_report(analysis, series, comparison=comparison)
    try:
        path.write_text(page, encoding="utf-8")
    except OSError as error:
        raise OutputError(
            f"cannot write the report to {path}: {error.strerror or error}", details={"path": str(path)}
        ) from error
