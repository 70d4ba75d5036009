"""The compose `scale` profile, read as YAML: what CI's `scale` step exercises live, checked cheaply.

No Docker engine needed; scripts/docker-ci.sh (step `scale`) starts it for real.
"""

from __future__ import annotations

import ast
import importlib
from pathlib import Path
from typing import Any

import yaml  # PyYAML, pinned in requirements/dev.lock: an import error is a broken venv, not a skip

ROOT = Path(__file__).resolve().parents[2]


def _services() -> dict[str, Any]:
    services: dict[str, Any] = yaml.safe_load((ROOT / "docker-compose.yml").read_text())["services"]
    return services


def test_scale_profile_has_redis_api_and_worker() -> None:
    scale = {name for name, svc in _services().items() if "scale" in svc.get("profiles", [])}
    assert scale == {"redis", "api", "worker"}


def test_queue_settings_and_roles() -> None:
    services = _services()
    for name, role in (("api", "api"), ("worker", "worker")):
        env = services[name]["environment"]
        assert env["FACECRAFT_QUEUE_URL"] == "redis://redis:6379/0"
        assert env["FACECRAFT_ROLE"] == role
        assert env["FACECRAFT_CLEANUP_AGE_HOURS"] == "24"  # the rest of the settings are inherited
        assert services[name]["depends_on"]["redis"]["condition"] == "service_healthy"
    redis = services["redis"]
    command = redis["command"]
    for option, value in (("--appendonly", "yes"), ("--maxmemory-policy", "noeviction")):
        assert command[command.index(option) + 1] == value
    assert any(v.endswith(":/data") for v in redis["volumes"])


def test_worker_publishes_no_port_and_has_its_own_healthcheck() -> None:
    services = _services()
    worker = services["worker"]
    assert worker["ports"] == []
    assert services["api"]["ports"] == ["8000:8000"]
    # The image's HEALTHCHECK probes /ready, which a worker does not serve: compose must replace it.
    assert "fc:worker:" in " ".join(worker["healthcheck"]["test"])


def test_scale_services_are_hardened() -> None:
    services = _services()
    for name in ("redis", "api", "worker"):
        svc = services[name]
        assert svc["read_only"] is True, name
        assert svc["cap_drop"] == ["ALL"], name
        assert "no-new-privileges:true" in svc["security_opt"], name
        assert not str(svc["user"]).startswith("0"), name


def test_python_healthchecks_import_what_exists() -> None:
    """A healthcheck that runs `python -c` must import names the package still has: a module moved by a refactor
    would otherwise leave every worker container unhealthy, which only the live `scale` step would notice."""
    checked = 0
    for name, svc in _services().items():
        test = (svc.get("healthcheck") or {}).get("test") or []
        if test[1:3] != ["python", "-c"]:
            continue
        tree = ast.parse(test[3])
        for node in ast.walk(tree):
            if isinstance(node, ast.ImportFrom) and node.module and node.module.startswith("facecraft"):
                module = importlib.import_module(node.module)
                for alias in node.names:
                    assert hasattr(module, alias.name), f"{name}: {node.module} has no {alias.name}"
                checked += 1
    assert checked, "no python healthcheck imports facecraft: the worker's check changed, update this test"
