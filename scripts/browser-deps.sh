#!/usr/bin/env bash
# Installs what the browser test (tests/web/test_page_e2e.py) needs: Debian's Chromium, and
# playwright-core pinned by tests/web/e2e/package-lock.json into .cache/e2e (git-ignored).
# playwright-core drives /usr/bin/chromium; it never downloads a browser of its own.
#   scripts/browser-deps.sh          # as root (CI), or with sudo available
set -euo pipefail
cd "$(dirname "$0")/.."

if ! command -v chromium >/dev/null; then
  sudo_=""
  [ "$(id -u)" -eq 0 ] || sudo_="sudo"
  $sudo_ apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $sudo_ apt-get install -y -qq --no-install-recommends chromium fonts-dejavu-core >/dev/null
fi
command -v node >/dev/null || { echo "error: node and npm are needed (apt-get install -y nodejs npm)"; exit 1; }

dest=.cache/e2e
mkdir -p "$dest"
cp tests/web/e2e/package.json tests/web/e2e/package-lock.json tests/web/e2e/.npmrc "$dest/"
want=$(node -p "require('./$dest/package-lock.json').packages['node_modules/playwright-core'].version")
have=$(node -p "try { require('./$dest/node_modules/playwright-core/package.json').version } catch { '' }")
if [ "$want" != "$have" ]; then
  (cd "$dest" && PLAYWRIGHT_SKIP_BROWSER_DOWNLOAD=1 npm ci --no-audit --no-fund --loglevel=error)
fi
echo "browser deps: $(chromium --version 2>/dev/null | head -1); playwright-core $(node -p "require('./$dest/node_modules/playwright-core/package.json').version")"
