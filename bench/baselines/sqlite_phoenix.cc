// The SQLite baseline in Phoenix's layout (see sqlite_phoenix.h).
#include "baselines/sqlite_phoenix.h"

#include <sqlite3.h>

#include <map>

#include "baselines/otlp_text.h"

namespace sightline::bench {

namespace trace = ::opentelemetry::proto::trace::v1;

namespace {

// Phoenix's tables and indexes as SQLAlchemy creates them on SQLite (models.py).
constexpr const char* kSchema = R"(
CREATE TABLE projects (
  id INTEGER PRIMARY KEY, name VARCHAR NOT NULL UNIQUE, description VARCHAR,
  gradient_start_color VARCHAR DEFAULT '#5bdbff' NOT NULL, gradient_end_color VARCHAR DEFAULT '#1c76fc' NOT NULL,
  created_at TIMESTAMP DEFAULT CURRENT_TIMESTAMP NOT NULL, updated_at TIMESTAMP DEFAULT CURRENT_TIMESTAMP NOT NULL,
  trace_retention_policy_id INTEGER);
CREATE TABLE project_sessions (
  id INTEGER PRIMARY KEY, session_id VARCHAR NOT NULL UNIQUE, session_user VARCHAR,
  project_id INTEGER NOT NULL REFERENCES projects(id) ON DELETE CASCADE,
  start_time TIMESTAMP NOT NULL, end_time TIMESTAMP NOT NULL, last_span_ingested_at TIMESTAMP);
CREATE INDEX ix_project_sessions_project_id_start_time ON project_sessions (project_id, start_time DESC);
CREATE INDEX ix_project_sessions_project_id_end_time ON project_sessions (project_id, end_time DESC);
CREATE TABLE traces (
  id INTEGER PRIMARY KEY, project_rowid INTEGER NOT NULL REFERENCES projects(id) ON DELETE CASCADE,
  trace_id VARCHAR NOT NULL UNIQUE,
  project_session_rowid INTEGER REFERENCES project_sessions(id) ON DELETE CASCADE,
  start_time TIMESTAMP NOT NULL, end_time TIMESTAMP NOT NULL);
CREATE INDEX ix_traces_project_session_rowid ON traces (project_session_rowid);
CREATE INDEX ix_traces_project_rowid_start_time ON traces (project_rowid, start_time DESC);
CREATE TABLE spans (
  id INTEGER PRIMARY KEY, trace_rowid INTEGER NOT NULL REFERENCES traces(id) ON DELETE CASCADE,
  span_id VARCHAR NOT NULL, parent_id VARCHAR, name VARCHAR NOT NULL, span_kind VARCHAR NOT NULL,
  start_time TIMESTAMP NOT NULL, end_time TIMESTAMP NOT NULL, attributes JSONB NOT NULL, events JSONB NOT NULL,
  status_code VARCHAR NOT NULL CONSTRAINT valid_status CHECK (status_code IN ('OK', 'ERROR', 'UNSET')),
  status_message VARCHAR NOT NULL, cumulative_error_count INTEGER NOT NULL,
  cumulative_llm_token_count_prompt INTEGER NOT NULL, cumulative_llm_token_count_completion INTEGER NOT NULL,
  llm_token_count_prompt INTEGER, llm_token_count_completion INTEGER,
  CONSTRAINT uq_spans_span_id UNIQUE (span_id) ON CONFLICT IGNORE);
CREATE INDEX ix_spans_trace_rowid ON spans (trace_rowid);
CREATE INDEX ix_spans_parent_id ON spans (parent_id);
CREATE INDEX ix_spans_start_time ON spans (start_time);
CREATE INDEX ix_latency ON spans ((end_time - start_time));
CREATE INDEX ix_cumulative_llm_token_count_total
  ON spans ((cumulative_llm_token_count_prompt + cumulative_llm_token_count_completion));
CREATE INDEX ix_spans_session_id ON spans (JSON_EXTRACT(attributes, '$."session"."id"'))
  WHERE JSON_EXTRACT(attributes, '$."session"."id"') IS NOT NULL;
CREATE INDEX ix_spans_user_id ON spans (JSON_EXTRACT(attributes, '$."user"."id"'))
  WHERE JSON_EXTRACT(attributes, '$."user"."id"') IS NOT NULL;
CREATE TABLE span_costs (
  id INTEGER PRIMARY KEY, span_rowid INTEGER NOT NULL REFERENCES spans(id) ON DELETE CASCADE,
  trace_rowid INTEGER NOT NULL REFERENCES traces(id) ON DELETE CASCADE,
  span_start_time TIMESTAMP NOT NULL, model_id INTEGER,
  total_cost FLOAT, total_tokens FLOAT, prompt_cost FLOAT, prompt_tokens FLOAT,
  completion_cost FLOAT, completion_tokens FLOAT);
CREATE INDEX ix_span_costs_span_rowid ON span_costs (span_rowid);
CREATE INDEX ix_span_costs_trace_rowid ON span_costs (trace_rowid);
CREATE INDEX ix_span_costs_span_start_time ON span_costs (span_start_time);
CREATE INDEX ix_span_costs_model_id_span_start_time ON span_costs (model_id, span_start_time);
CREATE TABLE span_cost_details (
  id INTEGER PRIMARY KEY, span_cost_id INTEGER NOT NULL REFERENCES span_costs(id) ON DELETE CASCADE,
  token_type VARCHAR NOT NULL, is_prompt BOOLEAN NOT NULL, cost FLOAT, tokens FLOAT, cost_per_token FLOAT,
  CONSTRAINT uq_span_cost_details UNIQUE (span_cost_id, token_type, is_prompt));
CREATE INDEX ix_span_cost_details_token_type ON span_cost_details (token_type);
INSERT INTO projects (name, description) VALUES ('default', 'default project');
)";

// Phoenix's engine settings (src/phoenix/db/engines.py).
constexpr const char* kPragmas =
    "PRAGMA busy_timeout = 10000; PRAGMA foreign_keys = ON; PRAGMA cache_size = -32000; "
    "PRAGMA journal_mode = WAL; PRAGMA synchronous = OFF;";

// A JSON path for a dotted attribute key, as SQLAlchemy writes one ('$."a"."b"').
std::string JsonPath(const std::string& key) {
  std::string path = "$";
  size_t from = 0;
  while (true) {
    const size_t dot = key.find('.', from);
    path += ".\"" + key.substr(from, dot == std::string::npos ? std::string::npos : dot - from) + "\"";
    if (dot == std::string::npos) break;
    from = dot + 1;
  }
  return path;
}

const char* PhoenixKind(const std::string& operation) {
  if (operation == "chat" || operation == "text_completion" || operation == "generate_content") return "LLM";
  if (operation == "execute_tool") return "TOOL";
  if (operation == "retrieval") return "RETRIEVER";
  if (operation == "invoke_agent" || operation == "create_agent") return "AGENT";
  if (operation == "embeddings") return "EMBEDDING";
  return "UNKNOWN";
}

struct Node {
  std::string value;  // JSON text, when a leaf
  bool leaf = false;
  std::vector<std::pair<std::string, Node>> children;
  Node* Child(const std::string& name) {
    for (auto& [k, n] : children)
      if (k == name) return &n;
    children.emplace_back(name, Node());
    return &children.back().second;
  }
};

void Serialize(const Node& n, std::string* out) {
  if (n.leaf) {
    out->append(n.value);
    return;
  }
  out->push_back('{');
  bool first = true;
  for (const auto& [k, c] : n.children) {
    if (!first) out->push_back(',');
    first = false;
    out->push_back('"');
    AppendJsonEscaped(k, out);
    out->append("\":");
    Serialize(c, out);
  }
  out->push_back('}');
}

void BindText(sqlite3_stmt* st, int i, const std::string& s) {
  sqlite3_bind_text(st, i, s.data(), static_cast<int>(s.size()), SQLITE_STATIC);
}
void BindOptText(sqlite3_stmt* st, int i, const std::string& s) {
  if (s.empty()) sqlite3_bind_null(st, i);
  else BindText(st, i, s);
}

// Resets a statement when it goes out of scope, so every path leaves it reusable.
struct Reset {
  sqlite3_stmt* st;
  ~Reset() {
    sqlite3_reset(st);
    sqlite3_clear_bindings(st);
  }
};

}  // namespace

