#!/usr/bin/env bash
# Installs what `make bench` needs beyond scripts/install-deps.sh: ClickHouse 18.16 from
# Debian, the storage benchmark's baseline (bench/store_bench.sh starts its own instance
# as an unprivileged process; the system service is never started or enabled by us).
# `make test` does not need it. Safe to run twice: it installs only what is missing.
set -euo pipefail

PACKAGES=(clickhouse-server clickhouse-client sqlite3 libsqlite3-dev util-linux)

missing=()
for p in "${PACKAGES[@]}"; do
  if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed"; then
    missing+=("$p")
  fi
done

if [ ${#missing[@]} -eq 0 ]; then
  echo "install-bench-deps: all packages present"
  exit 0
fi

SUDO=""
[ "$(id -u)" -eq 0 ] || SUDO="sudo"
echo "install-bench-deps: installing ${missing[*]}"
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -qq
# Where package scripts may start services, Debian's own clickhouse-server service comes up
# on 8123/9000; the benchmark neither uses nor disturbs it (it picks free ports).
$SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}"
