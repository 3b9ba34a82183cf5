// The redaction policy file (DATA_DIR/redaction.toml, docs/redaction.md) as parsed,
// before compilation: which detectors run with which action, custom patterns,
// attribute key rules and the hash settings, for all projects and per project.
//
// Layers: the built-in defaults (credential detectors mask, personal-data detectors
// off, a few key rules), then the file's top level, then a project's section. A
// detector's action or a custom rule of the same name in a later layer replaces the
// earlier one; key rules of every layer apply, the most specific layer first.
//
// Errors name the file and line and never quote a value from the file (a pattern or a
// key may itself be a secret).
//
// Thread-safety: plain values.
#pragma once

#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "common/status.h"

namespace sightline::pipeline::redaction {

enum class Action { kOff, kMask, kDrop, kHash };
std::string_view ActionName(Action a);

struct CustomRule {
  std::string name;     // [a-z0-9_]{1,32}: the label in masks and metrics
  std::string pattern;  // Hyperscan (PCRE subset) syntax
  bool ignore_case = false;
  Action action = Action::kMask;
  int line = 0;  // where it was defined, for compile errors
};

// Attribute keys by glob. keep: stored as sent, not scanned. drop: removed. mask /
// hash: the whole value replaced. Within one layer drop wins over hash, hash over
// mask, mask over keep.
struct KeyRules {
  std::vector<std::string> keep, drop, mask, hash;
  bool empty() const { return keep.empty() && drop.empty() && mask.empty() && hash.empty(); }
};

// One layer: the top level of the file, or one project's section.
struct PolicyLayer {
  std::map<std::string, Action> detectors;  // built-in detector name -> action
  std::vector<CustomRule> custom;
  KeyRules attributes;
  std::optional<std::string> hash_key;  // the HMAC key (for a project: its own)
  std::optional<int> hash_length;       // hex characters kept, 8..64
};

struct PolicySpec {
  PolicyLayer defaults;                         // applies to every project
  std::map<std::string, PolicyLayer> projects;  // per-project overrides
};

// The built-in layer under every policy (also what applies with no file).
const PolicyLayer& BuiltinLayer();

// Parses a policy document. origin names it in errors ("redaction.toml:12: ...").
Result<PolicySpec> ParsePolicy(std::string_view toml_text, const std::string& origin);

}  // namespace sightline::pipeline::redaction
