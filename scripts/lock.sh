#!/usr/bin/env bash
# Regenerates the hash-locked requirement files from requirements/*.in (needs the package index).
# mediapipe is locked on its own and installed with --no-deps: its wheel declares jax, jaxlib,
# matplotlib, GUI opencv-contrib, sentencepiece and sounddevice, which the solutions we use never load.
set -euo pipefail
cd "$(dirname "$0")/../requirements"
tools=$(mktemp -d)
trap 'rm -rf "$tools"' EXIT
python3 -m venv "$tools"
"$tools/bin/pip" install -q pip-tools==7.6.2
compile() { "$tools/bin/pip-compile" -q --generate-hashes --allow-unsafe --strip-extras --no-header --no-emit-index-url --no-emit-find-links "$@"; }
compile -o runtime.lock runtime.in
compile -o dev.lock dev.in
compile -o build.lock build.in
# GPU: the same set with onnxruntime-gpu in place of onnxruntime.
sed 's/^onnxruntime$/onnxruntime-gpu/' runtime.in > "$tools/gpu.in"
compile -o gpu.lock "$tools/gpu.in"
# mediapipe: resolve normally, then keep only mediapipe's own block (name + hashes).
compile -o "$tools/mediapipe.full" mediapipe.in
{
  echo "# mediapipe alone; install with: pip install --no-deps --require-hashes -r requirements/mediapipe.lock"
  awk '/^mediapipe==/{keep=1; print; next} keep && /^ +--hash/{print; next} {keep=0}' "$tools/mediapipe.full"
} > mediapipe.lock
# GPU image: NVIDIA's CUDA/cuDNN wheels that onnxruntime-gpu's [cuda,cudnn] extras name, resolved against
# gpu.lock; keep only the packages gpu.lock does not pin (both files are installed together, --no-deps).
compile -o "$tools/gpu-cuda.full" gpu-cuda.in
python3 - "$tools/gpu-cuda.full" <<'PY'
import re
import sys

pinned = set(re.findall(r"^([A-Za-z0-9._-]+)==", open("gpu.lock").read(), re.M))
out = ["# CUDA / cuDNN wheels for onnxruntime-gpu (see gpu-cuda.in); install with gpu.lock, --no-deps --require-hashes"]
keep = False
for line in open(sys.argv[1]).read().splitlines():
    match = re.match(r"^([A-Za-z0-9._-]+)==", line)
    if match:
        keep = match.group(1) not in pinned
    elif not line.startswith(" "):
        keep = False
    if keep:
        out.append(line)
open("gpu-cuda.lock", "w").write("\n".join(out) + "\n")
PY
