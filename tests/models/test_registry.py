from __future__ import annotations

import re
from pathlib import Path, PurePosixPath

import pytest
from tests.conftest import REPO_ROOT

from facecraft.models.registry import (
    MEDIAPIPE_SOURCES,
    MODELS,
    Location,
    ModelSpec,
    get_model,
    model_path,
    package_dir,
    source_here,
)
from facecraft.models.verify import sha256_file

HEX64 = re.compile(r"[0-9a-f]{64}")


def test_names_are_unique() -> None:
    names = [spec.name for spec in MODELS]
    assert len(names) == len(set(names))


@pytest.mark.parametrize("spec", MODELS, ids=lambda s: s.name)
def test_every_entry_is_complete(spec: ModelSpec) -> None:
    assert HEX64.fullmatch(spec.sha256)
    assert spec.size_bytes > 0
    assert re.fullmatch(r"(npm:@?[\w./-]+@\d+\.\d+\.\d+|pypi:[\w.-]+==[\w.]+)", spec.source)
    assert spec.licence and spec.purpose
    path = PurePosixPath(spec.file)
    assert not path.is_absolute() and ".." not in path.parts
    if spec.location is Location.MODELS_DIR:
        assert len(path.parts) == 1, "fetched models live directly in the models dir"
        assert spec.upstream is not None
        assert HEX64.fullmatch(spec.upstream.archive_sha256)
        assert HEX64.fullmatch(spec.upstream.sha256)
        assert spec.upstream.size_bytes > 0


def test_isnet_pins_the_published_model() -> None:
    isnet = get_model("isnet")
    assert isnet.upstream is not None
    assert isnet.upstream.sha256 == "b6e8497ba978a6f5fbb647e419d2696cd80df5a23cb6a8ea532021911bd76acb"
    assert isnet.upstream.size_bytes == 88_188_479
    assert "MIT" in isnet.licence and "AGPL" in isnet.licence


@pytest.mark.parametrize("spec", [s for s in MODELS if s.location is Location.PACKAGE], ids=lambda s: s.name)
def test_package_models_match_the_installed_wheel(spec: ModelSpec, tmp_path: Path) -> None:
    assert package_dir() is not None, "mediapipe (requirements/mediapipe.lock) must be installed"
    path = model_path(spec, tmp_path)
    assert path is not None and path.is_file()
    assert path.stat().st_size == spec.size_bytes
    assert sha256_file(path) == spec.sha256


def test_unknown_model_name() -> None:
    with pytest.raises(KeyError):
        get_model("codeformer")


def test_mediapipe_lock_pins_one_version_per_platform() -> None:
    # The registry's sources and requirements/mediapipe.lock name the same versions, each under its
    # platform marker, each hash-pinned (pip skips the line whose marker does not match the machine).
    lock = (REPO_ROOT / "requirements" / "mediapipe.lock").read_text()
    pins = dict(re.findall(r"^mediapipe==([\d.]+) ; (platform_machine [!=]= \"aarch64\") \\$", lock, re.M))
    aarch64 = MEDIAPIPE_SOURCES["aarch64"].removeprefix("pypi:mediapipe==")
    default = get_model("face_detection_full_range").source.removeprefix("pypi:mediapipe==")
    assert pins == {default: 'platform_machine != "aarch64"', aarch64: 'platform_machine == "aarch64"'}
    blocks = re.split(r"^mediapipe==", lock, flags=re.M)[1:]
    assert len(blocks) == 2 and all(block.count("--hash=sha256:") >= 1 for block in blocks)


# onnxruntime-1.23.2-cp311-cp311-manylinux_2_27_aarch64.manylinux_2_28_aarch64.whl, fetched with `pip download
# --platform manylinux_2_28_aarch64 --only-binary=:all: --python-version 3.11 --no-deps onnxruntime==1.23.2` and
# hashed on 2026-11-29: the wheel the arm64 image installs (scripts/lock.sh checks every aarch64 line that way).
ONNXRUNTIME_AARCH64_CP311 = "bbfd2fca76c855317568c1b36a885ddea2272c13cb0e395002c402f2360429a6"


def _lock_blocks(text: str) -> dict[str, list[str]]:
    """`name==version[ ; marker]` -> the sha256 values listed under it."""
    blocks: dict[str, list[str]] = {}
    for block in re.split(r"^(?=[A-Za-z0-9._-]+==)", text, flags=re.M)[1:]:
        head = block.splitlines()[0].rstrip(" \\")
        blocks[head] = re.findall(r"--hash=sha256:([0-9a-f]{64})", block)
    return blocks


def test_runtime_lock_pins_one_onnxruntime_per_platform() -> None:
    # 1.32's aarch64 wheel dies on import under QEMU 7.2 (requirements/onnxruntime-aarch64.in): aarch64 gets the
    # version that file names, everything else runtime.in's; each hash-pinned, and marked so pip skips the other.
    blocks = _lock_blocks((REPO_ROOT / "requirements" / "runtime.lock").read_text())
    pinned = (REPO_ROOT / "requirements" / "onnxruntime-aarch64.in").read_text()
    aarch64 = re.findall(r"^onnxruntime==([\d.]+)$", pinned, re.M)
    assert aarch64 == ["1.23.2"]
    ort = {head: hashes for head, hashes in blocks.items() if head.startswith("onnxruntime==")}
    markers = sorted(head.partition(" ; ")[2] for head in ort)
    assert markers == ['platform_machine != "aarch64"', 'platform_machine == "aarch64"'], list(ort)
    assert all(ort.values())
    assert ONNXRUNTIME_AARCH64_CP311 in ort['onnxruntime==1.23.2 ; platform_machine == "aarch64"']
    # The aarch64-only lines (ONNX Runtime 1.23.2's own dependencies) carry hashes too, and on each platform
    # every package is pinned once.
    assert all(hashes for head, hashes in blocks.items() if 'platform_machine == "aarch64"' in head)
    for machine in ("x86_64", "aarch64"):
        skipped = 'platform_machine != "aarch64"' if machine == "aarch64" else 'platform_machine == "aarch64"'
        names = [head.split("==")[0] for head in blocks if skipped not in head]
        assert len(names) == len(set(names)), (machine, sorted(names))


def test_source_here_names_the_aarch64_mediapipe() -> None:
    detector = get_model("face_detection_full_range")
    assert source_here(detector, "aarch64") == "pypi:mediapipe==0.10.18"
    assert source_here(detector, "x86_64") == detector.source == "pypi:mediapipe==0.10.21"
    assert source_here(get_model("isnet"), "aarch64") == get_model("isnet").source