std::string UnflattenJson(const std::vector<std::pair<std::string, std::string>>& kvs) {
  Node root;
  for (const auto& [key, value] : kvs) {
    Node* n = &root;
    size_t from = 0;
    bool ok = true;
    while (true) {
      const size_t dot = key.find('.', from);
      const std::string part = key.substr(from, dot == std::string::npos ? std::string::npos : dot - from);
      n = n->Child(part);
      if (dot == std::string::npos) break;
      if (n->leaf) {  // a value where a prefix is needed
        ok = false;
        break;
      }
      from = dot + 1;
    }
    if (!ok || !n->children.empty()) {  // both a value and a prefix: keep it whole, beside the prefix
      Node whole;
      whole.leaf = true;
      whole.value = value;
      root.children.emplace_back(key, std::move(whole));
      continue;
    }
    n->leaf = true;
    n->value = value;
  }
  std::string out;
  Serialize(root, &out);
  return out;
}

void AppendPhoenixRows(const ExportRequest& request, std::vector<PhoenixSpanRow>* out) {
  std::vector<std::pair<std::string, std::string>> kvs;
  for (const auto& rs : request.resource_spans()) {
    for (const auto& ss : rs.scope_spans()) {
      for (const auto& s : ss.spans()) {
        PhoenixSpanRow r;
        r.trace_id = HexId(s.trace_id());
        r.span_id = HexId(s.span_id());
        r.parent_id = HexId(s.parent_span_id());
        r.name = s.name();
        r.start_time = SqliteTimestamp(s.start_time_unix_nano());
        r.end_time = SqliteTimestamp(s.end_time_unix_nano());
        kvs.clear();
        std::string operation;
        for (const auto& kv : s.attributes()) {
          std::string json;
          AppendAnyValueJson(kv.value(), &json);
          kvs.emplace_back(kv.key(), std::move(json));
          const auto& v = kv.value();
          const std::string& k = kv.key();
          if (k == "gen_ai.operation.name") operation = v.string_value();
          else if (k == "session.id") r.session_id = v.string_value();
          else if (k == "user.id") r.session_user = v.string_value();
          else if (k == "gen_ai.response.model") r.model = v.string_value();
          else if (k == "gen_ai.usage.input_tokens") r.prompt_tokens = v.int_value();
          else if (k == "gen_ai.usage.output_tokens") r.completion_tokens = v.int_value();
          else if (k == "gen_ai.usage.cache_read.input_tokens") r.cache_read_tokens = v.int_value();
        }
        if (!r.parent_id.empty()) r.session_id.clear(), r.session_user.clear();  // Phoenix reads roots only
        r.span_kind = PhoenixKind(operation);
        r.attributes = UnflattenJson(kvs);
        r.events = "[";
        for (int i = 0; i < s.events_size(); ++i) {
          const auto& e = s.events(i);
          if (i) r.events.push_back(',');
          r.events.append("{\"name\":\"");
          AppendJsonEscaped(e.name(), &r.events);
          r.events.append("\",\"timestamp\":\"").append(SqliteTimestamp(e.time_unix_nano())).append("\",\"attributes\":{");
          for (int j = 0; j < e.attributes_size(); ++j) {
            if (j) r.events.push_back(',');
            r.events.push_back('"');
            AppendJsonEscaped(e.attributes(j).key(), &r.events);
            r.events.append("\":");
            AppendAnyValueJson(e.attributes(j).value(), &r.events);
          }
          r.events.append("}}");
        }
        r.events.push_back(']');
        switch (s.status().code()) {
          case trace::Status::STATUS_CODE_OK: r.status_code = "OK"; break;
          case trace::Status::STATUS_CODE_ERROR: r.status_code = "ERROR"; break;
          default: r.status_code = "UNSET";
        }
        r.status_message = s.status().message();
        out->push_back(std::move(r));
      }
    }
  }
}

