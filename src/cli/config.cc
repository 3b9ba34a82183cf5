#include "cli/config.h"

#include <cctype>
#include <charconv>
#include <cmath>
#include <filesystem>

#include <toml++/toml.h>

#include "common/env.h"
#include "common/toml_guard.h"

#include "api/client_address.h"

namespace sightline::cli {
namespace {

constexpr char kDefaultConfigFile[] = "sightline.toml";

Status Invalid(const SettingInfo& s, const std::string& source, const std::string& value, const std::string& why) {
  return Status::InvalidArgument("invalid " + s.key + " \"" + value + "\" (from " + source + "): " + why);
}

// Applies one raw value to cfg, validating it.
Status Apply(const SettingInfo& s, const std::string& source, const std::string& v, ServerConfig* cfg) {
  if (s.key == "http" || s.key == "grpc") {
    if (s.key == "grpc" && (v == "off" || v.empty())) {
      cfg->grpc = "off";
      return Status::OK();
    }
    std::string host;
    int port = 0;
    Status st = api::ParseHostPort(v, &host, &port);
    if (!st.ok()) return Invalid(s, source, v, st.message());
    (s.key == "http" ? cfg->http : cfg->grpc) = v;
    return Status::OK();
  }
  if (s.key == "data") {
    if (v.empty()) return Invalid(s, source, v, "must name a directory");
    cfg->data = v;
    return Status::OK();
  }
  if (s.key == "ui_dir") {
    std::error_code ec;
    if (v.empty()) return Invalid(s, source, v, "must name a directory");
    if (!std::filesystem::is_directory(v, ec)) return Invalid(s, source, v, "no such directory");
    if (!std::filesystem::is_regular_file(std::filesystem::path(v) / "index.html", ec))
      return Invalid(s, source, v, "no index.html in it (build the UI with scripts/build-ui.sh)");
    cfg->ui_dir = v;
    return Status::OK();
  }
  if (s.key == "pricing_file") {
    std::error_code ec;
    if (v.empty()) return Invalid(s, source, v, "must name a file");
    if (!std::filesystem::is_regular_file(v, ec))
      return Invalid(s, source, v, "no such file (leave it unset to use DATA/pricing.toml when present)");
    cfg->pricing_file = v;
    return Status::OK();
  }
  if (s.key == "redaction_file") {
    std::error_code ec;
    if (v.empty()) return Invalid(s, source, v, "must name a file");
    if (!std::filesystem::is_regular_file(v, ec))
      return Invalid(s, source, v, "no such file (leave it unset to use DATA/redaction.toml when present)");
    cfg->redaction_file = v;
    return Status::OK();
  }
  if (s.key == "tls_cert" || s.key == "tls_key" || s.key == "tls_client_ca") {
    // The content is checked when the server loads it (exit 2 naming the file and the
    // problem); here only that it names a file.
    std::error_code ec;
    if (v.empty()) return Invalid(s, source, v, "must name a PEM file");
    if (!std::filesystem::exists(v, ec)) return Invalid(s, source, v, "no such file");
    if (std::filesystem::is_directory(v, ec)) return Invalid(s, source, v, "is a directory, not a PEM file");
    (s.key == "tls_cert" ? cfg->tls_cert : s.key == "tls_key" ? cfg->tls_key : cfg->tls_client_ca) = v;
    return Status::OK();
  }
  if (s.key == "insecure") {
    if (v == "true" || v == "1" || v == "yes") cfg->insecure = true;
    else if (v == "false" || v == "0" || v == "no" || v.empty()) cfg->insecure = false;
    else return Invalid(s, source, v, "expected true or false");
    return Status::OK();
  }
  if (s.key == "audit_signing_key") {
    std::error_code ec;
    if (v.empty()) return Invalid(s, source, v, "must name a file");
    if (!std::filesystem::is_regular_file(v, ec))
      return Invalid(s, source, v, "no such file (make one with `sightline audit keygen --out FILE`)");
    cfg->audit_signing_key = v;
    return Status::OK();
  }
  if (s.key == "trusted_proxy") {
    auto nets = api::ParseNetworks(v);
    if (!nets.ok()) return Invalid(s, source, v, nets.status().message());
    cfg->trusted_proxy = v;
    return Status::OK();
  }
  if (s.key == "fsync") {
    if (v != "batch" && v != "always" && v != "never") return Invalid(s, source, v, "expected batch, always or never");
    cfg->fsync = v;
    return Status::OK();
  }
  // Whole-number settings: the field and its allowed range.
  struct IntSetting {
    const char* key;
    int ServerConfig::*field;
    int min, max;
  };
  static const IntSetting kInts[] = {{"http_threads", &ServerConfig::http_threads, 1, 256},
                                     {"metrics_label_limit", &ServerConfig::metrics_label_limit, 1, 100000},
                                     {"auth_max_verifications", &ServerConfig::auth_max_verifications, 1, 64}};
  for (const IntSetting& is : kInts) {
    if (s.key != is.key) continue;
    int n = 0;
    auto [p, ec] = std::from_chars(v.data(), v.data() + v.size(), n);
    if (ec != std::errc() || p != v.data() + v.size() || n < is.min || n > is.max)
      return Invalid(s, source, v,
                     "expected an integer from " + std::to_string(is.min) + " to " + std::to_string(is.max));
    cfg->*is.field = n;
    return Status::OK();
  }
  auto bytes = ParseByteSize(v);
  if (bytes && *bytes == 0 && s.key == "block_cache_bytes") {  // 0: no decoded-block cache
    cfg->block_cache_bytes = 0;
    return Status::OK();
  }
  if (!bytes || *bytes == 0) return Invalid(s, source, v, "expected a positive size such as 67108864, 64MiB or 4M");
  if (s.key == "max_request_bytes") {
    // gRPC's message limit is an int.
    if (*bytes > 0x7fffffffu) return Invalid(s, source, v, "must be under 2 GiB");
    cfg->max_request_bytes = *bytes;
  } else if (s.key == "max_attribute_bytes") {
    cfg->max_attribute_bytes = *bytes;
  } else if (s.key == "queue_limit_bytes") {
    cfg->queue_limit_bytes = *bytes;
  } else if (s.key == "memtable_limit_bytes") {
    cfg->memtable_limit_bytes = *bytes;
  } else if (s.key == "block_cache_bytes") {
    cfg->block_cache_bytes = *bytes;
  }
  return Status::OK();
}

// One retention duration: days (an integer >= 0) or "forever".
Status RetentionDays(const std::string& path, const std::string& where, const toml::node& node, int64_t* out) {
  if (auto i = node.value<int64_t>(); i && *i >= 0) {
    *out = *i;
    return Status::OK();
  }
  if (auto t = node.value<std::string>(); t && *t == "forever") {
    *out = store::retention::kForever;
    return Status::OK();
  }
  return Status::InvalidArgument("config file " + path + ": " + where + " must be a number of days >= 0 or \"forever\"");
}

Status RetentionPolicyToml(const std::string& path, const std::string& where, const toml::table& t,
                           store::retention::RetentionPolicy* p, store::retention::RetentionOptions* opts) {
  for (const auto& [k, node] : t) {
    std::string key(k.str());
    std::string name = where + "." + key;
    if (key == "full_days") {
      SL_RETURN_IF_ERROR(RetentionDays(path, name, node, &p->full_days));
    } else if (key == "failed_days") {
      SL_RETURN_IF_ERROR(RetentionDays(path, name, node, &p->failed_days));
    } else if (key == "summary_days") {
      SL_RETURN_IF_ERROR(RetentionDays(path, name, node, &p->summary_days));
    } else if (opts && key == "partition_hours") {
      auto h = node.value<int64_t>();
      if (!h || *h < 1 || *h > 24 * 366)
        return Status::InvalidArgument("config file " + path + ": " + name + " must be hours from 1 to 8784");
      opts->partition_width_ns = *h * 3600 * int64_t{1000000000};
    } else if (opts && key == "projects" && node.is_table()) {
      for (const auto& [pk, pnode] : *node.as_table()) {
        std::string project(pk.str());
        if (!pnode.is_table())
          return Status::InvalidArgument("config file " + path + ": " + name + "." + project + " must be a table");
        store::retention::RetentionPolicy pp = opts->default_policy;
        SL_RETURN_IF_ERROR(RetentionPolicyToml(path, name + "." + project, *pnode.as_table(), &pp, nullptr));
        opts->projects[project] = pp;
      }
    } else {
      return Status::InvalidArgument("config file " + path + ": unknown setting \"" + name + "\"");
    }
  }
  return Status::OK();
}

// [retention]: the default policy's keys, partition_hours, and [retention.projects.NAME]
// overrides (which start from the default policy, whatever the key order).
Status RetentionToml(const std::string& path, const toml::node& node, store::retention::RetentionOptions* opts) {
  if (!node.is_table()) return Status::InvalidArgument("config file " + path + ": retention must be a table");
  toml::table defaults, projects;
  for (const auto& [k, n] : *node.as_table()) {
    if (k.str() == "projects") {
      projects.insert(k, n);
    } else {
      defaults.insert(k, n);
    }
  }
  SL_RETURN_IF_ERROR(RetentionPolicyToml(path, "retention", defaults, &opts->default_policy, opts));
  SL_RETURN_IF_ERROR(RetentionPolicyToml(path, "retention", projects, &opts->default_policy, opts));
  Status s = opts->Validate();
  if (!s.ok()) return Status::InvalidArgument("config file " + path + ": " + s.message());
  return Status::OK();
}

// One [sampling] policy's keys (docs/sampling.md).
Status SamplingPolicyToml(const std::string& path, const std::string& where, const toml::table& t,
                          store::sampling::SamplingPolicy* p, store::sampling::SamplingOptions* opts) {
  for (const auto& [k, node] : t) {
    std::string key(k.str());
    std::string name = where + "." + key;
    const toml::node& n = node;
    auto seconds = [&path, &name, &n](int64_t* ms) -> Status {
      auto v = n.value<double>();
      if (!v || *v < 0 || *v > 365.0 * 86400)
        return Status::InvalidArgument("config file " + path + ": " + name + " must be seconds (>= 0)");
      *ms = static_cast<int64_t>(*v * 1000);
      return Status::OK();
    };
    if (key == "keep_fraction") {
      auto v = node.value<double>();
      if (!v || !(*v >= 0 && *v <= 1))
        return Status::InvalidArgument("config file " + path + ": " + name + " must be a number from 0 to 1");
      p->keep_fraction = *v;
    } else if (key == "quiet_seconds") {
      SL_RETURN_IF_ERROR(seconds(&p->quiet_ms));
    } else if (key == "timeout_seconds") {
      SL_RETURN_IF_ERROR(seconds(&p->timeout_ms));
    } else if (key == "flag_score_below") {
      auto v = node.value<double>();
      if (!v || !std::isfinite(*v))
        return Status::InvalidArgument("config file " + path + ": " + name + " must be a number");
      p->flag_score_below = *v;
    } else if (opts && key == "projects" && node.is_table()) {
      for (const auto& [pk, pnode] : *node.as_table()) {
        std::string project(pk.str());
        if (!pnode.is_table())
          return Status::InvalidArgument("config file " + path + ": " + name + "." + project + " must be a table");
        store::sampling::SamplingPolicy pp = opts->defaults;
        SL_RETURN_IF_ERROR(SamplingPolicyToml(path, name + "." + project, *pnode.as_table(), &pp, nullptr));
        opts->projects[project] = pp;
      }
    } else {
      return Status::InvalidArgument("config file " + path + ": unknown setting \"" + name + "\"");
    }
  }
  return Status::OK();
}

// [sampling]: the default policy, then [sampling.projects.NAME] overrides starting from it.
Status SamplingToml(const std::string& path, const toml::node& node, store::sampling::SamplingOptions* opts) {
  if (!node.is_table()) return Status::InvalidArgument("config file " + path + ": sampling must be a table");
  toml::table defaults, projects;
  for (const auto& [k, n] : *node.as_table()) {
    if (k.str() == "projects") {
      projects.insert(k, n);
    } else {
      defaults.insert(k, n);
    }
  }
  SL_RETURN_IF_ERROR(SamplingPolicyToml(path, "sampling", defaults, &opts->defaults, opts));
  SL_RETURN_IF_ERROR(SamplingPolicyToml(path, "sampling", projects, &opts->defaults, opts));
  Status s = opts->Validate();
  if (!s.ok()) return Status::InvalidArgument("config file " + path + ": " + s.message());
  return Status::OK();
}

// [rollups]: enabled, minute_window_hours, hour_window_days, max_tuples_per_bucket.
Status RollupsToml(const std::string& path, const toml::node& node, RollupSettings* r) {
  const toml::table* t = node.as_table();
  if (!t) return Status::InvalidArgument("config file " + path + ": rollups must be a table");
  struct IntKey {
    const char* key;
    int RollupSettings::*field;
    int min, max;
  };
  static const IntKey kKeys[] = {{"minute_window_hours", &RollupSettings::minute_window_hours, 1, 24 * 366},
                                 {"hour_window_days", &RollupSettings::hour_window_days, 1, 3660},
                                 {"max_tuples_per_bucket", &RollupSettings::max_tuples_per_bucket, 1, 10000000}};
  for (const auto& [k, v] : *t) {
    const std::string key(k.str());
    if (key == "enabled") {
      auto b = v.is_boolean() ? v.value<bool>() : std::nullopt;
      if (!b) return Status::InvalidArgument("config file " + path + ": rollups.enabled must be true or false");
      r->enabled = *b;
      continue;
    }
    const IntKey* found = nullptr;
    for (const IntKey& ik : kKeys) found = key == ik.key ? &ik : found;
    if (!found) return Status::InvalidArgument("config file " + path + ": unknown setting \"rollups." + key + "\"");
    auto n = v.is_integer() ? v.value<int64_t>() : std::nullopt;
    if (!n || *n < found->min || *n > found->max)
      return Status::InvalidArgument("config file " + path + ": rollups." + key + " must be an integer from " +
                                     std::to_string(found->min) + " to " + std::to_string(found->max));
    r->*found->field = static_cast<int>(*n);
  }
  if (int64_t{r->hour_window_days} * 24 < r->minute_window_hours)
    return Status::InvalidArgument("config file " + path +
                                   ": rollups.hour_window_days must cover rollups.minute_window_hours");
  return Status::OK();
}

// [metrics]: label_allowlist, a table of label -> array of values.
Status MetricsToml(const std::string& path, const toml::node& node, MetricsSettings* m) {
  const toml::table* t = node.as_table();
  if (!t) return Status::InvalidArgument("config file " + path + ": metrics must be a table");
  for (const auto& [k, v] : *t) {
    const std::string key(k.str());
    if (key != "label_allowlist")
      return Status::InvalidArgument("config file " + path + ": unknown setting \"metrics." + key + "\"");
    const toml::table* lists = v.as_table();
    if (!lists)
      return Status::InvalidArgument("config file " + path +
                                     ": metrics.label_allowlist must be a table of label = [values], e.g. "
                                     "agent = [\"planner\"]");
    for (const auto& [lk, lv] : *lists) {
      const std::string label(lk.str());
      const std::string where = "metrics.label_allowlist." + label;
      if (label != "project" && label != "agent" && label != "tool" && label != "model")
        return Status::InvalidArgument("config file " + path + ": " + where +
                                       ": the labels with an allowlist are project, agent, tool and model");
      const toml::array* values = lv.as_array();
      if (!values) return Status::InvalidArgument("config file " + path + ": " + where + " must be an array of strings");
      if (values->size() > 100000)
        return Status::InvalidArgument("config file " + path + ": " + where + " has more than 100000 values");
      std::vector<std::string> out;
      for (const auto& e : *values) {
        auto str = e.value<std::string>();
        if (!e.is_string() || !str || str->empty())
          return Status::InvalidArgument("config file " + path + ": " + where + " must hold non-empty strings");
        out.push_back(*str);
      }
      m->label_allowlist[label] = std::move(out);
    }
  }
  return Status::OK();
}

// Parses the TOML text into key -> value text. Unknown keys are errors (a typo
// silently ignored is a setting silently not applied).
Status ParseToml(std::string_view text, const std::string& path, std::map<std::string, std::string>* out,
                 store::retention::RetentionOptions* retention, store::sampling::SamplingOptions* sampling,
                 RollupSettings* rollups, MetricsSettings* metrics) {
  // Inputs toml++ does not refuse cleanly are refused first (common/toml_guard.h).
  if (Status g = CheckTomlText(text, path); !g.ok()) return Status::InvalidArgument("config file " + g.message());
  toml::table table;
  try {
    table = toml::parse(text, path);
  } catch (const toml::parse_error& e) {
    const auto& where = e.source().begin;
    return Status::InvalidArgument("config file " + path + ":" + std::to_string(where.line) + ":" +
                                   std::to_string(where.column) + ": " + std::string(e.description()));
  } catch (const std::exception& e) {
    return Status::InvalidArgument("config file " + path + ": " + e.what());
  }
  for (const auto& [k, node] : table) {
    std::string key(k.str());
    if (key == "retention") {
      SL_RETURN_IF_ERROR(RetentionToml(path, node, retention));
      continue;
    }
    if (key == "sampling") {
      SL_RETURN_IF_ERROR(SamplingToml(path, node, sampling));
      continue;
    }
    if (key == "rollups") {
      SL_RETURN_IF_ERROR(RollupsToml(path, node, rollups));
      continue;
    }
    if (key == "metrics") {
      SL_RETURN_IF_ERROR(MetricsToml(path, node, metrics));
      continue;
    }
    if (key == "audit") {  // [audit] signing_key = "PATH"
      const toml::table* t = node.as_table();
      if (!t) return Status::InvalidArgument("config file " + path + ": audit must be a table");
      for (const auto& [ak, av] : *t) {
        auto v = av.value<std::string>();
        if (ak.str() != "signing_key" || !v)
          return Status::InvalidArgument("config file " + path + ": unknown setting \"audit." + std::string(ak.str()) +
                                         "\" (expected signing_key = \"PATH\")");
        (*out)["audit_signing_key"] = *v;
      }
      continue;
    }
    bool known = false;
    for (const auto& s : ServerSettings()) known = known || s.key == key;
    if (!known) return Status::InvalidArgument("config file " + path + ": unknown setting \"" + key + "\"");
    if (auto s = node.value<std::string>()) {
      (*out)[key] = *s;
    } else if (auto i = node.value<int64_t>()) {
      (*out)[key] = std::to_string(*i);
    } else if (auto b = node.value<bool>()) {
      (*out)[key] = *b ? "true" : "false";
    } else {
      return Status::InvalidArgument("config file " + path + ": setting \"" + key + "\" must be a string, an integer or a boolean");
    }
  }
  return Status::OK();
}

Status ReadToml(const std::string& path, std::map<std::string, std::string>* out,
                store::retention::RetentionOptions* retention, store::sampling::SamplingOptions* sampling,
                RollupSettings* rollups, MetricsSettings* metrics) {
  auto text = ReadFileToString(Env::Default(), path);
  if (!text.ok()) return Status::InvalidArgument("config file " + path + ": " + text.status().message());
  return ParseToml(*text, path, out, retention, sampling, rollups, metrics);
}

}  // namespace

pipeline::AgentMetricsOptions AgentMetricsOptionsOf(const ServerConfig& cfg) {
  pipeline::AgentMetricsOptions o;
  o.max_values_per_label = static_cast<size_t>(cfg.metrics_label_limit);
  for (const auto& [label, values] : cfg.metrics.label_allowlist) {
    const pipeline::LabelDim dim = label == "project" ? pipeline::LabelDim::kProject
                                   : label == "agent" ? pipeline::LabelDim::kAgent
                                   : label == "tool"  ? pipeline::LabelDim::kTool
                                                      : pipeline::LabelDim::kModel;  // validated in MetricsToml
    o.allowlist[static_cast<size_t>(dim)] = values;
  }
  return o;
}

const std::vector<SettingInfo>& ServerSettings() {
  static const std::vector<SettingInfo> kSettings = {
      {"http", "--http", "SIGHTLINE_HTTP", "HTTP listen address (OTLP/HTTP, API, UI, metrics); port 0 picks one"},
      {"grpc", "--grpc", "SIGHTLINE_GRPC", "OTLP/gRPC listen address, or \"off\"; port 0 picks one"},
      {"data", "--data", "SIGHTLINE_DATA", "Data directory"},
      {"fsync", "--fsync", "SIGHTLINE_FSYNC", "When to acknowledge: batch (group commit), always, never"},
      {"max_request_bytes", "--max-request-bytes", "SIGHTLINE_MAX_REQUEST_BYTES",
       "Largest OTLP request body after decompression"},
      {"max_attribute_bytes", "--max-attribute-bytes", "SIGHTLINE_MAX_ATTRIBUTE_BYTES",
       "Longest attribute value kept whole"},
      {"queue_limit_bytes", "--queue-limit-bytes", "SIGHTLINE_QUEUE_LIMIT_BYTES",
       "Ingest queue limit; beyond it senders get 429 / RESOURCE_EXHAUSTED"},
      {"memtable_limit_bytes", "--memtable-limit-bytes", "SIGHTLINE_MEMTABLE_LIMIT_BYTES",
       "Memtable size at which it is flushed to a segment"},
      {"block_cache_bytes", "--block-cache-bytes", "SIGHTLINE_BLOCK_CACHE_BYTES",
       "Memory for decoded segment blocks (trace reads, searches); 0 turns the cache off"},
      {"http_threads", "--http-threads", "SIGHTLINE_HTTP_THREADS", "HTTP I/O threads"},
      {"metrics_label_limit", "--metrics-label-limit", "SIGHTLINE_METRICS_LABEL_LIMIT",
       "Distinct projects, agents, tools and models each on /metrics; later ones are \"other\""},
      {"ui_dir", "--ui-dir", "SIGHTLINE_UI_DIR", "Built web UI folder (default: ui/ beside the binary)"},
      {"pricing_file", "--pricing-file", "SIGHTLINE_PRICING_FILE",
       "Your model prices, re-read on change (default: DATA/pricing.toml; docs/pricing.md)"},
      {"redaction_file", "--redaction-file", "SIGHTLINE_REDACTION_FILE",
       "Redaction policy, re-read on change (default: DATA/redaction.toml; docs/redaction.md)"},
      {"tls_cert", "--tls-cert", "SIGHTLINE_TLS_CERT",
       "TLS certificate chain (PEM) for HTTP and gRPC, re-read on change; needs --tls-key (docs/tls.md)"},
      {"tls_key", "--tls-key", "SIGHTLINE_TLS_KEY", "TLS private key (PEM, unencrypted) of --tls-cert"},
      {"tls_client_ca", "--tls-client-ca", "SIGHTLINE_TLS_CLIENT_CA",
       "CA bundle (PEM): require client certificates signed by it (mutual TLS); needs --tls-cert"},
      {"insecure", "--insecure", "SIGHTLINE_INSECURE",
       "Serve on a non-loopback address with no API key or user configured (open to anyone; docs/auth.md)"},
      {"audit_signing_key", "--audit-signing-key", "SIGHTLINE_AUDIT_SIGNING_KEY",
       "Ed25519 key that signs the audit trail's HEAD, outside the data directory (TOML [audit] signing_key; "
       "docs/audit.md)"},
      {"trusted_proxy", "--trusted-proxy", "SIGHTLINE_TRUSTED_PROXY",
       "Reverse proxies (CIDR, comma-separated) whose X-Forwarded-For the login rate limit believes (docs/auth.md)"},
      {"auth_max_verifications", "--auth-max-verifications", "SIGHTLINE_AUTH_MAX_VERIFICATIONS",
       "Slow-hash credential checks at once (default 2); more get 503 / UNAVAILABLE with Retry-After (docs/auth.md)"},
  };
  return kSettings;
}

std::optional<uint64_t> ParseByteSize(const std::string& text) {
  uint64_t n = 0;
  const char* b = text.data();
  const char* e = b + text.size();
  auto [p, ec] = std::from_chars(b, e, n);
  if (ec != std::errc() || p == b) return std::nullopt;
  std::string unit;
  for (; p != e; ++p)
    if (*p != ' ') unit += static_cast<char>(std::tolower(static_cast<unsigned char>(*p)));
  uint64_t mult = 1;
  if (unit.empty() || unit == "b") mult = 1;
  else if (unit == "k" || unit == "kb" || unit == "kib") mult = uint64_t{1} << 10;
  else if (unit == "m" || unit == "mb" || unit == "mib") mult = uint64_t{1} << 20;
  else if (unit == "g" || unit == "gb" || unit == "gib") mult = uint64_t{1} << 30;
  else return std::nullopt;
  if (n > UINT64_MAX / mult) return std::nullopt;
  return n * mult;
}

// The settings that only make sense together.
static Status CheckTlsPair(const ServerConfig& cfg) {
  if (!cfg.tls_cert.empty() && cfg.tls_key.empty())
    return Status::InvalidArgument("invalid tls_cert \"" + cfg.tls_cert +
                                   "\": needs tls_key (--tls-key, SIGHTLINE_TLS_KEY), the certificate's private key");
  if (cfg.tls_cert.empty() && !cfg.tls_key.empty())
    return Status::InvalidArgument("invalid tls_key \"" + cfg.tls_key +
                                   "\": needs tls_cert (--tls-cert, SIGHTLINE_TLS_CERT), the certificate it belongs to");
  if (cfg.tls_cert.empty() && !cfg.tls_client_ca.empty())
    return Status::InvalidArgument("invalid tls_client_ca \"" + cfg.tls_client_ca +
                                   "\": client certificates need TLS on (tls_cert and tls_key)");
  return Status::OK();
}

Result<ServerConfig> ParseServerConfigText(std::string_view text, const std::string& origin) {
  ServerConfig cfg;
  std::map<std::string, std::string> values;
  SL_RETURN_IF_ERROR(ParseToml(text, origin, &values, &cfg.retention, &cfg.sampling, &cfg.rollups, &cfg.metrics));
  cfg.config_file = origin;
  for (const auto& s : ServerSettings())
    if (auto t = values.find(s.key); t != values.end()) SL_RETURN_IF_ERROR(Apply(s, origin, t->second, &cfg));
  SL_RETURN_IF_ERROR(CheckTlsPair(cfg));
  return cfg;
}

Result<ServerConfig> LoadServerConfig(const ConfigSources& sources) {
  ServerConfig cfg;
  std::map<std::string, std::string> toml_values;
  std::string path = sources.config_path;
  if (!path.empty()) {
    std::error_code ec;
    if (!std::filesystem::is_regular_file(path, ec))
      return Status::InvalidArgument("invalid config \"" + path + "\": no such file");
    SL_RETURN_IF_ERROR(ReadToml(path, &toml_values, &cfg.retention, &cfg.sampling, &cfg.rollups, &cfg.metrics));
    cfg.config_file = path;
  } else {
    std::error_code ec;
    if (std::filesystem::is_regular_file(kDefaultConfigFile, ec)) {
      SL_RETURN_IF_ERROR(ReadToml(kDefaultConfigFile, &toml_values, &cfg.retention, &cfg.sampling, &cfg.rollups, &cfg.metrics));
      cfg.config_file = kDefaultConfigFile;
    }
  }
  for (const auto& s : ServerSettings()) {
    if (auto f = sources.flags.find(s.key); f != sources.flags.end()) {
      SL_RETURN_IF_ERROR(Apply(s, "flag " + s.flag, f->second, &cfg));
    } else if (auto v = sources.getenv ? sources.getenv(s.env) : std::nullopt) {
      SL_RETURN_IF_ERROR(Apply(s, "environment " + s.env, *v, &cfg));
    } else if (auto t = toml_values.find(s.key); t != toml_values.end()) {
      SL_RETURN_IF_ERROR(Apply(s, cfg.config_file, t->second, &cfg));
    }
  }
  if (sources.no_rollups) {
    cfg.rollups.enabled = false;
  } else if (auto v = sources.getenv ? sources.getenv("SIGHTLINE_NO_ROLLUPS") : std::nullopt) {
    if (*v != "1" && *v != "0" && *v != "true" && *v != "false")
      return Status::InvalidArgument("invalid SIGHTLINE_NO_ROLLUPS \"" + *v + "\": expected 1, 0, true or false");
    if (*v == "1" || *v == "true") cfg.rollups.enabled = false;
  }
  if (cfg.grpc != "off" && cfg.grpc == cfg.http && cfg.http.substr(cfg.http.rfind(':')) != ":0")
    return Status::InvalidArgument("invalid grpc \"" + cfg.grpc + "\": the same address as http");
  SL_RETURN_IF_ERROR(CheckTlsPair(cfg));
  return cfg;
}

Status ParseSamplingFile(std::string_view text, const std::string& path, store::sampling::SamplingOptions* out) {
  if (Status g = CheckTomlText(text, path); !g.ok()) return Status::InvalidArgument("sampling file " + g.message());
  toml::table table;
  try {
    table = toml::parse(text, path);
  } catch (const toml::parse_error& e) {
    const auto& where = e.source().begin;
    return Status::InvalidArgument("sampling file " + path + ":" + std::to_string(where.line) + ":" +
                                   std::to_string(where.column) + ": " + std::string(e.description()));
  } catch (const std::exception& e) {
    return Status::InvalidArgument("sampling file " + path + ": " + e.what());
  }
  store::sampling::SamplingOptions opts;
  for (const auto& [k, node] : table) {
    if (k.str() != "sampling")
      return Status::InvalidArgument("sampling file " + path + ": unknown setting \"" + std::string(k.str()) +
                                     "\" (the file holds a [sampling] table only)");
    SL_RETURN_IF_ERROR(SamplingToml(path, node, &opts));
  }
  *out = std::move(opts);
  return Status::OK();
}

}  // namespace sightline::cli
