#!/usr/bin/env bash
# Prints the storage benchmark's tables from the figures bench/store_bench.sh collected.
#
#   bench/store_bench_report.sh RESULTS.jsonl TMP_DIR "VARIANTS"
#
# RESULTS holds one {"bench":"store","variant":…,"system":…,"figure":…,"value":…} per
# line; TMP_DIR holds params-shown-VARIANT (the picked query parameters).
set -euo pipefail
RESULTS=$1
TMP=$2
VARIANTS=$3

echo
echo "Storage benchmark — same generated agent workload, same run; $(nproc) cores shared by every server and its client;" \
     "$(date -u +%Y-%m-%dT%H:%MZ)"
cat <<'EOF'
What each side was configured to guarantee when it acknowledged a write:
  Sightline   default durability: an OTLP request is answered 200 only after its spans are in the WAL and fsync'd
              (--fsync batch: group commit); loaded by sightline-loadgen over OTLP/HTTP protobuf, 4 connections,
              500 spans a request.
  ClickHouse  18.16 (Debian), MergeTree otel_traces as the OTel Collector exporter lays it out (Nested attribute
              arrays, zstd parts, trace-id/time side table); an INSERT returns when its part is written to the page
              cache: no fsync per insert. RowBinary over HTTP, 100,000-row inserts, 2 at a time.
  SQLite      Arize Phoenix's tables, indexes and insert path; WAL with synchronous=OFF: commits are never
              fsync'd. 10,000 spans a transaction, in process (no network, no Python).
Bytes on disk: Sightline = du of the data directory once its background compaction has settled after the load
(restarted, then stopped with SIGTERM after the queries; the figure right after the load, flush files not yet
merged, is printed under it); ClickHouse = sum(bytes_on_disk)
of the active parts of otel_traces + otel_traces_trace_id_ts after OPTIMIZE FINAL (one part a partition); SQLite = the database file
after close (WAL checkpointed). Query latency: Sightline restarted on its data directory, once its background
compaction has merged what the final flush wrote (as ClickHouse after OPTIMIZE FINAL); one warm-up run, then
repeated runs (at most RUNS, at least MIN_RUNS, QUERY_BUDGET_S per query, so a fast query runs RUNS times and a
slow one as often as its budget allows: "timed runs" below); p99 of fewer than 100 runs is the slowest run or
close to it.
EOF

