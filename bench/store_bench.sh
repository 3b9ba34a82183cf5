#!/usr/bin/env bash
# The storage benchmark (`make bench`'s store section): the same generated agent workload
# loaded into Sightline, ClickHouse 18.16 (the OpenTelemetry Collector exporter's
# otel_traces) and SQLite (Arize Phoenix's layout), in one run; prints ingest spans/s,
# bytes on disk per span, and p50/p99 of the query set Q1-Q7 side by side, per variant,
# then one JSON line per figure.
#
#   bench/store_bench.sh BUILD_DIR
#
# Knobs (environment): SPANS (lean spans, 1000000), STORE_PAYLOAD_SPANS (payload spans,
# SPANS/5), VARIANTS ("lean payload"), STORE_SYSTEMS ("sightline clickhouse sqlite"),
# RUNS (200 timed runs per query at most: a p99 of fewer runs than 100 is only the
# slowest run), MIN_RUNS (3), QUERY_BUDGET_S (10 s per query past MIN_RUNS), CONNECTIONS
# (4, Sightline's load generator), BATCH (500 spans per OTLP request), CH_ROWS_PER_INSERT
# (100000), SQLITE_SPANS_PER_TXN (10000), STREAM_ABOVE_MB (3000: above this estimated
# workload size every loader converts while it sends instead of before the clock starts),
# SIZES=1 (print bench/segment_sizes.cc's breakdown of Sightline's data directory after
# each load, on stderr), BENCH_DATA (temporary data, default <repo>/build-bench-data;
# removed at the end), SKIP_BUILD=1 (use the binaries already in BUILD_DIR),
# SIGHTLINE_SERVE_ARGS (more `sightline serve` flags, e.g. "--block-cache-bytes 0" for
# cold reads: no decoded-block cache).
# Big run: SPANS=10000000 (about 4 GB of lean and 11 GB of payload data on the wire;
# SQLite needs the most disk, roughly 2x the wire bytes).
set -euo pipefail

BUILD=${1:?usage: bench/store_bench.sh BUILD_DIR}
ROOT=$(cd "$(dirname "$0")/.." && pwd)
SPANS=${SPANS:-1000000}
STORE_PAYLOAD_SPANS=${STORE_PAYLOAD_SPANS:-$((SPANS / 5))}
VARIANTS=${VARIANTS:-lean payload}
STORE_SYSTEMS=${STORE_SYSTEMS:-sightline clickhouse sqlite}
RUNS=${RUNS:-200}
MIN_RUNS=${MIN_RUNS:-3}
QUERY_BUDGET_S=${QUERY_BUDGET_S:-10}
CONNECTIONS=${CONNECTIONS:-4}
BATCH=${BATCH:-500}
CH_ROWS_PER_INSERT=${CH_ROWS_PER_INSERT:-100000}
SQLITE_SPANS_PER_TXN=${SQLITE_SPANS_PER_TXN:-10000}
STREAM_ABOVE_MB=${STREAM_ABOVE_MB:-3000}
BENCH_DATA=${BENCH_DATA:-$ROOT/build-bench-data}
CH_SERVER=${CH_SERVER:-/usr/sbin/clickhouse-server}

if [ "${SKIP_BUILD:-0}" != 1 ]; then
  if [ -f "$BUILD/build.ninja" ] && ! grep -q 'store_bench' "$BUILD/build.ninja"; then
    cmake "$BUILD" >/dev/null
  fi
  cmake --build "$BUILD" --target sightline sightline-loadgen store_bench >/dev/null
fi
for b in sightline sightline-loadgen store_bench; do [ -x "$BUILD/$b" ] || { echo "store-bench: no $BUILD/$b" >&2; exit 1; }; done

mkdir -p "$BENCH_DATA"
TMP=$(mktemp -d "$BENCH_DATA/store.XXXXXX")
chmod 755 "$TMP"
SL_PID=
CH_PID=
cleanup() {
  for pid in $SL_PID $CH_PID; do
    if kill -0 "$pid" 2>/dev/null; then
      kill "$pid" 2>/dev/null || true
      wait "$pid" 2>/dev/null || true
    fi
  done
  rm -rf "$TMP"
}
trap cleanup EXIT

