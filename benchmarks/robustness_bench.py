"""The matte's invariants on every test photo under phone-like conditions, in `quality`, `fast` and the passport preset.

    .venv/bin/python benchmarks/robustness_bench.py [--conditions dim hazy ...] [--settings quality fast passport]

Photos: the tuned test photos and crops from the held-out group photos (tests/pipeline/matte_invariants.py).
Conditions: dim, harsh light, noise, recompression, blur, thumbnail, mirror, greyscale, haze, tungsten, tilt,
upscale, vignetting (tests/pipeline/photo_conditions.py), each made from the committed photo at run time.
Per condition and setting: the lowest face and mouth mean alpha, the largest share of face pixels below 0.5, the
lowest torso mean (where the output shows the strip under the chin), the islands found; then every case that
misses a bound the tests assert (face >= 0.99 with none below 0.5, mouth >= 0.98, no island; torso >= 0.98 in
`quality` and the passport preset). The tests assert the face, mouth and islands under these conditions on two
photos (tests/pipeline/test_matte.py); the torso figures here are the open part.
"""

from __future__ import annotations

import argparse
import sys
from datetime import UTC, datetime
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path[:0] = [str(REPO), str(REPO / "benchmarks")]

from tests.pipeline.matte_invariants import (  # noqa: E402
    HELD_OUT_GROUPS,
    PLAIN,
    TUNED,
    Invariants,
    framed_options,
    group_crops,
    invariants,
    load_rgb,
)
from tests.pipeline.photo_conditions import CONDITIONS, Photo  # noqa: E402

from facecraft.config import MattingMode, Settings  # noqa: E402
from facecraft.pipeline.factory import build_pipeline  # noqa: E402
from facecraft.pipeline.options import PortraitOptions  # noqa: E402
from pipeline_bench import _cores, _cpu_model  # noqa: E402

SETTINGS: dict[str, PortraitOptions] = {
    "quality": PLAIN,
    "fast": PLAIN.model_copy(update={"matting": MattingMode.FAST}),
    "passport": framed_options("passport"),
}


def misses(found: Invariants, setting: str) -> list[str]:
    """The bounds of tests/pipeline/test_matte.py that `found` misses (torso only where the tests assert it)."""
    missed = []
    if found.face_mean < 0.99 or found.face_below_half > 0.0:
        missed.append(f"face {found.face_mean:.3f} ({found.face_below_half:.2%} below 0.5)")
    if found.mouth_mean < 0.98:
        missed.append(f"mouth {found.mouth_mean:.3f}")
    if found.islands:
        missed.append(f"{found.islands} islands")
    if setting != "fast" and found.torso_mean is not None and found.torso_mean < 0.98:
        missed.append(f"torso {found.torso_mean:.3f}")
    return missed


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--conditions", nargs="*", default=list(CONDITIONS), choices=list(CONDITIONS))
    parser.add_argument("--settings", nargs="*", default=list(SETTINGS), choices=list(SETTINGS))
    args = parser.parse_args()
    pipeline = build_pipeline(Settings(models_dir=REPO / "models", _env_file=None))
    print(f"# facecraft robustness benchmark, {datetime.now(UTC):%Y-%m-%d %H:%M} UTC")
    print(f"# command: .venv/bin/python benchmarks/robustness_bench.py --conditions {' '.join(args.conditions)}")
    print(f"# machine: {_cpu_model()}, {_cores()} cores")
    photos: dict[str, Photo] = {name: load_rgb(name) for name in TUNED}
    for name in HELD_OUT_GROUPS:
        for i, crop in enumerate(group_crops(pipeline, name)):
            photos[f"{name}:face{i}"] = crop
    print(f"# {len(photos)} photos x {len(args.conditions)} conditions x {len(args.settings)} settings")
    header = f"{'condition':<14}{'setting':<10}{'face min':>9}{'below .5':>9}{'mouth min':>10}{'torso min':>10}"
    print("\n" + header + f"{'islands':>8}{'misses':>8}")
    missed_cases: list[str] = []
    for condition in args.conditions:
        made = {name: CONDITIONS[condition](photo) for name, photo in photos.items()}
        for setting in args.settings:
            found = {name: invariants(pipeline.process_rgb(photo, SETTINGS[setting])) for name, photo in made.items()}
            torso = [f.torso_mean for f in found.values() if f.torso_mean is not None]
            missing = {name: misses(f, setting) for name, f in found.items()}
            missed_cases += [f"{condition} / {setting} / {name}: {', '.join(m)}" for name, m in missing.items() if m]
            print(
                f"{condition:<14}{setting:<10}{min(f.face_mean for f in found.values()):>9.3f}"
                f"{max(f.face_below_half for f in found.values()):>9.2%}"
                f"{min(f.mouth_mean for f in found.values()):>10.3f}"
                f"{min(torso) if torso else float('nan'):>10.3f}"
                f"{sum(f.islands for f in found.values()):>8}{sum(1 for m in missing.values() if m):>8}"
            )
    print(f"\n## cases that miss a bound ({len(missed_cases)})")
    for line in missed_cases:
        print(line)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