std::unique_ptr<PhoenixSqlite> PhoenixSqlite::Open(const std::string& path, bool create, std::string* error) {
  std::unique_ptr<PhoenixSqlite> p(new PhoenixSqlite());
  const int flags = SQLITE_OPEN_READWRITE | (create ? SQLITE_OPEN_CREATE : 0);
  if (sqlite3_open_v2(path.c_str(), &p->db_, flags, nullptr) != SQLITE_OK) {
    *error = "sqlite: cannot open " + path + ": " + (p->db_ ? sqlite3_errmsg(p->db_) : "out of memory");
    return nullptr;
  }
  if (!p->Exec(kPragmas, error)) return nullptr;
  if (create && !p->Exec(kSchema, error)) return nullptr;
  sqlite3_stmt* st = nullptr;
  if (!p->Prepare("SELECT id FROM projects WHERE name = 'default'", &st, error)) return nullptr;
  if (sqlite3_step(st) == SQLITE_ROW) p->project_rowid_ = sqlite3_column_int64(st, 0);
  sqlite3_finalize(st);
  if (p->project_rowid_ == 0) {
    *error = "sqlite: " + path + " has no 'default' project (not a database this tool created)";
    return nullptr;
  }
  const bool ok =
      p->Prepare("SELECT id FROM projects WHERE name = ?", &p->select_project_, error) &&
      p->Prepare("INSERT INTO project_sessions (session_id, session_user, project_id, start_time, end_time) "
                 "VALUES (?, ?, ?, ?, ?) ON CONFLICT (session_id) DO UPDATE SET "
                 "start_time = min(start_time, excluded.start_time), end_time = max(end_time, excluded.end_time), "
                 "session_user = coalesce(excluded.session_user, session_user) RETURNING id",
                 &p->upsert_session_, error) &&
      p->Prepare("SELECT id, start_time, end_time, project_session_rowid FROM traces WHERE trace_id = ?",
                 &p->select_trace_, error) &&
      p->Prepare("INSERT INTO traces (project_rowid, trace_id, project_session_rowid, start_time, end_time) "
                 "VALUES (?, ?, ?, ?, ?)", &p->insert_trace_, error) &&
      p->Prepare("UPDATE traces SET start_time = ?, end_time = ?, project_session_rowid = ? WHERE id = ?",
                 &p->update_trace_, error) &&
      p->Prepare("SELECT sum(cumulative_error_count), sum(cumulative_llm_token_count_prompt), "
                 "sum(cumulative_llm_token_count_completion) FROM spans WHERE parent_id = ?",
                 &p->sum_children_, error) &&
      p->Prepare("INSERT INTO spans (trace_rowid, span_id, parent_id, name, span_kind, start_time, end_time, "
                 "attributes, events, status_code, status_message, cumulative_error_count, "
                 "cumulative_llm_token_count_prompt, cumulative_llm_token_count_completion, llm_token_count_prompt, "
                 "llm_token_count_completion) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) "
                 "ON CONFLICT (span_id) DO NOTHING RETURNING id",
                 &p->insert_span_, error) &&
      p->Prepare("WITH RECURSIVE ancestors(id, parent_id) AS (SELECT id, parent_id FROM spans WHERE span_id = ?1 "
                 "UNION ALL SELECT s.id, s.parent_id FROM spans s JOIN ancestors a ON s.span_id = a.parent_id) "
                 "UPDATE spans SET cumulative_error_count = cumulative_error_count + ?2, "
                 "cumulative_llm_token_count_prompt = cumulative_llm_token_count_prompt + ?3, "
                 "cumulative_llm_token_count_completion = cumulative_llm_token_count_completion + ?4 "
                 "WHERE id IN (SELECT id FROM ancestors)",
                 &p->update_ancestors_, error) &&
      p->Prepare("INSERT INTO span_costs (span_rowid, trace_rowid, span_start_time, model_id, total_cost, "
                 "total_tokens, prompt_cost, prompt_tokens, completion_cost, completion_tokens) "
                 "VALUES (?, ?, ?, NULL, ?, ?, ?, ?, ?, ?) RETURNING id",
                 &p->insert_cost_, error) &&
      p->Prepare("INSERT INTO span_cost_details (span_cost_id, token_type, is_prompt, cost, tokens, cost_per_token) "
                 "VALUES (?, ?, ?, ?, ?, ?)", &p->insert_cost_detail_, error);
  if (!ok) return nullptr;
  return p;
}

