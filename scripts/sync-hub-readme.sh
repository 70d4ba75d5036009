#!/usr/bin/env bash
# Copy README.md into the Docker Hub repository's full description (requirement PUBL-03).
#
#   HUB_API_URL=<Hub API base URL, ending in /v2> DOCKERHUB_USERNAME=... DOCKERHUB_TOKEN=... \
#     scripts/sync-hub-readme.sh [--dry-run]
#
# HUB_API_URL must be set by the caller (this repository names no registry host): it is the base of the
# Docker Hub API (version 2), the one whose /users/login issues a JWT and whose
# /repositories/<namespace>/<name>/ accepts a PATCH with {"full_description": ...}.
# REPO defaults to djok/facecraft. The description is the README less the parts between
# `<!-- hub:skip -->` and `<!-- /hub:skip -->` (for contributors: how to develop and release; GitHub shows
# them, the Hub does not need them). The Hub caps full_description at 25000 bytes; a larger description
# fails here rather than being truncated there. --dry-run validates and prints what would be sent; it
# needs no credentials and sends nothing.
set -euo pipefail
cd "$(dirname "$0")/.."

REPO=${REPO:-djok/facecraft}
README=${README:-README.md}
LIMIT=25000
DRY=0
for arg in "$@"; do
  case "$arg" in
  --dry-run) DRY=1 ;;
  *)
    echo "usage: $0 [--dry-run]" >&2
    exit 2
    ;;
  esac
done

[ -f "$README" ] || {
  echo "sync-hub-readme: $README not found" >&2
  exit 1
}
description=$(mktemp)
trap 'rm -f "$description"' EXIT
python3 - "$README" "$description" <<'PY'
import re, sys

text = open(sys.argv[1], encoding="utf-8").read()
if text.count("<!-- hub:skip -->") != text.count("<!-- /hub:skip -->"):
    raise SystemExit("sync-hub-readme: unbalanced <!-- hub:skip --> markers")
text = re.sub(r"<!-- hub:skip -->.*?<!-- /hub:skip -->\n?", "", text, flags=re.S)
open(sys.argv[2], "w", encoding="utf-8").write(text)
PY
size=$(wc -c <"$description")
if [ "$size" -ge $LIMIT ]; then
  echo "sync-hub-readme: the description from $README is $size bytes; the Hub description limit is $LIMIT" >&2
  echo "sync-hub-readme: shorten it, or wrap contributor-only parts in <!-- hub:skip --> ... <!-- /hub:skip -->" >&2
  exit 1
fi

api=${HUB_API_URL:-}
if [ $DRY = 1 ]; then
  echo "would PATCH ${api:-\$HUB_API_URL}/repositories/$REPO/ with full_description from $README ($size bytes, limit $LIMIT)"
  exit 0
fi
: "${HUB_API_URL:?set HUB_API_URL to the Docker Hub API base URL (see the header of this script)}"
: "${DOCKERHUB_USERNAME:?set DOCKERHUB_USERNAME}"
: "${DOCKERHUB_TOKEN:?set DOCKERHUB_TOKEN (a personal access token with write scope)}"

# stdlib Python: no curl or jq needed; the token never appears on a command line.
python3 - "$api" "$REPO" "$description" <<'PY'
import json, os, sys, urllib.request

api, repo, readme = sys.argv[1].rstrip("/"), sys.argv[2], sys.argv[3]

def call(method, url, payload, token=None):
    headers = {"Content-Type": "application/json"}
    if token:
        headers["Authorization"] = f"JWT {token}"
    request = urllib.request.Request(url, data=json.dumps(payload).encode(), headers=headers, method=method)
    with urllib.request.urlopen(request, timeout=30) as response:
        return json.load(response)

login = call("POST", f"{api}/users/login/",
             {"username": os.environ["DOCKERHUB_USERNAME"], "password": os.environ["DOCKERHUB_TOKEN"]})
description = open(readme, encoding="utf-8").read()
result = call("PATCH", f"{api}/repositories/{repo}/", {"full_description": description}, login["token"])
sent = result.get("full_description", "")
if sent != description:
    raise SystemExit("sync-hub-readme: the Hub returned a different description")
print(f"sync-hub-readme: {repo} description updated ({len(description.encode())} bytes)")
PY
