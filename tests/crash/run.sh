#!/usr/bin/env bash
# shellcheck disable=SC2119
# Crash test (`make crash-test`, part of `make test`; `make crash-test-long` for the long
# variant): kill -9 the server under load, restart it on the same data directory, and
# check after every restart that every span it acknowledged is there exactly once.
#
#   tests/crash/run.sh BUILD_DIR/sightline
#
# An epoch is one data directory, one load generator and EPOCH_ROUNDS rounds:
#  - the load generator (the lean workload in odd epochs, the payload one, conversation
#    histories, in even ones; batches of 10 spans, 2 connections, at most RATE
#    spans a second) runs through the whole epoch with --ack-log: after every 200 without rejected spans it appends the
#    batch's span ids. A failed or cut request is retried on a new connection, so
#    batches the server made durable but never answered are sent twice (the server
#    must not store them twice).
#  - each round kills the server at one kind of moment, cycling through:
#      commit   random 0.2-1.2 s under load: a group commit is nearly always in flight
#      flush    tiny memtable (512 KiB): the kill lands while a segments/*.tmp file exists,
#               i.e. mid-flush (falls back to a random moment; the summary counts hits)
#      startup  a kill under load, then a second kill 0-300 ms after the restart was
#               spawned: during recovery (which flushes a recovered memtable over the
#               limit) or the first writes
#    with fsync batch, never or always and memtable limits from 512 KiB to 16 MiB, so
#    every restart recovers under a different configuration than the one it crashed in.
#  - after the restart the server must report ready, must not log WAL corruption (a
#    kill -9 can only tear the tail of the newest file), and every span acknowledged
#    since the previous round, plus a sample of 200 older ones, must be served
#    exactly once (crash_verify).
#  - at the end of the epoch the driver stops and every acknowledged span of the epoch
#    is verified; then the data directory is deleted (disk stays bounded in long runs).
# Finally the verifier is shown to fail on made-up spans.
#
# Environment: ROUNDS (50; crash-test-long uses 500), EPOCH_ROUNDS (25), SEED (random;
# set it to replay the same kill timings), KEEP=1 keeps the temporary directory, RATE
# (2500 spans/s). The rate bounds the work of a round: a round verifies what was
# acknowledged since the last, and an unbounded generator acknowledges more while a
# slow verification runs, so on a busy machine each round had more to check than the
# one before (50 rounds took 330 s on a quiet CI machine and 1,427 s on a busy one).
# 2,500 a second is ~250 requests of 10 spans: every kill still lands under load.
set -euo pipefail

BIN=${1:?usage: tests/crash/run.sh BUILD_DIR/sightline}
TAG=crash-test
# shellcheck source=tests/ops/lib.sh disable=SC2034
. "$(dirname "${BASH_SOURCE[0]}")/../ops/lib.sh"
ROUNDS=${ROUNDS:-50}
RATE=${RATE:-2500}
EPOCH_ROUNDS=${EPOCH_ROUNDS:-25}
SEED=${SEED:-$(( $(date +%s) % 100000 ))}
RANDOM=$SEED
ops_init

# Round kinds, cycled; each: kind fsync memtable-limit.
KINDS=("commit batch 16MiB" "flush batch 512KiB" "startup batch 4MiB" "commit never 16MiB"
       "flush never 512KiB" "commit always 2MiB" "startup never 512KiB")
config_of() { # ROUND -> "kind fsync mem"
  echo "${KINDS[$(( ($1 - 1) % ${#KINDS[@]} ))]}"
}
serve_flags() { # ROUND -> flags for the server that runs during ROUND
  local kind fsync mem
  read -r kind fsync mem <<<"$(config_of "$1")"
  echo "--fsync $fsync --memtable-limit-bytes $mem"
}

