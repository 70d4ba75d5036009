"""Faults: the server killed mid-batch, models corrupt or missing, the result disk full or read-only.

The kill test uses a real server process and SIGKILL. The model and disk tests use in-process servers
(fast to start). Each disk test runs twice: on a real 4 MB tmpfs mounted for the test (root only;
skipped where mounting is not permitted, which fails the run under CI=true: CI runs as root), and on
`FakeDisk`, which makes the store's writes and deletes raise ENOSPC/EROFS by patching `write_atomic` and
the store's `shutil.rmtree`, so the error paths, DELETE included, are covered on any machine.
"""

from __future__ import annotations

import contextlib
import errno
import io
import os
import shutil
import subprocess
import threading
import time
import zipfile
from collections.abc import Callable, Iterator
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import httpx
import pytest
from PIL import Image
from tests.api.conftest import LiveServer
from tests.hostile.serverproc import MODELS_DIR, ServerProcess

from facecraft.api.state import default_pipeline_factory
from facecraft.jobs import store as store_module

Photo = Callable[[str], bytes]
FAST = {"matting": "fast", "width": "128", "height": "128"}
QUALITY = {"matting": "quality", "width": "128", "height": "128"}  # runs ISNet, the model in memory
ISNET = "isnet-general-fp32-dynamic.onnx"
ISNET_INT8 = "isnet-general-int8-qdq-dynamic.onnx"  # the one a CPU server loads (FACECRAFT_MATTING_PRECISION=auto)


def decode_whole(data: bytes, fmt: str) -> None:
    """Raise unless `data` is a complete file of its format (a half-written one fails here)."""
    if fmt == "zip":
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            assert archive.testzip() is None
        return
    with Image.open(io.BytesIO(data)) as image:
        image.load()


# --- (a) SIGKILL during a batch, restart on the same folders ---------------------------------


@pytest.mark.slow
@pytest.mark.timeout(180)
def test_kill_9_mid_batch_then_restart_serves_only_whole_files(
    spawn_server: Callable[..., ServerProcess], tmp_path_factory: pytest.TempPathFactory, photo: Photo
) -> None:
    root = tmp_path_factory.mktemp("killed")
    server = spawn_server(root=root, max_concurrent_jobs=2, max_queued_jobs=8)
    with server.client() as http:
        done = http.post("/api/v1/process", data=FAST, files={"file": ("a.jpg", photo("astronaut.jpg"))}).json()
    names = ["astronaut.jpg", "grace_hopper.jpg", "person_a.jpg", "person_b.jpg", "person_c.jpg", "person_d.jpg"]
    files = [("files", (name, photo(name))) for name in names * 2]

    def batch() -> None:
        with contextlib.suppress(httpx.HTTPError):  # the server dies under it: expected
            httpx.post(f"{server.url}/api/v1/process/batch", data=FAST, files=files, timeout=120)

    sender = threading.Thread(target=batch)
    sender.start()
    deadline = time.monotonic() + 60
    while not list(server.output_dir.glob("*/items/*/result.png")) and time.monotonic() < deadline:
        time.sleep(0.01)
    server.kill()
    sender.join(30)
    assert list(server.output_dir.glob("*/items/*/result.png")), "the batch never stored an item before the kill"

    # What a kill during write_atomic leaves: a temp file beside the result, plus a stale upload.
    batch_dir = next(server.output_dir.glob("*/items")).parent
    (batch_dir / "items" / "99").mkdir(parents=True)
    (batch_dir / "items" / "99" / ".result.png.x1y2.part").write_bytes(photo("tiny_16x16.png")[:40])
    (server.output_dir / done["job_id"] / ".result.jpg.k9k9.part").write_bytes(b"\xff\xd8half")
    server.upload_dir.mkdir(exist_ok=True)
    (server.upload_dir / "stale-upload.jpg").write_bytes(b"x")
    assert len(list(server.output_dir.rglob("*.part"))) >= 2

    restarted = spawn_server(root=root, max_concurrent_jobs=2, max_queued_jobs=8)
    assert list(restarted.output_dir.rglob("*.part")) == []
    assert [p for p in restarted.upload_dir.iterdir()] == []
    served = 0
    with restarted.client() as http:
        for job_dir in restarted.output_dir.iterdir():
            info = http.get(f"/api/v1/jobs/{job_dir.name}")
            assert info.status_code in (200, 404), info.text
            if info.status_code == 404:
                continue
            body = info.json()
            downloads = [(f"/api/v1/download/{job_dir.name}/{fmt}", fmt) for fmt in body["formats"]]
            for index, formats in body["items"].items():
                downloads += [(f"/api/v1/download/{job_dir.name}/{index}/{fmt}", fmt) for fmt in formats]
            for url, fmt in downloads:
                response = http.get(url)
                assert response.status_code == 200, url
                decode_whole(response.content, fmt)
                served += 1
        # Every result file on disk is whole, served or not.
        for path in restarted.output_dir.rglob("result*.*"):
            decode_whole(path.read_bytes(), path.suffix.lstrip("."))
        # The job finished before the kill is intact.
        for fmt in ("png", "jpg"):
            response = http.get(f"/api/v1/download/{done['job_id']}/{fmt}")
            assert response.status_code == 200
            decode_whole(response.content, fmt)
        assert served >= 3
        again = http.post("/api/v1/process", data=FAST, files={"file": ("a.jpg", photo("astronaut.jpg"))})
        assert again.status_code == 200


