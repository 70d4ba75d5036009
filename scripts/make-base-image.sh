#!/usr/bin/env bash
# Build a local stand-in for the python:3.11-slim base image, for machines that can reach the Debian
# and Python package mirrors but no container registry (our CI). It is tagged python:3.11-slim so the
# Dockerfile's default BASE_IMAGE resolves to it; skipped when that tag already exists.
#
# Real users and the release build do NOT need this: they build against the official python:3.11-slim
# (ideally pinned by digest: --build-arg BASE_IMAGE=python:3.11-slim@sha256:...). Both are Debian
# bookworm with CPython 3.11, so the same Dockerfile works on either; this one's python is Debian's
# /usr/bin/python3.11 instead of /usr/local/bin/python3.11.
#
#   scripts/make-base-image.sh [TAG]     (default TAG: python:3.11-slim; FORCE=1 rebuilds)
#   ARCH=arm64 scripts/make-base-image.sh  an arm64 stand-in, tagged facecraft-base:3.11-slim-arm64 by default
#
# ARCH=arm64 on an x86-64 machine runs debootstrap for a foreign architecture: it needs qemu-user-static
# and an aarch64 handler registered in binfmt_misc (scripts/qemu-binfmt.sh sets both up). The image is
# imported with --platform linux/arm64 so that `docker build --platform linux/arm64` accepts it as a
# base; it gets its own tag because the classic image store keeps one image per tag, not one per platform.
set -euo pipefail
cd "$(dirname "$0")/.."

ARCH=${ARCH:-$(dpkg --print-architecture 2>/dev/null || echo amd64)}
HOST_ARCH=$(dpkg --print-architecture 2>/dev/null || echo amd64)
if [ "$ARCH" = "$HOST_ARCH" ]; then
  TAG=${1:-python:3.11-slim}
else
  TAG=${1:-facecraft-base:3.11-slim-$ARCH}
fi
SUITE=bookworm
MIRROR=${DEBIAN_MIRROR:-http://deb.debian.org/debian}
DOCKER=${DOCKER:-docker}

say() { echo "make-base-image: $*" >&2; }

if [ "${FORCE:-0}" != 1 ] && "$DOCKER" image inspect "$TAG" >/dev/null 2>&1; then
  say "$TAG already exists ($("$DOCKER" image inspect -f '{{.Id}}' "$TAG" | cut -c1-19)); FORCE=1 rebuilds"
  exit 0
fi
command -v debootstrap >/dev/null || {
  say "error: debootstrap missing (scripts/docker-engine.sh installs it)"
  exit 1
}
[ "$(id -u)" -eq 0 ] || {
  say "error: debootstrap needs root"
  exit 1
}

foreign=()
if [ "$ARCH" != "$HOST_ARCH" ]; then
  # Registers qemu for the foreign architecture if it is not yet (fails with the reason if it cannot).
  scripts/qemu-binfmt.sh "$ARCH"
  foreign=(--arch "$ARCH")
fi

rootfs=$(mktemp -d /tmp/facecraft-base.XXXXXX)
cleanup() {
  umount "$rootfs/proc" 2>/dev/null || true
  rm -rf "$rootfs" "$rootfs.layer.tar"
}
trap cleanup EXIT

start=$(date +%s)
say "debootstrap $SUITE (minbase, $ARCH) into $rootfs"
debootstrap --variant=minbase "${foreign[@]}" \
  --include=python3,python3-venv,python3-pip,ca-certificates \
  "$SUITE" "$rootfs" "$MIRROR" >"$rootfs.log" 2>&1 || {
  tail -n 30 "$rootfs.log" >&2
  exit 1
}
rm -f "$rootfs.log"

# pip must be allowed to install into the image's venvs/system (python:3.11-slim has no such marker).
rm -f "$rootfs"/usr/lib/python3*/EXTERNALLY-MANAGED
# This network intercepts TLS: trust the host's extra CAs so pip and npm inside builds can verify the
# index (PIP_CERT / NODE_EXTRA_CA_CERTS below point both at the system bundle; the official image
# needs neither).
if compgen -G "/usr/local/share/ca-certificates/*.crt" >/dev/null; then
  cp /usr/local/share/ca-certificates/*.crt "$rootfs/usr/local/share/ca-certificates/"
  chroot "$rootfs" update-ca-certificates >/dev/null
fi
ln -sf python3 "$rootfs/usr/bin/python"
# Same slimming as the official image: no apt lists, docs or man pages.
rm -rf "$rootfs"/var/lib/apt/lists/* "$rootfs"/var/cache/apt/*.bin "$rootfs"/usr/share/doc/* \
  "$rootfs"/usr/share/man/* "$rootfs"/usr/share/locale/*

ENVS=(PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin LANG=C.UTF-8
  PIP_CERT=/etc/ssl/certs/ca-certificates.crt NODE_EXTRA_CA_CERTS=/etc/ssl/certs/ca-certificates.crt)
if [ "$ARCH" = "$HOST_ARCH" ]; then
  say "importing as $TAG"
  changes=()
  for e in "${ENVS[@]}"; do changes+=(--change "ENV $e"); done
  tar -C "$rootfs" -c . | "$DOCKER" import "${changes[@]}" --change 'CMD ["python3"]' - "$TAG" >/dev/null
else
  # `docker import --platform` is ignored by a daemon without experimental features (20.10 stamps its
  # own architecture on every import), and BuildKit skips a local base whose architecture differs from
  # --platform. So write the image archive that `docker load` reads: one layer, a config naming arm64.
  say "loading as $TAG (linux/$ARCH)"
  tar -C "$rootfs" -c . >"$rootfs.layer.tar"
  python3 - "$rootfs.layer.tar" "$TAG" "$ARCH" "${ENVS[@]}" <<'PY' | "$DOCKER" load >/dev/null
import hashlib, io, json, sys, tarfile, time

layer, tag, arch, env = sys.argv[1], sys.argv[2], sys.argv[3], sys.argv[4:]
digest = hashlib.sha256()
with open(layer, "rb") as fh:
    for block in iter(lambda: fh.read(1 << 20), b""):
        digest.update(block)
created = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())
config = {
    "architecture": arch, "os": "linux", "created": created,
    "config": {"Env": env, "Cmd": ["python3"]},
    "rootfs": {"type": "layers", "diff_ids": [f"sha256:{digest.hexdigest()}"]},
    "history": [{"created": created, "created_by": f"scripts/make-base-image.sh (debootstrap --arch {arch})"}],
}
if arch == "arm64":
    config["variant"] = "v8"
config = json.dumps(config).encode()
config_name = hashlib.sha256(config).hexdigest() + ".json"
manifest = json.dumps([{"Config": config_name, "RepoTags": [tag], "Layers": ["layer.tar"]}]).encode()
with tarfile.open(fileobj=sys.stdout.buffer, mode="w|") as out:
    for name, data in ((config_name, config), ("manifest.json", manifest)):
        info = tarfile.TarInfo(name)
        info.size = len(data)
        out.addfile(info, io.BytesIO(data))
    out.add(layer, arcname="layer.tar")
PY
  rm -f "$rootfs.layer.tar"
fi
say "$TAG ($("$DOCKER" image inspect -f '{{.Os}}/{{.Architecture}}' "$TAG")) built in $(($(date +%s) - start)) s, $("$DOCKER" image inspect -f '{{.Size}}' "$TAG" | awk '{printf "%.0f MB", $1/1e6}')"
