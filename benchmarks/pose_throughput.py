"""Pose-estimation throughput, parallel speed-up, seam accuracy and peak memory.

Prints (a) raw BlazePose throughput on frames already decoded in memory, one process; (b) end-to-end
``analyze`` throughput, one process; (c) end-to-end with every core (overlapping chunks across
processes) and its agreement with (b) away from the chunk seams; (d) peak resident memory of
``spacecomputer analyze`` (all its processes) on a 10-minute 1080p video built from the sample.

Run: ``make bench`` (or ``.venv/bin/python benchmarks/pose_throughput.py [--skip-long]``).
Targets from the issue: (c)/(a) ≥ 1.6 on 2 cores; peak RSS < 1.5 GB on the 10-minute video;
(c) within 1 mm of (b) per landmark away from seams.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
import time
from fractions import Fraction
from pathlib import Path

import av
import numpy as np
import psutil

from spacecomputer._chunks import plan_chunks
from spacecomputer.pipeline import (
    CHUNK_WARMUP_S,
    AnalysisResult,
    AnalyzeOptions,
    analyze_video,
    default_workers,
)
from spacecomputer.vision._pose import BlazePoseEstimator

ROOT = Path(__file__).resolve().parents[1]
SAMPLE = ROOT / "data" / "videos" / "sports2d-demo.mp4"
CALIBRATION = ROOT / "data" / "videos" / "sports2d-demo.calib.toml"
CACHE = ROOT / "benchmarks" / ".cache"
LONG_VIDEO_S = 600
SEAM_MARGIN_S = 0.5


def raw_model_fps() -> float:
    with av.open(str(SAMPLE)) as container:
        images = [frame.to_ndarray(format="rgb24") for frame in container.decode(video=0)]
    with BlazePoseEstimator() as estimator:
        estimator.estimate(images[0])
        estimator.reset()
        started = time.perf_counter()
        for image in images:
            estimator.estimate(image)
        elapsed = time.perf_counter() - started
    return len(images) / elapsed


def timed_analysis(video: Path, *, workers: int, overlay: bool, out: Path) -> tuple[AnalysisResult, float]:
    # The 7.7 s sample is shorter than the default 10 s chunk: use 2 s chunks so that it is split.
    options = AnalyzeOptions(
        height_m=1.65, calibration_path=CALIBRATION, workers=workers, overlay=overlay, min_chunk_s=2.0
    )
    started = time.perf_counter()
    result = analyze_video(video, options, out_dir=out)
    return result, time.perf_counter() - started


def seam_difference_mm(single: AnalysisResult, parallel: AnalysisResult, workers: int) -> tuple[float, float]:
    """Max landmark distance between two runs, away from / near chunk seams, millimetres.

    Also prints how the differences away from the seams are spread, in the metric output (mm) and in the image
    (px, before any whole-clip estimate), before and after the first seam: where the chunks' pose estimates
    themselves differ, and how much the whole-clip estimates (scale, trajectory) then spread it.
    """
    a, b = single.metric, parallel.metric
    assert np.array_equal(a.frame_indices, b.frame_indices)
    seams = [p.keep_from_s for p in plan_chunks(single.analysis.video.duration_s, n_chunks=workers, warmup_s=1)][1:]
    distance = np.linalg.norm(a.positions - b.positions, axis=2)
    pixels = np.linalg.norm(single.image.positions[..., :2] - parallel.image.positions[..., :2], axis=2)
    near = np.zeros(a.n_frames, dtype=bool)
    for seam in seams:
        near |= np.abs(a.timestamps_s - seam) <= SEAM_MARGIN_S
    both = np.isfinite(distance)
    away = distance[~near][both[~near]]
    close = distance[near][both[near]]
    before = a.timestamps_s < (seams[0] if seams else np.inf)
    for name, rows in (("before the first seam", before & ~near), ("after it", ~before & ~near)):
        mm = distance[rows][np.isfinite(distance[rows])] * 1000
        px = pixels[rows][np.isfinite(pixels[rows])]
        if mm.size:
            print(
                f"    {name}: {rows.sum()} frames; metric median {np.median(mm):.1f} mm, p90 "
                f"{np.percentile(mm, 90):.1f} mm, within 1 mm {np.mean(mm <= 1):.0%}; image median "
                f"{np.median(px):.2f} px, p90 {np.percentile(px, 90):.2f} px, within 0.5 px {np.mean(px <= 0.5):.0%}"
            )
    return (float(away.max()) * 1000 if away.size else 0.0, float(close.max()) * 1000 if close.size else 0.0)


def build_long_video(path: Path, *, duration_s: int) -> Path:
    """Loop the sample (forwards then backwards, scaled to 1920x1080) for ``duration_s`` seconds, H.264."""
    if path.exists():
        return path
    path.parent.mkdir(parents=True, exist_ok=True)
    with av.open(str(SAMPLE)) as source:
        frames = [f.reformat(width=1920, height=1080, format="yuv420p") for f in source.decode(video=0)]
    cycle = frames + frames[-2:0:-1]
    partial = path.with_suffix(".partial.mp4")
    with av.open(str(partial), "w") as out:
        stream = out.add_stream("libx264", rate=30, options={"preset": "ultrafast", "crf": "23", "g": "60"})
        stream.width, stream.height, stream.pix_fmt = 1920, 1080, "yuv420p"
        packets = []
        for i, frame in enumerate(cycle):
            frame.pts, frame.time_base = i, Fraction(1, 30)
            packets += stream.encode(frame)
        packets += stream.encode()
        per_cycle = len(cycle)
        for repeat in range(int(np.ceil(duration_s * 30 / per_cycle))):
            for packet in packets:
                copy = av.Packet(bytes(packet))
                copy.pts = packet.pts + repeat * per_cycle
                copy.dts = packet.dts + repeat * per_cycle
                copy.time_base = packet.time_base
                copy.is_keyframe = packet.is_keyframe
                copy.stream = stream
                out.mux(copy)
    partial.rename(path)
    return path


def peak_rss_of_cli(video: Path, out: Path, workers: int) -> tuple[float, float]:
    """Run ``spacecomputer analyze`` and sample the summed RSS of it and its children; (peak MB, wall s)."""
    cli = Path(sys.executable).with_name("spacecomputer")
    command = [str(cli), "analyze", str(video), "--out", str(out), "--workers", str(workers), "--json"]
    started = time.perf_counter()
    process = psutil.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    peak = 0
    while process.poll() is None:
        try:
            tree = [process, *process.children(recursive=True)]
            peak = max(peak, sum(p.memory_info().rss for p in tree if p.is_running()))
        except psutil.Error:
            pass
        time.sleep(0.2)
    if process.returncode != 0:
        raise SystemExit(f"analyze failed: {process.stderr.read().decode() if process.stderr else ''}")
    return peak / 1e6, time.perf_counter() - started


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--skip-long", action="store_true", help="skip (d), the 10-minute video")
    args = parser.parse_args()
    workers = default_workers()
    print(f"cores available: {workers}; chunk warm-up {CHUNK_WARMUP_S} s; sample {SAMPLE.name}")
    fps_a = raw_model_fps()
    print(f"(a) raw BlazePose, decoded frames in memory, 1 process: {fps_a:6.1f} frames/s")
    with tempfile.TemporaryDirectory() as tmp:
        single, wall_b = timed_analysis(SAMPLE, workers=1, overlay=True, out=Path(tmp) / "b")
        frames = single.analysis.pose.frames
        print(f"(b) analyze end to end, 1 process:            {frames / wall_b:6.1f} frames/s ({wall_b:.1f} s)")
        _, wall_b2 = timed_analysis(SAMPLE, workers=1, overlay=False, out=Path(tmp) / "b2")
        print(f"    the same without overlay.mp4:              {frames / wall_b2:6.1f} frames/s ({wall_b2:.1f} s)")
        parallel, wall_c = timed_analysis(SAMPLE, workers=workers, overlay=True, out=Path(tmp) / "c")
        fps_c = frames / wall_c
        chunking = parallel.analysis.processing.chunking
        print(
            f"(c) analyze end to end, {workers} processes:          {fps_c:6.1f} frames/s ({wall_c:.1f} s, "
            f"{chunking.chunks} chunks, {chunking.seams_reconciled} re-tracked); (c)/(a) = {fps_c / fps_a:.2f} "
            "(target ≥ 1.6)"
        )
        _, wall_c2 = timed_analysis(SAMPLE, workers=workers, overlay=False, out=Path(tmp) / "c2")
        print(
            f"    the same without overlay.mp4:              {frames / wall_c2:6.1f} frames/s; "
            f"(c)/(a) = {frames / wall_c2 / fps_a:.2f}"
        )
        away_mm, near_mm = seam_difference_mm(single, parallel, workers)
        print(
            f"    (c) vs (b), max landmark difference: {away_mm:.3f} mm more than {SEAM_MARGIN_S} s from a seam "
            f"(target ≤ 1 mm), {near_mm:.1f} mm near seams"
        )
    if args.skip_long:
        return
    long_video = build_long_video(CACHE / f"sample-{LONG_VIDEO_S}s-1080p.mp4", duration_s=LONG_VIDEO_S)
    with tempfile.TemporaryDirectory() as tmp:
        peak_mb, wall_d = peak_rss_of_cli(long_video, Path(tmp) / "d", workers)
    n_long = LONG_VIDEO_S * 30
    print(
        f"(d) {LONG_VIDEO_S // 60}-minute 1920x1080 video, {workers} processes: peak RSS {peak_mb:.0f} MB "
        f"(target < 1500 MB), {wall_d:.0f} s, {n_long / wall_d:.1f} frames/s, (d)/(a) = {n_long / wall_d / fps_a:.2f}"
    )
    print(f"    load average now: {os.getloadavg()[0]:.2f}")


if __name__ == "__main__":
    main()
