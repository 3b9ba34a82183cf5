#!/usr/bin/env bash
# Runs the web UI's end-to-end tests: the real server binary with the built UI
# (--ui-dir), driven in headless Debian Chromium by playwright-core.
# Usage: bash tests/ui/run.sh [path/to/sightline] [path/to/built/ui]
#        (defaults build/sightline and build/ui, which `make build` produces)
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
repo="$(cd "$here/../.." && pwd)"
bin="${1:-$repo/build/sightline}"
ui="${2:-$(dirname "$bin")/ui}"
case "$bin" in /*) ;; *) bin="$PWD/$bin" ;; esac
case "$ui" in /*) ;; *) ui="$PWD/$ui" ;; esac
[ -x "$bin" ] || { echo "ui e2e: no sightline binary at $bin (run make build)" >&2; exit 1; }
[ -f "$ui/index.html" ] || { echo "ui e2e: no built UI at $ui (run scripts/build-ui.sh $ui)" >&2; exit 1; }
if [ -z "${CHROMIUM:-}" ] && ! command -v chromium >/dev/null 2>&1 && [ ! -x /usr/lib/chromium/chromium ]; then
  echo "ui e2e: Chromium is required (apt-get install chromium; scripts/install-deps.sh does it)" >&2
  exit 1
fi
# playwright-core comes from the UI's lock file.
if [ ! -d "$repo/ui/node_modules/playwright-core" ]; then
  (cd "$repo/ui" && npm ci --no-audit --no-fund --loglevel=error)
fi
# The server's integration helpers need their own modules only for other tests; none here.
rm -rf "$here/artifacts"
export SIGHTLINE_BIN="$bin" SIGHTLINE_UI_DIR_E2E="$ui"
exec node --test --test-concurrency=1 --test-timeout=180000 "$here"/*.test.mjs
