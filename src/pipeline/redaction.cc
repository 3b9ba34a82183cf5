#include "pipeline/redaction.h"

#include <hs/hs.h>
#include <openssl/hmac.h>

#include <algorithm>
#include <cstdint>
#include <cstdlib>
#include <atomic>
#include <unordered_map>

#include "pipeline/redaction_detectors.h"

namespace sightline::pipeline::redaction {

using ::opentelemetry::proto::common::v1::AnyValue;
using ::opentelemetry::proto::common::v1::KeyValue;
using KeyValues = ::google::protobuf::RepeatedPtrField<KeyValue>;

// The two databases of one pattern set: `filter` (no start offsets: is anything
// here?) and `som` (leftmost start offsets, for the strings where something is).
struct HsDatabases {
  uint64_t id = 0;  // unique per compiled pair (a thread's scratch fits it once checked)
  hs_database_t* filter = nullptr;
  hs_database_t* som = nullptr;
  size_t min_length = 0;  // no pattern matches fewer bytes: shorter strings are not scanned
  HsDatabases() = default;
  HsDatabases(const HsDatabases&) = delete;
  HsDatabases& operator=(const HsDatabases&) = delete;
  ~HsDatabases() {
    hs_free_database(filter);
    hs_free_database(som);
  }
};

namespace {

constexpr size_t kAttributeRule = 0;
constexpr std::string_view kAttributeRuleName = "attribute";
std::atomic<uint64_t> next_policy_id{1};

// One scratch per thread, grown to fit every database the thread scans with.
struct ThreadScratch {
  hs_scratch_t* s = nullptr;
  ~ThreadScratch() {
    if (s) hs_free_scratch(s);
  }
};
thread_local ThreadScratch tls_scratch;
thread_local uint64_t tls_scratch_fits = 0;  // the HsDatabases id the scratch was last grown for
std::atomic<uint64_t> next_db_id{1};

hs_scratch_t* ScratchFor(const HsDatabases& db) {
  if (tls_scratch_fits == db.id) return tls_scratch.s;
  if (hs_alloc_scratch(db.filter, &tls_scratch.s) != HS_SUCCESS) return nullptr;
  if (hs_alloc_scratch(db.som, &tls_scratch.s) != HS_SUCCESS) return nullptr;
  tls_scratch_fits = db.id;
  return tls_scratch.s;
}

struct Candidate {
  size_t from, to;
  uint32_t rule;
};

struct ScanContext {
  std::string_view text;
  const ProjectPolicy* policy;
  const std::vector<uint32_t>* pattern_rule;
  std::vector<Candidate>* out;
};

int OnAny(unsigned, unsigned long long, unsigned long long, unsigned, void* ctx) {
  *static_cast<bool*>(ctx) = true;
  return 1;  // stop: the second pass finds where
}

int OnMatch(unsigned id, unsigned long long from_ull, unsigned long long to_ull, unsigned, void* vctx) {
  auto* ctx = static_cast<ScanContext*>(vctx);
  const uint32_t rule = (*ctx->pattern_rule)[id];
  size_t from = static_cast<size_t>(from_ull), to = static_cast<size_t>(to_ull);
  // A longer report of the match just seen (same rule, same start): extend it. Long
  // matches (a PEM body) report at every byte; this keeps them one candidate.
  const Detector* d = ctx->policy->rules()[rule].detector;
  if (d != nullptr && d->validate != nullptr && !d->validate(ctx->text, from, to)) return 0;
  if (d != nullptr && d->value_start != nullptr) from = d->value_start(ctx->text, from, to);
  AvoidSplittingEscapes(ctx->text, &from, &to);
  if (from >= to) return 0;
  auto& out = *ctx->out;
  if (!out.empty() && out.back().rule == rule && out.back().from == from) {
    out.back().to = std::max(out.back().to, to);
    return 0;
  }
  out.push_back({from, to, rule});
  return 0;
}

std::string Replacement(const Rule& rule, std::string_view matched, std::string_view key, int hex_chars) {
  if (rule.action == Action::kHash) {
    std::string value(matched);
    if (rule.name == "email")  // one person, however they typed it
      for (char& c : value) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    return "[" + rule.name + ":hmac:" + HmacHex(key, value, hex_chars) + "]";
  }
  return "[REDACTED:" + rule.name + "]";
}

// The text an attribute's whole value is hashed from.
std::string ValueText(const AnyValue& v) {
  switch (v.value_case()) {
    case AnyValue::kStringValue: return v.string_value();
    case AnyValue::kBytesValue: return v.bytes_value();
    case AnyValue::kIntValue: return std::to_string(v.int_value());
    case AnyValue::kDoubleValue: return std::to_string(v.double_value());
    case AnyValue::kBoolValue: return v.bool_value() ? "true" : "false";
    default: return v.SerializeAsString();
  }
}

bool IsEmpty(const AnyValue& v) { return v.value_case() == AnyValue::VALUE_NOT_SET; }

struct Walker {
  const ProjectPolicy& policy;
  std::string hmac_key;
  Counts* counts;
  bool changed = false;  // anything was masked, hashed or dropped

