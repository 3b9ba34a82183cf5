// GET /api/v1/pricing/models and /api/v1/pricing/unpriced, and costs computed at
// ingest read back through the trace API, on a real server with a user pricing file.
#include <unistd.h>

#include <chrono>
#include <fstream>
#include <thread>
#include <string>

#include <gtest/gtest.h>

#include "api/api_test_util.h"
#include "audit/audit_reader.h"

namespace sightline::api::testing {
namespace {

constexpr char kUserPrices[] = R"(
[[model]]
id = "acme/test-llm"
provider = "acme"
match = "test-llm"
[[model.price]]
from = "2020-01-01"
input = 2.0
output = 8.0
cache_read = 0.5
)";

// A `chat` span of `model` by provider acme with token counts (ints, as SDKs send them).
void AddChat(ingest::ExportRequest* req, int trace, int span, const std::string& model, int64_t in, int64_t out) {
  auto* s = req->mutable_resource_spans(0)->mutable_scope_spans(0)->add_spans();
  s->set_trace_id(TraceId(trace));
  s->set_span_id(SpanId(span));
  s->set_name("chat " + model);
  s->set_start_time_unix_nano(1'760'000'000'000'000'000);
  s->set_end_time_unix_nano(1'760'000'001'000'000'000);
  auto attr = [&](const std::string& key) {
    auto* kv = s->add_attributes();
    kv->set_key(key);
    return kv->mutable_value();
  };
  attr("gen_ai.operation.name")->set_string_value("chat");
  attr("gen_ai.provider.name")->set_string_value("acme");
  attr("gen_ai.request.model")->set_string_value(model);
  attr("gen_ai.usage.input_tokens")->set_int_value(in);
  attr("gen_ai.usage.output_tokens")->set_int_value(out);
}

class PricingApiTest : public ServerFixture {
 protected:
  void SetUp() override {
    static int counter = 0;
    user_file_ = std::filesystem::temp_directory_path() /
                 ("sightline_pricing_api_test_" + std::to_string(getpid()) + "_" + std::to_string(counter++) + ".toml");
    std::ofstream(user_file_) << kUserPrices;
    pipeline::PricingService::Options o;
    o.user_file = user_file_.string();
    o.metrics = &metrics_;
    auto p = pipeline::PricingService::Create(o);
    ASSERT_TRUE(p.ok()) << p.status().ToString();
    pricing_ = std::move(p).value();
    ServerFixture::SetUp();
  }
  void TearDown() override {
    ServerFixture::TearDown();
    pricing_.reset();
    std::filesystem::remove(user_file_);
  }
  pipeline::PricingService* Pricing() override { return pricing_.get(); }

