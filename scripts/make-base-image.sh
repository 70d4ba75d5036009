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
set -euo pipefail

TAG=${1:-python:3.11-slim}
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

rootfs=$(mktemp -d /tmp/facecraft-base.XXXXXX)
cleanup() {
  umount "$rootfs/proc" 2>/dev/null || true
  rm -rf "$rootfs"
}
trap cleanup EXIT

start=$(date +%s)
say "debootstrap $SUITE (minbase) into $rootfs"
debootstrap --variant=minbase \
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

say "importing as $TAG"
tar -C "$rootfs" -c . | "$DOCKER" import \
  --change 'ENV PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin' \
  --change 'ENV LANG=C.UTF-8' \
  --change 'ENV PIP_CERT=/etc/ssl/certs/ca-certificates.crt' \
  --change 'ENV NODE_EXTRA_CA_CERTS=/etc/ssl/certs/ca-certificates.crt' \
  --change 'CMD ["python3"]' \
  - "$TAG" >/dev/null
say "$TAG built in $(($(date +%s) - start)) s, $("$DOCKER" image inspect -f '{{.Size}}' "$TAG" | awk '{printf "%.0f MB", $1/1e6}')"
