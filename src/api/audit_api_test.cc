// The audit trail seen through the API: trace, span and session views and exports are
// recorded with the caller's address before they are served; side-effecting tool
// calls sent over OTLP/HTTP are recorded; GET /api/v1/audit filters and pages; a trail
// that cannot write turns reads into 503s.
#include <unistd.h>

#include <gtest/gtest.h>

#include "api/api_test_util.h"
#include "audit/audit_reader.h"
#include "common/fault_injection_env.h"

namespace sightline::api::testing {
namespace {

class AuditApiTest : public ServerFixture {
 protected:
  void SetUp() override {
    static int counter = 0;
    audit_dir_ = std::filesystem::temp_directory_path() /
                 ("sightline_audit_api_test_" + std::to_string(getpid()) + "_" + std::to_string(counter++));
    std::filesystem::remove_all(audit_dir_);
    fenv_ = std::make_unique<FaultInjectionEnv>(Env::Default());
    audit::AuditLogOptions o;
    o.env = fenv_.get();
    o.dir = audit_dir_.string();
    auto log = audit::AuditLog::Open(o);
    ASSERT_TRUE(log.ok()) << log.status().ToString();
    audit_ = std::move(log).value();
    ServerFixture::SetUp();
  }
  void TearDown() override {
    ServerFixture::TearDown();
    audit_.reset();
    std::filesystem::remove_all(audit_dir_);
  }
  audit::AuditLog* Audit() override { return audit_.get(); }
  const audit::SideEffectPolicy* SideEffects() override { return &policy_; }

  std::vector<audit::AuditRecord> Records() {
    std::vector<audit::AuditRecord> out;
    EXPECT_TRUE(audit::ScanAuditRecords(Env::Default(), audit_dir_.string(), 0, [&](const audit::AuditRecord& r) {
                  out.push_back(r);
                  return true;
                }).ok());
    return out;
  }

  void Ingest() {
    SpanSpec root(TraceId(1), SpanId(1), "", "agent run");
    SpanSpec tool(TraceId(1), SpanId(2), SpanId(1), "execute_tool send_email");
    tool.attrs["gen_ai.tool.name"] = "send_email";
    tool.attrs["gen_ai.tool.call.arguments"] = R"({"to":"ops@example.com"})";
    tool.attrs["session.id"] = "ticket-9421";
    tool.attrs["user.id"] = "u-7";
    SpanSpec other(TraceId(1), SpanId(3), SpanId(1), "execute_tool search");
    other.attrs["gen_ai.tool.name"] = "search";
    ASSERT_EQ(PostProtobuf(MakeRequest({root, tool, other})).status, 200);
  }

