"""Fixtures for the hostile-input, load and fault suite (servers in their own processes)."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from tests.api.conftest import start_server  # noqa: F401  (in-process servers for the storage faults)
from tests.hostile.serverproc import ServerProcess

ARTIFACTS = Path(__file__).resolve().parents[1] / "artifacts"


@pytest.fixture(scope="session")
def spawn_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Callable[..., ServerProcess]]:
    """Factory: spawn_server(root=None, wait_ready=True, **FACECRAFT settings) -> a started ServerProcess."""
    started: list[ServerProcess] = []

    def spawn(*, root: Path | None = None, wait_ready: bool = True, **env: Any) -> ServerProcess:
        server = ServerProcess(root or tmp_path_factory.mktemp("proc"), **env)
        started.append(server)
        return server.start(wait_ready=wait_ready)

    yield spawn
    for server in started:
        server.stop()
