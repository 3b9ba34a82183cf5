#!/usr/bin/env bash
# Process-level tests of `sightline serve` (`make ops-test`, part of `make test`):
#   sigterm.sh   SIGTERM under load: exit 0 in bounded time, log says it flushed,
#                every acknowledged span there after the restart
#   bitflip.sh   flipped bytes in a WAL file and in a segment: the server starts,
#                logs Corruption naming the file, serves everything outside the damage
#                (segments: quarantines the damaged file as *.corrupt)
#   overload.sh  a flood against a tiny queue: every refusal is 429/503 with
#                Retry-After and counted; every acknowledged span stored once
#   prometheus.sh  Debian's prometheus scrapes /metrics every second; PromQL over its
#                HTTP API returns the agents' runs, tool calls, tokens, cost and
#                durations that were sent (needs the `prometheus` binary)
# Each script starts its own servers on free loopback ports with temporary data
# directories, and can be run alone: tests/ops/NAME.sh BUILD_DIR/sightline.
#
#   tests/ops/run.sh BUILD_DIR/sightline [sigterm bitflip overload prometheus]
set -uo pipefail
BIN=${1:?usage: tests/ops/run.sh BUILD_DIR/sightline [sigterm bitflip overload prometheus]}
shift
HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
command -v node >/dev/null 2>&1 || { echo "ops-test: node is required (scripts/install-deps.sh installs it)" >&2; exit 1; }
TESTS=("$@")
[ ${#TESTS[@]} -gt 0 ] || TESTS=(sigterm bitflip overload prometheus)
failed=()
summary=()
for t in "${TESTS[@]}"; do
  [ -f "$HERE/$t.sh" ] || { echo "ops-test: no test $t" >&2; exit 2; }
  t0=${EPOCHREALTIME/./}
  if bash "$HERE/$t.sh" "$BIN"; then r=PASS; else r=FAIL; failed+=("$t"); fi
  t1=${EPOCHREALTIME/./}
  summary+=("$(printf '%-10s %s %6.1f s' "$t" "$r" "$(( (t1 - t0) / 1000 ))e-3")")
done
echo "ops-test summary:"
printf '  %s\n' "${summary[@]}"
if [ ${#failed[@]} -gt 0 ]; then
  echo "ops-test: FAIL: ${failed[*]}" >&2
  exit 1
fi
echo "ops-test: all passed"
