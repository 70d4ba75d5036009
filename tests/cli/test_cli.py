"""The `facecraft` command line, run as a real subprocess on real photos."""

from __future__ import annotations

import dataclasses
import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from PIL import Image
from tests import phone_photos
from tests.conftest import MODELS_DIR

from facecraft.cli.main import main
from facecraft.config import Settings, get_settings
from facecraft.models import fetch
from facecraft.models.registry import MODELS, Location


def facecraft(*args: str, cwd: Path, **settings: str) -> subprocess.CompletedProcess[str]:
    """`facecraft ARGS` in a subprocess; `settings` become FACECRAFT_<NAME> variables."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("FACECRAFT_")}
    env |= {"FACECRAFT_MODELS_DIR": str(MODELS_DIR), **{f"FACECRAFT_{k.upper()}": v for k, v in settings.items()}}
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
    # Only Facecraft's own lines: MediaPipe's absl/TensorFlow Lite chatter is filtered (facecraft/logs.py).
    own = ("FACECRAFT_DEVICE=", "ok     ", "1 processed, 0 failed")
    assert [line for line in result.stderr.splitlines() if not line.startswith(own)] == [], result.stderr
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


def test_process_format_background_transparent_and_max_kb(tmp_path: Path, data_dir: Path) -> None:
    photo = str(data_dir / "grace_hopper.jpg")
    common = ("--size", "256", "--matting", "fast", "--no-oval")
    jpeg = facecraft("process", photo, "-o", str(tmp_path / "j"), "-f", "jpg", "--max-kb", "12", *common, cwd=tmp_path)
    assert jpeg.returncode == 0, jpeg.stderr
    out = tmp_path / "j" / "grace_hopper.jpg"
    assert out.stat().st_size <= 12 * 1024
    with Image.open(out) as image:
        assert (image.format, image.size) == ("JPEG", (256, 256))
    # An opaque red background, in a PNG that then has no alpha channel at all.
    red = facecraft(
        "process",
        photo,
        "-o",
        str(tmp_path / "r"),
        "--background",
        "#ff0000",
        "--no-transparent",
        *common,
        cwd=tmp_path,
    )
    assert red.returncode == 0, red.stderr
    with Image.open(tmp_path / "r" / "grace_hopper.png") as image:
        assert image.mode == "RGB" and image.getpixel((0, 0)) == (255, 0, 0)
    clear = facecraft("process", photo, "-o", str(tmp_path / "t"), "-f", "webp", "--transparent", *common, cwd=tmp_path)
    assert clear.returncode == 0, clear.stderr
    with Image.open(tmp_path / "t" / "grace_hopper.webp") as image:
        assert image.format == "WEBP" and image.mode == "RGBA" and image.getpixel((0, 0))[3] == 0  # type: ignore[index]


def test_process_takes_its_defaults_from_the_settings(tmp_path: Path, data_dir: Path) -> None:
    """FACECRAFT_DEFAULT_OUTPUT_FORMAT / _MAX_KB / _BACKGROUND_* apply when no flag is given."""
    result = facecraft(
        "process",
        str(data_dir / "astronaut.jpg"),
        "-o",
        str(tmp_path),
        "--size",
        "300",
        "--matting",
        "fast",
        cwd=tmp_path,
        default_output_format="jpg",
        default_max_kb="15",
        default_oval_mask="false",
        default_background_r="0",
        default_background_g="0",
        default_background_b="255",
    )
    assert result.returncode == 0, result.stderr
    out = tmp_path / "astronaut.jpg"
    assert out.stat().st_size <= 15 * 1024
    with Image.open(out) as image:
        red, green, blue = image.convert("RGB").getpixel((2, 2))  # type: ignore[misc]
        assert image.size == (300, 300) and blue > 230 and red < 25 and green < 25


def test_max_image_pixels_refuses_a_larger_photo(tmp_path: Path, data_dir: Path) -> None:
    # astronaut.jpg is 512 x 512 = 262,144 pixels.
    result = facecraft(
        "process", str(data_dir / "astronaut.jpg"), "-o", str(tmp_path), cwd=tmp_path, max_image_pixels="200000"
    )
    assert result.returncode == 1
    assert "astronaut.jpg: image_too_large" in result.stderr
    assert list(tmp_path.glob("*.png")) == []


def test_config_prints_every_setting_with_secrets_hidden(tmp_path: Path) -> None:
    result = facecraft(
        "config",
        cwd=tmp_path,
        api_key="key-abc-123",
        webhook_secret="hook-xyz-789",
        queue_url="redis://worker:redis-pass-456@redis:6379/0",
        default_width="300",
    )
    assert result.returncode == 0, result.stderr
    shown = dict(line.split("=", 1) for line in result.stdout.splitlines())
    assert set(shown) == {f"FACECRAFT_{name.upper()}" for name in Settings.model_fields}
    assert shown["FACECRAFT_DEFAULT_WIDTH"] == "300"
    assert shown["FACECRAFT_API_KEY"] == shown["FACECRAFT_WEBHOOK_SECRET"] == "(set)"
    for secret in ("key-abc-123", "hook-xyz-789", "redis-pass-456"):
        assert secret not in result.stdout, secret
    assert shown["FACECRAFT_QUEUE_URL"] == "redis://worker:***@redis:6379/0", "the Redis password is hidden"
    assert shown["FACECRAFT_CORS_ORIGINS"] == "*", "lists are written as the variable takes them"
    unset = facecraft("config", cwd=tmp_path)
    shown = dict(line.split("=", 1) for line in unset.stdout.splitlines())
    assert shown["FACECRAFT_API_KEY"] == shown["FACECRAFT_WEBHOOK_SECRET"] == ""


def test_models_fetch_with_everything_present(tmp_path: Path) -> None:
    result = facecraft("models", "fetch", cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    actions = dict(line.split(": ", 1) for line in result.stdout.splitlines())
    assert actions["isnet"] == actions["isnet_int8"] == "present"
    assert set(actions) == {spec.name for spec in MODELS}
    assert {action for name, action in actions.items() if not name.startswith("isnet")} == {"verified_in_package"}


def test_models_fetch_reports_a_checksum_mismatch(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """In-process, with the registry's pin altered: the installed mediapipe file no longer matches."""
    spec = next(spec for spec in MODELS if spec.location is Location.PACKAGE)
    monkeypatch.setattr(fetch, "MODELS", (dataclasses.replace(spec, sha256="0" * 64),))
    monkeypatch.setenv("FACECRAFT_MODELS_DIR", str(MODELS_DIR))
    get_settings.cache_clear()
    try:
        assert main(["models", "fetch"]) == 1
    finally:
        get_settings.cache_clear()
    assert f"facecraft: model_checksum_mismatch: {spec.name}:" in capsys.readouterr().err


