#include "cli/config.h"

#include <unistd.h>

#include <filesystem>
#include <fstream>

#include <gtest/gtest.h>

namespace sightline::cli {
namespace {

class ConfigTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = std::filesystem::temp_directory_path() / ("sightline_config_test_" + std::to_string(getpid()));
    std::filesystem::create_directories(dir_);
    // Run where no ./sightline.toml exists, so the default file does not leak in.
    old_cwd_ = std::filesystem::current_path();
    std::filesystem::current_path(dir_);
  }
  void TearDown() override {
    std::filesystem::current_path(old_cwd_);
    std::filesystem::remove_all(dir_);
  }
  std::string WriteToml(const std::string& name, const std::string& text) {
    std::ofstream(dir_ / name) << text;
    return (dir_ / name).string();
  }
  ConfigSources Sources(std::map<std::string, std::string> flags = {},
                        std::map<std::string, std::string> env = {}, std::string path = "") {
    ConfigSources s;
    s.flags = std::move(flags);
    s.getenv = [env](const std::string& name) -> std::optional<std::string> {
      auto it = env.find(name);
      if (it == env.end()) return std::nullopt;
      return it->second;
    };
    s.config_path = std::move(path);
    return s;
  }
  std::filesystem::path dir_, old_cwd_;
};

TEST_F(ConfigTest, Defaults) {
  auto c = LoadServerConfig(Sources());
  ASSERT_TRUE(c.ok()) << c.status().ToString();
  EXPECT_EQ(c->http, "127.0.0.1:4318");
  EXPECT_EQ(c->grpc, "127.0.0.1:4317");
  EXPECT_EQ(c->data, "./sightline-data");
  EXPECT_EQ(c->fsync, "batch");
  EXPECT_EQ(c->max_request_bytes, 64u << 20);
  EXPECT_EQ(c->max_attribute_bytes, 4u << 20);
  EXPECT_EQ(c->http_threads, 2);
  EXPECT_EQ(c->metrics_label_limit, 100);
  EXPECT_EQ(c->auth_max_verifications, 2);
  EXPECT_TRUE(c->config_file.empty());
}

TEST_F(ConfigTest, FlagsBeatEnvBeatTomlBeatDefaults) {
  std::string path = WriteToml("a.toml", "http = \"127.0.0.1:1001\"\ngrpc = \"127.0.0.1:2001\"\n"
                                         "data = \"/toml\"\nmax_request_bytes = \"8MiB\"\nhttp_threads = 3\n"
                                         "metrics_label_limit = 20\nauth_max_verifications = 4\n");
  auto c = LoadServerConfig(Sources({{"http", "127.0.0.1:1003"}},
                                    {{"SIGHTLINE_HTTP", "127.0.0.1:1002"}, {"SIGHTLINE_GRPC", "127.0.0.1:2002"}}, path));
  ASSERT_TRUE(c.ok()) << c.status().ToString();
  EXPECT_EQ(c->http, "127.0.0.1:1003");
  EXPECT_EQ(c->grpc, "127.0.0.1:2002");
  EXPECT_EQ(c->data, "/toml");
  EXPECT_EQ(c->max_request_bytes, 8u << 20);
  EXPECT_EQ(c->http_threads, 3);
  EXPECT_EQ(c->metrics_label_limit, 20);
  EXPECT_EQ(c->auth_max_verifications, 4);
  EXPECT_EQ(c->fsync, "batch");
  EXPECT_EQ(c->config_file, path);
}

