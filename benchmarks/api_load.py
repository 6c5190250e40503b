"""Load on the platform API served by uvicorn on 127.0.0.1: cached metric reads, concurrent uploads, Ray job throughput.

(a) ``reads``: one user's ``GET /api/v1/analyses/{id}/metrics`` (the run's per-frame series as JSON columns, about
    190 kB, from the cache once read) on ``--concurrency`` keep-alive connections for ``--duration-s`` after a
    warm-up: requests/s, p50 and p99 latency. The client is raw asyncio streams on uvloop in
    ``--client-processes`` processes, a few µs of Python per request, so that it takes little of the cores it
    shares with the server. The run is ``make run``'s newest ``runs/sports2d-demo-*``, else the sample analysed
    once into ``benchmarks/.cache/api-load-run`` (or ``--run``).
(b) ``uploads``: ``--uploads`` different 10 MiB videos (the sample padded by a top-level ``free`` box of seeded
    random bytes) at once, each created, sent in chunks and completed through the videos API by one of
    ``--upload-users`` users; then each stored one is downloaded, its SHA-256 compared, and looked for in the listing.
(c) ``jobs``: ``benchmarks/job_throughput.py``'s measurement (sleep jobs through the queue and a runner) on a local
    Ray with 1, 2 and 4 workers: jobs/s and the speed-up over one worker.

Targets (the issue's): (a) ≥ 1,000 requests/s with p99 under 50 ms on this 2-core machine; (b) every upload stored
intact or refused with 429/503 and ``Retry-After``, none lost or corrupted. (c) has none: figures only.

The server (``uvicorn --factory spacecomputer.api._app:create_app``, ``--server-workers`` processes, on the same
cores as the client; on uvloop and httptools, which uvicorn picks when installed) takes its settings from the
environment (``SPACECOMPUTER_*``; default: the embedded set in a temporary folder), runs no jobs, writes no access
log (uvicorn's ``--log-level warning``), and has plan limits far above the load: the limiter counts, never refuses
(set ``SPACECOMPUTER_PLAN_LIMITS`` to load it under real limits: uploads are then refused with 429 and Retry-After).

Run: ``.venv/bin/python benchmarks/api_load.py [--parts reads uploads jobs] [--concurrency 16 64 256]``.
"""

from __future__ import annotations

import argparse
import asyncio
import hashlib
import importlib.util
import json
import multiprocessing
import os
import secrets
import socket
import struct
import subprocess
import sys
import tempfile
import time
import uuid
from collections import Counter
from collections.abc import Iterator
from concurrent.futures import ProcessPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import numpy as np
import uvloop

from spacecomputer.api._analyses import import_run
from spacecomputer.api._platform import open_platform
from spacecomputer.config import Settings

ROOT = Path(__file__).resolve().parents[1]
SAMPLE = ROOT / "data" / "videos" / "sports2d-demo.mp4"
CACHED_RUN = ROOT / "benchmarks" / ".cache" / "api-load-run"
UPLOAD_BYTES = 10 * 1024 * 1024
READS_TARGET_RPS = 1000.0
READS_TARGET_P99_MS = 50.0
PASSWORD = "Load test 9 password"
UNLIMITED = "100000000/minute"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def sample_run(chosen: Path | None) -> Path:
    """Return the run folder whose metrics are read: ``chosen``, ``make run``'s newest, or one made once here."""
    if chosen is not None:
        return chosen
    made = sorted(ROOT.glob("runs/sports2d-demo-*/analysis.json"))
    if made:
        return made[-1].parent
    if not (CACHED_RUN / "analysis.json").is_file():
        from spacecomputer.pipeline import AnalyzeOptions, analyze_video  # heavy: not in the client processes

        print(f"analysing the sample once into {CACHED_RUN} …", flush=True)
        analyze_video(SAMPLE, AnalyzeOptions(height_m=1.65), out_dir=CACHED_RUN)
    return CACHED_RUN