PhoenixSqlite::~PhoenixSqlite() {
  for (sqlite3_stmt* st : {select_project_, upsert_session_, select_trace_, insert_trace_, update_trace_,
                           sum_children_, insert_span_, update_ancestors_, insert_cost_, insert_cost_detail_})
    sqlite3_finalize(st);
  if (db_) sqlite3_close(db_);
}

std::string PhoenixSqlite::Err(const char* what) const { return std::string("sqlite: ") + what + ": " + sqlite3_errmsg(db_); }

bool PhoenixSqlite::Exec(const char* sql, std::string* error) {
  char* msg = nullptr;
  if (sqlite3_exec(db_, sql, nullptr, nullptr, &msg) != SQLITE_OK) {
    *error = std::string("sqlite: ") + (msg ? msg : "error");
    sqlite3_free(msg);
    return false;
  }
  return true;
}

bool PhoenixSqlite::Prepare(const std::string& sql, sqlite3_stmt** stmt, std::string* error) {
  if (sqlite3_prepare_v2(db_, sql.c_str(), static_cast<int>(sql.size()), stmt, nullptr) != SQLITE_OK) {
    *error = Err("prepare") + " in: " + sql.substr(0, 200);
    return false;
  }
  return true;
}

bool PhoenixSqlite::Begin(std::string* error) { return Exec("BEGIN", error); }
bool PhoenixSqlite::Commit(std::string* error) { return Exec("COMMIT", error); }