TEST_F(ConfigTest, MetricsLabelAllowlistFromToml) {
  std::string path = WriteToml("m.toml", "metrics_label_limit = 7\n[metrics.label_allowlist]\n"
                                         "agent = [\"planner\", \"coder\"]\ntool = [\"search\"]\n");
  auto c = LoadServerConfig(Sources({}, {}, path));
  ASSERT_TRUE(c.ok()) << c.status().ToString();
  auto o = AgentMetricsOptionsOf(*c);
  EXPECT_EQ(o.max_values_per_label, 7u);
  EXPECT_EQ(o.allowlist[static_cast<size_t>(pipeline::LabelDim::kAgent)], (std::vector<std::string>{"planner", "coder"}));
  EXPECT_EQ(o.allowlist[static_cast<size_t>(pipeline::LabelDim::kTool)], (std::vector<std::string>{"search"}));
  EXPECT_TRUE(o.allowlist[static_cast<size_t>(pipeline::LabelDim::kModel)].empty());
  EXPECT_TRUE(o.allowlist[static_cast<size_t>(pipeline::LabelDim::kProject)].empty());
  // (AgentMetricsTest.AllowlistKeepsOnlyItsValues: values off a list count as "other".)
  EXPECT_TRUE(AgentMetricsOptionsOf(ServerConfig{}).allowlist[static_cast<size_t>(pipeline::LabelDim::kAgent)].empty());

  for (const char* bad : {"[metrics]\nlabel_allowlist = [\"a\"]\n", "[metrics.label_allowlist]\nstatus = [\"ok\"]\n",
                          "[metrics.label_allowlist]\nagent = \"planner\"\n", "[metrics.label_allowlist]\nagent = [1]\n",
                          "[metrics.label_allowlist]\nagent = [\"\"]\n", "[metrics]\nlabel_alowlist = {}\n"}) {
    auto r = LoadServerConfig(Sources({}, {}, WriteToml("bad.toml", bad)));
    ASSERT_FALSE(r.ok()) << bad;
    EXPECT_NE(r.status().message().find("metrics."), std::string::npos) << r.status().message();
    EXPECT_NE(r.status().message().find("bad.toml"), std::string::npos) << r.status().message();
  }
}

TEST_F(ConfigTest, DefaultTomlInWorkingDirectory) {
  WriteToml("sightline.toml", "fsync = \"always\"\n");
  auto c = LoadServerConfig(Sources());
  ASSERT_TRUE(c.ok()) << c.status().ToString();
  EXPECT_EQ(c->fsync, "always");
  EXPECT_EQ(c->config_file, "sightline.toml");
}

TEST_F(ConfigTest, InvalidValuesNameTheSettingAndSource) {
  struct Case {
    ConfigSources sources;
    std::string want1, want2;
  };
  std::string bad_key = WriteToml("k.toml", "htp = \"x\"\n");
  std::string bad_syntax = WriteToml("s.toml", "http = \n");
  std::string bad_type = WriteToml("t.toml", "http_threads = 1.5\n");
  std::vector<Case> cases;
  cases.push_back({Sources({{"fsync", "sometimes"}}), "fsync", "--fsync"});
  cases.push_back({Sources({}, {{"SIGHTLINE_HTTP", "nowhere"}}), "http", "SIGHTLINE_HTTP"});
  cases.push_back({Sources({{"max_request_bytes", "lots"}}), "max_request_bytes", "--max-request-bytes"});
  cases.push_back({Sources({{"max_request_bytes", "4GiB"}}), "max_request_bytes", "2 GiB"});
  cases.push_back({Sources({{"http_threads", "0"}}), "http_threads", "--http-threads"});
  cases.push_back({Sources({{"metrics_label_limit", "0"}}), "metrics_label_limit", "--metrics-label-limit"});
  cases.push_back({Sources({}, {{"SIGHTLINE_QUEUE_LIMIT_BYTES", "0"}}), "queue_limit_bytes", "SIGHTLINE_"});
  cases.push_back({Sources({{"auth_max_verifications", "0"}}), "auth_max_verifications", "--auth-max-verifications"});
  cases.push_back({Sources({}, {{"SIGHTLINE_AUTH_MAX_VERIFICATIONS", "65"}}), "auth_max_verifications",
                   "SIGHTLINE_AUTH_MAX_VERIFICATIONS"});
  cases.push_back({Sources({}, {}, bad_key), "htp", "unknown setting"});
  cases.push_back({Sources({}, {}, bad_syntax), "s.toml", ":1:"});
  cases.push_back({Sources({}, {}, bad_type), "http_threads", "t.toml"});
  cases.push_back({Sources({}, {}, (dir_ / "missing.toml").string()), "missing.toml", "no such file"});
  cases.push_back({Sources({{"http", "127.0.0.1:5000"}, {"grpc", "127.0.0.1:5000"}}), "grpc", "same address"});
  for (const auto& c : cases) {
    auto r = LoadServerConfig(c.sources);
    ASSERT_FALSE(r.ok()) << c.want1;
    EXPECT_EQ(r.status().code(), StatusCode::kInvalidArgument);
    EXPECT_NE(r.status().message().find(c.want1), std::string::npos) << r.status().message();
    EXPECT_NE(r.status().message().find(c.want2), std::string::npos) << r.status().message();
  }
}