# --- (b) models corrupt or missing ----------------------------------------------------------


def _wait_for_load_error(server: LiveServer) -> httpx.Response:
    deadline = time.monotonic() + 60
    while True:
        ready = httpx.get(server.url + "/ready")
        if ready.json().get("error", {}).get("code") == "model_unavailable" or time.monotonic() > deadline:
            return ready
        time.sleep(0.05)


@pytest.mark.timeout(120)
@pytest.mark.parametrize("damage", ["truncated", "missing"])
def test_server_started_with_bad_model_refuses_processing(
    start_server: Callable[..., LiveServer], tmp_path: Path, photo: Photo, damage: str
) -> None:
    models = tmp_path / "models"
    models.mkdir()
    if damage == "truncated":
        with (MODELS_DIR / ISNET).open("rb") as source:
            (models / ISNET).write_bytes(source.read(1 << 20))  # the first MB of 176: a broken copy
    server = start_server(models_dir=models, pipeline_factory=default_pipeline_factory, wait=False)
    ready = _wait_for_load_error(server)
    assert ready.status_code == 503
    reason = ready.json()["reason"]
    assert "isnet" in reason and ("checksum mismatch" if damage == "truncated" else "missing") in reason
    assert str(tmp_path) not in ready.text
    with server.client() as http:
        image = photo("astronaut.jpg")
        for path, files in (
            ("/api/v1/process", {"file": ("a.jpg", image)}),
            ("/api/v1/process/quick", {"file": ("a.jpg", image)}),
            ("/api/v1/process/batch", {"files": ("a.jpg", image)}),
        ):
            response = http.post(path, data=FAST, files=files)
            assert response.status_code == 503, (path, response.text)
            assert response.json()["error"]["code"] == "model_unavailable"
            assert int(response.headers["retry-after"]) >= 1
            assert str(tmp_path) not in response.text
        assert http.get("/health").status_code == 200


@pytest.mark.timeout(120)
def test_model_corrupted_while_running_keeps_serving_and_fails_ready(
    start_server: Callable[..., LiveServer], tmp_path: Path, photo: Photo
) -> None:
    """Decision: models are verified when loaded; the loaded copy in memory stays correct whatever
    happens to the file later, so requests keep being served, while /ready turns 503 so that an
    orchestrator replaces the instance before a restart would load the damaged file."""
    models = tmp_path / "models"
    models.mkdir()
    for name in (ISNET, ISNET_INT8):
        shutil.copyfile(MODELS_DIR / name, models / name)
    server = start_server(models_dir=models)
    with (models / ISNET_INT8).open("r+b") as handle:
        handle.seek(4096)
        original = handle.read(64)
        handle.seek(4096)
        handle.write(b"\x00" * 64)
    with server.client() as http:
        ready = http.get("/ready")
        assert ready.status_code == 503 and "isnet_int8: checksum mismatch" in ready.json()["reason"]
        response = http.post("/api/v1/process", data=QUALITY, files={"file": ("a.jpg", photo("astronaut.jpg"))})
        assert response.status_code == 200
        with (models / ISNET_INT8).open("r+b") as handle:
            handle.seek(4096)
            handle.write(original)
        assert http.get("/ready").status_code == 200


# --- (c) the result disk full or read-only --------------------------------------------------


class TmpfsDisk:
    """A real 4 MB tmpfs: filled with a file until ENOSPC, remounted read-only."""

    kind = "tmpfs"

    def __init__(self, mount_point: Path) -> None:
        self.mount_point = mount_point
        self.filler = mount_point / "filler"

    def fill(self) -> None:
        fd = os.open(self.filler, os.O_WRONLY | os.O_CREAT | os.O_APPEND)
        try:
            for block in (65536, 4096, 1):  # big blocks first, then whatever a partly used page holds
                with contextlib.suppress(OSError):
                    while True:
                        os.write(fd, b"\x00" * block)
        finally:
            os.close(fd)

    def free(self) -> None:
        self.filler.unlink()

    def read_only(self) -> None:
        subprocess.run(["mount", "-o", "remount,ro", str(self.mount_point)], check=True)

    def writable(self) -> None:
        subprocess.run(["mount", "-o", "remount,rw", str(self.mount_point)], check=True)