bool PhoenixSqlite::Insert(const PhoenixSpanRow& r, std::string* error) {
  {  // the project, looked up per span as insert_span does
    Reset g{select_project_};
    sqlite3_bind_text(select_project_, 1, "default", -1, SQLITE_STATIC);
    if (sqlite3_step(select_project_) != SQLITE_ROW) return *error = Err("project lookup"), false;
  }
  int64_t session_rowid = 0;
  if (r.parent_id.empty() && !r.session_id.empty()) {
    Reset g{upsert_session_};
    BindText(upsert_session_, 1, r.session_id);
    BindOptText(upsert_session_, 2, r.session_user);
    sqlite3_bind_int64(upsert_session_, 3, project_rowid_);
    BindText(upsert_session_, 4, r.start_time);
    BindText(upsert_session_, 5, r.end_time);
    if (sqlite3_step(upsert_session_) != SQLITE_ROW) return *error = Err("session upsert"), false;
    session_rowid = sqlite3_column_int64(upsert_session_, 0);
  }
  int64_t trace_rowid = 0;
  {
    Reset g{select_trace_};
    BindText(select_trace_, 1, r.trace_id);
    const int rc = sqlite3_step(select_trace_);
    if (rc == SQLITE_ROW) {
      trace_rowid = sqlite3_column_int64(select_trace_, 0);
      std::string start = reinterpret_cast<const char*>(sqlite3_column_text(select_trace_, 1));
      std::string end = reinterpret_cast<const char*>(sqlite3_column_text(select_trace_, 2));
      int64_t sess = sqlite3_column_int64(select_trace_, 3);
      bool dirty = false;
      if (session_rowid && sess != session_rowid) sess = session_rowid, dirty = true;
      if (end < r.end_time) end = r.end_time, dirty = true;
      if (r.start_time < start) start = r.start_time, dirty = true;
      if (dirty) {
        Reset u{update_trace_};
        BindText(update_trace_, 1, start);
        BindText(update_trace_, 2, end);
        if (sess) sqlite3_bind_int64(update_trace_, 3, sess);
        else sqlite3_bind_null(update_trace_, 3);
        sqlite3_bind_int64(update_trace_, 4, trace_rowid);
        if (sqlite3_step(update_trace_) != SQLITE_DONE) return *error = Err("trace update"), false;
      }
    } else if (rc == SQLITE_DONE) {
      Reset i{insert_trace_};
      sqlite3_bind_int64(insert_trace_, 1, project_rowid_);
      BindText(insert_trace_, 2, r.trace_id);
      if (session_rowid) sqlite3_bind_int64(insert_trace_, 3, session_rowid);
      else sqlite3_bind_null(insert_trace_, 3);
      BindText(insert_trace_, 4, r.start_time);
      BindText(insert_trace_, 5, r.end_time);
      if (sqlite3_step(insert_trace_) != SQLITE_DONE) return *error = Err("trace insert"), false;
      trace_rowid = sqlite3_last_insert_rowid(db_);
    } else {
      return *error = Err("trace lookup"), false;
    }
  }
  int64_t errors = r.status_code == "ERROR" ? 1 : 0;
  int64_t prompt = r.prompt_tokens.value_or(0), completion = r.completion_tokens.value_or(0);
  {
    Reset g{sum_children_};
    BindText(sum_children_, 1, r.span_id);
    if (sqlite3_step(sum_children_) != SQLITE_ROW) return *error = Err("children sum"), false;
    errors += sqlite3_column_int64(sum_children_, 0);
    prompt += sqlite3_column_int64(sum_children_, 1);
    completion += sqlite3_column_int64(sum_children_, 2);
  }
  int64_t span_rowid = 0;
  {
    Reset g{insert_span_};
    sqlite3_stmt* st = insert_span_;
    sqlite3_bind_int64(st, 1, trace_rowid);
    BindText(st, 2, r.span_id);
    BindOptText(st, 3, r.parent_id);
    BindText(st, 4, r.name);
    BindText(st, 5, r.span_kind);
    BindText(st, 6, r.start_time);
    BindText(st, 7, r.end_time);
    BindText(st, 8, r.attributes);
    BindText(st, 9, r.events);
    BindText(st, 10, r.status_code);
    BindText(st, 11, r.status_message);
    sqlite3_bind_int64(st, 12, errors);
    sqlite3_bind_int64(st, 13, prompt);
    sqlite3_bind_int64(st, 14, completion);
    if (r.prompt_tokens) sqlite3_bind_int64(st, 15, *r.prompt_tokens);
    if (r.completion_tokens) sqlite3_bind_int64(st, 16, *r.completion_tokens);
    const int rc = sqlite3_step(st);
    if (rc == SQLITE_DONE) return true;  // a duplicate span: Phoenix stops here too
    if (rc != SQLITE_ROW) return *error = Err("span insert"), false;
    span_rowid = sqlite3_column_int64(st, 0);
    while (sqlite3_step(st) == SQLITE_ROW) {
    }
  }
  if (!r.parent_id.empty()) {
    Reset g{update_ancestors_};
    BindText(update_ancestors_, 1, r.parent_id);
    sqlite3_bind_int64(update_ancestors_, 2, errors);
    sqlite3_bind_int64(update_ancestors_, 3, prompt);
    sqlite3_bind_int64(update_ancestors_, 4, completion);
    if (sqlite3_step(update_ancestors_) != SQLITE_DONE) return *error = Err("ancestor update"), false;
  }
  if (!r.model.empty() && (r.prompt_tokens || r.completion_tokens)) {
    const int64_t in = r.prompt_tokens.value_or(0), out = r.completion_tokens.value_or(0);
    const double prompt_cost = BaselineCost(r.model, in, 0, r.cache_read_tokens);
    const double completion_cost = BaselineCost(r.model, 0, out, 0);
    int64_t cost_rowid = 0;
    {
      Reset g{insert_cost_};
      sqlite3_stmt* st = insert_cost_;
      sqlite3_bind_int64(st, 1, span_rowid);
      sqlite3_bind_int64(st, 2, trace_rowid);
      BindText(st, 3, r.start_time);
      sqlite3_bind_double(st, 4, prompt_cost + completion_cost);
      sqlite3_bind_double(st, 5, static_cast<double>(in + out));
      sqlite3_bind_double(st, 6, prompt_cost);
      sqlite3_bind_double(st, 7, static_cast<double>(in));
      sqlite3_bind_double(st, 8, completion_cost);
      sqlite3_bind_double(st, 9, static_cast<double>(out));
      if (sqlite3_step(st) != SQLITE_ROW) return *error = Err("cost insert"), false;
      cost_rowid = sqlite3_column_int64(st, 0);
      while (sqlite3_step(st) == SQLITE_ROW) {
      }
    }
    const struct {
      const char* type;
      int prompt;
      double cost;
      int64_t tokens;
    } details[] = {{"input", 1, prompt_cost, in}, {"output", 0, completion_cost, out}};
    for (const auto& d : details) {
      Reset g{insert_cost_detail_};
      sqlite3_stmt* st = insert_cost_detail_;
      sqlite3_bind_int64(st, 1, cost_rowid);
      sqlite3_bind_text(st, 2, d.type, -1, SQLITE_STATIC);
      sqlite3_bind_int(st, 3, d.prompt);
      sqlite3_bind_double(st, 4, d.cost);
      sqlite3_bind_double(st, 5, static_cast<double>(d.tokens));
      sqlite3_bind_double(st, 6, d.tokens ? d.cost / static_cast<double>(d.tokens) : 0.0);
      if (sqlite3_step(st) != SQLITE_DONE) return *error = Err("cost detail insert"), false;
    }
  }
  return true;
}

