"""Benchmark: the biomechanics of a 30-second, 60 fps clip on one core (issue 3 §11, target < 1 s).

The clip: the bundled sample's metric poses (from a real `analyze` run, cached in ``benchmarks/.cache``),
played forward, backward, forward and backward so that positions stay continuous, then resampled to 60 fps
with a cubic spline: about 30.7 s and 1840 frames of real landmarks. One pass of the engine (every angle,
event, kinetic, energy, stability and risk quantity) is timed, then the full analysis with the Monte Carlo
uncertainty (each draw is one more pass), with and without the smoothed depth's error in the draws (a synthetic
depth track like the sample's: 0.25 m of scatter about 11 m, smoothed as the pipeline does, seen along world −X as
the sample's camera looks), each the median of a few repeats. The pipeline's rigid-skeleton fit of the same clip
(a cleaning step before the biomechanics, ``biomech/solver/_fit_sequence.py``) is timed too.

Run: ``make bench`` or ``.venv/bin/python benchmarks/biomechanics_speed.py``.
"""

from __future__ import annotations

import argparse
import os
import statistics
import time
from pathlib import Path

import numpy as np
from scipy.interpolate import CubicSpline

from spacecomputer.biomech import BiomechanicsOptions, analyze_biomechanics
from spacecomputer.biomech._analyze import DEFAULT_DRAWS
from spacecomputer.biomech.solver import fit_skeleton_to_sequence
from spacecomputer.domain import PoseSequence
from spacecomputer.domain._placement import PlacementUncertainty
from spacecomputer.pipeline import AnalyzeOptions, analyze_video
from spacecomputer.vision._depth import smooth_depth

ROOT = Path(__file__).resolve().parents[1]
SAMPLE = ROOT / "data" / "videos" / "sports2d-demo.mp4"
CALIBRATION = ROOT / "data" / "videos" / "sports2d-demo.calib.toml"
CACHE = ROOT / "benchmarks" / ".cache" / "sample_metric_poses.parquet"
WORLD_UP = (0.0, 0.0, 1.0)
TARGET_S = 1.0


def sample_metric_poses() -> PoseSequence:
    if not CACHE.exists():
        CACHE.parent.mkdir(parents=True, exist_ok=True)
        result = analyze_video(
            SAMPLE, AnalyzeOptions(height_m=1.65, calibration_path=CALIBRATION, overlay=False, uncertainty_draws=0)
        )
        result.metric.to_parquet(CACHE)
    return PoseSequence.from_parquet(CACHE)


def thirty_seconds_at_60_fps(sequence: PoseSequence) -> PoseSequence:
    """Forward–backward tiling to ≥ 30 s, then a cubic resample to 60 fps (NaN frames dropped first)."""
    seen = np.isfinite(sequence.positions).all(axis=(1, 2))
    positions, confidence = sequence.positions[seen], sequence.confidence[seen]
    times = sequence.timestamps_s[seen] - sequence.timestamps_s[seen][0]
    period = float(times[-1])
    tiled_positions, tiled_confidence, tiled_times = [positions], [confidence], [times]
    offset, forward = period, False
    while offset < 30.0:
        order = slice(None) if forward else slice(None, None, -1)
        tiled_positions.append(positions[order][1:])
        tiled_confidence.append(confidence[order][1:])
        tiled_times.append(offset + times[1:])
        offset += period
        forward = not forward
    all_times = np.concatenate(tiled_times)
    grid = np.arange(0.0, 30.0, 1 / 60)
    spline = CubicSpline(all_times, np.concatenate(tiled_positions), axis=0)
    conf = np.clip(CubicSpline(all_times, np.concatenate(tiled_confidence), axis=0)(grid), 0.0, 1.0)
    return sequence.replace(
        positions=spline(grid),
        confidence=conf,
        timestamps_s=grid,
        fps=60.0,
        frame_indices=np.arange(grid.size, dtype=np.int64),
        flags=np.zeros((grid.size, sequence.positions.shape[1]), dtype=np.uint8),
    )


def depth_placement(clip: PoseSequence) -> PlacementUncertainty:
    """Return the smoothed depth error of a sample-like depth track, along world −X (the sample camera's axis)."""
    depth_m = 11.0 + np.random.default_rng(0).normal(0.0, 0.25, clip.n_frames)
    track = smooth_depth(depth_m, np.full(clip.n_frames, 0.1), clip.timestamps_s)
    if track.error is None:
        raise RuntimeError("the synthetic depth track has no measurement")
    return PlacementUncertainty(track.error, np.tile([-1.0, 0.0, 0.0], (clip.n_frames, 1)))


def timed(function: object, repeats: int) -> float:
    samples = []
    for _ in range(repeats):
        started = time.perf_counter()
        function()  # type: ignore[operator]
        samples.append(time.perf_counter() - started)
    return statistics.median(samples)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=3)
    args = parser.parse_args()
    os.sched_setaffinity(0, {min(os.sched_getaffinity(0))})  # one core, BLAS threads included
    clip = thirty_seconds_at_60_fps(sample_metric_poses())
    print(f"clip: {clip.n_frames} frames, {clip.duration_s:.1f} s at {clip.fps:g} fps (sample, tiled, resampled)")

    placement = depth_placement(clip)

    def one(draws: int, placement: PlacementUncertainty | None = None) -> object:
        # A fresh copy each time: the engine caches per sequence object, and a user's run is always a new one.
        fresh = clip.replace(positions=clip.positions.copy())
        return analyze_biomechanics(
            fresh,
            up=WORLD_UP,
            up_source="calibration",
            options=BiomechanicsOptions(mass_kg=60.0, height_m=1.65, draws=draws),
            cutoff_hz=6.0,
            placement=placement,
        )

    one(0)
    single = timed(lambda: one(0), args.repeats)
    plain = timed(lambda: one(DEFAULT_DRAWS), max(1, args.repeats - 1))
    full = timed(lambda: one(DEFAULT_DRAWS, placement), max(1, args.repeats - 1))
    verdict = "PASS" if single < TARGET_S else "MISS"
    print(f"one pass (all quantities, no uncertainty): {single * 1000:.0f} ms  [{verdict}: target < {TARGET_S:g} s]")
    for label, seconds in (("landmark noise only", plain), ("with the depth error", full)):
        per_pass = seconds / (DEFAULT_DRAWS + 1)
        print(f"with uncertainty ({DEFAULT_DRAWS} draws, {label}): {seconds:.2f} s  ({per_pass:.3f} s per pass)")
    fit = timed(lambda: fit_skeleton_to_sequence(clip, up=WORLD_UP), 1)
    track = fit_skeleton_to_sequence(clip, up=WORLD_UP)
    print(
        f"rigid-skeleton fit (pipeline cleaning step): {fit:.2f} s ({1000 * fit / clip.n_frames:.2f} ms a frame;"
        f" {int(track.fitted.sum())} frames fitted, median {np.median(track.fits.iterations[track.fitted]):.0f}"
        " iterations)"
    )


if __name__ == "__main__":
    main()
