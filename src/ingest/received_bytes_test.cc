// The WAL record written from the request's received bytes (IngestOptions::
// copy_received_bytes, store/span_codec.h ReceivedParts) parses into the same spans as
// the record serialized from the canonical spans alone, with the same metas: on random
// requests (resources, scopes, events, links, nested values, bad ids), on a model call
// whose history the record form shares, when sanitising cuts values (those parts are
// serialized again) and when redaction changes the request (the whole request is).
#include <cmath>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <random>

#include <gtest/gtest.h>

#include "common/metrics.h"
#include "ingest/ingest_service.h"
#include "ingest/otlp_test_util.h"
#include "ingest/otlp_walk.h"
#include "pipeline/redaction_service.h"
#include "store/span_codec.h"
#include "store/write_only_store.h"

namespace sightline::ingest {
namespace {

// Encodes what it is given as EmbeddedStore does (EncodedBatch), keeps the records, and
// counts the spans it got with received parts.
class RecordingStore : public store::WriteOnlyStore {
 public:
  bool TakesReceivedParts() const override { return true; }
  Status AppendReceived(model::SpanList* spans, const store::ReceivedParts& parts, AppendCallback done) override {
    store::EncodedBatch b;
    SL_RETURN_IF_ERROR(b.EncodeRecord(spans, parts));
    for (const auto& p : parts.spans) received_parts += p.from_bytes != 0;
    return Keep(std::move(b), std::move(done));
  }
  Status AppendSpans(model::SpanList* spans, AppendCallback done) override {
    store::EncodedBatch b;
    SL_RETURN_IF_ERROR(b.EncodeRecord(spans));
    return Keep(std::move(b), std::move(done));
  }
  Status Append(std::vector<model::Span>, AppendCallback) override { return Status::Internal("unused"); }

  std::vector<store::EncodedBatch> batches;
  int64_t received_parts = 0;

