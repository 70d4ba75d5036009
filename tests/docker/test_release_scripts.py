"""Dry runs of the release tooling: which tags are pushed, and what refuses to run.

These need no Docker engine and no network: the scripts only print in --dry-run mode.
"""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
RELEASE = ROOT / "scripts" / "release.sh"
SYNC = ROOT / "scripts" / "sync-hub-readme.sh"

pytestmark = pytest.mark.skipif(shutil.which("bash") is None, reason="needs bash")


def _clean_env() -> dict[str, str]:
    # scripts/docker-ci.sh exports DOCKER (the CLI it picked); the expected output names plain `docker`.
    drop = {"DOCKER", "REPO", "README", "HUB_API_URL", "DOCKERHUB_USERNAME", "DOCKERHUB_TOKEN", "BASE_IMAGE"}
    drop |= {"REVISION", "CREATED", "CPU_PLATFORMS", "GPU_PLATFORMS"}
    return {key: value for key, value in os.environ.items() if key not in drop}


def _run(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [str(a) for a in args],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
        env={**_clean_env(), **(env or {})},
        cwd=ROOT,
    )


FIXED = {"REVISION": "0123abc", "CREATED": "2026-01-02T03:04:05Z"}


def test_release_dry_run_prints_the_multi_arch_plan() -> None:
    done = _run(RELEASE, "1.2.3", "--dry-run", env=FIXED)
    assert done.returncode == 0, done.stderr
    common = (
        "-f docker/Dockerfile --build-arg VERSION=1.2.3 --build-arg REVISION=0123abc "
        "--build-arg CREATED=2026-01-02T03:04:05Z"
    )
    assert done.stdout.splitlines() == [
        f"docker buildx build --platform linux/amd64,linux/arm64 {common} --build-arg DEVICE=cpu "
        "-t djok/facecraft:1.2.3-cpu -t djok/facecraft:cpu -t djok/facecraft:latest --push .",
        f"docker buildx build --platform linux/amd64 {common} --build-arg DEVICE=gpu "
        "-t djok/facecraft:1.2.3-gpu -t djok/facecraft:gpu --push .",
        "docker buildx imagetools inspect djok/facecraft:1.2.3-cpu",
        "docker buildx imagetools inspect djok/facecraft:1.2.3-gpu",
    ]


def test_release_tags_are_what_the_workflow_smoke_tests() -> None:
    done = _run(RELEASE, "1.2.3", "--tags")
    assert done.returncode == 0, done.stderr
    assert done.stdout.splitlines() == [
        "djok/facecraft:1.2.3-cpu",
        "djok/facecraft:cpu",
        "djok/facecraft:latest",
        "djok/facecraft:1.2.3-gpu",
        "djok/facecraft:gpu",
    ]


def test_release_dry_run_pins_the_base_image_when_asked() -> None:
    base = "python:3.11-slim@sha256:" + "0" * 64
    done = _run(RELEASE, "1.2.3", "--dry-run", env={**FIXED, "BASE_IMAGE": base})
    assert done.returncode == 0, done.stderr
    builds = [line for line in done.stdout.splitlines() if " buildx build " in line]
    assert len(builds) == 2
    assert all(f"--build-arg BASE_IMAGE={base} " in line for line in builds)


def test_release_dry_run_honours_repo() -> None:
    done = _run(RELEASE, "2.0.0-rc.1", "--dry-run", env={"REPO": "example/fc"})
    assert done.returncode == 0, done.stderr
    assert "-t example/fc:2.0.0-rc.1-gpu -t example/fc:gpu --push ." in done.stdout


@pytest.mark.parametrize("version", ["v1.2.3", "1.2", "1.2.3.4", "latest", "1.2.3-beta"])
def test_release_refuses_malformed_version(version: str) -> None:
    done = _run(RELEASE, version)
    assert done.returncode != 0
    assert "malformed version" in done.stderr
    assert "buildx" not in done.stdout


