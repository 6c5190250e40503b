"""Benchmark: latency of one pose-lab manipulation on one core (issue 4 §5, target < 16 ms, one 60 fps frame).

The pose: by default an upright synthetic athlete (adult segment lengths, feet flat on the ground); with ``--run``,
a frame of an analysed run (``PoseSession.from_run``). From that pose, each manipulation is timed on its own and
undone: ``PoseSession.manipulate`` with everything it reports (the new pose, limits, balance, ground reaction,
angle and quasi-static moment changes). Three families of random targets (fixed seed):

- *set angle*: an engine angle or coordinate of the limbs, trunk and pelvis, to a value drawn uniformly from its
  range widened by 10° on each side (so some are clamped); the trunk and pelvis angles within ±30° of upright;
- *drag, reachable*: a limb joint, the nose or a shoulder, to where it is in a random pose of its chain within the
  joint limits (the trunk, neck, ab/adduction and axial rotations within ±30°); the mid-hip, down by up to 0.3 m
  (a squat, both feet held);
- *drag, anywhere*: the same joints to a point up to 0.5 m away in a random direction (many out of reach).

Prints p50 and p95 of the wall time (and of the process CPU time, which other load on the machine does not
inflate) per family and overall.

Then single-pose optimisations (issue 4 §5, target < 200 ms at the median): for each objective, ``BiomechanicalSolver
.solve`` from random starting poses (fixed seed): the session's pose squatted by up to 0.3 m (both feet held), the
trunk leaning up to 15° forward and sideways, and the shoulders and elbows at random within ±60° of upright (the
elbows within their limits); the problem keeps the feet on the ground in the start planted and requires balance.
Each solve is timed whole, its report and independent validity check included.

Run: ``.venv/bin/python benchmarks/solver_latency.py [--run runs/X --frame N] [-n 200] [--starts 30]``.
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from collections.abc import Callable
from pathlib import Path

import numpy as np

from spacecomputer.biomech.solver import DOF_NAMES, JOINT_NAMES, PoseSession, SkeletonModel, joint_limits
from spacecomputer.biomech.solver._objectives import OBJECTIVES
from spacecomputer.biomech.solver._optimise import BiomechanicalSolver
from spacecomputer.biomech.solver._optimise_problem import KeepFootOnGround, OptimisationProblem

TARGET_MS = 16.0
OPTIMISE_TARGET_MS = 200.0
SEED = 0
_SIDED = ("left", "right")
ANGLES = (
    *(f"{s}_{a}" for s in _SIDED for a in ("hip_flexion", "hip_adduction", "knee_flexion", "ankle_dorsiflexion")),
    *(f"{s}_{a}" for s in _SIDED for a in ("shoulder_flexion", "shoulder_abduction", "elbow_flexion")),
)
DERIVED = ("trunk_flexion", "trunk_lateral_lean", "pelvis_obliquity")
JOINTS = (
    *(f"{s}_{j}" for s in _SIDED for j in ("wrist", "elbow", "hand", "knee", "ankle", "foot_index")),
    "nose",
    "mid_hip",
    "left_shoulder",
)
_ARM = ("shoulder_flexion", "shoulder_abduction", "shoulder_internal_rotation", "elbow_flexion")
_LEG = ("hip_flexion", "hip_adduction", "hip_internal_rotation", "knee_flexion", "ankle_dorsiflexion")
CHAINS = {  # the coordinates a reachable target of each joint is drawn over (within their limits)
    **{f"{s}_{j}": tuple(f"{s}_{d}" for d in _ARM) for s in _SIDED for j in ("wrist", "hand")},
    **{f"{s}_elbow": tuple(f"{s}_{d}" for d in _ARM[:2]) for s in _SIDED},
    **{f"{s}_knee": tuple(f"{s}_{d}" for d in _LEG[:2]) for s in _SIDED},
    **{f"{s}_ankle": tuple(f"{s}_{d}" for d in _LEG[:4]) for s in _SIDED},
    **{f"{s}_foot_index": tuple(f"{s}_{d}" for d in _LEG) for s in _SIDED},
    "nose": ("neck_flexion", "neck_bending", "neck_rotation"),
    "left_shoulder": ("lumbar_bending", "lumbar_rotation", "shoulder_line_tilt"),
}
SQUAT_M = 0.3
"""Deepest mid-hip drop of a reachable pelvis target, m (the legs bend to keep the feet down)."""


def synthetic_session() -> PoseSession:
    """Open a session on an upright athlete: straight limbs, arms at the sides, feet flat (round sizes of ours)."""
    sided = {"thigh": 0.43, "shank": 0.43, "upper_arm": 0.28, "forearm": 0.25, "hand": 0.08, "foot": 0.2}
    sided |= {"ankle_along_foot": 0.05, "ankle_above_sole": 0.08}
    dimensions = {f"{side}_{k}": v for side in _SIDED for k, v in sided.items()}
    dimensions |= {"hip_width": 0.2, "shoulder_width": 0.36, "trunk": 0.5, "ear_height": 0.19, "ear_width": 0.16}
    dimensions |= {"nose_anterior": 0.1, "nose_superior": 0.17, "nose_right": 0.0}
    model = SkeletonModel(dimensions, up=np.array([0.0, 0.0, 1.0]))
    q = np.zeros(len(DOF_NAMES))
    q[DOF_NAMES.index("pelvis_ty")] = 0.43 + 0.43 + 0.08
    return PoseSession(model, q, ground_level_m=0.0)


def set_angle_targets(rng: np.random.Generator, n: int) -> list[tuple[str, float]]:
    limits = joint_limits()
    out: list[tuple[str, float]] = []
    for _ in range(n):
        if rng.random() < 0.25:
            out.append((str(rng.choice(DERIVED)), float(rng.uniform(-30.0, 30.0))))
        else:
            name = str(rng.choice(ANGLES))
            out.append((name, float(rng.uniform(limits[name].lower - 10.0, limits[name].upper + 10.0))))
    return out


def reachable_targets(session: PoseSession, rng: np.random.Generator, n: int) -> list[tuple[str, np.ndarray]]:
    lower, upper = session.model.bounds()
    out = []
    for _ in range(n):
        joint = str(rng.choice(JOINTS))
        if joint == "mid_hip":
            out.append((joint, session.pose[joint] + [*rng.normal(0.0, 0.02, 2), -rng.uniform(0.0, SQUAT_M)]))
            continue
        q = session.q
        for name in CHAINS[joint]:
            i = DOF_NAMES.index(name)
            q[i] = rng.uniform(max(lower[i], -np.radians(30.0)), min(upper[i], np.radians(30.0)))
            if name.endswith(("knee_flexion", "elbow_flexion", "hip_flexion", "shoulder_flexion")):
                q[i] = rng.uniform(lower[i], upper[i])
        out.append((joint, session.model.points(q)[JOINT_NAMES.index(joint)]))
    return out


def anywhere_targets(session: PoseSession, rng: np.random.Generator, n: int) -> list[tuple[str, np.ndarray]]:
    out = []
    for _ in range(n):
        joint = str(rng.choice(JOINTS))
        direction = rng.normal(size=3)
        out.append((joint, session.pose[joint] + rng.uniform(0.0, 0.5) * direction / np.linalg.norm(direction)))
    return out


def timed(session: PoseSession, calls: list[tuple[str, object]]) -> tuple[np.ndarray, np.ndarray, int]:
    wall, cpu, reached = [], [], 0
    for name, target in calls:
        started, started_cpu = time.perf_counter(), time.process_time()
        result = session.manipulate(name, target)  # type: ignore[arg-type]
        wall.append(time.perf_counter() - started)
        cpu.append(time.process_time() - started_cpu)
        reached += int(result.reached)
        session.undo()
    return 1000.0 * np.array(wall), 1000.0 * np.array(cpu), reached


def report(
    label: str, wall: np.ndarray, cpu: np.ndarray, reached: int | None = None, *, target_ms: float = TARGET_MS
) -> None:
    p50, p95 = np.percentile(wall, [50, 95])
    c50, c95 = np.percentile(cpu, [50, 95])
    verdict = "PASS" if p50 < target_ms else "MISS"
    met = "" if reached is None else f", target met in {reached}/{wall.size}"
    print(
        f"{label:<22} n={wall.size:<4} wall p50 {p50:5.1f} ms  p95 {p95:5.1f} ms   cpu p50 {c50:5.1f} ms  "
        f"p95 {c95:5.1f} ms  [{verdict}: p50 < {target_ms:g} ms{met}]"
    )


def optimisation_starts(session: PoseSession, rng: np.random.Generator, n: int) -> list[np.ndarray]:
    """Random starting poses of the module docstring, made with the session's own manipulations (then undone)."""
    lower, upper = session.model.bounds()
    starts = []
    for _ in range(n):
        session.manipulate("mid_hip", session.pose["mid_hip"] - rng.uniform(0.0, SQUAT_M) * session.model.up)
        session.manipulate("trunk_flexion", float(rng.uniform(0.0, 15.0)))
        session.manipulate("trunk_lateral_lean", float(rng.uniform(-15.0, 15.0)))
        q = session.q
        for side in _SIDED:
            for name in ("shoulder_flexion", "shoulder_abduction", "elbow_flexion"):
                i = DOF_NAMES.index(f"{side}_{name}")
                q[i] = rng.uniform(max(lower[i], -np.radians(60.0)), min(upper[i], np.radians(60.0)))
        starts.append(q)
        while session.undo():
            pass
    return starts