def server_environment(folder: Path) -> dict[str, str]:
    """Return the server's environment: the caller's ``SPACECOMPUTER_*`` settings, else the embedded set."""
    environment = dict(os.environ)
    defaults = {
        "SPACECOMPUTER_ENVIRONMENT": "test",
        "SPACECOMPUTER_JWT_SECRET": secrets.token_urlsafe(48),
        "SPACECOMPUTER_LIBRARY_DIR": str(folder),
        "SPACECOMPUTER_RUN_JOBS_IN_API": "false",
        "SPACECOMPUTER_PLAN_LIMITS": json.dumps(
            {tier: UNLIMITED for tier in ("anonymous", "free", "pro", "enterprise")}
        ),
        "SPACECOMPUTER_LOGIN_RATE_LIMIT": UNLIMITED,
    }
    for name, value in defaults.items():
        environment.setdefault(name, value)
    return environment


@contextmanager
def serving(environment: dict[str, str], *, workers: int, log: Path) -> Iterator[str]:
    """Run uvicorn with ``workers`` processes on a free port; yield its base URL once ``/health`` answers."""
    port = free_port()
    command = [sys.executable, "-m", "uvicorn", "spacecomputer.api._app:create_app", "--factory"]
    command += ["--host", "127.0.0.1", "--port", str(port), "--workers", str(workers)]
    command += ["--log-level", "warning", "--no-access-log"]
    with log.open("wb") as output:
        process = subprocess.Popen(command, env=environment, stdout=output, stderr=subprocess.STDOUT)
    base_url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 120.0
        while True:
            if process.poll() is not None:
                raise RuntimeError(f"uvicorn exited with {process.returncode}:\n{log.read_text()[-3000:]}")
            try:
                if httpx.get(f"{base_url}/health", timeout=1.0).status_code == 200:
                    break
            except httpx.TransportError:
                pass
            if time.monotonic() > deadline:
                raise TimeoutError("the server did not answer /health within 120 s")
            time.sleep(0.2)
        yield base_url
    finally:
        process.terminate()
        try:
            process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


async def sign_up(client: httpx.AsyncClient) -> tuple[uuid.UUID, dict[str, str]]:
    """Register and log in a new user through the API; return its id and bearer header."""
    email = f"load-{uuid.uuid4().hex[:12]}@example.com"
    created = await client.post("/api/v1/users", json={"email": email, "password": PASSWORD})
    created.raise_for_status()
    tokens = await client.post("/api/v1/users/login", data={"username": email, "password": PASSWORD})
    tokens.raise_for_status()
    return uuid.UUID(created.json()["id"]), {"Authorization": f"Bearer {tokens.json()['access_token']}"}


async def seed_analysis(settings: Settings, owner_id: uuid.UUID, run: Path) -> uuid.UUID:
    """Store ``run`` as a succeeded analysis of ``owner_id`` on the server's back ends (what a finished job leaves)."""
    async with open_platform(settings) as platform:
        return (await import_run(platform, owner_id, run, video_id=None)).id


@dataclass
class ReadFigures:
    """What one concurrency level of (a) measured."""

    concurrency: int
    latencies_ms: list[float]
    statuses: Counter[int]
    requests_per_s: float

    @property
    def p50_ms(self) -> float:
        """Median latency, ms."""
        return float(np.percentile(self.latencies_ms, 50))

    @property
    def p99_ms(self) -> float:
        """99th-percentile latency, ms."""
        return float(np.percentile(self.latencies_ms, 99))

    @property
    def passed(self) -> bool:
        """Whether both targets were met, every answer a 200."""
        fast = self.requests_per_s >= READS_TARGET_RPS and self.p99_ms < READS_TARGET_P99_MS
        return fast and set(self.statuses) == {200}


def _get_request(base_url: str, path: str, headers: dict[str, str]) -> bytes:
    """Return the bytes of one keep-alive ``GET path`` with ``headers`` (HTTP/1.1)."""
    host = base_url.split("://", 1)[1]
    lines = [f"GET {path} HTTP/1.1", f"Host: {host}", *(f"{name}: {value}" for name, value in headers.items())]
    return ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1")


