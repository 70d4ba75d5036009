"""The matte's invariants and costs, both matting modes, both foreground-colour estimators.

    .venv/bin/python benchmarks/matte_bench.py [--repeats 2] [--swap-photos person_a.jpg grace_hopper.jpg]

Invariants (no ground truth needed; definitions in tests/pipeline/matte_invariants.py) on every case the tests
use: the tuned test photos, faces cut by the frame and crops from the group photos (kept out of tuning); the
error against a known alpha on composites made here (a result over five new backgrounds); and the mean alpha over
hand-labelled regions that are not the subject (old background, a neighbour's hair).
Timings: the matte and foreground stages on those photos, the split from neighbours (two_faces, group3), and
quality mode end to end (default options, PNG) on the tuned photos scaled to 1 MP. Every time is also given as a
ratio to the yardstick: one raw ISNet inference at 1024x1024 in the same run (see benchmarks/pipeline_bench.py).
pymatting's estimate_foreground_ml is measured when pymatting is installed (`pip install pymatting`; a dev-only
comparison, not in the image).
"""

from __future__ import annotations

import argparse
import importlib
import statistics
import sys
import time
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path

import cv2
import numpy as np
import numpy.typing as npt

REPO = Path(__file__).resolve().parent.parent
sys.path[:0] = [str(REPO), str(REPO / "benchmarks")]

from tests.pipeline.matte_invariants import (  # noqa: E402
    LABELLED_BACKGROUND,
    PLAIN,
    SATURATED,
    TRUTH_BACKGROUNDS,
    TUNED,
    backgrounds,
    cases,
    framed_options,
    invariants,
    labelled_background_alpha,
    labelled_photo,
    load_rgb,
    swap_run,
    truth_composite,
    truth_error,
)

from facecraft.config import MattingMode, OutputFormat, Precision, Settings  # noqa: E402
from facecraft.imaging.foreground import estimate_foreground  # noqa: E402
from facecraft.models.registry import get_model, model_path  # noqa: E402
from facecraft.pipeline.encode import encode_portrait  # noqa: E402
from facecraft.pipeline.factory import build_pipeline, isnet_model_name  # noqa: E402
from facecraft.pipeline.options import PortraitOptions  # noqa: E402
from facecraft.pipeline.portrait import PortraitPipeline  # noqa: E402
from facecraft.runtime.sessions import create_session  # noqa: E402
from pipeline_bench import _cores, _cpu_model  # noqa: E402

Clock = Callable[[], float]
# On a shared machine wall time swings with other people's load; process CPU time much less. Both are printed,
# each as a ratio to the yardstick measured with the same clock in the same run.
CLOCKS: dict[str, Clock] = {"wall": time.perf_counter, "cpu": time.process_time}


def yardstick(models_dir: Path, repeats: int = 3) -> dict[str, float]:
    """Median wall and CPU seconds of one raw ISNet inference at 1024x1024."""
    path = model_path(get_model("isnet"), models_dir)
    assert path is not None
    session = create_session(path, ["CPUExecutionProvider"], threads=0, fixed_hw=(1024, 1024))
    tensor = np.random.default_rng(0).random((1, 3, 1024, 1024), dtype=np.float32)
    session.run(None, {"input": tensor})  # warm-up
    found: dict[str, list[float]] = {name: [] for name in CLOCKS}
    for _ in range(repeats):
        start = {name: clock() for name, clock in CLOCKS.items()}
        session.run(None, {"input": tensor})
        for name, clock in CLOCKS.items():
            found[name].append(clock() - start[name])
    return {name: statistics.median(values) for name, values in found.items()}


class Timed:
    """Wraps a callable and records its wall and CPU seconds per call."""

    def __init__(self, function: Callable[..., object]) -> None:
        self.function = function
        self.seconds: dict[str, list[float]] = {name: [] for name in CLOCKS}

    def __call__(self, *args: object, **kwargs: object) -> object:
        start = {name: clock() for name, clock in CLOCKS.items()}
        result = self.function(*args, **kwargs)
        for name, clock in CLOCKS.items():
            self.seconds[name].append(clock() - start[name])
        return result

    def row(self, label: str, stick: dict[str, float]) -> str:
        medians = {name: statistics.median(values) for name, values in self.seconds.items()}
        cells = [f"{medians[name]:>7.3f} s {medians[name] / stick[name]:>6.3f}" for name in CLOCKS]
        return f"{label:<34}" + "   ".join(cells)


