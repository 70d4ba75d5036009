"""ISNet input size: raw inference time and matte agreement on head-and-shoulders crops.

    .venv/bin/python benchmarks/isnet_sizes.py [--photos DIR] [--repeats 3]

Times one inference per size with a session fixed to that size at load (as the server builds it):
the fastest of --repeats interleaved rounds after a warm-up; 1024² is the yardstick (ratio 1.00).
Quality: IoU of the alpha thresholded at 0.5, against the 512² and the 1024² matte of the same crop,
computed at crop resolution.
Crops: skimage's astronaut, plus every face found in DIR/*.jpg, e.g. the MIT-licensed demo photos of
the npm package @vladmandic/face-api@1.7.15 (`npm pack` it into /tmp, untar, pass package/demo).
Each crop spans the face box widened to 2.2x its width, from 0.7x its height above to 1.4x below.
"""

from __future__ import annotations

import argparse
import os
import platform
import statistics
import time
from pathlib import Path

import cv2
import numpy as np
import numpy.typing as npt
import onnxruntime as ort
from skimage import data

from facecraft.models.isnet import isnet_input, run_isnet
from facecraft.models.mediapipe_loader import import_mediapipe
from facecraft.models.registry import get_model
from facecraft.runtime.sessions import create_session

SIZES = (1024, 640, 512, 448, 384)
REFERENCES = (512, 1024)


def head_and_shoulders(rgb: npt.NDArray[np.uint8], max_faces: int) -> list[npt.NDArray[np.uint8]]:
    solutions = import_mediapipe()
    height, width = rgb.shape[:2]
    with solutions.face_detection.FaceDetection(model_selection=1, min_detection_confidence=0.5) as det:
        found = det.process(rgb).detections or []
    boxes = []
    for detection in found:
        box = detection.location_data.relative_bounding_box
        boxes.append(
            (
                box.width * box.height,
                box.xmin * width,
                box.ymin * height,
                box.width * width,
                box.height * height,
            )
        )
    crops = []
    for _area, x, y, w, h in sorted(boxes, reverse=True)[:max_faces]:
        x0, x1 = int(max(0, x + w / 2 - 1.1 * w)), int(min(width, x + w / 2 + 1.1 * w))
        y0, y1 = int(max(0, y - 0.7 * h)), int(min(height, y + h + 1.4 * h))
        if x1 - x0 >= 64 and y1 - y0 >= 64:
            crops.append(np.ascontiguousarray(rgb[y0:y1, x0:x1]))
    return crops


def iou(a: npt.NDArray[np.float32], b: npt.NDArray[np.float32]) -> float:
    ma, mb = a >= 0.5, b >= 0.5
    union = np.logical_or(ma, mb).sum()
    return 1.0 if union == 0 else float(np.logical_and(ma, mb).sum() / union)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--models-dir", type=Path, default=Path(os.environ.get("FACECRAFT_MODELS_DIR", "models")))
    parser.add_argument("--photos", type=Path, help="folder of extra people photos (*.jpg)")
    parser.add_argument("--faces-per-photo", type=int, default=2)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--threads", type=int, default=0)
    args = parser.parse_args()

    crops = [("astronaut", c) for c in head_and_shoulders(data.astronaut(), 1)]  # type: ignore[no-untyped-call]
    for photo in sorted(args.photos.glob("*.jpg")) if args.photos else []:
        rgb = np.asarray(cv2.cvtColor(cv2.imread(str(photo)), cv2.COLOR_BGR2RGB), dtype=np.uint8)
        crops += [(f"{photo.stem}#{i}", c) for i, c in enumerate(head_and_shoulders(rgb, args.faces_per_photo))]

    model = args.models_dir / get_model("isnet").file
    providers = ["CPUExecutionProvider"]
    sessions = {size: create_session(model, providers, args.threads, fixed_hw=(size, size)) for size in SIZES}
    inputs = {size: isnet_input(crops[0][1], (size, size)) for size in SIZES}
    for size in SIZES:  # warm-up: the first run allocates and plans
        sessions[size].run(["output"], {"input": inputs[size]})
    runs: dict[int, list[float]] = {size: [] for size in SIZES}
    # Rounds interleave the sizes and the minimum is kept, so a burst of other load on a shared machine
    # skews no single size.
    for _ in range(args.repeats):
        for size in SIZES:
            start = time.perf_counter()
            sessions[size].run(["output"], {"input": inputs[size]})
            runs[size].append(time.perf_counter() - start)
    timing = {size: min(values) for size, values in runs.items()}
    mattes = {size: [run_isnet(sessions[size], crop, size) for _n, crop in crops] for size in SIZES}

    print(
        f"# {platform.processor() or platform.machine()}, {os.cpu_count()} CPUs, onnxruntime "
        f"{ort.__version__}, threads={args.threads or 'default'}, {len(crops)} crops "
        f"({min(c.shape[1] for _n, c in crops)}-{max(c.shape[1] for _n, c in crops)} px wide), "
        f"repeats={args.repeats}"
    )
    print(f"{'size':>6} {'seconds':>8} {'vs 1024':>8} {'IoU vs 512 med/min':>19} {'IoU vs 1024 med/min':>20}")
    for size in SIZES:
        cells = []
        for ref in REFERENCES:
            scores = [iou(m, r) for m, r in zip(mattes[size], mattes[ref], strict=True)]
            cells.append(f"{statistics.median(scores):.3f}/{min(scores):.3f}")
        print(f"{size:>5}² {timing[size]:8.3f} {timing[size] / timing[1024]:8.2f} {cells[0]:>19} {cells[1]:>20}")
    print("per crop IoU vs 512 at 448 / 384, vs 1024 at 512:")
    for i, (name, crop) in enumerate(crops):
        print(
            f"  {name:<12} {crop.shape[1]}x{crop.shape[0]}  {iou(mattes[448][i], mattes[512][i]):.3f} / "
            f"{iou(mattes[384][i], mattes[512][i]):.3f}  {iou(mattes[512][i], mattes[1024][i]):.3f}"
        )


if __name__ == "__main__":
    main()