async def _response(reader: asyncio.StreamReader) -> int:
    """Read one response with a ``Content-Length`` body (what the read route sends); return its status."""
    head = (await reader.readuntil(b"\r\n\r\n")).decode("latin-1").split("\r\n")
    fields = dict(line.split(":", 1) for line in head[1:] if ":" in line)
    length = next(int(value) for name, value in fields.items() if name.strip().lower() == "content-length")
    await reader.readexactly(length)
    return int(head[0].split(" ", 2)[1])


async def _connections(
    base_url: str, request: bytes, connections: int, measured_from: float, stop_at: float
) -> tuple[list[float], Counter[int], float]:
    host, port = base_url.split("://", 1)[1].rsplit(":", 1)
    latencies_ms: list[float] = []
    statuses: Counter[int] = Counter()
    finished_at = [measured_from]

    async def one_connection() -> None:
        reader, writer = await asyncio.open_connection(host, int(port))
        try:
            while (started := time.time()) < stop_at:
                writer.write(request)
                status = await _response(reader)
                ended = time.time()
                if started >= measured_from:
                    latencies_ms.append((ended - started) * 1000.0)
                    statuses[status] += 1
                    finished_at[0] = max(finished_at[0], ended)
        finally:
            writer.close()

    await asyncio.gather(*(one_connection() for _ in range(connections)))
    return latencies_ms, statuses, finished_at[0]


def client_process(
    base_url: str, request: bytes, connections: int, measured_from: float, stop_at: float
) -> tuple[list[float], Counter[int], float]:
    """Run ``connections`` keep-alive connections sending ``request`` until ``stop_at`` (Unix time) in this process.

    Returns the latencies (ms) and statuses of the requests started from ``measured_from`` on, and when the last
    of them ended. The client is raw asyncio streams on uvloop, a few µs of Python per request, so that it takes as
    little as it can of the cores the server shares.
    """
    return uvloop.run(_connections(base_url, request, connections, measured_from, stop_at))