def test_models_verify_load(tmp_path: Path) -> None:
    loaded = facecraft("models", "verify", "--load", cwd=tmp_path, device="cpu")
    assert loaded.returncode == 0, loaded.stderr
    assert loaded.stdout.splitlines()[-1] == "all models loaded (cpu)"
    # This build of ONNX Runtime has no CUDA provider: `cuda` must refuse, not fall back.
    cuda = facecraft("models", "verify", "--load", cwd=tmp_path, device="cuda")
    assert cuda.returncode == 1
    assert "facecraft: model_unavailable: FACECRAFT_DEVICE=cuda but ONNX Runtime has no CUDA provider" in cuda.stderr
    assert "all models loaded" not in cuda.stdout


def test_sheet_writes_a_300_dpi_print_sheet(tmp_path: Path, data_dir: Path) -> None:
    target = tmp_path / "sheet.jpg"
    result = facecraft(
        "sheet", str(data_dir / "grace_hopper.jpg"), "--preset", "us_passport", "--paper", "4x6", "-o", str(target),
        cwd=tmp_path,
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    assert "2 copies on 4x6" in result.stderr and "compliance:" in result.stderr
    with Image.open(target) as image:
        assert (image.format, image.size, image.info["jfif_density"]) == ("JPEG", (1800, 1200), (300, 300))
    too_many = facecraft(
        "sheet", str(data_dir / "grace_hopper.jpg"), "--preset", "us_passport", "--copies", "3", "-o", str(target),
        cwd=tmp_path,
    )  # fmt: skip
    assert too_many.returncode == 1 and "at most 2" in too_many.stderr


def test_phone_photos_heic_avif_sideways_and_12_mp(tmp_path: Path, data_dir: Path) -> None:
    """What a phone sends: HEIC (with an EXIF turn), AVIF, a sideways scan without EXIF, a 12 MP JPEG."""
    photos = tmp_path / "phone"
    photos.mkdir()
    source = (data_dir / "grace_hopper.jpg").read_bytes()
    (photos / "a.heic").write_bytes(phone_photos.heic(source, orientation=6))
    (photos / "b.avif").write_bytes(phone_photos.avif(source))
    (photos / "c.jpg").write_bytes(phone_photos.turned(source, 90))
    (photos / "d.jpg").write_bytes(phone_photos.upscaled((data_dir / "person_b.jpg").read_bytes(), 12))
    out = tmp_path / "out"
    result = facecraft("process", str(photos), "-o", str(out), "--size", "256", "--matting", "fast", cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    assert "4 processed, 0 failed" in result.stderr
    sideways = next(line for line in result.stderr.splitlines() if "c.jpg" in line)
    assert "turned 270 deg" in sideways, sideways  # 90 more degrees counter-clockwise = upright
    assert sorted(path.name for path in out.iterdir()) == ["a.png", "b.png", "c.png", "d.png"]
    for path in out.iterdir():
        with Image.open(path) as image:
            assert image.size == (256, 256)
