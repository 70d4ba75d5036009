"""The `facecraft` command line, run as a real subprocess on real photos."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

from PIL import Image
from tests.conftest import MODELS_DIR


def facecraft(*args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "FACECRAFT_MODELS_DIR": str(MODELS_DIR)}
    return subprocess.run(
        [sys.executable, "-m", "facecraft.cli.main", *args],
        cwd=cwd,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )


def test_process_many_reports_failures_and_keeps_going(tmp_path: Path, data_dir: Path) -> None:
    photos = tmp_path / "in"
    photos.mkdir()
    for name in ("astronaut.jpg", "coffee.jpg", "grace_hopper.jpg"):
        shutil.copy(data_dir / name, photos / name)
    shutil.copy(data_dir / "astronaut.jpg", tmp_path / "grace_hopper.png")  # same stem as a photo in the folder
    out = tmp_path / "out"
    result = facecraft(
        "process",
        str(photos),
        str(tmp_path / "grace_hopper.png"),
        "-o",
        str(out),
        "--size",
        "200",
        "--matting",
        "fast",
        cwd=tmp_path,
    )
    assert result.returncode == 1, result.stderr
    assert "FAILED" in result.stderr and "coffee.jpg: no_face" in result.stderr
    assert "3 processed, 1 failed" in result.stderr
    written = sorted(path.name for path in out.iterdir())
    assert written == ["astronaut.png", "grace_hopper-2.png", "grace_hopper.png"]
    with Image.open(out / "astronaut.png") as image:
        assert (image.size, image.mode) == ((200, 200), "RGBA")
    assert not list(out.glob(".*.part")), "no temporary files are left behind"


def test_process_success_exits_zero_with_options_and_preset(tmp_path: Path, data_dir: Path) -> None:
    result = facecraft(
        "process", str(data_dir / "grace_hopper.jpg"), "-o", str(tmp_path), "--preset", "passport", cwd=tmp_path
    )
    assert result.returncode == 0, result.stderr
    jpeg = tmp_path / "grace_hopper.jpg"
    assert jpeg.stat().st_size <= 500 * 1024
    with Image.open(jpeg) as image:
        assert (image.format, image.size) == ("JPEG", (413, 531))


def test_invalid_option_is_a_clear_error(tmp_path: Path, data_dir: Path) -> None:
    result = facecraft("process", str(data_dir / "astronaut.jpg"), "--margin", "7", cwd=tmp_path)
    assert result.returncode == 2
    assert "face_margin" in result.stderr and "Traceback" not in result.stderr


def test_models_list_and_verify(tmp_path: Path) -> None:
    listing = facecraft("models", "list", "--json", cwd=tmp_path)
    assert listing.returncode == 0
    assert {entry["name"] for entry in json.loads(listing.stdout)} >= {"isnet", "selfie_segmentation"}
    verify = facecraft("models", "verify", cwd=tmp_path)
    assert verify.returncode == 0 and "isnet: ok" in verify.stdout
    missing = subprocess.run(
        [sys.executable, "-m", "facecraft.cli.main", "models", "verify"],
        cwd=tmp_path,
        env={**os.environ, "FACECRAFT_MODELS_DIR": str(tmp_path / "empty")},
        capture_output=True,
        text=True,
        check=False,
    )
    assert missing.returncode == 1 and "isnet: missing" in missing.stdout
