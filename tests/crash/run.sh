#!/usr/bin/env bash
# Crash test (`make crash-test`, part of `make test`): kill -9 the server mid-load,
# restart it on the same data directory, and check that every span it acknowledged is
# still there, exactly once.
#
#   tests/crash/run.sh BUILD_DIR/sightline
#
# 1. Starts `sightline serve` on free ports with a temporary data directory.
# 2. Starts sightline-loadgen (lean workload, small batches, 4 connections) with
#    --ack-log: after every 200 without rejected spans it appends the batch's span ids.
#    The driver keeps running across crashes: a failed or cut request is retried on a
#    new connection, so batches the server made durable but never answered are sent
#    twice (the server must not store them twice).
# 3. ROUNDS times: waits a random 0.5-3 s, kill -9s the server, restarts it on the same
#    ports and data directory and waits until it is ready.
# 4. Stops the driver (SIGTERM: it finishes its in-flight requests), then crash_verify
#    fetches GET /api/v1/traces/{id} for every acknowledged trace and fails on any
#    missing or duplicated span.
#
# Environment: ROUNDS (5; the longer target variant is ROUNDS=50), SEED (random; set it
# to replay the same kill timings), KEEP=1 keeps the temporary directory.
set -euo pipefail

BIN=${1:?usage: tests/crash/run.sh BUILD_DIR/sightline}
BUILD=$(cd "$(dirname "$BIN")" && pwd)
BIN="$BUILD/$(basename "$BIN")"
ROUNDS=${ROUNDS:-5}
SEED=${SEED:-$(( $(date +%s) % 100000 ))}
RANDOM=$SEED

# A build directory configured before bench/ existed has no bench targets yet.
if [ -f "$BUILD/build.ninja" ] && ! grep -q 'sightline-loadgen' "$BUILD/build.ninja"; then
  cmake "$BUILD" >/dev/null
fi
if [ ! -x "$BUILD/sightline-loadgen" ] || [ ! -x "$BUILD/crash_verify" ] || [ ! -x "$BIN" ]; then
  cmake --build "$BUILD" --target sightline sightline-loadgen crash_verify >/dev/null
fi

TMP=$(mktemp -d "${TMPDIR:-/tmp}/sightline-crash.XXXXXX")
DATA="$TMP/data"
SERVER_PID=
DRIVER_PID=
cleanup() {
  local rc=$?
  [ -n "$DRIVER_PID" ] && kill "$DRIVER_PID" 2>/dev/null || true
  [ -n "$SERVER_PID" ] && kill "$SERVER_PID" 2>/dev/null || true
  wait 2>/dev/null || true
  if [ "$rc" -ne 0 ] || [ "${KEEP:-0}" = 1 ]; then
    echo "crash-test: kept $TMP (server logs, ack log, data)" >&2
  else
    rm -rf "$TMP"
  fi
}
trap cleanup EXIT

fail() { echo "crash-test: FAIL: $*" >&2; exit 1; }

# start_server HTTP_ADDR GRPC_ADDR: sets SERVER_PID, HTTP_PORT, GRPC_PORT.
start_server() {
  local n log
  n=$(find "$TMP" -maxdepth 1 -name 'server.*.log' | wc -l)
  log="$TMP/server.$n.log"
  "$BIN" serve --http "$1" --grpc "$2" --data "$DATA" >"$log" 2>&1 &
  SERVER_PID=$!
  local line=
  for _ in $(seq 1 300); do
    line=$(grep -m1 'sightline: listening http=' "$log" || true)
    [ -n "$line" ] && break
    kill -0 "$SERVER_PID" 2>/dev/null || return 1
    sleep 0.1
  done
  [ -n "$line" ] || fail "no 'listening' line from the server in 30 s (see $log)"
  HTTP_PORT=$(sed 's/.*http=[^ ]*:\([0-9][0-9]*\).*/\1/' <<<"$line")
  GRPC_PORT=$(sed 's/.*grpc=[^ ]*:\([0-9][0-9]*\).*/\1/' <<<"$line")
  for _ in $(seq 1 600); do
    curl -fsS "http://127.0.0.1:$HTTP_PORT/readyz" >/dev/null 2>&1 && return 0
    kill -0 "$SERVER_PID" 2>/dev/null || return 1
    sleep 0.1
  done
  fail "the server did not become ready in 60 s (see $log)"
}

