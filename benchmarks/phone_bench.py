"""Phone photos end to end: 12 and 48 MP JPEG, 12 MP HEIC, sideways without EXIF, and server memory.

    .venv/bin/python benchmarks/phone_bench.py [--repeats 3] [--requests 16] [--skip-rss]

Inputs are made from tests/data/person_b.jpg (MIT, see tests/data/README.md) on first use and kept in
fixtures/benchmarks/ (ignored by git): upscaled to 12 MP (3024x4032-like) and 48 MP, the 12 MP one also
as HEIC (pillow-heif, x265) and turned 90 degrees with no EXIF tag. Every time is printed with its ratio
to the in-run yardstick (one raw ISNet inference at 1024x1024, see pipeline_bench.py), and each target
from issue #15 with its verdict. Peak server RSS is VmHWM of a live `facecraft serve` process
(MAX_CONCURRENT_JOBS=2) after `--requests` uploads sent 8 at a time.
"""

from __future__ import annotations

import argparse
import os
import platform
import statistics
import sys
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime
from pathlib import Path

import httpx

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from tests import phone_photos

from api_bench import _peak_rss_mb, _port, _start_server
from facecraft.config import MattingMode, OutputFormat, Settings
from facecraft.pipeline.encode import encode_portrait
from facecraft.pipeline.factory import build_pipeline
from facecraft.pipeline.options import PortraitOptions
from facecraft.pipeline.portrait import PortraitPipeline
from pipeline_bench import _cores, _cpu_model, yardstick_seconds

REPO = Path(__file__).resolve().parent.parent
FIXTURES = REPO / "fixtures" / "benchmarks"
SOURCE = REPO / "tests" / "data" / "person_b.jpg"

# Targets from issue #15, in yardstick units (ISNet-1024 inferences), and RSS in MB.
TIME_TARGETS = {"12mp.jpg": 0.30, "48mp.jpg": 0.40, "12mp.heic": 0.35}
RSS_TARGETS_MB = {"12mp.jpg": 1000.0, "48mp.jpg": 1500.0}


def inputs() -> dict[str, bytes]:
    """The benchmark photos, made once and cached under fixtures/benchmarks/."""
    FIXTURES.mkdir(parents=True, exist_ok=True)
    source = SOURCE.read_bytes()
    makers = {
        "1mp.jpg": lambda: phone_photos.upscaled(source, 1.0),
        "12mp.jpg": lambda: phone_photos.upscaled(source, 12.2),
        "48mp.jpg": lambda: phone_photos.upscaled(source, 48.8),
        "12mp.heic": lambda: phone_photos.upscaled(source, 12.2, fmt="HEIF", quality=80),
        "12mp_sideways.jpg": lambda: phone_photos.turned(phone_photos.upscaled(source, 12.2), 90),
    }
    photos = {}
    for name, make in makers.items():
        path = FIXTURES / name
        if not path.exists():
            started = time.perf_counter()
            path.write_bytes(make())
            print(f"# made {path.relative_to(REPO)} in {time.perf_counter() - started:.1f} s", file=sys.stderr)
        photos[name] = path.read_bytes()
    return photos


def end_to_end(pipeline: PortraitPipeline, data: bytes, repeats: int) -> tuple[float, dict[str, float], int]:
    """Median seconds for process + PNG encode (quality matting), median per stage, and the turn found."""
    options = PortraitOptions(matting=MattingMode.QUALITY)
    pipeline.process(data, options)  # warm-up
    totals: list[float] = []
    stages: dict[str, list[float]] = {}
    turn = 0
    for _ in range(repeats):
        start = time.perf_counter()
        portrait = pipeline.process(data, options)
        encode_portrait(portrait, OutputFormat.PNG, options)
        totals.append(time.perf_counter() - start)
        for stage, seconds in portrait.timings.items():
            stages.setdefault(stage, []).append(seconds)
        turn = portrait.turn_degrees
    return statistics.median(totals), {k: statistics.median(v) for k, v in stages.items()}, turn


