#!/usr/bin/env bash
# End-to-end check of the sightline CLI against real servers: demo, trace, traces with
# filters, session, tail, export, and import into a second server (the round trip).
# Usage: tests/cli/cli_e2e.sh [build/sightline]. Exits non-zero on the first failure.
set -uo pipefail
BIN=$(realpath "${1:-build/sightline}")
TMP=$(mktemp -d)
PIDS=()
FAILED=0

cleanup() {
  for p in "${PIDS[@]}"; do kill -TERM "$p" 2>/dev/null; done
  for p in "${PIDS[@]}"; do wait "$p" 2>/dev/null; done
  rm -rf "$TMP"
}
trap cleanup EXIT

fail() {
  echo "FAIL: $*" >&2
  FAILED=1
  exit 1
}
pass() { echo "ok: $*"; }

# start_server NAME: starts a server on free ports; sets URL.
start_server() {
  local name=$1 port="" i
  "$BIN" serve --http 127.0.0.1:0 --grpc 127.0.0.1:0 --data "$TMP/$name-data" >"$TMP/$name.out" 2>"$TMP/$name.err" &
  local pid=$!
  PIDS+=("$pid")
  for i in $(seq 1 300); do
    port=$(grep -oE 'listening http=127\.0\.0\.1:[0-9]+' "$TMP/$name.out" 2>/dev/null | head -1 | grep -oE '[0-9]+$')
    [ -n "$port" ] && break
    kill -0 "$pid" 2>/dev/null || { cat "$TMP/$name.err" >&2; fail "server $name exited at start-up"; }
    sleep 0.1
  done
  [ -n "$port" ] || fail "server $name did not print its port"
  URL="http://127.0.0.1:$port"
  for i in $(seq 1 100); do
    curl -fsS "$URL/readyz" >/dev/null 2>&1 && return 0
    sleep 0.1
  done
  fail "server $name at $URL never became ready"
}

# expect_in FILE PATTERN [what]
expect_in() { grep -qE -- "$2" "$1" || { echo "--- $1:" >&2; head -50 "$1" >&2; fail "${3:-$1}: expected /$2/"; }; }
expect_not_in() { ! grep -qE -- "$2" "$1" || { head -50 "$1" >&2; fail "${3:-$1}: unexpected /$2/"; }; }
# expect_exit CODE cmd...: runs the command, stdout/stderr to $TMP/last.{out,err}
expect_exit() {
  local want=$1
  shift
  "$@" >"$TMP/last.out" 2>"$TMP/last.err"
  local got=$?
  [ "$got" = "$want" ] || { cat "$TMP/last.err" >&2; fail "'$*' exited $got, want $want"; }
}

start_server one
A=$URL
export SIGHTLINE_URL=$A

# --- demo
expect_exit 0 "$BIN" demo --json
cp "$TMP/last.out" "$TMP/demo.json"
mapfile -t IDS < <(grep -oE '"trace_id":"[0-9a-f]{32}"' "$TMP/demo.json" | grep -oE '[0-9a-f]{32}')
[ "${#IDS[@]}" = 2 ] || fail "demo --json: want 2 trace ids, got ${#IDS[@]}"
T1=${IDS[0]}
T2=${IDS[1]}
expect_in "$TMP/demo.json" '"session_id":"ticket-9421"' "demo --json"
pass "demo sent traces $T1 $T2"
sleep 0.5

# --- trace
expect_exit 0 "$BIN" trace "$T1"
cp "$TMP/last.out" "$TMP/t1.txt"
for want in "support-orchestrator" "session ticket-9421" "user user_92" "├─ " "└─ " "│" "billing-resolver" \
  "knowledge-agent" "retrieval" "lookup_invoice" "TimeoutError" "approval_required" "interrupt" "gpt-4o-2024-08-06" \
  '\$0\.[0-9]{4}' "[0-9,]+→[0-9,]+"; do
  expect_in "$TMP/t1.txt" "$want" "trace $T1"
