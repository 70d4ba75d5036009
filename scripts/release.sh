#!/usr/bin/env bash
# Build and push a release of both images with buildx. The release workflow (.github/workflows/release.yml)
# runs exactly this on a tag vX.Y.Z; anybody with buildx, QEMU for arm64 and `docker login` can too.
#
#   scripts/release.sh VERSION [--dry-run]      e.g. scripts/release.sh 1.2.0
#   scripts/release.sh VERSION --tags           the tags it pushes, one per line (the workflow smoke-tests each)
#
# Pushes, to $REPO (default djok/facecraft):
#   CPU  linux/amd64 + linux/arm64 (one multi-platform manifest list)  :VERSION-cpu  :cpu  :latest
#   GPU  linux/amd64                                                   :VERSION-gpu  :gpu
# `:latest` is the CPU image on purpose: the Hub still holds an old, unknown `:latest` (original defect
# D-25), and `docker pull djok/facecraft` must give the current CPU release. The GPU image is amd64 only
# (onnxruntime-gpu and NVIDIA's CUDA wheels publish no aarch64 build of this set).
# Refuses a dirty git tree or a malformed VERSION (MAJOR.MINOR.PATCH, optional -rc.N) unless --dry-run,
# which only prints the commands it would run. BASE_IMAGE=python:3.11-slim@sha256:... pins the base.
set -euo pipefail
cd "$(dirname "$0")/.."

DOCKER=${DOCKER:-docker}
REPO=${REPO:-djok/facecraft}
CPU_PLATFORMS=${CPU_PLATFORMS:-linux/amd64,linux/arm64}
GPU_PLATFORMS=${GPU_PLATFORMS:-linux/amd64}
VERSION=
MODE=push
for arg in "$@"; do
  case "$arg" in
  --dry-run) MODE=dry ;;
  --tags) MODE=tags ;;
  -h | --help)
    sed -n '2,18p' "$0"
    exit 0
    ;;
  -*)
    echo "release: unknown option $arg" >&2
    exit 2
    ;;
  *) VERSION=$arg ;;
  esac
done
[ -n "$VERSION" ] || {
  echo "usage: $0 VERSION [--dry-run | --tags]" >&2
  exit 2
}

cpu_tags=("$REPO:$VERSION-cpu" "$REPO:cpu" "$REPO:latest")
gpu_tags=("$REPO:$VERSION-gpu" "$REPO:gpu")
if [ $MODE = tags ]; then
  printf '%s\n' "${cpu_tags[@]}" "${gpu_tags[@]}"
  exit 0
fi

problems=()
[[ "$VERSION" =~ ^[0-9]+\.[0-9]+\.[0-9]+(-rc\.[0-9]+)?$ ]] || problems+=("malformed version '$VERSION' (want MAJOR.MINOR.PATCH or MAJOR.MINOR.PATCH-rc.N)")
if ! git diff --quiet HEAD -- 2>/dev/null || [ -n "$(git status --porcelain 2>/dev/null)" ]; then
  problems+=("git tree is not clean (commit or stash first)")
fi
code_version=$(sed -n 's/^__version__ = "\(.*\)"/\1/p' src/facecraft/__init__.py)
[ "$code_version" = "$VERSION" ] || problems+=("VERSION $VERSION differs from facecraft.__version__ $code_version")
if [ ${#problems[@]} -gt 0 ]; then
  for p in "${problems[@]}"; do echo "release: $p" >&2; done
  if [ $MODE = push ]; then
    echo "release: refusing to release" >&2
    exit 1
  fi
  echo "release: (dry run: continuing despite the above)" >&2
fi

run() {
  if [ $MODE = dry ]; then
    echo "$DOCKER $*"
  else
    "$DOCKER" "$@"
  fi
}

if [ $MODE = push ]; then
  "$DOCKER" buildx version >/dev/null 2>&1 || {
    echo "release: needs docker buildx (a multi-platform image cannot be built by the classic builder)" >&2
    exit 1
  }
fi

revision=${REVISION:-$(git rev-parse HEAD 2>/dev/null || echo unknown)}
created=${CREATED:-$(date -u +%Y-%m-%dT%H:%M:%SZ)}
common=(-f docker/Dockerfile --build-arg "VERSION=$VERSION" --build-arg "REVISION=$revision" --build-arg "CREATED=$created")
[ -z "${BASE_IMAGE:-}" ] || common+=(--build-arg "BASE_IMAGE=$BASE_IMAGE")
tag_args() { for t in "$@"; do printf -- '-t\n%s\n' "$t"; done; }
mapfile -t cpu_t < <(tag_args "${cpu_tags[@]}")
mapfile -t gpu_t < <(tag_args "${gpu_tags[@]}")

# One build per image; --push uploads every platform and the manifest list that joins them.
run buildx build --platform "$CPU_PLATFORMS" "${common[@]}" --build-arg DEVICE=cpu "${cpu_t[@]}" --push .
run buildx build --platform "$GPU_PLATFORMS" "${common[@]}" --build-arg DEVICE=gpu "${gpu_t[@]}" --push .
# Show what landed: every platform of each version tag.
run buildx imagetools inspect "$REPO:$VERSION-cpu"
run buildx imagetools inspect "$REPO:$VERSION-gpu"
echo "release: ${cpu_tags[*]} ($CPU_PLATFORMS) ${gpu_tags[*]} ($GPU_PLATFORMS)" >&2
