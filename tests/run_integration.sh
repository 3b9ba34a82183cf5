#!/usr/bin/env bash
# Runs the real-client integration tests (tests/integration, node's test runner)
# against a Sightline binary. Each test file starts its own `sightline serve` on free
# loopback ports with a fresh data directory.
# Usage: bash tests/run_integration.sh [path/to/sightline]   (default build/sightline)
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
repo="$(cd "$here/.." && pwd)"
bin="${1:-$repo/build/sightline}"
case "$bin" in /*) ;; *) bin="$PWD/$bin" ;; esac
if [ ! -x "$bin" ]; then
  echo "run_integration: no sightline binary at $bin (run make build)" >&2
  exit 1
fi
if ! command -v node >/dev/null 2>&1 || ! command -v npm >/dev/null 2>&1; then
  echo "run_integration: node and npm are required (scripts/install-deps.sh installs them)" >&2
  exit 1
fi
node_major="$(node -p 'process.versions.node.split(".")[0]')"
if [ "$node_major" -lt 20 ]; then
  echo "run_integration: node >= 20 is required, found $(node --version)" >&2
  exit 1
fi

cd "$here/integration"
# CI starts from a clean clone: install exactly what the lock file pins.
if [ -f package-lock.json ]; then
  if [ ! -d node_modules ] || [ package-lock.json -nt node_modules/.package-lock.json ]; then
    npm ci --no-audit --no-fund --loglevel=error
  fi
else
  npm install --no-audit --no-fund --loglevel=error
fi

# The tests configure their exporters explicitly; keep the caller's OTel/Langfuse
# environment from redirecting or disabling them.
while IFS= read -r var; do unset "$var"; done < <(compgen -e | grep -E '^(OTEL_|LANGFUSE_)' || true)

export SIGHTLINE_BIN="$bin"
# One file at a time: each starts its own server and the machine has 2 cores.
exec node --test --test-concurrency=1 --test-timeout=120000 test/*.test.js