  std::filesystem::path user_file_;
  std::unique_ptr<pipeline::PricingService> pricing_;
};

TEST_F(PricingApiTest, ModelsListTheCatalogueInForceUserModelsFirst) {
  auto res = Get("/api/v1/pricing/models");
  ASSERT_EQ(res.status, 200) << res.body;
  EXPECT_EQ(res.Header("content-type"), "application/json");
  auto doc = ParseJson(res.body);
  ASSERT_TRUE(doc["models"].IsArray());
  ASSERT_GT(doc["models"].Size(), 10u);
  const auto& mine = doc["models"][0];
  EXPECT_STREQ(mine["id"].GetString(), "acme/test-llm");
  EXPECT_STREQ(mine["provider"].GetString(), "acme");
  EXPECT_STREQ(mine["match"].GetString(), "test-llm");
  EXPECT_EQ(mine["origin"].GetString(), user_file_.string());
  EXPECT_STREQ(mine["price"]["from"].GetString(), "2020-01-01");
  EXPECT_DOUBLE_EQ(mine["price"]["input"].GetDouble(), 2.0);
  EXPECT_DOUBLE_EQ(mine["price"]["output"].GetDouble(), 8.0);
  EXPECT_DOUBLE_EQ(mine["price"]["cache_read"].GetDouble(), 0.5);
  EXPECT_TRUE(mine["price"]["cache_write"].IsNull());
  EXPECT_TRUE(mine["price"]["tiers"].IsArray());
  bool shipped_gpt4o = false;
  for (const auto& m : doc["models"].GetArray()) {
    if (std::string(m["id"].GetString()) != "openai/gpt-4o") continue;
    shipped_gpt4o = true;
    EXPECT_NE(std::string(m["origin"].GetString()).find("data/pricing.toml"), std::string::npos);
    EXPECT_GT(m["price"]["input"].GetDouble(), 0);
  }
  EXPECT_TRUE(shipped_gpt4o);
  EXPECT_TRUE(doc["last_reload_error"].IsNull());
}

TEST_F(PricingApiTest, UnpricedModelsMostSpansFirstAndComputedCostsReadBack) {
  ingest::ExportRequest req = MakeRequest({});
  AddChat(&req, 1, 1, "test-llm", 1000, 500);
  AddChat(&req, 1, 2, "mystery-a", 10, 10);
  AddChat(&req, 1, 3, "mystery-b", 10, 10);
  AddChat(&req, 1, 4, "mystery-b", 10, 10);
  auto posted = PostProtobuf(req);
  ASSERT_EQ(posted.status, 200) << posted.body;

  auto res = Get("/api/v1/pricing/unpriced");
  ASSERT_EQ(res.status, 200) << res.body;
  auto doc = ParseJson(res.body);
  ASSERT_EQ(doc["models"].Size(), 2u) << res.body;
  EXPECT_STREQ(doc["models"][0]["provider"].GetString(), "acme");
  EXPECT_STREQ(doc["models"][0]["model"].GetString(), "mystery-b");
  EXPECT_EQ(doc["models"][0]["spans"].GetInt64(), 2);
  EXPECT_STREQ(doc["models"][1]["model"].GetString(), "mystery-a");
  EXPECT_EQ(doc["models"][1]["spans"].GetInt64(), 1);
  EXPECT_EQ(doc["unpriced_spans"].GetInt64(), 3);

  auto span = Get("/api/v1/traces/" + HexEncode(TraceId(1)) + "/spans/" + HexEncode(SpanId(1)));
  ASSERT_EQ(span.status, 200) << span.body;
  auto s = ParseJson(span.body);
  EXPECT_STREQ(s["cost_source"].GetString(), "computed");
  EXPECT_DOUBLE_EQ(s["cost_usd"].GetDouble(), 1000 * 2.0 / 1e6 + 500 * 8.0 / 1e6);
  EXPECT_DOUBLE_EQ(s["computed_cost_usd"].GetDouble(), s["cost_usd"].GetDouble());
  EXPECT_TRUE(s["reported_cost_usd"].IsNull());
  auto unpriced = ParseJson(Get("/api/v1/traces/" + HexEncode(TraceId(1)) + "/spans/" + HexEncode(SpanId(2))).body);
  EXPECT_TRUE(unpriced["cost_usd"].IsNull());
  EXPECT_STREQ(unpriced["cost_source"].GetString(), "unknown");

  auto metrics = Get("/metrics").body;
  EXPECT_NE(metrics.find("sightline_spans_priced_total 1\n"), std::string::npos);
  EXPECT_NE(metrics.find("sightline_spans_unpriced_total 3\n"), std::string::npos);
  EXPECT_NE(metrics.find("sightline_pricing_reload_errors_total 0\n"), std::string::npos);
  EXPECT_NE(metrics.find("sightline_http_requests_total{route=\"/api/v1/pricing/unpriced\",code=\"200\"} 1\n"),
            std::string::npos);
}

TEST_F(PricingApiTest, OnlyGetAndOnlyKnownPricingRoutes) {
  EXPECT_EQ(Client(port_).Send(http::verb::post, "/api/v1/pricing/models", "{}").status, 405);
  EXPECT_EQ(Get("/api/v1/pricing/everything").status, 404);
}

// `sightline reprice` over the API: a price edited in the user's file applies to the
// spans already stored once a reprice of their period ran; a reported cost stays; the
// trace summary follows; the job is audited.
class RepriceApiTest : public PricingApiTest {
 protected:
  void SetUp() override {
    static int counter = 0;
    audit_dir_ = std::filesystem::temp_directory_path() /
                 ("sightline_reprice_api_test_" + std::to_string(getpid()) + "_" + std::to_string(counter++));
    std::filesystem::remove_all(audit_dir_);
    audit::AuditLogOptions o;
    o.dir = audit_dir_.string();
    auto log = audit::AuditLog::Open(o);
    ASSERT_TRUE(log.ok()) << log.status().ToString();
    audit_ = std::move(log).value();
    PricingApiTest::SetUp();
  }
  void TearDown() override {
    PricingApiTest::TearDown();
    audit_.reset();
    std::filesystem::remove_all(audit_dir_);
  }
  audit::AuditLog* Audit() override { return audit_.get(); }

