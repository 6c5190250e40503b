"""Overlay video: the source frames with the athlete's skeleton drawn on, as browser-ready H.264 MP4.

Drawing (:func:`draw_pose`): landmarks are pixel positions in the image (x right, y down, origin at
the top-left pixel corner); bones are anti-aliased lines, joints filled discs, both sized to the image
(line thickness ``max(1, round(min(width, height) / 360))`` px, joint radius ``2 × thickness + 1``
px). Colours follow the landmark confidence (visibility): red below 0.5, yellow from 0.5 to below 0.8,
green from 0.8; cyan when the confidence is unknown (``None`` or NaN). A bone takes the colour of
its less confident end (cyan when either is unknown). Landmarks with a NaN or infinite coordinate
are not drawn, nor their bones. :class:`OverlayWriter` also stamps ``t 1.23 s  frame 42`` (time in
seconds, 2 decimals, and the source frame index) in white on a black box in the top-left corner.

Encoding (:class:`OverlayWriter`): libx264, ``yuv420p`` with BT.709 colours (tagged, limited
range), constant-quality CRF 23 by default, MP4 with ``+faststart`` (the index first, so a browser
can start playing before the download ends). Each frame's presentation time is its real timestamp
in a 1/90000 s time base, so a variable frame rate is kept. H.264 in yuv420p needs even dimensions:
an odd width or height is padded by one column or row, copied from the edge, on the right or bottom
(the top-left origin, and so every landmark position, is unchanged). Frames wider than
``max_width_px`` are area-downscaled first, and their landmarks with them.
"""

from __future__ import annotations

import math
from fractions import Fraction
from pathlib import Path
from types import TracebackType
from typing import Self

import av
import cv2
import numpy as np
from av.video.reformatter import ColorPrimaries, ColorRange, Colorspace, ColorTrc
from numpy.typing import NDArray

from spacecomputer.domain._skeleton import BLAZEPOSE_33, Skeleton
from spacecomputer.errors import InvalidInputError, InvalidPoseDataError, OutputError

__all__ = ["OverlayWriter", "draw_pose"]

Colour = tuple[int, int, int]
_RED: Colour = (255, 0, 0)
_YELLOW: Colour = (255, 255, 0)
_GREEN: Colour = (0, 255, 0)
_UNKNOWN: Colour = (0, 255, 255)
_LOW_CONFIDENCE, _HIGH_CONFIDENCE = 0.5, 0.8
_SHIFT = 4  # OpenCV fixed-point fraction bits: landmarks drawn at 1/16 px precision
_MAX_COORDINATE_PX = 1e6  # far-off landmarks are clamped to keep OpenCV's fixed point in range
_TIME_BASE = Fraction(1, 90000)


def _confidence_colour(confidence: float) -> Colour:
    if not math.isfinite(confidence):
        return _UNKNOWN
    if confidence < _LOW_CONFIDENCE:
        return _RED
    return _YELLOW if confidence < _HIGH_CONFIDENCE else _GREEN


def _line_thickness_px(width_px: int, height_px: int) -> int:
    return max(1, round(min(width_px, height_px) / 360))


def _check_image(image_rgb: NDArray[np.uint8], *, shape: tuple[int, int, int] | None = None) -> None:
    ok = image_rgb.dtype == np.uint8 and image_rgb.ndim == 3 and image_rgb.shape[2] == 3
    if not ok or (shape is not None and image_rgb.shape != shape):
        expected = f"shape {shape}" if shape is not None else "shape (H, W, 3)"
        raise InvalidInputError(
            f"image_rgb must be uint8 with {expected}; got {image_rgb.dtype} {image_rgb.shape}",
            details={"expected_shape": list(shape) if shape else None, "shape": list(image_rgb.shape)},
        )