  std::filesystem::path audit_dir_;
  std::unique_ptr<FaultInjectionEnv> fenv_;
  std::unique_ptr<audit::AuditLog> audit_;
  audit::SideEffectPolicy policy_{{"send_*"}};
};

TEST_F(AuditApiTest, SideEffectingToolCallsAreRecordedAtIngest) {
  Ingest();
  auto records = Records();
  ASSERT_EQ(records.size(), 1u);
  EXPECT_EQ(records[0].kind, audit::Kind::kSideEffect);
  EXPECT_EQ(records[0].target, "tool/send_email");
  EXPECT_NE(records[0].details_json.find("\"session_id\":\"ticket-9421\""), std::string::npos);
  EXPECT_NE(records[0].details_json.find("\"user_id\":\"u-7\""), std::string::npos);
  EXPECT_EQ(records[0].details_json.find("ops@example.com"), std::string::npos);
}

TEST_F(AuditApiTest, ViewsAndExportsAreRecordedWithTheCallersAddress) {
  Ingest();
  const std::string trace = HexEncode(TraceId(1));
  Client c(port_);
  // A client cannot choose its own recorded address.
  auto res = c.Send(http::verb::get, "/api/v1/traces/" + trace, "", {{kRemoteAddrHeader, "10.9.8.7:1"}});
  ASSERT_EQ(res.status, 200) << res.body;
  res = c.Send(http::verb::get, "/api/v1/traces/" + trace + "/spans/" + HexEncode(SpanId(2)), "",
               {{"x-sightline-purpose", "export"}});
  ASSERT_EQ(res.status, 200) << res.body;
  res = c.Send(http::verb::get, "/api/v1/traces/" + trace, "", {{"x-sightline-purpose", "export"}});
  ASSERT_EQ(res.status, 200) << res.body;
  // Not found: nothing was read, nothing recorded.
  ASSERT_EQ(Get("/api/v1/traces/" + std::string(32, 'f')).status, 404);

  auto records = Records();
  ASSERT_EQ(records.size(), 4u);
  EXPECT_EQ(records[1].kind, audit::Kind::kRead);
  EXPECT_EQ(records[1].action, "trace.view");
  EXPECT_EQ(records[1].target, "trace/" + trace);
  EXPECT_EQ(records[1].actor.principal, "anonymous");
  EXPECT_EQ(records[1].actor.remote.rfind("127.0.0.1:", 0), 0u) << records[1].actor.remote;
  EXPECT_EQ(records[2].action, "span.export");
  EXPECT_EQ(records[2].target, "trace/" + trace + "/span/" + HexEncode(SpanId(2)));
  EXPECT_EQ(records[3].action, "trace.export");
  auto v = audit::VerifyAuditDir(Env::Default(), audit_dir_.string());
  ASSERT_TRUE(v.ok());
  EXPECT_TRUE(v->ok) << v->problem;
}

TEST_F(AuditApiTest, TheAuditRouteFiltersAndPages) {
  Ingest();
  const std::string trace = HexEncode(TraceId(1));
  for (int i = 0; i < 5; ++i) ASSERT_EQ(Get("/api/v1/traces/" + trace).status, 200);
  auto res = Get("/api/v1/audit?kind=read&action=trace.view&limit=3");
  ASSERT_EQ(res.status, 200) << res.body;
  auto doc = ParseJson(res.body);
  ASSERT_TRUE(doc["records"].IsArray());
  ASSERT_EQ(doc["records"].Size(), 3u);
  EXPECT_STREQ(doc["records"][0]["action"].GetString(), "trace.view");
  EXPECT_EQ(doc["records"][0]["hash"].GetStringLength(), 64u);
  ASSERT_TRUE(doc["next_cursor"].IsString());
  std::string cursor = doc["next_cursor"].GetString();
  res = Get("/api/v1/audit?kind=read&action=trace.view&limit=3&cursor=" + cursor);
  doc = ParseJson(res.body);
  ASSERT_EQ(doc["records"].Size(), 2u);
  res = Get("/api/v1/audit?kind=side_effect");
  doc = ParseJson(res.body);
  ASSERT_EQ(doc["records"].Size(), 1u);
  EXPECT_STREQ(doc["records"][0]["target"].GetString(), "tool/send_email");
  EXPECT_TRUE(doc["next_cursor"].IsNull());
  EXPECT_EQ(Get("/api/v1/audit?kind=nope").status, 400);
  EXPECT_EQ(Get("/api/v1/audit?bogus=1").status, 400);
  // Reading the trail is recorded too.
  res = Get("/api/v1/audit?action=audit.view");
  doc = ParseJson(res.body);
  EXPECT_GE(doc["records"].Size(), 4u);
}

TEST_F(AuditApiTest, AReadThatCannotBeRecordedIsNotServed) {
  Ingest();
  fenv_->FailNth(FaultInjectionEnv::Op::kSync, 1, Status::IOError("injected"), /*sticky=*/true);
  auto res = Get("/api/v1/traces/" + HexEncode(TraceId(1)));
  EXPECT_EQ(res.status, 503) << res.body;
  EXPECT_EQ(res.body.find("send_email"), std::string::npos);
  fenv_->Reset();
  EXPECT_EQ(Get("/api/v1/traces/" + HexEncode(TraceId(1))).status, 200);
}

}  // namespace
}  // namespace sightline::api::testing
