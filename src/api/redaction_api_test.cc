// GET /api/v1/redaction: the policy in force, per project, without keys or patterns.
#include <unistd.h>

#include <fstream>

#include <gtest/gtest.h>

#include "api/api_test_util.h"

namespace sightline::api::testing {
namespace {

class RedactionApiTest : public ServerFixture {
 protected:
  void SetUp() override {
    static int counter = 0;
    file_ = std::filesystem::temp_directory_path() /
            ("sightline_redaction_api_test_" + std::to_string(getpid()) + "_" + std::to_string(counter++) + ".toml");
    std::ofstream(file_) << "[detectors]\nemail = \"mask\"\n[[custom]]\nname = \"ticket\"\n"
                            "pattern = 'TCK-HIDDEN-[0-9]{6}'\n[hash]\nkey = \"never-show-this-key-0001\"\n"
                            "[projects.payments.detectors]\ncard = \"drop\"\n";
    pipeline::RedactionService::Options o;
    o.policy_file = file_.string();
    auto r = pipeline::RedactionService::Create(o);
    ASSERT_TRUE(r.ok()) << r.status().ToString();
    redaction_ = std::move(r).value();
    ServerFixture::SetUp();
  }
  void TearDown() override {
    ServerFixture::TearDown();
    redaction_.reset();
    std::filesystem::remove(file_);
  }
  pipeline::RedactionService* Redaction() override { return redaction_.get(); }

  std::filesystem::path file_;
  std::unique_ptr<pipeline::RedactionService> redaction_;
};

TEST_F(RedactionApiTest, ShowsThePolicyInForceWithoutSecrets) {
  auto res = Get("/api/v1/redaction");
  ASSERT_EQ(res.status, 200) << res.body;
  EXPECT_EQ(res.body.find("TCK-HIDDEN"), std::string::npos);
  EXPECT_EQ(res.body.find("never-show-this-key"), std::string::npos);
  auto doc = ParseJson(res.body);
  EXPECT_TRUE(doc["last_reload_error"].IsNull());
  EXPECT_NE(std::string(doc["source"].GetString()).find(".toml"), std::string::npos);
  ASSERT_TRUE(doc["policy"]["projects"].HasMember("payments"));
  bool email_masked = false;
  for (const auto& r : doc["policy"]["default"]["rules"].GetArray())
    email_masked |= std::string(r["name"].GetString()) == "email" && std::string(r["action"].GetString()) == "mask";
  EXPECT_TRUE(email_masked) << res.body;
}

TEST_F(ServerFixture, RedactionRouteIsNotFoundWithoutRedaction) {
  EXPECT_EQ(Get("/api/v1/redaction").status, 404);
}

}  // namespace
}  // namespace sightline::api::testing