def timed_optimisations(
    session: PoseSession, objective: str, starts: list[np.ndarray]
) -> tuple[np.ndarray, np.ndarray, dict[str, int]]:
    solver = BiomechanicalSolver(session)
    wall, cpu, outcomes = [], [], {"converged": 0, "infeasible": 0, "unchanged": 0, "validity failed": 0}
    for q in starts:
        touching = session.statics.analyse_q(q).in_contact[0]
        feet = tuple(KeepFootOnGround(side) for side, down in zip(_SIDED, touching, strict=True) if down)  # type: ignore[arg-type]
        problem = OptimisationProblem(objective, keep=feet)
        started, started_cpu = time.perf_counter(), time.process_time()
        result = solver.solve(problem, q=q)
        wall.append(time.perf_counter() - started)
        cpu.append(time.process_time() - started_cpu)
        outcomes["converged"] += int(result.success)
        outcomes["infeasible"] += int(result.infeasible)
        outcomes["unchanged"] += int(np.array_equal(result.q, q))
        outcomes["validity failed"] += int(not result.validity.passed)
    return 1000.0 * np.array(wall), 1000.0 * np.array(cpu), outcomes


def main() -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--run", type=Path, help="an analysed run directory (default: a synthetic athlete)")
    parser.add_argument("--frame", type=int, default=100, help="row of the run's poses.parquet")
    parser.add_argument("-n", type=int, default=200, help="targets per family")
    parser.add_argument("--starts", type=int, default=30, help="random starting poses per objective (optimisation)")
    args = parser.parse_args()
    if os.environ.get("OPENBLAS_NUM_THREADS") != "1":
        # One core: BLAS's thread pool, started when numpy is imported, would otherwise busy-wait beside us.
        single = {name: "1" for name in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS")}
        os.execve(sys.executable, [sys.executable, *sys.argv], {**os.environ, **single})
    os.sched_setaffinity(0, {min(os.sched_getaffinity(0))})
    session = synthetic_session() if args.run is None else PoseSession.from_run(args.run, args.frame)
    where = "synthetic upright athlete" if args.run is None else f"{args.run} frame {args.frame}"
    print(f"pose: {where}; {args.n} targets per family, one core")
    rng = np.random.default_rng(SEED)
    families: dict[str, Callable[[], list[tuple[str, object]]]] = {
        "set angle": lambda: list(set_angle_targets(rng, args.n)),
        "drag, reachable": lambda: list(reachable_targets(session, rng, args.n)),
        "drag, anywhere": lambda: list(anywhere_targets(session, rng, args.n)),
    }
    timed(session, families["set angle"]()[:10])  # warm-up: imports, caches
    all_wall, all_cpu = [], []
    for label, make in families.items():
        wall, cpu, reached = timed(session, make())
        report(label, wall, cpu, reached)
        all_wall.append(wall)
        all_cpu.append(cpu)
    report("all manipulations", np.concatenate(all_wall), np.concatenate(all_cpu))
    print(f"single-pose optimisation: {args.starts} random starts per objective, feet kept, balance required")
    starts = optimisation_starts(session, rng, args.starts)
    timed_optimisations(session, "joint_stress", starts[:3])  # warm-up
    all_wall, all_cpu = [], []
    for objective in OBJECTIVES:
        wall, cpu, outcomes = timed_optimisations(session, objective, starts)
        report(objective, wall, cpu, target_ms=OPTIMISE_TARGET_MS)
        print(" " * 23 + ", ".join(f"{k} {v}/{len(starts)}" for k, v in outcomes.items()))
        all_wall.append(wall)
        all_cpu.append(cpu)
    report("all optimisations", np.concatenate(all_wall), np.concatenate(all_cpu), target_ms=OPTIMISE_TARGET_MS)


if __name__ == "__main__":
    main()
