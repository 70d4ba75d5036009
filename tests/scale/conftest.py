"""The scale-out tests' cluster: one redis-server, `facecraft worker`s and uvicorn API replicas (tests/servers.py)."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from tests.conftest import REPO_ROOT
from tests.servers import FAULTY_WORKER, REDIS_SERVER, Api, Proc, RedisServer, base_env

# (A `pytestmark` here would do nothing: pytest reads it only from test modules. The tests that need
# Redis get it through the `cluster` fixture, which skips without redis-server; under CI=true that skip
# fails the run, see tests/conftest.py.)


class Cluster:
    """One Redis, N workers, API replicas; `start_worker` stands in for a restart policy."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self.redis = RedisServer(root)
        self.workers: list[Proc] = []
        self.apis: list[Api] = []
        self.env_extra: dict[str, Any] = {}
        self.faults: dict[str, str] = {}  # FAULT_* variables for tests/fault_worker.py

    def start_worker(self) -> Proc:
        env = {**base_env(self.redis.url, self.root, **self.env_extra), **self.faults}
        log = self.root / f"worker{len(self.workers)}.log"
        worker = Proc(FAULTY_WORKER, env, log)
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
