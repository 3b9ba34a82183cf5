#!/usr/bin/env bash
# Profiles the server under the ingest benchmark's load.
#
#   bench/profile_ingest.sh BUILD_DIR [lean|payload] [SPANS] [SECONDS]
#
# Starts `sightline serve` on free ports with a temporary data directory, drives it with
# sightline-loadgen (4 connections, 500 spans a request), and once the server acknowledges spans, after a 4 s warm-up, records
# PERF_SECONDS (8) of the server with `perf record --call-graph dwarf` at PERF_FREQ (150)
# Hz. Prints the load generator's result, the server's CPU time per acknowledged span
# (steadier than throughput on a shared machine), the same by thread (sl-http: decode,
# normalise, redact, encode; sl-writer: WAL and memtable; sl-flush; sl-compact) and its
# peak RSS, then the top of the
# profile by inclusive time. SETTLE=1 also waits, after the load, until background
# compaction has merged what the load left and prints the CPU time then (the load's
# whole cost). PERF=0 skips perf. The data directory and perf.data stay in
# the printed directory for `perf report -i DIR/perf.data`.
set -euo pipefail
BUILD=${1:?usage: bench/profile_ingest.sh BUILD_DIR [lean|payload] [SPANS] [SECONDS]}
VARIANT=${2:-lean}
SPANS=${3:-2000000}
SECONDS_=${4:-20}
T=$(mktemp -d "${TMPDIR:-/tmp}/sightline-profile.XXXXXX")
"$BUILD/sightline" serve --http 127.0.0.1:0 --grpc 127.0.0.1:0 --data "$T/data" >"$T/server.log" 2>&1 &
SERVER=$!
trap 'kill $SERVER 2>/dev/null || true' EXIT
. "$(dirname "$0")/server_port.sh"
PORT=$(wait_for_port "$T/server.log" 300) || { echo "profile: the server did not start:" >&2; cat "$T/server.log" >&2; exit 1; }
"$BUILD/sightline-loadgen" --url "http://127.0.0.1:$PORT/v1/traces" --variant "$VARIANT" --spans "$SPANS" \
  --duration "$SECONDS_" --connections 4 --batch 500 --pool-mb 256 --json >"$T/loadgen.json" &
LOADGEN=$!
if [ "${PERF:-1}" = 1 ]; then
  # The load generator builds its request pool first (seconds on a busy machine): wait for
  # the server to acknowledge spans, then give it the warm-up.
  for _ in $(seq 1 600); do
    acc=$(curl -s "http://127.0.0.1:$PORT/metrics" | awk '/^sightline_spans_accepted_total/ {print $2}')
    [ -n "$acc" ] && [ "${acc%.*}" -gt 0 ] && break
    sleep 0.2
  done
  sleep 4
  perf record -F "${PERF_FREQ:-150}" --call-graph dwarf,32768 -p "$SERVER" -o "$T/perf.data" \
    -- sleep "${PERF_SECONDS:-8}" >/dev/null 2>&1 || echo "profile: perf record failed" >&2
fi
wait $LOADGEN
ticks=$(awk '{print $14 + $15}' "/proc/$SERVER/stat")
# CPU ticks by thread name (sl-http, sl-writer, sl-flush, sl-compact, ...): "NAME TICKS"
# lines, summed over threads of one name. Threads that have exited are not listed.
thread_ticks() {
  for t in /proc/"$SERVER"/task/*; do
    printf '%s %s\n' "$(cat "$t/comm" 2>/dev/null)" "$(awk '{print $14 + $15}' "$t/stat" 2>/dev/null)"
  done | awk 'NF == 2 { s[$1] += $2 } END { for (n in s) print n, s[n] }' | sort -k2,2nr
}
load_threads=$(thread_ticks)
hwm=$(awk '/^VmHWM:/ {print $2}' "/proc/$SERVER/status")
acked=$(grep -o '"acked_spans":[0-9]*' "$T/loadgen.json" | cut -d: -f2)
settled_ticks=
if [ "${SETTLE:-0}" = 1 ]; then
  # The load's whole cost: wait until background compaction has merged what the load
  # left (none running and no new one for 3 s), then read the CPU time again.
  last=; same=0
  for _ in $(seq 1 1200); do
    m=$(curl -s "http://127.0.0.1:$PORT/metrics")
    running=$(printf '%s\n' "$m" | awk '/^sightline_store_compaction_running / {print $2}')
    total=$(printf '%s\n' "$m" | awk '/^sightline_store_compactions_total / {print $2}')
    if [ "$running" = 0 ] && [ "$total" = "$last" ]; then same=$((same + 1)); else same=0; fi
    [ "$same" -ge 6 ] && break
    last=$total
    sleep 0.5
  done
  settled_ticks=$(awk '{print $14 + $15}' "/proc/$SERVER/stat")
  settled_threads=$(thread_ticks)
fi
kill $SERVER; wait $SERVER 2>/dev/null || true
trap - EXIT
cat "$T/loadgen.json"; echo
awk -v t="$ticks" -v a="$acked" -v h="$hwm" -v hz="$(getconf CLK_TCK)" 'BEGIN {
  printf "server CPU %.1f s, %.2f us per acknowledged span, peak RSS %d MiB\n", t / hz, (a > 0 ? t / hz / a * 1e6 : 0), h / 1024 }'
by_thread() {  # by_thread LABEL "NAME TICKS" lines: us of CPU per acknowledged span, by thread name
  printf '%s\n' "$2" | awk -v l="$1" -v a="$acked" -v hz="$(getconf CLK_TCK)" '
    NF == 2 && a > 0 && $2 > 0 { out = out sprintf("%s %.2f  ", $1, $2 / hz / a * 1e6) }
    END { printf "%s, us per span by thread: %s\n", l, out }'
}
by_thread "during the load" "$load_threads"
if [ -n "$settled_ticks" ]; then
  awk -v t="$settled_ticks" -v a="$acked" -v hz="$(getconf CLK_TCK)" 'BEGIN {
    printf "server CPU once compaction settled %.1f s, %.2f us per acknowledged span\n", t / hz, (a > 0 ? t / hz / a * 1e6 : 0) }'
  by_thread "once compaction settled" "$settled_threads"
fi
if [ -s "$T/perf.data" ]; then
  { perf report -i "$T/perf.data" --children -s sym --stdio -g none 2>/dev/null | grep -v '^#' | grep -v '^$' |
    grep -v 'boost::\|std::_Function\|std::thread\|start_thread' | head -"${TOP:-40}" | cut -c1-160; } || true
fi
echo "profile: $T"
