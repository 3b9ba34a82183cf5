#!/usr/bin/env bash
# shellcheck disable=SC2119
# SIGTERM under load: the server must exit 0 within a bounded time, say in its log
# that it flushed, leave a data directory that recovers without a torn tail or damage,
# and still serve every span it acknowledged, exactly once, after the restart.
# Requests caught by the shutdown must be refused retryably (503 or a closed
# connection, which the load generator retries), never answered with another error.
#
#   tests/ops/sigterm.sh BUILD_DIR/sightline
#
# Environment: STOP_LIMIT (15 s: the server's 10 s drain grace plus closing the
# store), KEEP=1 keeps the temporary directory.
set -euo pipefail
BIN=${1:?usage: tests/ops/sigterm.sh BUILD_DIR/sightline}
TAG=ops/sigterm
HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
# shellcheck source=tests/ops/lib.sh disable=SC2034
. "$HERE/lib.sh"
ops_init
STOP_LIMIT=${STOP_LIMIT:-15}
DATA="$TMP/data"
ACK="$TMP/acked.txt"

# A memtable of 4 MiB: under this load the store flushes a few segments and holds
# a partly filled memtable when the signal comes.
start_server "$DATA" --memtable-limit-bytes 4MiB
start_driver "$ACK" --variant lean --spans 0 --duration 3600 --batch 50 --connections 4 --seed 7
nap 3
before=$(lines "$ACK")
[ "$before" -gt 0 ] || fail "nothing acknowledged after 3 s of load: $(cat "$ACK".loadgen.err)"
term_server "$STOP_LIMIT"
note "SIGTERM under load ($before spans acknowledged so far): exit status $SERVER_RC after $STOP_MS ms"
[ "$SERVER_RC" -eq 0 ] || fail "exit status $SERVER_RC after SIGTERM (see $SERVER_LOG)"
shutdown_log=$(log_since_signal "$SERVER_LOG")
[ -n "$shutdown_log" ] || fail "the log does not say the signal was received: $(tail -n 5 "$SERVER_LOG")"
grep -qiE 'flush|synced' <<<"$shutdown_log" ||
  fail "the shutdown log does not say that the store flushed: $shutdown_log"
grep -q 'stopped' <<<"$shutdown_log" || fail "the shutdown log does not end with 'stopped': $shutdown_log"
stop_log=$SERVER_LOG
stop_ms=$STOP_MS

# The driver keeps retrying against the dead port; the restart takes its requests.
start_server "$DATA" --memtable-limit-bytes 4MiB
if grep -Ei 'torn tail|corrupt|LOST' "$SERVER_LOG"; then
  fail "recovery after a clean shutdown found a torn tail or damage (see $SERVER_LOG)"
fi
nap 1
stop_driver
grep -q '"http_errors":0,"partial":0' "$ACK.loadgen.json" ||
  fail "requests were answered with errors around the shutdown: $(cat "$ACK.loadgen.json")"
verify "$ACK" "after SIGTERM under load and a restart"
term_server "$STOP_LIMIT"
[ "$SERVER_RC" -eq 0 ] || fail "exit status $SERVER_RC after the second SIGTERM (see $SERVER_LOG)"
note "PASS: exit 0 in $stop_ms ms under load; shutdown log: $(grep -iE 'flush|synced' "$stop_log" | head -n 1);" \
  "all $(lines "$ACK") acknowledged spans present exactly once after the restart"