 private:
  Status Keep(store::EncodedBatch b, AppendCallback done) {
    batches.push_back(std::move(b));
    done(Status::OK());
    return Status::OK();
  }
};

// One ingest service over a RecordingStore.
struct Side {
  explicit Side(IngestOptions o) : service(&store, &metrics, o) {}
  void Submit(std::string body) {
    IngestRequest r;
    r.body = std::move(body);
    service.Submit(std::move(r), [](IngestResult) {});
  }
  RecordingStore store;
  MetricsRegistry metrics;
  IngestService service;
};

// Whether the two stores hold records of the same spans, with the same metas.
void ExpectSameRecords(const RecordingStore& a, const RecordingStore& b, const std::string& what) {
  ASSERT_EQ(a.batches.size(), b.batches.size()) << what;
  for (size_t i = 0; i < a.batches.size(); ++i) {
    const store::EncodedBatch& x = a.batches[i];
    const store::EncodedBatch& y = b.batches[i];
    ASSERT_EQ(x.metas.size(), y.metas.size()) << what;
    std::vector<std::string_view> xs, ys;
    ASSERT_TRUE(store::SplitSpanBatch(x.payload, &xs)) << what;
    ASSERT_TRUE(store::SplitSpanBatch(y.payload, &ys)) << what;
    ASSERT_EQ(xs.size(), x.metas.size()) << what;
    ASSERT_EQ(ys.size(), y.metas.size()) << what;
    for (size_t k = 0; k < xs.size(); ++k) {
      ASSERT_EQ(x.SpanBytes(k), xs[k]) << what;  // the metas point at the spans' bytes
      ASSERT_EQ(y.SpanBytes(k), ys[k]) << what;
      model::Span sx, sy;
      ASSERT_TRUE(sx.ParseFromString(std::string(xs[k]))) << what;
      ASSERT_TRUE(sy.ParseFromString(std::string(ys[k]))) << what;
      sx.clear_received_ns();  // each side's own clock
      sy.clear_received_ns();
      // Serialized again in canonical field order: equal bytes, NaN attribute values included.
      EXPECT_EQ(sx.SerializeAsString(), sy.SerializeAsString())
          << what << ", span " << k << ":\n" << sx.DebugString() << "\nagainst\n" << sy.DebugString();
      const store::SpanFacts fx = x.Facts(k), fy = y.Facts(k);
      EXPECT_EQ(fx.trace, fy.trace) << what;
      EXPECT_EQ(fx.span_id, fy.span_id) << what;
      EXPECT_EQ(fx.flagged, fy.flagged) << what;
      EXPECT_EQ(fx.eval_failed, fy.eval_failed) << what;
      EXPECT_TRUE(fx.min_score == fy.min_score || (std::isnan(fx.min_score) && std::isnan(fy.min_score))) << what;
      EXPECT_EQ(fx.session_id, fy.session_id) << what;
      EXPECT_EQ(fx.service, fy.service) << what;
    }
  }
}

IngestOptions Copying(bool copy) {
  IngestOptions o;
  o.copy_received_bytes = copy;
  return o;
}

TEST(ReceivedBytes, RandomRequestsRecordTheSameSpans) {
  Side copied(Copying(true)), serialized(Copying(false));
  std::mt19937_64 rng(20261207);
  int walked = 0;
  for (int i = 0; i < 1500; ++i) {
    ExportRequest req = testing::RandomRequest(rng);
    std::string body = req.SerializeAsString();
    RequestView view;
    walked += WalkExportRequest(body, &view);
    copied.Submit(body);
    serialized.Submit(body);
  }
  ExpectSameRecords(copied.store, serialized.store, "random requests");
  // The comparison is not vacuous: most requests were walked, and their spans written
  // from their bytes; the other side never was.
  EXPECT_GT(walked, 1000);
  EXPECT_GT(copied.store.received_parts, 1000);
  EXPECT_EQ(serialized.store.received_parts, 0);
}

// A model call with a shared history (the record form), events and a link, with the
// resource's and scope's attributes.
ExportRequest ModelCall(const std::string& secret = "") {
  ExportRequest req;
  auto* rs = req.add_resource_spans();
  auto* rattr = rs->mutable_resource()->add_attributes();
  rattr->set_key("service.name");
  rattr->mutable_value()->set_string_value("support-agent");
  auto* ss = rs->add_scope_spans();
  ss->mutable_scope()->set_name("opentelemetry.instrumentation.openai");
  auto* sattr = ss->mutable_scope()->add_attributes();
  sattr->set_key("scope.tag");
  sattr->mutable_value()->set_int_value(7);
  for (int i = 0; i < 3; ++i) {
    auto* s = ss->add_spans();
    s->set_trace_id(std::string(15, '\x05') + static_cast<char>(1 + i));
    s->set_span_id(std::string(7, '\x02') + static_cast<char>(1 + i));
    s->set_name("chat gpt-4o");
    s->set_start_time_unix_nano(1'000'000'000 + i);
    s->set_end_time_unix_nano(2'000'000'000 + i);
    auto add = [s](const std::string& k, const std::string& v) {
      auto* kv = s->add_attributes();
      kv->set_key(k);
      kv->mutable_value()->set_string_value(v);
    };
    add("gen_ai.operation.name", "chat");
    add("gen_ai.request.model", "gpt-4o");
    add("gen_ai.conversation.id", "ticket-" + std::to_string(i));
    std::string history = R"([{"role":"user","parts":[{"type":"text","content":"Where is my order?)" + secret +
                          R"("}]})";
    for (int t = 0; t < 8; ++t)
      history += R"(,{"role":"assistant","parts":[{"type":"text","content":"Turn )" + std::to_string(t) +
                 R"(: looking it up, one moment please while I check the carrier's records."}]})";
    add("gen_ai.input.messages", history + "]");
    add("gen_ai.output.messages",
        R"([{"role":"assistant","parts":[{"type":"text","content":"It ships today."}],"finish_reason":"stop"}])");
    auto* keep = s->add_attributes();
    keep->set_key("sightline.keep");
    keep->mutable_value()->set_bool_value(true);
    auto* ev = s->add_events();
    ev->set_name("gen_ai.evaluation.result");
    ev->set_time_unix_nano(1'500'000'000);
    auto* score = ev->add_attributes();
    score->set_key("gen_ai.evaluation.score.value");
    score->mutable_value()->set_double_value(0.25 * i);
    auto* link = s->add_links();
    link->set_trace_id(std::string(16, '\x09'));
    link->set_span_id(std::string(8, '\x03'));
    link->set_trace_state("vendor=1");
  }
  return req;
}