TEST_F(ConfigTest, BlockCacheCanBeTurnedOffOtherSizesMustBePositive) {
  auto c = LoadServerConfig(Sources({{"block_cache_bytes", "0"}}));
  ASSERT_TRUE(c.ok()) << c.status().ToString();
  EXPECT_EQ(c->block_cache_bytes, 0u);
  c = LoadServerConfig(Sources({}, {{"SIGHTLINE_BLOCK_CACHE_BYTES", "64MiB"}}));
  ASSERT_TRUE(c.ok()) << c.status().ToString();
  EXPECT_EQ(c->block_cache_bytes, uint64_t{64} << 20);
  EXPECT_FALSE(LoadServerConfig(Sources({{"memtable_limit_bytes", "0"}})).ok());
}

TEST_F(ConfigTest, GrpcOffAndPortZero) {
  auto c = LoadServerConfig(Sources({{"grpc", "off"}, {"http", "127.0.0.1:0"}}));
  ASSERT_TRUE(c.ok());
  EXPECT_EQ(c->grpc, "off");
  c = LoadServerConfig(Sources({{"grpc", "127.0.0.1:0"}, {"http", "127.0.0.1:0"}}));
  EXPECT_TRUE(c.ok()) << "two port-0 listeners do not clash";
}

TEST(ByteSizeTest, Units) {
  EXPECT_EQ(*ParseByteSize("1048576"), 1048576u);
  EXPECT_EQ(*ParseByteSize("64MiB"), 64u << 20);
  EXPECT_EQ(*ParseByteSize("4M"), 4u << 20);
  EXPECT_EQ(*ParseByteSize("512 KiB"), 512u << 10);
  EXPECT_EQ(*ParseByteSize("1g"), 1u << 30);
  EXPECT_FALSE(ParseByteSize("").has_value());
  EXPECT_FALSE(ParseByteSize("MiB").has_value());
  EXPECT_FALSE(ParseByteSize("5 parsecs").has_value());
  EXPECT_FALSE(ParseByteSize("-5").has_value());
  EXPECT_FALSE(ParseByteSize("99999999999999999999G").has_value());
}

