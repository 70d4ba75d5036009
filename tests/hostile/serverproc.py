"""A Facecraft server in its own process, for what an in-process server cannot show.

The hostile, load and fault tests need a process of its own: to kill it with SIGKILL, to read its
peak RSS (VmHWM) and its open file descriptors from /proc, and to give it a private TMPDIR so any
temp file Starlette spools (big multipart parts roll over to disk) is seen and attributed to it.
Used by tests/hostile and by benchmarks/load_bench.py.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import httpx
from tests.conftest import MODELS_DIR, free_port


class ServerProcess:
    """`uvicorn facecraft.api.app:create_app --factory` with dirs under `root` and FACECRAFT_* `env`; with `cli`,
    `facecraft serve` instead (what a user starts without Docker: it also bounds the heap arenas, runtime/memory.py).
    """

    def __init__(self, root: Path, *, cli: bool = False, **env: Any) -> None:
        self.root = root
        self.cli = cli
        self.upload_dir = root / "uploads"
        self.output_dir = root / "processed"
        self.tmp_dir = root / "tmp"
        self.env = {
            "FACECRAFT_MODELS_DIR": str(MODELS_DIR),
            "FACECRAFT_UPLOAD_DIR": str(self.upload_dir),
            "FACECRAFT_OUTPUT_DIR": str(self.output_dir),
            "FACECRAFT_LOG_LEVEL": "WARNING",
            **{f"FACECRAFT_{key.upper()}": str(value) for key, value in env.items()},
        }
        self.port = 0
        self.url = ""
        self.process: subprocess.Popen[bytes] | None = None
        self.log_path = root / "server.log"

    @property
    def pid(self) -> int:
        assert self.process is not None
        return self.process.pid

    def start(self, ready_timeout: float = 120, wait_ready: bool = True) -> ServerProcess:
        self.tmp_dir.mkdir(parents=True, exist_ok=True)
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        environ = {k: v for k, v in os.environ.items() if not k.startswith("FACECRAFT_")}
        # TMPDIR: Python's tempfile (and so Starlette's spooled uploads) writes only here.
        environ.update(self.env, TMPDIR=str(self.tmp_dir), PYTHONUNBUFFERED="1")
        if self.cli:
            program = ["facecraft.cli.main", "serve"]  # log level from FACECRAFT_LOG_LEVEL
        else:
            program = ["uvicorn", "facecraft.api.app:create_app", "--factory", "--log-level", "warning"]
        command = [sys.executable, "-m", *program, "--host", "127.0.0.1", "--port", str(self.port)]
        log = self.log_path.open("ab")
        self.process = subprocess.Popen(command, env=environ, cwd=self.root, stdout=log, stderr=subprocess.STDOUT)
        log.close()
        self.wait_until("/health", 200, timeout=60)
        if wait_ready:
            self.wait_until("/ready", 200, timeout=ready_timeout)
        return self

    def wait_until(self, path: str, status: int, timeout: float) -> httpx.Response:
        deadline = time.monotonic() + timeout
        while True:
            if not self.alive():
                raise RuntimeError(f"server exited ({self.process and self.process.returncode}): {self.log_tail()}")
            try:
                response = httpx.get(self.url + path, timeout=5)
                if response.status_code == status:
                    return response
            except httpx.TransportError:
                pass
            if time.monotonic() > deadline:
                raise RuntimeError(f"{path} never answered {status}: {self.log_tail()}")
            time.sleep(0.05)

    def client(self, **kwargs: Any) -> httpx.Client:
        kwargs.setdefault("timeout", 60)
        return httpx.Client(base_url=self.url, **kwargs)

    def alive(self) -> bool:
        return self.process is not None and self.process.poll() is None

    def peak_rss_mb(self) -> float:
        """VmHWM: the most resident memory the server process has ever held."""
        for line in Path(f"/proc/{self.pid}/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
        raise RuntimeError("no VmHWM")

    def open_files(self) -> list[str]:
        """Targets of the server's descriptors that are files (sockets, pipes, anon inodes left out)."""
        targets = []
        fd_dir = Path(f"/proc/{self.pid}/fd")
        for fd in fd_dir.iterdir():
            try:
                target = os.readlink(fd)
            except OSError:
                continue  # closed while listing
            if target.startswith("/") and not target.startswith("/dev/"):
                targets.append(target)
        return sorted(targets)

    def kill(self) -> None:
        """SIGKILL: no shutdown hook runs, exactly like an OOM kill or a power cut."""
        if self.alive():
            assert self.process is not None
            self.process.send_signal(signal.SIGKILL)
            self.process.wait(30)

    def stop(self) -> None:
        if self.alive():
            assert self.process is not None
            self.process.terminate()
            try:
                self.process.wait(60)
            except subprocess.TimeoutExpired:
                self.kill()

    def log_tail(self, chars: int = 3000) -> str:
        try:
            return self.log_path.read_text(errors="replace")[-chars:]
        except OSError:
            return ""


def files_under(*roots: Path) -> set[str]:
    """Every file (not folder) below the roots, as absolute path strings.

    os.walk, not Path.rglob: the server's cleaner may delete a folder while it is being listed, and rglob
    then raises FileNotFoundError where os.walk skips what has gone."""
    found: set[str] = set()
    for root in roots:
        for folder, _dirs, names in os.walk(root):
            found |= {os.path.join(folder, name) for name in names}
    return found
