#!/usr/bin/env bash
# `make bench`: Sightline's performance table.
#
#   bench/run.sh BUILD_DIR
#
# Builds what it needs (sightline, sightline-loadgen, decode_bench) in BUILD_DIR, then
# for each workload variant starts a fresh `sightline serve` on free ports with a
# temporary data directory (default fsync policy), drives it with sightline-loadgen over
# OTLP/HTTP protobuf, reads the server's peak RSS (VmHWM), and finally runs the one-core
# decode + normalise ceiling (decode_bench). Prints one table; then the storage benchmark
# against ClickHouse and SQLite (bench/store_bench.sh, SKIP_STORE=1 skips it).
#
# Knobs (environment): LEAN_SPANS (2000000), LEAN_SECONDS (30), PAYLOAD_SPANS (300000),
# PAYLOAD_SECONDS (30), CONNECTIONS (4), BATCH (500), POOL_MB (256), SKIP_DECODE=1,
# SKIP_REDACTION=1 (the one-core redaction scan, redaction_bench).
# ROLLUP_SPANS (10000000), ROLLUP_AB_SPANS (1000000), SKIP_ROLLUP=1, SKIP_STORE=1.
# For figures worth quoting build with -DCMAKE_BUILD_TYPE=Release.
set -euo pipefail

BUILD=${1:?usage: bench/run.sh BUILD_DIR}
LEAN_SPANS=${LEAN_SPANS:-2000000}
LEAN_SECONDS=${LEAN_SECONDS:-30}
PAYLOAD_SPANS=${PAYLOAD_SPANS:-300000}
PAYLOAD_SECONDS=${PAYLOAD_SECONDS:-30}
CONNECTIONS=${CONNECTIONS:-4}
BATCH=${BATCH:-500}
POOL_MB=${POOL_MB:-256}

targets=(sightline sightline-loadgen)
[ "${SKIP_DECODE:-0}" = 1 ] || targets+=(decode_bench)
[ "${SKIP_REDACTION:-0}" = 1 ] || targets+=(redaction_bench)
# A build directory configured before bench/ existed has no bench targets yet.
if [ -f "$BUILD/build.ninja" ] && ! grep -q 'sightline-loadgen' "$BUILD/build.ninja"; then
  cmake "$BUILD" >/dev/null
fi
cmake --build "$BUILD" --target "${targets[@]}" >/dev/null

TMP=$(mktemp -d "${TMPDIR:-/tmp}/sightline-bench.XXXXXX")
SERVER_PID=
cleanup() {
  if [ -n "$SERVER_PID" ] && kill -0 "$SERVER_PID" 2>/dev/null; then
    kill "$SERVER_PID" 2>/dev/null || true
    wait "$SERVER_PID" 2>/dev/null || true
  fi
  rm -rf "$TMP"
}
trap cleanup EXIT

# Starts the server on free ports; sets SERVER_PID and HTTP_PORT.
start_server() {
  local name=$1 log="$TMP/server-$1.log"
  "$BUILD/sightline" serve --http 127.0.0.1:0 --grpc 127.0.0.1:0 --data "$TMP/data-$name" >"$log" 2>&1 &
  SERVER_PID=$!
  HTTP_PORT=
  for _ in $(seq 1 300); do
    HTTP_PORT=$(sed -n 's/.*sightline: listening http=[^ ]*:\([0-9][0-9]*\).*/\1/p' "$log" | head -1)
    [ -n "$HTTP_PORT" ] && break
    if ! kill -0 "$SERVER_PID" 2>/dev/null; then
      echo "bench: the server exited at start-up:" >&2; cat "$log" >&2; exit 1
    fi
    sleep 0.1
  done
  [ -n "$HTTP_PORT" ] || { echo "bench: no 'listening' line from the server in 30 s" >&2; cat "$log" >&2; exit 1; }
  for _ in $(seq 1 300); do
    curl -fsS "http://127.0.0.1:$HTTP_PORT/readyz" >/dev/null 2>&1 && return 0
    sleep 0.1
  done
  echo "bench: the server never became ready" >&2; exit 1
}

stop_server() {
  kill "$SERVER_PID" 2>/dev/null || true
  wait "$SERVER_PID" 2>/dev/null || true
  SERVER_PID=
}

# json_get FILE KEY: a scalar from the loadgen's one-line JSON.
json_get() { grep -o "\"$2\":[^,}]*" "$1" | head -1 | cut -d: -f2- | tr -d '"'; }