def _landmarks_xy(landmarks_px: NDArray[np.floating], n_joints: int) -> NDArray[np.float64]:
    """Return the (J, 2) x, y columns of (J, 2) or (J, 3) landmarks, checking the shape."""
    points = np.asarray(landmarks_px, dtype=np.float64)
    if points.ndim != 2 or points.shape[0] != n_joints or points.shape[1] not in (2, 3):
        raise InvalidPoseDataError(
            f"landmarks_px must have shape ({n_joints}, 2) or ({n_joints}, 3); got {points.shape}",
            details={"shape": list(points.shape), "n_joints": n_joints},
        )
    return points[:, :2]


def draw_pose(
    image_rgb: NDArray[np.uint8],
    landmarks_px: NDArray[np.floating] | None,
    confidence: NDArray[np.floating] | None,
    *,
    skeleton: Skeleton = BLAZEPOSE_33,
) -> NDArray[np.uint8]:
    """Return a copy of ``image_rgb`` with the skeleton's bones and joints drawn on it.

    Parameters
    ----------
    image_rgb
        (H, W, 3) uint8 RGB image; not modified.
    landmarks_px
        (J, 2) or (J, 3) landmark positions in the image's pixels (a third column, depth, is ignored);
        NaN rows are skipped. ``None``: nothing is drawn.
    confidence
        (J,) landmark confidence in [0, 1], which sets the colours (see the module docstring);
        ``None``: unknown, drawn cyan.
    skeleton
        Joints and bones; ``J == skeleton.n_joints``.

    Returns
    -------
    numpy.ndarray
        The drawn (H, W, 3) uint8 image.

    Examples
    --------
    >>> import numpy as np
    >>> points = np.full((33, 2), np.nan)
    >>> points[11], points[13] = (20.0, 20.0), (40.0, 20.0)
    >>> drawn = draw_pose(np.zeros((64, 64, 3), np.uint8), points, np.full(33, 0.9))
    >>> drawn[20, 20].tolist(), drawn[20, 40].tolist()  # the two joints
    ([0, 255, 0], [0, 255, 0])
    >>> int(drawn[18:23, 30, 1].max()) > 100  # the bone between them
    True

    """
    _check_image(image_rgb)
    canvas = image_rgb.copy()
    if landmarks_px is None:
        return canvas
    xy = _landmarks_xy(landmarks_px, skeleton.n_joints)
    n_joints = skeleton.n_joints
    scores = np.full(n_joints, np.nan) if confidence is None else np.asarray(confidence, dtype=np.float64)
    if scores.shape != (n_joints,):
        raise InvalidPoseDataError(
            f"confidence must have shape ({n_joints},); got {scores.shape}",
            details={"shape": list(scores.shape), "n_joints": n_joints},
        )
    valid = np.all(np.isfinite(xy), axis=1)
    clamped = np.clip(np.where(valid[:, None], xy, 0.0), -_MAX_COORDINATE_PX, _MAX_COORDINATE_PX)
    # OpenCV puts pixel centres at integer coordinates; ours puts the top-left pixel's corner at 0.
    fixed = [(int(x), int(y)) for x, y in np.round((clamped - 0.5) * (1 << _SHIFT))]
    thickness = _line_thickness_px(canvas.shape[1], canvas.shape[0])
    for a, b in skeleton.bones:
        if valid[a] and valid[b]:
            colour = _confidence_colour(float(np.minimum(scores[a], scores[b])))
            cv2.line(canvas, fixed[a], fixed[b], colour, thickness, cv2.LINE_AA, _SHIFT)
    radius = (2 * thickness + 1) << _SHIFT
    for joint in np.flatnonzero(valid):
        colour = _confidence_colour(float(scores[joint]))
        cv2.circle(canvas, fixed[joint], radius, colour, cv2.FILLED, cv2.LINE_AA, _SHIFT)
    return canvas