async def read_load(
    base_url: str,
    headers: dict[str, str],
    path: str,
    *,
    concurrency: int,
    duration_s: float,
    warmup_s: float,
    clients: ProcessPoolExecutor,
    client_processes: int,
) -> ReadFigures:
    """Hammer ``path`` from ``concurrency`` connections spread over ``client_processes``; figures after the warm-up."""
    async with httpx.AsyncClient(base_url=base_url, headers=headers, timeout=60.0) as client:
        first = await client.get(path)
        first.raise_for_status()
        assert first.json()["rows"] > 0, first.text[:200]
    request = _get_request(base_url, path, headers)
    measured_from = time.time() + warmup_s
    stop_at = measured_from + duration_s
    shares = [concurrency // client_processes + (i < concurrency % client_processes) for i in range(client_processes)]
    loop = asyncio.get_running_loop()
    parts = await asyncio.gather(
        *(
            loop.run_in_executor(clients, client_process, base_url, request, share, measured_from, stop_at)
            for share in shares
            if share
        )
    )
    latencies_ms = [latency for part in parts for latency in part[0]]
    statuses: Counter[int] = sum((part[1] for part in parts), Counter())
    finished_at = max(part[2] for part in parts)
    return ReadFigures(concurrency, latencies_ms, statuses, len(latencies_ms) / (finished_at - measured_from))


def upload_bytes(base: bytes, index: int) -> bytes:
    """Return the sample padded to :data:`UPLOAD_BYTES` by a ``free`` box of bytes seeded by ``index`` (an MP4)."""
    padding = UPLOAD_BYTES - len(base)
    box = struct.pack(">I4s", padding, b"free") + np.random.default_rng(index).bytes(padding - 8)
    return base + box


@dataclass
class UploadOutcome:
    """How one upload of (b) ended."""

    index: int
    result: str  # "stored", "refused" (429/503 with Retry-After) or "failed"
    step: str = ""
    status: int = 0
    video_id: str = ""
    sha256: str = ""
    detail: str = ""


def _refusal(index: int, step: str, answer: httpx.Response) -> UploadOutcome:
    refused = answer.status_code in (429, 503) and answer.headers.get("retry-after", "").isdigit()
    return UploadOutcome(index, "refused" if refused else "failed", step, answer.status_code, detail=answer.text[:160])


async def upload_one(
    client: httpx.AsyncClient, headers: dict[str, str], index: int, base: bytes, chunk: int
) -> UploadOutcome:
    """Create, send in chunks and complete one upload; say how it ended."""
    data = upload_bytes(base, index)
    digest = hashlib.sha256(data).hexdigest()
    body = {"filename": f"load-{index}.mp4", "total_size_bytes": len(data), "sha256": digest, "chunk_size_bytes": chunk}
    created = await client.post("/api/v1/videos", json=body, headers=headers)
    if created.status_code != 201:
        return _refusal(index, "create", created)
    video_id = created.json()["id"]
    for number, start in enumerate(range(0, len(data), chunk)):
        part = data[start : start + chunk]
        sent = await client.put(
            f"/api/v1/videos/{video_id}/chunks/{number}",
            content=part,
            headers=headers | {"Content-SHA256": hashlib.sha256(part).hexdigest()},
        )
        if sent.status_code != 200:
            return _refusal(index, f"chunk {number}", sent)
    completed = await client.post(f"/api/v1/videos/{video_id}/complete", headers=headers)
    if completed.status_code != 200:
        return _refusal(index, "complete", completed)
    video = completed.json()
    if (video["status"], video["size_bytes"], video["sha256"]) != ("ready", len(data), digest):
        return UploadOutcome(index, "failed", "complete", 200, video_id, digest, f"stored as {video}")
    return UploadOutcome(index, "stored", video_id=video_id, sha256=digest)


async def downloaded_sha256(client: httpx.AsyncClient, headers: dict[str, str], video_id: str) -> str:
    digest = hashlib.sha256()
    async with client.stream("GET", f"/api/v1/videos/{video_id}/content", headers=headers) as answer:
        answer.raise_for_status()
        async for piece in answer.aiter_bytes():
            digest.update(piece)
    return digest.hexdigest()


async def listed_ready(client: httpx.AsyncClient, headers: dict[str, str]) -> set[str]:
    """Return the ids of every ready video the listing shows the user."""
    ids: set[str] = set()
    while True:
        params: dict[str, str | int] = {"status": "ready", "limit": 200, "offset": len(ids)}
        page = (await client.get("/api/v1/videos", params=params, headers=headers)).json()
        ids |= {item["id"] for item in page["items"]}
        if len(ids) >= page["total"] or not page["items"]:
            return ids


@dataclass
class UploadFigures:
    """What (b) found: each upload's outcome, the wall time, the stored uploads lost or corrupted."""

    outcomes: list[UploadOutcome]
    wall_s: float
    corrupted: list[int] = field(default_factory=list)
    lost: list[int] = field(default_factory=list)

    @property
    def passed(self) -> bool:
        """Whether every upload was stored intact or refused with Retry-After."""
        results = Counter(outcome.result for outcome in self.outcomes)
        return results["failed"] == 0 and not self.corrupted and not self.lost


async def upload_load(base_url: str, *, uploads: int, users: int, chunk_bytes: int) -> UploadFigures:
    base = SAMPLE.read_bytes()
    limits = httpx.Limits(max_connections=uploads + 8, max_keepalive_connections=uploads + 8)
    async with httpx.AsyncClient(base_url=base_url, limits=limits, timeout=300.0) as client:
        accounts = [await sign_up(client) for _ in range(users)]
        started = time.perf_counter()
        outcomes = await asyncio.gather(
            *(upload_one(client, accounts[i % users][1], i, base, chunk_bytes) for i in range(uploads))
        )
        wall_s = time.perf_counter() - started
        figures = UploadFigures(list(outcomes), wall_s)
        listed: set[str] = set()
        for _, headers in accounts:
            listed |= await listed_ready(client, headers)
        for outcome in figures.outcomes:
            if outcome.result != "stored":
                continue
            headers = accounts[outcome.index % users][1]
            if outcome.video_id not in listed:
                figures.lost.append(outcome.index)
            elif await downloaded_sha256(client, headers, outcome.video_id) != outcome.sha256:
                figures.corrupted.append(outcome.index)
    return figures


def job_throughput_module() -> Any:
    """Load ``benchmarks/job_throughput.py`` (a script beside this one, not a package)."""
    spec = importlib.util.spec_from_file_location("job_throughput", Path(__file__).with_name("job_throughput.py"))
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def load_average() -> str:
    """Say how busy the machine is (other processes share its cores and skew every figure)."""
    one, five, _ = os.getloadavg()
    return f"load average {one:.2f} (1 min), {five:.2f} (5 min)"


async def reads_part(args: argparse.Namespace, base_url: str, settings: Settings, run: Path) -> list[ReadFigures]:
    async with httpx.AsyncClient(base_url=base_url, timeout=60.0) as client:
        owner_id, headers = await sign_up(client)
    path = f"/api/v1/analyses/{await seed_analysis(settings, owner_id, run)}/metrics"
    print(
        f"\n(a) cached reads of {path} (run {run.name}), {args.duration_s:g} s each, "
        f"from {args.client_processes} client process(es)"
    )
    print(f"{'connections':>11} {'req/s':>9} {'p50 ms':>8} {'p99 ms':>8}  statuses")
    reads = []
    context = multiprocessing.get_context("spawn")  # a fork would copy this process's running event loop
    with ProcessPoolExecutor(args.client_processes, mp_context=context) as clients:
        list(clients.map(time.sleep, [0.0] * args.client_processes))  # started and imported before any clock runs
        for concurrency in args.concurrency:
            figures = await read_load(
                base_url,
                headers,
                path,
                concurrency=concurrency,
                duration_s=args.duration_s,
                warmup_s=2.0,
                clients=clients,
                client_processes=args.client_processes,
            )
            reads.append(figures)
            print(
                f"{concurrency:>11} {figures.requests_per_s:>9.0f} {figures.p50_ms:>8.1f} {figures.p99_ms:>8.1f}"
                f"  {dict(figures.statuses)}",
                flush=True,
            )
    return reads


async def uploads_part(args: argparse.Namespace, base_url: str) -> UploadFigures:
    print(f"\n(b) {args.uploads} concurrent uploads of {UPLOAD_BYTES / 2**20:g} MiB by {args.upload_users} users")
    figures = await upload_load(
        base_url, uploads=args.uploads, users=args.upload_users, chunk_bytes=args.chunk_mib * 2**20
    )
    results = Counter(outcome.result for outcome in figures.outcomes)
    stored_mib = results["stored"] * UPLOAD_BYTES / 2**20
    print(f"wall {figures.wall_s:.1f} s; {dict(results)}; {stored_mib / figures.wall_s:.1f} MiB/s stored")
    for outcome in figures.outcomes:
        if outcome.result != "stored":
            print(f"  upload {outcome.index}: {outcome.result} at {outcome.step} ({outcome.status}) {outcome.detail}")
    print(f"downloaded and checked: {results['stored']}; corrupted: {figures.corrupted}; lost: {figures.lost}")
    return figures


async def served_parts(args: argparse.Namespace, folder: Path) -> tuple[list[ReadFigures], UploadFigures | None]:
    """Run (a) and (b) against one server on the back ends of the environment (or the embedded set in ``folder``)."""
    environment = server_environment(folder)
    os.environ.update({name: value for name, value in environment.items() if name.startswith("SPACECOMPUTER_")})
    settings = Settings()
    async with open_platform(settings):  # migrated once here, before several server processes open the database
        pass
    run = sample_run(args.run) if "reads" in args.parts else None
    with serving(environment, workers=args.server_workers, log=folder / "uvicorn.log") as base_url:
        print(f"server: {base_url}, {args.server_workers} uvicorn worker(s); back ends from {folder} or the env")
        reads = await reads_part(args, base_url, settings, run) if run is not None else []
        uploads = await uploads_part(args, base_url) if "uploads" in args.parts else None
    return reads, uploads


def jobs_part(args: argparse.Namespace) -> list[tuple[int, float]]:
    """Return (workers, wall seconds) of ``--jobs`` sleep jobs on one local Ray, for each worker count."""
    print(f"\n(c) {args.jobs} sleep jobs of {args.job_seconds} s through the queue on a local Ray")
    bench = job_throughput_module()
    executor = bench.make_executor("ray", 0, max(args.ray_workers))
    jobs: list[tuple[int, float]] = []
    try:
        with tempfile.TemporaryDirectory() as folder:
            for count in args.ray_workers:
                url = f"sqlite:///{Path(folder) / f'ray-{count}.db'}"
                measured = bench.measure(
                    url, executor, workers=count, jobs=args.jobs, seconds=args.job_seconds, poll_s=0.02
                )
                jobs.append((count, asyncio.run(measured)))
    finally:
        executor.shutdown()
    print(f"{'workers':>7} {'wall s':>7} {'jobs/s':>7} {'speed-up':>9} {'ideal':>6}")
    for count, wall_s in jobs:
        speed_up, ideal = jobs[0][1] / wall_s, count / jobs[0][0]
        print(f"{count:>7} {wall_s:>7.2f} {args.jobs / wall_s:>7.2f} {speed_up:>8.2f}x {ideal:>5.0f}x")
    return jobs


def print_summary(reads: list[ReadFigures], uploads: UploadFigures | None, jobs: list[tuple[int, float]]) -> None:
    print(f"\nsummary (targets from the issue); {load_average()}")
    for figures in reads:
        print(
            f"  {'PASS' if figures.passed else 'FAIL'} (a) {figures.concurrency} connections: "
            f"{figures.requests_per_s:.0f} req/s (target ≥ {READS_TARGET_RPS:.0f}), "
            f"p99 {figures.p99_ms:.1f} ms (target < {READS_TARGET_P99_MS:.0f})"
        )
    if uploads is not None:
        results = Counter(outcome.result for outcome in uploads.outcomes)
        print(
            f"  {'PASS' if uploads.passed else 'FAIL'} (b) {results['stored']} stored intact, {results['refused']} "
            f"refused with Retry-After, {results['failed']} failed otherwise, {len(uploads.lost)} lost, "
            f"{len(uploads.corrupted)} corrupted"
        )
    if jobs:
        speed_up = jobs[0][1] / jobs[-1][1]
        print(f"  ---- (c) no target: {speed_up:.2f}x the jobs/s with {jobs[-1][0]} Ray workers as with {jobs[0][0]}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parts = ["reads", "uploads", "jobs"]
    parser.add_argument("--parts", nargs="+", default=parts, choices=parts)
    parser.add_argument("--concurrency", type=int, nargs="+", default=[16, 64, 256])
    parser.add_argument("--duration-s", type=float, default=10.0)
    parser.add_argument("--server-workers", type=int, default=len(os.sched_getaffinity(0)))
    parser.add_argument("--client-processes", type=int, default=2, help="processes of the load client of (a)")
    parser.add_argument("--run", type=Path, default=None, help="run folder whose metrics are read")
    parser.add_argument("--uploads", type=int, default=100)
    parser.add_argument("--upload-users", type=int, default=10)
    parser.add_argument("--chunk-mib", type=int, default=2)
    parser.add_argument("--ray-workers", type=int, nargs="+", default=[1, 2, 4])
    parser.add_argument("--jobs", type=int, default=24)
    parser.add_argument("--job-seconds", type=float, default=0.5)
    args = parser.parse_args()
    print(f"this machine has {len(os.sched_getaffinity(0))} cores (client and server share them); {load_average()}")
    reads: list[ReadFigures] = []
    uploads: UploadFigures | None = None
    with tempfile.TemporaryDirectory(prefix="api-load-") as folder:
        if {"reads", "uploads"} & set(args.parts):
            reads, uploads = asyncio.run(served_parts(args, Path(folder)))
    jobs = jobs_part(args) if "jobs" in args.parts else []
    print_summary(reads, uploads, jobs)


if __name__ == "__main__":
    main()
