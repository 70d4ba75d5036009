"""Measure the activation ranges that the int8 ISNet is quantized with (src/facecraft/models/isnet_int8.py).

    .venv/bin/python scripts/calibrate_isnet_int8.py

Runs the pipeline (fp32 ISNet) on the photos the matte is tuned on (tests/pipeline/matte_invariants.py TUNED; the
held-out group photos stay out), at the face-box framing and two document framings, and records every ISNet input
it makes; then writes the ranges to src/facecraft/models/isnet_int8_ranges.json. After a re-calibration, run
`make models` and pin the new SHA-256 that the fetch reports in models/registry.py.
"""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np
import numpy.typing as npt

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))
from tests.pipeline.matte_invariants import TUNED, framed_options  # noqa: E402

from facecraft.config import Precision, Settings  # noqa: E402
from facecraft.models import isnet  # noqa: E402
from facecraft.models.isnet_int8 import RANGES_FILE, calibrate  # noqa: E402
from facecraft.models.registry import get_model, model_path  # noqa: E402
from facecraft.pipeline.factory import build_pipeline  # noqa: E402

FRAMINGS = (None, "passport", "us_visa")


def isnet_inputs() -> list[npt.NDArray[np.float32]]:
    settings = Settings(matting_precision=Precision.FP32)
    pipeline = build_pipeline(settings)
    recorded: list[npt.NDArray[np.float32]] = []
    make_input = isnet.isnet_input

    def recording(rgb: npt.NDArray[np.uint8], size: tuple[int, int]) -> npt.NDArray[np.float32]:
        tensor = make_input(rgb, size)
        recorded.append(tensor)
        return tensor

    isnet.isnet_input = recording
    try:
        for name in TUNED:
            photo = (REPO / "tests" / "data" / name).read_bytes()
            for document in FRAMINGS:
                pipeline.process(photo, framed_options(document))
    finally:
        isnet.isnet_input = make_input
    return recorded


def main() -> None:
    tensors = isnet_inputs()
    fp32 = model_path(get_model("isnet"), Settings().models_dir)
    assert fp32 is not None
    calibrate(fp32, tensors)
    print(f"{len(tensors)} ISNet inputs -> {RANGES_FILE.relative_to(REPO)}")


if __name__ == "__main__":
    main()
