from __future__ import annotations

import hashlib
import itertools
import json
import random
from fractions import Fraction
from pathlib import Path
from typing import Any

import av
import numpy as np
import psutil
import pytest
from hypothesis import given
from hypothesis import strategies as st

from spacecomputer.config import VideoLimits
from spacecomputer.errors import (
    InvalidInputError,
    InvalidVideoError,
    UnsupportedVideoError,
    VideoTooLargeError,
)
from spacecomputer.vision._video import VideoFrame, _PacketRanks, iter_frames, probe_video
from spacecomputer.vision._video_open import _describe_content, _open_container
from tests.videos import HostileVideo, clip_frame, garble_mdat, write_clip

# Fixed keyframe spacing and B-frames, so seeks land mid-GOP and packets arrive out of pts order.
GOP_PARAMS = "keyint=4:min-keyint=4:scenecut=0:bframes=2:b-adapt=0"
VFR_PTS = [0, 1, 3, 4, 8, 9, 10, 15, 16, 17, 19, 22]


def _digest(frame: VideoFrame) -> tuple[int, float, str]:
    return frame.index, frame.timestamp_s, hashlib.sha1(frame.image.tobytes()).hexdigest()


def _assert_close_image(actual: np.ndarray, expected: np.ndarray) -> None:
    assert actual.shape == expected.shape
    assert np.abs(actual.astype(int) - expected.astype(int)).mean() < 12  # H.264 is lossy


def test_probe_sample_video(sample_video: Path) -> None:
    info = probe_video(sample_video)
    assert (info.width_px, info.height_px, info.rotation_deg) == (1768, 994, 0)
    assert (info.codec, info.frame_count, info.fps) == ("vp9", 230, 30.0)
    assert info.duration_s == pytest.approx(230 / 30, abs=0.01)
    assert "mp4" in info.container
    assert not info.is_variable_frame_rate
    assert info.time_base == Fraction(1, 15360)
    assert info.file_size_bytes == sample_video.stat().st_size
    assert json.loads(json.dumps(info.to_dict()))["time_base"] == "1/15360"


def test_sample_full_decode_and_seek_decode_agree(sample_video: Path) -> None:
    info = probe_video(sample_video)
    full = []
    for frame in iter_frames(info):
        assert frame.image.shape == (994, 1768, 3)
        assert frame.image.dtype == np.uint8
        assert frame.image.flags.c_contiguous
        full.append(_digest(frame))
    assert [index for index, _, _ in full] == list(range(230))
    assert np.all(np.diff([timestamp for _, timestamp, _ in full]) > 0)
    chunk = [_digest(frame) for frame in iter_frames(info, start_s=4.5, end_s=5.5)]
    assert chunk == [entry for entry in full if 4.5 <= entry[1] < 5.5]
    assert len(chunk) == 30


