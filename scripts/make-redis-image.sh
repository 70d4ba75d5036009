#!/usr/bin/env bash
# Build a local stand-in for the official redis:7-bookworm image, for machines that can reach the
# Debian package mirror but no container registry (our CI). It is built FROM the local python:3.11-slim
# stand-in (a Debian bookworm rootfs: scripts/make-base-image.sh) with Debian's redis-server 7.0 and is
# tagged redis:7-bookworm, the tag docker-compose.yml's `scale` profile uses; skipped when that tag
# already exists (FORCE=1 rebuilds).
#
# Real users do NOT need this: `docker compose --profile scale up` pulls the official redis:7-bookworm.
# The stand-in behaves like it where Facecraft cares: `redis-server` as the command, data in /data,
# user redis = uid/gid 999 (so `user: "999:999"` in compose works with both), protected mode off
# (the official image compiles it off; here the entrypoint passes --protected-mode no first, so
# any option given later wins), redis-cli for the healthcheck.
#
#   scripts/make-redis-image.sh [TAG]    (default TAG: redis:7-bookworm)
set -euo pipefail
cd "$(dirname "$0")/.."

TAG=${1:-redis:7-bookworm}
BASE=${BASE_IMAGE:-python:3.11-slim}
DOCKER=${DOCKER:-docker}

say() { echo "make-redis-image: $*" >&2; }

if [ "${FORCE:-0}" != 1 ] && "$DOCKER" image inspect "$TAG" >/dev/null 2>&1; then
  say "$TAG already exists ($("$DOCKER" image inspect -f '{{.Id}}' "$TAG" | cut -c1-19)); FORCE=1 rebuilds"
  exit 0
fi
"$DOCKER" image inspect "$BASE" >/dev/null 2>&1 || {
  say "error: base image $BASE missing (scripts/make-base-image.sh builds the stand-in)"
  exit 1
}

start=$(date +%s)
say "building $TAG from $BASE"
# The Dockerfile comes on stdin with no build context (nothing is copied in).
"$DOCKER" build -t "$TAG" --build-arg BASE="$BASE" - <<'DOCKERFILE'
ARG BASE
FROM ${BASE}
# hadolint ignore=DL3008,SC2016
RUN set -eu; \
    groupadd --system --gid 999 redis; \
    useradd --system --uid 999 --gid redis --home-dir /var/lib/redis --shell /usr/sbin/nologin redis; \
    apt-get update; \
    apt-get install -y --no-install-recommends redis-server; \
    rm -rf /var/lib/apt/lists/* /var/cache/apt/*.bin /var/log/apt /var/log/dpkg.log; \
    mkdir -p /data; \
    chown redis:redis /data; \
    printf '%s\n' '#!/bin/sh' \
      '# Stand-in for the official entrypoint: protected mode off (the official build default).' \
      'if [ "${1:-}" = redis-server ]; then shift; exec redis-server --protected-mode no "$@"; fi' \
      'exec "$@"' >/usr/local/bin/docker-entrypoint.sh; \
    chmod 755 /usr/local/bin/docker-entrypoint.sh
VOLUME /data
WORKDIR /data
USER 999:999
EXPOSE 6379
ENTRYPOINT ["/usr/local/bin/docker-entrypoint.sh"]
CMD ["redis-server"]
DOCKERFILE
say "$TAG built in $(($(date +%s) - start)) s: $("$DOCKER" run --rm --entrypoint redis-server "$TAG" --version)"