log() { echo "store-bench: $*" >&2; }
die() { log "$*"; exit 1; }
free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])' 2>/dev/null ||
  echo $((20000 + RANDOM % 20000)); }
# json_get FILE KEY: a scalar from a one-line JSON object.
json_get() { grep -o "\"$2\":[^,}]*" "$1" | head -1 | cut -d: -f2- | tr -d '"'; }
# The results file: one JSON object per figure, appended as they come.
RESULTS="$TMP/results.jsonl"
: >"$RESULTS"
emit() {  # emit VARIANT SYSTEM FIGURE VALUE
  printf '{"bench":"store","variant":"%s","system":"%s","figure":"%s","value":"%s"}\n' "$1" "$2" "$3" "$4" >>"$RESULTS"
}
# The query runner's lines become figures: qN_p50_ms, qN_p99_ms, qN_rows, qN_runs, and qN_status
# and qN_note when the query did not run (n/a, error).
emit_queries() {  # emit_queries VARIANT SYSTEM FILE
  local line q
  while IFS= read -r line; do
    q=$(echo "$line" | grep -o '"query":"Q[0-9]"' | grep -o 'Q[0-9]' | tr Q q)
    for k in p50_ms p99_ms rows runs status note; do
      local val; val=$(echo "$line" | grep -o "\"$k\":\"\{0,1\}[^,\"}]*" | head -1 | cut -d: -f2- | tr -d '"')
      case "$k" in status) [ "$val" = ok ] && continue ;; note) [ -z "$val" ] && continue ;; esac
      emit "$1" "$2" "${q}_$k" "$val"
    done
  done <"$3"
}
workload_args() {  # workload_args VARIANT SPANS
  echo "--variant $1 --spans $2 --batch $BATCH --start-ns $START_NS"
}

# Every system gets the same spans: fixed seed, batch and start time (three days ago, on
# the hour, so the whole load lies in the past).
START_NS=$(( ($(date +%s) / 3600 * 3600 - 3 * 86400) * 1000000000 ))

# --- Sightline: the real server, default durability, loaded over OTLP/HTTP protobuf.
start_sightline() {  # start_sightline DATA_DIR LOG
  # shellcheck disable=SC2086  # SIGHTLINE_SERVE_ARGS is a list of words
  "$BUILD/sightline" serve --http 127.0.0.1:0 --grpc off --data "$1" ${SIGHTLINE_SERVE_ARGS:-} >"$2" 2>&1 &
  SL_PID=$!
  SL_PORT=
  for _ in $(seq 1 600); do
    SL_PORT=$(sed -n 's/.*sightline: listening http=[^ ]*:\([0-9][0-9]*\).*/\1/p' "$2" | head -1)
    [ -n "$SL_PORT" ] && break
    kill -0 "$SL_PID" 2>/dev/null || { cat "$2" >&2; die "sightline exited at start-up"; }
    sleep 0.1
  done
  [ -n "$SL_PORT" ] || die "sightline printed no 'listening' line"
  for _ in $(seq 1 1200); do
    curl -fsS "http://127.0.0.1:$SL_PORT/readyz" >/dev/null 2>&1 && return 0
    sleep 0.1
  done
  die "sightline never became ready"
}
# Waits until the restarted server's background compaction has nothing left to merge
# (the files its final flush wrote), as ClickHouse's parts are merged by OPTIMIZE FINAL
# before its queries: settled means no merge running and none installed for 2.5 s (the
# compaction thread looks for work every second). At most SETTLE_S seconds (120).
settle_sightline() {  # settle_sightline PORT
  local port=$1 last="" same=0 m running total
  for _ in $(seq 1 $(( ${SETTLE_S:-120} * 2 ))); do
    m=$(curl -fsS "http://127.0.0.1:$port/metrics" 2>/dev/null) || { sleep 0.5; continue; }
    running=$(printf '%s\n' "$m" | sed -n 's/^sightline_store_compaction_running \([0-9]*\).*/\1/p')
    total=$(printf '%s\n' "$m" | sed -n 's/^sightline_store_compactions_total \([0-9]*\).*/\1/p')
    if [ "$running" = 0 ] && [ "$total" = "$last" ]; then
      same=$((same + 1))
      [ "$same" -ge 5 ] && { log "sightline: settled after $total compaction(s)"; return 0; }
    else
      same=0
    fi
    last=$total
    sleep 0.5
  done
  log "sightline: compaction still busy after ${SETTLE_S:-120} s; querying anyway"
}
stop_pid() {  # SIGTERM and wait: Sightline flushes and syncs, ClickHouse shuts down
  kill "$1" 2>/dev/null || true
  wait "$1" 2>/dev/null || true
}

