#!/usr/bin/env bash
# What CI runs for the Docker release, in order, with a timing per step. Exit non-zero on the first failure.
#
#   scripts/docker-ci.sh
#
# 1 engine   start a private dockerd + compose v2 + hadolint (scripts/docker-engine.sh)
# 2 base     local stand-in for python:3.11-slim when no registry is reachable (scripts/make-base-image.sh)
# 3 lint     hadolint docker/Dockerfile
# 4 build    CPU image -> facecraft:cpu and djok/facecraft:cpu (the build itself verifies and loads every model)
# 5 size     docker image inspect (fails above MAX_IMAGE_MB, default 1000 MB)
# 6 smoke    scripts/smoke-test.sh facecraft:cpu
# 7 offline  --network none --read-only --cap-drop ALL: the server starts and processes a photo with nothing
#            downloaded at run time (request made from inside the container, stdlib Python)
# 8 compose  docker compose config; --profile cpu up -d --wait; smoke test --url; down -v
# 9 scale    queue mode: local redis:7-bookworm stand-in (scripts/make-redis-image.sh); --profile scale
#            up -d --wait --scale worker=2 (Redis + API + 2 workers, all healthy); smoke test --url;
#            /status shows 2 workers alive; down -v
# 10 tests   pytest tests/docker (image properties, release-script dry runs); makes the venv if missing
# Bounded: every step has a timeout (STEP_TIMEOUT, default 1500 s; the first build needs ~5-10 min).
set -euo pipefail
cd "$(dirname "$0")/.."

STEP_TIMEOUT=${STEP_TIMEOUT:-1500}
MAX_IMAGE_MB=${MAX_IMAGE_MB:-1000}
IMAGE=facecraft:cpu
scripts/docker-engine.sh
eval "$(scripts/docker-engine.sh env)"
export DOCKER DOCKER_BUILDKIT HADOLINT

declare -a SUMMARY=()
step() { # NAME COMMAND...
  local name=$1 start rc=0
  shift
  echo "=== docker-ci: $name"
  start=$(date +%s)
  # Functions run in a child bash (exported below) so that `timeout` can bound them.
  timeout "$STEP_TIMEOUT" bash -c 'set -euo pipefail; "$@"' step "$@" || rc=$?
  SUMMARY+=("$(printf '%-8s %4d s  %s' "$name" $(($(date +%s) - start)) "$([ $rc = 0 ] && echo ok || echo "FAILED ($rc)")")")
  if [ $rc != 0 ]; then
    printf '%s\n' "${SUMMARY[@]}"
    echo "docker-ci: step '$name' failed" >&2
    exit $rc
  fi
}

build() {
  local version revision created extra=()
  # DOCKER_BUILD_FLAGS: extra flags from the caller, e.g. the GitHub workflow's layer cache
  # (--load --cache-from type=local,... --cache-to type=local,...); empty here.
  read -ra extra <<<"${DOCKER_BUILD_FLAGS:-}"
  version=$(sed -n 's/^__version__ = "\(.*\)"/\1/p' src/facecraft/__init__.py)
  revision=$(git rev-parse HEAD 2>/dev/null || echo unknown)
  created=$(date -u +%Y-%m-%dT%H:%M:%SZ)
  "$DOCKER" build -f docker/Dockerfile --build-arg DEVICE=cpu \
    --build-arg VERSION="$version" --build-arg REVISION="$revision" --build-arg CREATED="$created" \
    "${extra[@]}" -t "$IMAGE" -t djok/facecraft:cpu .
}

size() {
  local bytes
  bytes=$("$DOCKER" image inspect -f '{{.Size}}' "$IMAGE")
  echo "image $IMAGE: $((bytes / 1000000)) MB uncompressed ($bytes bytes)"
  "$DOCKER" history --format '{{.Size}}\t{{.CreatedBy}}' "$IMAGE" | cut -c1-110 | head -n 12
  [ $((bytes / 1000000)) -le "$MAX_IMAGE_MB" ] || {
    echo "image larger than $MAX_IMAGE_MB MB" >&2
    return 1
  }
}