  ProjectPolicy::Outcome Text(std::string* text) {
    const ProjectPolicy::Outcome o = policy.RedactText(text, hmac_key, counts);
    changed |= o != ProjectPolicy::Outcome::kUnchanged;
    return o;
  }

  // false: the value must go (a drop rule matched inside it).
  bool Value(AnyValue* v, const std::string& path, int depth) {
    switch (v->value_case()) {
      case AnyValue::kStringValue: return Text(v->mutable_string_value()) != ProjectPolicy::Outcome::kDrop;
      case AnyValue::kBytesValue: return Text(v->mutable_bytes_value()) != ProjectPolicy::Outcome::kDrop;
      case AnyValue::kArrayValue:
        for (AnyValue& e : *v->mutable_array_value()->mutable_values())
          if (!Value(&e, path, depth + 1)) return false;
        return true;
      case AnyValue::kKvlistValue:
        if (depth > 64) {  // deeper than any decoder lets through; fail closed
          v->set_string_value("[REDACTED:attribute]");
          changed = true;
          return true;
        }
        return KeyValuesIn(v->mutable_kvlist_value()->mutable_values(), path, depth + 1);
      default:
        return true;  // numbers and booleans: key rules only
    }
  }

  // Applies key rules and scans; removes what is dropped. false: a nested drop asks
  // the enclosing attribute to go.
  bool KeyValuesIn(KeyValues* kvs, const std::string& prefix, int depth) {
    int w = 0;
    const int n = kvs->size();
    bool keep_parent = true;
    for (int i = 0; i < n; ++i) {
      KeyValue& kv = (*kvs)[i];
      // Top-level keys are looked up as they are; nested ones as parent.child.
      std::string nested;
      if (!prefix.empty()) nested = prefix + "." + kv.key();
      const std::string& path = prefix.empty() ? kv.key() : nested;
      bool keep = true;
      switch (policy.ForKey(path)) {
        case KeyVerdict::kKeep: break;
        case KeyVerdict::kDrop:
          keep = false;
          changed = true;
          counts->Add(kAttributeRule, Action::kDrop);
          break;
        case KeyVerdict::kMask:
          if (!IsEmpty(kv.value())) {
            kv.mutable_value()->set_string_value("[REDACTED:attribute]");
            changed = true;
            counts->Add(kAttributeRule, Action::kMask);
          }
          break;
        case KeyVerdict::kHash:
          if (!IsEmpty(kv.value())) {
            std::string h = "[attribute:hmac:" + HmacHex(hmac_key, ValueText(kv.value()), policy.hash_length()) + "]";
            kv.mutable_value()->set_string_value(std::move(h));
            changed = true;
            counts->Add(kAttributeRule, Action::kHash);
          }
          break;
        case KeyVerdict::kScan:
          keep = !kv.has_value() || Value(kv.mutable_value(), path, depth);  // none sent: none added
          if (!keep && depth > 0) keep_parent = false;  // a drop inside a nested value drops the top attribute
          break;
      }
      if (!keep) continue;
      if (w != i) kvs->SwapElements(w, i);
      ++w;
    }
    if (w < n) kvs->DeleteSubrange(w, n - w);
    return keep_parent;
  }