std::string PhoenixSqlite::QuerySql(QueryId q, const QueryParams& p) {
  const std::string tool = "JSON_EXTRACT(attributes, '$.\"gen_ai\".\"tool\".\"name\"')";
  const std::string window = "start_time >= ?1 AND start_time <= ?2";
  switch (q) {
    case QueryId::kQ1:
      return "SELECT spans.* FROM spans JOIN traces ON traces.id = spans.trace_rowid WHERE traces.trace_id = ?1 "
             "ORDER BY spans.start_time";
    case QueryId::kQ2:
      return "SELECT t.trace_id, t.start_time, t.end_time, count(s.id), sum(s.status_code = 'ERROR'), "
             "sum(s.llm_token_count_prompt), sum(s.llm_token_count_completion) FROM project_sessions ps "
             "JOIN traces t ON t.project_session_rowid = ps.id JOIN spans s ON s.trace_rowid = t.id "
             "WHERE ps.session_id = ?1 GROUP BY t.id ORDER BY t.start_time";
    case QueryId::kQ3:
      return "WITH d AS (SELECT " + tool + " AS tool, (julianday(end_time) - julianday(start_time)) * 86400000.0 "
             "AS ms FROM spans WHERE span_kind = 'TOOL' AND " + window + "), r AS (SELECT tool, ms, ROW_NUMBER() "
             "OVER (PARTITION BY tool ORDER BY ms) AS rn, COUNT(*) OVER (PARTITION BY tool) AS n FROM d) "
             "SELECT tool, max(n), min(CASE WHEN rn >= 0.5 * n THEN ms END), min(CASE WHEN rn >= 0.95 * n THEN ms "
             "END) FROM r GROUP BY tool ORDER BY tool";
    case QueryId::kQ4:
      return "SELECT ps.session_user, sum(c.total_cost) AS cost FROM span_costs c JOIN traces t ON t.id = "
             "c.trace_rowid JOIN project_sessions ps ON ps.id = t.project_session_rowid WHERE c.span_start_time >= "
             "?1 AND c.span_start_time <= ?2 GROUP BY ps.session_user ORDER BY cost DESC";
    case QueryId::kQ5:
      return "SELECT " + tool + " AS tool, substr(start_time, 1, 13) AS hour, count(*) AS calls, "
             "sum(status_code = 'ERROR') AS errors, avg(status_code = 'ERROR') AS error_rate FROM spans "
             "WHERE span_kind = 'TOOL' AND " + window + " GROUP BY tool, hour ORDER BY tool, hour";
    case QueryId::kQ6:
      return "SELECT t.trace_id, t.start_time FROM traces t WHERE t.id IN (SELECT trace_rowid FROM spans WHERE "
             "JSON_EXTRACT(attributes, '" + JsonPath(p.attr_key) + "') = ?1) ORDER BY t.start_time DESC LIMIT 50";
    case QueryId::kQ7:
      return "SELECT t.trace_id, t.start_time FROM traces t WHERE t.id IN (SELECT trace_rowid FROM spans WHERE "
             "JSON_EXTRACT(attributes, '$.\"gen_ai\".\"output\".\"messages\"') LIKE ?1 OR "
             "JSON_EXTRACT(attributes, '$.\"output\".\"value\"') LIKE ?1 OR "
             "JSON_EXTRACT(attributes, '$.\"gen_ai\".\"tool\".\"call\".\"result\"') LIKE ?1) "
             "ORDER BY t.start_time DESC LIMIT 50";
  }
  return "";
}