offline() {
  local name=facecraft-offline-$$ rc=0
  # No network at all, read-only root, no capabilities: models must already be inside, nothing may
  # be written outside the volumes and /tmp.
  "$DOCKER" run -d --name "$name" --network none --read-only --cap-drop ALL \
    --security-opt no-new-privileges --tmpfs /tmp \
    -v facecraft-ci-uploads:/app/uploads -v facecraft-ci-processed:/app/processed \
    -v "$PWD/tests/data:/data:ro" "$IMAGE" >/dev/null
  # -i: the script arrives on stdin (without it python reads nothing and "passes").
  "$DOCKER" exec -i "$name" python - >"$tmpdir/offline.out" <<'PY' || rc=$?
import json, struct, time, urllib.error, urllib.request, uuid

base = "http://127.0.0.1:8000"
deadline = time.time() + 180
while True:
    try:
        urllib.request.urlopen(base + "/ready", timeout=5)
        break
    except (OSError, urllib.error.HTTPError):
        if time.time() > deadline:
            raise SystemExit("offline: /ready not 200 within 180 s")
        time.sleep(0.5)
boundary = uuid.uuid4().hex
photo = open("/data/astronaut.jpg", "rb").read()
body = (
    f'--{boundary}\r\nContent-Disposition: form-data; name="size"\r\n\r\n256\r\n'
    f'--{boundary}\r\nContent-Disposition: form-data; name="file"; filename="a.jpg"\r\n'
    "Content-Type: image/jpeg\r\n\r\n"
).encode() + photo + f"\r\n--{boundary}--\r\n".encode()
request = urllib.request.Request(
    base + "/api/v1/process/quick", data=body, method="POST",
    headers={"Content-Type": f"multipart/form-data; boundary={boundary}"},
)
data = urllib.request.urlopen(request, timeout=120).read()
assert data[:8] == b"\x89PNG\r\n\x1a\n" and struct.unpack(">II", data[16:24]) == (256, 256), "not a 256x256 PNG"
print(f"offline: --network none --read-only --cap-drop ALL: processed a photo, PNG {len(data)} bytes")
PY
  cat "$tmpdir/offline.out"
  [ $rc != 0 ] || grep -q "processed a photo" "$tmpdir/offline.out" || rc=1
  [ $rc = 0 ] || "$DOCKER" logs --tail 60 "$name" >&2
  "$DOCKER" rm -f "$name" >/dev/null
  "$DOCKER" volume rm facecraft-ci-uploads facecraft-ci-processed >/dev/null
  return $rc
}

compose() {
  local rc=0 port
  "$DOCKER" compose config -q
  "$DOCKER" compose --profile cpu --profile gpu config -q
  # Host port 8000 may be taken on a shared machine: the project name isolates containers and
  # volumes, an override file moves the port (the committed file keeps 8000:8000).
  port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
  cat >"$tmpdir/compose.ci.yml" <<EOF
services:
  facecraft-cpu:
    ports: !override
      - "127.0.0.1:$port:8000"
EOF
  local -a dc=("$DOCKER" compose -p "facecraft-ci-$$" -f docker-compose.yml -f "$tmpdir/compose.ci.yml" --profile cpu)
  "${dc[@]}" up -d --no-build --wait --wait-timeout 240 || rc=$?
  [ $rc != 0 ] || scripts/smoke-test.sh --url "http://127.0.0.1:$port" || rc=$?
  [ $rc = 0 ] || "${dc[@]}" logs --tail 60 >&2
  "${dc[@]}" down -v
  return $rc
}

check_workers='
import json, sys, urllib.request
scale = json.load(urllib.request.urlopen(sys.argv[1], timeout=10))["scale"]
print("scale: mode", scale["mode"], "redis", scale["redis"], "workers alive", scale["workers_alive"])
assert scale["mode"] == "queue" and scale["workers_alive"] == 2, "expected queue mode with 2 workers alive"
'

scale() {
  local rc=0 port
  scripts/make-redis-image.sh
  "$DOCKER" compose --profile scale config -q
  # Same isolation as the compose step: own project name, port moved by an override file.
  port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
  cat >"$tmpdir/compose.scale.yml" <<EOF
services:
  api:
    ports: !override
      - "127.0.0.1:$port:8000"
EOF
  local -a dc=("$DOCKER" compose -p "facecraft-ci-scale-$$" -f docker-compose.yml -f "$tmpdir/compose.scale.yml" --profile scale)
  # --wait: Redis answers PING, the API's /ready is 200 and each worker's heartbeat key exists.
  "${dc[@]}" up -d --no-build --wait --wait-timeout 240 --scale worker=2 || rc=$?
  [ $rc != 0 ] || scripts/smoke-test.sh --url "http://127.0.0.1:$port" || rc=$?
  # Both workers must be alive in the API's view (GET /status: scale.workers_alive).
  # (python -c, not a here-document: this function is exported with `export -f`, which mangles those)
  [ $rc != 0 ] || python3 -c "$check_workers" "http://127.0.0.1:$port/status" || rc=$?
  [ $rc = 0 ] || "${dc[@]}" logs --tail 60 >&2
  "${dc[@]}" down -v
  return $rc
}

pytests() {
  # Never skipped: without a venv, make one (.ci/run makes it before this script).
  [ -x .venv/bin/pytest ] || make venv
  FACECRAFT_TEST_IMAGE=$IMAGE .venv/bin/pytest -q -p no:cacheprovider tests/docker
}

tmpdir=$(mktemp -d)
export IMAGE MAX_IMAGE_MB tmpdir check_workers
export -f build size offline compose scale pytests
trap 'rm -rf "$tmpdir"' EXIT
total=$(date +%s)
step base scripts/make-base-image.sh
step lint "$HADOLINT" docker/Dockerfile
step build build
step size size
step smoke scripts/smoke-test.sh "$IMAGE"
step offline offline
step compose compose
step scale scale
step tests pytests
echo "=== docker-ci: all steps passed in $(($(date +%s) - total)) s"
printf '%s\n' "${SUMMARY[@]}"
