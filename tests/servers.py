"""Real processes for the tests and the benchmarks: redis-server, `facecraft worker`s, uvicorn APIs.

Everything runs as its own process (in its own process group, so a test can SIGKILL it like the OOM
killer would). Queue mode needs Debian's redis-server (`apt-get install -y redis-server`).
`FAULTY_WORKER` is `facecraft worker` with the test faults of tests/fault_worker.py.
"""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import httpx
import redis
from tests.conftest import MODELS_DIR, REPO_ROOT, free_port

WORKER = [sys.executable, "-m", "facecraft.cli.main", "worker"]
FAULTY_WORKER = [sys.executable, "-m", "tests.fault_worker"]

REDIS_SERVER = shutil.which("redis-server")


class RedisServer:
    def __init__(self, root: Path, maxmemory: str = "256mb") -> None:
        self.maxmemory = maxmemory
        self.port = free_port()
        self.root = root
        self.proc: subprocess.Popen[bytes] | None = None
        self.url = f"redis://127.0.0.1:{self.port}/0"

    def start(self) -> None:
        assert REDIS_SERVER is not None
        args = [REDIS_SERVER, "--port", str(self.port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no"]
        args += ["--maxmemory", self.maxmemory, "--maxmemory-policy", "noeviction", "--dir", str(self.root)]
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
    )
    if redis_url:
        env["FACECRAFT_QUEUE_URL"] = redis_url
    env.update({f"FACECRAFT_{k.upper()}": str(v) for k, v in extra.items()})
    return env


class Proc:
    def __init__(self, args: list[str], env: dict[str, str], log: Path) -> None:
        self.log = log
        handle = log.open("wb")
        self.proc = subprocess.Popen(
            args, env=env, cwd=REPO_ROOT, stdout=handle, stderr=subprocess.STDOUT, start_new_session=True
        )
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
