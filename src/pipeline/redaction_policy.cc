#include "pipeline/redaction_policy.h"

#include <toml++/toml.h>

#include <cctype>

#include "common/toml_guard.h"
#include "pipeline/redaction_detectors.h"

namespace sightline::pipeline::redaction {
namespace {

constexpr size_t kMaxProjects = 1000;
constexpr size_t kMaxCustomRules = 200;
constexpr size_t kMaxGlobs = 1000;
constexpr size_t kMaxPatternBytes = 4096;

int LineOf(const toml::node& n) { return static_cast<int>(n.source().begin.line); }

Status Bad(const std::string& origin, int line, const std::string& what) {
  return Status::InvalidArgument(origin + ":" + std::to_string(line) + ": " + what);
}

std::optional<Action> ParseAction(std::string_view s) {
  if (s == "off") return Action::kOff;
  if (s == "mask") return Action::kMask;
  if (s == "drop") return Action::kDrop;
  if (s == "hash") return Action::kHash;
  return std::nullopt;
}

bool ValidRuleName(std::string_view s) {
  if (s.empty() || s.size() > 32) return false;
  for (char c : s)
    if (!(std::islower(static_cast<unsigned char>(c)) || std::isdigit(static_cast<unsigned char>(c)) || c == '_'))
      return false;
  return true;
}

Status ReadAction(const toml::node& n, const std::string& origin, const std::string& where, Action* out) {
  auto s = n.value<std::string>();
  std::optional<Action> a = s ? ParseAction(*s) : std::nullopt;
  if (!a) return Bad(origin, LineOf(n), where + ": must be one of \"mask\", \"drop\", \"hash\", \"off\"");
  *out = *a;
  return Status::OK();
}

Status ReadDetectors(const toml::node& n, const std::string& origin, const std::string& where, PolicyLayer* layer) {
  const toml::table* t = n.as_table();
  if (!t) return Bad(origin, LineOf(n), where + ": must be a table of detector = action");
  for (const auto& [k, v] : *t) {
    std::string name(k.str());
    if (!FindDetector(name)) {
      std::string known;
      for (const Detector& d : BuiltinDetectors()) known += (known.empty() ? "" : ", ") + std::string(d.name);
      return Bad(origin, LineOf(v), where + ": unknown detector `" + name + "` (known: " + known + ")");
    }
    Action a;
    SL_RETURN_IF_ERROR(ReadAction(v, origin, where + "." + name, &a));
    layer->detectors[name] = a;
  }
  return Status::OK();
}

Status ReadGlobs(const toml::node& n, const std::string& origin, const std::string& where,
                 std::vector<std::string>* out) {
  const toml::array* a = n.as_array();
  if (!a) return Bad(origin, LineOf(n), where + ": must be an array of key patterns");
  for (const auto& e : *a) {
    auto s = e.value<std::string>();
    if (!s || s->empty()) return Bad(origin, LineOf(e), where + ": every entry must be a non-empty string");
    if (out->size() >= kMaxGlobs) return Bad(origin, LineOf(e), where + ": more than 1000 patterns");
    out->push_back(*s);
  }
  return Status::OK();
}

Status ReadAttributes(const toml::node& n, const std::string& origin, const std::string& where, KeyRules* rules) {
  const toml::table* t = n.as_table();
  if (!t) return Bad(origin, LineOf(n), where + ": must be a table with keep, drop, mask or hash lists");
  for (const auto& [k, v] : *t) {
    std::string key(k.str());
    std::vector<std::string>* list = key == "keep"   ? &rules->keep
                                     : key == "drop" ? &rules->drop
                                     : key == "mask" ? &rules->mask
                                     : key == "hash" ? &rules->hash
                                                     : nullptr;
    if (!list) return Bad(origin, LineOf(v), where + ": unknown list `" + key + "` (keep, drop, mask, hash)");
    SL_RETURN_IF_ERROR(ReadGlobs(v, origin, where + "." + key, list));
  }
  return Status::OK();
}

Status ReadCustom(const toml::node& n, const std::string& origin, const std::string& where, PolicyLayer* layer) {
  const toml::array* a = n.as_array();
  if (!a) return Bad(origin, LineOf(n), where + ": must be an array of tables ([[custom]])");
  for (const auto& e : *a) {
    const toml::table* t = e.as_table();
    if (!t) return Bad(origin, LineOf(e), where + ": every entry must be a table");
    CustomRule r;
    r.line = LineOf(e);
    for (const auto& [k, v] : *t) {
      std::string key(k.str());
      if (key == "name") {
        auto s = v.value<std::string>();
        if (!s || !ValidRuleName(*s))
          return Bad(origin, LineOf(v), where + ".name: 1 to 32 of a-z, 0-9 and _");
        if (FindDetector(*s)) return Bad(origin, LineOf(v), where + ".name: `" + *s + "` is a built-in detector");
        r.name = *s;
      } else if (key == "pattern") {
        auto s = v.value<std::string>();
        if (!s || s->empty() || s->size() > kMaxPatternBytes)
          return Bad(origin, LineOf(v), where + ".pattern: a non-empty string of at most 4096 bytes");
        r.pattern = *s;
      } else if (key == "action") {
        SL_RETURN_IF_ERROR(ReadAction(v, origin, where + ".action", &r.action));
      } else if (key == "ignore_case") {
        auto b = v.value<bool>();
        if (!b) return Bad(origin, LineOf(v), where + ".ignore_case: must be true or false");
        r.ignore_case = *b;
      } else {
        return Bad(origin, LineOf(v), where + ": unknown setting `" + key + "` (name, pattern, action, ignore_case)");
      }
    }
    if (r.name.empty()) return Bad(origin, r.line, where + ": a custom rule needs a name");
    if (r.pattern.empty()) return Bad(origin, r.line, where + " `" + r.name + "`: needs a pattern");
    for (const CustomRule& other : layer->custom)
      if (other.name == r.name) return Bad(origin, r.line, where + ": `" + r.name + "` is defined twice");
    if (layer->custom.size() >= kMaxCustomRules) return Bad(origin, r.line, where + ": more than 200 custom rules");
    layer->custom.push_back(std::move(r));
  }
  return Status::OK();
}

Status ReadHash(const toml::node& n, const std::string& origin, const std::string& where, PolicyLayer* layer) {
  const toml::table* t = n.as_table();
  if (!t) return Bad(origin, LineOf(n), where + ": must be a table (key, length)");
  for (const auto& [k, v] : *t) {
    std::string key(k.str());
    if (key == "key") {
      auto s = v.value<std::string>();
      if (!s || s->size() < 16) return Bad(origin, LineOf(v), where + ".key: a string of at least 16 characters");
      layer->hash_key = *s;
    } else if (key == "length") {
      auto i = v.value<int64_t>();
      if (!i || *i < 8 || *i > 64) return Bad(origin, LineOf(v), where + ".length: an integer from 8 to 64");
      layer->hash_length = static_cast<int>(*i);
    } else {
      return Bad(origin, LineOf(v), where + ": unknown setting `" + key + "` (key, length)");
    }
  }
  return Status::OK();
}

// The settings a layer may hold; `projects` only at the top.
Status ReadLayer(const toml::table& t, const std::string& origin, const std::string& where, bool top,
                 PolicySpec* spec, PolicyLayer* layer) {
  for (const auto& [k, v] : t) {
    std::string key(k.str());
    std::string here = where.empty() ? key : where + "." + key;
    if (key == "detectors") {
      SL_RETURN_IF_ERROR(ReadDetectors(v, origin, here, layer));
    } else if (key == "attributes") {
      SL_RETURN_IF_ERROR(ReadAttributes(v, origin, here, &layer->attributes));
    } else if (key == "custom") {
      SL_RETURN_IF_ERROR(ReadCustom(v, origin, here, layer));
    } else if (key == "hash") {
      SL_RETURN_IF_ERROR(ReadHash(v, origin, here, layer));
    } else if (top && key == "version") {
      auto i = v.value<int64_t>();
      if (!i || *i != 1) return Bad(origin, LineOf(v), "version: this Sightline reads version 1");
    } else if (top && key == "projects") {
      const toml::table* pt = v.as_table();
      if (!pt) return Bad(origin, LineOf(v), "projects: must be a table of [projects.NAME] sections");
      for (const auto& [pk, pv] : *pt) {
        std::string project(pk.str());
        const toml::table* section = pv.as_table();
        if (!section) return Bad(origin, LineOf(pv), "projects." + project + ": must be a table");
        if (spec->projects.size() >= kMaxProjects) return Bad(origin, LineOf(pv), "more than 1000 projects");
        PolicyLayer& pl = spec->projects[project];
        SL_RETURN_IF_ERROR(ReadLayer(*section, origin, "projects." + project, false, spec, &pl));
      }
    } else {
      return Bad(origin, LineOf(v),
                 "unknown setting `" + here + "` (detectors, attributes, custom, hash" +
                     (top ? std::string(", projects, version") : std::string()) + ")");
    }
  }
  return Status::OK();
}

PolicyLayer MakeBuiltin() {
  PolicyLayer l;
  for (const Detector& d : BuiltinDetectors())
    l.detectors[d.name] = d.klass == DetectorClass::kCredential ? Action::kMask : Action::kOff;
  // Keys whose whole value is a credential whatever it looks like.
  l.attributes.mask = {"*password", "*passwd", "*api_key", "*api-key", "*apikey", "*authorization", "*cookie",
                       "*secret_key", "*access_token", "*refresh_token", "*client_secret"};
  // The project name picks the policy: never rewritten.
  l.attributes.keep = {"openinference.project.name"};
  l.hash_length = 12;
  return l;
}

}  // namespace

std::string_view ActionName(Action a) {
  switch (a) {
    case Action::kOff: return "off";
    case Action::kMask: return "mask";
    case Action::kDrop: return "drop";
    case Action::kHash: return "hash";
  }
  return "off";
}

const PolicyLayer& BuiltinLayer() {
  static const PolicyLayer* builtin = new PolicyLayer(MakeBuiltin());
  return *builtin;
}

Result<PolicySpec> ParsePolicy(std::string_view toml_text, const std::string& origin) {
  SL_RETURN_IF_ERROR(CheckTomlText(toml_text, origin));
  toml::table doc;
  try {
    doc = toml::parse(toml_text, origin);
  } catch (const toml::parse_error& e) {
    return Status::InvalidArgument(origin + ":" + std::to_string(e.source().begin.line) + ":" +
                                   std::to_string(e.source().begin.column) + ": not valid TOML: " +
                                   UnquotedTomlError(e.description()));
  }
  PolicySpec spec;
  SL_RETURN_IF_ERROR(ReadLayer(doc, origin, "", true, &spec, &spec.defaults));
  return spec;
}

}  // namespace sightline::pipeline::redaction