TEST_F(ConfigTest, UiDirMustHoldABuiltUi) {
  auto none = LoadServerConfig(Sources());
  ASSERT_TRUE(none.ok());
  EXPECT_EQ(none->ui_dir, "");  // the ui folder beside the binary, decided by serve

  std::filesystem::create_directories(dir_ / "ui-empty");
  std::filesystem::create_directories(dir_ / "ui-built");
  std::ofstream(dir_ / "ui-built" / "index.html") << "<!doctype html>";
  const std::string built = (dir_ / "ui-built").string();

  auto flag = LoadServerConfig(Sources({{"ui_dir", built}}, {{"SIGHTLINE_UI_DIR", "/elsewhere"}}));
  ASSERT_TRUE(flag.ok()) << flag.status().ToString();
  EXPECT_EQ(flag->ui_dir, built);
  auto env = LoadServerConfig(Sources({}, {{"SIGHTLINE_UI_DIR", built}}));
  ASSERT_TRUE(env.ok()) << env.status().ToString();
  EXPECT_EQ(env->ui_dir, built);
  auto toml = LoadServerConfig(Sources({}, {}, WriteToml("ui.toml", "ui_dir = \"" + built + "\"\n")));
  ASSERT_TRUE(toml.ok()) << toml.status().ToString();
  EXPECT_EQ(toml->ui_dir, built);

  auto missing = LoadServerConfig(Sources({}, {{"SIGHTLINE_UI_DIR", (dir_ / "nope").string()}}));
  ASSERT_FALSE(missing.ok());
  EXPECT_NE(missing.status().message().find("ui_dir"), std::string::npos);
  EXPECT_NE(missing.status().message().find("SIGHTLINE_UI_DIR"), std::string::npos);
  auto unbuilt = LoadServerConfig(Sources({{"ui_dir", (dir_ / "ui-empty").string()}}));
  ASSERT_FALSE(unbuilt.ok());
  EXPECT_NE(unbuilt.status().message().find("index.html"), std::string::npos);
  EXPECT_NE(unbuilt.status().message().find("--ui-dir"), std::string::npos);
}

TEST_F(ConfigTest, PricingFileFromFlagEnvOrTomlMustExist) {
  auto none = LoadServerConfig(Sources());
  ASSERT_TRUE(none.ok());
  EXPECT_EQ(none->pricing_file, "");  // serve uses DATA/pricing.toml

  const std::string mine = WriteToml("prices.toml", "");
  const std::string other = WriteToml("other-prices.toml", "");
  auto flag = LoadServerConfig(Sources({{"pricing_file", mine}}, {{"SIGHTLINE_PRICING_FILE", other}}));
  ASSERT_TRUE(flag.ok()) << flag.status().ToString();
  EXPECT_EQ(flag->pricing_file, mine);
  auto env = LoadServerConfig(Sources({}, {{"SIGHTLINE_PRICING_FILE", other}}));
  ASSERT_TRUE(env.ok()) << env.status().ToString();
  EXPECT_EQ(env->pricing_file, other);
  auto toml = LoadServerConfig(Sources({}, {}, WriteToml("p.toml", "pricing_file = \"" + mine + "\"\n")));
  ASSERT_TRUE(toml.ok()) << toml.status().ToString();
  EXPECT_EQ(toml->pricing_file, mine);

  // A named file that is not there is a typo, not "no prices of yours".
  auto missing = LoadServerConfig(Sources({{"pricing_file", (dir_ / "nope.toml").string()}}));
  ASSERT_FALSE(missing.ok());
  EXPECT_NE(missing.status().message().find("--pricing-file"), std::string::npos) << missing.status().message();
  EXPECT_NE(missing.status().message().find("no such file"), std::string::npos) << missing.status().message();
}

TEST_F(ConfigTest, RedactionFileFromFlagEnvOrTomlMustExist) {
  auto none = LoadServerConfig(Sources());
  ASSERT_TRUE(none.ok());
  EXPECT_EQ(none->redaction_file, "");  // serve uses DATA/redaction.toml, else the built-in policy

  const std::string mine = WriteToml("policy.toml", "");
  const std::string other = WriteToml("other-policy.toml", "");
  auto flag = LoadServerConfig(Sources({{"redaction_file", mine}}, {{"SIGHTLINE_REDACTION_FILE", other}}));
  ASSERT_TRUE(flag.ok()) << flag.status().ToString();
  EXPECT_EQ(flag->redaction_file, mine);
  auto env = LoadServerConfig(Sources({}, {{"SIGHTLINE_REDACTION_FILE", other}}));
  ASSERT_TRUE(env.ok()) << env.status().ToString();
  EXPECT_EQ(env->redaction_file, other);
  auto toml = LoadServerConfig(Sources({}, {}, WriteToml("r.toml", "redaction_file = \"" + mine + "\"\n")));
  ASSERT_TRUE(toml.ok()) << toml.status().ToString();
  EXPECT_EQ(toml->redaction_file, mine);

  // A named policy that is not there must not quietly mean "the built-in policy".
  auto missing = LoadServerConfig(Sources({{"redaction_file", (dir_ / "nope.toml").string()}}));
  ASSERT_FALSE(missing.ok());
  EXPECT_NE(missing.status().message().find("--redaction-file"), std::string::npos) << missing.status().message();
}

