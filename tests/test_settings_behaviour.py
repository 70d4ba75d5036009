"""Settings that change behaviour, each shown doing so: log_format, matting_size, predictor_path (ignored,
with a warning), default_enhance_fidelity, and an unexpected failure's `internal_error`.

The CLI-level defaults (default_output_format, default_max_kb, max_image_pixels) are in tests/cli.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Callable
from pathlib import Path
from typing import Any

import httpx
import numpy as np
import pytest
from tests.api.conftest import LiveServer, start_server
from tests.conftest import MODELS_DIR
from tests.scale.conftest import FAST_FORM
from tests.servers import Api, base_env

from facecraft.config import Settings
from facecraft.models.isnet import IsnetMatter
from facecraft.pipeline.factory import build_pipeline
from facecraft.pipeline.options import PortraitOptions
from facecraft.pipeline.portrait import PortraitPipeline

__all__ = ["start_server"]  # the in-process server factory, as a fixture here


def test_log_format_json_makes_every_log_line_json(tmp_path: Path, photo: Callable[[str], bytes]) -> None:
    api = Api(base_env(None, tmp_path, log_format="json", log_level="INFO"), tmp_path / "api.log")
    try:
        api.wait_up("/ready", timeout=120)
        with api.client() as client:
            answer = client.post("/api/v1/process", files={"file": ("a.jpg", photo("astronaut.jpg"))}, data=FAST_FORM)
            assert answer.status_code == 200, answer.text
            job_id = answer.json()["job_id"]
    finally:
        api.stop()
    ours = []
    for line in (tmp_path / "api.log").read_text().splitlines():
        if line.startswith("{"):
            ours.append(json.loads(line))
        else:
            # uvicorn's own lines (--log-level warning) and native libraries' stderr are not ours;
            # a facecraft text line ("... INFO facecraft...") would mean the setting was ignored.
            assert " facecraft" not in line, line
    assert all({"time", "level", "logger", "message"} <= set(entry) for entry in ours)
    requests = [entry for entry in ours if entry["logger"] == "facecraft.request"]
    assert any(entry.get("job_id") == job_id and entry.get("status") == 200 for entry in requests), requests[-3:]


def test_matting_size_and_the_ignored_predictor_path(caplog: pytest.LogCaptureFixture) -> None:
    settings = Settings(
        _env_file=None,  # type: ignore[call-arg]
        models_dir=MODELS_DIR,
        matting_size=320,
        predictor_path="/models/shape_predictor_68_face_landmarks.dat",
    )
    with caplog.at_level(logging.WARNING, logger="facecraft"):
        pipeline = build_pipeline(settings)
    assert "FACECRAFT_PREDICTOR_PATH is ignored" in caplog.text
    assert pipeline.matter.isnet_size == (320, 320)
    isnet = pipeline.matter._isnet_predict  # the IsnetMatter the factory built
    assert isinstance(isnet, IsnetMatter)
    session_input = isnet.session.get_inputs()[0].shape
    assert list(session_input[2:]) == [320, 320], "the ISNet session itself runs at the configured size"
    with pytest.raises(ValueError, match="multiple of 32"):
        Settings(_env_file=None, models_dir=MODELS_DIR, matting_size=300)  # type: ignore[call-arg]


def test_default_enhance_fidelity_sets_the_face_restoration_strength(
    pipeline: PortraitPipeline, photo: Callable[[str], bytes]
) -> None:
    def face(settings: dict[str, Any]) -> np.ndarray:
        options = PortraitOptions.from_settings(
            Settings(_env_file=None, models_dir=MODELS_DIR, **settings),  # type: ignore[call-arg]
            use_oval_mask=False,
            enhance_photo=False,
            matting="fast",
        )
        portrait = pipeline.process(photo("grace_hopper.jpg"), options)
        rgb = portrait.rgb.astype(int)
        return rgb[rgb.shape[0] // 4 : rgb.shape[0] * 3 // 4, rgb.shape[1] // 4 : rgb.shape[1] * 3 // 4]

    plain = face({"default_enhance_face": False})
    untouched = face({"default_enhance_face": True, "default_enhance_fidelity": 1.0})
    strongest = face({"default_enhance_face": True, "default_enhance_fidelity": 0.0})
    assert np.abs(untouched - plain).max() <= 2, "fidelity 1 keeps the input"
    assert np.abs(strongest - plain).mean() > 1.0, "fidelity 0 restores visibly"


class _Broken:
    """FAKE: the real pipeline, except that processing hits a bug (an exception that is not ours)."""

    def __init__(self, real: PortraitPipeline) -> None:
        self._real = real

    def __getattr__(self, name: str) -> Any:
        return getattr(self._real, name)

    def process(self, *_args: Any, **_kwargs: Any) -> Any:
        raise RuntimeError("/srv/secret/path.py: unexpected bug")

    process_rgb = process


def test_an_unexpected_failure_is_internal_error_without_details(
    start_server: Callable[..., LiveServer], pipeline: PortraitPipeline, photo: Callable[[str], bytes]
) -> None:
    server = start_server(pipeline_factory=lambda _settings: _Broken(pipeline))
    image = photo("astronaut.jpg")
    # One keep-alive connection for everything: a bug is answered and the connection stays usable
    # (Starlette's last-resort handler would close it and the next request on it would be reset).
    with server.client() as http:
        single = http.post("/api/v1/process", files={"file": ("a.jpg", image)}, data={"matting": "fast"})
        assert single.status_code == 500
        assert single.json()["error"]["code"] == "internal_error"
        assert "secret" not in single.text and "Traceback" not in single.text
        assert single.headers.get("connection", "keep-alive").lower() != "close"
        batch = http.post("/api/v1/process/batch", files=[("files", ("a.jpg", image))], data={"matting": "fast"})
        assert batch.status_code == 200, batch.text
        (item,) = batch.json()["results"]
        assert item["success"] is False and item["error"] == "internal_error"
        assert "secret" not in batch.text
        assert http.get("/health").status_code == 200, "the server keeps serving"
    assert httpx.get(server.url + "/ready").status_code == 200
