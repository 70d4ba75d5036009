"""Real processes for the scale-out tests: redis-server, `facecraft worker`s and uvicorn API replicas.

Everything runs as its own process (workers in their own process group, so a test can SIGKILL one
like the OOM killer would). Needs Debian's redis-server (`apt-get install -y redis-server`).
"""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
import redis
from tests.conftest import MODELS_DIR, REPO_ROOT, free_port

REDIS_SERVER = shutil.which("redis-server")

# (A `pytestmark` here would do nothing: pytest reads it only from test modules. The tests that need
# Redis get it through the `cluster` fixture, which skips without redis-server; under CI=true that skip
# fails the run, see tests/conftest.py.)


class RedisServer:
    def __init__(self, root: Path) -> None:
        self.port = free_port()
        self.root = root
        self.proc: subprocess.Popen[bytes] | None = None
        self.url = f"redis://127.0.0.1:{self.port}/0"

    def start(self) -> None:
        assert REDIS_SERVER is not None
        args = [REDIS_SERVER, "--port", str(self.port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no"]
        args += ["--maxmemory", "256mb", "--maxmemory-policy", "noeviction", "--dir", str(self.root)]
        self.proc = subprocess.Popen(args, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        client = redis.Redis(port=self.port)
        deadline = time.monotonic() + 10
        while True:
            try:
                client.ping()
                return
            except redis.ConnectionError:
                if time.monotonic() > deadline:
                    raise
                time.sleep(0.05)

    def stop(self) -> None:
        if self.proc is not None:
            self.proc.terminate()
            self.proc.wait(timeout=10)
            self.proc = None

    def client(self, db: int) -> redis.Redis:
        return redis.Redis(port=self.port, db=db)


def base_env(redis_url: str | None, root: Path, **extra: Any) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("FACECRAFT_")}
    env.update(
        FACECRAFT_MODELS_DIR=str(MODELS_DIR),
        FACECRAFT_OUTPUT_DIR=str(root / "processed"),
        FACECRAFT_UPLOAD_DIR=str(root / "uploads"),
        FACECRAFT_LOG_LEVEL="INFO",
        FACECRAFT_INFERENCE_THREADS="1",
        FACECRAFT_QUEUE_HEARTBEAT_TIMEOUT_SECONDS="3",
        FACECRAFT_JOB_ATTEMPTS="2",
        FACECRAFT_TESTING="1",
    )
    if redis_url:
        env["FACECRAFT_QUEUE_URL"] = redis_url
    env.update({f"FACECRAFT_{k.upper()}": str(v) for k, v in extra.items()})
    return env


class Proc:
    def __init__(self, args: list[str], env: dict[str, str], log: Path) -> None:
        self.log = log
        handle = log.open("wb")
        self.proc = subprocess.Popen(args, env=env, stdout=handle, stderr=subprocess.STDOUT, start_new_session=True)
        handle.close()

    @property
    def pid(self) -> int:
        return self.proc.pid

    def alive(self) -> bool:
        return self.proc.poll() is None

    def kill(self) -> None:
        """SIGKILL the whole process group, as the OOM killer or a crashing native library would."""
        if self.alive():
            os.killpg(self.pid, signal.SIGKILL)
        self.proc.wait(timeout=10)

    def stop(self) -> None:
        if self.alive():
            os.killpg(self.pid, signal.SIGTERM)
            try:
                self.proc.wait(timeout=15)
            except subprocess.TimeoutExpired:
                self.kill()

    def tail(self) -> str:
        return self.log.read_text(errors="replace")[-3000:]


class Api(Proc):
    def __init__(self, env: dict[str, str], log: Path) -> None:
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        args = [sys.executable, "-m", "uvicorn", "facecraft.api.app:create_app", "--factory"]
        args += ["--host", "127.0.0.1", "--port", str(self.port), "--log-level", "warning"]
        super().__init__(args, env, log)

    def wait_up(self, path: str = "/health", timeout: float = 60) -> None:
        deadline = time.monotonic() + timeout
        while True:
            try:
                if httpx.get(self.url + path, timeout=2).status_code == 200:
                    return
            except httpx.HTTPError:
                pass
            if time.monotonic() > deadline or not self.alive():
                raise RuntimeError(f"API not up:\n{self.tail()}")
            time.sleep(0.1)

    def client(self) -> httpx.Client:
        return httpx.Client(base_url=self.url, timeout=60)


class Cluster:
    """One Redis, N workers, API replicas; `start_worker` stands in for a restart policy."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self.redis = RedisServer(root)
        self.workers: list[Proc] = []
        self.apis: list[Api] = []
        self.env_extra: dict[str, Any] = {}

    def start_worker(self) -> Proc:
        env = base_env(self.redis.url, self.root, **self.env_extra)
        log = self.root / f"worker{len(self.workers)}.log"
        worker = Proc([sys.executable, "-m", "facecraft.cli.main", "worker"], env, log)
        self.workers.append(worker)
        return worker

    def start_api(self, **settings: Any) -> Api:
        env = base_env(self.redis.url, self.root, role="api", **{**self.env_extra, **settings})
        api = Api(env, self.root / f"api{len(self.apis)}.log")
        self.apis.append(api)
        return api

    def workers_alive(self) -> int:
        return len(self.redis.client(1).keys("fc:worker:*"))

    def wait_workers(self, count: int, timeout: float = 90) -> None:
        deadline = time.monotonic() + timeout
        while self.workers_alive() < count:
            if time.monotonic() > deadline:
                logs = "\n".join(w.tail() for w in self.workers)
                raise RuntimeError(f"only {self.workers_alive()} of {count} workers came up:\n{logs}")
            time.sleep(0.2)

    def worker_by_name(self, name: str) -> Proc:
        pid = int(name.rsplit("-", 1)[1])
        return next(w for w in self.workers if w.pid == pid)

    def stop(self) -> None:
        for proc in [*self.apis, *self.workers]:
            proc.stop()
        self.redis.stop()


@pytest.fixture(scope="session")
def photo_bytes() -> Callable[[str], bytes]:
    return lambda name: (REPO_ROOT / "tests" / "data" / name).read_bytes()


@pytest.fixture(scope="module")
def cluster(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Cluster]:
    if REDIS_SERVER is None:
        pytest.skip("redis-server not installed (apt-get install redis-server)")
    cluster = Cluster(tmp_path_factory.mktemp("scale"))
    cluster.redis.start()
    try:
        yield cluster
    finally:
        cluster.stop()


# Small, quick jobs: the tests are about the plumbing, not the pixels.
FAST_FORM = {"matting": "fast", "width": "160", "height": "160", "enhance_photo": "false", "enhance_face": "false"}


def wait_job(
    client: httpx.Client, job_id: str, timeout: float = 60, until: tuple[str, ...] = ("done", "failed")
) -> Any:
    deadline = time.monotonic() + timeout
    while True:
        body = client.get(f"/api/v1/jobs/{job_id}").json()
        if body.get("status") in until:
            return body
        if time.monotonic() > deadline:
            raise AssertionError(f"job {job_id} stuck: {body}")
        time.sleep(0.1)
