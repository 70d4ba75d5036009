"""Shared pytest fixtures for the whole test suite."""

from __future__ import annotations

import json
import os
import socket
from collections import Counter, defaultdict
from collections.abc import Callable, Generator
from pathlib import Path
from typing import Any

import pytest

from facecraft.config import Settings
from facecraft.pipeline.factory import build_pipeline
from facecraft.pipeline.portrait import PortraitPipeline

# --- Test photo set: tests/data/ (sources and licences in tests/data/README.md; -----------
# --- regenerate with scripts/make_test_photos.py). ------------------------------------------

DATA_DIR = Path(__file__).resolve().parent / "data"


@pytest.fixture(scope="session")
def data_dir() -> Path:
    """The folder holding the committed test photos and manifest.json."""
    return DATA_DIR


@pytest.fixture(scope="session")
def photo(data_dir: Path) -> Callable[[str], bytes]:
    """Factory: ``photo("astronaut.jpg")`` returns that file's bytes from tests/data/."""
    cache: dict[str, bytes] = {}

    def load(name: str) -> bytes:
        if name not in cache:
            path = data_dir / name
            if not path.is_file():
                raise FileNotFoundError(f"no test photo {name!r} in {data_dir}")
            cache[name] = path.read_bytes()
        return cache[name]

    return load


@pytest.fixture(scope="session")
def manifest(data_dir: Path) -> dict[str, dict[str, Any]]:
    """manifest.json's per-file entries: ``manifest["astronaut_rot15.jpg"]["rotation_degrees"]``.

    Each entry has faces (int, or None when the file is not a decodable image), rotation_degrees
    (counter-clockwise positive, PIL convention), exif_orientation, source, licence, size, notes.
    """
    doc = json.loads((data_dir / "manifest.json").read_text(encoding="utf-8"))
    files: dict[str, dict[str, Any]] = doc["files"]
    return files


# --- The real pipeline on the real bundled models (fetched by `make models`). ---------------

REPO_ROOT = Path(__file__).resolve().parent.parent
MODELS_DIR = REPO_ROOT / "models"


def free_port() -> int:
    """A TCP port on 127.0.0.1 that nothing listens on right now (for the servers the tests start)."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@pytest.fixture(scope="session")
def settings() -> Settings:
    return Settings(models_dir=MODELS_DIR, _env_file=None)


@pytest.fixture(scope="session")
def pipeline(settings: Settings) -> PortraitPipeline:
    return build_pipeline(settings)


# --- Skip policy: under CI a skip is a failure unless its reason is on this allow-list. -----------
# A test that cannot run where CI runs proves nothing there, and `-ra` only prints it. CI installs
# everything the suite drives (.ci/run: Redis, curl, Chromium, a Docker engine), so the one expected
# skip is hardware CI does not have. Add to this list only with the reason in docs/testing.md.

ALLOWED_SKIPS = {
    "needs an NVIDIA GPU": "CI machines have no GPU; the GPU image is checked where one exists",
}


def in_ci() -> bool:
    """CI=true (or 1, yes), as GitHub Actions and .ci/run set it."""
    return os.environ.get("CI", "").strip().lower() in {"1", "true", "yes"}


def allowed_skip(reason: str) -> bool:
    reason = reason.removeprefix("Skipped: ")
    return any(reason.startswith(prefix) for prefix in ALLOWED_SKIPS)


def _skip_reason(longrepr: Any) -> str:
    # A skip's longrepr is (path, line, "Skipped: reason").
    if isinstance(longrepr, tuple) and len(longrepr) == 3:
        return str(longrepr[2])
    return str(longrepr)


def _fail_disallowed_skip(report: pytest.TestReport | pytest.CollectReport) -> None:
    if not (report.skipped and in_ci()) or hasattr(report, "wasxfail"):
        return
    reason = _skip_reason(report.longrepr).removeprefix("Skipped: ")
    if allowed_skip(reason):
        return
    report.outcome = "failed"
    report.longrepr = (
        f"skipped under CI=true: {reason}\n"
        "CI installs everything the suite uses, so this skip hides an untested behaviour. Install what the "
        "reason names, or (only for hardware CI cannot have) add the reason to ALLOWED_SKIPS in tests/conftest.py."
    )


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo[None]) -> Generator[None, Any, None]:
    outcome = yield
    _fail_disallowed_skip(outcome.get_result())


@pytest.hookimpl(hookwrapper=True)
def pytest_make_collect_report(collector: pytest.Collector) -> Generator[None, Any, None]:
    outcome = yield
    _fail_disallowed_skip(outcome.get_result())


# --- Which groups ran: one line per tests/<group>/ at the end of every run. ---------------------


def _group(nodeid: str) -> str:
    parts = nodeid.split("::", maxsplit=1)[0].split("/")
    return parts[1] if len(parts) > 2 and parts[0] == "tests" else "(top level)"


def pytest_terminal_summary(terminalreporter: Any, exitstatus: int, config: pytest.Config) -> None:
    counts: dict[str, Counter[str]] = defaultdict(Counter)
    reasons: dict[str, set[str]] = defaultdict(set)
    for kind in ("passed", "failed", "skipped", "error"):
        for report in terminalreporter.stats.get(kind, []):
            nodeid = getattr(report, "nodeid", "")
            if not nodeid or (kind == "passed" and getattr(report, "when", "call") != "call"):
                continue
            counts[_group(nodeid)][kind] += 1
            if kind == "skipped":
                reasons[_group(nodeid)].add(_skip_reason(report.longrepr).removeprefix("Skipped: "))
    if not counts:
        return
    write = terminalreporter.write_line
    terminalreporter.section("test groups (tests/<group>/)", sep="-")
    groups = {p.name for p in Path(__file__).parent.iterdir() if p.is_dir() and any(p.glob("test_*.py"))}
    for group in sorted(groups | set(counts)):
        tally = counts[group]
        if not tally:
            write(f"{'NOT SELECTED':<12} {group}")
            continue
        ran = tally["passed"] + tally["failed"] + tally["error"]
        state = "RAN" if ran and not tally["skipped"] else "PARTLY RAN" if ran else "DID NOT RUN"
        detail = ", ".join(f"{n} {k}" for k, n in sorted(tally.items()) if n)
        write(f"{state:<12} {group:<12} {detail}")
        for reason in sorted(reasons[group]):
            write(f"{'':<12} {'':<12} skipped: {reason[:150]}")
    write(f"CI skip policy: {'on (a skip off ALLOWED_SKIPS fails)' if in_ci() else 'off (set CI=true to enforce)'}")