Estimator = Callable[[npt.NDArray[np.uint8], npt.NDArray[np.float32]], npt.NDArray[np.uint8]]


def unchanged(rgb: npt.NDArray[np.uint8], alpha: npt.NDArray[np.float32]) -> npt.NDArray[np.uint8]:
    return rgb


def pymatting_ml() -> Estimator | None:
    try:
        pymatting = importlib.import_module("pymatting")  # dev-only comparison, untyped
    except ImportError:
        return None

    def estimate(rgb: npt.NDArray[np.uint8], alpha: npt.NDArray[np.float32]) -> npt.NDArray[np.uint8]:
        fg = np.asarray(pymatting.estimate_foreground_ml(rgb.astype(np.float64) / 255.0, alpha.astype(np.float64)))
        return np.asarray(np.clip(np.rint(fg * 255.0), 0, 255), dtype=np.uint8)

    return estimate


def invariant_table(pipeline: PortraitPipeline) -> None:
    photos = cases(pipeline)
    print(f"\n## invariants on {len(photos)} cases (face/mouth/torso: mean alpha; below: share of face < 0.5)")
    print(f"{'case':<26}{'mode':<9}{'face':>7}{'below':>7}{'mouth':>7}{'torso':>7}{'isl':>5}  method / warnings")
    worst: dict[str, dict[str, float]] = {}
    for name, rgb in photos.items():
        for mode in MattingMode:
            portrait = pipeline.process_rgb(rgb, PLAIN.model_copy(update={"matting": mode}))
            found = invariants(portrait)
            torso = "-" if found.torso_mean is None else f"{found.torso_mean:.3f}"
            print(
                f"{name:<26}{mode.value:<9}{found.face_mean:>7.3f}{found.face_below_half:>7.3f}"
                f"{found.mouth_mean:>7.3f}{torso:>7}{found.islands:>5}  {portrait.matte_method} {portrait.warnings}"
            )
            low = worst.setdefault(mode.value, {"face": 1.0, "mouth": 1.0, "torso": 1.0, "below": 0.0, "islands": 0})
            low["face"] = min(low["face"], found.face_mean)
            low["mouth"] = min(low["mouth"], found.mouth_mean)
            low["below"] = max(low["below"], found.face_below_half)
            low["islands"] = max(low["islands"], found.islands)
            if found.torso_mean is not None:
                low["torso"] = min(low["torso"], found.torso_mean)
    for label, low in worst.items():
        print(
            f"worst {label}: face {low['face']:.3f}, face < 0.5 {low['below']:.2%}, mouth {low['mouth']:.3f}, "
            f"torso {low['torso']:.3f}, islands {low['islands']}"
        )


def swap_table(pipeline: PortraitPipeline, names: list[str]) -> None:
    print("\n## background swap: alpha IoU of the re-run vs the first result; spill = edge colour shift toward")
    print("## the new colour (0..1) with blur fusion / without estimation / with pymatting ML")
    estimators: dict[str, Estimator | None] = {
        "blur": estimate_foreground,
        "none": unchanged,
        "ml": pymatting_ml(),
    }
    for name in names:
        for mode in MattingMode:
            options = PLAIN.model_copy(update={"matting": mode})
            first = pipeline.process_rgb(load_rgb(name), options)
            height, width = first.alpha.shape
            for background, image in backgrounds(height, width).items():
                cells = []
                iou = 0.0
                for label, estimator in estimators.items():
                    if estimator is None or (background not in SATURATED and label != "blur"):
                        continue
                    pipeline.foreground = estimator
                    swap = swap_run(pipeline, first, background, image, options)
                    iou = swap.iou if label == "blur" else iou
                    if swap.spill is not None:
                        cells.append(f"{label} {swap.spill:+.3f}")
                pipeline.foreground = estimate_foreground
                print(f"{name:<18}{mode.value:<9}{background:<9} IoU {iou:.3f}  {'  '.join(cells)}")


