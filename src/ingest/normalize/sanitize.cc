#include "ingest/normalize/sanitize.h"

#include "common/utf8.h"
#include "ingest/normalize/json_out.h"

namespace sightline::ingest::norm {

void SanitizeString(std::string* s, size_t max, int64_t* truncated) {
  RepairUtf8InPlace(s);
  if (TruncateWithMarker(s, max) && truncated != nullptr) ++*truncated;
}

void SanitizeValue(AnyValue* v, size_t max, int64_t* truncated, int depth) {
  switch (v->value_case()) {
    case AnyValue::kStringValue:
      // Read first: most values need nothing, and asking for a mutable string costs a call.
      if (v->string_value().size() > max || !IsValidUtf8(v->string_value()))
        SanitizeString(v->mutable_string_value(), max, truncated);
      break;
    case AnyValue::kArrayValue:
      // The protobuf decoder bounds nesting (recursion limit 100); this bound keeps a
      // hand-built value from recursing without end all the same.
      if (depth > 128) {
        v->Clear();
        break;
      }
      for (AnyValue& e : *v->mutable_array_value()->mutable_values())
        SanitizeValue(&e, max, truncated, depth + 1);
      break;
    case AnyValue::kKvlistValue:
      if (depth > 128) {
        v->Clear();
        break;
      }
      for (KeyValue& kv : *v->mutable_kvlist_value()->mutable_values()) {
        RepairUtf8InPlace(kv.mutable_key());
        if (kv.has_value()) SanitizeValue(kv.mutable_value(), max, truncated, depth + 1);
      }
      break;
    default:
      break;
  }
}

void SanitizeKeyValues(KeyValues* kvs, size_t max, int64_t* truncated) {
  for (KeyValue& kv : *kvs) {
    if (!IsValidUtf8(kv.key())) RepairUtf8InPlace(kv.mutable_key());
    // A KeyValue sent without a value keeps none (asking for a mutable one would add an
    // empty AnyValue the sender did not send).
    if (kv.has_value()) SanitizeValue(kv.mutable_value(), max, truncated);
  }
}

}  // namespace sightline::ingest::norm