def test_release_dry_run_reports_malformed_version_but_prints() -> None:
    done = _run(RELEASE, "v1", "--dry-run")
    assert done.returncode == 0
    assert "malformed version" in done.stderr
    assert "-t djok/facecraft:v1-cpu" in done.stdout


def test_release_refuses_dirty_tree(tmp_path: Path) -> None:
    # A throw-away clone of the scripts with an uncommitted file: the real check, no mocking.
    repo = tmp_path / "repo"
    (repo / "scripts").mkdir(parents=True)
    (repo / "src" / "facecraft").mkdir(parents=True)
    shutil.copy(RELEASE, repo / "scripts" / "release.sh")
    (repo / "src" / "facecraft" / "__init__.py").write_text('__version__ = "1.0.0"\n')
    git = {"GIT_AUTHOR_NAME": "t", "GIT_AUTHOR_EMAIL": "t@t", "GIT_COMMITTER_NAME": "t", "GIT_COMMITTER_EMAIL": "t@t"}
    for command in (["git", "init", "-q"], ["git", "add", "."], ["git", "commit", "-qm", "init"]):
        subprocess.run(command, cwd=repo, check=True, env={**os.environ, **git}, capture_output=True)
    (repo / "dirty.txt").write_text("x")
    done = subprocess.run(
        ["bash", "scripts/release.sh", "1.0.0"],
        cwd=repo,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
        env={**os.environ, "DOCKER": "false"},
    )
    assert done.returncode == 1
    assert "not clean" in done.stderr
    assert "refusing" in done.stderr


@pytest.fixture
def small_readme(tmp_path: Path) -> Path:
    readme = tmp_path / "README.md"
    readme.write_text("# Facecraft\n" + "text\n" * 100)
    return readme


def test_sync_readme_dry_run_validates_size(small_readme: Path) -> None:
    done = _run(SYNC, "--dry-run", env={"HUB_API_URL": "http://hub.invalid/v2", "README": str(small_readme)})
    assert done.returncode == 0, done.stderr
    size = small_readme.stat().st_size
    assert done.stdout.strip() == (
        f"would PATCH http://hub.invalid/v2/repositories/djok/facecraft/ with full_description from {small_readme} "
        f"({size} bytes, limit 25000)"
    )


def test_sync_readme_rejects_oversized_readme(tmp_path: Path) -> None:
    big = tmp_path / "README.md"
    big.write_text("x" * 25_000)
    done = _run(SYNC, "--dry-run", env={"README": str(big)})
    assert done.returncode == 1
    assert "limit is 25000" in done.stderr


def test_sync_readme_needs_api_url_and_credentials(small_readme: Path) -> None:
    done = _run(SYNC, env={"README": str(small_readme)})
    assert done.returncode != 0
    assert "HUB_API_URL" in done.stderr


def test_repository_readme_fits_the_hub_description() -> None:
    # PUBL-03: the README is the Hub description, which the Hub caps at 25000 bytes.
    done = _run(SYNC, "--dry-run")
    assert done.returncode == 0, done.stderr


def test_sync_readme_leaves_out_hub_skip_sections(tmp_path: Path) -> None:
    readme = tmp_path / "README.md"
    kept = "# Facecraft\nfor users\n"
    readme.write_text(kept + "<!-- hub:skip -->\n## Development\n" + "x" * 30_000 + "\n<!-- /hub:skip -->\nend\n")
    done = _run(SYNC, "--dry-run", env={"README": str(readme)})
    assert done.returncode == 0, done.stderr
    size = len(kept) + len("end\n")
    assert f"({size} bytes, limit 25000)" in done.stdout


def test_sync_readme_rejects_unbalanced_hub_skip(tmp_path: Path) -> None:
    readme = tmp_path / "README.md"
    readme.write_text("# Facecraft\n<!-- hub:skip -->\nno end marker\n")
    done = _run(SYNC, "--dry-run", env={"README": str(readme)})
    assert done.returncode != 0
    assert "unbalanced" in done.stderr
