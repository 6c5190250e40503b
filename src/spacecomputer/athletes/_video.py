"""Reference videos re-encoded to H.264 so that a browser can play them in step with the pose.

The shipped annotated videos are MPEG-4 Part 2 (``mp4v``), which browsers do not play. :func:`transcode_h264`
decodes one through the pipeline's safe reader (size and duration caps, local file only) and encodes it with
the overlay writer (libx264, ``yuv420p``, BT.709, ``+faststart``), one output frame per input frame at the
same timestamps, the time and frame number stamped in the corner for checking the synchronisation.
"""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

from spacecomputer.errors import OutputError
from spacecomputer.vision._overlay import OverlayWriter
from spacecomputer.vision._video import iter_frames, probe_video

__all__ = ["BROWSER_MAX_WIDTH_PX", "transcode_h264"]

BROWSER_MAX_WIDTH_PX = 1280
"""Wider videos are downscaled to this width for the browser, pixels."""


def transcode_h264(source: Path | str, destination: Path | str, *, crf: int = 26) -> int:
    """Re-encode ``source`` to H.264 at ``destination`` (atomically) and return the number of frames written.

    Raises
    ------
    InvalidVideoError, VideoTooLargeError, UnsupportedVideoError
        The source is not a readable local video within the configured caps.
    OutputError
        The destination cannot be written.

    """
    info = probe_video(source)
    target = Path(destination)
    target.parent.mkdir(parents=True, exist_ok=True)
    handle, temporary = tempfile.mkstemp(dir=target.parent, prefix=f".{target.stem}-", suffix=".mp4")
    os.close(handle)
    written = 0
    try:
        with OverlayWriter(
            temporary,
            width_px=info.width_px,
            height_px=info.height_px,
            fps=info.fps,
            max_width_px=BROWSER_MAX_WIDTH_PX,
            crf=crf,
        ) as writer:
            for frame in iter_frames(info):
                writer.write(frame.image, timestamp_s=frame.timestamp_s, frame_index=frame.index)
                written += 1
        os.chmod(temporary, 0o644)  # mkstemp makes it private; a shared library file is world-readable
        os.replace(temporary, target)
    except OSError as exc:
        raise OutputError(f"cannot write {target}: {exc}", details={"path": str(target)}) from exc
    finally:
        Path(temporary).unlink(missing_ok=True)
    return written