  ClientResponse Post(const std::string& target) { return Client(port_).Send(http::verb::post, target); }
  // Polls the job until it is no longer running.
  rapidjson::Document WaitForJob() {
    for (int i = 0; i < 500; ++i) {
      auto res = Get("/api/v1/admin/reprice");
      EXPECT_EQ(res.status, 200) << res.body;
      auto doc = ParseJson(res.body);
      if (std::string(doc["reprice"]["state"].GetString()) != "running") return doc;
      std::this_thread::sleep_for(std::chrono::milliseconds(20));
    }
    ADD_FAILURE() << "the reprice did not finish";
    return ParseJson("{}");
  }
  // The sum of the /metrics samples of family whose labels contain `with`.
  double MetricSum(const std::string& family, const std::string& with) {
    const std::string text = Get("/metrics").body;
    double sum = 0;
    const std::string prefix = "\n" + family + "{";
    for (size_t pos = text.find(prefix); pos != std::string::npos; pos = text.find(prefix, pos + 1)) {
      size_t eol = text.find('\n', pos + 1);
      const std::string line = text.substr(pos + 1, eol - pos - 1);
      if (line.find(with) == std::string::npos) continue;
      sum += std::stod(line.substr(line.rfind(' ') + 1));
    }
    return sum;
  }
  double SpanCost(int trace, int span) {
    auto s = ParseJson(Get("/api/v1/traces/" + HexEncode(TraceId(trace)) + "/spans/" + HexEncode(SpanId(span))).body);
    return s["cost_usd"].IsNumber() ? s["cost_usd"].GetDouble() : -1;
  }

