// Redaction at ingest: finds secrets and personal data in every string a span brings
// (attribute values of the span, its resource, scope, events and links; span and event
// names, status messages, trace state) and masks, drops or hashes them before the
// span reaches the WAL. docs/redaction.md is the user's description, docs/architecture.md
// ("Redaction") the design.
//
// One pass: every enabled pattern of a project (built-in detectors and custom rules)
// is in one Hyperscan database, compiled once per policy version. A string is scanned
// once by that database without start-of-match tracking (the fast path: most strings
// hold nothing); only a string where something matched is scanned again by the same
// patterns with leftmost start offsets, and each match is confirmed by its detector's
// check (Luhn, mod-97, ...). Overlapping matches merge into one region, named by the
// one that starts first (then the longest, then the first rule in policy order), so
// no byte of any match survives and the result does not depend on report order.
//
// Thread-safety: a Policy and its ProjectPolicies are immutable after Compile and may
// be shared by any number of threads; each thread scans with its own Hyperscan scratch.
#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "common/status.h"
#include "opentelemetry/proto/trace/v1/trace.pb.h"
#include "pipeline/redaction_policy.h"

namespace sightline::pipeline::redaction {

struct Detector;
struct HsDatabases;

// What the key rules say about an attribute (by its key; nested keys as parent.key).
enum class KeyVerdict { kScan, kKeep, kDrop, kMask, kHash };

struct Rule {
  std::string name;  // detector or custom rule name; "attribute" for key rules
  Action action = Action::kMask;
  const Detector* detector = nullptr;  // null: a custom pattern (or the key rules)
};

// Redactions done, per rule (index into ProjectPolicy::rules()) and action.
class Counts {
 public:
  void Add(size_t rule, Action a, int64_t n = 1);
  // (rule, action, count) for every non-zero entry.
  template <typename F>
  void ForEach(F&& f) const {
    for (size_t i = 0; i < n_.size(); ++i)
      if (n_[i] != 0) f(i / 4, static_cast<Action>(i % 4), n_[i]);
  }
  bool empty() const;
  void Clear() { n_.clear(); }

 private:
  std::vector<int64_t> n_;
};

// The compiled rules of one project (or of every project without its own section).
class ProjectPolicy {
 public:
  enum class Outcome { kUnchanged, kChanged, kDrop };

  // Rule 0 is "attribute" (the key rules); pattern rules follow in policy order.
  const std::vector<Rule>& rules() const { return rules_; }
  KeyVerdict ForKey(std::string_view key) const;
  // Scans *text and replaces what the rules find. kDrop: a rule with action drop
  // matched (the caller removes the value); *text is then unspecified.
  Outcome RedactText(std::string* text, std::string_view hmac_key, Counts* counts) const;
  // The key HMACs use for `project`: its own configured key, or one derived from the
  // policy's base key and the project's name (so projects never share hashes).
  std::string HmacKeyFor(std::string_view project) const;
  int hash_length() const { return hash_length_; }
  bool scans() const { return db_ != nullptr; }
  // The attribute key rules, most specific layer first (for describing the policy).
  const std::vector<KeyRules>& key_layers() const { return key_layers_; }
  // Where the HMAC key comes from, in words (never the key).
  std::string_view key_source() const { return key_source_; }

 private:
  friend class Policy;
  KeyVerdict ForKeyUncached(std::string_view key) const;

  uint64_t id_ = 0;  // unique per compiled ProjectPolicy (cache key)
  std::vector<Rule> rules_;
  std::vector<uint32_t> pattern_rule_;  // Hyperscan id -> rule index
  std::shared_ptr<const HsDatabases> db_;
  std::vector<KeyRules> key_layers_;  // most specific first
  std::string base_key_;
  bool derive_key_ = true;  // false: base_key_ is the project's own key
  int hash_length_ = 12;
  std::string key_source_;
};

class Policy {
 public:
  // Compiles spec over the built-in layer. base_key: the HMAC base key when the file
  // sets none (DATA_DIR/redaction.key). Errors name origin and line, never a value.
  static Result<std::shared_ptr<const Policy>> Compile(const PolicySpec& spec, std::string_view base_key,
                                                       const std::string& origin);
  // The built-in policy alone (no file).
  static Result<std::shared_ptr<const Policy>> Builtin(std::string_view base_key);

  const ProjectPolicy& For(std::string_view project) const;
  size_t project_sections() const { return projects_.size(); }
  // The policy of projects without a section of their own.
  const ProjectPolicy& defaults() const { return *default_; }
  // The projects with a section of their own, sorted.
  std::vector<std::string> project_names() const {
    std::vector<std::string> out;
    for (const auto& p : projects_) out.push_back(p.first);
    return out;
  }

 private:
  std::shared_ptr<const ProjectPolicy> default_;
  std::map<std::string, std::shared_ptr<const ProjectPolicy>, std::less<>> projects_;
};

// Redacts one ResourceSpans of `project` in place: resource and scope attributes,
// and every span's name, status message, trace state, attributes, events and links.
// Ids, times and attribute keys are left alone. True when anything was changed or
// removed (false: every byte of rs is as it was).
bool RedactResourceSpans(const ProjectPolicy& policy, std::string_view project,
                         ::opentelemetry::proto::trace::v1::ResourceSpans* rs, Counts* counts);

// The truncated hex HMAC-SHA256 of value under key.
std::string HmacHex(std::string_view key, std::string_view value, int hex_chars);

}  // namespace sightline::pipeline::redaction
