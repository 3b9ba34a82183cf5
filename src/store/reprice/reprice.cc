#include "store/reprice/reprice.h"

#include <xxhash.h>

#include <unordered_map>

#include "store/coding.h"

namespace sightline::store {
namespace {

constexpr char kRepriceMagic[] = "SLREPR01";

}  // namespace

void EncodeRepriceStep(const RepriceStep& step, std::string* out) {
  out->clear();
  out->append(kRepriceMagic, 8);
  PutFixed64(out, step.seq);
  PutVarint64(out, step.outputs.size());
  for (uint64_t n : step.outputs) PutVarint64(out, n);
  // Only the strings the changes use, in first-use order.
  std::unordered_map<uint32_t, uint32_t> index;
  std::vector<uint32_t> ids;
  auto ref = [&](uint32_t id) {
    auto [it, added] = index.try_emplace(id, static_cast<uint32_t>(ids.size()));
    if (added) ids.push_back(id);
    return it->second;
  };
  std::string body;
  PutVarint64(&body, step.changes.size());
  for (const CostChange& c : step.changes) {
    PutFixed64(&body, c.trace.hi);
    PutFixed64(&body, c.trace.lo);
    PutSigned(&body, c.start_ns);
    for (uint32_t id : {c.project, c.agent, c.tool, c.model, c.service, c.environment}) PutVarint64(&body, ref(id));
    body.push_back(static_cast<char>(c.status));
    body.push_back(static_cast<char>(c.kind));
    body.push_back(static_cast<char>((c.had_cost ? 1 : 0) | (c.has_cost ? 2 : 0)));
    PutDouble(&body, c.before);
    PutDouble(&body, c.after);
  }
  PutVarint64(out, ids.size());
  for (uint32_t id : ids) PutLengthPrefixed(out, step.pool->Get(id));
  out->append(body);
  PutFixed64(out, XXH3_64bits(out->data(), out->size()));
}

Status DecodeRepriceStep(std::string_view in, RepriceStep* out) {
  auto bad = [](const std::string& what) { return Status::Corruption("reprice journal: " + what); };
  if (in.size() < 8 + 8 + 8) return bad("too short (" + std::to_string(in.size()) + " bytes)");
  if (in.substr(0, 8) != std::string_view(kRepriceMagic, 8)) return bad("bad magic");
  if (XXH3_64bits(in.data(), in.size() - 8) != DecodeFixed64(in.data() + in.size() - 8))
    return bad("checksum mismatch");
  in = in.substr(8, in.size() - 16);
  if (in.size() < 8) return bad("truncated header");
  RepriceStep s;
  s.seq = DecodeFixed64(in.data());
  in.remove_prefix(8);
  uint64_t n;
  if (!GetVarint64(&in, &n) || n > in.size()) return bad("bad output count");
  for (uint64_t i = 0; i < n; ++i) {
    uint64_t num;
    if (!GetVarint64(&in, &num)) return bad("bad output number");
    s.outputs.push_back(num);
  }
  if (!GetVarint64(&in, &n) || n > in.size()) return bad("bad string count");
  std::vector<uint32_t> ids;
  for (uint64_t i = 0; i < n; ++i) {
    std::string_view str;
    if (!GetLengthPrefixed(&in, &str)) return bad("bad string table");
    ids.push_back(s.pool->Intern(str));
  }
  if (!GetVarint64(&in, &n) || n > in.size()) return bad("bad change count");
  s.changes.reserve(static_cast<size_t>(n));
  for (uint64_t i = 0; i < n; ++i) {
    CostChange c;
    if (in.size() < 16) return bad("truncated change");
    c.trace.hi = DecodeFixed64(in.data());
    c.trace.lo = DecodeFixed64(in.data() + 8);
    in.remove_prefix(16);
    if (!GetSigned(&in, &c.start_ns)) return bad("truncated change");
    for (uint32_t* f : {&c.project, &c.agent, &c.tool, &c.model, &c.service, &c.environment}) {
      uint64_t x;
      if (!GetVarint64(&in, &x) || x >= ids.size()) return bad("bad string reference");
      *f = ids[static_cast<size_t>(x)];
    }
    if (in.size() < 3) return bad("truncated change");
    c.status = static_cast<uint8_t>(in[0]);
    c.kind = static_cast<uint8_t>(in[1]);
    c.had_cost = (in[2] & 1) != 0;
    c.has_cost = (in[2] & 2) != 0;
    in.remove_prefix(3);
    if (!GetDouble(&in, &c.before) || !GetDouble(&in, &c.after)) return bad("truncated change");
    s.changes.push_back(c);
  }
  if (!in.empty()) return bad(std::to_string(in.size()) + " trailing bytes");
  *out = std::move(s);
  return Status::OK();
}

Status ReadRepriceStep(Env* env, const std::string& dir, RepriceStep* out) {
  const std::string path = JoinPath(dir, kRepriceFile);
  if (!env->FileExists(path)) return Status::NotFound("no reprice step in flight");
  SL_ASSIGN_OR_RETURN(std::string bytes, ReadFileToString(env, path));
  return DecodeRepriceStep(bytes, out).WithContext(path);
}

Status WriteRepriceStep(Env* env, const std::string& dir, const RepriceStep& step) {
  std::string bytes;
  EncodeRepriceStep(step, &bytes);
  return WriteFileAtomically(env, JoinPath(dir, kRepriceFile), bytes);
}

Status RemoveRepriceStep(Env* env, const std::string& dir) {
  const std::string path = JoinPath(dir, kRepriceFile);
  if (!env->FileExists(path)) return Status::OK();
  SL_RETURN_IF_ERROR(env->RemoveFile(path));
  return env->SyncDir(dir);
}

SpanFacts FactsOf(const CostChange& c, const StringPool& pool) {
  SpanFacts f;
  f.trace = c.trace;
  f.start_ns = c.start_ns;
  f.end_ns = c.start_ns;
  f.project = pool.Get(c.project);
  f.agent_name = pool.Get(c.agent);
  f.tool_name = pool.Get(c.tool);
  f.model = pool.Get(c.model);
  f.service = pool.Get(c.service);
  f.environment = pool.Get(c.environment);
  f.status = static_cast<model::SpanStatus>(c.status);
  f.kind = static_cast<model::SpanKind>(c.kind);
  return f;
}

}  // namespace sightline::store
