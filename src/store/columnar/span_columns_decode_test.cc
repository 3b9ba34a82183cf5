// DecodeColumns against protobuf's own parser: every column of randomly filled spans,
// column masks, and damaged bytes.
#include <gtest/gtest.h>

#include <cmath>
#include <random>

#include "store/columnar/span_columns.h"
#include "store/span_codec.h"

namespace sightline::store::columnar {
namespace {

using opentelemetry::proto::common::v1::AnyValue;

std::string Bytes(std::mt19937_64& rng, size_t n) {
  std::string s(n, '\0');
  for (auto& c : s) c = static_cast<char>(rng());
  return s;
}

model::Span RandomSpan(std::mt19937_64& rng, int i) {
  model::Span s;
  s.set_trace_id(Bytes(rng, 16));
  s.set_span_id(Bytes(rng, 8));
  if (rng() % 3) s.set_parent_span_id(Bytes(rng, 8));
  auto maybe = [&](auto set, const std::string& v) {
    if (rng() % 2) set(v);
  };
  maybe([&](const std::string& v) { s.set_project(v); }, "proj" + std::to_string(i % 3));
  maybe([&](const std::string& v) { s.set_name(v); }, "name" + std::to_string(i));
  maybe([&](const std::string& v) { s.set_service(v); }, "svc");
  maybe([&](const std::string& v) { s.set_environment(v); }, "prod");
  maybe([&](const std::string& v) { s.set_session_id(v); }, "sess" + std::to_string(i % 4));
  maybe([&](const std::string& v) { s.set_user_id(v); }, "user");
  maybe([&](const std::string& v) { s.set_agent_name(v); }, "agent");
  maybe([&](const std::string& v) { s.set_model(v); }, "gpt");
  maybe([&](const std::string& v) { s.set_tool_name(v); }, "search");
  maybe([&](const std::string& v) { s.set_finish_reason(v); }, "length");
  maybe([&](const std::string& v) { s.set_error_type(v); }, "Timeout");
  maybe([&](const std::string& v) { s.set_input_json(v); }, "\"in\"");
  maybe([&](const std::string& v) { s.set_output_json(v); }, std::string(5000, 'o'));
  s.set_kind(static_cast<model::SpanKind>(rng() % 12));
  s.set_status(static_cast<model::SpanStatus>(rng() % 4));
  s.set_start_ns(static_cast<int64_t>(rng() >> 2) - (1ll << 60));  // negative ones too
  s.set_end_ns(s.start_ns() + static_cast<int64_t>(rng() % 1000000));
  if (rng() % 2) s.set_step(static_cast<int64_t>(rng() % 50));
  if (rng() % 2) s.set_input_tokens(static_cast<int64_t>(rng() % 10000));
  if (rng() % 2) s.set_output_tokens(0);  // present and zero is not null
  if (rng() % 2) s.set_cache_read_tokens(7);
  if (rng() % 2) s.set_cache_write_tokens(8);
  if (rng() % 2) s.set_reasoning_tokens(9);
  if (rng() % 2) s.set_cost_usd(0.001 * static_cast<double>(rng() % 1000));
  s.set_received_ns(123);
  int attrs = static_cast<int>(rng() % 4);
  for (int a = 0; a < attrs; ++a) {
    auto* kv = s.add_attributes();
    kv->set_key("k" + std::to_string(a));
    AnyValue* v = kv->mutable_value();
    switch (rng() % 5) {
      case 0: v->set_string_value("text" + std::to_string(a)); break;
      case 1: v->set_int_value(-42); break;
      case 2: v->set_double_value(0.25); break;
      case 3: v->set_bool_value(true); break;
      default: v->mutable_array_value()->add_values()->set_string_value("x"); break;
    }
  }
  s.add_resource()->set_key("service.name");
  s.add_events()->set_name("ev");
  return s;
}

int64_t Opt(bool has, int64_t v) { return has ? v : kNullInt; }

TEST(SpanColumnsDecodeTest, EveryColumnMatchesProtobuf) {
  std::mt19937_64 rng(3);
  std::vector<std::string> owned;
  std::vector<model::Span> spans;
  for (int i = 0; i < 300; ++i) {
    spans.push_back(RandomSpan(rng, i));
    owned.push_back(spans.back().SerializeAsString());
  }
  std::vector<std::string_view> views(owned.begin(), owned.end());
  SpanColumns c;
  std::deque<std::string> storage;
  ASSERT_TRUE(DecodeColumns(views, kAll, &c, &storage).ok());
  ASSERT_EQ(c.rows, spans.size());
  ASSERT_EQ(c.attr_offsets.size(), spans.size() + 1);
  for (size_t r = 0; r < spans.size(); ++r) {
    const model::Span& s = spans[r];
    SCOPED_TRACE(r);
    EXPECT_TRUE(c.trace_id[r] == TraceKey::FromBytes(s.trace_id()));
    EXPECT_EQ(c.span_id[r], SpanIdToU64(s.span_id()));
    EXPECT_EQ(c.parent_span_id[r], s.parent_span_id().empty() ? 0 : SpanIdToU64(s.parent_span_id()));
    EXPECT_EQ(c.project[r], s.project());
    EXPECT_EQ(c.name[r], s.name());
    EXPECT_EQ(c.kind[r], s.kind());
    EXPECT_EQ(c.status[r], s.status());
    EXPECT_EQ(c.start_ns[r], s.start_ns());
    EXPECT_EQ(c.end_ns[r], s.end_ns());
    EXPECT_EQ(c.service[r], s.service());
    EXPECT_EQ(c.environment[r], s.environment());
    EXPECT_EQ(c.session_id[r], s.session_id());
    EXPECT_EQ(c.user_id[r], s.user_id());
    EXPECT_EQ(c.agent_name[r], s.agent_name());
    EXPECT_EQ(c.model[r], s.model());
    EXPECT_EQ(c.tool_name[r], s.tool_name());
    EXPECT_EQ(c.finish_reason[r], s.finish_reason());
    EXPECT_EQ(c.error_type[r], s.error_type());
    EXPECT_EQ(c.input_json[r], s.input_json());
    EXPECT_EQ(c.output_json[r], s.output_json());
    EXPECT_EQ(c.step[r], Opt(s.has_step(), s.step()));
    EXPECT_EQ(c.input_tokens[r], Opt(s.has_input_tokens(), s.input_tokens()));
    EXPECT_EQ(c.output_tokens[r], Opt(s.has_output_tokens(), s.output_tokens()));
    EXPECT_EQ(c.cache_read_tokens[r], Opt(s.has_cache_read_tokens(), s.cache_read_tokens()));
    EXPECT_EQ(c.cache_write_tokens[r], Opt(s.has_cache_write_tokens(), s.cache_write_tokens()));
    EXPECT_EQ(c.reasoning_tokens[r], Opt(s.has_reasoning_tokens(), s.reasoning_tokens()));
    if (s.has_cost_usd()) {
      EXPECT_EQ(c.cost_usd[r], s.cost_usd());
    } else {
      EXPECT_TRUE(IsNull(c.cost_usd[r]));
    }
    ASSERT_EQ(c.attr_offsets[r + 1] - c.attr_offsets[r], static_cast<uint32_t>(s.attributes_size()));
    for (int a = 0; a < s.attributes_size(); ++a) {
      size_t k = c.attr_offsets[r] + static_cast<size_t>(a);
      EXPECT_EQ(c.attr_keys[k], s.attributes(a).key());
      EXPECT_EQ(c.attr_values[k], AnyValueText(s.attributes(a).value()));
    }
  }
}

TEST(SpanColumnsDecodeTest, OnlyRequestedColumnsAreFilled) {
  std::mt19937_64 rng(4);
  std::string a = RandomSpan(rng, 1).SerializeAsString(), b = RandomSpan(rng, 2).SerializeAsString();
  SpanColumns c;
  std::deque<std::string> storage;
  ASSERT_TRUE(DecodeColumns({a, b}, kStart | kToolName | kTokens, &c, &storage).ok());
  EXPECT_EQ(c.rows, 2u);
  EXPECT_EQ(c.mask, kStart | kToolName | kTokens);
  EXPECT_EQ(c.start_ns.size(), 2u);
  EXPECT_EQ(c.tool_name.size(), 2u);
  EXPECT_EQ(c.reasoning_tokens.size(), 2u);
  EXPECT_TRUE(c.end_ns.empty());
  EXPECT_TRUE(c.project.empty());
  EXPECT_TRUE(c.attr_offsets.empty());
  EXPECT_TRUE(c.cost_usd.empty());
  // A second decode into the same struct replaces, never appends.
  ASSERT_TRUE(DecodeColumns({a}, kStart, &c, &storage).ok());
  EXPECT_EQ(c.rows, 1u);
  EXPECT_EQ(c.start_ns.size(), 1u);
  EXPECT_TRUE(c.tool_name.empty());
  ASSERT_TRUE(DecodeColumns({}, kAll, &c, &storage).ok());
  EXPECT_EQ(c.rows, 0u);
}

TEST(SpanColumnsDecodeTest, DamagedBytesAreCorruptionNamingTheRow) {
  std::mt19937_64 rng(5);
  std::string good = RandomSpan(rng, 1).SerializeAsString();
  SpanColumns c;
  std::deque<std::string> storage;
  // Every truncation and random garbage: an error or a parse, never a crash.
  for (size_t n = 0; n < good.size(); ++n) {
    std::string cut = good.substr(0, n);
    (void)DecodeColumns({good, cut}, kAll, &c, &storage);
  }
  for (int i = 0; i < 2000; ++i) {
    std::string junk = Bytes(rng, rng() % 64);
    Status s = DecodeColumns({junk}, kAll, &c, &storage);
    if (!s.ok()) {
      EXPECT_EQ(s.code(), StatusCode::kCorruption);
      EXPECT_EQ(c.rows, 0u);
    }
  }
  std::string bad_id = good;
  bad_id[1] = 5;  // trace_id length 16 -> 5
  Status s = DecodeColumns({good, good, bad_id}, kAll, &c, &storage);
  ASSERT_FALSE(s.ok());
  EXPECT_EQ(s.code(), StatusCode::kCorruption);
  EXPECT_NE(s.message().find("row 2"), std::string::npos) << s.message();
}

}  // namespace
}  // namespace sightline::store::columnar
