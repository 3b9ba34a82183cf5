// SamplingSource (cli/sampling_source.h): DATA/sampling.toml replaces sightline.toml's
// [sampling] while it exists, an edit applies at the next reload, a bad edit is refused
// (logged once) keeping the policy in force, and a bad file at start-up fails Create.
#include "cli/sampling_source.h"

#include <gtest/gtest.h>

#include <vector>

#include "common/mem_env.h"

namespace sightline::cli {
namespace {

struct Fixture {
  MemEnv env;
  std::vector<std::string> logged;
  SamplingSource::Options Opts() {
    SamplingSource::Options o;
    o.env = &env;
    o.file = "/data/sampling.toml";
    o.base.defaults.keep_fraction = 0.5;
    o.logger = [this](const std::string& m) { logged.push_back(m); };
    return o;
  }
};

TEST(SamplingSource, FileOverridesReloadsRefusesBadEditsAndFallsBack) {
  Fixture f;
  ASSERT_TRUE(f.env.CreateDir("/data").ok());
  auto s = SamplingSource::Create(f.Opts());
  ASSERT_TRUE(s.ok()) << s.status().ToString();
  auto& src = *s;
  EXPECT_DOUBLE_EQ(src->policy().defaults.keep_fraction, 0.5);  // sightline.toml's
  EXPECT_EQ(src->Describe(), "sightline.toml");
  EXPECT_FALSE(*src->Reload());  // nothing changed

  f.env.PutFile("/data/sampling.toml",
                "[sampling]\nkeep_fraction = 0.1\nquiet_seconds = 5\nflag_score_below = 0.4\n"
                "[sampling.projects.audit]\nkeep_fraction = 1.0\n");
  auto r = src->Reload();
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_TRUE(*r);
  EXPECT_DOUBLE_EQ(src->policy().defaults.keep_fraction, 0.1);
  EXPECT_EQ(src->policy().defaults.quiet_ms, 5000);
  EXPECT_DOUBLE_EQ(src->policy().For("audit").keep_fraction, 1.0);
  EXPECT_EQ(src->policy().For("audit").quiet_ms, 5000);  // from [sampling]
  EXPECT_DOUBLE_EQ(src->policy().For("audit").flag_score_below, 0.4);
  EXPECT_TRUE(src->policy().defaults.FlagsScore(0.3));
  EXPECT_FALSE(src->policy().defaults.FlagsScore(0.4));
  EXPECT_EQ(src->Describe(), "/data/sampling.toml");
  EXPECT_FALSE(*src->Reload());  // same content

  // Bad edits: out of range, unknown key, not TOML; each refused once, policy kept.
  for (const char* bad : {"[sampling]\nkeep_fraction = 1.5\n", "[sampling]\nkeep_fracton = 0.2\n",
                          "[sampling]\nflag_score_below = \"low\"\n",
                          "[retention]\ndays = 3\n", "[sampling\nkeep_fraction = 0.2\n"}) {
    SCOPED_TRACE(bad);
    f.env.PutFile("/data/sampling.toml", bad);
    const size_t before = f.logged.size();
    auto b = src->Reload();
    EXPECT_FALSE(b.ok());
    EXPECT_EQ(b.status().code(), StatusCode::kInvalidArgument);
    EXPECT_FALSE(src->last_error().ok());
    EXPECT_DOUBLE_EQ(src->policy().defaults.keep_fraction, 0.1);
    EXPECT_EQ(f.logged.size(), before + 1);
    EXPECT_NE(f.logged.back().find("sampling.toml"), std::string::npos) << f.logged.back();
    EXPECT_FALSE(src->Reload().ok());
    EXPECT_EQ(f.logged.size(), before + 1);  // the same bad content: logged once
  }
  // Fixed: applies; removed: back to sightline.toml's.
  f.env.PutFile("/data/sampling.toml", "[sampling]\nkeep_fraction = 0.3\n");
  EXPECT_TRUE(*src->Reload());
  EXPECT_TRUE(src->last_error().ok());
  EXPECT_DOUBLE_EQ(src->policy().defaults.keep_fraction, 0.3);
  ASSERT_TRUE(f.env.RemoveFile("/data/sampling.toml").ok());
  EXPECT_TRUE(*src->Reload());
  EXPECT_DOUBLE_EQ(src->policy().defaults.keep_fraction, 0.5);
  EXPECT_EQ(src->Describe(), "sightline.toml");
}

TEST(SamplingSource, ABadFileAtStartUpFailsCreate) {
  Fixture f;
  ASSERT_TRUE(f.env.CreateDir("/data").ok());
  f.env.PutFile("/data/sampling.toml", "[sampling]\ntimeout_seconds = -1\n");
  auto s = SamplingSource::Create(f.Opts());
  ASSERT_FALSE(s.ok());
  EXPECT_EQ(s.status().code(), StatusCode::kInvalidArgument);
  EXPECT_NE(s.status().message().find("timeout_seconds"), std::string::npos) << s.status().ToString();
}

}  // namespace
}  // namespace sightline::cli
