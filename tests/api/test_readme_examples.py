"""The README's curl and Python examples, run verbatim (but for the address) against a live server."""

from __future__ import annotations

import ast
import io
import re
import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest
from PIL import Image
from tests.api.conftest import LiveServer

README = Path(__file__).resolve().parents[2] / "README.md"


def _example(kind: str) -> str:
    text = README.read_text(encoding="utf-8")
    match = re.search(rf"<!-- tested-example: {kind} -->\n```\w+\n(.*?)```", text, re.DOTALL)
    assert match, f"README.md has no tested {kind} example"
    return match.group(1)


@pytest.fixture
def workdir(tmp_path: Path, data_dir: Path) -> Path:
    shutil.copy(data_dir / "astronaut.jpg", tmp_path / "photo.jpg")
    shutil.copy(data_dir / "grace_hopper.jpg", tmp_path / "photo2.jpg")
    return tmp_path


@pytest.mark.skipif(shutil.which("curl") is None, reason="curl is not installed")
def test_curl_examples(server: LiveServer, workdir: Path) -> None:
    script = _example("curl").replace("http://localhost:8000", server.url)
    result = subprocess.run(
        ["bash", "-euo", "pipefail", "-c", script], cwd=workdir, capture_output=True, text=True, timeout=300
    )
    assert result.returncode == 0, result.stderr
    assert '"status":"healthy"' in result.stdout.replace(" ", "")
    with Image.open(workdir / "headshot.png") as png:
        assert (png.format, png.size, png.mode) == ("PNG", (648, 648), "RGBA")
    jpeg = (workdir / "headshot.jpg").read_bytes()
    assert len(jpeg) <= 99 * 1024
    with Image.open(io.BytesIO(jpeg)) as image:
        assert image.getpixel((1, 1))[0] > 230  # type: ignore[index]  # the red background
    with zipfile.ZipFile(workdir / "headshots.zip") as archive:
        assert len([name for name in archive.namelist() if name.endswith(".png")]) == 2
    assert "facecraft" in (workdir / "metrics.txt").read_text()


def test_python_example(server: LiveServer, workdir: Path) -> None:
    script = _example("python").replace("http://localhost:8000", server.url)
    # The example ends holding the downloaded JPEG in `jpeg`; keep it to check what the user gets.
    script += "\nopen('downloaded.jpg', 'wb').write(jpeg)\n"
    result = subprocess.run([sys.executable, "-c", script], cwd=workdir, capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stderr
    count, position = result.stdout.strip().split(" ", 1)
    assert count == "1"
    box = ast.literal_eval(position)
    assert set(box) == {"x", "y", "width", "height"} and box["width"] > 50  # astronaut.jpg: one face, ~100 px
    jpeg = (workdir / "downloaded.jpg").read_bytes()
    assert len(jpeg) <= 99 * 1024, "max_kb 99"
    with Image.open(io.BytesIO(jpeg)) as image:
        assert (image.format, image.size) == ("JPEG", (600, 800))
        assert min(image.convert("RGB").getpixel((2, 2))) > 240, "the #ffffff background"  # type: ignore[arg-type]
