"""Per-stage and end-to-end seconds per photo, fast and quality matting, on this machine.

    .venv/bin/python benchmarks/pipeline_bench.py [--repeats 3]

Machines of the same kind differ up to 3x in speed, so the run also times a yardstick (one raw ISNet
inference at 1024x1024) and prints every figure as a ratio to it as well. A target such as "0.5 s per
photo" means that ratio on a machine whose yardstick takes 1.7 s (ratio 0.29).
"""

from __future__ import annotations

import argparse
import platform
import statistics
import sys
import time
from datetime import UTC, datetime
from pathlib import Path

import numpy as np

from facecraft.config import MattingMode, OutputFormat, Precision, Settings
from facecraft.models.registry import get_model, model_path
from facecraft.pipeline.encode import encode_portrait
from facecraft.pipeline.factory import build_pipeline, isnet_model_name
from facecraft.pipeline.options import PortraitOptions
from facecraft.pipeline.portrait import PortraitPipeline
from facecraft.runtime.sessions import create_session

REPO = Path(__file__).resolve().parent.parent
PHOTOS = [
    "astronaut.jpg",
    "grace_hopper.jpg",
    "person_a.jpg",
    "person_b.jpg",
    "person_c.jpg",
    "person_d.jpg",
    "two_faces.jpg",
    "group3.jpg",
]
TARGETS_ON_YARDSTICK_1_7 = {MattingMode.QUALITY: 0.5, MattingMode.FAST: 0.1}


def yardstick_seconds(models_dir: Path, repeats: int = 3) -> float:
    """Median time of one raw ISNet inference at 1024x1024 (2 intra-op threads, as the pipeline runs)."""
    path = model_path(get_model("isnet"), models_dir)
    assert path is not None
    session = create_session(path, ["CPUExecutionProvider"], threads=0, fixed_hw=(1024, 1024))
    tensor = np.random.default_rng(0).random((1, 3, 1024, 1024), dtype=np.float32)
    session.run(None, {"input": tensor})  # warm-up
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        session.run(None, {"input": tensor})
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def time_mode(pipeline: PortraitPipeline, mode: MattingMode, repeats: int) -> dict[str, float]:
    """Median seconds per stage over every photo and repeat, plus encode and the end-to-end total."""
    options = PortraitOptions(matting=mode)
    per_stage: dict[str, list[float]] = {}
    totals: list[float] = []
    for name in PHOTOS:
        data = (REPO / "tests" / "data" / name).read_bytes()
        pipeline.process(data, options)  # warm-up per photo size
        for _ in range(repeats):
            start = time.perf_counter()
            portrait = pipeline.process(data, options)
            encode_start = time.perf_counter()
            encode_portrait(portrait, OutputFormat.PNG, options)
            end = time.perf_counter()
            for stage, seconds in portrait.timings.items():
                per_stage.setdefault(stage, []).append(seconds)
            per_stage.setdefault("encode_png", []).append(end - encode_start)
            totals.append(end - start)
    result = {stage: statistics.median(values) for stage, values in per_stage.items()}
    result["TOTAL (end to end)"] = statistics.median(totals)
    return result


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument(
        "--precision", type=Precision, choices=list(Precision), default=Precision.AUTO, help="ISNet's arithmetic"
    )
    args = parser.parse_args()
    settings = Settings(models_dir=REPO / "models", matting_precision=args.precision, _env_file=None)
    pipeline = build_pipeline(settings)
    yardstick = yardstick_seconds(settings.models_dir)
    print(f"# facecraft pipeline benchmark, {datetime.now(UTC):%Y-%m-%d}")
    command = f"benchmarks/pipeline_bench.py --repeats {args.repeats} --precision {args.precision}"
    print(f"# command: .venv/bin/python {command}")
    isnet = isnet_model_name(settings.matting_precision, "cpu")
    print(f"# machine: {platform.processor() or platform.machine()}, {_cpu_model()}, {_cores()} cores")
    print(f"# photos: {len(PHOTOS)} from tests/data, output 648x648 PNG, ISNet ({isnet}) at {settings.matting_size}px")
    print(f"# yardstick: one ISNet inference at 1024x1024 = {yardstick:.3f} s")
    for mode in (MattingMode.FAST, MattingMode.QUALITY):
        timings = time_mode(pipeline, mode, args.repeats)
        print(f"\n## matting={mode.value}: median seconds per photo")
        print(f"{'stage':<22}{'seconds':>10}{'ratio':>9}")
        for stage, seconds in timings.items():
            print(f"{stage:<22}{seconds:>10.4f}{seconds / yardstick:>9.3f}")
        target = TARGETS_ON_YARDSTICK_1_7[mode]
        ratio = timings["TOTAL (end to end)"] / yardstick
        verdict = "meets" if ratio <= target / 1.7 else "MISSES"
        print(f"target {target} s on a 1.7 s-yardstick machine = ratio {target / 1.7:.3f}: {verdict} ({ratio:.3f})")
    return 0


def _cpu_model() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return "unknown CPU"


def _cores() -> int:
    import os  # noqa: PLC0415

    return len(os.sched_getaffinity(0))


if __name__ == "__main__":
    sys.exit(main())