run_variant() {
  local variant=$1 spans=$2 seconds=$3
  start_server "$variant"
  echo "bench: $variant: $spans spans (at most ${seconds}s) over $CONNECTIONS connections to 127.0.0.1:$HTTP_PORT" >&2
  "$BUILD/sightline-loadgen" --url "http://127.0.0.1:$HTTP_PORT/v1/traces" --variant "$variant" \
    --spans "$spans" --duration "$seconds" --connections "$CONNECTIONS" --batch "$BATCH" \
    --pool-mb "$POOL_MB" --json >"$TMP/$variant.json" || true
  local hwm
  hwm=$(awk '/^VmHWM:/ {print $2}' "/proc/$SERVER_PID/status" 2>/dev/null || echo 0)
  echo "$hwm" >"$TMP/$variant.rss_kb"
  # The server's CPU time (user + system, in clock ticks): on a shared machine this is
  # steadier than throughput for comparing two builds.
  awk '{print $14 + $15}' "/proc/$SERVER_PID/stat" >"$TMP/$variant.cpu_ticks" 2>/dev/null || echo 0 >"$TMP/$variant.cpu_ticks"
  stop_server
  if ! grep -q '"acked_spans"' "$TMP/$variant.json"; then
    echo "bench: the load generator failed for $variant" >&2; exit 1
  fi
  echo "bench: $variant: $(cat "$TMP/$variant.json")" >&2
}

run_variant lean "$LEAN_SPANS" "$LEAN_SECONDS"
run_variant payload "$PAYLOAD_SPANS" "$PAYLOAD_SECONDS"

# The one-core ceiling: decode + normalise of the same bodies, no network or store.
declare -A DEC_SPS DEC_MBS
if [ "${SKIP_DECODE:-0}" != 1 ]; then
  echo "bench: decode_bench (one core)" >&2
  "$BUILD/decode_bench" --benchmark_format=csv --benchmark_filter='BM_DecodeNormalize_' 2>/dev/null >"$TMP/decode.csv"
  # name,iterations,real_time,cpu_time,time_unit,bytes_per_second,items_per_second,...
  while IFS=, read -r name _ _ _ _ bps ips _; do
    case "$name" in
      *DecodeNormalize_Lean*) DEC_SPS[lean]=$ips; DEC_MBS[lean]=$bps ;;
      *DecodeNormalize_Payload*) DEC_SPS[payload]=$ips; DEC_MBS[payload]=$bps ;;
    esac
  done <"$TMP/decode.csv"
fi

# The redaction scan on one core (docs/redaction.md): the default policy and every detector.
declare -A RED_MBS
if [ "${SKIP_REDACTION:-0}" != 1 ]; then
  echo "bench: redaction_bench (one core)" >&2
  "$BUILD/redaction_bench" --benchmark_format=csv --benchmark_filter='BM_Redact_' 2>/dev/null >"$TMP/redaction.csv"
  while IFS=, read -r name _ _ _ _ bps _; do
    case "$name" in
      *Redact_Builtin*) RED_MBS[builtin]=$bps ;;
      *Redact_AllDetectors*) RED_MBS[all]=$bps ;;
    esac
  done <"$TMP/redaction.csv"
fi

# 1234567.8 -> 1,234,568
fmt_int() {
  awk -v v="${1:-0}" 'BEGIN { s = sprintf("%.0f", v); o = "";
    while (length(s) > 3) { o = "," substr(s, length(s) - 2) o; s = substr(s, 1, length(s) - 3) }
    print s o }'
}
fmt_mb() { awk -v v="${1:-0}" 'BEGIN { printf "%.1f", v / 1e6 }'; }

echo
echo "Sightline ingest benchmark — $(nproc) cores shared by server and load generator; $(date -u +%Y-%m-%dT%H:%MZ)"
echo "build: $BUILD ($(awk -F= '/^CMAKE_BUILD_TYPE:/ {print $2}' "$BUILD/CMakeCache.txt")), OTLP/HTTP protobuf, $CONNECTIONS keep-alive connections, $BATCH spans per request"
echo
printf '%-8s | %12s | %8s | %8s | %8s | %9s | %15s | %12s | %9s\n' \
  variant "spans/s e2e" "MB/s" "p50 ms" "p99 ms" "spans" "decode spans/s" "decode MB/s" "peak RSS"
