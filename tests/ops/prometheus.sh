#!/usr/bin/env bash
# A real Prometheus (Debian's `prometheus`, installed by scripts/install-deps.sh)
# scrapes `sightline serve` every second, and PromQL through its HTTP API must return
# the agents' own metrics for the spans sent: runs by agent and status, tool calls by
# tool and status, tokens by model and type, cost, and the duration histograms. It also
# checks that Prometheus took the whole exposition (up == 1, no samples refused), and
# that a project past --metrics-label-limit is counted as "other".
#
#   tests/ops/prometheus.sh BUILD_DIR/sightline
#
# Environment: KEEP=1 keeps the temporary directory.
set -euo pipefail
BIN=${1:?usage: tests/ops/prometheus.sh BUILD_DIR/sightline}
TAG=ops/prometheus
HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
# shellcheck source=tests/ops/lib.sh disable=SC2034
. "$HERE/lib.sh"

command -v prometheus >/dev/null 2>&1 || fail "prometheus is required (scripts/install-deps.sh installs Debian's)"
BUILD=$(cd "$(dirname "$BIN")" && pwd)
BIN="$BUILD/$(basename "$BIN")"
[ -x "$BIN" ] || fail "no sightline binary at $BIN"
TMP=$(mktemp -d "${TMPDIR:-/tmp}/sightline-ops-prometheus.XXXXXX")
PROM_PID=
cleanup() {
  local rc=$?
  [ -n "$PROM_PID" ] && kill "$PROM_PID" 2>/dev/null
  [ -n "$PROM_PID" ] && wait "$PROM_PID" 2>/dev/null
  PROM_PID=
  (exit "$rc")
  ops_cleanup
}
trap cleanup EXIT

free_port() {
  node -e 'const s=require("net").createServer();s.listen(0,"127.0.0.1",()=>{console.log(s.address().port);s.close()})'
}

# One run as OTLP JSON: trace N of project PROJECT: an agent span "planner" of 2 s
# (status ok, or error when N is 3), three "search" tool calls of 0.3 s (the second
# failing), one "fetch" call of 40 s, and a model call of gpt-4o-mini with 120 input
# and 30 output tokens and a reported cost of 0.05 USD.
run_json() {
  local n=$1 t0
  t0=$(date +%s%N)
  local tid
  tid=$(printf '%032x' "$n")
  local s=$((t0 - 600000000000 + n * 100000000000))
  span() { # ID PARENT NAME START_NS END_NS STATUS ATTRS_JSON
    local parent=""
    [ -n "$2" ] && parent="\"parentSpanId\":\"$2\","
    printf '{"traceId":"%s","spanId":"%s",%s"name":"%s","startTimeUnixNano":"%s","endTimeUnixNano":"%s","status":{"code":%s},"attributes":%s}' \
      "$tid" "$1" "$parent" "$3" "$4" "$5" "$6" "$7"
  }
  local str='{"key":"%s","value":{"stringValue":"%s"}}'
  local kind_agent kind_tool
  kind_agent=$(printf "$str" openinference.span.kind AGENT)
  kind_tool=$(printf "$str" openinference.span.kind TOOL)
  local root_status=1
  [ "$n" = 3 ] && root_status=2
  local spans=()
  spans+=("$(span 0000000000000001 "" planner "$s" $((s + 2000000000)) "$root_status" "[$kind_agent,$(printf "$str" agent.name planner)]")")
  local k
  for k in 1 2 3; do
    local st=1
    [ "$k" = 2 ] && st=2
    spans+=("$(span 000000000000001$k 0000000000000001 search $((s + k)) $((s + k + 300000000)) "$st" "[$kind_tool,$(printf "$str" tool.name search)]")")
  done
  spans+=("$(span 0000000000000020 0000000000000001 fetch "$s" $((s + 40000000000)) 1 "[$kind_tool,$(printf "$str" tool.name fetch)]")")
  spans+=("$(span 0000000000000030 0000000000000001 chat "$s" $((s + 500000000)) 1 "[$(printf "$str" gen_ai.operation.name chat),$(printf "$str" gen_ai.request.model gpt-4o-mini),{\"key\":\"gen_ai.usage.input_tokens\",\"value\":{\"intValue\":\"120\"}},{\"key\":\"gen_ai.usage.output_tokens\",\"value\":{\"intValue\":\"30\"}},{\"key\":\"gen_ai.usage.cost\",\"value\":{\"doubleValue\":0.05}}]")")
  local IFS=,
  printf '{"resourceSpans":[{"resource":{"attributes":[%s]},"scopeSpans":[{"scope":{"name":"ops"},"spans":[%s]}]}]}' \
    "$(printf "$str" service.name bot)" "${spans[*]}"
}

send() { # N PROJECT
  local code
  code=$(run_json "$1" | curl -sS -o "$TMP/send.out" -w '%{http_code}' -H 'Content-Type: application/json' \
    -H "x-sightline-project: $2" --data-binary @- "http://127.0.0.1:$HTTP_PORT/v1/traces") ||
    fail "sending run $1: curl failed"
  [ "$code" = 200 ] || fail "sending run $1: HTTP $code: $(cat "$TMP/send.out")"
}

# query PROMQL: the first result's value, or "" when the result is empty.
query() {
  curl -fsS -G "http://127.0.0.1:$PROM_PORT/api/v1/query" --data-urlencode "query=$1" |
    node -e 'let d="";process.stdin.on("data",c=>d+=c).on("end",()=>{const j=JSON.parse(d);
      if(j.status!=="success"){console.error(d);process.exit(1)}
      const r=j.data.result;console.log(r.length?r[0].value[1]:"")})'
}