  void Attributes(KeyValues* kvs) { (void)KeyValuesIn(kvs, std::string(), 0); }

  // A field that is not an attribute: dropping empties it.
  void Field(std::string* s) {
    if (s->empty()) return;
    if (Text(s) == ProjectPolicy::Outcome::kDrop) s->clear();
  }
};

// The rules (and patterns) a project gets from the layers, most general first.
struct Assembled {
  std::vector<Rule> rules;
  std::vector<const char*> expressions;
  std::vector<const char*> filters;  // the first pass's expressions (detectors' cheaper supersets)
  std::vector<unsigned> flags;
  std::vector<uint32_t> pattern_rule;
  std::vector<int> custom_line;  // per pattern: the custom rule's line, 0 for built-ins
  std::vector<std::string> custom_storage;
  std::string signature;
};

Assembled Assemble(const std::vector<const PolicyLayer*>& layers) {
  Assembled a;
  a.rules.push_back({std::string(kAttributeRuleName), Action::kMask, nullptr});
  std::map<std::string, Action> actions;
  for (const PolicyLayer* l : layers)
    for (const auto& [name, act] : l->detectors) actions[name] = act;
  std::vector<CustomRule> custom;
  for (const PolicyLayer* l : layers) {
    for (const CustomRule& r : l->custom) {
      auto it = std::find_if(custom.begin(), custom.end(), [&](const CustomRule& c) { return c.name == r.name; });
      if (it != custom.end()) {
        *it = r;
      } else {
        custom.push_back(r);
      }
    }
  }
  a.custom_storage.reserve(custom.size());
  for (const Detector& d : BuiltinDetectors()) {
    Action act = actions.count(d.name) ? actions[d.name] : Action::kOff;
    if (act == Action::kOff) continue;
    const uint32_t idx = static_cast<uint32_t>(a.rules.size());
    a.rules.push_back({d.name, act, &d});
    for (const DetectorPattern& p : d.patterns) {
      a.expressions.push_back(p.expression);
      a.filters.push_back(p.filter != nullptr ? p.filter : p.expression);
      a.flags.push_back(p.caseless ? HS_FLAG_CASELESS : 0);
      a.pattern_rule.push_back(idx);
      a.custom_line.push_back(0);
    }
  }
  for (const CustomRule& r : custom) {
    if (r.action == Action::kOff) continue;
    const uint32_t idx = static_cast<uint32_t>(a.rules.size());
    a.rules.push_back({r.name, r.action, nullptr});
    a.custom_storage.push_back(r.pattern);
    a.expressions.push_back(a.custom_storage.back().c_str());
    a.filters.push_back(a.expressions.back());
    a.flags.push_back(r.ignore_case ? HS_FLAG_CASELESS : 0);
    a.pattern_rule.push_back(idx);
    a.custom_line.push_back(r.line);
  }
  for (size_t i = 0; i < a.expressions.size(); ++i) {
    a.signature += std::to_string(a.flags[i]);
    a.signature += ':';
    a.signature += a.expressions[i];
    a.signature += '\n';
  }
  return a;
}

Result<std::shared_ptr<const HsDatabases>> CompileDatabases(const Assembled& a, const std::string& origin) {
  auto db = std::make_shared<HsDatabases>();
  db->id = next_db_id.fetch_add(1);
  const unsigned n = static_cast<unsigned>(a.expressions.size());
  std::vector<unsigned> ids(n), som_flags(a.flags);
  for (unsigned i = 0; i < n; ++i) {
    ids[i] = i;
    som_flags[i] |= HS_FLAG_SOM_LEFTMOST;
  }
  db->min_length = SIZE_MAX;
  for (unsigned i = 0; i < n; ++i) {
    hs_expr_info_t* info = nullptr;
    hs_compile_error_t* err = nullptr;
    if (hs_expression_info(a.expressions[i], a.flags[i], &info, &err) == HS_SUCCESS && info != nullptr) {
      db->min_length = std::min<size_t>(db->min_length, info->min_width);
    } else {
      db->min_length = 0;  // unknown: scan everything (the compile below reports the error)
    }
    free(info);
    hs_free_compile_error(err);
  }
  for (int pass = 0; pass < 2; ++pass) {
    hs_compile_error_t* err = nullptr;
    hs_database_t** out = pass == 0 ? &db->filter : &db->som;
    const unsigned* flags = pass == 0 ? a.flags.data() : som_flags.data();
    const char* const* expressions = pass == 0 ? a.filters.data() : a.expressions.data();
    if (hs_compile_multi(expressions, flags, ids.data(), n, HS_MODE_BLOCK, nullptr, out, &err) ==
        HS_SUCCESS)
      continue;
    std::string msg = err && err->message ? err->message : "unknown error";
    int e = err ? err->expression : -1;
    hs_free_compile_error(err);
    if (e >= 0 && static_cast<size_t>(e) < n && a.custom_line[static_cast<size_t>(e)] > 0) {
      const Rule& r = a.rules[a.pattern_rule[static_cast<size_t>(e)]];
      return Status::InvalidArgument(origin + ":" + std::to_string(a.custom_line[static_cast<size_t>(e)]) +
                                     ": custom rule `" + r.name + "`: the pattern does not compile: " + msg);
    }
    return Status::Internal("redaction: the built-in patterns do not compile: " + msg);
  }
  return std::shared_ptr<const HsDatabases>(std::move(db));
}

// Verdict cache: keys repeat in every span, globs are many; one map per thread,
// looked up by string_view (no allocation on a hit).
struct ViewHash {
  using is_transparent = void;
  size_t operator()(std::string_view s) const { return std::hash<std::string_view>()(s); }
};
struct KeyCache {
  uint64_t policy = 0;
  std::unordered_map<std::string, KeyVerdict, ViewHash, std::equal_to<>> map;
};
thread_local KeyCache tls_key_cache;

}  // namespace

// --- Counts ----------------------------------------------------------------------

void Counts::Add(size_t rule, Action a, int64_t n) {
  const size_t i = rule * 4 + static_cast<size_t>(a);
  if (n_.size() <= i) n_.resize((rule + 1) * 4, 0);
  n_[i] += n;
}

bool Counts::empty() const {
  return std::all_of(n_.begin(), n_.end(), [](int64_t v) { return v == 0; });
}

// --- ProjectPolicy ---------------------------------------------------------------

KeyVerdict ProjectPolicy::ForKeyUncached(std::string_view key) const {
  auto any = [key](const std::vector<std::string>& globs) {
    for (const std::string& g : globs)
      if (GlobMatch(g, key)) return true;
    return false;
  };
  for (const KeyRules& k : key_layers_) {
    if (any(k.drop)) return KeyVerdict::kDrop;
    if (any(k.hash)) return KeyVerdict::kHash;
    if (any(k.mask)) return KeyVerdict::kMask;
    if (any(k.keep)) return KeyVerdict::kKeep;
  }
  return KeyVerdict::kScan;
}

KeyVerdict ProjectPolicy::ForKey(std::string_view key) const {
  KeyCache& c = tls_key_cache;
  if (c.policy != id_ || c.map.size() > 8192) {
    c.map.clear();
    c.policy = id_;
  }
  auto it = c.map.find(key);
  if (it != c.map.end()) return it->second;
  KeyVerdict v = ForKeyUncached(key);
  c.map.emplace(std::string(key), v);
  return v;
}

std::string ProjectPolicy::HmacKeyFor(std::string_view project) const {
  if (!derive_key_) return base_key_;
  unsigned char out[32];
  unsigned int len = 0;
  std::string msg = "sightline-redaction-project:" + std::string(project);
  HMAC(EVP_sha256(), base_key_.data(), static_cast<int>(base_key_.size()),
       reinterpret_cast<const unsigned char*>(msg.data()), msg.size(), out, &len);
  return std::string(reinterpret_cast<const char*>(out), len);
}

ProjectPolicy::Outcome ProjectPolicy::RedactText(std::string* text, std::string_view hmac_key, Counts* counts) const {
  if (!db_ || text->size() < std::max<size_t>(db_->min_length, 1)) return Outcome::kUnchanged;
  hs_scratch_t* scratch = ScratchFor(*db_);
  const unsigned len = static_cast<unsigned>(std::min<size_t>(text->size(), UINT32_MAX));
  bool any = false;
  hs_error_t rc = scratch ? hs_scan(db_->filter, text->data(), len, 0, scratch, OnAny, &any) : HS_NOMEM;
  if (rc != HS_SUCCESS && rc != HS_SCAN_TERMINATED) any = true;
  if (!any) return Outcome::kUnchanged;

  thread_local std::vector<Candidate> cands;
  cands.clear();
  ScanContext ctx{*text, this, &pattern_rule_, &cands};
  rc = scratch ? hs_scan(db_->som, text->data(), len, 0, scratch, OnMatch, &ctx) : HS_NOMEM;
  if (rc != HS_SUCCESS) {  // cannot tell what is in it: nothing of it is kept
    text->assign("[REDACTED:scan_error]");
    counts->Add(kAttributeRule, Action::kMask);
    return Outcome::kChanged;
  }
  if (cands.empty()) return Outcome::kUnchanged;
  std::sort(cands.begin(), cands.end(), [](const Candidate& a, const Candidate& b) {
    if (a.from != b.from) return a.from < b.from;
    if (a.to != b.to) return a.to > b.to;
    return a.rule < b.rule;
  });
  // Merge overlaps: a region keeps its first candidate's rule; any drop drops.
  std::string out;
  out.reserve(text->size());
  size_t pos = 0, i = 0;
  bool drop = false;
  while (i < cands.size()) {
    Candidate region = cands[i++];
    bool region_drop = rules_[region.rule].action == Action::kDrop;
    while (i < cands.size() && cands[i].from < region.to) {
      region.to = std::max(region.to, cands[i].to);
      region_drop |= rules_[cands[i].rule].action == Action::kDrop;
      ++i;
    }
    const Rule& rule = rules_[region.rule];
    counts->Add(region.rule, region_drop ? Action::kDrop : rule.action);
    drop |= region_drop;
    out.append(*text, pos, region.from - pos);
    if (!region_drop)
      out += Replacement(rule, std::string_view(*text).substr(region.from, region.to - region.from), hmac_key,
                         hash_length_);
    pos = region.to;
  }
  if (drop) return Outcome::kDrop;
  out.append(*text, pos, std::string::npos);
  text->swap(out);
  return Outcome::kChanged;
}

// --- Policy ----------------------------------------------------------------------

Result<std::shared_ptr<const Policy>> Policy::Compile(const PolicySpec& spec, std::string_view base_key,
                                                      const std::string& origin) {
  auto policy = std::make_shared<Policy>();
  std::map<std::string, std::shared_ptr<const HsDatabases>> dbs;  // by pattern signature
  auto build = [&](const PolicyLayer* project) -> Result<std::shared_ptr<const ProjectPolicy>> {
    std::vector<const PolicyLayer*> layers = {&BuiltinLayer(), &spec.defaults};
    if (project) layers.push_back(project);
    Assembled a = Assemble(layers);
    auto pp = std::make_shared<ProjectPolicy>();
    pp->id_ = next_policy_id.fetch_add(1);
    if (!a.expressions.empty()) {
      auto it = dbs.find(a.signature);
      if (it == dbs.end()) {
        SL_ASSIGN_OR_RETURN(auto db, CompileDatabases(a, origin));
        it = dbs.emplace(a.signature, std::move(db)).first;
      }
      pp->db_ = it->second;
    }
    pp->rules_ = std::move(a.rules);
    pp->pattern_rule_ = std::move(a.pattern_rule);
    for (auto l = layers.rbegin(); l != layers.rend(); ++l)
      if (!(*l)->attributes.empty()) pp->key_layers_.push_back((*l)->attributes);
    pp->base_key_ = std::string(base_key);
    pp->derive_key_ = true;
    pp->key_source_ = "the server's key file (redaction.key), derived per project";
    for (const PolicyLayer* l : layers) {
      if (l->hash_length) pp->hash_length_ = *l->hash_length;
      if (l->hash_key) {
        pp->base_key_ = *l->hash_key;
        pp->derive_key_ = l != project;  // a project's own key is used as given
        pp->key_source_ = l == project ? "the project's own [hash] key"
                                       : "the policy file's [hash] key, derived per project";
      }
    }
    return std::shared_ptr<const ProjectPolicy>(std::move(pp));
  };
  SL_ASSIGN_OR_RETURN(policy->default_, build(nullptr));
  for (const auto& [name, layer] : spec.projects) {
    SL_ASSIGN_OR_RETURN(auto pp, build(&layer));
    policy->projects_.emplace(name, std::move(pp));
  }
  return std::shared_ptr<const Policy>(std::move(policy));
}

Result<std::shared_ptr<const Policy>> Policy::Builtin(std::string_view base_key) {
  return Compile(PolicySpec{}, base_key, "built-in redaction policy");
}

const ProjectPolicy& Policy::For(std::string_view project) const {
  auto it = projects_.find(project);
  return it != projects_.end() ? *it->second : *default_;
}

// --- Walking a request -----------------------------------------------------------

bool RedactResourceSpans(const ProjectPolicy& policy, std::string_view project,
                         ::opentelemetry::proto::trace::v1::ResourceSpans* rs, Counts* counts) {
  Walker w{policy, policy.HmacKeyFor(project), counts};
  if (rs->has_resource()) w.Attributes(rs->mutable_resource()->mutable_attributes());
  for (auto& ss : *rs->mutable_scope_spans()) {
    if (ss.has_scope()) w.Attributes(ss.mutable_scope()->mutable_attributes());
    for (auto& s : *ss.mutable_spans()) {
      w.Field(s.mutable_name());
      w.Field(s.mutable_trace_state());
      if (s.has_status()) w.Field(s.mutable_status()->mutable_message());
      w.Attributes(s.mutable_attributes());
      for (auto& ev : *s.mutable_events()) {
        w.Field(ev.mutable_name());
        w.Attributes(ev.mutable_attributes());
      }
      for (auto& link : *s.mutable_links()) {
        w.Field(link.mutable_trace_state());
        w.Attributes(link.mutable_attributes());
      }
    }
  }
  return w.changed;
}

std::string HmacHex(std::string_view key, std::string_view value, int hex_chars) {
  unsigned char mac[32];
  unsigned int len = 0;
  HMAC(EVP_sha256(), key.data(), static_cast<int>(key.size()), reinterpret_cast<const unsigned char*>(value.data()),
       value.size(), mac, &len);
  static constexpr char kHex[] = "0123456789abcdef";
  std::string out;
  for (unsigned i = 0; i < len && static_cast<int>(out.size()) < hex_chars; ++i) {
    out += kHex[mac[i] >> 4];
    out += kHex[mac[i] & 15];
  }
  out.resize(std::min<size_t>(out.size(), static_cast<size_t>(hex_chars)));
  return out;
}

}  // namespace sightline::pipeline::redaction