class FakeDisk:
    """FAKE: the store's writes raise the error a full or read-only disk would give (no real disk)."""

    kind = "fake"

    def __init__(self, mount_point: Path, monkeypatch: pytest.MonkeyPatch) -> None:
        self.mount_point = mount_point
        self.monkeypatch = monkeypatch

    def _fail_with(self, code: int) -> None:
        def failing_write(target: Path, data: bytes) -> None:
            raise OSError(code, "fake disk failure", str(target))

        def failing_rmtree(path: Path, ignore_errors: bool = False, **_kwargs: Any) -> None:
            # The store's own best-effort cleanup (ignore_errors) undoes what the fake let it create;
            # a DELETE (errors raised) meets the read-only disk.
            if not ignore_errors:
                raise OSError(code, "fake disk failure", str(path))
            shutil.rmtree(path, ignore_errors=True)

        self.monkeypatch.setattr(store_module, "write_atomic", failing_write)
        if code == errno.EROFS:
            # The store's own view of shutil, not the module (pytest's tmp_path cleanup uses that).
            self.monkeypatch.setattr(store_module, "shutil", SimpleNamespace(rmtree=failing_rmtree))

    def fill(self) -> None:
        self._fail_with(errno.ENOSPC)

    def read_only(self) -> None:
        self._fail_with(errno.EROFS)

    def free(self) -> None:
        self.monkeypatch.undo()

    writable = free


@pytest.fixture(params=["tmpfs", "fake"])
def disk(request: pytest.FixtureRequest, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Any]:
    """The real tmpfs where it can be mounted (skipped elsewhere), and the fake everywhere."""
    mount_point = tmp_path / "disk"
    mount_point.mkdir()
    if request.param == "fake":
        yield FakeDisk(mount_point, monkeypatch)
        return
    mounted = subprocess.run(
        ["mount", "-t", "tmpfs", "-o", "size=4m", "tmpfs", str(mount_point)], capture_output=True, check=False
    )
    if mounted.returncode != 0:
        pytest.skip(f"cannot mount a tmpfs here ({mounted.stderr.decode(errors='replace').strip()}); the fake ran")
    try:
        yield TmpfsDisk(mount_point)
    finally:
        subprocess.run(["umount", "-l", str(mount_point)], check=False)


def _post(http: httpx.Client, photo: Photo, path: str = "/api/v1/process") -> httpx.Response:
    key = "files" if path.endswith("batch") else "file"
    return http.post(path, data=FAST, files={key: ("a.jpg", photo("astronaut.jpg"))})


def _job_dirs(output: Path) -> set[str]:
    return {p.name for p in output.iterdir()}


@pytest.mark.timeout(120)
def test_full_disk_gives_storage_full_and_recovers(
    start_server: Callable[..., LiveServer], disk: Any, tmp_path: Path, photo: Photo
) -> None:
    output = disk.mount_point / "processed"
    server = start_server(root=tmp_path / "server", output_dir=output)
    with server.client() as http:
        before = _post(http, photo)
        assert before.status_code == 200
        jobs = _job_dirs(output)
        disk.fill()
        for path in ("/api/v1/process", "/api/v1/process/batch"):
            full = _post(http, photo, path)
            assert full.status_code == 507, (path, full.text)
            assert full.json()["error"]["code"] == "storage_full"
            assert int(full.headers["retry-after"]) >= 1
            assert str(disk.mount_point) not in full.text
        assert _job_dirs(output) == jobs, "a failed write left a job folder behind"
        assert list(output.rglob("*.part")) == []
        assert _post(http, photo, "/api/v1/process/quick").status_code == 200  # stores nothing: unaffected
        assert http.get(before.json()["png_url"]).status_code == 200  # reads still work
        assert http.get("/health").status_code == 200
        disk.free()
        after = _post(http, photo)
        assert after.status_code == 200
        assert http.get(after.json()["jpg_url"]).status_code == 200


@pytest.mark.timeout(120)
def test_read_only_disk_gives_storage_unavailable_and_recovers(
    start_server: Callable[..., LiveServer], disk: Any, tmp_path: Path, photo: Photo
) -> None:
    output = disk.mount_point / "processed"
    server = start_server(root=tmp_path / "server", output_dir=output)
    with server.client() as http:
        kept = _post(http, photo).json()
        jobs = _job_dirs(output)
        disk.read_only()
        refused = _post(http, photo)
        assert refused.status_code == 503, refused.text
        assert refused.json()["error"]["code"] == "storage_unavailable"
        assert int(refused.headers["retry-after"]) >= 1
        # DELETE must not answer "deleted" while the files stay (both disks: the fake fails rmtree too).
        gone = http.delete(f"/api/v1/jobs/{kept['job_id']}")
        assert gone.status_code == 503 and gone.json()["error"]["code"] == "storage_unavailable"
        assert http.get(kept["png_url"]).status_code == 200
        assert _job_dirs(output) == jobs
        assert http.get("/health").status_code == 200
        disk.writable()
        assert _post(http, photo).status_code == 200
        assert http.delete(f"/api/v1/jobs/{kept['job_id']}").status_code == 200
        assert http.get(kept["png_url"]).status_code == 404
