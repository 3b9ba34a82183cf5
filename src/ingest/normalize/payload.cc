// Shared payload helpers of the convention files (declared in convention.h).
#include "ingest/normalize/convention.h"

namespace sightline::ingest::norm {

std::string_view SpanInput::Text(const AnyValue* v) {
  if (v == nullptr) return {};
  if (v->value_case() == AnyValue::kStringValue) return v->string_value();
  std::string s;
  if (!ScalarText(v, &s)) return {};
  return Own(std::move(s));
}

std::string PayloadJson(SpanInput& in, std::string_view text, bool output, bool as_value,
                        bool json_encoded) {
  JsonOut out = in.NewJson();
  ScratchDocument doc;
  if ((json_encoded || LooksLikeJsonContainer(text)) && ParseJson(text, &doc)) {
    std::vector<Message> msgs;
    if (!as_value && MessagesFromJson(doc, output, &out, &msgs)) WriteMessages(msgs, &out);
    else out.Value(doc);
  } else if (as_value) {
    out.JsonOrString(text);  // "42", "true", "\"quoted\"" arguments keep their JSON type
  } else {
    out.String(text);
  }
  return out.Take();
}

std::string PayloadJson(SpanInput& in, const AnyValue& v, bool output, bool as_value,
                        bool json_encoded) {
  if (v.value_case() == AnyValue::kStringValue)
    return PayloadJson(in, v.string_value(), output, as_value, json_encoded);
  JsonOut out = in.NewJson();
  if (!as_value && (v.value_case() == AnyValue::kArrayValue || v.value_case() == AnyValue::kKvlistValue)) {
    ScratchDocument doc;
    std::vector<Message> msgs;
    if (AnyValueToDocument(v, &doc) && MessagesFromJson(doc, output, &out, &msgs)) {
      WriteMessages(msgs, &out);
      return out.Take();
    }
  }
  out.AnyValue(v);
  return out.Take();
}

}  // namespace sightline::ingest::norm
