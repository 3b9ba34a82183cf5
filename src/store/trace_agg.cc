#include "store/trace_agg.h"

#include <algorithm>

#include "store/coding.h"

namespace sightline::store {
namespace {

void AddId(IdSet* set, uint32_t id) {
  if (id == 0) return;
  if (std::find(set->begin(), set->end(), id) == set->end()) set->push_back(id);
}

void Union(IdSet* a, const IdSet& b) {
  for (uint32_t id : b) AddId(a, id);
}

}  // namespace

bool TraceKey::operator<(const TraceKey& o) const {
  uint64_t a = __builtin_bswap64(hi), b = __builtin_bswap64(o.hi);
  if (a != b) return a < b;
  return __builtin_bswap64(lo) < __builtin_bswap64(o.lo);
}

void TraceAgg::AddSpan(const SpanFacts& f, StringPool* pool) {
  if (project == 0) project = pool->Intern(f.project);
  uint32_t name_id = pool->Intern(f.name);
  uint32_t service_id = pool->Intern(f.service);
  uint32_t agent_id = pool->Intern(f.agent_name);
  if (f.is_root) {
    has_root = true;
    root_status = static_cast<uint8_t>(f.status);
    root_name = name_id;
    if (service_id) service = service_id;
    if (agent_id) agent_name = agent_id;
    if (!f.session_id.empty()) session_id = pool->Intern(f.session_id), session_from_root = true;
    if (!f.user_id.empty()) user_id = pool->Intern(f.user_id), user_from_root = true;
    if (!f.environment.empty()) environment = pool->Intern(f.environment), env_from_root = true;
  } else {
    if (!has_root && f.start_ns < fallback_start) {
      fallback_start = f.start_ns;
      if (name_id) root_name = name_id;
      if (service_id) service = service_id;
      if (agent_id) agent_name = agent_id;
    }
    if (session_id == 0 && !f.session_id.empty()) session_id = pool->Intern(f.session_id);
    if (user_id == 0 && !f.user_id.empty()) user_id = pool->Intern(f.user_id);
    if (environment == 0 && !f.environment.empty()) environment = pool->Intern(f.environment);
  }
  if (root_name == 0) root_name = name_id;
  if (service == 0) service = service_id;
  if (agent_name == 0) agent_name = agent_id;

  start_ns = std::min(start_ns, f.start_ns);
  end_ns = std::max(end_ns, std::max(f.end_ns, f.start_ns));
  ++span_count;
  if (f.flagged) flagged = true;
  if (f.eval_failed) eval_failed = true;
  if (f.min_score < min_score) min_score = f.min_score;  // false for NaN (no score)
  if (f.status == model::v1::STATUS_ERROR) ++error_count;
  if (f.status == model::v1::STATUS_INTERRUPT) ++interrupt_count;
  if (f.kind == model::v1::KIND_LLM) {
    ++llm_calls;
    AddId(&models, pool->Intern(f.model));
  }
  if (f.kind == model::v1::KIND_TOOL) ++tool_calls;
  input_tokens += f.input_tokens;
  output_tokens += f.output_tokens;
  cost_usd += f.cost_usd;
  if (f.kind >= 0 && f.kind < 32) kinds_mask |= 1u << f.kind;
  AddId(&agents, agent_id);
  AddId(&names, name_id);
  AddId(&tools, pool->Intern(f.tool_name));
}

void TraceAgg::RemoveCounts(const SpanCounts& c) {
  --span_count;
  if (c.status == model::v1::STATUS_ERROR) --error_count;
  if (c.status == model::v1::STATUS_INTERRUPT) --interrupt_count;
  if (c.kind == model::v1::KIND_LLM) --llm_calls;
  if (c.kind == model::v1::KIND_TOOL) --tool_calls;
  input_tokens -= c.input_tokens;
  output_tokens -= c.output_tokens;
  cost_usd -= c.cost_usd;
}

void TraceAgg::Merge(const TraceAgg& b) {
  if (b.span_count == 0 && !b.has_root) return;
  if (project == 0) project = b.project;
  if (b.has_root) {
    has_root = true;
    root_status = b.root_status;
    root_name = b.root_name;
    if (b.service) service = b.service;
    if (b.agent_name) agent_name = b.agent_name;
  } else if (!has_root && b.fallback_start < fallback_start) {
    fallback_start = b.fallback_start;
    if (b.root_name) root_name = b.root_name;
    if (b.service) service = b.service;
    if (b.agent_name) agent_name = b.agent_name;
  }
  if (root_name == 0) root_name = b.root_name;
  if (service == 0) service = b.service;
  if (agent_name == 0) agent_name = b.agent_name;
  auto pick = [](uint32_t* mine, bool* mine_root, uint32_t theirs, bool theirs_root) {
    if (theirs == 0) return;
    if (theirs_root || *mine == 0) {
      *mine = theirs;
      *mine_root = theirs_root;
    }
  };
  pick(&session_id, &session_from_root, b.session_id, b.session_from_root);
  pick(&user_id, &user_from_root, b.user_id, b.user_from_root);
  pick(&environment, &env_from_root, b.environment, b.env_from_root);

  start_ns = std::min(start_ns, b.start_ns);
  end_ns = std::max(end_ns, b.end_ns);
  flagged = flagged || b.flagged;
  eval_failed = eval_failed || b.eval_failed;
  min_score = std::min(min_score, b.min_score);
  span_count += b.span_count;
  error_count += b.error_count;
  interrupt_count += b.interrupt_count;
  llm_calls += b.llm_calls;
  tool_calls += b.tool_calls;
  input_tokens += b.input_tokens;
  output_tokens += b.output_tokens;
  cost_usd += b.cost_usd;
  kinds_mask |= b.kinds_mask;
  Union(&models, b.models);
  Union(&agents, b.agents);
  Union(&names, b.names);
  Union(&tools, b.tools);
}

model::SpanStatus TraceAgg::Status() const {
  if (has_root && root_status != model::v1::STATUS_UNSET) return static_cast<model::SpanStatus>(root_status);
  if (interrupt_count > 0) return model::v1::STATUS_INTERRUPT;
  if (error_count > 0) return model::v1::STATUS_ERROR;
  if (span_count > 0) return model::v1::STATUS_OK;
  return model::v1::STATUS_UNSET;
}

model::TraceSummary TraceAgg::ToSummary(const TraceKey& key, const StringPool& pool) const {
  model::TraceSummary s;
  s.trace_id = key.ToBytes();
  s.project = pool.Get(project);
  s.root_name = pool.Get(root_name);
  s.service = pool.Get(service);
  s.agent_name = pool.Get(agent_name);
  s.session_id = pool.Get(session_id);
  s.user_id = pool.Get(user_id);
  s.environment = pool.Get(environment);
  s.start_ns = span_count > 0 ? start_ns : 0;
  s.end_ns = span_count > 0 ? end_ns : 0;
  s.duration_ns = DurationNs();
  s.status = Status();
  s.span_count = span_count;
  s.error_count = error_count;
  s.interrupt_count = interrupt_count;
  s.llm_calls = llm_calls;
  s.tool_calls = tool_calls;
  s.input_tokens = input_tokens;
  s.output_tokens = output_tokens;
  s.cost_usd = cost_usd;
  s.models.reserve(models.size());
  for (uint32_t m : models) s.models.emplace_back(pool.Get(m));
  s.has_root = has_root;
  return s;
}

size_t TraceAgg::MemoryBytes() const {
  return sizeof(TraceAgg) + (models.capacity() + agents.capacity() + names.capacity() + tools.capacity()) * 4;
}

// Layout: flags varint (bit0 has_root, bit1 session_from_root, bit2 user_from_root,
// bit3 env_from_root, bit4 flagged, bit5 eval_failed, bit6 has a score; older files
// never set bits 4-6), root_status varint, kinds_mask varint, seven strings (project,
// root_name, service, agent_name, environment, session_id, user_id), start, end,
// fallback_start (zigzag), seven counters (zigzag), cost (f64), then four string sets
// (count, strings): models, agents, names, tools; then, with bit 6, the lowest
// evaluation score (f64).
void TraceAgg::Encode(const StringPool& pool, std::string* out) const {
  PutVarint64(out, (has_root ? 1u : 0u) | (session_from_root ? 2u : 0u) | (user_from_root ? 4u : 0u) |
                       (env_from_root ? 8u : 0u) | (flagged ? 16u : 0u) | (eval_failed ? 32u : 0u) |
                       (has_score() ? 64u : 0u));
  PutVarint64(out, root_status);
  PutVarint64(out, kinds_mask);
  for (uint32_t id : {project, root_name, service, agent_name, environment, session_id, user_id})
    PutLengthPrefixed(out, pool.Get(id));
  for (int64_t v : {start_ns, end_ns, fallback_start, span_count, error_count, interrupt_count, llm_calls, tool_calls,
                    input_tokens, output_tokens})
    PutSigned(out, v);
  PutDouble(out, cost_usd);
  for (const IdSet* set : {&models, &agents, &names, &tools}) {
    PutVarint64(out, set->size());
    for (uint32_t id : *set) PutLengthPrefixed(out, pool.Get(id));
  }
  if (has_score()) PutDouble(out, min_score);
}

bool TraceAgg::Decode(std::string_view in, StringPool* pool, TraceAgg* a) {
  uint64_t flags, status, kinds;
  if (!GetVarint64(&in, &flags) || !GetVarint64(&in, &status) || !GetVarint64(&in, &kinds)) return false;
  if (status > 3) return false;
  a->has_root = flags & 1;
  a->session_from_root = flags & 2;
  a->user_from_root = flags & 4;
  a->env_from_root = flags & 8;
  a->flagged = flags & 16;
  a->eval_failed = flags & 32;
  a->min_score = std::numeric_limits<double>::infinity();
  a->root_status = static_cast<uint8_t>(status);
  a->kinds_mask = static_cast<uint32_t>(kinds);
  for (uint32_t* id : {&a->project, &a->root_name, &a->service, &a->agent_name, &a->environment, &a->session_id,
                       &a->user_id}) {
    std::string_view s;
    if (!GetLengthPrefixed(&in, &s)) return false;
    *id = pool->Intern(s);
  }
  for (int64_t* v : {&a->start_ns, &a->end_ns, &a->fallback_start, &a->span_count, &a->error_count,
                     &a->interrupt_count, &a->llm_calls, &a->tool_calls, &a->input_tokens, &a->output_tokens})
    if (!GetSigned(&in, v)) return false;
  if (!GetDouble(&in, &a->cost_usd)) return false;
  for (IdSet* set : {&a->models, &a->agents, &a->names, &a->tools}) {
    uint64_t n;
    if (!GetVarint64(&in, &n) || n > in.size()) return false;
    set->clear();
    for (uint64_t i = 0; i < n; ++i) {
      std::string_view s;
      if (!GetLengthPrefixed(&in, &s)) return false;
      AddId(set, pool->Intern(s));
    }
  }
  if ((flags & 64) && (!GetDouble(&in, &a->min_score) || !(a->min_score < std::numeric_limits<double>::infinity())))
    return false;
  return in.empty();
}

}  // namespace sightline::store