def truth_table(pipeline: PortraitPipeline) -> None:
    """Composites with a known alpha (matte_invariants.truth_composite): each tuned photo's quality result over a
    solid colour, two textures and two busy photos, on a canvas wider than it; both modes matte the same canvases."""
    print("\n## composites with a known alpha (the quality result over a new background, the subject at the bottom")
    print("## centre of a larger canvas): mean squared alpha error x 1e3 and IoU of alpha > 0.5, per photo and mean")
    found: dict[tuple[str, str], list[tuple[float, float, float]]] = {}
    print(f"{'photo':<18}" + "".join(f"{background:>22}" for background in TRUTH_BACKGROUNDS))
    for name in TUNED:
        first = pipeline.process_rgb(load_rgb(name), PLAIN)
        cells: dict[str, list[str]] = {mode.value: [] for mode in MattingMode}
        for background in TRUTH_BACKGROUNDS:
            canvas, truth = truth_composite(first, background)
            for mode in MattingMode:
                error = truth_error(pipeline, canvas, truth, PLAIN.model_copy(update={"matting": mode}))
                found.setdefault((mode.value, background), []).append((error.mse, error.iou, error.kept))
                cells[mode.value].append(f"{error.mse * 1e3:>12.2f} {error.iou:>8.3f}")
        for label, row in cells.items():
            print(f"{name.removesuffix('.jpg')[:10] + ' ' + label:<18}" + "".join(f"{cell:>22}" for cell in row))
    for mode in MattingMode:
        means = [found[(mode.value, background)] for background in TRUTH_BACKGROUNDS]
        summary = [f"{np.mean([e[0] for e in m]) * 1e3:>12.2f} {min(e[1] for e in m):>8.3f}" for m in means]
        print(f"{'mean/min ' + mode.value:<18}" + "".join(f"{cell:>22}" for cell in summary))
    # Which way each mode errs: background kept (the matte above the truth) or subject lost (below it).
    for mode in MattingMode:
        means = [found[(mode.value, background)] for background in TRUTH_BACKGROUNDS]
        kept = [f"{np.mean([e[2] for e in m]) * 1e3:>12.2f} {'kept':>8}" for m in means]
        print(f"{'of which ' + mode.value:<18}" + "".join(f"{cell:>22}" for cell in kept))


def labelled_table(pipeline: PortraitPipeline) -> None:
    """Mean alpha over hand-labelled regions that are not the subject (old background, a neighbour's hair)."""
    frames = [None, "passport", "us_passport", "canada_passport"]
    print("\n## mean alpha over hand-labelled regions that are not the subject (0 is right; - : not in the frame)")
    print(f"{'photo':<26}{'mode':<9}" + "".join(f"{frame or 'face box':>17}" for frame in frames))
    for name, polygon in LABELLED_BACKGROUND.items():
        for mode in (MattingMode.QUALITY, MattingMode.FAST):
            cells = []
            for frame in frames:
                kept = labelled_background_alpha(
                    pipeline.process_rgb(load_rgb(labelled_photo(name)), framed_options(frame, mode)), polygon
                )
                cells.append(f"{'-' if kept is None else f'{kept:.3f}':>17}")
            print(f"{name:<26}{mode.value:<9}" + "".join(cells))