for v in $VARIANTS; do
  echo
  awk -v variant="$v" '
    function field(line, key,   m) {
      if (match(line, "\"" key "\":\"[^\"]*\"")) { m = substr(line, RSTART, RLENGTH); sub("^\"" key "\":\"", "", m); sub("\"$", "", m); return m }
      return ""
    }
    function fmt_int(x,   s, o) {
      if (x == "" ) return "—"
      s = sprintf("%.0f", x); o = ""
      while (length(s) > 3) { o = "," substr(s, length(s) - 2) o; s = substr(s, 1, length(s) - 3) }
      return s o
    }
    function ms(x) { if (x == "") return "—"; if (x + 0 >= 100) return sprintf("%.0f", x); if (x + 0 >= 10) return sprintf("%.1f", x); return sprintf("%.2f", x) }
    function cell(sys, q,   st) {
      if (!((sys, q "_p50_ms") in V)) return "—"
      st = ((sys, q "_status") in V) ? V[sys, q "_status"] : "ok"
      if (st == "n/a") return "n/a"
      if (st != "ok") return "error"
      return ms(V[sys, q "_p50_ms"]) " / " ms(V[sys, q "_p99_ms"])
    }
    $0 ~ "\"variant\":\"" variant "\"" { V[field($0, "system"), field($0, "figure")] = field($0, "value") }
    END {
      split("sightline clickhouse sqlite", S, " ")
      spans = V["sightline", "spans"]; if (spans == "") spans = V["clickhouse", "spans"]; if (spans == "") spans = V["sqlite", "spans"]
      printf "%s — %s spans (%s)\n", variant, fmt_int(spans), variant == "lean" ? "no message payloads, ~0.4 KB a span on the wire" : "conversation histories, ~5.7 KB a span on the wire"
      printf "%-50s | %-19s | %-19s | %-19s\n", "", "Sightline", "ClickHouse 18.16", "SQLite (Phoenix)"
      printf "%s\n", "---------------------------------------------------+---------------------+---------------------+--------------------"
      printf "%-50s", "ingest, spans/s"
      for (i = 1; i <= 3; i++) printf " | %-19s", fmt_int(V[S[i], "ingest_spans_per_s"])
      printf "\n%-50s", "bytes on disk per span"
      for (i = 1; i <= 3; i++) printf " | %-19s", V[S[i], "bytes_per_span"] == "" ? "—" : fmt_int(V[S[i], "bytes_per_span"])
      printf "\n"
      if (V["sightline", "bytes_per_span_after_load"] != "")
        printf "%-50s | %-19s | %-19s | %-19s\n", "  Sightline right after the load, before merging", fmt_int(V["sightline", "bytes_per_span_after_load"]), "", ""
      split("Q1 trace by id|Q2 traces of one session|Q3 p50/p95 duration per tool|Q4 total cost per user|Q5 error rate per tool per hour|Q6 traces with attribute = value|Q7 traces whose output has a phrase", T, "|")
      for (q = 1; q <= 7; q++) {
        printf "%-50s", T[q] ", ms p50 / p99"
        for (i = 1; i <= 3; i++) printf " | %-19s", cell(S[i], "q" q)
        printf "\n"
      }
      printf "answers (rows: Sightline / ClickHouse / SQLite):"
      for (q = 1; q <= 7; q++) {
        printf " Q%d %s/%s/%s", q, V["sightline", "q" q "_rows"] == "" ? "-" : V["sightline", "q" q "_rows"],
          V["clickhouse", "q" q "_rows"] == "" ? "-" : V["clickhouse", "q" q "_rows"], V["sqlite", "q" q "_rows"] == "" ? "-" : V["sqlite", "q" q "_rows"]
        printf q < 7 ? ";" : "\n"
      }
      printf "timed runs (Sightline / ClickHouse / SQLite):"
      for (q = 1; q <= 7; q++) {
        printf " Q%d %s/%s/%s", q, V["sightline", "q" q "_runs"] == "" ? "-" : V["sightline", "q" q "_runs"],
          V["clickhouse", "q" q "_runs"] == "" ? "-" : V["clickhouse", "q" q "_runs"], V["sqlite", "q" q "_runs"] == "" ? "-" : V["sqlite", "q" q "_runs"]
        printf q < 7 ? ";" : "\n"
      }
      for (i = 1; i <= 3; i++) for (q = 1; q <= 7; q++)
        if (V[S[i], "q" q "_status"] != "")
          printf "  %s Q%d %s: %s\n", S[i], q, V[S[i], "q" q "_status"], V[S[i], "q" q "_note"]
      if (V["sightline", "ingest_spans_per_s"] != "" && V["clickhouse", "ingest_spans_per_s"] != "" && V["clickhouse", "bytes_per_span"] + 0 > 0) {
        printf "Sightline vs ClickHouse: ingest %.2fx, bytes per span %.2fx\n", V["sightline", "ingest_spans_per_s"] / V["clickhouse", "ingest_spans_per_s"], V["sightline", "bytes_per_span"] / V["clickhouse", "bytes_per_span"]
      }
    }' "$RESULTS"
  [ -f "$TMP/params-shown-$v" ] && sed 's/^/  parameter /' "$TMP/params-shown-$v" | grep -v 'window\|total_spans'
done
cat <<'EOF'

Notes: Q2 answers are trace summaries (Sightline from its session index, ClickHouse by scanning session.id in the
attribute arrays, SQLite through project_sessions); Q6/Q7 return the newest 50 traces; Sightline's q= searches
inputs and outputs, the baselines search outputs only (gen_ai.output.messages, output.value,
gen_ai.tool.call.result); the lean variant has no outputs, so Q7 finds nothing anywhere. Costs in the baselines come
from the four workload models' list prices (ClickHouse at query time, SQLite in span_costs at ingest).

Machine-readable (one line per figure):
EOF
cat "$RESULTS"