def _stamp(canvas: NDArray[np.uint8], text: str) -> None:
    """Write ``text`` in white on a black box in the top-left corner of ``canvas``, in place."""
    height_px = canvas.shape[0]
    scale = max(0.4, height_px / 1080.0)
    thickness = max(1, round(2 * scale))
    (text_w, text_h), baseline = cv2.getTextSize(text, cv2.FONT_HERSHEY_SIMPLEX, scale, thickness)
    pad = max(2, round(6 * scale))
    cv2.rectangle(canvas, (0, 0), (text_w + 2 * pad, text_h + baseline + 2 * pad), (0, 0, 0), cv2.FILLED)
    origin = (pad, pad + text_h)
    cv2.putText(canvas, text, origin, cv2.FONT_HERSHEY_SIMPLEX, scale, (255, 255, 255), thickness, cv2.LINE_AA)


class OverlayWriter:
    """Write frames with the pose drawn on them to an H.264 MP4 file (see the module docstring).

    Use as a context manager, or call :meth:`close` to flush the encoder and finish the file.

    Parameters
    ----------
    path
        Output file; its directory must exist.
    width_px, height_px
        Size of the frames passed to :meth:`write`, pixels.
    fps
        Nominal frame rate, frames per second (the encoder's rate-control hint; timestamps rule).
    skeleton
        Joints and bones of the landmarks passed to :meth:`write`.
    max_width_px
        Frames wider than this are area-downscaled to it (aspect kept); ``None``: never.
    crf
        x264 constant rate factor: 0 lossless … 51 worst; 18-28 is the useful range.
    preset
        x264 speed preset (``"ultrafast"`` … ``"veryslow"``): slower is smaller at equal quality.
    encoder_threads
        x264 worker threads; ``None``: x264's automatic choice (about 1.5 per core). Writers running in
        parallel processes use 1, which saves each one the memory of several frame threads.

    Attributes
    ----------
    path
        The output file.
    output_size_px
        (width, height) of the encoded video, pixels: downscaled, then padded to even.

    """

    def __init__(
        self,
        path: Path | str,
        *,
        width_px: int,
        height_px: int,
        fps: float,
        skeleton: Skeleton = BLAZEPOSE_33,
        max_width_px: int | None = None,
        crf: int = 23,
        preset: str = "veryfast",
        encoder_threads: int | None = None,
    ) -> None:
        if width_px < 1 or height_px < 1 or (max_width_px is not None and max_width_px < 2):
            raise InvalidInputError(
                f"width_px, height_px must be ≥ 1 and max_width_px ≥ 2; got {width_px}, {height_px}, {max_width_px}",
                details={"width_px": width_px, "height_px": height_px, "max_width_px": max_width_px},
            )
        if not (math.isfinite(fps) and fps > 0) or not 0 <= crf <= 51:
            raise InvalidInputError(
                f"fps must be positive and crf in [0, 51]; got fps={fps}, crf={crf}",
                details={"fps": fps, "crf": crf},
            )
        self.path = Path(path)
        self._shape = (height_px, width_px, 3)
        self._skeleton = skeleton
        scale = 1.0 if max_width_px is None or width_px <= max_width_px else max_width_px / width_px
        self._scaled_size_px = (max(1, round(width_px * scale)), max(1, round(height_px * scale)))
        self._scale_xy = np.array([self._scaled_size_px[0] / width_px, self._scaled_size_px[1] / height_px])
        scaled_w, scaled_h = self._scaled_size_px
        self.output_size_px = (scaled_w + scaled_w % 2, scaled_h + scaled_h % 2)
        try:
            self.path.open("wb").close()  # FFmpeg opens the file lazily: fail here, not at the first frame
            self._container = av.open(str(self.path), mode="w", format="mp4", options={"movflags": "+faststart"})
        except (OSError, av.FFmpegError) as error:
            raise OutputError(
                f"cannot create overlay video {self.path}: {error}", details={"path": str(path)}
            ) from error
        stream = self._container.add_stream("libx264", rate=Fraction(fps).limit_denominator(1001))
        stream.width, stream.height = self.output_size_px
        stream.pix_fmt = "yuv420p"
        stream.time_base = stream.codec_context.time_base = _TIME_BASE  # frame times pass unrounded
        stream.options = {"crf": str(crf), "preset": preset}
        if encoder_threads is not None:
            stream.options["threads"] = str(max(1, encoder_threads))
        context = stream.codec_context
        context.colorspace, context.color_range = Colorspace.ITU709, ColorRange.MPEG
        context.color_primaries, context.color_trc = ColorPrimaries.BT709, ColorTrc.BT709
        self._stream = stream
        self._last_pts: int | None = None
        self._closed = False

    def write(
        self,
        image_rgb: NDArray[np.uint8],
        *,
        timestamp_s: float,
        frame_index: int,
        landmarks_px: NDArray[np.floating] | None = None,
        confidence: NDArray[np.floating] | None = None,
    ) -> None:
        """Draw the pose and the time stamp on one frame and encode it.

        Parameters
        ----------
        image_rgb
            (height_px, width_px, 3) uint8 RGB source frame.
        timestamp_s
            Presentation time, seconds from the start of the video; ≥ 0 and increasing by at least
            one 1/90000 s tick from frame to frame. Stamped with 2 decimals.
        frame_index
            Index of the frame in the source video, stamped next to the time.
        landmarks_px, confidence
            The frame's pose in source pixels, as for :func:`draw_pose`; ``None``: no pose drawn.

        """
        if self._closed:
            raise OutputError(f"overlay video {self.path} is already closed", details={"path": str(self.path)})
        _check_image(image_rgb, shape=self._shape)
        pts = round(timestamp_s / _TIME_BASE) if math.isfinite(timestamp_s) else -1
        if pts < 0 or (self._last_pts is not None and pts <= self._last_pts):
            last_s = None if self._last_pts is None else float(self._last_pts * _TIME_BASE)
            raise InvalidInputError(
                f"timestamp_s must be ≥ 0 and after the previous frame's ({last_s} s); got {timestamp_s}",
                details={"timestamp_s": timestamp_s, "previous_s": last_s, "frame_index": frame_index},
            )
        image, points = image_rgb, landmarks_px
        if self._scaled_size_px != (self._shape[1], self._shape[0]):
            image = np.asarray(cv2.resize(image, self._scaled_size_px, interpolation=cv2.INTER_AREA), np.uint8)
            if points is not None:
                points = _landmarks_xy(points, self._skeleton.n_joints) * self._scale_xy
        canvas = draw_pose(image, points, confidence, skeleton=self._skeleton)
        _stamp(canvas, f"t {timestamp_s:.2f} s  frame {frame_index}")
        pad_x, pad_y = self.output_size_px[0] - canvas.shape[1], self.output_size_px[1] - canvas.shape[0]
        if pad_x or pad_y:
            canvas = np.asarray(cv2.copyMakeBorder(canvas, 0, pad_y, 0, pad_x, cv2.BORDER_REPLICATE), np.uint8)
        frame = av.VideoFrame.from_ndarray(canvas, format="rgb24").reformat(
            format="yuv420p", dst_colorspace=Colorspace.ITU709, dst_color_range=ColorRange.MPEG
        )
        frame.pts, frame.time_base = pts, _TIME_BASE
        self._mux(frame)
        self._last_pts = pts

    def _mux(self, frame: av.VideoFrame | None) -> None:
        """Encode ``frame`` (``None``: flush) and write the packets; FFmpeg failures become OutputError."""
        try:
            self._container.mux(self._stream.encode(frame))
        except av.FFmpegError as error:
            raise OutputError(
                f"cannot write overlay video {self.path}: {error}", details={"path": str(self.path)}
            ) from error

    def close(self) -> None:
        """Flush the encoder and finish the file; later calls do nothing."""
        if self._closed:
            return
        self._closed = True
        try:
            self._mux(None)
        finally:
            self._container.close()

    def __enter__(self) -> Self:
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, traceback: TracebackType | None
    ) -> None:
        self.close()
