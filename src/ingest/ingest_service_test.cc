// IngestService: the pipeline from body bytes to SpanStore::Append, with a fake store
// that holds the append callbacks so the tests control when "durable" happens.
#include "ingest/ingest_service.h"

#include <future>
#include <mutex>
#include <optional>

#include <gtest/gtest.h>

#include "audit/audit_reader.h"
#include "common/fault_injection_env.h"
#include "common/mem_env.h"
#include "ingest/otlp_decode.h"
#include "pipeline/pricing.h"
#include "store/write_only_store.h"

namespace sightline::ingest {
namespace {

// Records appends; completes them only when the test says so.
class HoldingStore : public store::WriteOnlyStore {
 public:
  Status Append(std::vector<model::Span> spans, AppendCallback done) override {
    if (!refuse.ok()) return refuse;
    appended.insert(appended.end(), spans.begin(), spans.end());
    pending.push_back(std::move(done));
    return Status::OK();
  }
  void CompleteAll(const Status& st) {
    auto callbacks = std::move(pending);
    pending.clear();
    for (auto& cb : callbacks) cb(st);
  }

  Status refuse;
  std::vector<model::Span> appended;
  std::vector<AppendCallback> pending;
};

ExportRequest Request(int spans, std::string trace_id = std::string(16, '\x07')) {
  ExportRequest req;
  auto* ss = req.add_resource_spans()->add_scope_spans();
  for (int i = 0; i < spans; ++i) {
    auto* s = ss->add_spans();
    s->set_trace_id(trace_id);
    s->set_span_id(std::string(7, '\x01') + static_cast<char>(i + 1));
    s->set_name("s" + std::to_string(i));
    s->set_start_time_unix_nano(1);
    s->set_end_time_unix_nano(2);
  }
  return req;
}

class IngestServiceTest : public ::testing::Test {
 protected:
  IngestServiceTest() { Make({}); }
  void Make(IngestOptions o) { service_ = std::make_unique<IngestService>(&store_, &metrics_, o); }

  // Submits and returns the result if the callback has run.
  std::optional<IngestResult> Submit(std::string body, BodyFormat f = BodyFormat::kProtobuf, bool gzip = false,
                                     std::string project = "") {
    std::optional<IngestResult> out;
    result_ = &out;
    IngestRequest r;
    r.body = std::move(body);
    r.format = f;
    r.gzip = gzip;
    r.project = std::move(project);
    service_->Submit(std::move(r), [this](IngestResult res) { *result_ = std::move(res); });
    return out;
  }
  bool Has(const std::string& line) { return metrics_.Render().find(line) != std::string::npos; }