done
expect_not_in "$TMP/t1.txt" $'\x1b' "trace output to a file has no colour"
[ "$(grep -c 'lookup_invoice' "$TMP/t1.txt")" -ge 2 ] || fail "trace: the failed lookup and its retry"
pass "trace tree"
expect_exit 0 "$BIN" trace "$T1" --depth 0
expect_not_in "$TMP/last.out" "lookup_invoice" "trace --depth 0"
expect_in "$TMP/last.out" "below" "trace --depth 0"
expect_exit 0 "$BIN" trace "$T1" --payloads
expect_in "$TMP/last.out" "in: .*charged twice" "trace --payloads"
expect_exit 0 "$BIN" trace "$T1" --json
expect_in "$TMP/last.out" '"spans"' "trace --json"
expect_exit 0 "$BIN" --json trace "$T1"
expect_in "$TMP/last.out" '"trace_id": "'"$T1"'"' "--json before the subcommand"
expect_exit 1 "$BIN" trace 0123456789abcdef0123456789abcdef
expect_in "$TMP/last.err" "0123456789abcdef0123456789abcdef" "trace of an unknown id names it"
expect_exit 2 "$BIN" trace not-an-id
expect_exit 2 "$BIN" trace
expect_exit 1 "$BIN" trace "$T1" --server http://127.0.0.1:1
expect_in "$TMP/last.err" "127.0.0.1:1" "unreachable server is named"
expect_exit 0 "$BIN" trace --help
expect_in "$TMP/last.out" "--payloads"
pass "trace flags and errors"

# --- traces
expect_exit 0 "$BIN" traces
expect_in "$TMP/last.out" "TRACE ID" "traces"
expect_in "$TMP/last.out" "$T1" "traces"
expect_in "$TMP/last.out" "$T2" "traces"
expect_exit 0 "$BIN" traces --status interrupt
expect_in "$TMP/last.out" "$T1" "traces --status interrupt"
expect_not_in "$TMP/last.out" "$T2" "traces --status interrupt"
expect_exit 0 "$BIN" traces --session ticket-9421 --agent billing-resolver --tool issue_refund --kind retrieval
expect_in "$TMP/last.out" "$T1" "traces with span filters"
expect_not_in "$TMP/last.out" "$T2" "traces --kind retrieval"
expect_exit 0 "$BIN" traces --attr interrupt.reason=approval_required --min-duration-ms 1000
expect_in "$TMP/last.out" "$T1" "traces --attr"
expect_not_in "$TMP/last.out" "$T2" "traces --attr"
expect_exit 0 "$BIN" traces --session no-such-session
expect_in "$TMP/last.out" "no traces found" "traces with no match"
expect_exit 0 "$BIN" traces --json --limit 1 --all
expect_in "$TMP/last.out" "$T1" "traces --all"
expect_in "$TMP/last.out" "$T2" "traces --all"
expect_exit 2 "$BIN" traces --status bogus
expect_exit 2 "$BIN" traces --attr novalue
expect_exit 2 "$BIN" traces --no-such-flag
pass "traces"

# --- session
expect_exit 0 "$BIN" session ticket-9421
expect_in "$TMP/last.out" "total: 2 turns" "session"
expect_in "$TMP/last.out" "$T1" "session"
expect_in "$TMP/last.out" "$T2" "session"
[ "$(grep -n "$T1" "$TMP/last.out" | cut -d: -f1)" -lt "$(grep -n "$T2" "$TMP/last.out" | cut -d: -f1)" ] ||
  fail "session: turns out of order"
expect_exit 1 "$BIN" session no-such-session
expect_in "$TMP/last.err" "no-such-session" "unknown session is named"
pass "session"

# --- tail: a new demo run shows up, Ctrl-C ends with 0
"$BIN" tail --interval 0.2 --json >"$TMP/tail.out" 2>"$TMP/tail.err" &
TAIL=$!
PIDS+=("$TAIL")
sleep 1
expect_exit 0 "$BIN" demo --json
NEW=$(grep -oE '"trace_id":"[0-9a-f]{32}"' "$TMP/last.out" | head -1 | grep -oE '[0-9a-f]{32}')
for i in $(seq 1 50); do grep -q "$NEW" "$TMP/tail.out" && break; sleep 0.1; done
kill -INT "$TAIL"
wait "$TAIL"
rc=$?
[ "$rc" = 0 ] || fail "tail exited $rc after SIGINT"
expect_in "$TMP/tail.out" "$NEW" "tail saw the new run"
expect_not_in "$TMP/tail.out" "$T1" "tail prints only new traces"
pass "tail"

