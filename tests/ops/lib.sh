# shellcheck shell=bash disable=SC2034,SC2119
# Shared helpers for the process-level tests (tests/ops/*.sh, tests/crash/run.sh):
# start `sightline serve` on loopback ports, wait for readiness, stop or kill it,
# run the load generator and the verifier. Sourced, never executed.
#
# The caller sets before sourcing: BIN (the sightline binary, absolute), TAG (the
# prefix of messages, e.g. "ops/sigterm"), and calls ops_init to get TMP (a private
# temporary directory, removed on success unless KEEP=1) and the tool paths.
# Only processes started here are ever signalled (by their pid).

SERVER_PID=
HTTP_PORT=
DRIVER_PID=
SERVER_LOG=

fail() {
  echo "$TAG: FAIL: $*" >&2
  exit 1
}
note() { echo "$TAG: $*"; }

# Milliseconds since the epoch, without forking (bash >= 5).
now_ms() {
  local t=${EPOCHREALTIME/./}
  echo $((t / 1000))
}

# A sleep that does not fork: read with a timeout on a pipe that never delivers.
exec {OPS_SLEEP_FD}<> <(:)
nap() { read -r -t "$1" -u "$OPS_SLEEP_FD" || true; }
nap_ms() { nap "$(($1 / 1000)).$(printf %03d $(($1 % 1000)))"; }

# ops_init: sets BUILD (the binary's directory), LOADGEN, VERIFY, TMP; builds the tools
# when missing; installs the cleanup trap.
ops_init() {
  BUILD=$(cd "$(dirname "$BIN")" && pwd)
  BIN="$BUILD/$(basename "$BIN")"
  [ -x "$BIN" ] || fail "no sightline binary at $BIN"
  LOADGEN="$BUILD/sightline-loadgen"
  VERIFY="$BUILD/crash_verify"
  # A build directory configured before bench/ existed has no bench targets yet.
  if [ -f "$BUILD/build.ninja" ] && ! grep -q 'sightline-loadgen' "$BUILD/build.ninja"; then
    cmake "$BUILD" >/dev/null
  fi
  if [ ! -x "$LOADGEN" ] || [ ! -x "$VERIFY" ]; then
    cmake --build "$BUILD" --target sightline-loadgen crash_verify >/dev/null ||
      fail "cannot build sightline-loadgen and crash_verify in $BUILD"
  fi
  TMP=$(mktemp -d "${TMPDIR:-/tmp}/sightline-${TAG//\//-}.XXXXXX")
  trap ops_cleanup EXIT
}

ops_cleanup() {
  local rc=$?
  [ -n "$DRIVER_PID" ] && kill "$DRIVER_PID" 2>/dev/null
  [ -n "$SERVER_PID" ] && kill -9 "$SERVER_PID" 2>/dev/null
  wait 2>/dev/null
  if [ "$rc" -ne 0 ] || [ "${KEEP:-0}" = 1 ]; then
    echo "$TAG: kept $TMP (server logs, ack logs, data)" >&2
  else
    rm -rf "$TMP"
  fi
  exit "$rc"
}

# spawn_server DATA [serve flags...]: starts the server in the background without
# waiting; HTTP on $HTTP_PORT when set (restarts keep the port), else a free port.
# Sets SERVER_PID and SERVER_LOG (a new numbered file per start).
spawn_server() {
  local data=$1
  shift
  local n
  n=$(find "$TMP" -maxdepth 1 -name 'server.*.log' | wc -l)
  SERVER_LOG="$TMP/server.$n.log"
  "$BIN" serve --http "127.0.0.1:${HTTP_PORT:-0}" --grpc off --data "$data" "$@" >"$SERVER_LOG" 2>&1 &
  SERVER_PID=$!
}