  HoldingStore store_;
  MetricsRegistry metrics_;
  std::unique_ptr<IngestService> service_;
  std::optional<IngestResult>* result_ = nullptr;
};

TEST_F(IngestServiceTest, AnswersOnlyWhenTheStoreCompletes) {
  std::optional<IngestResult> out;
  IngestRequest r;
  r.body = Request(3).SerializeAsString();
  r.project = "proj";
  service_->Submit(std::move(r), [&](IngestResult res) { out = std::move(res); });
  EXPECT_FALSE(out.has_value()) << "answered before the spans were durable";
  ASSERT_EQ(store_.appended.size(), 3u);
  EXPECT_EQ(store_.appended[0].project(), "proj");
  EXPECT_GT(store_.appended[0].received_ns(), 0);
  store_.CompleteAll(Status::OK());
  ASSERT_TRUE(out.has_value());
  EXPECT_TRUE(out->status.ok());
  EXPECT_EQ(out->accepted, 3);
  EXPECT_EQ(out->rejected, 0);
  EXPECT_TRUE(Has("sightline_spans_received_total 3\n"));
  EXPECT_TRUE(Has("sightline_spans_accepted_total 3\n"));
}

TEST_F(IngestServiceTest, StoreFailureFailsTheRequest) {
  Submit(Request(2).SerializeAsString());
  std::optional<IngestResult> out;
  result_ = &out;
  store_.CompleteAll(Status::IOError("fsync failed"));
  ASSERT_TRUE(out.has_value());
  EXPECT_EQ(out->status.code(), StatusCode::kIOError);
  EXPECT_EQ(out->accepted, 0);
  EXPECT_TRUE(Has("sightline_spans_accepted_total 0\n"));
  EXPECT_TRUE(Has("sightline_requests_rejected_total{reason=\"store_error\"} 1\n"));
}

TEST_F(IngestServiceTest, RefusalsAnswerAtOnce) {
  store_.refuse = Status::ResourceExhausted("queue full");
  auto out = Submit(Request(1).SerializeAsString());
  ASSERT_TRUE(out.has_value());
  EXPECT_EQ(out->status.code(), StatusCode::kResourceExhausted);
  EXPECT_TRUE(Has("sightline_requests_rejected_total{reason=\"queue_full\"} 1\n"));
  store_.refuse = Status::Unavailable("closing");
  out = Submit(Request(1).SerializeAsString());
  EXPECT_EQ(out->status.code(), StatusCode::kUnavailable);
  EXPECT_TRUE(Has("sightline_requests_rejected_total{reason=\"unavailable\"} 1\n"));
}

TEST_F(IngestServiceTest, ZeroSpansIsOkImmediately) {
  auto out = Submit("");
  ASSERT_TRUE(out.has_value());
  EXPECT_TRUE(out->status.ok());
  EXPECT_EQ(out->accepted, 0);
  EXPECT_TRUE(store_.appended.empty());
}

TEST_F(IngestServiceTest, DecodeErrorsAreInvalidArgument) {
  auto out = Submit(std::string("\x0a\xff\xff\xff\x0f", 5));
  ASSERT_TRUE(out.has_value());
  EXPECT_EQ(out->status.code(), StatusCode::kInvalidArgument);
  EXPECT_FALSE(out->status.message().empty());
  out = Submit("[1,2", BodyFormat::kJson);
  EXPECT_EQ(out->status.code(), StatusCode::kInvalidArgument);
  out = Submit("plainly not gzip", BodyFormat::kJson, true);
  EXPECT_EQ(out->status.code(), StatusCode::kInvalidArgument);
  EXPECT_TRUE(Has("sightline_requests_rejected_total{reason=\"decode_error\"} 3\n"));
}

TEST_F(IngestServiceTest, LimitsApplyAfterInflation) {
  IngestOptions o;
  o.max_request_bytes = 1000;
  Make(o);
  auto out = Submit(std::string(1001, 'x'));
  EXPECT_EQ(out->status.code(), StatusCode::kTooLarge);
  out = Submit(Gzip(std::string(100000, 'x')), BodyFormat::kProtobuf, true);
  EXPECT_EQ(out->status.code(), StatusCode::kTooLarge);
  EXPECT_TRUE(Has("sightline_requests_rejected_total{reason=\"too_large\"} 2\n"));
  // Under the limit, gzip works and counts the wire bytes.
  std::string body = Request(1).SerializeAsString();
  std::string zipped = Gzip(body);
  Submit(zipped, BodyFormat::kProtobuf, true);
  EXPECT_EQ(store_.appended.size(), 1u);
  EXPECT_TRUE(Has("sightline_ingest_bytes_total{encoding=\"gzip\"} " +
                  std::to_string(zipped.size() + Gzip(std::string(100000, 'x')).size()) + "\n"));
}

TEST_F(IngestServiceTest, PartialSuccessMergesDecoderAndNormaliserReasons) {
  // One span with a bad JSON id (dropped by the decoder), one with a short trace id
  // (rejected by the normaliser), one good.
  std::string body = R"({"resourceSpans":[{"scopeSpans":[{"spans":[
    {"traceId":"zz","spanId":"0101010101010101","name":"bad-hex"},
    {"traceId":"0707","spanId":"0101010101010102","name":"short"},
    {"traceId":"07070707070707070707070707070707","spanId":"0101010101010103","name":"good"}]}]}]})";
  Submit(body, BodyFormat::kJson);
  std::optional<IngestResult> out;
  result_ = &out;
  ASSERT_EQ(store_.appended.size(), 1u);
  EXPECT_EQ(store_.appended[0].name(), "good");
  store_.CompleteAll(Status::OK());
  ASSERT_TRUE(out.has_value());
  EXPECT_TRUE(out->status.ok());
  EXPECT_EQ(out->accepted, 1);
  EXPECT_EQ(out->rejected, 2);
  EXPECT_NE(out->message.find("traceId"), std::string::npos) << out->message;
  EXPECT_NE(out->message.find("; "), std::string::npos) << out->message;
  EXPECT_TRUE(Has("sightline_spans_received_total 3\n"));
  EXPECT_TRUE(Has("sightline_spans_rejected_total{reason=\"invalid_id\"} 1\n"));
  EXPECT_TRUE(Has("sightline_spans_rejected_total{reason=\"invalid_trace_id\"} 1\n"));
}

TEST_F(IngestServiceTest, AllSpansInvalidAnswersAtOnceWithRejections) {
  auto out = Submit(Request(2, "short").SerializeAsString());
  ASSERT_TRUE(out.has_value());
  EXPECT_TRUE(out->status.ok());
  EXPECT_EQ(out->rejected, 2);
  EXPECT_FALSE(out->message.empty());
  EXPECT_TRUE(store_.appended.empty());
}

