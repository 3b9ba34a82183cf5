#include "store/span_codec.h"

#include <algorithm>
#include <charconv>
#include <cmath>
#include <cstring>
#include <iterator>
#include <limits>
#include <utility>

#include "common/hex.h"
#include "store/coding.h"
#include "store/shared_payload.h"

namespace sightline::store {
namespace {

using opentelemetry::proto::common::v1::AnyValue;

void AppendJsonString(std::string_view s, std::string* out) {
  out->push_back('"');
  for (char c : s) {
    if (c == '"' || c == '\\') {
      out->push_back('\\');
      out->push_back(c);
    } else if (static_cast<unsigned char>(c) < 0x20) {
      char b[8];
      std::snprintf(b, sizeof(b), "\\u%04x", static_cast<unsigned>(static_cast<unsigned char>(c)));
      out->append(b);
    } else {
      out->push_back(c);
    }
  }
  out->push_back('"');
}

void RenderValue(const AnyValue& v, bool nested, std::string* out) {
  switch (v.value_case()) {
    case AnyValue::kStringValue:
      if (nested) {
        AppendJsonString(v.string_value(), out);
      } else {
        out->append(v.string_value());
      }
      return;
    case AnyValue::kBoolValue: out->append(v.bool_value() ? "true" : "false"); return;
    case AnyValue::kIntValue: out->append(std::to_string(v.int_value())); return;
    case AnyValue::kDoubleValue: {
      char b[32];
      auto r = std::to_chars(b, b + sizeof(b), v.double_value());
      out->append(b, r.ptr);
      return;
    }
    case AnyValue::kBytesValue: {
      std::string h = HexEncode(v.bytes_value());
      if (nested) {
        AppendJsonString(h, out);
      } else {
        out->append(h);
      }
      return;
    }
    case AnyValue::kArrayValue: {
      out->push_back('[');
      bool first = true;
      for (const auto& e : v.array_value().values()) {
        if (!first) out->push_back(',');
        first = false;
        RenderValue(e, true, out);
      }
      out->push_back(']');
      return;
    }
    case AnyValue::kKvlistValue: {
      out->push_back('{');
      bool first = true;
      for (const auto& kv : v.kvlist_value().values()) {
        if (!first) out->push_back(',');
        first = false;
        AppendJsonString(kv.key(), out);
        out->push_back(':');
        RenderValue(kv.value(), true, out);
      }
      out->push_back('}');
      return;
    }
    default: out->append(nested ? "null" : ""); return;
  }
}

SpanMeta::Ref AddString(std::string* strings, std::string_view s) {
  SpanMeta::Ref r{static_cast<uint32_t>(strings->size()), static_cast<uint32_t>(s.size())};
  strings->append(s);
  return r;
}

}  // namespace

bool SplitSpanBatch(std::string_view batch, std::vector<std::string_view>* spans) {
  spans->clear();
  while (!batch.empty()) {
    if (static_cast<uint8_t>(batch[0]) != 0x0A) return false;
    batch.remove_prefix(1);
    std::string_view s;
    if (!GetLengthPrefixed(&batch, &s)) return false;
    spans->push_back(s);
  }
  return true;
}

Status ValidateSpanIds(const model::Span& span, size_t index) {
  auto bad = [&](const char* what, size_t want, size_t got) {
    return Status::InvalidArgument("span " + std::to_string(index) + ": " + what + " must be " +
                                   std::to_string(want) + " bytes, got " + std::to_string(got));
  };
  if (span.trace_id().size() != 16) return bad("trace_id", 16, span.trace_id().size());
  if (span.span_id().size() != 8) return bad("span_id", 8, span.span_id().size());
  if (!span.parent_span_id().empty() && span.parent_span_id().size() != 8)
    return bad("parent_span_id", 8, span.parent_span_id().size());
  return Status::OK();
}

uint64_t SpanIdToU64(std::string_view span_id) {
  uint64_t v = 0;
  std::memcpy(&v, span_id.data(), span_id.size() < 8 ? span_id.size() : 8);
  return v;
}

Status EncodedBatch::Encode(const std::vector<model::Span>& spans) { return EncodeAll(spans); }
Status EncodedBatch::Encode(const model::SpanList& spans) { return EncodeAll(spans); }
Status EncodedBatch::EncodeRecord(std::vector<model::Span>* spans) {
  for (model::Span& s : *spans) SharePayloads(&s);
  return EncodeAll(*spans);
}
Status EncodedBatch::EncodeRecord(model::SpanList* spans) {
  for (size_t i = 0; i < spans->size(); ++i) SharePayloads(&(*spans)[i]);
  return EncodeAll(std::as_const(*spans));
}

Status EncodedBatch::EncodeRecord(model::SpanList* spans, const ReceivedParts& parts) {
  if (parts.spans.size() != spans->size())
    return Status::Internal("received parts for " + std::to_string(parts.spans.size()) + " spans, appending " +
                            std::to_string(spans->size()));
  for (size_t i = 0; i < spans->size(); ++i) SharePayloads(&(*spans)[i]);
  return EncodeAllReceived(spans, parts);
}

namespace {

// The tags (span.proto's field numbers, length-delimited) of the fields ReceivedParts
// can hold, by ReceivedParts::Field.
constexpr uint64_t kReceivedTag[ReceivedParts::kFieldCount] = {38 << 3 | 2, 39 << 3 | 2, 40 << 3 | 2, 41 << 3 | 2,
                                                               50 << 3 | 2};

// Swaps the received fields (bit f of which) between a and b. Both are on one arena, so
// each swap exchanges pointers.
void SwapReceived(model::Span* a, model::Span* b, uint8_t which) {
  if (which & (1u << ReceivedParts::kAttributes)) a->mutable_attributes()->Swap(b->mutable_attributes());
  if (which & (1u << ReceivedParts::kResource)) a->mutable_resource()->Swap(b->mutable_resource());
  if (which & (1u << ReceivedParts::kEvents)) a->mutable_events()->Swap(b->mutable_events());
  if (which & (1u << ReceivedParts::kLinks)) a->mutable_links()->Swap(b->mutable_links());
  if (which & (1u << ReceivedParts::kScopeAttributes))
    a->mutable_scope_attributes()->Swap(b->mutable_scope_attributes());
}

// The fields of which (bits) that hold something in s: only those need a swap.
uint8_t NonEmptyReceived(const model::Span& s, uint8_t which) {
  const bool has[ReceivedParts::kFieldCount] = {!s.attributes().empty(), !s.resource().empty(), !s.events().empty(),
                                                !s.links().empty(), !s.scope_attributes().empty()};
  uint8_t out = 0;
  for (int f = 0; f < ReceivedParts::kFieldCount; ++f)
    if (has[f]) out |= which & (1u << f);
  return out;
}

}  // namespace

Status EncodedBatch::EncodeAllReceived(model::SpanList* spans, const ReceivedParts& parts) {
  // The span's received fields are moved aside into scratch while it is serialized, and
  // back before its meta is read (AddMeta reads attributes and events).
  google::protobuf::Arena* arena = spans->empty() ? nullptr : (*spans)[0].GetArena();
  model::Span heap_scratch;
  model::Span* scratch = arena != nullptr ? google::protobuf::Arena::CreateMessage<model::Span>(arena) : &heap_scratch;
  size_t estimate = 0;
  for (std::string_view e : parts.elements) estimate += e.size() + 8;
  payload.clear();
  payload.reserve(estimate + 256 * spans->size());  // grown below when the spans' own fields need more
  metas.reserve(spans->size());
  for (size_t i = 0; i < spans->size(); ++i) {
    model::Span& s = (*spans)[i];
    SL_RETURN_IF_ERROR(ValidateSpanIds(s, i));
    const ReceivedParts::Span& p = parts.spans[i];
    const uint8_t swapped = NonEmptyReceived(s, p.from_bytes);
    if (swapped != 0) SwapReceived(&s, scratch, swapped);
    const size_t own = s.ByteSizeLong();
    size_t n = own;
    for (int f = 0; f < ReceivedParts::kFieldCount; ++f) {
      if (!(p.from_bytes & (1u << f))) continue;
      const size_t tag = VarintLength(kReceivedTag[f]);
      for (uint32_t e = p.begin[f]; e < p.end[f]; ++e)
        n += tag + VarintLength(parts.elements[e].size()) + parts.elements[e].size();
    }
    if (n > UINT32_MAX / 2) {
      if (swapped != 0) SwapReceived(&s, scratch, swapped);
      return Status::TooLarge("span " + std::to_string(i) + " is larger than 2 GiB");
    }
    const size_t used = payload.size(), need = used + 1 + VarintLength(n) + n;
    if (payload.capacity() < need) payload.reserve(std::max(need, 2 * payload.capacity()));
    payload.resize(need);  // within the capacity: fills only this span's bytes
    char* out = payload.data() + used;
    *out++ = 0x0A;
    out = EncodeVarint64(out, n);
    const auto off = static_cast<uint32_t>(out - payload.data());
    s.SerializeWithCachedSizesToArray(reinterpret_cast<uint8_t*>(out));
    out += own;
    for (int f = 0; f < ReceivedParts::kFieldCount; ++f) {
      if (!(p.from_bytes & (1u << f))) continue;
      for (uint32_t e = p.begin[f]; e < p.end[f]; ++e) {
        const std::string_view el = parts.elements[e];
        out = EncodeVarint64(out, kReceivedTag[f]);
        out = EncodeVarint64(out, el.size());
        if (!el.empty()) std::memcpy(out, el.data(), el.size());
        out += el.size();
      }
    }
    if (swapped != 0) SwapReceived(&s, scratch, swapped);
    AddMeta(s, off, static_cast<uint32_t>(n));
  }
  return Status::OK();
}

template <typename Spans>
Status EncodedBatch::EncodeAll(const Spans& spans) {
  size_t total = 0;
  for (size_t i = 0; i < spans.size(); ++i) {
    SL_RETURN_IF_ERROR(ValidateSpanIds(spans[i], i));
    size_t n = spans[i].ByteSizeLong();
    if (n > UINT32_MAX / 2) return Status::TooLarge("span " + std::to_string(i) + " is larger than 2 GiB");
    total += 1 + VarintLength(n) + n;
  }
  payload.resize(total);
  metas.reserve(spans.size());
  char* p = payload.data();
  for (const auto& s : spans) {
    size_t n = s.GetCachedSize();
    *p++ = 0x0A;
    p = EncodeVarint64(p, n);
    auto off = static_cast<uint32_t>(p - payload.data());
    s.SerializeWithCachedSizesToArray(reinterpret_cast<uint8_t*>(p));
    p += n;
    AddMeta(s, off, static_cast<uint32_t>(n));
  }
  return Status::OK();
}

namespace {

// Evaluation results (OpenTelemetry GenAI semantic conventions: the event
// gen_ai.evaluation.result, or a span carrying its attributes, as SDKs that emit
// events as spans do): gen_ai.evaluation.score.value is a score; error.type on one
// means the evaluator failed. A span of kind evaluator that failed is an evaluator
// failure too. Tail sampling flags traces by them (docs/sampling.md).
void ReadEvaluation(const ::google::protobuf::RepeatedPtrField<::opentelemetry::proto::common::v1::KeyValue>& attrs,
                    bool is_event, SpanMeta* m) {
  bool is_eval = is_event, failed = false;
  double score = std::numeric_limits<double>::quiet_NaN();
  for (const auto& kv : attrs) {
    const std::string& k = kv.key();
    if (k.size() < 10 || (k[0] != 'g' && k[0] != 'e')) continue;  // most keys: one compare
    const auto& v = kv.value();
    if (k == "gen_ai.evaluation.score.value") {
      is_eval = true;
      if (v.value_case() == v.kDoubleValue) score = v.double_value();
      if (v.value_case() == v.kIntValue) score = static_cast<double>(v.int_value());
    } else if (k == "gen_ai.evaluation.name") {
      is_eval = true;
    } else if (k == "error.type") {
      failed = true;
    }
  }
  if (!is_eval) return;
  if (failed) m->eval_failed = true;
  if (!std::isnan(score) && !(score >= m->min_score)) m->min_score = score;  // NaN min_score: none yet
}

void ReadEvaluations(const model::Span& cols, const model::Span* extra, SpanMeta* m) {
  if (cols.kind() == model::v1::KIND_EVALUATOR && cols.status() == model::v1::STATUS_ERROR) m->eval_failed = true;
  if (extra == nullptr) return;
  ReadEvaluation(extra->attributes(), false, m);
  for (const auto& e : extra->events())
    if (e.name() == kEvaluationEventName) ReadEvaluation(e.attributes(), true, m);
}

}  // namespace

bool IsMetaAttribute(std::string_view key) {
  return key == "sightline.keep" || key == "gen_ai.evaluation.score.value" || key == "gen_ai.evaluation.name" ||
         key == "error.type";
}

void EncodedBatch::AddMeta(const model::Span& s, const model::Span* extra, uint32_t off, uint32_t len) {
  SpanMeta m;
  m.trace = TraceKey::FromBytes(s.trace_id());
  m.span_id = SpanIdToU64(s.span_id());
  m.is_root = s.parent_span_id().empty();
  m.kind = static_cast<uint8_t>(s.kind());
  m.status = static_cast<uint8_t>(s.status());
  m.start_ns = s.start_ns();
  m.end_ns = s.end_ns();
  m.input_tokens = s.input_tokens();
  m.output_tokens = s.output_tokens();
  m.cost_usd = s.cost_usd();
  m.cache_read_tokens = s.cache_read_tokens();
  m.cache_write_tokens = s.cache_write_tokens();
  m.reasoning_tokens = s.reasoning_tokens();
  m.has_cost = s.has_cost_usd();
  m.truncated = s.finish_reason() == "length";
  if (extra != nullptr) {
    for (const auto& kv : extra->attributes()) {
      if (kv.key() != "sightline.keep") continue;  // sampling::kFlagAttribute
      const auto& v = kv.value();
      m.flagged = (v.value_case() == v.kBoolValue && v.bool_value()) ||
                  (v.value_case() == v.kStringValue && v.string_value() == "true");
    }
  }
  ReadEvaluations(s, extra, &m);
  m.bytes = {off, len};
  m.project = AddString(&strings, s.project());
  m.name = AddString(&strings, s.name());
  m.service = AddString(&strings, s.service());
  m.environment = AddString(&strings, s.environment());
  m.session_id = AddString(&strings, s.session_id());
  m.user_id = AddString(&strings, s.user_id());
  m.agent_name = AddString(&strings, s.agent_name());
  m.model = AddString(&strings, s.model());
  m.tool_name = AddString(&strings, s.tool_name());
  metas.push_back(m);
}

SpanFacts EncodedBatch::Facts(size_t i) const {
  const SpanMeta& m = metas[i];
  std::string_view str(strings);
  auto get = [&](SpanMeta::Ref r) { return str.substr(r.off, r.len); };
  SpanFacts f;
  f.trace = m.trace;
  f.span_id = m.span_id;
  f.is_root = m.is_root;
  f.kind = static_cast<model::SpanKind>(m.kind);
  f.status = static_cast<model::SpanStatus>(m.status);
  f.start_ns = m.start_ns;
  f.end_ns = m.end_ns;
  f.input_tokens = m.input_tokens;
  f.output_tokens = m.output_tokens;
  f.cost_usd = m.cost_usd;
  f.cache_read_tokens = m.cache_read_tokens;
  f.cache_write_tokens = m.cache_write_tokens;
  f.reasoning_tokens = m.reasoning_tokens;
  f.has_cost = m.has_cost;
  f.truncated = m.truncated;
  f.flagged = m.flagged;
  f.eval_failed = m.eval_failed;
  f.min_score = m.min_score;
  f.project = get(m.project);
  f.name = get(m.name);
  f.service = get(m.service);
  f.environment = get(m.environment);
  f.session_id = get(m.session_id);
  f.user_id = get(m.user_id);
  f.agent_name = get(m.agent_name);
  f.model = get(m.model);
  f.tool_name = get(m.tool_name);
  return f;
}

std::string AnyValueText(const AnyValue& v) {
  std::string out;
  RenderValue(v, false, &out);
  return out;
}

bool SpanHasAttr(const model::Span& span, std::string_view key, std::string_view value) {
  for (const auto* list : {&span.attributes(), &span.resource()}) {
    for (const auto& kv : *list) {
      if (kv.key() != key) continue;
      if (kv.value().value_case() == AnyValue::kStringValue) {
        if (kv.value().string_value() == value) return true;
      } else if (AnyValueText(kv.value()) == value) {
        return true;
      }
    }
  }
  return false;
}

std::string AsciiLower(std::string_view s) {
  std::string out(s);
  for (char& c : out)
    if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
  return out;
}

namespace {
inline char FoldAscii(char c) { return c >= 'A' && c <= 'Z' ? static_cast<char>(c - 'A' + 'a') : c; }
}  // namespace

CaseFoldFinder::CaseFoldFinder(std::string needle_lower) : needle_(std::move(needle_lower)) {
  const size_t n = needle_.size();
  std::fill(std::begin(shift_), std::end(shift_), static_cast<uint8_t>(n == 0 || n > 255 ? 1 : n));
  if (n == 0 || n > 255) return;
  for (size_t i = 0; i + 1 < n; ++i) shift_[static_cast<uint8_t>(needle_[i])] = static_cast<uint8_t>(n - 1 - i);
}

bool CaseFoldFinder::In(std::string_view h) const {
  const size_t n = needle_.size();
  if (n == 0) return true;
  if (h.size() < n) return false;
  if (n < 3 || n > 255) return ContainsIgnoreCase(h, needle_);
  const char* hay = h.data();
  const char* nd = needle_.data();
  const char last = nd[n - 1];
  for (size_t i = 0; i + n <= h.size();) {
    const char c = FoldAscii(hay[i + n - 1]);
    if (c == last) {
      size_t j = 0;
      while (j + 1 < n && FoldAscii(hay[i + j]) == nd[j]) ++j;
      if (j + 1 == n) return true;
    }
    i += shift_[static_cast<uint8_t>(c)];
  }
  return false;
}

bool ContainsIgnoreCase(std::string_view h, std::string_view needle) {
  if (needle.empty()) return true;
  if (h.size() < needle.size()) return false;
  auto lower = [](char c) { return c >= 'A' && c <= 'Z' ? static_cast<char>(c - 'A' + 'a') : c; };
  const char first = needle[0];
  for (size_t i = 0; i + needle.size() <= h.size(); ++i) {
    if (lower(h[i]) != first) continue;
    size_t j = 1;
    while (j < needle.size() && lower(h[i + j]) == needle[j]) ++j;
    if (j == needle.size()) return true;
  }
  return false;
}

}  // namespace sightline::store