@pytest.mark.parametrize(("rotation_ccw_deg", "rotation_deg"), [(90, 270), (-90, 90), (180, 180), (0, 0)])
def test_rotated_clip_comes_out_upright(tmp_path: Path, rotation_ccw_deg: int, rotation_deg: int) -> None:
    info = probe_video(write_clip(tmp_path / "rotated.mp4", rotation_ccw_deg=rotation_ccw_deg))
    assert info.rotation_deg == rotation_deg
    assert (info.width_px, info.height_px) == ((16, 32) if rotation_deg in (90, 270) else (32, 16))
    frames = list(iter_frames(info))
    assert len(frames) == 12
    for frame in frames:
        _assert_close_image(frame.image, np.rot90(clip_frame(frame.index), k=-rotation_deg // 90))


def test_legacy_rotate_tag_is_clockwise(tmp_path: Path) -> None:
    info = probe_video(write_clip(tmp_path / "tagged.mkv", tags={"rotate": "90"}))
    assert (info.rotation_deg, info.width_px, info.height_px) == (90, 16, 32)
    frame = next(iter_frames(info))
    _assert_close_image(frame.image, np.rot90(clip_frame(0), k=-1))


def test_rotation_not_a_multiple_of_90_is_unsupported(tmp_path: Path) -> None:
    with pytest.raises(UnsupportedVideoError, match="not a multiple of 90"):
        probe_video(write_clip(tmp_path / "tilted.mp4", rotation_ccw_deg=45))


@pytest.mark.parametrize("suffix", [".mp4", ".mkv"])
def test_variable_frame_rate_keeps_real_timestamps(tmp_path: Path, suffix: str) -> None:
    info = probe_video(write_clip(tmp_path / f"vfr{suffix}", pts=VFR_PTS, time_base=Fraction(1, 30)))
    assert info.is_variable_frame_rate
    frames = list(iter_frames(info))
    assert [frame.timestamp_s for frame in frames] == pytest.approx([pts / 30 for pts in VFR_PTS], abs=1e-3)
    assert [frame.index for frame in frames] == list(range(len(VFR_PTS)))


@pytest.mark.parametrize("suffix", [".mp4", ".mkv"])
def test_constant_frame_rate_is_not_variable(tmp_path: Path, suffix: str) -> None:
    assert not probe_video(write_clip(tmp_path / f"cfr{suffix}", frame_count=30)).is_variable_frame_rate


@pytest.mark.parametrize(
    ("name", "clip_options"),
    [
        ("cfr.mp4", {"frame_count": 24, "x264_params": GOP_PARAMS}),
        ("cfr.mkv", {"frame_count": 24, "x264_params": GOP_PARAMS}),
        ("cfr.ts", {"frame_count": 24, "x264_params": GOP_PARAMS, "container_format": "mpegts"}),
        ("cfr.avi", {"frame_count": 24, "codec": "mpeg4"}),
        ("cfr.webm", {"frame_count": 24, "codec": "libvpx-vp9"}),
        ("vfr.mp4", {"pts": VFR_PTS, "time_base": Fraction(1, 30), "x264_params": GOP_PARAMS}),
        ("vfr.mkv", {"pts": VFR_PTS, "time_base": Fraction(1, 30), "x264_params": GOP_PARAMS}),
        (
            "vfr.ts",
            {
                "pts": VFR_PTS,
                "time_base": Fraction(1, 30),
                "x264_params": GOP_PARAMS,
                "container_format": "mpegts",
            },
        ),
    ],
)
def test_seek_decode_matches_full_decode(tmp_path: Path, name: str, clip_options: dict[str, Any]) -> None:
    info = probe_video(write_clip(tmp_path / name, **clip_options))
    full = [_digest(frame) for frame in iter_frames(info)]
    assert [index for index, _, _ in full] == list(range(len(full)))
    # Start on every frame and between every two frames: seeks land before, on and after keyframes.
    timestamps = [timestamp for _, timestamp, _ in full]
    starts = sorted({*timestamps[1:], *((a + b) / 2 for a, b in itertools.pairwise(timestamps))})
    for start_s in starts:
        chunk = [_digest(frame) for frame in iter_frames(info, start_s=start_s)]
        assert chunk == [entry for entry in full if entry[1] >= start_s], start_s
    for start_s, end_s in [(0.25, 0.5), (0.3, 0.31)]:
        chunk = [_digest(frame) for frame in iter_frames(info, start_s=start_s, end_s=end_s)]
        assert chunk == [entry for entry in full if start_s <= entry[1] < end_s], (start_s, end_s)


def test_chunks_stitch_into_the_full_decode(clip: Path) -> None:
    info = probe_video(clip)
    full = [_digest(frame) for frame in iter_frames(info)]
    bounds = [0.0, 0.1, 0.2, 0.3, None]
    stitched = [
        _digest(frame)
        for start, end in itertools.pairwise(bounds)
        for frame in iter_frames(info, start_s=start or 0.0, end_s=end)
    ]
    assert stitched == full


@pytest.mark.parametrize(("rotation_ccw_deg", "shape"), [(None, (8, 16, 3)), (90, (16, 8, 3))])
def test_max_width_downscales_the_displayed_frame(
    tmp_path: Path, rotation_ccw_deg: int | None, shape: tuple[int, ...]
) -> None:
    info = probe_video(write_clip(tmp_path / "clip.mp4", rotation_ccw_deg=rotation_ccw_deg))
    max_width_px = info.width_px // 2
    frames = list(iter_frames(info, max_width_px=max_width_px))
    assert len(frames) == 12
    assert all(frame.image.shape == shape for frame in frames)
    assert next(iter_frames(info, max_width_px=100)).image.shape == (
        info.height_px,
        info.width_px,
        3,
    )


def test_hostile_input_is_refused_with_exact_error(hostile_video: HostileVideo) -> None:
    with pytest.raises(hostile_video.error) as caught:
        probe_video(hostile_video.path)
    error = caught.value
    assert type(error) is hostile_video.error, error
    assert "\n" not in str(error)
    assert str(error) == error.message
    assert error.details["path"]


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("max_file_size_bytes", 100),
        ("max_pixels_per_frame", 32 * 16 - 1),
        ("max_duration_s", 0.3),
        ("max_fps", 29.0),
        ("max_frame_count", 11),
    ],
)
def test_each_cap_names_its_limit_and_variable(clip: Path, field: str, value: float) -> None:
    probe_video(clip)  # within the defaults
    with pytest.raises(VideoTooLargeError) as caught:
        probe_video(clip, limits=VideoLimits(**{field: value}))
    env_var = f"SPACECOMPUTER_{field.upper()}"
    assert env_var in caught.value.message
    assert "\n" not in caught.value.message
    assert caught.value.details["limit_name"] == field
    assert caught.value.details["limit"] == value


