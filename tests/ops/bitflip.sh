#!/usr/bin/env bash
# shellcheck disable=SC2119
# Bit flips in the data directory: the server must start (never crash or refuse to
# start), log Corruption naming the damaged file, and serve every span outside the
# damaged region.
#
#   tests/ops/bitflip.sh BUILD_DIR/sightline [wal|segment-middle|segment-tail ...]
#
# wal             6000 spans acknowledged into one WAL file, kill -9 (the WAL stays),
#                 4 bytes flipped inside the middle record (wal_damage.js): the log
#                 names the file; every acknowledged span of the other 32 KiB blocks
#                 is served exactly once, the damaged record's spans are not; after a
#                 SIGTERM (which writes the survivors to a segment) a second start
#                 serves the same.
# segment-middle  two loads, A then B, each flushed into its own segment; 4 bytes
# segment-tail    flipped in the middle of A's segment (trace data), or 40 bytes
#                 before its end (footer / index): the server starts, every span of
#                 B is served exactly once, reading A's traces does not hurt the
#                 server, the log names A's segment as corrupt, and the file is
#                 renamed *.corrupt (quarantined), so the next start is clean.
#
# Environment: KEEP=1 keeps the temporary directory.
set -euo pipefail
BIN=${1:?usage: tests/ops/bitflip.sh BUILD_DIR/sightline [wal|segment-middle|segment-tail ...]}
shift
CASES=("$@")
[ ${#CASES[@]} -gt 0 ] || CASES=(wal segment-middle segment-tail)
TAG=ops/bitflip
HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
# shellcheck source=tests/ops/lib.sh disable=SC2034
. "$HERE/lib.sh"
ops_init

# load ACK SEED SPANS: a bounded load in the foreground; every span must be acknowledged.
load() {
  "$LOADGEN" --url "http://127.0.0.1:$HTTP_PORT/v1/traces" --variant lean --spans "$3" --batch 20 \
    --connections 2 --seed "$2" --pool-mb 0 --timeout 20 --ack-log "$1" --json >"$1.loadgen.json" 2>"$1.loadgen.err" ||
    fail "load (seed $2) failed: $(cat "$1.loadgen.json" "$1.loadgen.err")"
  [ "$(lines "$1")" -eq "$3" ] || fail "load (seed $2): $(lines "$1") of $3 spans acknowledged"
}

# expect_logged CASE PATTERN FILE: some line of the server log names FILE and matches
# PATTERN.
expect_logged() {
  # (no grep -q on the right: an early exit would fail the pipeline under pipefail)
  grep -i -- "$3" "$SERVER_LOG" | grep -iE "$2" >/dev/null ||
    fail "$1: the log has no line matching /$2/ that names $3 (lines saying corrupt: $(grep -ic corrupt "$SERVER_LOG"))"
}

# expect_missing ACK: every span listed must be reported missing, and the server must
# survive the asking.
expect_missing() {
  local n out
  n=$(lines "$1")
  out=$("$VERIFY" --url "http://127.0.0.1:$HTTP_PORT" --ack-log "$1" --json || true)
  grep -q "\"missing_spans\":$n," <<<"$out" || fail "the $n spans of the damaged record: expected all missing, got $out"
}

case_wal() {
  local data="$TMP/wal-data" ack="$TMP/wal-acked.txt" wal summary
  HTTP_PORT=
  start_server "$data"
  load "$ack" 11 6000
  kill9_server
  wal=$(find "$data/wal" -name '*.log' -printf '%s %p\n' | sort -rn | head -n 1 | cut -d' ' -f2-)
  summary=$(node "$HERE/wal_damage.js" "$wal" "$ack" "$TMP/wal-damage") || fail "wal_damage.js: $summary"
  note "wal: damaged $summary"
  local round
  for round in 1 2; do
    start_server "$data"
    # The first start reports the damage; its SIGTERM then writes what survived to a
    # segment (flush on close), so the second start has no damaged WAL to report.
    [ "$round" = 1 ] && expect_logged wal 'corrupt' "$(basename "$wal")"
    verify "$TMP/wal-damage.keep" "wal (start $round): spans outside the damaged block"
    expect_missing "$TMP/wal-damage.lost"
    kill -0 "$SERVER_PID" 2>/dev/null || fail "wal: the server died while serving"
    term_server
  done
  note "wal: PASS: started twice over a damaged WAL, logged Corruption naming $(basename "$wal"), served all $(lines "$TMP/wal-damage.keep") spans outside the damaged block, none of the $(lines "$TMP/wal-damage.lost") in the damaged record"
}

segment_files() { # DATA: segment files (not temporaries), one per line
  find "$1/segments" -maxdepth 1 -type f ! -name '*.tmp' ! -name '*.corrupt' -printf '%f\n' 2>/dev/null | sort
}

# flush_new_segment DATA BEFORE: after a SIGTERM, makes sure the data loaded since
# the segment list BEFORE is in a new segment: when the shutdown did not flush,
# restarts with a 64 KiB memtable (recovery then flushes what it replayed) and waits.
# Sets NEW_SEG to the new segment's name.
flush_new_segment() {
  local data=$1 before=$2 limit
  NEW_SEG=$(comm -13 <(echo "$before") <(segment_files "$data") | head -n 1)
  [ -n "$NEW_SEG" ] && return 0
  start_server "$data" --memtable-limit-bytes 64KiB
  limit=$(( $(now_ms) + 30000 ))
  while [ -z "$NEW_SEG" ] || compgen -G "$data/segments/*.tmp" >/dev/null; do
    [ "$(now_ms)" -lt "$limit" ] || fail "no segment was flushed in 30 s (see $SERVER_LOG)"
    nap 0.05
    NEW_SEG=$(comm -13 <(echo "$before") <(segment_files "$data") | head -n 1)
  done
  term_server
}

SEG_READY=
prepare_segments() {
  [ -n "$SEG_READY" ] && return 0
  local data="$TMP/seg-pristine" segs
  HTTP_PORT=
  start_server "$data"
  load "$TMP/seg-a.txt" 21 3000
  term_server
  flush_new_segment "$data" ""
  SEG_A=$NEW_SEG
  local before
  before=$(segment_files "$data")  # SIGTERM flushes: list what was there before B
  start_server "$data"
  load "$TMP/seg-b.txt" 22 3000
  term_server
  flush_new_segment "$data" "$before"
  SEG_B=$NEW_SEG
  { [ -n "$SEG_A" ] && [ -n "$SEG_B" ] && [ "$SEG_A" != "$SEG_B" ]; } || fail "could not make two segments: '$SEG_A' '$SEG_B'"
  segs=$(segment_files "$data" | tr '\n' ' ')
  note "segments: A (seed 21) in $SEG_A, B (seed 22) in $SEG_B; all: $segs"
  SEG_READY=1
}

# case_segment WHERE: WHERE is middle or tail.
case_segment() {
  local data="$TMP/seg-$1" seg size at n
  rm -rf "$data"
  cp -a "$TMP/seg-pristine" "$data"
  seg="$data/segments/$SEG_A"
  size=$(stat -c %s "$seg")
  if [ "$1" = middle ]; then at=$((size / 2)); n=4; else at=$((size - 40)); n=8; fi
  node -e '
    const fs = require("fs"); const [p, at, n] = [process.argv[1], +process.argv[2], +process.argv[3]];
    const fd = fs.openSync(p, "r+"); const b = Buffer.alloc(n); fs.readSync(fd, b, 0, n, at);
    for (let i = 0; i < n; ++i) b[i] ^= 0xff; fs.writeSync(fd, b, 0, n, at); fs.fsyncSync(fd); fs.closeSync(fd);' "$seg" "$at" "$n"
  note "segment-$1: flipped $n bytes at offset $at of $SEG_A ($size bytes)"
  spawn_server "$data"
  wait_ready 60 || fail "segment-$1: the server did not start over a damaged segment: $(tail -n 5 "$SERVER_LOG")"
  verify "$TMP/seg-b.txt" "segment-$1: the spans of the undamaged segment"
  # Reading the damaged segment's traces: answers (404 or partial), never a crash.
  "$VERIFY" --url "http://127.0.0.1:$HTTP_PORT" --ack-log "$TMP/seg-a.txt" --json >"$TMP/seg-$1-a.json" || true
  kill -0 "$SERVER_PID" 2>/dev/null || fail "segment-$1: the server died reading the damaged segment's traces"
  curl -fsS -o /dev/null "http://127.0.0.1:$HTTP_PORT/readyz" || fail "segment-$1: not ready after reading the damaged segment"
  expect_logged "segment-$1" 'corrupt' "$SEG_A"
  local quarantined limit
  # A damaged block found by a read is salvaged in the background: the readable traces
  # move to a new file, then the damaged file is renamed.
  limit=$(($(now_ms) + 30000))
  quarantined=$(find "$data" -name "*${SEG_A}*.corrupt" | head -n 1)
  while [ -z "$quarantined" ] && [ "$(now_ms)" -lt "$limit" ]; do
    nap 0.2
    quarantined=$(find "$data" -name "*${SEG_A}*.corrupt" | head -n 1)
  done
  [ -n "$quarantined" ] || fail "segment-$1: $SEG_A was not renamed *.corrupt: $(find "$data/segments" -type f -printf '%f ')"
  [ ! -e "$seg" ] || fail "segment-$1: $SEG_A is still in place beside $quarantined"
  if [ "$1" = middle ]; then
    # Salvaged: A's traces outside the damaged block serve again.
    "$VERIFY" --url "http://127.0.0.1:$HTTP_PORT" --ack-log "$TMP/seg-a.txt" --json >"$TMP/seg-$1-a2.json" || true
    # Every trace of A answers now (a damaged columnar block costs its rows; their
    # traces remain as summaries), with no API error.
    local acked missing
    acked=$(grep -o '"acked_spans":[0-9]*' "$TMP/seg-$1-a2.json" | cut -d: -f2)
    missing=$(grep -o '"missing_spans":[0-9]*' "$TMP/seg-$1-a2.json" | cut -d: -f2)
    grep -q '"api_errors":0' "$TMP/seg-$1-a2.json" ||
      fail "segment-$1: after salvage A's traces should answer without errors, got $(cat "$TMP/seg-$1-a2.json")"
    note "segment-$1: salvaged: $((acked - missing)) of A's $acked spans serve again; the damaged block's $missing do not"
  fi
  term_server
  [ "$SERVER_RC" -eq 0 ] || fail "segment-$1: exit status $SERVER_RC on SIGTERM"
  # The next start must be clean: the quarantined file is not read again.
  start_server "$data"
  verify "$TMP/seg-b.txt" "segment-$1: after a second start"
  term_server
  note "segment-$1: PASS: started, logged Corruption naming $SEG_A, quarantined it as ${quarantined#"$data"/}, served all 3000 spans of $SEG_B; A's traces: $(cat "$TMP/seg-$1-a.json")"
}

# Each case runs in a subshell so one failing case does not hide the others; its
# trap kills the server it started.
case_exit() {
  [ -n "$SERVER_PID" ] && kill -9 "$SERVER_PID" 2>/dev/null
  wait 2>/dev/null
}
status=0
for c in "${CASES[@]}"; do
  case $c in
    wal) (trap case_exit EXIT; case_wal) || status=1 ;;
    segment-middle | segment-tail)
      prepare_segments
      (trap case_exit EXIT; case_segment "${c#segment-}") || status=1 ;;
    *) fail "unknown case $c (wal, segment-middle, segment-tail)" ;;
  esac
done
[ "$status" -eq 0 ] || fail "some cases failed (above)"
note "PASS: ${CASES[*]}"
