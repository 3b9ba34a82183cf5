// DecodeColumns reads the protobuf wire format of model::v1::Span directly instead of
// parsing each span into a message: a scan touches a few fields of many spans, and
// walking tags lets it take string_views of the bytes it was given (no copies) and
// skip payloads (input/output, events) it was not asked for at the cost of one
// length read. Field numbers are those of proto/sightline/model/v1/span.proto, which
// are frozen.
#include "store/columnar/span_columns.h"

#include <cstring>

#include "store/shared_payload.h"
#include "store/span_codec.h"

namespace sightline::store::columnar {
namespace {

enum WireType : uint32_t { kVarint = 0, kFixed64 = 1, kLen = 2, kFixed32 = 5 };

// A bounds-checked cursor over one message's bytes.
class Reader {
 public:
  explicit Reader(std::string_view b) : p_(b.data()), end_(b.data() + b.size()) {}
  bool done() const { return p_ >= end_; }

  bool Varint(uint64_t* v) {
    uint64_t r = 0;
    for (int shift = 0; shift < 64 && p_ < end_; shift += 7) {
      auto b = static_cast<uint8_t>(*p_++);
      r |= static_cast<uint64_t>(b & 0x7f) << shift;
      if (b < 0x80) {
        *v = r;
        return true;
      }
    }
    return false;
  }
  bool Fixed64(uint64_t* v) {
    if (end_ - p_ < 8) return false;
    uint64_t r = 0;
    for (int i = 0; i < 8; ++i) r |= static_cast<uint64_t>(static_cast<uint8_t>(p_[i])) << (8 * i);
    p_ += 8;
    *v = r;
    return true;
  }
  bool Bytes(std::string_view* v) {
    uint64_t n;
    if (!Varint(&n) || n > static_cast<uint64_t>(end_ - p_)) return false;
    *v = std::string_view(p_, static_cast<size_t>(n));
    p_ += n;
    return true;
  }
  // Skips a field of the given wire type; false on groups or truncation.
  bool Skip(uint32_t wire) {
    uint64_t v;
    std::string_view s;
    switch (wire) {
      case kVarint: return Varint(&v);
      case kFixed64: return Fixed64(&v);
      case kLen: return Bytes(&s);
      case kFixed32:
        if (end_ - p_ < 4) return false;
        p_ += 4;
        return true;
      default: return false;
    }
  }