TEST_F(ConfigTest, InsecureFromFlagEnvOrToml) {
  auto def = LoadServerConfig(Sources());
  ASSERT_TRUE(def.ok());
  EXPECT_FALSE(def->insecure);
  EXPECT_TRUE(LoadServerConfig(Sources({{"insecure", "true"}}))->insecure);
  EXPECT_TRUE(LoadServerConfig(Sources({}, {{"SIGHTLINE_INSECURE", "1"}}))->insecure);
  EXPECT_TRUE(LoadServerConfig(Sources({}, {}, WriteToml("i.toml", "insecure = true\n")))->insecure);
  EXPECT_FALSE(LoadServerConfig(Sources({}, {}, WriteToml("f.toml", "insecure = false\n")))->insecure);
  auto bad = LoadServerConfig(Sources({}, {{"SIGHTLINE_INSECURE", "maybe"}}));
  ASSERT_FALSE(bad.ok());
  EXPECT_NE(bad.status().message().find("insecure"), std::string::npos);
}

TEST_F(ConfigTest, AuditSigningKeyFromFlagEnvOrTomlSection) {
  const std::string key = WriteToml("audit.key", "not checked here: serve loads it");
  EXPECT_TRUE(LoadServerConfig(Sources())->audit_signing_key.empty());
  EXPECT_EQ(LoadServerConfig(Sources({{"audit_signing_key", key}}))->audit_signing_key, key);
  EXPECT_EQ(LoadServerConfig(Sources({}, {{"SIGHTLINE_AUDIT_SIGNING_KEY", key}}))->audit_signing_key, key);
  auto toml = LoadServerConfig(Sources({}, {}, WriteToml("s.toml", "[audit]\nsigning_key = \"" + key + "\"\n")));
  ASSERT_TRUE(toml.ok()) << toml.status().ToString();
  EXPECT_EQ(toml->audit_signing_key, key);
  auto missing = LoadServerConfig(Sources({{"audit_signing_key", (dir_ / "nope").string()}}));
  ASSERT_FALSE(missing.ok());
  EXPECT_NE(missing.status().message().find("audit_signing_key"), std::string::npos);
  auto typo = LoadServerConfig(Sources({}, {}, WriteToml("t.toml", "[audit]\nsigning_keys = \"x\"\n")));
  ASSERT_FALSE(typo.ok());
  EXPECT_NE(typo.status().message().find("audit.signing_keys"), std::string::npos);
}

TEST_F(ConfigTest, TrustedProxyIsAListOfNetworks) {
  EXPECT_EQ(LoadServerConfig(Sources({{"trusted_proxy", "10.0.0.0/8, ::1"}}))->trusted_proxy, "10.0.0.0/8, ::1");
  EXPECT_EQ(LoadServerConfig(Sources({}, {{"SIGHTLINE_TRUSTED_PROXY", "127.0.0.1"}}))->trusted_proxy, "127.0.0.1");
  auto bad = LoadServerConfig(Sources({{"trusted_proxy", "10.0.0.0/40"}}));
  ASSERT_FALSE(bad.ok());
  EXPECT_NE(bad.status().message().find("trusted_proxy"), std::string::npos);
}

