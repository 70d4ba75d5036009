from __future__ import annotations

import json
import logging
import os
import subprocess
import sys
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import numpy as np
import pytest
from skimage import data

from facecraft.config import Device
from facecraft.errors import InvalidOptionError, ModelUnavailableError
from facecraft.models.isnet import IsnetMatter, check_isnet_size
from facecraft.runtime import device as device_module
from facecraft.runtime.device import resolve_providers

SRC = Path(__file__).resolve().parents[2] / "src"


def test_cpu_is_cpu() -> None:
    assert resolve_providers(Device.CPU) == (["CPUExecutionProvider"], "cpu")


def test_auto_without_cuda_falls_back_loudly(monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture) -> None:
    monkeypatch.setattr(device_module.ort, "get_available_providers", lambda: ["CPUExecutionProvider"])
    with caplog.at_level(logging.WARNING):
        assert resolve_providers(Device.AUTO) == (["CPUExecutionProvider"], "cpu")
    assert "CUDA is not available" in caplog.text


def test_cuda_without_cuda_refuses(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(device_module.ort, "get_available_providers", lambda: ["CPUExecutionProvider"])
    with pytest.raises(ModelUnavailableError, match="no CUDA provider"):
        resolve_providers(Device.CUDA)


def test_auto_prefers_cuda_when_ort_offers_it(monkeypatch: pytest.MonkeyPatch) -> None:
    # Faked: this machine has no GPU, so only the provider list is simulated, not a CUDA session.
    monkeypatch.setattr(
        device_module.ort,
        "get_available_providers",
        lambda: ["CUDAExecutionProvider", "CPUExecutionProvider"],
    )
    assert resolve_providers(Device.AUTO) == (["CUDAExecutionProvider", "CPUExecutionProvider"], "cuda")


@pytest.mark.parametrize("size", [500, 16, 0, (512, 500)])
def test_isnet_sizes_must_be_multiples_of_32(size: int | tuple[int, int]) -> None:
    with pytest.raises(InvalidOptionError):
        check_isnet_size(size)


def test_matter_is_shared_across_threads(isnet_path: Path) -> None:
    matter = IsnetMatter(isnet_path, ["CPUExecutionProvider"], size=256, threads=1)
    assert matter.device == "cpu" and matter.providers_in_use == ["CPUExecutionProvider"]
    image = data.astronaut()
    crops = [image, image[:400, 50:450], image]
    with ThreadPoolExecutor(3) as pool:
        mattes = list(pool.map(matter, crops))
    assert mattes[1].shape == (400, 400)
    np.testing.assert_array_equal(mattes[0], mattes[2])


def test_fixed_size_session_rejects_another_size(isnet_path: Path) -> None:
    matter = IsnetMatter(isnet_path, ["CPUExecutionProvider"], size=256)
    with pytest.raises(Exception, match=r"(?i)dimension|shape"):
        matter.session.run(["output"], {"input": np.zeros((1, 3, 320, 320), np.float32)})


def _import_in_fresh_python(extra_path: Path | None = None) -> dict[str, object]:
    """import_mediapipe() in a new interpreter (a clean sys.modules); what it did to matplotlib."""
    code = (
        "import importlib.util, json, sys\n"
        "real = importlib.util.find_spec('matplotlib') is not None\n"
        "from facecraft.models.mediapipe_loader import import_mediapipe\n"
        "solutions = import_mediapipe()\n"
        "mpl = sys.modules['matplotlib']\n"
        "print(json.dumps({'real_before': real, 'file': getattr(mpl, '__file__', None),\n"
        "    'path': list(getattr(mpl, '__path__', [])), 'pyplot': 'matplotlib.pyplot' in sys.modules,\n"
        "    'solutions': [hasattr(solutions, n) for n in ('face_detection', 'face_mesh', 'selfie_segmentation')]}))\n"
    )
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(filter(None, [str(extra_path or ""), str(SRC)]))}
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env, timeout=120)
    assert done.returncode == 0, done.stderr[-2000:]
    result: dict[str, object] = json.loads(done.stdout.strip().splitlines()[-1])
    return result


def test_mediapipe_imports_without_matplotlib() -> None:
    """The venv and the image leave matplotlib out; empty stand-ins satisfy mediapipe's drawing import."""
    seen = _import_in_fresh_python()
    assert seen["real_before"] is False, "this test needs a venv without matplotlib, as the locks make it"
    assert seen["solutions"] == [True, True, True]
    assert seen["file"] is None and seen["path"] == [] and seen["pyplot"] is True, "the empty stand-in was used"


def test_a_real_matplotlib_is_preferred(tmp_path: Path) -> None:
    package = tmp_path / "matplotlib"
    package.mkdir()
    (package / "__init__.py").write_text("")
    (package / "pyplot.py").write_text("")
    seen = _import_in_fresh_python(tmp_path)
    assert seen["real_before"] is True
    assert seen["file"] == str(package / "__init__.py"), "the installed matplotlib, not the stand-in"
    assert seen["solutions"] == [True, True, True]