# --- export, then import into a second server
expect_exit 0 "$BIN" export --session ticket-9421 -o "$TMP/export.jsonl"
[ "$(wc -l <"$TMP/export.jsonl")" -ge 4 ] || fail "export: want one line per trace (>= 4 after two demo runs)"
expect_in "$TMP/export.jsonl" '"resourceSpans"' "export file"
expect_exit 0 "$BIN" export --session ticket-9421 --format spans
SPANS=$(wc -l <"$TMP/last.out")
[ "$SPANS" -ge 20 ] || fail "export --format spans: want one line per span, got $SPANS"
pass "export ($SPANS spans)"

start_server two
B=$URL
expect_exit 0 "$BIN" import "$TMP/export.jsonl" --server "$B"
expect_in "$TMP/last.out" "$SPANS spans accepted, 0 rejected" "import"
sleep 0.5
"$BIN" trace "$T1" --server "$B" >"$TMP/t1b.txt" 2>&1 || fail "trace on the second server"
diff "$TMP/t1.txt" "$TMP/t1b.txt" >&2 || fail "the imported trace differs from the original"
"$BIN" session ticket-9421 --server "$A" >"$TMP/sa.txt"
"$BIN" session ticket-9421 --server "$B" >"$TMP/sb.txt"
diff "$TMP/sa.txt" "$TMP/sb.txt" >&2 || fail "the imported session differs"
"$BIN" export --session ticket-9421 --server "$B" -o "$TMP/export2.jsonl" 2>/dev/null || fail "export from the second server"
diff <(sort "$TMP/export.jsonl") <(sort "$TMP/export2.jsonl") >/dev/null ||
  fail "export -> import -> export is not stable"
pass "import round trip"

# A whole (pretty-printed) OTLP JSON document imports too.
head -1 "$TMP/export.jsonl" | python3 -m json.tool >"$TMP/one.json"
expect_exit 0 "$BIN" import "$TMP/one.json" --server "$B" --json
expect_in "$TMP/last.out" '"rejected_spans":0' "import of one document"
printf '{"resourceSpans": [\n' >"$TMP/bad.json"
expect_exit 1 "$BIN" import "$TMP/bad.json" --server "$B"
expect_exit 1 "$BIN" import "$TMP/missing.jsonl" --server "$B"
expect_in "$TMP/last.err" "missing.jsonl" "import names a missing file"
# OTLP protobuf, from protoc's text format, when protoc is at hand (it builds the protos).
if command -v protoc >/dev/null; then
  SRC=$(cd "$(dirname "$0")/../.." && pwd)
  cat >"$TMP/req.txtpb" <<'PB'
resource_spans {
  resource { attributes { key: "service.name" value { string_value: "pb-import" } } }
  scope_spans { spans {
    trace_id: "\x11\x22\x33\x44\x55\x66\x77\x88\x99\xaa\xbb\xcc\xdd\xee\xff\x01"
    span_id: "\x01\x02\x03\x04\x05\x06\x07\x08"
    name: "pb root" start_time_unix_nano: 1774287731420000000 end_time_unix_nano: 1774287732420000000
    attributes { key: "gen_ai.operation.name" value { string_value: "invoke_agent" } }
  } }
}
PB
  protoc --proto_path="$SRC/proto" --encode=opentelemetry.proto.collector.trace.v1.ExportTraceServiceRequest \
    opentelemetry/proto/collector/trace/v1/trace_service.proto <"$TMP/req.txtpb" >"$TMP/req.pb" ||
    fail "protoc --encode"
  expect_exit 0 "$BIN" import "$TMP/req.pb" --server "$B"
  expect_in "$TMP/last.out" "1 spans accepted, 0 rejected" "import of OTLP protobuf"
  sleep 0.3
  expect_exit 0 "$BIN" trace 112233445566778899aabbccddeeff01 --server "$B"
  expect_in "$TMP/last.out" "pb root" "the protobuf-imported trace"
