#include "pipeline/redaction_describe.h"

#include <rapidjson/stringbuffer.h>
#include <rapidjson/writer.h>

#include "pipeline/redaction_detectors.h"

namespace sightline::pipeline::redaction {
namespace {

using Writer = rapidjson::Writer<rapidjson::StringBuffer>;

void Str(Writer& w, std::string_view s) { w.String(s.data(), static_cast<rapidjson::SizeType>(s.size())); }

void Globs(Writer& w, const char* key, const std::vector<std::string>& globs) {
  w.Key(key);
  w.StartArray();
  for (const auto& g : globs) Str(w, g);
  w.EndArray();
}

void Project(Writer& w, const ProjectPolicy& p) {
  w.StartObject();
  w.Key("rules");
  w.StartArray();
  for (const Rule& r : p.rules()) {
    if (r.name == "attribute") continue;
    w.StartObject();
    w.Key("name");
    Str(w, r.name);
    w.Key("kind");
    Str(w, r.detector ? "detector" : "custom");
    if (r.detector) {
      w.Key("class");
      Str(w, r.detector->klass == DetectorClass::kCredential ? "credential" : "personal");
    }
    w.Key("action");
    Str(w, ActionName(r.action));
    w.EndObject();
  }
  // Detectors switched off are not compiled into the rules: listed as off.
  for (const Detector& d : BuiltinDetectors()) {
    bool on = false;
    for (const Rule& r : p.rules()) on |= r.detector == &d;
    if (on) continue;
    w.StartObject();
    w.Key("name");
    Str(w, d.name);
    w.Key("kind");
    Str(w, "detector");
    w.Key("class");
    Str(w, d.klass == DetectorClass::kCredential ? "credential" : "personal");
    w.Key("action");
    Str(w, "off");
    w.EndObject();
  }
  w.EndArray();
  w.Key("attributes");
  w.StartArray();
  for (const KeyRules& k : p.key_layers()) {
    w.StartObject();
    Globs(w, "keep", k.keep);
    Globs(w, "drop", k.drop);
    Globs(w, "mask", k.mask);
    Globs(w, "hash", k.hash);
    w.EndObject();
  }
  w.EndArray();
  w.Key("hash_length");
  w.Int(p.hash_length());
  w.Key("hash_key");
  Str(w, p.key_source());
  w.EndObject();
}

void ProjectText(std::string* out, const ProjectPolicy& p) {
  std::string off;
  for (const Rule& r : p.rules()) {
    if (r.name == "attribute") continue;
    if (r.action == Action::kOff) {
      off += (off.empty() ? "" : ", ") + r.name;
      continue;
    }
    *out += "    " + std::string(ActionName(r.action)) + "\t" + r.name +
            (r.detector ? (r.detector->klass == DetectorClass::kCredential ? " (credential detector)" : " (personal-data detector)")
                        : " (custom pattern)") +
            "\n";
  }
  for (const Detector& d : BuiltinDetectors()) {
    bool on = false;
    for (const Rule& r : p.rules()) on |= r.detector == &d;
    if (!on) off += (off.empty() ? "" : ", ") + std::string(d.name);
  }
  if (!off.empty()) *out += "    off\t" + off + "\n";
  int layer = 0;
  for (const KeyRules& k : p.key_layers()) {
    ++layer;
    auto list = [&](const char* what, const std::vector<std::string>& g) {
      if (g.empty()) return;
      *out += "    keys " + std::string(what) + " (layer " + std::to_string(layer) + "):";
      for (const auto& x : g) *out += " " + x;
      *out += "\n";
    };
    list("drop", k.drop);
    list("hash", k.hash);
    list("mask", k.mask);
    list("keep", k.keep);
  }
  *out += "    hash: " + std::to_string(p.hash_length()) + " hex digits, key from " + std::string(p.key_source()) + "\n";
}

}  // namespace

std::string DescribePolicyJson(const Policy& policy) {
  rapidjson::StringBuffer b;
  Writer w(b);
  w.StartObject();
  w.Key("default");
  Project(w, policy.defaults());
  w.Key("projects");
  w.StartObject();
  for (const auto& name : policy.project_names()) {
    Str(w, name);
    Project(w, policy.For(name));
  }
  w.EndObject();
  w.EndObject();
  return std::string(b.GetString(), b.GetSize());
}

std::string DescribePolicyText(const Policy& policy) {
  std::string out = "every project without its own section:\n";
  ProjectText(&out, policy.defaults());
  for (const auto& name : policy.project_names()) {
    out += "project " + name + ":\n";
    ProjectText(&out, policy.For(name));
  }
  return out;
}

}  // namespace sightline::pipeline::redaction
