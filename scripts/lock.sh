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
# The aarch64-only lines (added below) out first: pip-compile reads the old lock for pins to keep.
python3 - <<'PY'
kept, skip = [], False
for line in open("runtime.lock").read().splitlines():
    if not line.startswith(" "):
        skip = 'platform_machine == "aarch64"' in line or line.startswith("# linux/aarch64 only")
    if not skip:
        kept.append(line.replace(' ; platform_machine != "aarch64"', ""))
open("runtime.lock", "w").write("\n".join(kept) + "\n")
PY
compile -o runtime.lock runtime.in
# ONNX Runtime: one version per platform (onnxruntime-aarch64.in says why). Resolve the aarch64 pin against
# runtime.lock's other pins, put a marker on each side's onnxruntime, and add the aarch64-only packages.
sed -E -n '/^onnxruntime==/d; s/^([A-Za-z0-9._-]+==[^ ;]+).*/\1/p' runtime.lock >"$tools/runtime-pins.txt"
{ echo "-c $tools/runtime-pins.txt"; grep -E '^onnxruntime==' onnxruntime-aarch64.in; } >"$tools/ort-aarch64.in"
compile -o "$tools/ort-aarch64.lock" "$tools/ort-aarch64.in"
python3 - "$tools/ort-aarch64.lock" <<'PY'
import re
import sys

def blocks(text):
    """name==version line (without its trailing backslash) -> its --hash lines."""
    out, current = {}, None
    for line in text.splitlines():
        if re.match(r"^[A-Za-z0-9._-]+==", line):
            current = line.rstrip(" \\")
            out[current] = []
        elif current and line.lstrip().startswith("--hash"):
            out[current].append(line.rstrip(" \\"))
        else:
            current = None
    return out

runtime = open("runtime.lock").read()
pinned = set(blocks(runtime))
runtime = re.sub(r"^(onnxruntime==[^ ]+) \\$", r'\1 ; platform_machine != "aarch64" \\', runtime, count=1, flags=re.M)
extra = ["# linux/aarch64 only (onnxruntime-aarch64.in): ONNX Runtime and what it needs that runtime.lock does not pin"]
for pin, hashes in blocks(open(sys.argv[1]).read()).items():
    if pin not in pinned:
        extra.append(f'{pin} ; platform_machine == "aarch64" \\')
        extra.extend(f"{h} \\" for h in hashes[:-1])
        extra.append(hashes[-1])
open("runtime.lock", "w").write(runtime.rstrip("\n") + "\n" + "\n".join(extra) + "\n")
PY
compile -o dev.lock dev.in
compile -o build.lock build.in
# GPU: the same set with onnxruntime-gpu in place of onnxruntime.
sed 's/^onnxruntime$/onnxruntime-gpu/' runtime.in > "$tools/gpu.in"
compile -o gpu.lock "$tools/gpu.in"
# mediapipe: one version per platform (mediapipe.in). Resolve each version normally, keep only mediapipe's
# own block (name + hashes of every wheel of that version), and put the line's marker back on it.
{
  echo "# mediapipe alone; install with: pip install --no-deps --require-hashes -r requirements/mediapipe.lock"
  echo "# (one version per platform, from mediapipe.in; pip skips the line whose marker does not match)"
  grep -E '^mediapipe==' mediapipe.in | while IFS=';' read -r pin marker; do
    pin=$(echo "$pin" | sed 's/^ *//; s/ *$//')
    marker=$(echo "$marker" | sed 's/^ *//; s/ *$//')
    echo "$pin" >"$tools/mediapipe-one.in"
    compile -o "$tools/mediapipe.full" "$tools/mediapipe-one.in"
    awk -v marker="$marker" '/^mediapipe==/{keep=1; sub(/ \\$/, ""); print $0 " ; " marker " \\"; next}
      keep && /^ +--hash/{print; next} {keep=0}' "$tools/mediapipe.full"
    rm -f "$tools/mediapipe.full"
  done
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
# The arm64 CPU image installs runtime.lock + mediapipe.lock + build.lock on linux/aarch64: every package
# pinned there must have an aarch64 wheel (or be pure Python) with one of the locked hashes. pip downloads
# them for that platform into a temporary folder; a missing build fails the lock here, not the image build.
# pip download evaluates markers on this machine, not for --platform: keep the aarch64 lines, drop the others.
for_aarch64() {
  sed 's/ ; platform_machine == "aarch64"//; /platform_machine != "aarch64"/,/^[^ ]/{/platform_machine != "aarch64"/d; /^ /d}' "$1"
}
aarch64=()
for v in $(seq 17 36); do aarch64+=(--platform "manylinux_2_${v}_aarch64"); done
"$tools/bin/pip" download -q --disable-pip-version-check --no-deps --require-hashes --only-binary=:all: \
  "${aarch64[@]}" --platform manylinux2014_aarch64 --python-version 3.11 --implementation cp --abi cp311 \
  --dest "$tools/aarch64" -r <(for_aarch64 runtime.lock) -r build.lock -r <(for_aarch64 mediapipe.lock) ||
  { echo "lock: a locked package has no linux aarch64 wheel (see above)" >&2; exit 1; }
echo "lock: runtime.lock, mediapipe.lock and build.lock all install on linux/aarch64" >&2