fi
gzip -c "$TMP/export.jsonl" >"$TMP/export.jsonl.gz"
expect_exit 0 "$BIN" import "$TMP/export.jsonl.gz" --server "$B"
expect_in "$TMP/last.out" "$SPANS spans accepted, 0 rejected" "import of a gzipped file"
pass "import formats and errors"

# --- pricing: the user's DATA/pricing.toml prices spans, edits apply without a restart
price_toml() {  # price_toml INPUT_PRICE: one model, e2e-llm, at INPUT_PRICE per million input tokens
  printf '[[model]]\nid = "acme/e2e-llm"\nmatch = "e2e-llm"\n[[model.price]]\nfrom = "2020-01-01"\ninput = %s\noutput = 0\n' "$1"
}
# send_llm_span N: one chat span of e2e-llm with a million input tokens, trace/span id from N
send_llm_span() {
  local body
  body='{"resourceSpans":[{"resource":{"attributes":[{"key":"service.name","value":{"stringValue":"e2e"}}]},
   "scopeSpans":[{"spans":[{"traceId":"e2e0000000000000000000000000000'"$1"'","spanId":"e2e000000000000'"$1"'",
   "name":"chat e2e-llm","startTimeUnixNano":"1760000000000000000","endTimeUnixNano":"1760000001000000000",
   "attributes":[{"key":"gen_ai.operation.name","value":{"stringValue":"chat"}},
   {"key":"gen_ai.request.model","value":{"stringValue":"e2e-llm"}},
   {"key":"gen_ai.usage.input_tokens","value":{"intValue":"1000000"}},
   {"key":"gen_ai.usage.output_tokens","value":{"intValue":"0"}}]}]}]}]}'
  curl -fsS -H 'Content-Type: application/json' --data-binary "$body" "$URL/v1/traces" >/dev/null ||
    fail "posting span $1"
  curl -fsS "$URL/api/v1/traces/e2e0000000000000000000000000000$1/spans/e2e000000000000$1" >"$TMP/span$1.json" ||
    fail "reading span $1 back"
}
mkdir -p "$TMP/bad-data"
printf '[[model]]\nid = "x"\nmatch = \n' >"$TMP/bad-data/pricing.toml"
expect_exit 2 timeout 20 "$BIN" serve --http 127.0.0.1:0 --grpc off --data "$TMP/bad-data"
expect_in "$TMP/last.err" "bad-data/pricing.toml:3:" "a bad pricing file stops start-up, naming file and line"
mkdir -p "$TMP/priced-data"
price_toml 3 >"$TMP/priced-data/pricing.toml"
start_server priced
send_llm_span 1
expect_in "$TMP/span1.json" '"cost_usd":3(\.0)?,"cost_source":"computed"' "priced from DATA/pricing.toml"
printf '[[model]\n' >"$TMP/priced-data/pricing.toml"
for i in $(seq 1 50); do grep -q "edit refused" "$TMP/priced.err" && break; sleep 0.1; done
expect_in "$TMP/priced.err" "priced-data/pricing.toml:1:.*" "a bad edit is logged"
send_llm_span 2
expect_in "$TMP/span2.json" '"cost_usd":3(\.0)?,' "a bad edit keeps the prices in force"
price_toml 5 >"$TMP/priced-data/pricing.toml"
sleep 2.2  # > the reload interval
send_llm_span 3
expect_in "$TMP/span3.json" '"cost_usd":5(\.0)?,' "an edit applies without a restart"
[ "$(grep -c "edit refused" "$TMP/priced.err")" = 1 ] || fail "a bad edit is logged once"
curl -fsS "$URL/api/v1/pricing/models" >"$TMP/models.json" || fail "GET /api/v1/pricing/models"
expect_in "$TMP/models.json" '^\{"models":\[\{"id":"acme/e2e-llm"' "the user's model is listed first"
curl -fsS "$URL/metrics" >"$TMP/metrics.txt" || fail "GET /metrics"
expect_in "$TMP/metrics.txt" '^sightline_spans_priced_total 3$' "priced spans counted"
expect_in "$TMP/metrics.txt" '^sightline_pricing_reload_errors_total 1$' "the refused edit counted"
pass "pricing file, live reload, /api/v1/pricing/models"

