#!/usr/bin/env bash
# Tag and push a release of both images.
#
#   scripts/release.sh VERSION [--dry-run]        e.g. scripts/release.sh 1.2.0
#
# Expects the images built locally from this exact commit (scripts/docker-ci.sh builds facecraft:cpu,
# `make docker-gpu` builds facecraft:gpu). Pushes, to $REPO (default djok/facecraft):
#   :VERSION-cpu  :cpu  :VERSION-gpu  :gpu  and  :latest = the CPU image
# `:latest` is pushed on purpose: the Hub still holds an old, unknown `:latest` (original defect D-25), and
# `docker pull djok/facecraft` must give the current CPU release, not that.
# Refuses a dirty git tree or a malformed VERSION (MAJOR.MINOR.PATCH, optional -rc.N) unless --dry-run,
# which only prints the docker commands it would run. `docker login` first (DOCKERHUB_USERNAME/TOKEN).
set -euo pipefail
cd "$(dirname "$0")/.."

DOCKER=${DOCKER:-docker}
REPO=${REPO:-djok/facecraft}
CPU_IMAGE=${CPU_IMAGE:-facecraft:cpu}
GPU_IMAGE=${GPU_IMAGE:-facecraft:gpu}
VERSION=
DRY=0
for arg in "$@"; do
  case "$arg" in
  --dry-run) DRY=1 ;;
  -h | --help)
    sed -n '2,13p' "$0"
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
  echo "usage: $0 VERSION [--dry-run]" >&2
  exit 2
}

problems=()
[[ "$VERSION" =~ ^[0-9]+\.[0-9]+\.[0-9]+(-rc\.[0-9]+)?$ ]] || problems+=("malformed version '$VERSION' (want MAJOR.MINOR.PATCH or MAJOR.MINOR.PATCH-rc.N)")
if ! git diff --quiet HEAD -- 2>/dev/null || [ -n "$(git status --porcelain 2>/dev/null)" ]; then
  problems+=("git tree is not clean (commit or stash first)")
fi
code_version=$(sed -n 's/^__version__ = "\(.*\)"/\1/p' src/facecraft/__init__.py)
[ "$code_version" = "$VERSION" ] || problems+=("VERSION $VERSION differs from facecraft.__version__ $code_version")
if [ ${#problems[@]} -gt 0 ]; then
  for p in "${problems[@]}"; do echo "release: $p" >&2; done
  if [ $DRY = 0 ]; then
    echo "release: refusing to release" >&2
    exit 1
  fi
  echo "release: (dry run: continuing despite the above)" >&2
fi

run() {
  if [ $DRY = 1 ]; then
    echo "$DOCKER $*"
  else
    "$DOCKER" "$@"
  fi
}

if [ $DRY = 0 ]; then
  for image in "$CPU_IMAGE" "$GPU_IMAGE"; do
    "$DOCKER" image inspect "$image" >/dev/null 2>&1 || {
      echo "release: $image not built" >&2
      exit 1
    }
    label=$("$DOCKER" image inspect -f '{{index .Config.Labels "org.opencontainers.image.version"}}' "$image")
    [ "$label" = "$VERSION" ] || {
      echo "release: $image is labelled version '$label', not $VERSION: rebuild it" >&2
      exit 1
    }
  done
fi

tags=()
for device in cpu gpu; do
  source_image=$CPU_IMAGE
  [ $device = gpu ] && source_image=$GPU_IMAGE
  for tag in "$VERSION-$device" "$device"; do
    run tag "$source_image" "$REPO:$tag"
    tags+=("$REPO:$tag")
  done
done
run tag "$CPU_IMAGE" "$REPO:latest"
tags+=("$REPO:latest")
for tag in "${tags[@]}"; do
  run push "$tag"
done
echo "release: ${tags[*]}" >&2
