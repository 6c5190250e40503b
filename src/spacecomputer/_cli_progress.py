"""The command line's progress bar: one Rich task per pipeline stage."""

from __future__ import annotations

from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TaskID, TextColumn, TimeElapsedColumn

__all__ = ["ProgressBar"]

_STAGE_LABELS = {
    "probe": "Probing video",
    "estimate": "Tracking the athlete",
    "post-process": "Cleaning and placing in 3D",
    "biomechanics": "Biomechanics",
    "overlay": "Rendering overlay.mp4",
    "write": "Writing outputs",
}


class ProgressBar:
    """Rich progress bar with one task per pipeline stage."""

    def __init__(self, console: Console) -> None:
        self.progress = Progress(
            TextColumn("{task.description:<28}"),
            BarColumn(),
            MofNCompleteColumn(),
            TimeElapsedColumn(),
            console=console,
            transient=False,
        )
        self.tasks: dict[str, TaskID] = {}

    def __call__(self, stage: str, done: int, total: int | None) -> None:
        if stage not in self.tasks:
            for task_id in self.tasks.values():
                task = self.progress.tasks[task_id]
                self.progress.update(task_id, total=task.completed or 1, completed=task.completed or 1)
            self.tasks[stage] = self.progress.add_task(_STAGE_LABELS.get(stage, stage), total=total)
        self.progress.update(self.tasks[stage], completed=done, total=total)