TEST_F(ConfigTest, TlsFilesFromFlagEnvOrTomlComeInPairs) {
  auto none = LoadServerConfig(Sources());
  ASSERT_TRUE(none.ok());
  EXPECT_FALSE(none->tls());

  const std::string cert = WriteToml("cert.pem", "x");
  const std::string key = WriteToml("key.pem", "x");
  const std::string ca = WriteToml("ca.pem", "x");
  auto flags = LoadServerConfig(Sources({{"tls_cert", cert}, {"tls_key", key}, {"tls_client_ca", ca}}));
  ASSERT_TRUE(flags.ok()) << flags.status().ToString();
  EXPECT_TRUE(flags->tls());
  EXPECT_EQ(flags->tls_cert, cert);
  EXPECT_EQ(flags->tls_key, key);
  EXPECT_EQ(flags->tls_client_ca, ca);
  auto env = LoadServerConfig(Sources({}, {{"SIGHTLINE_TLS_CERT", cert}, {"SIGHTLINE_TLS_KEY", key}}));
  ASSERT_TRUE(env.ok()) << env.status().ToString();
  EXPECT_EQ(env->tls_key, key);
  EXPECT_EQ(env->tls_client_ca, "");
  auto toml = LoadServerConfig(
      Sources({}, {}, WriteToml("t.toml", "tls_cert = \"" + cert + "\"\ntls_key = \"" + key + "\"\n")));
  ASSERT_TRUE(toml.ok()) << toml.status().ToString();
  EXPECT_EQ(toml->tls_cert, cert);

  auto expect_error = [&](const Result<ServerConfig>& r, const std::string& part) {
    ASSERT_FALSE(r.ok()) << part;
    EXPECT_NE(r.status().message().find(part), std::string::npos) << r.status().message();
  };
  expect_error(LoadServerConfig(Sources({{"tls_cert", cert}})), "needs tls_key");
  expect_error(LoadServerConfig(Sources({}, {{"SIGHTLINE_TLS_KEY", key}})), "needs tls_cert");
  expect_error(LoadServerConfig(Sources({{"tls_client_ca", ca}})), "client certificates need TLS on");
  expect_error(LoadServerConfig(Sources({{"tls_cert", (dir_ / "nope.pem").string()}, {"tls_key", key}})),
               "invalid tls_cert");
  expect_error(LoadServerConfig(Sources({{"tls_cert", cert}, {"tls_key", dir_.string()}})), "is a directory");
  expect_error(ParseServerConfigText("tls_key = \"" + key + "\"\n", "inline.toml"), "needs tls_cert");
}

}  // namespace
// sightline.toml goes through the same guard as the other TOML files.
TEST(Config, RefusesWhatTomlppMishandles) {
  for (std::string text : {std::string("http = \"a\x01\"\n"), std::string("[*x]\n"),
                           std::string("data = \"d\"\n\xc2\xa0grpc = \"off\"\n")}) {
    auto r = ParseServerConfigText(text, "sightline.toml");
    ASSERT_FALSE(r.ok());
    EXPECT_NE(r.status().message().find("sightline.toml:"), std::string::npos) << r.status().message();
  }
  auto ok = ParseServerConfigText("grpc = \"off\"\ndata = \"/tmp/x\"\n", "sightline.toml");
  ASSERT_TRUE(ok.ok()) << ok.status().ToString();
  EXPECT_EQ(ok->grpc, "off");
}

}  // namespace sightline::cli