def timing_table(pipeline: PortraitPipeline, stick: dict[str, float], repeats: int) -> None:
    print("\n## median seconds and ratio to the yardstick:        wall (s, ratio)    cpu (s, ratio)")
    matte, foreground = pipeline.matter.matte, pipeline.foreground
    try:
        for mode in MattingMode:
            timed_matte, timed_fg = Timed(matte), Timed(foreground)
            pipeline.matter.matte = timed_matte  # type: ignore[assignment,method-assign]
            pipeline.foreground = timed_fg  # type: ignore[assignment]
            options = PLAIN.model_copy(update={"matting": mode})
            for name in TUNED:
                rgb = load_rgb(name)
                for _ in range(repeats):
                    pipeline.process_rgb(rgb, options)
            print(timed_matte.row(f"{mode.value}: matte stage", stick))
            print(timed_fg.row(f"{mode.value}: foreground stage", stick))
    finally:
        pipeline.matter.matte = matte  # type: ignore[method-assign]
        pipeline.foreground = foreground
    # The split between the subject and its neighbours is a stage of its own (wall time only), run only when another
    # face is found: timed on the two tuned photos with a neighbour beside the subject.
    for frame in (None, "us_passport"):
        options = framed_options(frame)
        split = [
            pipeline.process_rgb(load_rgb(name), options).timings["neighbours"]
            for name in ("two_faces.jpg", "group3.jpg")
            for _ in range(repeats)
        ]
        seconds = statistics.median(split)
        label = f"neighbour split, {frame or 'face box'}"
        print(f"{label:<34}{seconds:>7.3f} s {seconds / stick['wall']:>6.3f}    (wall only)")
    rgb = np.asarray(cv2.resize(load_rgb("grace_hopper.jpg"), (648, 648)), dtype=np.uint8)
    alpha = pipeline.process_rgb(rgb, PLAIN).alpha
    for label, estimator in {"blur fusion": estimate_foreground, "pymatting ML": pymatting_ml()}.items():
        if estimator is None:
            print(f"648x648 {label:<26}(pymatting not installed)")
            continue
        estimator(rgb, alpha)  # warm-up: pymatting compiles with numba on first use
        timed = Timed(estimator)
        for _ in range(repeats):
            timed(rgb, alpha)
        print(timed.row(f"648x648 {label}", stick))
    options = PortraitOptions(matting=MattingMode.QUALITY)

    def end_to_end(image: npt.NDArray[np.uint8]) -> None:
        encode_portrait(pipeline.process_rgb(image, options), OutputFormat.PNG, options)

    timed_total = Timed(end_to_end)
    for name in TUNED:
        rgb = load_rgb(name)
        scale = (1_000_000 / (rgb.shape[0] * rgb.shape[1])) ** 0.5
        size = (round(rgb.shape[1] * scale), round(rgb.shape[0] * scale))
        big = np.asarray(cv2.resize(rgb, size, interpolation=cv2.INTER_CUBIC), dtype=np.uint8)
        end_to_end(big)
        for _ in range(repeats):
            timed_total(big)
    print(timed_total.row("quality end to end, 1 MP, PNG", stick) + "   (budget: ratio 0.30)")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--repeats", type=int, default=2)
    parser.add_argument("--swap-photos", nargs="*", default=["person_a.jpg", "grace_hopper.jpg"])
    parser.add_argument("--skip", nargs="*", default=[], choices=["invariants", "swap", "truth", "labelled", "timing"])
    parser.add_argument(
        "--precision", type=Precision, choices=list(Precision), default=Precision.AUTO, help="ISNet's arithmetic"
    )
    args = parser.parse_args()
    settings = Settings(models_dir=REPO / "models", matting_precision=args.precision, _env_file=None)
    pipeline = build_pipeline(settings)
    stick = yardstick(settings.models_dir)
    print(f"# facecraft matte benchmark, {datetime.now(UTC):%Y-%m-%d}")
    command = f"benchmarks/matte_bench.py --repeats {args.repeats} --precision {args.precision}"
    print(f"# command: .venv/bin/python {command}")
    isnet = isnet_model_name(settings.matting_precision, "cpu")
    print(f"# machine: {_cpu_model()}, {_cores()} cores; ISNet ({isnet}) at {settings.matting_size}px")
    print(f"# yardstick: one ISNet inference at 1024x1024 = {stick['wall']:.3f} s wall, {stick['cpu']:.3f} s cpu")
    if "timing" not in args.skip:
        timing_table(pipeline, stick, args.repeats)
    if "invariants" not in args.skip:
        invariant_table(pipeline)
    if "swap" not in args.skip:
        swap_table(pipeline, args.swap_photos)
    if "truth" not in args.skip:
        truth_table(pipeline)
    if "labelled" not in args.skip:
        labelled_table(pipeline)
    return 0


if __name__ == "__main__":
    sys.exit(main())