# kill_mid_flush DATA: waits (up to 3 s) until a segment is being written, then
# kill -9. Sets HIT to the temporary file seen, or "" when it fell back to the timeout.
kill_mid_flush() {
  local seg=$1/segments limit f
  limit=$(( $(now_ms) + 3000 ))
  nap_ms $(( 50 + RANDOM % 200 ))
  HIT=
  while [ "$(now_ms)" -lt "$limit" ]; do
    for f in "$seg"/*.tmp; do
      if [ -e "$f" ]; then
        kill -9 "$SERVER_PID" 2>/dev/null || true
        HIT=${f##*/}
        break 2
      fi
    done
    nap 0.002
  done
  kill9_server
}

START_MS=$(now_ms)
TOTAL_ACKED=0
FLUSH_ROUNDS=0
FLUSH_HITS=0
STARTUP_ROUNDS=0
EARLY_KILLS=0
RESTART_MS_TOTAL=0
MAX_RESTART_MS=0
echo "$TAG: $ROUNDS rounds of kill -9 under load in epochs of $EPOCH_ROUNDS (SEED=$SEED), in $TMP"

round=0
epoch=0
while [ "$round" -lt "$ROUNDS" ]; do
  epoch=$((epoch + 1))
  DATA="$TMP/data.$epoch"
  ACK="$TMP/acked.$epoch.txt"
  : >"$ACK"
  HTTP_PORT=
  # shellcheck disable=SC2046
  start_server "$DATA" $(serve_flags $((round + 1)))
  variant=lean
  [ $((epoch % 2)) = 0 ] && variant=payload
  start_driver "$ACK" --variant "$variant" --spans 0 --duration 36000 --batch 10 --connections 2 \
    --rate "$RATE" --seed $((SEED + epoch))
  verified=0
  last_round=$(( round + EPOCH_ROUNDS < ROUNDS ? round + EPOCH_ROUNDS : ROUNDS ))
  while [ "$round" -lt "$last_round" ]; do
    round=$((round + 1))
    read -r kind fsync mem <<<"$(config_of "$round")"
    kill -0 "$DRIVER_PID" 2>/dev/null || fail "the load generator exited early: $(cat "$ACK".loadgen.*)"
    t_round=$(now_ms)
    what=
    case $kind in
      commit)
        delay=$(( 200 + RANDOM % 1000 ))
        nap_ms "$delay"
        kill9_server
        what="killed after $delay ms under load"
        ;;
      flush)
        FLUSH_ROUNDS=$((FLUSH_ROUNDS + 1))
        kill_mid_flush "$DATA"
        if [ -n "$HIT" ]; then
          FLUSH_HITS=$((FLUSH_HITS + 1))
          what="killed mid-flush ($HIT being written)"
        else
          what="killed after 3 s (no flush seen)"
        fi
        ;;
      startup)
        nap_ms $(( 200 + RANDOM % 600 ))
        kill9_server
        # shellcheck disable=SC2046
        spawn_server "$DATA" $(serve_flags "$round")
        # Half the time within 60 ms (recovery), else up to 300 ms (first writes).
        if (( RANDOM % 2 )); then delay=$(( RANDOM % 60 )); else delay=$(( 60 + RANDOM % 240 )); fi
        nap_ms "$delay"
        state=starting
        if grep -q 'sightline: listening' "$SERVER_LOG"; then
          state=listening
        else
          EARLY_KILLS=$((EARLY_KILLS + 1))
        fi
        STARTUP_ROUNDS=$((STARTUP_ROUNDS + 1))
        kill9_server
        what="killed under load, then again $delay ms after the restart was spawned ($state)"
        ;;
    esac
    acked=$(lines "$ACK")
    t_kill=$(now_ms)
    # shellcheck disable=SC2046
    start_server "$DATA" $(serve_flags $((round + 1)))
    restart_ms=$(( $(now_ms) - t_kill ))
    RESTART_MS_TOTAL=$((RESTART_MS_TOTAL + restart_ms))
    [ "$restart_ms" -gt "$MAX_RESTART_MS" ] && MAX_RESTART_MS=$restart_ms
    if grep -E 'CORRUPTION|LOST|orrupt' "$SERVER_LOG" >/dev/null; then
      fail "round $round: the restart reported damage that a kill -9 cannot cause: $(grep -E 'CORRUPTION|LOST|orrupt' "$SERVER_LOG" | head -n 3)"
    fi
    # This round's acknowledgements, plus a sample of the older ones.
    {
      sed -n "$((verified + 1)),${acked}p" "$ACK"
      [ "$verified" -gt 0 ] && head -n "$verified" "$ACK" |
        awk -v s=$((SEED + round)) -v n="$verified" 'BEGIN { srand(s) } rand() < 200 / n'
    } >"$TMP/round.txt"
    if [ -s "$TMP/round.txt" ]; then
      verify "$TMP/round.txt" "round $round ($kind, fsync=$fsync, memtable $mem, SEED=$SEED)"
    fi
    note "round $round/$ROUNDS [$kind fsync=$fsync memtable=$mem]: $what; +$((acked - verified)) acked ($acked this epoch); ready again in $restart_ms ms; verified; round took $(( $(now_ms) - t_round )) ms"
    verified=$acked
  done
  # Let the last incarnation take load, then stop the driver and check the whole epoch.
  nap 0.5
  stop_driver
  acked=$(lines "$ACK")
  [ "$acked" -gt 0 ] || fail "epoch $epoch: nothing was acknowledged: $(cat "$ACK".loadgen.*)"
  verify "$ACK" "epoch $epoch, all $acked acknowledged spans after $round crashes (SEED=$SEED)"
  TOTAL_ACKED=$((TOTAL_ACKED + acked))
  note "epoch $epoch: all $acked acknowledged spans present exactly once; driver: $(cat "$ACK".loadgen.json)"
  if [ "$epoch" -eq 1 ]; then
    # The verifier must be able to fail: a made-up trace, and a made-up span in a
    # real trace, must both be reported missing.
    head -n 50 "$ACK" >"$TMP/probe.txt"
    echo "00000000000000000000000000c0ffee 00000000c0ffee01" >>"$TMP/probe.txt"
    echo "$(head -n 1 "$ACK" | cut -d' ' -f1) 00000000c0ffee02" >>"$TMP/probe.txt"
    if "$VERIFY" --url "http://127.0.0.1:$HTTP_PORT" --ack-log "$TMP/probe.txt" --json >"$TMP/probe.json"; then
      fail "crash_verify accepted made-up spans: $(cat "$TMP/probe.json")"
    fi
    grep -q '"missing_spans":2,' "$TMP/probe.json" || fail "crash_verify miscounted made-up spans: $(cat "$TMP/probe.json")"
  fi
  term_server
  [ "$SERVER_RC" -eq 0 ] || fail "epoch $epoch: the server exited $SERVER_RC on SIGTERM (see $SERVER_LOG)"
  [ "${KEEP:-0}" = 1 ] || rm -rf "$DATA"
done

elapsed=$(( $(now_ms) - START_MS ))
if [ "$FLUSH_ROUNDS" -ge 3 ] && [ "$FLUSH_HITS" -eq 0 ]; then
  echo "$TAG: WARNING: no flush round saw a segments/*.tmp file: the mid-flush kills fell back to random moments" >&2
fi
note "PASS: $TOTAL_ACKED acknowledged spans survived $ROUNDS kill -9 restarts, none lost or duplicated;" \
  "$FLUSH_HITS of $FLUSH_ROUNDS flush rounds killed mid-flush; $EARLY_KILLS of $STARTUP_ROUNDS start-up kills before listening; restart to ready: mean $((RESTART_MS_TOTAL / ROUNDS)) ms," \
  "max $MAX_RESTART_MS ms; $((elapsed / 1000)) s in all, $((elapsed / ROUNDS)) ms per round"