namespace sightline::cli {
namespace {

TEST_F(ConfigTest, SamplingSectionWithProjectOverrides) {
  std::string path = WriteToml("s.toml",
                               "[sampling]\nkeep_fraction = 0.2\nquiet_seconds = 5\n"
                               "[sampling.projects.audit]\nkeep_fraction = 1\n");
  auto c = LoadServerConfig(Sources({}, {}, path));
  ASSERT_TRUE(c.ok()) << c.status().ToString();
  EXPECT_DOUBLE_EQ(c->sampling.defaults.keep_fraction, 0.2);
  EXPECT_EQ(c->sampling.defaults.quiet_ms, 5000);
  EXPECT_DOUBLE_EQ(c->sampling.For("audit").keep_fraction, 1.0);
  EXPECT_EQ(c->sampling.For("audit").quiet_ms, 5000);  // from [sampling]
  EXPECT_DOUBLE_EQ(c->sampling.For("other").keep_fraction, 0.2);
  for (const char* bad : {"[sampling]\nkeep_fraction = 2\n", "[sampling]\nquiet_seconds = -1\n",
                          "[sampling]\nrate = 0.5\n"}) {
    auto b = LoadServerConfig(Sources({}, {}, WriteToml("b.toml", bad)));
    ASSERT_FALSE(b.ok()) << bad;
    EXPECT_NE(b.status().message().find("sampling."), std::string::npos) << b.status().message();
  }
}

}  // namespace
}  // namespace sightline::cli

namespace sightline::cli {
namespace {

class RollupConfigTest : public ConfigTest {};

TEST_F(RollupConfigTest, RollupsTableAndNoRollupsFlag) {
  auto d = LoadServerConfig(Sources());
  ASSERT_TRUE(d.ok());
  EXPECT_TRUE(d->rollups.enabled);
  EXPECT_EQ(d->rollups.minute_window_hours, 6);
  EXPECT_EQ(d->rollups.hour_window_days, 35);
  EXPECT_EQ(d->rollups.max_tuples_per_bucket, 20000);

  std::string path = WriteToml("r.toml",
                               "[rollups]\nminute_window_hours = 12\nhour_window_days = 60\n"
                               "max_tuples_per_bucket = 5000\n");
  auto r = LoadServerConfig(Sources({}, {}, path));
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_TRUE(r->rollups.enabled);
  EXPECT_EQ(r->rollups.minute_window_hours, 12);
  EXPECT_EQ(r->rollups.hour_window_days, 60);
  EXPECT_EQ(r->rollups.max_tuples_per_bucket, 5000);

  auto off = LoadServerConfig(Sources({}, {}, WriteToml("o.toml", "[rollups]\nenabled = false\n")));
  ASSERT_TRUE(off.ok());
  EXPECT_FALSE(off->rollups.enabled);

  ConfigSources flag = Sources({}, {}, path);
  flag.no_rollups = true;
  auto f = LoadServerConfig(flag);
  ASSERT_TRUE(f.ok());
  EXPECT_FALSE(f->rollups.enabled);
  EXPECT_EQ(f->rollups.minute_window_hours, 12);
  auto e = LoadServerConfig(Sources({}, {{"SIGHTLINE_NO_ROLLUPS", "1"}}));
  ASSERT_TRUE(e.ok());
  EXPECT_FALSE(e->rollups.enabled);

  for (const auto& [text, want] : std::vector<std::pair<std::string, std::string>>{
           {"[rollups]\nenabled = 1\n", "rollups.enabled"},
           {"[rollups]\nminute_window = 3\n", "rollups.minute_window"},
           {"[rollups]\nmax_tuples_per_bucket = 0\n", "rollups.max_tuples_per_bucket"},
           {"[rollups]\nminute_window_hours = 48\nhour_window_days = 1\n", "hour_window_days"},
           {"rollups = 3\n", "rollups must be a table"}}) {
    auto bad = LoadServerConfig(Sources({}, {}, WriteToml("b.toml", text)));
    ASSERT_FALSE(bad.ok()) << text;
    EXPECT_NE(bad.status().message().find(want), std::string::npos) << bad.status().message();
  }
  auto bad_env = LoadServerConfig(Sources({}, {{"SIGHTLINE_NO_ROLLUPS", "yes"}}));
  EXPECT_FALSE(bad_env.ok());
}

}  // namespace
}  // namespace sightline::cli
