// IngestService: the pipeline from body bytes to SpanStore::Append, with a fake store
// that holds the append callbacks so the tests control when "durable" happens.
#include "ingest/ingest_service.h"

#include <mutex>
#include <optional>

#include <gtest/gtest.h>

#include "ingest/otlp_decode.h"

namespace sightline::ingest {
namespace {

// Records appends; completes them only when the test says so.
class HoldingStore : public store::SpanStore {
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
  Result<store::TracePage> SearchTraces(const store::TraceQuery&) override { return Status::Internal("unused"); }
  Result<store::TraceDetail> GetTrace(const std::string&, const std::vector<std::string>&) override {
    return Status::Internal("unused");
  }
  Result<model::Span> GetSpan(const std::string&, const std::string&, const std::vector<std::string>&) override {
    return Status::Internal("unused");
  }
  Result<store::SessionPage> SearchSessions(const store::SessionQuery&) override { return Status::Internal("unused"); }
  Result<store::SessionDetail> GetSession(const std::string&, const std::vector<std::string>&) override {
    return Status::Internal("unused");
  }
  store::StoreStats Stats() override { return {}; }
  Status Close() override { return Status::OK(); }

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

}  // namespace
}  // namespace sightline::ingest
