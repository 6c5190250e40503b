"""Keep MediaPipe's native log lines out of the terminal.

MediaPipe's C++ core writes start-up chatter (``INFO: Created TensorFlow Lite XNNPACK delegate``,
``W0000 … inference_feedback_manager.cc …``) straight to file descriptor 2; no environment variable of
absl's C++ logging turns it off. The CLI therefore routes descriptor 2 through a pipe and a thread that
drops lines matching :data:`NATIVE_NOISE` and forwards everything else unchanged. Worker processes
inherit the descriptor, so their chatter is filtered too.
"""

from __future__ import annotations

import os
import re
import sys
import threading
from collections.abc import Iterator
from contextlib import contextmanager

__all__ = ["NATIVE_NOISE", "filtered_stderr"]

NATIVE_NOISE = re.compile(
    rb"^(?:[IW]\d{4} [\d:.]+\s+\d+ \S+:\d+\]"
    rb"|INFO: Created TensorFlow Lite XNNPACK delegate"
    rb"|WARNING: All log messages before absl::InitializeLog\(\) is called)"
)
"""Informational and warning lines of MediaPipe/absl/TensorFlow Lite (errors, ``E…`` lines, are kept)."""


def _pump(read_fd: int, write_fd: int) -> None:
    with os.fdopen(read_fd, "rb", buffering=0) as source:
        pending = b""
        while chunk := source.read(65536):
            pending += chunk
            *lines, pending = pending.split(b"\n")
            kept = [line + b"\n" for line in lines if not NATIVE_NOISE.match(line)]
            if kept:
                os.write(write_fd, b"".join(kept))
        if pending and not NATIVE_NOISE.match(pending):
            os.write(write_fd, pending)


@contextmanager
def filtered_stderr() -> Iterator[None]:
    """Filter native log noise out of descriptor 2 for the duration of the block."""
    sys.stderr.flush()
    original = os.dup(2)
    read_fd, write_fd = os.pipe()
    os.dup2(write_fd, 2)
    os.close(write_fd)
    pump = threading.Thread(target=_pump, args=(read_fd, original), name="stderr-filter", daemon=True)
    pump.start()
    try:
        yield
    finally:
        sys.stderr.flush()
        os.dup2(original, 2)
        # Worker processes (and multiprocessing's resource tracker) may still hold the pipe open,
        # so no end-of-file is waited for: whatever they print after this moment is dropped.
        pump.join(timeout=0.5)
        os.close(original)