# Restarts on the same ports (the driver keeps its URL); retries while the old
# sockets are released.
restart_server() {
  for _ in $(seq 1 50); do
    start_server "127.0.0.1:$HTTP_PORT" "127.0.0.1:$GRPC_PORT" && return 0
    wait "$SERVER_PID" 2>/dev/null || true
    sleep 0.2
  done
  fail "the server would not restart on port $HTTP_PORT (see $TMP/server.*.log)"
}

acked() { [ -f "$TMP/acked.txt" ] && wc -l <"$TMP/acked.txt" || echo 0; }

echo "crash-test: $ROUNDS rounds of kill -9 under load (SEED=$SEED), data in $DATA"
start_server 127.0.0.1:0 127.0.0.1:0 || fail "the server did not start (see $TMP/server.0.log)"
"$BUILD/sightline-loadgen" --url "http://127.0.0.1:$HTTP_PORT/v1/traces" --variant lean \
  --spans 0 --duration 3600 --batch 100 --connections 4 --seed "$SEED" --pool-mb 0 \
  --give-up 60 --timeout 20 --ack-log "$TMP/acked.txt" --json >"$TMP/loadgen.json" 2>"$TMP/loadgen.err" &
DRIVER_PID=$!

for round in $(seq 1 "$ROUNDS"); do
  delay_ms=$(( 500 + RANDOM % 2500 ))
  before=$(acked)
  sleep "$(awk -v ms="$delay_ms" 'BEGIN { printf "%.3f", ms / 1000 }')"
  kill -0 "$DRIVER_PID" 2>/dev/null || fail "the load generator exited early: $(cat "$TMP/loadgen.err" "$TMP/loadgen.json")"
  kill -9 "$SERVER_PID"
  wait "$SERVER_PID" 2>/dev/null || true
  now=$(acked)
  echo "crash-test: round $round/$ROUNDS: killed after ${delay_ms} ms; $((now - before)) spans acknowledged this round, $now in all"
  restart_server
done

# Some load on the last incarnation too, then stop the driver cleanly.
sleep 1
kill -TERM "$DRIVER_PID"
wait "$DRIVER_PID" || fail "the load generator failed: $(cat "$TMP/loadgen.err" "$TMP/loadgen.json")"
DRIVER_PID=
echo "crash-test: load generator: $(cat "$TMP/loadgen.json")"
total=$(acked)
[ "$total" -gt 0 ] || fail "nothing was acknowledged"

"$BUILD/crash_verify" --url "http://127.0.0.1:$HTTP_PORT" --ack-log "$TMP/acked.txt" ||
  fail "acknowledged spans lost or duplicated after $ROUNDS crashes (SEED=$SEED)"
# The verifier must be able to fail: a made-up trace, and a made-up span in a real
# trace, must both be reported missing.
head -n 50 "$TMP/acked.txt" >"$TMP/probe.txt"
echo "00000000000000000000000000c0ffee 00000000c0ffee01" >>"$TMP/probe.txt"
echo "$(head -n 1 "$TMP/acked.txt" | cut -d' ' -f1) 00000000c0ffee02" >>"$TMP/probe.txt"
if "$BUILD/crash_verify" --url "http://127.0.0.1:$HTTP_PORT" --ack-log "$TMP/probe.txt" --json >"$TMP/probe.json"; then
  fail "crash_verify accepted made-up spans: $(cat "$TMP/probe.json")"
fi
grep -q '"missing_spans":2,' "$TMP/probe.json" || fail "crash_verify miscounted made-up spans: $(cat "$TMP/probe.json")"
kill "$SERVER_PID"
wait "$SERVER_PID" 2>/dev/null || true
SERVER_PID=
echo "crash-test: PASS: $total acknowledged spans survived $ROUNDS kill -9 restarts, none duplicated"
