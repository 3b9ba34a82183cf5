// Test helpers for the OTLP decoders (header-only: only *_test.cc files include it):
// a realistic ExportTraceServiceRequest and randomised ones for round-trip properties.
#pragma once

#include <cstdint>
#include <random>
#include <string>

#include "ingest/otlp_decode.h"

namespace sightline::ingest::testing {

namespace otrace = ::opentelemetry::proto::trace::v1;
namespace ocommon = ::opentelemetry::proto::common::v1;

inline void AddString(google::protobuf::RepeatedPtrField<ocommon::KeyValue>* kvs, std::string key, std::string value) {
  auto* kv = kvs->Add();
  kv->set_key(std::move(key));
  kv->mutable_value()->set_string_value(std::move(value));
}

// One resource, one scope, a parent and a child span with attributes of every AnyValue
// kind, an event, a link and statuses.
inline ExportRequest SampleRequest() {
  ExportRequest req;
  auto* rs = req.add_resource_spans();
  AddString(rs->mutable_resource()->mutable_attributes(), "service.name", "research-agent");
  rs->set_schema_url("https://opentelemetry.io/schemas/1.26.0");
  auto* ss = rs->add_scope_spans();
  ss->mutable_scope()->set_name("openinference.instrumentation.openai");
  ss->mutable_scope()->set_version("0.1.12");
  auto* root = ss->add_spans();
  root->set_trace_id(std::string("\x5b\x8e\xfc\xf4\x9e\x71\x4c\x02\x91\x3a\x0b\x4e\x7f\x2d\x11\xaa", 16));
  root->set_span_id(std::string("\x01\x02\x03\x04\x05\x06\x07\x08", 8));
  root->set_name("agent.run");
  root->set_kind(otrace::Span::SPAN_KIND_INTERNAL);
  root->set_start_time_unix_nano(1718000000000000000ull);
  root->set_end_time_unix_nano(1718000002500000000ull);
  root->set_flags(0x301);
  AddString(root->mutable_attributes(), "openinference.span.kind", "AGENT");
  auto* child = ss->add_spans();
  child->set_trace_id(root->trace_id());
  child->set_span_id(std::string("\xff\xee\xdd\xcc\xbb\xaa\x99\x88", 8));
  child->set_parent_span_id(root->span_id());
  child->set_name("ChatCompletion");
  child->set_kind(otrace::Span::SPAN_KIND_CLIENT);
  child->set_start_time_unix_nano(1718000000100000000ull);
  child->set_end_time_unix_nano(1718000001900000000ull);
  auto* attrs = child->mutable_attributes();
  AddString(attrs, "llm.model_name", "gpt-4o-mini \xE2\x9C\x93");
  auto* tokens = attrs->Add();
  tokens->set_key("llm.token_count.prompt");
  tokens->mutable_value()->set_int_value(-1234567890123ll);
  auto* temp = attrs->Add();
  temp->set_key("llm.temperature");
  temp->mutable_value()->set_double_value(0.7);
  auto* stream = attrs->Add();
  stream->set_key("llm.stream");
  stream->mutable_value()->set_bool_value(true);
  auto* blob = attrs->Add();
  blob->set_key("raw");
  blob->mutable_value()->set_bytes_value(std::string("\x00\xff\x10", 3));
  auto* list = attrs->Add();
  list->set_key("tags");
  list->mutable_value()->mutable_array_value()->add_values()->set_string_value("a");
  list->mutable_value()->mutable_array_value()->add_values()->set_int_value(2);
  auto* map = attrs->Add();
  map->set_key("meta");
  AddString(map->mutable_value()->mutable_kvlist_value()->mutable_values(), "k", "v");
  auto* ev = child->add_events();
  ev->set_name("exception");
  ev->set_time_unix_nano(1718000001000000000ull);
  AddString(ev->mutable_attributes(), "exception.message", "rate limited");
  auto* link = child->add_links();
  link->set_trace_id(std::string(16, '\x42'));
  link->set_span_id(std::string(8, '\x24'));
  link->set_flags(1);
  child->mutable_status()->set_code(otrace::Status::STATUS_CODE_ERROR);
  child->mutable_status()->set_message("429 Too Many Requests");
  return req;
}

// Random valid UTF-8 text: ASCII (quotes, backslashes, controls) and multi-byte chars.
inline std::string RandomText(std::mt19937_64& rng) {
  static const char* const kPieces[] = {"a", "Z", "0", " ", "\"", "\\", "/", "\n", "\t", "\x01", "\x7f",
                                        "\xC3\xA9", "\xE2\x82\xAC", "\xF0\x9F\x98\x80", "\xEF\xBF\xBD", "{", "]"};
  std::string s;
  size_t n = rng() % 12;
  for (size_t i = 0; i < n; ++i) s += kPieces[rng() % (sizeof kPieces / sizeof kPieces[0])];
  return s;
}

inline std::string RandomBytes(std::mt19937_64& rng, size_t n) {
  std::string s(n, '\0');
  for (auto& c : s) c = static_cast<char>(rng());
  return s;
}

inline void RandomAnyValue(std::mt19937_64& rng, ocommon::AnyValue* v, int depth) {
  switch (rng() % (depth > 3 ? 6 : 8)) {
    case 0: v->set_string_value(RandomText(rng)); break;
    case 1: v->set_bool_value(rng() % 2); break;
    case 2: v->set_int_value(static_cast<int64_t>(rng())); break;
    case 3: {
      double d = static_cast<double>(static_cast<int64_t>(rng())) / static_cast<double>(1 + rng() % 100000);
      v->set_double_value(rng() % 5 == 0 ? 1e-300 * d : d);
      break;
    }
    case 4: v->set_bytes_value(RandomBytes(rng, rng() % 9)); break;
    case 5: break;  // no value set
    case 6: {
      auto* arr = v->mutable_array_value();
      for (size_t i = rng() % 3; i > 0; --i) RandomAnyValue(rng, arr->add_values(), depth + 1);
      break;
    }
    default: {
      auto* kvs = v->mutable_kvlist_value();
      for (size_t i = rng() % 3; i > 0; --i) {
        auto* kv = kvs->add_values();
        kv->set_key(RandomText(rng));
        if (rng() % 4) RandomAnyValue(rng, kv->mutable_value(), depth + 1);
      }
    }
  }
}

inline void RandomAttributes(std::mt19937_64& rng, google::protobuf::RepeatedPtrField<ocommon::KeyValue>* kvs) {
  for (size_t i = rng() % 4; i > 0; --i) {
    auto* kv = kvs->Add();
    kv->set_key(RandomText(rng));
    if (rng() % 8) RandomAnyValue(rng, kv->mutable_value(), 0);
  }
}

inline ExportRequest RandomRequest(std::mt19937_64& rng) {
  ExportRequest req;
  for (size_t r = rng() % 3; r > 0; --r) {
    auto* rs = req.add_resource_spans();
    if (rng() % 4) {
      RandomAttributes(rng, rs->mutable_resource()->mutable_attributes());
      rs->mutable_resource()->set_dropped_attributes_count(static_cast<uint32_t>(rng() % 3));
      if (rng() % 4 == 0) {
        auto* ref = rs->mutable_resource()->add_entity_refs();
        ref->set_type("service");
        ref->add_id_keys("service.name");
        ref->add_description_keys(RandomText(rng));
      }
    }
    if (rng() % 2) rs->set_schema_url(RandomText(rng));
    for (size_t s = rng() % 3; s > 0; --s) {
      auto* ss = rs->add_scope_spans();
      if (rng() % 3) {
        ss->mutable_scope()->set_name(RandomText(rng));
        ss->mutable_scope()->set_version(RandomText(rng));
        RandomAttributes(rng, ss->mutable_scope()->mutable_attributes());
      }
      if (rng() % 3 == 0) ss->set_schema_url(RandomText(rng));
      for (size_t n = rng() % 4; n > 0; --n) {
        auto* span = ss->add_spans();
        span->set_trace_id(RandomBytes(rng, rng() % 5 == 0 ? rng() % 20 : 16));
        span->set_span_id(RandomBytes(rng, 8));
        if (rng() % 2) span->set_parent_span_id(RandomBytes(rng, 8));
        if (rng() % 3 == 0) span->set_trace_state("vendor=" + std::to_string(rng() % 100));
        span->set_flags(static_cast<uint32_t>(rng()));
        span->set_name(RandomText(rng));
        span->set_kind(static_cast<otrace::Span::SpanKind>(rng() % 7));  // 6: unknown value, kept
        span->set_start_time_unix_nano(rng());
        span->set_end_time_unix_nano(rng());
        RandomAttributes(rng, span->mutable_attributes());
        span->set_dropped_attributes_count(static_cast<uint32_t>(rng() % 2));
        for (size_t e = rng() % 3; e > 0; --e) {
          auto* ev = span->add_events();
          ev->set_time_unix_nano(rng());
          ev->set_name(RandomText(rng));
          RandomAttributes(rng, ev->mutable_attributes());
          ev->set_dropped_attributes_count(static_cast<uint32_t>(rng() % 2));
        }
        span->set_dropped_events_count(static_cast<uint32_t>(rng() % 2));
        for (size_t l = rng() % 2; l > 0; --l) {
          auto* link = span->add_links();
          link->set_trace_id(RandomBytes(rng, 16));
          link->set_span_id(RandomBytes(rng, 8));
          link->set_trace_state(RandomText(rng));
          link->set_flags(static_cast<uint32_t>(rng() % 1024));
          RandomAttributes(rng, link->mutable_attributes());
          link->set_dropped_attributes_count(static_cast<uint32_t>(rng() % 2));
        }
        span->set_dropped_links_count(static_cast<uint32_t>(rng() % 2));
        if (rng() % 2) {
          span->mutable_status()->set_code(static_cast<otrace::Status::StatusCode>(rng() % 3));
          span->mutable_status()->set_message(RandomText(rng));
        }
      }
    }
  }
  return req;
}

}  // namespace sightline::ingest::testing