run_sightline() {  # run_sightline VARIANT SPANS STREAM
  local v=$1 n=$2 stream=$3 data="$TMP/sightline-$1" pool
  if [ "$stream" = 1 ]; then pool=0; else pool=$(( EST_MB * 13 / 10 + 64 )); fi
  start_sightline "$data" "$TMP/sightline-$v.log"
  log "$v: sightline: loading $n spans over $CONNECTIONS connections (port $SL_PORT)"
  "$BUILD/sightline-loadgen" --url "http://127.0.0.1:$SL_PORT/v1/traces" $(workload_args "$v" "$n") \
    --connections "$CONNECTIONS" --pool-mb "$pool" --json >"$TMP/sl-load-$v.json" || true
  stop_pid "$SL_PID"; SL_PID=
  grep -q '"acked_spans"' "$TMP/sl-load-$v.json" || die "$v: the load generator failed: $(cat "$TMP/sl-load-$v.json")"
  local acked; acked=$(json_get "$TMP/sl-load-$v.json" acked_spans)
  [ "$acked" = "$n" ] || log "$v: WARNING: sightline acknowledged $acked of $n spans ($(json_get "$TMP/sl-load-$v.json" first_error))"
  emit "$v" sightline ingest_spans_per_s "$(json_get "$TMP/sl-load-$v.json" spans_per_s)"
  emit "$v" sightline spans "$acked"
  # Bytes twice: right after the load (flush files the background compaction has not
  # merged yet, written at the flush's faster zstd level) and once compaction has
  # settled, the state ClickHouse is measured in (after OPTIMIZE FINAL).
  local bytes; bytes=$(du -sb "$data" | cut -f1)
  emit "$v" sightline bytes_after_load "$bytes"
  emit "$v" sightline bytes_per_span_after_load "$(awk -v b="$bytes" -v n="$acked" 'BEGIN { printf "%.1f", n ? b / n : 0 }')"
  start_sightline "$data" "$TMP/sightline-$v-2.log"
  settle_sightline "$SL_PORT"
  log "$v: sightline: queries"
  "$BUILD/store_bench" query --system sightline --url "http://127.0.0.1:$SL_PORT" --params "$TMP/params-$v" \
    --runs "$RUNS" --min-runs "$MIN_RUNS" --budget-s "$QUERY_BUDGET_S" --json >"$TMP/sl-q-$v.jsonl" || true
  stop_pid "$SL_PID"; SL_PID=
  emit_queries "$v" sightline "$TMP/sl-q-$v.jsonl"
  bytes=$(du -sb "$data" | cut -f1)
  emit "$v" sightline bytes "$bytes"
  emit "$v" sightline bytes_per_span "$(awk -v b="$bytes" -v n="$acked" 'BEGIN { printf "%.1f", n ? b / n : 0 }')"
  if [ "${SIZES:-0}" = 1 ] && [ -x "$BUILD/segment_sizes" ]; then
    log "$v: sightline: where the bytes go (segment_sizes)"
    "$BUILD/segment_sizes" "$data" >&2 || true
  fi
  rm -rf "$data"
}

