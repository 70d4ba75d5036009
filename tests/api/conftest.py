"""Live Facecraft servers for the API tests: real uvicorn, real HTTP, real models, tmp dirs.

The models are loaded once per session (the shared `pipeline` fixture) and handed to each server
through `pipeline_factory`, so servers with different settings start in well under a second.
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
    return Settings(_env_file=None, **values)  # type: ignore[call-arg]


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


def snapshot(root: Path) -> dict[str, tuple[int, int]]:
    """Every file and folder under `root` with size and mtime, to prove a request changed nothing."""
    return {str(p.relative_to(root)): (p.stat().st_size, p.stat().st_mtime_ns) for p in sorted(root.rglob("*"))}
