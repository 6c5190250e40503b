"""The self-contained ``report.html`` of a run: text sections, metric cards, risk flags and Plotly time plots.

Private modules: ``_page`` (assembly, :func:`write_report`), ``_sections`` (text from the `Analysis`),
``_plots`` (figures from the ``metrics.csv`` series), ``_html`` (escaping), ``_comparison`` (the section a
``spacecomputer compare`` adds: findings, tables, aligned curves, skeletons side by side).
"""

from spacecomputer.report._comparison import comparison_section
from spacecomputer.report._page import write_report

__all__ = ["comparison_section", "write_report"]
