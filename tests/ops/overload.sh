#!/usr/bin/env bash
# shellcheck disable=SC2119
# Overload: many connections flood a server whose ingest queue is tiny (flood.js with
# OTLP JSON, which checks every answer, then sightline-loadgen with protobuf). Every refused
# request must be answered 429 or 503 with Retry-After (never a reset connection, a
# timeout or another status), every acknowledged span must be stored exactly once,
# and the refusals the clients saw must be counted in /metrics.
#
#   tests/ops/overload.sh BUILD_DIR/sightline
#
# Environment: CONNECTIONS (128), SECONDS_LOAD (6), KEEP=1 keeps the temporary directory.
set -euo pipefail
BIN=${1:?usage: tests/ops/overload.sh BUILD_DIR/sightline}
TAG=ops/overload
HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
# shellcheck source=tests/ops/lib.sh disable=SC2034
. "$HERE/lib.sh"
ops_init
CONNECTIONS=${CONNECTIONS:-128}
SECONDS_LOAD=${SECONDS_LOAD:-6}

# fsync=always: one fdatasync per batch, so the writer is slow and a 16 KiB queue
# (about one request) overflows as soon as two requests arrive together.
start_server "$TMP/data" --queue-limit-bytes 16KiB --fsync always --http-threads 2
note "server on port $HTTP_PORT, queue limit 16 KiB; flooding with $CONNECTIONS connections for $SECONDS_LOAD s"
metric_sum() { # NAME: the sum of a counter over its labels
  curl -fsS "http://127.0.0.1:$HTTP_PORT/metrics" | awk -v m="$1" '$1 == m || index($1, m "{") == 1 { s += $2 } END { printf "%d\n", s }'
}
before=$(metric_sum sightline_requests_rejected_total)
node "$HERE/flood.js" "http://127.0.0.1:$HTTP_PORT/v1/traces" "$TMP/acked.txt" \
  --connections "$CONNECTIONS" --seconds "$SECONDS_LOAD" >"$TMP/flood.json" ||
  fail "the flood saw violations (or refused nothing): $(cat "$TMP/flood.json")"
summary=$(cat "$TMP/flood.json")
note "flood: $summary"
kill -0 "$SERVER_PID" 2>/dev/null || fail "the server died under the flood (see $SERVER_LOG)"
curl -fsS -o /dev/null "http://127.0.0.1:$HTTP_PORT/readyz" || fail "the server is not ready after the flood"

refused=$(node -e 'console.log(JSON.parse(process.argv[1]).refused)' "$summary")
after=$(metric_sum sightline_requests_rejected_total)
counted=$((after - before))
[ "$counted" -eq "$refused" ] ||
  fail "the clients saw $refused refusals but sightline_requests_rejected_total grew by $counted"
verify "$TMP/acked.txt" "acknowledged spans under overload"
acked=$(lines "$TMP/acked.txt")

# The same with the load generator (protobuf, 64 connections, batches of 200): it
# honours Retry-After; it must see refusals, and no connection errors or other statuses.
# Stopped by SIGTERM (with --duration it would count the bodies it was still
# retrying at the deadline as failures).
"$LOADGEN" --url "http://127.0.0.1:$HTTP_PORT/v1/traces" --variant lean --spans 0 --duration 3600 --batch 200 \
  --connections 64 --pool-mb 0 --timeout 30 --ack-log "$TMP/loadgen-acked.txt" --json >"$TMP/loadgen.json" &
DRIVER_PID=$!
nap 4
kill -TERM "$DRIVER_PID"
wait "$DRIVER_PID" || fail "the load generator failed: $(cat "$TMP/loadgen.json")"
DRIVER_PID=
lg=$(cat "$TMP/loadgen.json")
note "loadgen flood: $lg"
grep -q '"throttled":0,' <<<"$lg" && fail "the load generator was never refused: nothing was overloaded"
grep -q '"conn_errors":0,"http_errors":0,"partial":0,' <<<"$lg" ||
  fail "the load generator saw dropped connections or errors instead of 429/503"
verify "$TMP/loadgen-acked.txt" "the load generator's acknowledged spans under overload"
acked=$((acked + $(lines "$TMP/loadgen-acked.txt")))
term_server
[ "$SERVER_RC" -eq 0 ] || fail "the server exited $SERVER_RC on SIGTERM"
[[ $lg =~ \"throttled\":([0-9]+) ]] && lg_refused=${BASH_REMATCH[1]}
note "PASS: $refused refusals to flood.js, each 429/503 with Retry-After and counted in /metrics;" \
  "$lg_refused to the load generator, none dropped; $acked acknowledged spans stored exactly once"