# expect PROMQL WANT: the query's value equals WANT (as numbers, to 1e-9).
expect() {
  local got
  got=$(query "$1") || fail "query failed: $1"
  node -e 'process.exit(Math.abs(Number(process.argv[1])-Number(process.argv[2]))<1e-9&&process.argv[1]!==""?0:1)' \
    "$got" "$2" || fail "$1: expected $2, Prometheus says '${got}'"
  note "ok: $1 = $got"
}

# 1. Sightline on free ports, two projects allowed by name on /metrics.
HTTP_PORT=
start_server "$TMP/data" --metrics-label-limit 2
for n in 1 2 3; do send "$n" shop; done
send 4 support
send 5 third   # a third project: past the limit of 2, counted as "other"

# 2. Prometheus scraping it every second.
PROM_PORT=$(free_port)
cat >"$TMP/prometheus.yml" <<EOF
global:
  scrape_interval: 1s
  evaluation_interval: 1s
scrape_configs:
  - job_name: sightline
    static_configs:
      - targets: ['127.0.0.1:$HTTP_PORT']
EOF
prometheus --config.file="$TMP/prometheus.yml" --storage.tsdb.path="$TMP/tsdb" \
  --web.listen-address="127.0.0.1:$PROM_PORT" >"$TMP/prometheus.log" 2>&1 &
PROM_PID=$!

# 3. Wait for a scrape that carries the agents' metrics.
limit=$(( $(now_ms) + 60000 ))
while :; do
  kill -0 "$PROM_PID" 2>/dev/null || fail "prometheus exited: $(tail -n 5 "$TMP/prometheus.log")"
  got=$(query 'sum(sightline_agent_runs_total)' 2>/dev/null || true)
  [ -n "$got" ] && break
  [ "$(now_ms)" -lt "$limit" ] || fail "no scrape with sightline_agent_runs_total in 60 s (see $TMP/prometheus.log)"
  nap 0.25
done

# 4. PromQL answers.
expect 'up{job="sightline"}' 1
expect 'sum(sightline_agent_runs_total)' 5
expect 'sum(sightline_agent_runs_total{project="shop",agent="planner",status="ok"})' 2
expect 'sum(sightline_agent_runs_total{project="shop",agent="planner",status="error"})' 1
expect 'sum(sightline_agent_runs_total{project="other"})' 1
[ -z "$(query 'sightline_agent_runs_total{project="third"}')" ] || fail 'project "third" is past the limit: expected "other"'
expect 'sum(sightline_tool_calls_total{status="error"})' 5
expect 'sum(sightline_tool_calls_total{tool="search"})' 15
expect 'sum(sightline_tool_calls_total{project="shop",tool="fetch",status="ok"})' 3
expect 'sum(sightline_model_tokens_total{model="gpt-4o-mini",type="input"})' 600
expect 'sum(sightline_model_tokens_total{project="support",type="output"})' 30
expect 'sum(sightline_cost_usd_total{project="shop"})' 0.15
expect 'sum(sightline_cost_usd_total)' 0.25
expect 'sum(sightline_tool_duration_seconds_count{tool="search"})' 15
expect 'sum(sightline_tool_duration_seconds_bucket{tool="search",le="0.5"})' 15
expect 'sum(sightline_tool_duration_seconds_bucket{tool="fetch",le="30"})' 0
expect 'sum(sightline_tool_duration_seconds_bucket{tool="fetch",le="60"})' 5
expect 'sum(sightline_agent_duration_seconds_sum{project="shop"})' 6
expect 'histogram_quantile(0.5, sum by (le) (sightline_tool_duration_seconds_bucket{tool="fetch"}))' 45
note "PASS: Prometheus scraped Sightline and PromQL returned every sent run, tool call, token and dollar"
