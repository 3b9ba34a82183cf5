#!/usr/bin/env bash
# Runs every libFuzzer target present in BUILD_DIR for SECONDS each (default 15) over a
# temporary copy of its seed corpus (tests/fuzz/corpus/<target>/), FUZZ_JOBS targets at
# a time (default: the number of cores; libFuzzer uses one core per target).
# Builds nothing. Exits non-zero when any target crashes, leaks, times out or runs out
# of memory, printing the input that did it; with no target found it fails too.
#
#   tests/fuzz/run.sh build-fuzz 60
set -u
BUILD_DIR=${1:?usage: tests/fuzz/run.sh BUILD_DIR [SECONDS]}
SECONDS_EACH=${2:-15}
HERE=$(cd "$(dirname "$0")" && pwd)
BUILD_DIR=$(cd "$BUILD_DIR" && pwd) || exit 2
ARTIFACTS="$BUILD_DIR/fuzz-artifacts"
mkdir -p "$ARTIFACTS"

JOBS=${FUZZ_JOBS:-$(nproc)}

# One target: its report goes to $ARTIFACTS/$name.report (printed in order at the end),
# its status to $ARTIFACTS/$name.status.
run_one() {
  local name=$1 bin="$BUILD_DIR/$1" corpus log rc input dict
  local report="$ARTIFACTS/$name.report"
  corpus=$(mktemp -d "${TMPDIR:-/tmp}/sl-fuzz-$name.XXXXXX")
  if [[ -d "$HERE/corpus/$name" ]]; then cp -r "$HERE/corpus/$name/." "$corpus/"; fi
  local args=(-max_len=65536 -max_total_time="$SECONDS_EACH" -timeout=20 -rss_limit_mb=2048
              -print_final_stats=1 -artifact_prefix="$ARTIFACTS/$name-")
  dict="$HERE/${name%_fuzz}.dict"
  [[ -f "$HERE/$name.dict" ]] && dict="$HERE/$name.dict"
  [[ -f "$dict" ]] && args+=(-dict="$dict")
  log="$ARTIFACTS/$name.log"
  echo "fuzz: $name for ${SECONDS_EACH}s ($(ls "$corpus" | wc -l) seeds)" >"$report"
  # Stack traces are symbolised for the person reading the failure.
  ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=1} UBSAN_OPTIONS=${UBSAN_OPTIONS:-print_stacktrace=1} \
    "$bin" "${args[@]}" "$corpus" >"$log" 2>&1
  rc=$?
  if [[ $rc -ne 0 ]]; then
    input=$(grep -oE "Test unit written to .*" "$log" | sed 's/Test unit written to //' | tail -1)
    echo "fuzz: $name FAILED (exit $rc); input: ${input:-unknown}; log: $log" >>"$report"
    grep -E "ERROR: |SUMMARY: |runtime error" "$log" | head -5 | sed 's/^/    /' >>"$report"
  else
    grep -E "stat::number_of_executed_units" "$log" | sed "s/^/    /" >>"$report"
  fi
  echo "$rc" >"$ARTIFACTS/$name.status"
  rm -rf "$corpus"
}

names=()
for src in "$HERE"/*_fuzz.cc; do
  name=$(basename "$src" .cc)
  if [[ ! -x "$BUILD_DIR/$name" ]]; then
    echo "fuzz: $name: not built in $BUILD_DIR, skipped"
    continue
  fi
  names+=("$name")
  rm -f "$ARTIFACTS/$name.status"
  while [[ $(jobs -rp | wc -l) -ge $JOBS ]]; do wait -n; done
  run_one "$name" &
done
wait

ran=0
failed=()
for name in "${names[@]}"; do
  cat "$ARTIFACTS/$name.report"
  ran=$((ran + 1))
  [[ "$(cat "$ARTIFACTS/$name.status" 2>/dev/null)" == 0 ]] || failed+=("$name")
done

if [[ $ran -eq 0 ]]; then
  echo "fuzz: no fuzz targets in $BUILD_DIR (configure with -DSIGHTLINE_FUZZ=ON and build them)" >&2
  exit 1
fi
if [[ ${#failed[@]} -gt 0 ]]; then
  echo "fuzz: ${#failed[@]} target(s) failed: ${failed[*]}" >&2
  exit 1
fi
echo "fuzz: $ran target(s) ran clean"