# wait_ready [SECONDS]: waits for the 'listening' line (learning HTTP_PORT) and for
# /readyz to answer 200. Returns 1 when the server exited meanwhile; fails the test
# on a timeout (default 60 s).
# shellcheck disable=SC2120
wait_ready() {
  local limit=$(( $(now_ms) + ${1:-60} * 1000 )) line=
  while :; do
    line=$(grep -m1 'sightline: listening http=' "$SERVER_LOG" 2>/dev/null || true)
    [ -n "$line" ] && break
    kill -0 "$SERVER_PID" 2>/dev/null || return 1
    [ "$(now_ms)" -lt "$limit" ] || fail "no 'listening' line from the server in ${1:-60} s (see $SERVER_LOG)"
    nap 0.02
  done
  [[ $line =~ http=[^\ ]*:([0-9]+) ]] || fail "cannot read the port from: $line"
  HTTP_PORT=${BASH_REMATCH[1]}
  while :; do
    curl -fsS -o /dev/null "http://127.0.0.1:$HTTP_PORT/readyz" 2>/dev/null && return 0
    kill -0 "$SERVER_PID" 2>/dev/null || return 1
    [ "$(now_ms)" -lt "$limit" ] || fail "the server did not become ready in ${1:-60} s (see $SERVER_LOG)"
    nap 0.02
  done
}

# start_server DATA [serve flags...]: spawn + wait_ready; on the same port as before
# when HTTP_PORT is set, retrying while the old socket is released.
start_server() {
  local _
  for _ in $(seq 1 50); do
    spawn_server "$@"
    wait_ready && return 0
    wait "$SERVER_PID" 2>/dev/null
    SERVER_PID=
    grep -q 'ddress already in use' "$SERVER_LOG" 2>/dev/null || fail "the server exited during start-up: $(tail -n 5 "$SERVER_LOG")"
    nap 0.2
  done
  fail "the server would not start on port $HTTP_PORT (see $TMP/server.*.log)"
}

# kill9_server: SIGKILL and reap; leaves HTTP_PORT for the restart.
kill9_server() {
  kill -9 "$SERVER_PID" 2>/dev/null || true
  wait "$SERVER_PID" 2>/dev/null || true
  SERVER_PID=
}

# term_server [SECONDS]: SIGTERM, wait up to SECONDS (default 30) for the exit; sets
# SERVER_RC and STOP_MS (how long the exit took). Fails the test on a timeout.
term_server() {
  local t0 limit
  t0=$(now_ms)
  limit=$((t0 + ${1:-30} * 1000))
  kill -TERM "$SERVER_PID"
  while kill -0 "$SERVER_PID" 2>/dev/null; do
    if [ "$(now_ms)" -ge "$limit" ]; then
      kill -9 "$SERVER_PID" 2>/dev/null
      wait "$SERVER_PID" 2>/dev/null
      SERVER_PID=
      fail "the server did not exit within ${1:-30} s of SIGTERM (killed; see $SERVER_LOG)"
    fi
    nap 0.02
  done
  SERVER_RC=0
  wait "$SERVER_PID" || SERVER_RC=$?
  STOP_MS=$(( $(now_ms) - t0 ))
  SERVER_PID=
}

# start_driver ACK_LOG [loadgen flags...]: the load generator against $HTTP_PORT in the
# background, appending acknowledged span ids to ACK_LOG. It keeps going across
# server restarts (failed requests are retried on a new connection).
start_driver() {
  local ack=$1
  shift
  "$LOADGEN" --url "http://127.0.0.1:$HTTP_PORT/v1/traces" --pool-mb 0 --give-up 60 --timeout 20 \
    --ack-log "$ack" --json "$@" >"$ack.loadgen.json" 2>"$ack.loadgen.err" &
  DRIVER_PID=$!
}

# stop_driver: SIGTERM (it finishes in-flight requests) and check its exit status.
stop_driver() {
  kill -TERM "$DRIVER_PID" 2>/dev/null || true
  local rc=0
  wait "$DRIVER_PID" || rc=$?
  local pid=$DRIVER_PID
  DRIVER_PID=
  [ "$rc" -eq 0 ] || fail "the load generator (pid $pid) failed: $(cat "$TMP"/*.loadgen.err "$TMP"/*.loadgen.json 2>/dev/null | tail -n 5)"
}

# lines FILE: complete lines in FILE (0 when absent).
lines() { if [ -f "$1" ]; then wc -l <"$1"; else echo 0; fi; }

# verify ACK_FILE WHAT: every span in ACK_FILE is served exactly once, else fail.
verify() {
  local out
  out=$("$VERIFY" --url "http://127.0.0.1:$HTTP_PORT" --ack-log "$1" 2>&1) ||
    fail "$2: acknowledged spans lost, duplicated or without their input:
$out"
}

# log_since_signal LOG: the lines of LOG after the shutdown-signal line.
log_since_signal() { sed -n '/received, shutting down/,$p' "$1"; }
