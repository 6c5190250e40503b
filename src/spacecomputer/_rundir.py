"""All-or-nothing output directories: a run is written aside and moved into place at the end."""

from __future__ import annotations

import os
import secrets
import shutil
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path

from spacecomputer.errors import OutputError

__all__ = ["check_output_directory", "default_run_directory", "staged_directory"]


def default_run_directory(runs_dir: Path, video: Path, *, now: datetime | None = None) -> Path:
    """Return ``runs_dir/<video-stem>-<UTC timestamp>`` (the timestamp makes repeated runs distinct)."""
    stamp = (now or datetime.now(UTC)).strftime("%Y%m%d-%H%M%S")
    return runs_dir / f"{video.stem}-{stamp}"


def check_output_directory(final: Path) -> None:
    """Refuse, before any work, an output directory that exists with content or cannot be created.

    The nearest existing ancestor must be a writable directory.
    """
    if final.exists() and (not final.is_dir() or any(final.iterdir())):
        raise OutputError(f"output directory {final} already exists and is not empty; choose another --out")
    ancestor = final.parent
    while not ancestor.exists():
        ancestor = ancestor.parent
    if not ancestor.is_dir() or not os.access(ancestor, os.W_OK | os.X_OK):
        raise OutputError(f"cannot write to {ancestor}: not a writable directory", details={"path": str(ancestor)})


@contextmanager
def staged_directory(final: Path) -> Iterator[Path]:
    """Yield a fresh directory beside ``final``; on success it becomes ``final``, on error it is removed.

    The rename is atomic on one filesystem, so readers never see a half-written run.
    """
    check_output_directory(final)
    try:
        final.parent.mkdir(parents=True, exist_ok=True)
        staging = final.parent / f".{final.name}.partial-{secrets.token_hex(4)}"
        staging.mkdir()
    except OSError as exc:
        raise OutputError(f"cannot create the output directory {final}: {exc.strerror}") from exc
    try:
        yield staging
        if final.exists():
            final.rmdir()
        staging.rename(final)
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise
