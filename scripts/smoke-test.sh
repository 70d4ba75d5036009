#!/usr/bin/env bash
# Smoke-test a Facecraft image or a running endpoint.
#
#   scripts/smoke-test.sh [IMAGE] [-- EXTRA DOCKER RUN ARGS]   start IMAGE (default djok/facecraft:cpu) on a
#                                                              random free 127.0.0.1 port, test, remove it
#   scripts/smoke-test.sh --url http://127.0.0.1:8000          test an endpoint that is already running
#
# Checks: /health 200, then /ready 200 (within READY_TIMEOUT s, default 180); tests/data/astronaut.jpg
# through /api/v1/process/quick with size=256 gives a valid 256x256 PNG; tests/data/coffee.jpg (no face)
# gives HTTP 422 with error code "no_face" (each request may take REQUEST_TIMEOUT s, default 120). Only the container
# this script started is ever touched.
# Needs only docker, python3 (stdlib) on the host; no curl, no `file`. Exit 0 = pass.
set -euo pipefail
cd "$(dirname "$0")/.."

DOCKER=${DOCKER:-docker}
READY_TIMEOUT=${READY_TIMEOUT:-180}
IMAGE=djok/facecraft:cpu
URL=
EXTRA=()
while [ $# -gt 0 ]; do
  case "$1" in
  --url)
    URL=${2:?--url needs a value}
    shift 2
    ;;
  --)
    shift
    EXTRA=("$@")
    break
    ;;
  -h | --help)
    sed -n '2,13p' "$0"
    exit 0
    ;;
  *)
    IMAGE=$1
    shift
    ;;
  esac
done

NAME=
fail() {
  echo "SMOKE FAIL: $*" >&2
  if [ -n "$NAME" ]; then
    echo "--- last 60 log lines of $NAME ---" >&2
    "$DOCKER" logs --tail 60 "$NAME" >&2 2>&1 || true
  fi
  exit 1
}
cleanup() { [ -z "$NAME" ] || "$DOCKER" rm -f "$NAME" >/dev/null 2>&1 || true; }
trap cleanup EXIT

if [ -z "$URL" ]; then
  port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
  NAME=facecraft-smoke-$$-$RANDOM
  echo "smoke: starting $IMAGE as $NAME on 127.0.0.1:$port"
  "$DOCKER" run -d --name "$NAME" -p "127.0.0.1:$port:8000" "${EXTRA[@]}" "$IMAGE" >/dev/null ||
    fail "docker run $IMAGE failed"
  URL=http://127.0.0.1:$port
fi
URL=${URL%/}

# All HTTP from stdlib Python. Prints "<status> <body-file>"; writes the body to a temp file.
tmp=$(mktemp -d)
trap 'cleanup; rm -rf "$tmp"' EXIT
http() { # METHOD PATH [FILE SIZE]
  python3 - "$@" "$URL" "$tmp" <<'PY'
import sys, urllib.request, urllib.error, uuid, os
method, path = sys.argv[1], sys.argv[2]
url, tmp = sys.argv[-2], sys.argv[-1]
data, headers = None, {}
if method == "POST":
    photo, size = sys.argv[3], sys.argv[4]
    boundary = uuid.uuid4().hex
    with open(photo, "rb") as fh:
        content = fh.read()
    parts = [
        f'--{boundary}\r\nContent-Disposition: form-data; name="size"\r\n\r\n{size}\r\n'.encode(),
        f'--{boundary}\r\nContent-Disposition: form-data; name="file"; filename="{os.path.basename(photo)}"\r\n'
        f"Content-Type: image/jpeg\r\n\r\n".encode() + content + b"\r\n",
        f"--{boundary}--\r\n".encode(),
    ]
    data = b"".join(parts)
    headers["Content-Type"] = f"multipart/form-data; boundary={boundary}"
if os.environ.get("FACECRAFT_API_KEY"):
    headers["X-API-Key"] = os.environ["FACECRAFT_API_KEY"]
request = urllib.request.Request(url + path, data=data, headers=headers, method=method)
out = os.path.join(tmp, "body")
try:
    with urllib.request.urlopen(request, timeout=float(os.environ.get("REQUEST_TIMEOUT", "120"))) as response:
        status, body = response.status, response.read()
except urllib.error.HTTPError as exc:
    status, body = exc.code, exc.read()
except OSError:
    status, body = 0, b""
with open(out, "wb") as fh:
    fh.write(body)
print(status)
PY
}

wait_for() { # PATH
  local deadline=$(($(date +%s) + READY_TIMEOUT)) code
  while :; do
    code=$(http GET "$1")
    [ "$code" = 200 ] && return 0
    if [ -n "$NAME" ] && [ "$("$DOCKER" inspect -f '{{.State.Running}}' "$NAME" 2>/dev/null)" != true ]; then
      fail "container exited while waiting for $1"
    fi
    [ "$(date +%s)" -lt $deadline ] || fail "$1 not 200 within ${READY_TIMEOUT}s (last status $code: $(head -c 300 "$tmp/body"))"
    sleep 0.5
  done
}

t0=$(date +%s.%N)
wait_for /health
echo "smoke: /health 200 after $(python3 -c "print(round($(date +%s.%N) - $t0, 1))") s"
wait_for /ready
echo "smoke: /ready 200 after $(python3 -c "print(round($(date +%s.%N) - $t0, 1))") s"

t1=$(date +%s.%N)
code=$(http POST /api/v1/process/quick tests/data/astronaut.jpg 256)
photo_s=$(python3 -c "print(round($(date +%s.%N) - $t1, 1))")
[ "$code" = 200 ] || fail "astronaut.jpg: HTTP $code, expected 200: $(head -c 500 "$tmp/body")"
python3 - "$tmp/body" "$photo_s" <<'PY' || fail "astronaut.jpg: response is not a 256x256 PNG"
import struct, sys
data = open(sys.argv[1], "rb").read()
assert data[:8] == b"\x89PNG\r\n\x1a\n", f"no PNG signature ({data[:16]!r})"
assert data[12:16] == b"IHDR", "first chunk is not IHDR"
width, height = struct.unpack(">II", data[16:24])
assert (width, height) == (256, 256), f"PNG is {width}x{height}"
print(f"smoke: astronaut.jpg -> PNG {width}x{height}, {len(data)} bytes in {sys.argv[2]} s (first request)")
PY

code=$(http POST /api/v1/process/quick tests/data/coffee.jpg 256)
[ "$code" = 422 ] || fail "coffee.jpg: HTTP $code, expected 422: $(head -c 500 "$tmp/body")"
python3 - "$tmp/body" <<'PY' || fail "coffee.jpg: 422 without error code no_face: $(head -c 500 "$tmp/body")"
import json, sys
body = json.load(open(sys.argv[1]))
assert body["error"]["code"] == "no_face", body
print("smoke: coffee.jpg -> 422 no_face")
PY

echo "SMOKE PASS ($URL)"
