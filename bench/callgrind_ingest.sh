#!/usr/bin/env bash
# Counts the server's instructions per acknowledged span, end to end, under callgrind.
#
#   bench/callgrind_ingest.sh BUILD_DIR [lean|payload] [SPANS]
#
# Starts `sightline serve` under `valgrind --tool=callgrind` on free ports with a fresh
# data directory, sends SPANS (100,000) spans of the bench's workload with
# sightline-loadgen (one connection, 500 spans a request, fixed seed and start time, so
# every run sends the same bytes), then stops the server with SIGTERM, which writes the
# memtable as segments: the count (from the moment the server listens) covers HTTP, decode, redaction, normalisation, pricing,
# the WAL, the memtable, rollups, the trace index and the flush. Instructions do not
# depend on what else the machine runs, so two builds compare on a busy machine where
# throughput and CPU time do not; they are not a speed (memory stalls and fsync waits do
# not count). Prints instructions per span and the top functions by inclusive count; the
# profile stays in the printed directory for callgrind_annotate. SERVE_ARGS adds options
# to `sightline serve` (an A/B of a feature: SERVE_ARGS=--no-rollups).
set -euo pipefail
BUILD=${1:?usage: bench/callgrind_ingest.sh BUILD_DIR [lean|payload] [SPANS]}
VARIANT=${2:-lean}
SPANS=${3:-100000}
T=$(mktemp -d "${TMPDIR:-/tmp}/sightline-callgrind.XXXXXX")
valgrind --tool=callgrind --instr-atstart=no --callgrind-out-file="$T/callgrind.out" \
  "$BUILD/sightline" serve --http 127.0.0.1:0 --grpc 127.0.0.1:0 --data "$T/data" ${SERVE_ARGS:-} >"$T/server.log" 2>&1 &
SERVER=$!
trap 'kill $SERVER 2>/dev/null || true' EXIT
. "$(dirname "$0")/server_port.sh"
PORT=$(wait_for_port "$T/server.log" 1200) || { echo "callgrind_ingest: the server did not start:" >&2; cat "$T/server.log" >&2; exit 1; }
# Start-up (compiling the redaction and pricing patterns) is left out of the count.
callgrind_control --instr=on $SERVER >/dev/null 2>&1
"$BUILD/sightline-loadgen" --url "http://127.0.0.1:$PORT/v1/traces" --variant "$VARIANT" --spans "$SPANS" \
  --connections 1 --batch 500 --seed 1 --start-ns 1767225600000000000 --timeout 600 --give-up 600 \
  --json >"$T/loadgen.json"
kill -TERM $SERVER
wait $SERVER || true
trap - EXIT
acked=$(grep -o '"acked_spans":[0-9]*' "$T/loadgen.json" | cut -d: -f2)
total=$(sed -n 's/.*Collected : \([0-9]*\).*/\1/p' "$T/server.log" | tail -1)
[ -n "$total" ] || total=$(callgrind_annotate "$T/callgrind.out" 2>/dev/null | sed -n 's/^ *\([0-9,]*\) .*PROGRAM TOTALS.*/\1/p' | tr -d ,)
echo "callgrind_ingest: $VARIANT, $acked spans acknowledged, $total instructions in the server:" \
  "$(awk -v t="$total" -v a="$acked" 'BEGIN { printf "%.0f", (a > 0 ? t / a : 0) }') a span"
{ callgrind_annotate --inclusive=yes "$T/callgrind.out" 2>/dev/null | grep 'sightline::' |
    head -"${TOP:-30}" | cut -c1-170; } || true
echo "callgrind_ingest: $T"
