"""Safe HTML building: :class:`Html` marks text that is already markup; everything else is escaped.

Every string that reaches the page goes through :func:`escape` (directly or via :func:`element`), so a
hostile value from the analysis (the video's file name is user input) shows as text and never as markup.
"""

from __future__ import annotations

import html
import math
from collections.abc import Iterable

__all__ = ["Html", "element", "escape", "format_number", "join", "readable_name"]

_UNIT_SUFFIXES = (
    "_segment_angle_deg",
    "_n_m_per_kg",
    "_deg_s",
    "_m_s2",
    "_m_s",
    "_deg",
    "_hz",
    "_bw",
    "_n_m",
    "_n",
    "_w",
    "_j",
    "_s",
    "_m",
    "_kg",
)


class Html(str):
    """Markup built by this package, safe to insert as is (its outside parts were escaped when built)."""

    __slots__ = ()


def escape(value: object) -> Html:
    """Return ``value`` as HTML: an :class:`Html` unchanged, anything else as escaped text (quotes too)."""
    return value if isinstance(value, Html) else Html(html.escape(str(value), quote=True))


def join(parts: Iterable[object]) -> Html:
    """Concatenate :class:`Html` or text parts, escaping the text ones."""
    return Html("".join(escape(part) for part in parts))


def element(
    name: str, *children: object, cls: str | None = None, title: str | None = None, id_: str | None = None
) -> Html:
    """Return ``<name class=… title=… id=…>children</name>``, every child and attribute value escaped.

    ``name`` is a tag name chosen by this package, never data. ``None`` children are left out.
    """
    attributes = "".join(
        f' {key}="{escape(value)}"' for key, value in (("id", id_), ("class", cls), ("title", title)) if value
    )
    return Html(f"<{name}{attributes}>{join(c for c in children if c is not None)}</{name}>")


def format_number(value: float | int | None, unit: str = "", *, digits: int = 3) -> str:
    """Format ``value`` with ``digits`` significant digits and its unit; ``None`` or non-finite as ``—``.

    >>> format_number(9.80665, "m/s²")
    '9.81 m/s²'
    >>> format_number(None, "m")
    '—'
    """
    if value is None or isinstance(value, bool) or not math.isfinite(value):
        return "—"
    text = f"{value:.{digits}g}" if isinstance(value, float) else str(value)
    return f"{text} {unit}".strip()


def readable_name(name: str) -> str:
    """Return a snake_case quantity name without its unit suffix, words spaced.

    >>> readable_name("ground_contact_time_s")
    'ground contact time'
    >>> readable_name("left_knee_moment_n_m_per_kg")
    'left knee moment'
    """
    for suffix in _UNIT_SUFFIXES:
        if name.endswith(suffix) and len(name) > len(suffix):
            name = name.removesuffix(suffix)
            break
    return name.replace("_", " ")