# --- ClickHouse 18.16: a private instance as an unprivileged user, on free ports.
start_clickhouse() {  # start_clickhouse DIR
  local dir=$1 user
  CH_HTTP=$(free_port); local tcp; tcp=$(free_port)
  mkdir -p "$dir/data" "$dir/tmp" "$dir/user_files" "$dir/format_schemas" "$dir/log"
  cat >"$dir/config.xml" <<EOF
<?xml version="1.0"?>
<yandex>
  <logger><level>warning</level><log>$dir/log/server.log</log><errorlog>$dir/log/error.log</errorlog>
    <size>100M</size><count>1</count></logger>
  <listen_host>127.0.0.1</listen_host>
  <http_port>$CH_HTTP</http_port>
  <tcp_port>$tcp</tcp_port>
  <max_concurrent_queries>16</max_concurrent_queries>
  <mark_cache_size>536870912</mark_cache_size>
  <path>$dir/data/</path>
  <tmp_path>$dir/tmp/</tmp_path>
  <user_files_path>$dir/user_files/</user_files_path>
  <format_schema_path>$dir/format_schemas/</format_schema_path>
  <users_config>$dir/users.xml</users_config>
  <default_profile>default</default_profile>
  <default_database>default</default_database>
  <timezone>UTC</timezone>
  <umask>022</umask>
  <!-- 18.16 has no column codecs: zstd for every part stands in for the exporter's ZSTD(1). -->
  <compression><case><min_part_size>0</min_part_size><min_part_size_ratio>0</min_part_size_ratio>
    <method>zstd</method></case></compression>
</yandex>
EOF
  cat >"$dir/users.xml" <<EOF
<?xml version="1.0"?>
<yandex>
  <profiles><default><max_memory_usage>8000000000</max_memory_usage></default></profiles>
  <users><default><password></password><networks><ip>127.0.0.1</ip></networks>
    <profile>default</profile><quota>default</quota></default></users>
  <quotas><default></default></quotas>
</yandex>
EOF
  if [ "$(id -u)" -eq 0 ]; then  # never run the database as root
    user=nobody
    chown -R "$user" "$dir"
    setpriv --reuid="$user" --regid="$(id -g "$user")" --clear-groups \
      "$CH_SERVER" --config-file="$dir/config.xml" >"$dir/log/stdout.log" 2>&1 &
  else
    "$CH_SERVER" --config-file="$dir/config.xml" >"$dir/log/stdout.log" 2>&1 &
  fi
  CH_PID=$!
  for _ in $(seq 1 300); do
    curl -fsS "http://127.0.0.1:$CH_HTTP/ping" >/dev/null 2>&1 && return 0
    kill -0 "$CH_PID" 2>/dev/null || break
    sleep 0.1
  done
  cat "$dir/log/stdout.log" "$dir/log/error.log" >&2 2>/dev/null || true
  die "clickhouse did not start"
}
ch() { curl -fsS --data-binary "$1" "http://127.0.0.1:$CH_HTTP/"; }

run_clickhouse() {  # run_clickhouse VARIANT SPANS STREAM
  local v=$1 n=$2 stream=$3 dir="$TMP/clickhouse-$1" s
  start_clickhouse "$dir"
  while IFS= read -r -d $'\x1e' s; do ch "$s" >/dev/null; done < <("$BUILD/store_bench" schema-clickhouse)
  log "$v: clickhouse $(ch 'SELECT version()'): loading $n spans"
  "$BUILD/store_bench" load-clickhouse --url "http://127.0.0.1:$CH_HTTP/" $(workload_args "$v" "$n") \
    --rows-per-insert "$CH_ROWS_PER_INSERT" $([ "$stream" = 1 ] && echo --stream) --json >"$TMP/ch-load-$v.json" ||
    die "$v: clickhouse load failed"
  emit "$v" clickhouse ingest_spans_per_s "$(json_get "$TMP/ch-load-$v.json" spans_per_s)"
  emit "$v" clickhouse spans "$(json_get "$TMP/ch-load-$v.json" spans)"
  # OPTIMIZE FINAL is a no-op on parts a background merge holds: repeat it until every
  # partition of both tables is a single part.
  log "$v: clickhouse: OPTIMIZE FINAL until each partition is one part"
  local tries=0
  while :; do
    for t in otel_traces otel_traces_trace_id_ts; do ch "OPTIMIZE TABLE $t FINAL" >/dev/null; done
    [ "$(ch "SELECT count() FROM system.parts WHERE active AND database = 'default'")" = \
      "$(ch "SELECT uniqExact(table, partition) FROM system.parts WHERE active AND database = 'default'")" ] && break
    tries=$((tries + 1))
    [ "$tries" -ge 120 ] && { log "$v: WARNING: clickhouse parts still unmerged after 120 tries"; break; }
    sleep 1
  done
  local bytes rows
  bytes=$(ch "SELECT sum(bytes_on_disk) FROM system.parts WHERE active AND database = 'default'")
  rows=$(ch "SELECT count() FROM otel_traces")
  emit "$v" clickhouse bytes "$bytes"
  emit "$v" clickhouse bytes_per_span "$(awk -v b="$bytes" -v n="$rows" 'BEGIN { printf "%.1f", n ? b / n : 0 }')"
  emit "$v" clickhouse parts "$(ch "SELECT count() FROM system.parts WHERE active AND database = 'default'")"
  log "$v: clickhouse: queries"
  "$BUILD/store_bench" query --system clickhouse --url "http://127.0.0.1:$CH_HTTP/" --params "$TMP/params-$v" \
    --runs "$RUNS" --min-runs "$MIN_RUNS" --budget-s "$QUERY_BUDGET_S" --json >"$TMP/ch-q-$v.jsonl" || true
  stop_pid "$CH_PID"; CH_PID=
  emit_queries "$v" clickhouse "$TMP/ch-q-$v.jsonl"
  rm -rf "$dir"
}