  std::filesystem::path audit_dir_;
  std::unique_ptr<audit::AuditLog> audit_;
};

TEST_F(RepriceApiTest, APriceEditAppliesToStoredSpansOnceRepriced) {
  EXPECT_EQ(Get("/api/v1/admin/reprice").status, 404);  // no job yet
  ingest::ExportRequest req = MakeRequest({});
  AddChat(&req, 1, 1, "test-llm", 1000, 500);
  AddChat(&req, 1, 2, "test-llm", 2000, 100);
  auto* reported = req.mutable_resource_spans(0)->mutable_scope_spans(0)->mutable_spans(1)->add_attributes();
  reported->set_key("gen_ai.usage.cost");
  reported->mutable_value()->set_double_value(0.25);
  ASSERT_EQ(PostProtobuf(req).status, 200);
  const double old1 = 1000 * 2.0 / 1e6 + 500 * 8.0 / 1e6;
  EXPECT_DOUBLE_EQ(SpanCost(1, 1), old1);
  EXPECT_DOUBLE_EQ(SpanCost(1, 2), 0.25);

  // The price doubles; spans already stored keep theirs until repriced.
  std::string edited = kUserPrices;
  edited.replace(edited.find("input = 2.0"), 11, "input = 4.0");
  std::ofstream(user_file_) << edited;
  EXPECT_DOUBLE_EQ(SpanCost(1, 1), old1);

  // Bad requests.
  EXPECT_EQ(Post("/api/v1/admin/reprice?from=2025-10-01").status, 400);
  EXPECT_EQ(Post("/api/v1/admin/reprice?from=2025-10-31&to=2025-10-01").status, 400);
  EXPECT_EQ(Post("/api/v1/admin/reprice?from=yesterday&to=2025-10-01").status, 400);
  EXPECT_EQ(Post("/api/v1/admin/reprice?from=2025-10-01&to=2025-10-31&project=x").status, 400);

  auto started = Post("/api/v1/admin/reprice?from=2025-10-01T00:00:00Z&to=2025-10-31T00:00:00Z");
  ASSERT_EQ(started.status, 202) << started.body;
  auto job = WaitForJob();
  const auto& j = job["reprice"];
  EXPECT_STREQ(j["state"].GetString(), "done") << (j.HasMember("error") ? j["error"].GetString() : "");
  EXPECT_EQ(j["spans_examined"].GetUint64(), 2u);
  EXPECT_EQ(j["spans_repriced"].GetUint64(), 2u);  // the reported one's computed cost too
  EXPECT_EQ(j["segments_rewritten"].GetUint64(), 1u);
  const double new1 = 1000 * 4.0 / 1e6 + 500 * 8.0 / 1e6;
  EXPECT_DOUBLE_EQ(j["cost_before_usd"].GetDouble(), old1);
  EXPECT_DOUBLE_EQ(j["cost_after_usd"].GetDouble(), new1);

  EXPECT_DOUBLE_EQ(SpanCost(1, 1), new1);
  EXPECT_DOUBLE_EQ(SpanCost(1, 2), 0.25);  // reported: kept
  auto s2 = ParseJson(Get("/api/v1/traces/" + HexEncode(TraceId(1)) + "/spans/" + HexEncode(SpanId(2))).body);
  EXPECT_STREQ(s2["cost_source"].GetString(), "reported");
  EXPECT_DOUBLE_EQ(s2["computed_cost_usd"].GetDouble(), 2000 * 4.0 / 1e6 + 100 * 8.0 / 1e6);
  auto trace = ParseJson(Get("/api/v1/traces/" + HexEncode(TraceId(1))).body);
  EXPECT_NEAR(trace["trace"]["cost_usd"].GetDouble(), new1 + 0.25, 1e-12);

  // /metrics: the cost counter never goes down; the correction is its own counter.
  const std::string llm = "model=\"test-llm\"";
  EXPECT_NEAR(MetricSum("sightline_cost_usd_total", llm), old1 + 0.25, 1e-12);
  EXPECT_NEAR(MetricSum("sightline_cost_repriced_usd_total", "direction=\"up\""), new1 - old1, 1e-12);
  EXPECT_EQ(MetricSum("sightline_cost_repriced_usd_total", "direction=\"down\""), 0);
  EXPECT_NE(Get("/metrics").body.find("# TYPE sightline_cost_repriced_usd_total counter"), std::string::npos);
  // The old price back: the correction goes the other way, in the "down" series.
  std::ofstream(user_file_) << kUserPrices;
  ASSERT_EQ(Post("/api/v1/admin/reprice?from=2025-10-01T00:00:00Z&to=2025-10-31T00:00:00Z").status, 202);
  EXPECT_STREQ(WaitForJob()["reprice"]["state"].GetString(), "done");
  EXPECT_DOUBLE_EQ(SpanCost(1, 1), old1);
  EXPECT_NEAR(MetricSum("sightline_cost_usd_total", llm), old1 + 0.25, 1e-12);
  EXPECT_NEAR(MetricSum("sightline_cost_repriced_usd_total", "direction=\"up\""), new1 - old1, 1e-12);
  EXPECT_NEAR(MetricSum("sightline_cost_repriced_usd_total", "direction=\"down\""), new1 - old1, 1e-12);
  // As now priced: cost_usd_total + up - down.
  EXPECT_NEAR(MetricSum("sightline_cost_usd_total", llm) +
                  MetricSum("sightline_cost_repriced_usd_total", "direction=\"up\"") -
                  MetricSum("sightline_cost_repriced_usd_total", "direction=\"down\""),
              trace["trace"]["cost_usd"].GetDouble() - (new1 - old1), 1e-12);

  // Audited as an admin action.
  bool audited = false;
  ASSERT_TRUE(audit::ScanAuditRecords(Env::Default(), audit_dir_.string(), 0, [&](const audit::AuditRecord& r) {
                if (r.action != "pricing.reprice") return true;
                audited = true;
                EXPECT_EQ(r.kind, audit::Kind::kAdmin);
                EXPECT_EQ(r.outcome, "ok");
                if (r.details_json.find("\"reprice\":1,") != std::string::npos) {
                  EXPECT_NE(r.details_json.find("\"spans_repriced\":2"), std::string::npos) << r.details_json;
                }
                return true;
              }).ok());
  EXPECT_TRUE(audited);
}

using NoPricingApiTest = ServerFixture;

TEST_F(NoPricingApiTest, RepriceNeedsPricing) {
  auto res = Client(port_).Send(http::verb::post, "/api/v1/admin/reprice?from=2025-10-01&to=2025-10-02");
  EXPECT_EQ(res.status, 404);
  EXPECT_NE(res.body.find("pricing is off"), std::string::npos) << res.body;
}

TEST_F(NoPricingApiTest, PricingRoutesSayPricingIsOff) {
  for (const char* path : {"/api/v1/pricing/models", "/api/v1/pricing/unpriced"}) {
    auto res = Get(path);
    EXPECT_EQ(res.status, 404) << path;
    EXPECT_NE(res.body.find("pricing is off"), std::string::npos) << res.body;
  }
}

}  // namespace
}  // namespace sightline::api::testing
