"""Document presets on the test portraits: where the head and eyes land, measured on the output alone, and time.

    .venv/bin/python benchmarks/document_bench.py [--documents passport,us_passport] [--photos astronaut.jpg]

For every document preset and portrait it prints the head height (chin to crown) and the eye line (from the
bottom) as shares of the output's height, measured independently of the framing code (crown: top of the
alpha matte over the middle of the face; chin and eyes: the face mesh run again on the output), the band
each must lie in, the compliance checks that failed, and the seconds per photo, with the `square` preset's
time (the ordinary face-box framing) for comparison, and the yardstick ratio (see pipeline_bench.py).
"""

from __future__ import annotations

import argparse
import platform
import sys
import time
from datetime import UTC, datetime
from pathlib import Path

import numpy as np

from facecraft.config import Settings
from facecraft.pipeline.compliance import compliance_report
from facecraft.pipeline.encode import encode_portrait
from facecraft.pipeline.factory import build_pipeline
from facecraft.pipeline.landmarks import EyeLocator
from facecraft.pipeline.options import PortraitOptions
from facecraft.pipeline.portrait import Portrait, PortraitPipeline
from facecraft.pipeline.presets import get_preset
from facecraft.standards.compliance import failures
from facecraft.standards.documents import DOCUMENT_IDS, get_document

sys.path.insert(0, str(Path(__file__).resolve().parent))
from pipeline_bench import yardstick_seconds

REPO = Path(__file__).resolve().parent.parent
PORTRAITS = ("astronaut.jpg", "grace_hopper.jpg", "person_a.jpg", "person_c.jpg", "person_d.jpg")


def measure(pipeline: PortraitPipeline, locator: EyeLocator, portrait: Portrait) -> tuple[float, float]:
    """Head height and eye line (from the bottom) as shares of the height, from the output alone."""
    height = portrait.alpha.shape[0]
    face = pipeline.detector.detect(portrait.rgb)[0]
    mesh = locator.face_mesh(portrait.rgb, face.box)
    assert mesh is not None
    points = mesh.points
    eye_y = float((points[468, 1] + points[473, 1]) / 2)
    centre, quarter = (points[234, 0] + points[454, 0]) / 2, abs(points[454, 0] - points[234, 0]) / 4
    band = portrait.alpha[: int(eye_y), int(centre - quarter) : int(centre + quarter)] >= 0.5
    tops = []
    for column in band.T:
        gaps = np.flatnonzero(~column[::-1])
        tops.append(len(column) - gaps[0] if gaps.size else 0)
    crown = float(np.percentile(tops, 5))
    return (points[152, 1] - crown) / height, 1 - eye_y / height


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--documents", default=",".join(DOCUMENT_IDS))
    parser.add_argument("--photos", default=",".join(PORTRAITS))
    args = parser.parse_args()
    settings = Settings(models_dir=REPO / "models", _env_file=None)
    pipeline = build_pipeline(settings)
    locator = EyeLocator()
    photos = [(name, (REPO / "tests" / "data" / name).read_bytes()) for name in args.photos.split(",")]
    pipeline.process(photos[0][1], PortraitOptions())  # warm-up
    yardstick = yardstick_seconds(settings.models_dir)
    print(
        f"# {datetime.now(UTC):%Y-%m-%d} {platform.machine()} {platform.processor() or ''}; yardstick {yardstick:.2f} s"
    )
    square = PortraitOptions.from_settings(settings, **get_preset("square").option_values())
    plain = []
    for _, data in photos:
        start = time.perf_counter()
        pipeline.process(data, square)
        plain.append(time.perf_counter() - start)
    plain_median = float(np.median(plain))
    print(
        f"square preset (face-box framing): {plain_median:.2f} s per photo ({plain_median / yardstick:.3f} yardsticks)"
    )
    print("document            photo              head   band          eyes   band          failed checks        s")
    inside = total = 0
    times = []
    for document_id in args.documents.split(","):
        document = get_document(document_id)
        assert document is not None
        options = PortraitOptions.from_settings(settings, **get_preset(document_id).option_values())
        for name, data in photos:
            start = time.perf_counter()
            portrait = pipeline.process(data, options)
            image = encode_portrait(portrait, options.output_format, options)
            seconds = time.perf_counter() - start
            times.append(seconds)
            report = compliance_report(portrait, image, options)
            assert report is not None
            failed = ",".join(str(c["id"]) for c in failures(report))
            head, eye = measure(pipeline, locator, portrait)
            low, high = document.head_share
            ok = low <= head <= high
            eye_band = document.eye_share
            eye_text = f"{eye:.3f}  {eye_band[0]:.3f}-{eye_band[1]:.3f}" if eye_band else f"{eye:.3f}  -          "
            if eye_band:
                ok = ok and eye_band[0] <= eye <= eye_band[1]
            inside += ok
            total += 1
            row = f"{document_id:19s} {name:18s} {head:.3f}  {low:.3f}-{high:.3f}  {eye_text}"
            print(f"{row}  {failed[:20]:20s} {seconds:.2f}")
    median = float(np.median(times))
    ratio = median / yardstick
    print(f"inside the bands: {inside} of {total}; document preset {median:.2f} s per photo ({ratio:.3f} yardsticks)")
    return 0 if inside == total else 1


if __name__ == "__main__":
    sys.exit(main())
