#!/usr/bin/env bash
# Build the linux/arm64 CPU image on an x86-64 machine under QEMU emulation and smoke-test it there
# (`make docker-arm64`). Opt-in, not part of CI: the emulated build takes tens of minutes (README,
# "Development": arm64 here). The release builds the same Dockerfile for arm64 with buildx (scripts/release.sh).
#
#   scripts/docker-arm64.sh            engine, QEMU, both base stand-ins, build facecraft:cpu-arm64, smoke test
#   SKIP_BUILD=1 scripts/docker-arm64.sh   smoke-test the image built before
#
# No buildx needed: one platform at a time is what the engine's own BuildKit does (`docker build
# --platform linux/arm64`). Without a registry, FROM needs local base images of the right architecture:
# facecraft-base:3.11-slim-arm64 for the image itself and the amd64 python:3.11-slim stand-in for the
# models stage, which runs natively ($BUILDPLATFORM, see docker/Dockerfile). With a registry, set
# BASE_IMAGE=python:3.11-slim BUILD_BASE_IMAGE=python:3.11-slim and the official multi-platform image is used.
# Prints a timing line per step; the smoke test's /ready and photo times are the figures the README quotes.
set -euo pipefail
cd "$(dirname "$0")/.."

IMAGE=${IMAGE:-facecraft:cpu-arm64}
BASE_IMAGE=${BASE_IMAGE:-facecraft-base:3.11-slim-arm64}
BUILD_BASE_IMAGE=${BUILD_BASE_IMAGE:-python:3.11-slim}
# Under emulation the models load several times slower than natively: give /ready more time.
export READY_TIMEOUT=${READY_TIMEOUT:-900}
# and each request (the first photo builds the matte's ISNet session and runs it under emulation)
export REQUEST_TIMEOUT=${REQUEST_TIMEOUT:-900}

scripts/docker-engine.sh
eval "$(scripts/docker-engine.sh env)"
export DOCKER DOCKER_BUILDKIT
scripts/qemu-binfmt.sh arm64

stamp() { echo "=== docker-arm64: [$(($(date +%s) - t0)) s] $*"; }
t0=$(date +%s)
if [ "${SKIP_BUILD:-0}" != 1 ]; then
  case "$BASE_IMAGE" in facecraft-base:*) ARCH=arm64 scripts/make-base-image.sh "$BASE_IMAGE" ;; esac
  [ "$BUILD_BASE_IMAGE" != python:3.11-slim ] || scripts/make-base-image.sh
  stamp "base images ready; building $IMAGE for linux/arm64"
  "$DOCKER" build --platform linux/arm64 -f docker/Dockerfile \
    --build-arg DEVICE=cpu \
    --build-arg BASE_IMAGE="$BASE_IMAGE" --build-arg BUILD_BASE_IMAGE="$BUILD_BASE_IMAGE" \
    --build-arg VERSION="$(sed -n 's/^__version__ = "\(.*\)"/\1/p' src/facecraft/__init__.py)" \
    --build-arg REVISION="$(git rev-parse HEAD 2>/dev/null || echo unknown)" \
    --build-arg CREATED="$(date -u +%Y-%m-%dT%H:%M:%SZ)" \
    -t "$IMAGE" .
  stamp "built"
fi
platform=$("$DOCKER" image inspect -f '{{.Os}}/{{.Architecture}}' "$IMAGE")
[ "$platform" = linux/arm64 ] || {
  echo "docker-arm64: $IMAGE is $platform, not linux/arm64" >&2
  exit 1
}
echo "docker-arm64: $IMAGE $platform, $(($("$DOCKER" image inspect -f '{{.Size}}' "$IMAGE") / 1000000)) MB"
# The binaries inside really are aarch64 (not an amd64 image with an arm64 label).
"$DOCKER" run --rm --platform linux/arm64 --entrypoint python "$IMAGE" -c \
  'import platform; from importlib.metadata import version as v; print("docker-arm64: inside:", platform.machine(), "mediapipe", v("mediapipe"), "onnxruntime", v("onnxruntime"), "numpy", v("numpy"))'
stamp "smoke test under emulation"
scripts/smoke-test.sh "$IMAGE" -- --platform linux/arm64
stamp "done"