 private:
  const char* p_;
  const char* end_;
};

// One span's fields as found in its bytes, defaults where absent.
struct ParsedRow {
  TraceKey trace;
  uint64_t span_id = 0, parent = 0;
  int64_t start = 0, end = 0;
  uint8_t kind = 0, status = 0;
  std::string_view project, name, service, environment, session_id, user_id, agent_name, model, tool_name,
      finish_reason, error_type, input, output;
  // The record form (store/shared_payload.h): a payload's head and the attribute it ends with.
  std::string_view input_head, input_key, output_head, output_key;
  int64_t tokens[5] = {kNullInt, kNullInt, kNullInt, kNullInt, kNullInt};
  int64_t step = kNullInt;
  double cost = std::numeric_limits<double>::quiet_NaN();
};

uint64_t IdBytes(std::string_view b) {
  uint64_t v = 0;
  std::memcpy(&v, b.data(), b.size() < 8 ? b.size() : 8);
  return v;
}

// An AnyValue's bytes walked: *only_string when they hold nothing but string_value
// fields (*saw_string when at least one, *s the last, as protobuf keeps it). False when
// they do not walk.
bool WalkAnyValue(std::string_view any, bool* only_string, bool* saw_string, std::string_view* s) {
  Reader r(any);
  *only_string = true;
  *saw_string = false;
  while (!r.done()) {
    uint64_t tag;
    if (!r.Varint(&tag)) return false;
    if ((tag >> 3) == 1 && (tag & 7) == kLen) {
      if (!r.Bytes(s)) return false;
      *saw_string = true;
    } else {
      *only_string = false;
      if (!r.Skip(static_cast<uint32_t>(tag & 7))) return false;
    }
  }
  return true;
}

// The text of one KeyValue's AnyValue: strings as views of `bytes`, everything else
// rendered by AnyValueText into storage (so attr.KEY=VALUE compares the same text).
bool AttrText(std::string_view any, std::deque<std::string>* storage, std::string_view* out) {
  bool only_string = false, saw_string = false;
  std::string_view s;
  if (!WalkAnyValue(any, &only_string, &saw_string, &s)) return false;
  if (only_string) {
    *out = saw_string ? s : std::string_view();
    return true;
  }
  opentelemetry::proto::common::v1::AnyValue v;
  if (!v.ParseFromArray(any.data(), static_cast<int>(any.size()))) return false;
  storage->push_back(AnyValueText(v));
  *out = storage->back();
  return true;
}

bool ParseKeyValue(std::string_view kv, std::deque<std::string>* storage, std::string_view* key,
                   std::string_view* value) {
  Reader r(kv);
  *key = *value = std::string_view();
  while (!r.done()) {
    uint64_t tag;
    if (!r.Varint(&tag)) return false;
    const uint64_t field = tag >> 3;
    const auto wire = static_cast<uint32_t>(tag & 7);
    if (field == 1 && wire == kLen) {
      if (!r.Bytes(key)) return false;
    } else if (field == 2 && wire == kLen) {
      std::string_view any;
      if (!r.Bytes(&any) || !AttrText(any, storage, value)) return false;
    } else if (!r.Skip(wire)) {
      return false;
    }
  }
  return true;
}

// Parses one span; appends its attributes to out when asked. Returns what was wrong,
// or nullptr.
const char* ParseRow(std::string_view bytes, bool want_attrs, ParsedRow* row, SpanColumns* out,
                     std::deque<std::string>* storage) {
  Reader r(bytes);
  while (!r.done()) {
    uint64_t tag;
    if (!r.Varint(&tag)) return "truncated tag";
    const uint64_t field = tag >> 3;
    const auto wire = static_cast<uint32_t>(tag & 7);
    if (field == 0) return "field number 0";
    std::string_view* str = nullptr;
    int64_t* integer = nullptr;
    switch (field) {
      case 4: str = &row->project; break;
      case 5: str = &row->name; break;
      case 11: str = &row->error_type; break;
      case 13: str = &row->service; break;
      case 14: str = &row->environment; break;
      case 16: str = &row->session_id; break;
      case 17: str = &row->user_id; break;
      case 18: str = &row->agent_name; break;
      case 22: str = &row->model; break;
      case 31: str = &row->tool_name; break;
      case 35: str = &row->finish_reason; break;
      case 36: str = &row->input; break;
      case 37: str = &row->output; break;
      case 52: str = &row->input_head; break;
      case 53: str = &row->input_key; break;
      case 54: str = &row->output_head; break;
      case 55: str = &row->output_key; break;
      case 7: integer = &row->start; break;
      case 8: integer = &row->end; break;
      case 20: integer = &row->step; break;
      case 23: case 24: case 25: case 26: case 27: integer = &row->tokens[field - 23]; break;
      default: break;
    }
    if (str && wire == kLen) {
      if (!r.Bytes(str)) return "truncated string field";
    } else if (integer && wire == kVarint) {
      uint64_t v;
      if (!r.Varint(&v)) return "truncated integer field";
      *integer = static_cast<int64_t>(v);
    } else if ((field == 1 || field == 2 || field == 3) && wire == kLen) {
      std::string_view id;
      if (!r.Bytes(&id)) return "truncated id";
      if (field == 1) {
        if (id.size() != 16) return "trace_id is not 16 bytes";
        row->trace = TraceKey::FromBytes(id);
      } else if (!id.empty() && id.size() != 8) {
        return field == 2 ? "span_id is not 8 bytes" : "parent_span_id is not 8 bytes";
      } else {
        (field == 2 ? row->span_id : row->parent) = IdBytes(id);
      }
    } else if ((field == 6 || field == 9) && wire == kVarint) {
      uint64_t v;
      if (!r.Varint(&v)) return "truncated enum";
      (field == 6 ? row->kind : row->status) = static_cast<uint8_t>(v);
    } else if (field == 28 && wire == kFixed64) {
      uint64_t v;
      if (!r.Fixed64(&v)) return "truncated cost_usd";
      std::memcpy(&row->cost, &v, 8);
    } else if (field == 38 && wire == kLen && want_attrs) {
      std::string_view kv, key, value;
      if (!r.Bytes(&kv)) return "truncated attribute";
      if (!ParseKeyValue(kv, storage, &key, &value)) return "malformed attribute";
      out->attr_keys.push_back(key);
      out->attr_values.push_back(value);
    } else if (!r.Skip(wire)) {
      return "truncated or unsupported field";
    }
  }
  return nullptr;
}

// The string value of the first attribute named key in a span's bytes (ParseRow
// checked that they walk), or false.
bool FirstStringAttr(std::string_view span, std::string_view key, std::string_view* value) {
  Reader r(span);
  while (!r.done()) {
    uint64_t tag;
    if (!r.Varint(&tag)) return false;
    const auto wire = static_cast<uint32_t>(tag & 7);
    if ((tag >> 3) != 38 || wire != kLen) {
      if (!r.Skip(wire)) return false;
      continue;
    }
    std::string_view kv, k, any;
    if (!r.Bytes(&kv)) return false;
    Reader f(kv);
    while (!f.done()) {
      uint64_t t;
      if (!f.Varint(&t)) return false;
      if ((t >> 3) == 1 && (t & 7) == kLen) {
        if (!f.Bytes(&k)) return false;
      } else if ((t >> 3) == 2 && (t & 7) == kLen) {
        if (!f.Bytes(&any)) return false;
      } else if (!f.Skip(static_cast<uint32_t>(t & 7))) {
        return false;
      }
    }
    if (k != key) continue;
    // The first attribute of that name: its value must be a string (AnyValue field 1).
    bool only_string = false, saw_string = false;
    return WalkAnyValue(any, &only_string, &saw_string, value) && only_string && saw_string;
  }
  return false;
}

// A payload in the record form put back together into storage (empty when its
// attribute is missing, as ResolvePayloads leaves it).
std::string_view Resolved(std::string_view span, std::string_view payload, std::string_view head,
                          std::string_view key, std::deque<std::string>* storage) {
  if (key.empty() || !payload.empty()) return payload;
  std::string_view value;
  if (!FirstStringAttr(span, key, &value) || value.empty()) return {};
  JoinShared(head, value, &storage->emplace_back());
  return storage->back();
}

}  // namespace

void SpanColumns::Clear() {
  rows = 0;
  mask = 0;
  trace_id.clear();
  span_id.clear();
  parent_span_id.clear();
  start_ns.clear();
  end_ns.clear();
  kind.clear();
  status.clear();
  for (auto* v : {&project, &name, &service, &environment, &session_id, &user_id, &agent_name, &model, &tool_name,
                  &finish_reason, &error_type, &attr_keys, &attr_values, &input_json, &output_json})
    v->clear();
  for (auto* v : {&input_tokens, &output_tokens, &cache_read_tokens, &cache_write_tokens, &reasoning_tokens, &step})
    v->clear();
  cost_usd.clear();
  attr_offsets.clear();
}

namespace {

template <typename T>
void KeepIn(std::vector<T>* v, size_t rows, const std::vector<uint8_t>& keep) {
  if (v->size() != rows) return;  // a column not filled
  size_t out = 0;
  for (size_t r = 0; r < rows; ++r)
    if (keep[r]) (*v)[out++] = (*v)[r];
  v->resize(out);
}

}  // namespace

void SpanColumns::KeepRows(const std::vector<uint8_t>& keep) {
  KeepIn(&trace_id, rows, keep);
  KeepIn(&span_id, rows, keep);
  KeepIn(&parent_span_id, rows, keep);
  KeepIn(&start_ns, rows, keep);
  KeepIn(&end_ns, rows, keep);
  KeepIn(&kind, rows, keep);
  KeepIn(&status, rows, keep);
  for (auto* v : {&project, &name, &service, &environment, &session_id, &user_id, &agent_name, &model, &tool_name,
                  &finish_reason, &error_type, &input_json, &output_json})
    KeepIn(v, rows, keep);
  for (auto* v : {&input_tokens, &output_tokens, &cache_read_tokens, &cache_write_tokens, &reasoning_tokens, &step})
    KeepIn(v, rows, keep);
  KeepIn(&cost_usd, rows, keep);
  if (attr_offsets.size() == rows + 1) {
    size_t out_row = 0, out_attr = 0;
    for (size_t r = 0; r < rows; ++r) {
      const uint32_t b = attr_offsets[r], e = attr_offsets[r + 1];
      if (!keep[r]) continue;
      attr_offsets[out_row++] = static_cast<uint32_t>(out_attr);
      for (uint32_t a = b; a < e; ++a, ++out_attr) {
        attr_keys[out_attr] = attr_keys[a];
        attr_values[out_attr] = attr_values[a];
      }
    }
    attr_offsets[out_row] = static_cast<uint32_t>(out_attr);
    attr_offsets.resize(out_row + 1);
    attr_keys.resize(out_attr);
    attr_values.resize(out_attr);
  }
  size_t kept = 0;
  for (size_t r = 0; r < rows; ++r) kept += keep[r] != 0;
  rows = kept;
}

Status DecodeColumns(const std::vector<std::string_view>& spans, uint64_t mask, SpanColumns* out,
                     std::deque<std::string>* storage) {
  out->Clear();
  mask &= kAll;
  out->mask = mask;
  const bool attrs = mask & kAttributes;
  if (attrs) out->attr_offsets.push_back(0);
  auto put = [&](uint64_t bit, auto& column, const auto& value) {
    if (mask & bit) column.push_back(value);
  };
  ParsedRow row;
  for (size_t i = 0; i < spans.size(); ++i) {
    row = ParsedRow();
    if (const char* err = ParseRow(spans[i], attrs, &row, out, storage)) {
      out->Clear();
      return Status::Corruption("span row " + std::to_string(i) + " does not parse: " + err);
    }
    put(kTraceId, out->trace_id, row.trace);
    put(kSpanId, out->span_id, row.span_id);
    put(kParentSpanId, out->parent_span_id, row.parent);
    put(kProject, out->project, row.project);
    put(kName, out->name, row.name);
    put(kKind, out->kind, row.kind);
    put(kStart, out->start_ns, row.start);
    put(kEnd, out->end_ns, row.end);
    put(kStatus, out->status, row.status);
    put(kService, out->service, row.service);
    put(kEnvironment, out->environment, row.environment);
    put(kSessionId, out->session_id, row.session_id);
    put(kUserId, out->user_id, row.user_id);
    put(kAgentName, out->agent_name, row.agent_name);
    put(kModel, out->model, row.model);
    put(kToolName, out->tool_name, row.tool_name);
    if (mask & kTokens) {
      out->input_tokens.push_back(row.tokens[0]);
      out->output_tokens.push_back(row.tokens[1]);
      out->cache_read_tokens.push_back(row.tokens[2]);
      out->cache_write_tokens.push_back(row.tokens[3]);
      out->reasoning_tokens.push_back(row.tokens[4]);
    }
    put(kCost, out->cost_usd, row.cost);
    put(kFinishReason, out->finish_reason, row.finish_reason);
    put(kErrorType, out->error_type, row.error_type);
    put(kStep, out->step, row.step);
    if (attrs) out->attr_offsets.push_back(static_cast<uint32_t>(out->attr_keys.size()));
    if (mask & kInput) out->input_json.push_back(Resolved(spans[i], row.input, row.input_head, row.input_key, storage));
    if (mask & kOutput)
      out->output_json.push_back(Resolved(spans[i], row.output, row.output_head, row.output_key, storage));
  }
  out->rows = spans.size();
  return Status::OK();
}

}  // namespace sightline::store::columnar