// One model-call span: `chat` operation, provider, model, token counts and, when
// reported >= 0, a client-reported cost.
void AddLlmSpan(ExportRequest* req, int n, const std::string& model, int64_t in, int64_t out, double reported = -1) {
  auto* s = req->mutable_resource_spans(0)->mutable_scope_spans(0)->add_spans();
  s->set_trace_id(std::string(16, '\x09'));
  s->set_span_id(std::string(7, '\x02') + static_cast<char>(n));
  s->set_name("chat " + model);
  s->set_start_time_unix_nano(1'760'000'000'000'000'000);  // 2025-10-09
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
  if (reported >= 0) attr("gen_ai.usage.cost")->set_double_value(reported);
}

TEST_F(IngestServiceTest, PricesModelCallsBeforeTheStoreKeepingReportedCosts) {
  MemEnv env;
  ASSERT_TRUE(env.CreateDir("/data").ok());
  env.PutFile("/data/pricing.toml", R"(
[[model]]
id = "acme/test-llm"
provider = "acme"
match = 'test-llm(-\d+)?'
[[model.price]]
from = "2025-01-01"
input = 2.0
output = 8.0
)");
  auto pricing = pipeline::PricingService::Create(
      {.env = &env, .user_file = "/data/pricing.toml", .metrics = &metrics_});
  ASSERT_TRUE(pricing.ok()) << pricing.status().ToString();
  IngestOptions o;
  o.pricing = pricing->get();
  Make(o);

  ExportRequest req = Request(1);  // span 0: a plain span, never priced
  AddLlmSpan(&req, 1, "test-llm-2", 1000, 500);
  AddLlmSpan(&req, 2, "test-llm", 1000, 500, /*reported=*/0.5);
  AddLlmSpan(&req, 3, "mystery-model", 10, 10);
  AddLlmSpan(&req, 4, "mystery-model", 10, 10);
  Submit(req.SerializeAsString());
  ASSERT_EQ(store_.appended.size(), 5u);
  const auto& plain = store_.appended[0];
  EXPECT_FALSE(plain.has_cost_usd());
  EXPECT_FALSE(plain.has_computed_cost_usd());

  const double want = 1000 * 2.0 / 1e6 + 500 * 8.0 / 1e6;  // 0.006
  const auto& computed = store_.appended[1];
  EXPECT_EQ(computed.cost_source(), model::v1::COST_COMPUTED);
  EXPECT_DOUBLE_EQ(computed.cost_usd(), want);
  EXPECT_DOUBLE_EQ(computed.computed_cost_usd(), want);

  const auto& reported = store_.appended[2];  // the client's figure wins, ours is kept
  EXPECT_EQ(reported.cost_source(), model::v1::COST_REPORTED);
  EXPECT_DOUBLE_EQ(reported.cost_usd(), 0.5);
  EXPECT_DOUBLE_EQ(reported.reported_cost_usd(), 0.5);
  EXPECT_DOUBLE_EQ(reported.computed_cost_usd(), want);

  const auto& unknown = store_.appended[3];
  EXPECT_FALSE(unknown.has_cost_usd());
  EXPECT_EQ(unknown.cost_source(), model::v1::COST_UNKNOWN);
  auto unpriced = (*pricing)->Unpriced();
  ASSERT_EQ(unpriced.size(), 1u);
  EXPECT_EQ(unpriced[0].provider, "acme");
  EXPECT_EQ(unpriced[0].model, "mystery-model");
  EXPECT_EQ(unpriced[0].spans, 2);
  EXPECT_TRUE(Has("sightline_spans_priced_total 2\n"));
  EXPECT_TRUE(Has("sightline_spans_unpriced_total 2\n"));
  EXPECT_TRUE(Has("sightline_pricing_reload_errors_total 0\n"));
}

TEST_F(IngestServiceTest, WithoutPricingOnlyReportedCostsAreKept) {
  ExportRequest req = Request(0);
  AddLlmSpan(&req, 1, "gpt-4o", 1000, 500);
  AddLlmSpan(&req, 2, "gpt-4o", 1000, 500, /*reported=*/0.25);
  Submit(req.SerializeAsString());
  ASSERT_EQ(store_.appended.size(), 2u);
  EXPECT_FALSE(store_.appended[0].has_cost_usd());
  EXPECT_FALSE(store_.appended[0].has_computed_cost_usd());
  EXPECT_DOUBLE_EQ(store_.appended[1].cost_usd(), 0.25);
  EXPECT_FALSE(store_.appended[1].has_computed_cost_usd());
  EXPECT_FALSE(Has("sightline_spans_priced_total"));
}

