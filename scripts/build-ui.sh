#!/usr/bin/env bash
# Builds the web UI (ui/: TypeScript, React, Vite) into OUT (default build/ui), the
# folder `sightline serve` serves from beside its binary. Installs exactly what
# ui/package-lock.json pins (npm ci) when node_modules is missing or older than the
# lock file, type-checks, then bundles. Skips the work when OUT is newer than every
# UI source. Usage: bash scripts/build-ui.sh [OUT]
set -euo pipefail

repo="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
out="${1:-$repo/build/ui}"
case "$out" in /*) ;; *) out="$PWD/$out" ;; esac
ui="$repo/ui"

if ! command -v node >/dev/null 2>&1 || ! command -v npm >/dev/null 2>&1; then
  echo "build-ui: node and npm are required (scripts/install-deps.sh installs them)" >&2
  exit 1
fi
node_major="$(node -p 'process.versions.node.split(".")[0]')"
if [ "$node_major" -lt 18 ]; then
  echo "build-ui: node >= 18 is required, found $(node --version)" >&2
  exit 1
fi

cd "$ui"
if [ ! -d node_modules ] || [ package-lock.json -nt node_modules/.package-lock.json ]; then
  npm ci --no-audit --no-fund --loglevel=error
fi

# Up to date when OUT/index.html is newer than every source the bundle depends on.
if [ -f "$out/index.html" ] && [ -z "${SIGHTLINE_UI_FORCE:-}" ]; then
  newer="$(find src index.html package-lock.json vite.config.ts tsconfig.json -newer "$out/index.html" -print -quit)"
  if [ -z "$newer" ]; then
    echo "build-ui: $out is up to date"
    exit 0
  fi
fi

npx --no-install tsc --noEmit
npx --no-install vite build --outDir "$out" --emptyOutDir --logLevel warn
echo "build-ui: built $out"