TEST(ReceivedBytes, AModelCallWithASharedHistoryRecordsTheSameSpans) {
  Side copied(Copying(true)), serialized(Copying(false));
  const std::string body = ModelCall().SerializeAsString();
  copied.Submit(body);
  serialized.Submit(body);
  ExpectSameRecords(copied.store, serialized.store, "model call");
  ASSERT_EQ(copied.store.received_parts, 3);
  // The history went into the record form on both sides: the record holds it once.
  const store::EncodedBatch& b = copied.store.batches.at(0);
  model::Span s;
  ASSERT_TRUE(s.ParseFromString(std::string(b.SpanBytes(0))));
  EXPECT_EQ(s.input_tail_key(), "gen_ai.input.messages");
  EXPECT_TRUE(s.input_json().empty());
  size_t history = 0;
  for (const auto& kv : s.attributes())
    if (kv.key() == "gen_ai.input.messages") history = kv.value().string_value().size();
  EXPECT_GT(history, 1000u);
  EXPECT_LT(b.SpanBytes(0).size(), history + 800);
  EXPECT_EQ(s.resource_size(), 1);
  EXPECT_EQ(s.scope_attributes_size(), 1);
  EXPECT_EQ(s.events_size(), 1);
  EXPECT_EQ(s.links_size(), 1);
  EXPECT_TRUE(b.Facts(0).flagged);
  EXPECT_EQ(b.Facts(2).min_score, 0.5);
}

TEST(ReceivedBytes, CutValuesAreSerializedAgainAndTheRestCopied) {
  IngestOptions o = Copying(true), p = Copying(false);
  o.max_attribute_bytes = p.max_attribute_bytes = 600;  // cuts each span's history
  Side copied(o), serialized(p);
  const std::string body = ModelCall().SerializeAsString();
  copied.Submit(body);
  serialized.Submit(body);
  ExpectSameRecords(copied.store, serialized.store, "cut values");
  // Each span's own attributes were cut, so they are serialized; the resource's and the
  // scope's were not, so those still come from the bytes.
  ASSERT_EQ(copied.store.received_parts, 3);
  model::Span s;
  ASSERT_TRUE(s.ParseFromString(std::string(copied.store.batches.at(0).SpanBytes(0))));
  bool cut = false;
  for (const auto& kv : s.attributes())
    cut |= kv.key() == "gen_ai.input.messages" && kv.value().string_value().find("[truncated") != std::string::npos;
  EXPECT_TRUE(cut);
}

TEST(ReceivedBytes, ARedactedRequestIsSerializedWhole) {
  MetricsRegistry metrics;
  auto redaction = pipeline::RedactionService::Create({});
  ASSERT_TRUE(redaction.ok()) << redaction.status().ToString();
  IngestOptions o = Copying(true), p = Copying(false);
  o.redaction = p.redaction = redaction->get();
  Side copied(o), serialized(p);
  // A credential the built-in policy masks, then a request with nothing to redact.
  const std::string dirty = ModelCall(" My key is AKIAIOSFODNN7EXAMPLE.").SerializeAsString();
  const std::string clean = ModelCall().SerializeAsString();
  for (const std::string* body : {&dirty, &clean}) {
    copied.Submit(*body);
    serialized.Submit(*body);
  }
  ExpectSameRecords(copied.store, serialized.store, "redaction");
  ASSERT_EQ(copied.store.batches.size(), 2u);
  EXPECT_EQ(copied.store.received_parts, 3);  // the clean request's spans only
  model::Span s;
  ASSERT_TRUE(s.ParseFromString(std::string(copied.store.batches[0].SpanBytes(0))));
  for (const auto& kv : s.attributes()) EXPECT_EQ(kv.value().string_value().find("AKIA"), std::string::npos);
}

// The walk fuzzer's seed corpus, with the fuzzer's small attribute limit (so that some
// values are cut): the same spans either way.
TEST(ReceivedBytes, TheWalkFuzzersSeedsRecordTheSameSpans) {
  IngestOptions o = Copying(true), p = Copying(false);
  o.max_attribute_bytes = p.max_attribute_bytes = 64;
  Side copied(o), serialized(p);
  const std::filesystem::path dir = std::filesystem::path(SIGHTLINE_SOURCE_DIR) / "tests/fuzz/corpus/otlp_walk_fuzz";
  int files = 0;
  for (const auto& entry : std::filesystem::directory_iterator(dir)) {
    std::ifstream f(entry.path(), std::ios::binary);
    ASSERT_TRUE(f) << entry.path();
    const std::string body((std::istreambuf_iterator<char>(f)), std::istreambuf_iterator<char>());
    copied.Submit(body);
    serialized.Submit(body);
    ++files;
  }
  EXPECT_GE(files, 5);
  ExpectSameRecords(copied.store, serialized.store, "seed corpus");
  EXPECT_GT(copied.store.received_parts, 0);
}

}  // namespace
}  // namespace sightline::ingest
