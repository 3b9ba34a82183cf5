#!/usr/bin/env bash
# Installs every Debian package Sightline needs to build, test and benchmark.
# Safe to run twice: it installs only what is missing.
set -euo pipefail

PACKAGES=(
  build-essential cmake ninja-build pkg-config git ca-certificates curl
  clang libclang-rt-14-dev                         # libFuzzer targets
  libprotobuf-dev protobuf-compiler                # OTLP protobuf
  libgrpc++-dev protobuf-compiler-grpc             # OTLP/gRPC
  libboost-dev                                     # Boost.Beast / Asio (HTTP)
  rapidjson-dev                                    # JSON
  zlib1g-dev libzstd-dev libxxhash-dev             # gzip, compression, hashing
  libcli11-dev libtomlplusplus-dev                 # CLI and configuration
  libgtest-dev libgmock-dev libbenchmark-dev       # tests and benchmarks
  nodejs npm                                       # real OpenTelemetry/Langfuse SDKs in tests
  python3                                          # tests/integration/lib/scan_data_dir.py (libzstd via ctypes)
  sqlite3 libsqlite3-dev
  libssl-dev                                       # SHA-256 payload addresses (libcrypto), TLS (libssl)
  openssl                                          # tests/integration/test/tls.test.js makes a throwaway CA
  libjemalloc-dev                                  # the server's allocator
  libhyperscan-dev                                 # redaction: one-pass multi-pattern scan
  chromium                                         # the web UI's end-to-end tests (headless)
  prometheus                                       # tests/ops/prometheus.sh scrapes /metrics
)

missing=()
for p in "${PACKAGES[@]}"; do
  if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed"; then
    missing+=("$p")
  fi
done

# node may come from elsewhere than Debian (a preinstalled toolchain): keep it.
if command -v node >/dev/null 2>&1 && command -v npm >/dev/null 2>&1; then
  filtered=()
  for p in "${missing[@]}"; do
    [[ "$p" == nodejs || "$p" == npm ]] || filtered+=("$p")
  done
  missing=("${filtered[@]}")
fi

if [ ${#missing[@]} -eq 0 ]; then
  echo "install-deps: all packages present"
  exit 0
fi

SUDO=""
[ "$(id -u)" -eq 0 ] || SUDO="sudo"
echo "install-deps: installing ${missing[*]}"
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -qq
$SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}"