# --- reprice: the stored spans of a period take the prices in force (docs/pricing.md)
expect_exit 2 "$BIN" reprice --from yesterday --to 2025-10-31 --server "$URL"
expect_exit 2 "$BIN" reprice --from 2025-10-31 --to 2025-10-01 --server "$URL"
expect_exit 0 "$BIN" reprice --from 2025-10-01 --to 2025-10-31 --server "$URL"
expect_in "$TMP/last.out" "3 spans examined, 2 repriced in 1 of 1 files; cost 6\.000000 -> 10\.000000 USD" \
  "reprice of the two spans priced at 3 before the edit"
expect_not_in "$TMP/last.err" $'\x1b' "no progress bar when stderr is not a terminal"
for n in 1 2 3; do
  curl -fsS "$URL/api/v1/traces/e2e0000000000000000000000000000$n/spans/e2e000000000000$n" >"$TMP/span$n.json" ||
    fail "reading span $n back"
  expect_in "$TMP/span$n.json" '"cost_usd":5(\.0)?,"cost_source":"computed"' "span $n at the price in force"
done
curl -fsS "$URL/api/v1/traces/e2e00000000000000000000000000001" >"$TMP/trace1.json" || fail "GET trace 1"
expect_in "$TMP/trace1.json" '"cost_usd":5(\.0)?,' "the trace summary follows"
expect_exit 0 "$BIN" reprice --from 2025-10-01 --to 2025-10-31 --server "$URL" --json
expect_in "$TMP/last.out" '"spans_repriced": 0' "a second reprice changes nothing"
curl -fsS "$URL/api/v1/audit?action=pricing.reprice" >"$TMP/audit.json" || fail "GET /api/v1/audit"
expect_in "$TMP/audit.json" 'pricing\.reprice' "reprices are audited"
pass "reprice"

# --- retention: the per-project plan (docs/retention.md "Per-project plan"), read from the
# data directory beside the running server, with the policy of a config file.
cat >"$TMP/retention.toml" <<'TOML'
[retention]
full_days = 7
failed_days = 30
summary_days = 90

[retention.projects.audit]
full_days = "forever"
summary_days = "forever"

[sampling]
keep_fraction = 0.25

[sampling.projects.shop]
keep_fraction = 0.5
TOML
expect_exit 0 "$BIN" retention --data "$TMP/one-data" --config "$TMP/retention.toml" --json
expect_in "$TMP/last.out" '\{"project":"\(default\)","full_days":7,"failed_days":30,"summary_days":90,"rollup_days":90,"sampling_keep_fraction":0\.25\}' \
  "the default policy, rollups as long as the longest"
expect_in "$TMP/last.out" '\{"project":"audit","full_days":"forever","failed_days":"forever","summary_days":"forever","rollup_days":"forever","sampling_keep_fraction":0\.25\}' \
  "a project override, unset keys from [retention]"
expect_in "$TMP/last.out" '\{"project":"shop","full_days":7,"failed_days":30,"summary_days":90,"rollup_days":90,"sampling_keep_fraction":0\.5\}' \
  "a project with its own sampling share"
expect_exit 0 "$BIN" retention --data "$TMP/one-data" --config "$TMP/retention.toml"
expect_in "$TMP/last.out" '^audit +forever +forever +forever +forever +25% of sessions$' "the table's override row"
expect_in "$TMP/last.out" '^shop +7d +30d +90d +90d +50% of sessions$' "the table's sampling share"
printf '[retention]\nfull_days = 30\nsummary_days = 7\n' >"$TMP/bad-retention.toml"
expect_exit 2 "$BIN" retention --data "$TMP/one-data" --config "$TMP/bad-retention.toml"
expect_in "$TMP/last.err" 'summary_days' "a summary kept less long than the spans is refused, naming the key"
pass "retention plan"

echo "cli_e2e: all checks passed"