# --- SQLite in Phoenix's layout, in process.
run_sqlite() {  # run_sqlite VARIANT SPANS STREAM
  local v=$1 n=$2 stream=$3 db="$TMP/phoenix-$1.db"
  log "$v: sqlite: loading $n spans"
  "$BUILD/store_bench" load-sqlite --db "$db" $(workload_args "$v" "$n") \
    --spans-per-txn "$SQLITE_SPANS_PER_TXN" $([ "$stream" = 1 ] && echo --stream) --json >"$TMP/sq-load-$v.json" ||
    die "$v: sqlite load failed"
  emit "$v" sqlite ingest_spans_per_s "$(json_get "$TMP/sq-load-$v.json" spans_per_s)"
  emit "$v" sqlite spans "$(json_get "$TMP/sq-load-$v.json" spans)"
  local bytes wal=0
  [ -f "$db-wal" ] && wal=$(stat -c %s "$db-wal")
  bytes=$(( $(stat -c %s "$db") + wal ))
  emit "$v" sqlite bytes "$bytes"
  emit "$v" sqlite bytes_per_span "$(awk -v b="$bytes" -v n="$n" 'BEGIN { printf "%.1f", n ? b / n : 0 }')"
  log "$v: sqlite: queries"
  "$BUILD/store_bench" query --system sqlite --db "$db" --params "$TMP/params-$v" \
    --runs "$RUNS" --min-runs "$MIN_RUNS" --budget-s "$QUERY_BUDGET_S" --json >"$TMP/sq-q-$v.jsonl" || true
  emit_queries "$v" sqlite "$TMP/sq-q-$v.jsonl"
  rm -f "$db" "$db-wal" "$db-shm"
}

have_clickhouse=1
if [[ " $STORE_SYSTEMS " == *" clickhouse "* ]] && [ ! -x "$CH_SERVER" ]; then
  log "ClickHouse is not installed ($CH_SERVER): run scripts/install-bench-deps.sh; its column shows n/a"
  have_clickhouse=0
fi

for v in $VARIANTS; do
  case "$v" in
    lean) n=$SPANS; per_span=400 ;;
    payload) n=$STORE_PAYLOAD_SPANS; per_span=5600 ;;
    *) die "unknown variant $v" ;;
  esac
  EST_MB=$(( n * per_span / 1000000 + 1 ))
  stream=0; [ "$EST_MB" -gt "$STREAM_ABOVE_MB" ] && stream=1
  log "$v: $n spans (~$EST_MB MB on the wire; rows $([ $stream = 1 ] && echo converted while sending || echo prepared before the clock))"
  "$BUILD/store_bench" params $(workload_args "$v" "$n") --out "$TMP/params-$v" || die "$v: picking parameters failed"
  for s in $STORE_SYSTEMS; do
    case "$s" in
      sightline) run_sightline "$v" "$n" "$stream" ;;
      clickhouse) [ "$have_clickhouse" = 1 ] && run_clickhouse "$v" "$n" "$stream" ;;
      sqlite) run_sqlite "$v" "$n" "$stream" ;;
    esac
  done
  sed "s/^/$v: /" "$TMP/params-$v" >"$TMP/params-shown-$v"
done

bash "$ROOT/bench/store_bench_report.sh" "$RESULTS" "$TMP" "$VARIANTS"
