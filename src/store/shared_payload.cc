#include "store/shared_payload.h"

#include <climits>

namespace sightline::store {
namespace {

using KeyValues = google::protobuf::RepeatedPtrField<opentelemetry::proto::common::v1::KeyValue>;

const std::string* FirstString(const KeyValues& attrs, std::string_view key) {
  for (const auto& kv : attrs) {
    if (kv.key() != key) continue;
    if (kv.value().value_case() != opentelemetry::proto::common::v1::AnyValue::kStringValue) return nullptr;
    return &kv.value().string_value();
  }
  return nullptr;
}

// The attribute whose value[1:] the payload ends with, or null.
const opentelemetry::proto::common::v1::KeyValue* SharedWith(const KeyValues& attrs, const std::string& payload) {
  if (payload.size() < kMinSharedBytes) return nullptr;
  for (const auto& kv : attrs) {
    const auto& v = kv.value();
    if (v.value_case() != opentelemetry::proto::common::v1::AnyValue::kStringValue) continue;
    const std::string& s = v.string_value();
    if (s.size() < kMinSharedBytes || s.size() > payload.size()) continue;
    const size_t tail = s.size() - 1;
    if (payload.compare(payload.size() - tail, tail, s, 1, tail) != 0) continue;
    if (FirstString(attrs, kv.key()) != &s) continue;  // a repeated key: readers take the first
    return &kv;
  }
  return nullptr;
}

// Cuts *payload to its head, moved into *head (no copy of the payload's bytes).
void CutToHead(std::string* payload, size_t tail, std::string* head) {
  payload->resize(payload->size() - tail);
  head->swap(*payload);
  payload->clear();
}

bool ResolveOne(const KeyValues& attrs, std::string* payload, std::string* head, std::string* tail_key) {
  if (tail_key->empty()) return true;
  const std::string* value = FirstString(attrs, *tail_key);
  bool ok = value != nullptr && !value->empty();
  if (ok && payload->empty()) JoinShared(*head, *value, payload);
  head->clear();
  tail_key->clear();
  return ok;
}

}  // namespace

void JoinShared(std::string_view head, std::string_view attr_value, std::string* out) {
  out->clear();
  if (attr_value.empty()) return;
  out->reserve(head.size() + attr_value.size() - 1);
  out->append(head);
  out->append(attr_value.substr(1));
}

int SharePayloads(model::Span* span) {
  if (!span->input_tail_key().empty() || !span->output_tail_key().empty()) return 0;
  const KeyValues& attrs = span->attributes();
  int n = 0;
  if (const auto* kv = SharedWith(attrs, span->input_json())) {
    CutToHead(span->mutable_input_json(), kv->value().string_value().size() - 1, span->mutable_input_head());
    span->set_input_tail_key(kv->key());
    ++n;
  }
  if (const auto* kv = SharedWith(attrs, span->output_json())) {
    CutToHead(span->mutable_output_json(), kv->value().string_value().size() - 1, span->mutable_output_head());
    span->set_output_tail_key(kv->key());
    ++n;
  }
  return n;
}

bool ParseStoredSpan(std::string_view bytes, model::Span* span, bool payloads) {
  if (bytes.size() > INT32_MAX || !span->ParseFromArray(bytes.data(), static_cast<int>(bytes.size()))) return false;
  if (payloads) (void)ResolvePayloads(span);  // a missing attribute leaves the payload empty, as it reads
  return true;
}

bool ResolvePayloads(model::Span* span) {
  if (span->input_tail_key().empty() && span->output_tail_key().empty()) return true;
  const KeyValues& attrs = span->attributes();
  bool ok = ResolveOne(attrs, span->mutable_input_json(), span->mutable_input_head(), span->mutable_input_tail_key());
  ok &= ResolveOne(attrs, span->mutable_output_json(), span->mutable_output_head(), span->mutable_output_tail_key());
  return ok;
}

}  // namespace sightline::store