def server_peak_rss_mb(data: bytes, requests: int, concurrency: int = 8) -> tuple[float, float]:
    """Peak RSS (MB) of a fresh server after `requests` uploads of `data`, `concurrency` at a time; idle RSS too."""
    port = _port()
    url = f"http://127.0.0.1:{port}"
    with tempfile.TemporaryDirectory() as tmp:
        server = _start_server(2, port, Path(tmp))
        try:
            started = time.perf_counter()
            while True:
                try:
                    if httpx.get(f"{url}/ready").status_code == 200:
                        break
                except httpx.TransportError:
                    pass
                if server.poll() is not None or time.perf_counter() - started > 300:
                    raise RuntimeError("server failed to become ready")
                time.sleep(0.2)
            idle = _peak_rss_mb(server.pid)

            def one(_: int) -> None:
                with httpx.Client(timeout=600) as http:
                    response = http.post(f"{url}/api/v1/process", files={"file": ("phone.jpg", data)})
                    response.raise_for_status()

            with ThreadPoolExecutor(concurrency) as pool:
                list(pool.map(one, range(requests)))
            return _peak_rss_mb(server.pid), idle
        finally:
            server.terminate()
            server.wait(60)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--requests", type=int, default=16, help="uploads per RSS measurement (8 at a time)")
    parser.add_argument("--skip-rss", action="store_true", help="no server memory measurement")
    args = parser.parse_args()
    photos = inputs()
    settings = Settings(models_dir=REPO / "models", _env_file=None)  # type: ignore[call-arg]
    pipeline = build_pipeline(settings)
    yardstick = yardstick_seconds(settings.models_dir)
    print(f"# facecraft phone-photo benchmark, {datetime.now(UTC):%Y-%m-%d %H:%M} UTC")
    print(f"# command: .venv/bin/python benchmarks/phone_bench.py --repeats {args.repeats} --requests {args.requests}")
    print(f"# machine: {platform.machine()}, {_cpu_model()}, {_cores()} cores, load average {os.getloadavg()[0]:.1f}")
    print(f"# yardstick: one ISNet inference at 1024x1024 = {yardstick:.3f} s")
    print("\n## end to end, matting=quality, 648x648 PNG: median seconds per photo")
    print(f"{'photo':<20}{'MB':>6}{'seconds':>9}{'ratio':>8}{'target':>8}  verdict  decode  detect  turn")
    results: dict[str, float] = {}
    for name, data in photos.items():
        seconds, stages, turn = end_to_end(pipeline, data, args.repeats)
        ratio = seconds / yardstick
        results[name] = seconds
        target = TIME_TARGETS.get(name)
        verdict = ("meets" if ratio <= target else "MISSES") if target else ""
        print(
            f"{name:<20}{len(data) / 1e6:>6.1f}{seconds:>9.3f}{ratio:>8.3f}{target or '':>8}  {verdict:<7}"
            f"{stages.get('decode', 0) / yardstick:>7.3f}{stages.get('detect', 0) / yardstick:>8.3f}  {turn}"
        )
    extra = (results["12mp_sideways.jpg"] - results["12mp.jpg"]) / yardstick
    print(f"sideways 12 MP costs {extra:+.3f} yardsticks over upright (retries run only when the first try fails)")
    if not args.skip_rss:
        print(f"\n## peak server RSS, MAX_CONCURRENT_JOBS=2, {args.requests} uploads 8 at a time")
        for name, target_mb in RSS_TARGETS_MB.items():
            peak, idle = server_peak_rss_mb(photos[name], args.requests)
            verdict = "meets" if peak <= target_mb else "MISSES"
            print(f"{name:<10} peak {peak:7.0f} MB (ready, idle: {idle:.0f} MB)  target {target_mb:.0f} MB: {verdict}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
