"""The elite athlete library: the bundled reference clips plus the user's own, as one set of entries.

Each directory holds a ``manifest.json`` (:mod:`spacecomputer.athletes._manifest`) and the files it names. The
bundled directory (``data/athletes`` of the checkout, or ``SPACECOMPUTER_REFERENCE_LIBRARY_DIR``) is read-only;
``spacecomputer athletes add`` writes to ``SPACECOMPUTER_LIBRARY_DIR/athletes``. Clip ids are unique across both.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from spacecomputer.biomech import DEFAULT_DRAWS
from spacecomputer.config import get_settings
from spacecomputer.domain import PoseSequence
from spacecomputer.errors import InsufficientDataError, InvalidInputError, NotFoundError

from ._manifest import MANIFEST_NAME, Manifest, ManifestEntry
from ._motion import Motion, motion_from_sequence
from ._reference import IMAGE_UP, scale_reference_clip

__all__ = ["AthleteLibrary", "bundled_library_dir", "clip_motion", "user_library_dir"]


def clip_motion(
    clip: PoseSequence,
    *,
    name: str,
    movement: str | None = None,
    sport: str | None = None,
    draws: int = DEFAULT_DRAWS,
    notes: Sequence[str] = (),
) -> Motion:
    """Turn a clip in the library's format (normalised image coordinates) into a comparable motion.

    Scaled as :func:`~spacecomputer.athletes.scale_reference_clip` says, "up" is the image's up, and the angle
    uncertainties come from ``draws`` Monte Carlo draws of the clip's own landmark noise.
    """
    scaled = scale_reference_clip(clip)
    return motion_from_sequence(
        scaled.smoothed,
        up=IMAGE_UP,
        name=name,
        source="reference",
        movement=movement,
        sport=sport,
        raw=scaled.raw,
        cutoff_hz=scaled.cutoff_hz,
        draws=draws,
        notes=(*scaled.notes, *notes),
    )


def bundled_library_dir() -> Path:
    """Return the bundled library directory: the setting, else ``data/athletes`` of this checkout."""
    configured = get_settings().reference_library_dir
    if configured is not None:
        return configured
    return Path(__file__).resolve().parents[3] / "data" / "athletes"


def user_library_dir() -> Path:
    """Return where the user's own reference clips go (``SPACECOMPUTER_LIBRARY_DIR/athletes``)."""
    return get_settings().library_dir / "athletes"


class AthleteLibrary:
    """Reference clips from one or more library directories (module docstring).

    Parameters
    ----------
    directories
        Library directories, each with a ``manifest.json``; a directory without one contributes nothing.

    Raises
    ------
    InvalidInputError
        A manifest is invalid, or two directories hold the same clip id.

    """

    def __init__(self, directories: Sequence[Path | str]) -> None:
        self._entries: dict[str, tuple[ManifestEntry, Path]] = {}
        for directory in map(Path, directories):
            if not (directory / MANIFEST_NAME).is_file():
                continue
            for entry in Manifest.read(directory / MANIFEST_NAME).entries:
                if entry.id in self._entries:
                    raise InvalidInputError(
                        f"clip id {entry.id!r} is in both {self._entries[entry.id][1]} and {directory}",
                        details={"id": entry.id},
                    )
                self._entries[entry.id] = (entry, directory)
        self._motions: dict[tuple[str, int], Motion] = {}

    @classmethod
    def default(cls) -> AthleteLibrary:
        """Open the bundled library plus the user's clips (module docstring)."""
        return cls([bundled_library_dir(), user_library_dir()])

    def ids(self) -> list[str]:
        """Every clip id, sorted."""
        return sorted(self._entries)

    def entries(self) -> list[ManifestEntry]:
        """Every entry, sorted by id."""
        return [self._entries[clip_id][0] for clip_id in self.ids()]

    def get(self, clip_id: str) -> ManifestEntry:
        """Return the entry of ``clip_id``.

        Raises
        ------
        NotFoundError
            No such clip; the message lists the valid ids.

        """
        found = self._entries.get(clip_id)
        if found is None:
            raise NotFoundError(
                f"no reference clip {clip_id!r}; valid ids: {', '.join(self.ids()) or '(the library is empty)'}",
                details={"id": clip_id, "valid": self.ids()},
            )
        return found[0]

    def path(self, clip_id: str, relative: str) -> Path:
        """Absolute path of a file named in ``clip_id``'s entry (``relative`` to its manifest)."""
        self.get(clip_id)
        return self._entries[clip_id][1] / relative

    def sequence(self, clip_id: str) -> PoseSequence:
        """Return the clip's pose as stored: normalised image coordinates (see ``data/README.md``)."""
        return PoseSequence.from_elite_json(self.path(clip_id, self.get(clip_id).pose_file))

    def motion(self, clip_id: str, *, draws: int = DEFAULT_DRAWS, allow_unusable: bool = False) -> Motion:
        """Return the clip as a comparable :class:`~spacecomputer.athletes.Motion` (computed once per library).

        Raises
        ------
        NotFoundError
            No such clip (the message lists the valid ids).
        InsufficientDataError
            The clip is marked unusable (the reason is given) and ``allow_unusable`` is false, or it has too
            little pose to compare.

        """
        entry = self.get(clip_id)
        if not entry.usable and not allow_unusable:
            raise InsufficientDataError(
                f"reference clip {clip_id!r} is marked unusable: {entry.unusable_reason}",
                details={"id": clip_id, "reason": entry.unusable_reason},
            )
        key = (clip_id, draws)
        if key not in self._motions:
            self._motions[key] = clip_motion(
                self.sequence(clip_id),
                name=clip_id,
                movement=entry.movement,
                sport=entry.sport,
                draws=draws,
                notes=_view_notes(entry),
            )
        return self._motions[key]

    def usable_ids(self, *, movement: str | None = None) -> list[str]:
        """Ids of the usable clips, of one movement family when ``movement`` is given."""
        return [
            entry.id for entry in self.entries() if entry.usable and (movement is None or entry.movement == movement)
        ]


def _view_notes(entry: ManifestEntry) -> tuple[str, ...]:
    """Describe the camera view, and what it means for the angles when the athlete is not seen from the side."""
    notes = [f"camera view: {entry.camera_view}"]
    if "side-on" not in entry.camera_view:
        notes.append(
            "not filmed side-on: flexion/extension angles rest partly on BlazePose's relative depth here, with an "
            "error that stays the same from frame to frame and is not in the ± (which covers frame-to-frame noise)"
        )
    return tuple(notes)
