"""Live Facecraft servers for the API tests: real uvicorn, real HTTP, real models, tmp dirs.

The models are loaded once per session (the shared `pipeline` fixture) and handed to each server
through `pipeline_factory`, so servers with different settings start in well under a second.

`backend` runs a test against both ways the API can work: `embedded` (the server's own pool) and
`queue` (an API in queue mode, a real redis-server and one `facecraft worker` process that loads its
own models once per session). Tests take it wherever the answer must be the same in both modes.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
import uvicorn
from tests.conftest import MODELS_DIR, free_port
from tests.servers import REDIS_SERVER, WORKER, Proc, RedisServer, base_env

from facecraft.api.app import create_app
from facecraft.config import Settings


class LiveServer:
    def __init__(self, settings: Settings, pipeline_factory: Callable[[Settings], Any] | None) -> None:
        self.settings = settings
        self.app = create_app(settings, pipeline_factory=pipeline_factory)
        self.port = free_port()
        config = uvicorn.Config(self.app, host="127.0.0.1", port=self.port, log_level="warning", lifespan="on")
        self.server = uvicorn.Server(config)
        self.thread = threading.Thread(target=self.server.run, daemon=True)
        self.url = f"http://127.0.0.1:{self.port}"

    def start(self) -> LiveServer:
        self.thread.start()
        deadline = time.monotonic() + 30
        while not self.server.started:
            if time.monotonic() > deadline:
                raise RuntimeError("server did not start")
            time.sleep(0.02)
        return self

    def wait_ready(self, timeout: float = 60) -> None:
        deadline = time.monotonic() + timeout
        while httpx.get(f"{self.url}/ready").status_code != 200:
            if time.monotonic() > deadline:
                raise RuntimeError("server not ready")
            time.sleep(0.05)

    def client(self, **kwargs: Any) -> httpx.Client:
        return httpx.Client(base_url=self.url, timeout=120, **kwargs)

    def stop(self) -> None:
        self.server.should_exit = True
        self.thread.join(timeout=60)


def make_settings(root: Path, **overrides: Any) -> Settings:
    values: dict[str, Any] = {
        "upload_dir": root / "uploads",
        "output_dir": root / "processed",
        "models_dir": MODELS_DIR,
        "log_level": "WARNING",
    }
    values.update(overrides)
    return Settings(_env_file=None, **values)


@pytest.fixture(scope="session")
def start_server(pipeline: Any, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Callable[..., LiveServer]]:
    """Factory: start_server(**settings overrides, pipeline_factory=...) -> a started LiveServer."""
    servers: list[LiveServer] = []

    def start(
        *, pipeline_factory: Callable[[Settings], Any] | None = None, wait: bool = True, **overrides: Any
    ) -> LiveServer:
        root = overrides.pop("root", None) or tmp_path_factory.mktemp("server")
        factory = pipeline_factory or (lambda _settings: pipeline)
        server = LiveServer(make_settings(root, **overrides), factory).start()
        servers.append(server)
        if wait:
            server.wait_ready()
        return server

    yield start
    for server in servers:
        server.stop()


@pytest.fixture(scope="session")
def server(start_server: Callable[..., LiveServer]) -> LiveServer:
    """The default server: no API key, CORS '*', default limits."""
    return start_server()


@pytest.fixture(scope="session")
def client(server: LiveServer) -> Iterator[httpx.Client]:
    with server.client() as http:
        yield http


@pytest.fixture(scope="session")
def queue_server(
    start_server: Callable[..., LiveServer], tmp_path_factory: pytest.TempPathFactory
) -> Iterator[LiveServer]:
    """An API in queue mode (no models of its own) with one worker behind it."""
    if REDIS_SERVER is None:
        pytest.skip("redis-server not installed (apt-get install redis-server)")
    root = tmp_path_factory.mktemp("queue")
    redis_server = RedisServer(root)
    redis_server.start()
    worker = Proc(WORKER, base_env(redis_server.url, root, log_level="WARNING"), root / "worker.log")
    try:
        server = start_server(root=root, queue_url=redis_server.url, role="api", job_timeout_seconds=60)
        deadline = time.monotonic() + 120
        while not redis_server.client(1).keys("fc:worker:*"):  # the worker's heartbeat: models loaded
            if time.monotonic() > deadline or not worker.alive():
                raise RuntimeError(f"the queue worker did not come up:\n{worker.tail()}")
            time.sleep(0.2)
        yield server
    finally:
        worker.stop()
        redis_server.stop()


@pytest.fixture(scope="session", params=["embedded", "queue"])
def backend(request: pytest.FixtureRequest) -> LiveServer:
    """The default server in each mode; see the module docstring."""
    server: LiveServer = request.getfixturevalue("server" if request.param == "embedded" else "queue_server")
    return server


@pytest.fixture(scope="session")
def backend_client(backend: LiveServer) -> Iterator[httpx.Client]:
    with backend.client() as http:
        yield http


def snapshot(root: Path) -> dict[str, tuple[int, int]]:
    """Every file and folder under `root` with size and mtime, to prove a request changed nothing."""
    return {str(p.relative_to(root)): (p.stat().st_size, p.stat().st_mtime_ns) for p in sorted(root.rglob("*"))}
