// The effective rules as `sightline redaction check` and GET /api/v1/redaction show
// them: per project, layered, and never a key or a custom pattern.
#include "pipeline/redaction_describe.h"

#include <gtest/gtest.h>

#include <rapidjson/document.h>

namespace sightline::pipeline::redaction {
namespace {

constexpr char kPolicy[] = R"(
[detectors]
email = "hash"
[attributes]
drop = ["*.password"]
[[custom]]
name = "ticket"
pattern = 'TCK-SECRETPATTERN-[0-9]{6}'
[hash]
key = "a-very-secret-hash-key-123"
[projects.payments.detectors]
card = "drop"
[projects.payments.attributes]
keep = ["*password_policy"]
[projects.payments.hash]
key = "payments-own-secret-key-456"
)";

TEST(RedactionDescribe, ShowsEffectiveRulesPerProjectWithoutSecrets) {
  auto spec = ParsePolicy(kPolicy, "redaction.toml");
  ASSERT_TRUE(spec.ok()) << spec.status().ToString();
  auto policy = Policy::Compile(*spec, std::string(32, 'k'), "redaction.toml");
  ASSERT_TRUE(policy.ok()) << policy.status().ToString();
  std::string json = DescribePolicyJson(**policy);
  std::string text = DescribePolicyText(**policy);
  for (const std::string& out : {json, text}) {
    EXPECT_EQ(out.find("SECRETPATTERN"), std::string::npos) << out;
    EXPECT_EQ(out.find("a-very-secret"), std::string::npos) << out;
    EXPECT_EQ(out.find("payments-own"), std::string::npos) << out;
  }
  rapidjson::Document d;
  d.Parse(json.c_str());
  ASSERT_TRUE(d.IsObject()) << json;
  auto action_of = [](const rapidjson::Value& project, const std::string& rule) -> std::string {
    for (const auto& r : project["rules"].GetArray())
      if (rule == r["name"].GetString()) return r["action"].GetString();
    return "absent";
  };
  const auto& def = d["default"];
  EXPECT_EQ(action_of(def, "email"), "hash");
  EXPECT_EQ(action_of(def, "openai_key"), "mask");
  EXPECT_EQ(action_of(def, "card"), "off");
  EXPECT_EQ(action_of(def, "ticket"), "mask");
  EXPECT_STREQ(def["hash_key"].GetString(), "the policy file's [hash] key, derived per project");
  ASSERT_TRUE(d["projects"].HasMember("payments"));
  const auto& pay = d["projects"]["payments"];
  EXPECT_EQ(action_of(pay, "card"), "drop");
  EXPECT_EQ(action_of(pay, "email"), "hash");
  EXPECT_STREQ(pay["hash_key"].GetString(), "the project's own [hash] key");
  // Most specific layer first: the project's keep, then the file's drop, then built-in.
  ASSERT_EQ(pay["attributes"].Size(), 3u);
  EXPECT_STREQ(pay["attributes"][0]["keep"][0].GetString(), "*password_policy");
  EXPECT_STREQ(pay["attributes"][1]["drop"][0].GetString(), "*.password");
  EXPECT_NE(text.find("project payments:"), std::string::npos) << text;
  EXPECT_NE(text.find("drop\tcard"), std::string::npos) << text;
}

}  // namespace
}  // namespace sightline::pipeline::redaction