printf '%s\n' "---------+--------------+----------+----------+----------+-----------+-----------------+--------------+----------"
for v in lean payload; do
  f="$TMP/$v.json"
  rss_mb=$(awk -v k="$(cat "$TMP/$v.rss_kb")" 'BEGIN { printf "%d MiB", k / 1024 }')
  printf '%-8s | %12s | %8s | %8s | %8s | %9s | %15s | %12s | %9s\n' "$v" \
    "$(fmt_int "$(json_get "$f" spans_per_s)")" "$(json_get "$f" mb_per_s)" \
    "$(json_get "$f" p50_ms)" "$(json_get "$f" p99_ms)" "$(fmt_int "$(json_get "$f" acked_spans)")" \
    "$(fmt_int "${DEC_SPS[$v]:-0}")" "$(fmt_mb "${DEC_MBS[$v]:-0}")" "$rss_mb"
done
echo
for v in lean payload; do
  f="$TMP/$v.json"
  echo "$v: $(json_get "$f" requests) requests in $(json_get "$f" elapsed_s) s, bodies: $(json_get "$f" mode)," \
       "throttled $(json_get "$f" throttled), errors $(json_get "$f" http_errors)+$(json_get "$f" partial) partial," \
       "connection errors $(json_get "$f" conn_errors), max latency $(json_get "$f" max_ms) ms"
done
echo
hz=$(getconf CLK_TCK 2>/dev/null || echo 100)
for v in lean payload; do
  f="$TMP/$v.json"
  awk -v t="$(cat "$TMP/$v.cpu_ticks")" -v hz="$hz" -v n="$(json_get "$f" acked_spans)" -v v="$v" \
    -v mb="$(json_get "$f" mb_per_s)" -v s="$(json_get "$f" elapsed_s)" 'BEGIN {
      printf "%s: server CPU %.1f s (user+system): %.1f us per span, %.1f CPU-s per GB received\n",
        v, t / hz, (n > 0 ? t / hz * 1e6 / n : 0), (mb * s > 0 ? t / hz / (mb * s / 1000) : 0) }'
done
echo
verdict() { awk -v v="$1" -v t="$2" -v up="$3" 'BEGIN { ok = up ? v >= t : v < t; print ok ? "met" : "MISSED" }'; }
lean_sps=$(json_get "$TMP/lean.json" spans_per_s)
payload_mbs=$(json_get "$TMP/payload.json" mb_per_s)
max_rss_kb=$(sort -n "$TMP/lean.rss_kb" "$TMP/payload.rss_kb" | tail -1)
echo "targets: lean >= 100,000 spans/s: $(verdict "$lean_sps" 100000 1) ($(fmt_int "$lean_sps"));" \
     "payload >= 100 MB/s: $(verdict "$payload_mbs" 100 1) ($payload_mbs);" \
     "peak RSS < 1 GiB: $(verdict "$max_rss_kb" 1048576 0) ($((max_rss_kb / 1024)) MiB)"
if [ "${SKIP_REDACTION:-0}" != 1 ]; then
  echo "redaction scan, one core: default policy $(fmt_mb "${RED_MBS[builtin]:-0}") MB/s," \
       "every detector $(fmt_mb "${RED_MBS[all]:-0}") MB/s; target >= 500 MB/s:" \
       "$(verdict "$(fmt_mb "${RED_MBS[all]:-0}")" 500 1) (build/redaction_bench --benchmark_filter=BM_Redact)"
fi
echo "for scale (peers' published figures): OpenTelemetry Collector ~12,000 spans/s per core; Arize Phoenix ~80 spans/s"

# --- Rollups: their ingest cost (store Append with rollups on and off) and the
# dashboard's 15 metrics requests over ROLLUP_SPANS spans in 7 days (bench/rollup_bench.cc).
# SKIP_ROLLUP=1 leaves it out.
if [ "${SKIP_ROLLUP:-0}" != 1 ]; then
  cmake --build "$BUILD" --target rollup_bench >/dev/null
  echo
  "$BUILD/rollup_bench" --spans "${ROLLUP_SPANS:-10000000}" --ab-spans "${ROLLUP_AB_SPANS:-1000000}" --dir "$TMP/rollup"
fi

# --- Store: Sightline against ClickHouse 18.16 and SQLite in Phoenix's layout, same data,
# same run (bench/store_bench.sh; its knobs: SPANS, STORE_PAYLOAD_SPANS, RUNS, ...).
# SKIP_STORE=1 leaves it out. ClickHouse comes from scripts/install-bench-deps.sh.
if [ "${SKIP_STORE:-0}" != 1 ]; then
  bash "$(dirname "$0")/store_bench.sh" "$BUILD"
fi