bool PhoenixSqlite::RunQuery(QueryId q, const QueryParams& p, int64_t* rows, std::string* error) {
  sqlite3_stmt* st = nullptr;
  if (!Prepare(QuerySql(q, p), &st, error)) return false;
  const std::string start = SqliteTimestamp(static_cast<uint64_t>(p.window_start_ns));
  const std::string end = SqliteTimestamp(static_cast<uint64_t>(p.window_end_ns));
  const std::string like = "%" + p.phrase + "%";
  switch (q) {
    case QueryId::kQ1: BindText(st, 1, p.trace_id); break;
    case QueryId::kQ2: BindText(st, 1, p.session_id); break;
    case QueryId::kQ3:
    case QueryId::kQ4:
    case QueryId::kQ5:
      BindText(st, 1, start);
      BindText(st, 2, end);
      break;
    case QueryId::kQ6: BindText(st, 1, p.attr_value); break;
    case QueryId::kQ7: BindText(st, 1, like); break;
  }
  *rows = 0;
  int rc;
  size_t bytes = 0;
  while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
    ++*rows;
    for (int c = 0; c < sqlite3_column_count(st); ++c) {
      sqlite3_column_text(st, c);  // materialise every value, as a client would
      bytes += static_cast<size_t>(sqlite3_column_bytes(st, c));
    }
  }
  sqlite3_finalize(st);
  if (rc != SQLITE_DONE) {
    *error = Err("query");
    return false;
  }
  return true;
}

}  // namespace sightline::bench
