// Server configuration for `sightline serve`: every setting, where it may come from,
// and its validation. Precedence (SPEC "Ports and start-up"): command-line flag, then
// SIGHTLINE_* environment variable, then sightline.toml (--config FILE, else
// ./sightline.toml when present), then the default. Invalid configuration fails at
// start-up with a message naming the setting and where its value came from.
//
// Thread-safety: pure functions over their inputs.
#pragma once

#include <cstddef>
#include <cstdint>
#include <functional>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "common/status.h"
#include "pipeline/agent_metrics.h"
#include "store/retention/retention_policy.h"
#include "store/sampling/sampling_policy.h"

namespace sightline::cli {

// [rollups] of the TOML file (docs/architecture.md "Rollups"), and --no-rollups.
struct RollupSettings {
  bool enabled = true;
  int minute_window_hours = 6;   // minute buckets older than this fold into hours
  int hour_window_days = 35;     // hour buckets older than this fold into days
  int max_tuples_per_bucket = 20000;  // past it the bucket overflows and its queries scan
};

// [metrics] of the TOML file (docs/api.md "The agents' own metrics"): per bounded label
// of the agents' metrics on /metrics (project, agent, tool, model), the only values
// kept; any other value is counted as "other". A label without a list keeps its first
// metrics_label_limit values.
//   [metrics.label_allowlist]
//   agent = ["planner", "coder"]
struct MetricsSettings {
  std::map<std::string, std::vector<std::string>> label_allowlist;  // label -> values
};

struct ServerConfig {
  std::string http = "127.0.0.1:4318";
  std::string grpc = "127.0.0.1:4317";  // "off": no gRPC receiver
  std::string data = "./sightline-data";
  std::string fsync = "batch";  // batch | always | never
  uint64_t max_request_bytes = uint64_t{64} << 20;
  uint64_t max_attribute_bytes = uint64_t{4} << 20;
  uint64_t queue_limit_bytes = uint64_t{256} << 20;
  uint64_t memtable_limit_bytes = uint64_t{128} << 20;
  uint64_t block_cache_bytes = uint64_t{256} << 20;
  int metrics_label_limit = 100;  // per label of the agents' metrics on /metrics
  int http_threads = 2;
  // Slow-hash credential checks (API keys, tokens, logins) at once; more are refused
  // with 503 / UNAVAILABLE (docs/auth.md, "Slow hashes are capped").
  int auth_max_verifications = 2;
  // The built web UI (index.html + assets/). Empty: the `ui` folder beside the
  // binary, when there is one; otherwise / shows a plain page about the API.
  std::string ui_dir;
  // The user's price catalogue (docs/pricing.md), re-read live. Empty: DATA/pricing.toml
  // (absent is fine); named explicitly, it must exist.
  std::string pricing_file;
  // The redaction policy (docs/redaction.md), re-read live. Empty: DATA/redaction.toml
  // (absent: the built-in policy); named explicitly, it must exist.
  std::string redaction_file;
  // Allows serving on a non-loopback address while no API key or user exists, i.e.
  // with no authentication at all (docs/auth.md, "Defaults"). A flag: --insecure.
  bool insecure = false;
  // The Ed25519 key that signs the audit trail's HEAD and ANCHOR (docs/audit.md,
  // "Signed head"); kept outside the data directory. Empty: unsigned. TOML:
  // [audit] signing_key.
  std::string audit_signing_key;
  // Reverse proxies (CIDR list) whose X-Forwarded-For the login rate limit believes
  // (docs/auth.md, "Behind a proxy"). Empty: none.
  std::string trusted_proxy;
  // TLS on both listeners (docs/tls.md): the certificate chain and its key (PEM), both
  // or neither; re-read on change. tls_client_ca: clients must present a certificate
  // signed by it (mutual TLS); needs tls_cert.
  std::string tls_cert;
  std::string tls_key;
  std::string tls_client_ca;
  bool tls() const { return !tls_cert.empty(); }
  std::string config_file;  // the TOML file read, empty when none
  // [retention] of the TOML file (docs/retention.md); TOML only, no flags.
  store::retention::RetentionOptions retention;
  // [sampling] of the TOML file (docs/sampling.md): tail sampling per project.
  store::sampling::SamplingOptions sampling;
  RollupSettings rollups;
  MetricsSettings metrics;
};

// The agents' metrics options the configuration asks for (label limit, allowlists).
pipeline::AgentMetricsOptions AgentMetricsOptionsOf(const ServerConfig& cfg);

// One setting: its TOML key, flag and environment variable.
struct SettingInfo {
  std::string key;   // "max_request_bytes" (TOML key)
  std::string flag;  // "--max-request-bytes"
  std::string env;   // "SIGHTLINE_MAX_REQUEST_BYTES"
  std::string help;
};
const std::vector<SettingInfo>& ServerSettings();

struct ConfigSources {
  std::map<std::string, std::string> flags;  // key -> value, for flags given
  // Looks up an environment variable (std::getenv in production).
  std::function<std::optional<std::string>(const std::string&)> getenv;
  std::string config_path;  // --config or SIGHTLINE_CONFIG; empty: ./sightline.toml if present
  bool no_rollups = false;  // --no-rollups (or SIGHTLINE_NO_ROLLUPS=1): wins over [rollups] enabled
};

// InvalidArgument naming the setting when a value is invalid, an unknown key is in
// the TOML file, or an explicitly named config file cannot be read.
Result<ServerConfig> LoadServerConfig(const ConfigSources& sources);
// The TOML file's settings alone (no flags, no environment), origin naming it in
// errors; for tests and the config fuzzer.
Result<ServerConfig> ParseServerConfigText(std::string_view text, const std::string& origin);

// DATA/sampling.toml (docs/sampling.md "Changing the policy while running"): a
// [sampling] table with the keys of sightline.toml's, the whole policy while the file
// exists. InvalidArgument naming the file, line or key for anything else.
Status ParseSamplingFile(std::string_view text, const std::string& path, store::sampling::SamplingOptions* out);

// "64MiB", "4M", "1048576", "512KiB", "1G" -> bytes.
std::optional<uint64_t> ParseByteSize(const std::string& text);

}  // namespace sightline::cli
