// The SQLite baseline in Arize Phoenix's layout (src/phoenix/db/models.py): projects,
// project_sessions, traces, spans (attributes and events as JSON, cumulative counters)
// and span_costs / span_cost_details, with Phoenix's indexes and pragmas (WAL,
// synchronous=OFF, foreign keys on, a 32 MB writer cache), filled the way Phoenix's
// insert_span does it (src/phoenix/db/insertion/span.py): per span, look up the project,
// upsert the session (root spans), upsert the trace, sum the children's cumulative
// counters, insert the span, push its counters to already-stored ancestors, then insert
// its cost rows; many spans per transaction.
//
// Phoenix reads OpenInference keys; the workload speaks the OTel GenAI conventions, so
// the loader maps the few Phoenix needs (span kind from gen_ai.operation.name, token
// counts from gen_ai.usage.*, session and user from session.id / user.id, which are the
// same keys) and otherwise stores every attribute, as Phoenix does, unflattened into a
// nested JSON object ({"gen_ai":{"tool":{"name":...}}}).
//
// Thread-safety: a PhoenixSqlite is used by one thread at a time.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "baselines/query_params.h"
#include "workload.h"

struct sqlite3;
struct sqlite3_stmt;

namespace sightline::bench {

// One span, converted to Phoenix's columns before the clock starts.
struct PhoenixSpanRow {
  std::string trace_id, span_id, parent_id;  // hex; parent_id "" for a root
  std::string name, span_kind, start_time, end_time;
  std::string attributes, events;  // JSON
  std::string status_code, status_message;
  std::string session_id, session_user;  // roots only, as Phoenix reads them
  std::string model;
  std::optional<int64_t> prompt_tokens, completion_tokens;
  int64_t cache_read_tokens = 0;
};

// Appends one row per span of the request.
void AppendPhoenixRows(const ExportRequest& request, std::vector<PhoenixSpanRow>* out);

// {"a":{"b":1}} from [("a.b", "1")]: Phoenix's unflattening of dotted keys; values are
// JSON texts. A key that is both a value and a prefix keeps its value under the full key.
std::string UnflattenJson(const std::vector<std::pair<std::string, std::string>>& kvs);

class PhoenixSqlite {
 public:
  // Opens (creating the schema when create is true) the database at path.
  static std::unique_ptr<PhoenixSqlite> Open(const std::string& path, bool create, std::string* error);
  ~PhoenixSqlite();
  PhoenixSqlite(const PhoenixSqlite&) = delete;
  PhoenixSqlite& operator=(const PhoenixSqlite&) = delete;

  bool Begin(std::string* error);
  bool Commit(std::string* error);
  // Phoenix's insert_span for one row (inside Begin/Commit).
  bool Insert(const PhoenixSpanRow& row, std::string* error);

  // Runs the query, reading every column of every row; *rows is the row count.
  bool RunQuery(QueryId q, const QueryParams& p, int64_t* rows, std::string* error);
  // The query's SQL, with ? placeholders for the values of p (Q6's attribute path comes
  // from p.attr_key).
  static std::string QuerySql(QueryId q, const QueryParams& p);

 private:
  PhoenixSqlite() = default;
  bool Exec(const char* sql, std::string* error);
  bool Prepare(const std::string& sql, sqlite3_stmt** stmt, std::string* error);
  std::string Err(const char* what) const;

  sqlite3* db_ = nullptr;
  int64_t project_rowid_ = 0;
  // Insert statements, prepared once.
  sqlite3_stmt* select_project_ = nullptr;
  sqlite3_stmt* upsert_session_ = nullptr;
  sqlite3_stmt* select_trace_ = nullptr;
  sqlite3_stmt* insert_trace_ = nullptr;
  sqlite3_stmt* update_trace_ = nullptr;
  sqlite3_stmt* sum_children_ = nullptr;
  sqlite3_stmt* insert_span_ = nullptr;
  sqlite3_stmt* update_ancestors_ = nullptr;
  sqlite3_stmt* insert_cost_ = nullptr;
  sqlite3_stmt* insert_cost_detail_ = nullptr;
};

}  // namespace sightline::bench