def test_path_with_spaces_and_non_ascii_works(tmp_path: Path) -> None:
    folder = tmp_path / "séance d'entraînement"
    folder.mkdir()
    info = probe_video(write_clip(folder / "sprint 100 m – Ålesund 日本.mp4"))
    assert len(list(iter_frames(info))) == 12


def test_file_garbled_after_probe_has_zero_decodable_frames(clip: Path) -> None:
    info = probe_video(clip)
    garble_mdat(clip)
    with pytest.raises(InvalidVideoError, match="zero decodable frames"):
        list(iter_frames(info))


def test_isolated_corrupt_packet_is_skipped_and_leaves_an_index_gap(tmp_path: Path) -> None:
    path = write_clip(tmp_path / "intra.avi", codec="mjpeg", pix_fmt="yuvj420p")
    with av.open(str(path)) as container:
        packets = [(packet.pos, packet.size) for packet in container.demux(video=0) if packet.size]
    position, size = packets[5]
    data = bytearray(path.read_bytes())
    data[position : position + size] = random.Random(1).randbytes(size)
    path.write_bytes(bytes(data))
    indices = [frame.index for frame in iter_frames(probe_video(path))]
    assert indices == [0, 1, 2, 3, 4, 6, 7, 8, 9, 10, 11]


@pytest.mark.parametrize(
    "arguments",
    [{"start_s": -1.0}, {"start_s": float("nan")}, {"start_s": 0.2, "end_s": 0.2}, {"max_width_px": 0}],
)
def test_bad_arguments_are_refused_when_called(clip: Path, arguments: dict[str, float]) -> None:
    info = probe_video(clip)
    with pytest.raises(InvalidInputError) as caught:
        iter_frames(info, **arguments)  # raises before the first frame is asked for
    assert type(caught.value) is InvalidInputError


def test_closing_the_generator_closes_the_file(clip: Path) -> None:
    info = probe_video(clip)
    process = psutil.Process()
    frames = iter_frames(info)
    next(frames)
    assert str(info.path) in {file.path for file in process.open_files()}
    frames.close()
    assert str(info.path) not in {file.path for file in process.open_files()}


def test_nested_opens_are_refused_even_by_a_playlist_demuxer(tmp_path: Path) -> None:
    segment = write_clip(tmp_path / "segment.mp4")
    playlist = tmp_path / "playlist.m3u8"
    playlist.write_text(f"#EXTM3U\n#EXT-X-TARGETDURATION:1\n#EXTINF:0.4,\n{segment.name}\n#EXT-X-ENDLIST\n")
    with (
        pytest.raises(UnsupportedVideoError, match="tried to open"),
        _open_container(playlist, allowed_demuxers="hls"),
    ):
        pass


@given(st.binary(max_size=512))
def test_content_description_never_fails(head: bytes) -> None:
    description, refers_elsewhere = _describe_content(head)
    assert description
    assert "\n" not in description
    assert isinstance(refers_elsewhere, bool)


@given(st.lists(st.integers(-1000, 1000), unique=True, max_size=40), st.randoms(use_true_random=False))
def test_packet_ranks_count_lower_pts(pts_values: list[int], rng: random.Random) -> None:
    # Packets arrive in any decode order; frames come out in pts order, after their own packet.
    decode_order = pts_values[:]
    rng.shuffle(decode_order)
    arriving = iter(decode_order)
    ranks = _PacketRanks(lower_before=7)
    arrived: set[int] = set()
    for pts in sorted(pts_values):
        while pts not in arrived:
            packet_pts = next(arriving)
            arrived.add(packet_pts)
            ranks.add(packet_pts)
        assert ranks.rank(pts) == 7 + sum(other < pts for other in pts_values)
