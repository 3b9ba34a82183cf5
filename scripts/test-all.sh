#!/usr/bin/env bash
# `make test`: every suite, in the order CI needs them. The gcc build comes first. Then
# the clang build (ASan + UBSan libraries, the sanitizer suites and the libFuzzer
# targets) starts at the lowest CPU priority beside the suites that leave cores idle
# much of the time (the kill -9 loop, the SDK, browser and process-level tests), which
# keep the CPU whenever they want it; the sanitizer suites and the fuzz run follow.
# Each stage prints when it starts (`make test: ... starts at`).
set -euo pipefail
MAKE=${MAKE:-make}
FUZZ_BUILD=${FUZZ_BUILD:-build-fuzz}

$MAKE --no-print-directory build

log=$(mktemp "${TMPDIR:-/tmp}/sightline-clang-build.XXXXXX")
echo "make test: the clang build (ASan+UBSan, fuzz targets) starts at $(date -u +%T), niced, log in $log"
# setsid gives the build its own session, so the EXIT trap can stop all of it. With the
# kernel's autogroup scheduling (sched_autogroup_enabled=1, Debian's default) a new
# session is a new scheduling group that gets an equal share of the CPU whatever its
# processes' nice value: the group's own nice (/proc/self/autogroup) must be raised too,
# or the build takes half the machine from the kill -9 loop (whose verification then
# falls behind the load, and each round takes longer than the one before).
setsid -w bash -c 'echo 19 >/proc/self/autogroup 2>/dev/null || true; exec nice -n 19 "$@"' _ \
  $MAKE --no-print-directory fuzz-build >"$log" 2>&1 &
clang_build=$!
trap 'kill -- -"$clang_build" 2>/dev/null || true' EXIT

$MAKE --no-print-directory unit-test integration-test ui-test crash-test ops-test

echo "make test: waiting for the clang build at $(date -u +%T)"
if ! wait "$clang_build"; then
  echo "make test: the clang build failed; the end of its log:" >&2
  tail -80 "$log" >&2
  exit 1
fi
trap - EXIT
echo "make test: the clang build finished at $(date -u +%T)"
rm -f "$log"

$MAKE --no-print-directory asan-test fuzz-test
echo "make test: all suites passed at $(date -u +%T)"