// Side-effecting tool calls reach the audit trail from the redacted, normalised spans,
// and the request is acknowledged only once the store and the trail both made it
// durable.
TEST_F(IngestServiceTest, AuditsSideEffectingToolCallsBeforeAcknowledging) {
  MemEnv env;
  audit::AuditLogOptions ao;
  ao.env = &env;
  ao.dir = "/data/audit";
  auto log = audit::AuditLog::Open(ao);
  ASSERT_TRUE(log.ok());
  auto redaction = pipeline::RedactionService::Create({.env = &env, .policy_file = "", .key_file = ""});
  ASSERT_TRUE(redaction.ok());
  audit::SideEffectPolicy policy({"send_*"});
  IngestOptions o;
  o.audit = log->get();
  o.side_effects = &policy;
  o.redaction = redaction->get();
  Make(o);

  ExportRequest req = Request(6);
  auto* spans = req.mutable_resource_spans(0)->mutable_scope_spans(0)->mutable_spans();
  const std::string secret = "sk-proj-abcdefghijklmnopqrstuvwxyz0123456789";
  for (int i = 0; i < 6; ++i) {
    auto* kv = (*spans)[i].add_attributes();
    kv->set_key("gen_ai.tool.name");
    kv->mutable_value()->set_string_value(i % 2 == 0 ? "send_email" : "search");
    kv = (*spans)[i].add_attributes();
    kv->set_key("gen_ai.tool.call.arguments");
    kv->mutable_value()->set_string_value("{\"key\":\"" + secret + "\",\"i\":" + std::to_string(i) + "}");
    kv = (*spans)[i].add_attributes();
    kv->set_key("session.id");
    kv->mutable_value()->set_string_value("ticket-9421");
  }
  std::promise<IngestResult> answered;
  auto fut = answered.get_future();
  IngestRequest r;
  r.body = req.SerializeAsString();
  service_->Submit(std::move(r), [&](IngestResult res) { answered.set_value(std::move(res)); });
  ASSERT_EQ(store_.appended.size(), 6u);
  EXPECT_EQ(fut.wait_for(std::chrono::milliseconds(200)), std::future_status::timeout)
      << "answered before the spans were durable";
  store_.CompleteAll(Status::OK());
  ASSERT_EQ(fut.wait_for(std::chrono::seconds(10)), std::future_status::ready);
  IngestResult res = fut.get();
  EXPECT_TRUE(res.status.ok()) << res.status.ToString();
  EXPECT_EQ(res.accepted, 6);

  std::vector<audit::AuditRecord> records;
  ASSERT_TRUE(audit::ScanAuditRecords(&env, "/data/audit", 0, [&](const audit::AuditRecord& rec) {
                records.push_back(rec);
                return true;
              }).ok());
  ASSERT_EQ(records.size(), 3u);
  for (size_t k = 0; k < records.size(); ++k) {
    const model::Span& stored = store_.appended[2 * k];
    EXPECT_EQ(records[k].target, "tool/send_email");
    EXPECT_NE(records[k].details_json.find("ticket-9421"), std::string::npos);
    // The hash of the arguments as stored: after redaction.
    EXPECT_EQ(stored.input_json().find(secret), std::string::npos);
    EXPECT_NE(records[k].details_json.find(audit::Sha256Hex(stored.input_json())), std::string::npos)
        << records[k].details_json << " vs " << stored.input_json();
    EXPECT_EQ(records[k].line.find(secret), std::string::npos);
  }
}

TEST_F(IngestServiceTest, AFailingAuditTrailFailsTheRequest) {
  MemEnv env;
  FaultInjectionEnv fenv(&env);
  audit::AuditLogOptions ao;
  ao.env = &fenv;
  ao.dir = "/data/audit";
  auto log = audit::AuditLog::Open(ao);
  ASSERT_TRUE(log.ok());
  audit::SideEffectPolicy policy({"*"});
  IngestOptions o;
  o.audit = log->get();
  o.side_effects = &policy;
  Make(o);
  ExportRequest req = Request(1);
  auto* kv = req.mutable_resource_spans(0)->mutable_scope_spans(0)->mutable_spans(0)->add_attributes();
  kv->set_key("gen_ai.tool.name");
  kv->mutable_value()->set_string_value("rm");
  fenv.FailNth(FaultInjectionEnv::Op::kSync, 1, Status::IOError("injected"));
  std::promise<IngestResult> answered;
  IngestRequest r;
  r.body = req.SerializeAsString();
  service_->Submit(std::move(r), [&](IngestResult res) { answered.set_value(std::move(res)); });
  store_.CompleteAll(Status::OK());
  auto fut = answered.get_future();
  ASSERT_EQ(fut.wait_for(std::chrono::seconds(10)), std::future_status::ready);
  IngestResult res = fut.get();
  EXPECT_EQ(res.status.code(), StatusCode::kUnavailable) << res.status.ToString();
  EXPECT_TRUE(Has("sightline_requests_rejected_total{reason=\"audit\"} 1"));
}

}  // namespace
}  // namespace sightline::ingest
