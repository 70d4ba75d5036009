"""The GPU path for real: device choice, provider in use, ISNet speed and agreement, CUDA against CPU.

    .venv/bin/python benchmarks/gpu_bench.py [--repeats 20] [--models-dir models]

Runs what the :gpu image runs: `FACECRAFT_DEVICE=auto` resolved to ONNX Runtime providers, the ISNet session
built by `create_session` at a fixed input size, `session_device` reading what the built session really uses
and `confirm_device` refusing a silent CPU fallback. It then times one ISNet inference at 1024² (the
yardstick of every other benchmark) and at the matting size on both providers of the same machine, checks
that the CUDA matte agrees with the CPU one on a real photo, and measures throughput with the server's
worker threads sharing one session. On a machine without CUDA it stops after saying so (exit 2).
"""

from __future__ import annotations

import argparse
import hashlib
import os
import platform
import shutil
import statistics
import subprocess
import sys
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import numpy as np
import numpy.typing as npt
import onnxruntime as ort
from PIL import Image

from facecraft.config import Device
from facecraft.models.isnet import isnet_input, run_isnet
from facecraft.models.registry import get_model
from facecraft.runtime.device import CPU, CUDA, confirm_device, resolve_providers, session_device
from facecraft.runtime.sessions import create_session

PHOTO = Path(__file__).resolve().parents[1] / "tests" / "data" / "grace_hopper.jpg"


def timed(session: ort.InferenceSession, tensor: npt.NDArray[np.float32], warmups: int, repeats: int) -> float:
    """Median seconds of one inference, after warm-ups (CUDA plans kernels and grows its arena on the first)."""
    for _ in range(warmups):
        session.run(["output"], {"input": tensor})
    runs = []
    for _ in range(repeats):
        start = time.perf_counter()
        session.run(["output"], {"input": tensor})
        runs.append(time.perf_counter() - start)
    return statistics.median(runs)


def gpu_name() -> str:
    if not shutil.which("nvidia-smi"):
        return "no nvidia-smi"
    query = ["nvidia-smi", "--query-gpu=name,driver_version,memory.used,memory.total", "--format=csv,noheader"]
    return subprocess.run(query, capture_output=True, text=True, check=False).stdout.strip()


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--models-dir", type=Path, default=Path(os.environ.get("FACECRAFT_MODELS_DIR", "models")))
    parser.add_argument("--repeats", type=int, default=20)
    parser.add_argument("--matting-size", type=int, default=448)
    parser.add_argument("--threads", type=int, default=2, help="worker threads sharing one session")
    args = parser.parse_args()

    spec = get_model("isnet")
    model = args.models_dir / spec.file
    digest = hashlib.sha256(model.read_bytes()).hexdigest()
    python = platform.python_version()
    print(f"# {platform.machine()}, {os.cpu_count()} CPUs, Python {python}, onnxruntime {ort.__version__}")
    print(f"# GPU: {gpu_name()}")
    print(f"# model {spec.file}: sha256 {'matches the registry' if digest == spec.sha256 else 'MISMATCH ' + digest}")
    print(f"# providers available: {', '.join(ort.get_available_providers())}")

    providers, expected = resolve_providers(Device.AUTO)
    if expected != "cuda":
        print("CUDA is not available to ONNX Runtime here: nothing to measure")
        return 2
    sizes = (1024, args.matting_size)
    cuda = {size: create_session(model, providers, fixed_hw=(size, size)) for size in sizes}
    used = list(cuda[1024].get_providers())
    confirm_device(Device.CUDA, expected, session_device(used))
    print(f"# FACECRAFT_DEVICE=auto -> {expected}; the built session uses {used}")
    cpu = {size: create_session(model, [CPU], fixed_hw=(size, size)) for size in sizes}

    rgb = np.asarray(Image.open(PHOTO).convert("RGB"))
    print(f"{'ISNet input':<14}{'CUDA s':>10}{'CPU s':>10}{'CPU/CUDA':>10}")
    for size in sizes:
        tensor = isnet_input(rgb, (size, size))
        on_gpu = timed(cuda[size], tensor, warmups=5, repeats=args.repeats)
        on_cpu = timed(cpu[size], tensor, warmups=1, repeats=3)
        print(f"{size}²{'':<9}{on_gpu:>10.4f}{on_cpu:>10.3f}{on_cpu / on_gpu:>10.1f}")

    size = args.matting_size
    gpu_matte = run_isnet(cuda[size], rgb, size)
    cpu_matte = run_isnet(cpu[size], rgb, size)
    difference = np.abs(gpu_matte - cpu_matte)
    agree = np.mean((gpu_matte >= 0.5) == (cpu_matte >= 0.5))
    print(
        f"matte CUDA vs CPU at {size}² on {PHOTO.name}: max |diff| {difference.max():.2e}, "
        f"mean {difference.mean():.2e}, same side of 0.5 on {agree * 100:.3f} % of pixels"
    )

    tensor = isnet_input(rgb, (size, size))
    jobs = 20 * args.threads
    with ThreadPoolExecutor(args.threads) as pool:
        start = time.perf_counter()
        list(pool.map(lambda _: cuda[size].run(["output"], {"input": tensor}), range(jobs)))
        elapsed = time.perf_counter() - start
    print(f"{args.threads} threads sharing one CUDA session at {size}²: {jobs / elapsed:.1f} inferences/s")
    print(f"# GPU after the runs: {gpu_name()}")
    return 0 if CUDA in used and digest == spec.sha256 else 1


if __name__ == "__main__":
    sys.exit(main())
