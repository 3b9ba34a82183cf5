#include "ingest/normalize/otlp_move.h"

#include <google/protobuf/unknown_field_set.h>

#include <utility>

namespace sightline::ingest::norm {
namespace {

// Whether m carries unknown fields, read from its internal metadata directly: the
// reflection route (GetReflection()->GetUnknownFields) costs a descriptor lookup per
// call, which showed in profiles at two calls per attribute. The pointer to the
// protected member is formed through a derived class, which C++ allows.
struct MetadataAccess : google::protobuf::MessageLite {
  static constexpr auto kMetadata = &MetadataAccess::_internal_metadata_;
};

bool HasUnknownFields(const google::protobuf::MessageLite& m) {
  return (m.*MetadataAccess::kMetadata).have_unknown_fields();
}

void MoveKeyValue(KeyValue* from, KeyValue* to);

// Recursion is bounded by the decoders' nesting limit (100 messages).
void MoveAnyValue(AnyValue* from, AnyValue* to) {
  if (HasUnknownFields(*from)) {
    to->CopyFrom(*from);
    return;
  }
  switch (from->value_case()) {
    case AnyValue::kStringValue: to->set_string_value(std::move(*from->mutable_string_value())); break;
    case AnyValue::kBoolValue: to->set_bool_value(from->bool_value()); break;
    case AnyValue::kIntValue: to->set_int_value(from->int_value()); break;
    case AnyValue::kDoubleValue: to->set_double_value(from->double_value()); break;
    case AnyValue::kBytesValue: to->set_bytes_value(std::move(*from->mutable_bytes_value())); break;
    case AnyValue::kArrayValue: {
      auto* src = from->mutable_array_value();
      if (HasUnknownFields(*src)) {
        to->CopyFrom(*from);
        break;
      }
      auto* dst = to->mutable_array_value()->mutable_values();
      dst->Reserve(src->values_size());
      for (AnyValue& e : *src->mutable_values()) MoveAnyValue(&e, dst->Add());
      break;
    }
    case AnyValue::kKvlistValue: {
      auto* src = from->mutable_kvlist_value();
      if (HasUnknownFields(*src)) {
        to->CopyFrom(*from);
        break;
      }
      MoveKeyValues(src->mutable_values(), to->mutable_kvlist_value()->mutable_values());
      break;
    }
    case AnyValue::VALUE_NOT_SET: break;
    default: to->CopyFrom(*from); break;  // a case this build does not know
  }
}

void MoveKeyValue(KeyValue* from, KeyValue* to) {
  if (HasUnknownFields(*from)) {
    to->CopyFrom(*from);
    return;
  }
  to->set_key(std::move(*from->mutable_key()));
  if (from->has_value()) MoveAnyValue(from->mutable_value(), to->mutable_value());
}

}  // namespace

void MoveKeyValues(KeyValues* from, KeyValues* to) {
  if (to->empty() && from->GetArena() == to->GetArena()) {
    to->Swap(from);
    return;
  }
  to->Reserve(to->size() + from->size());
  for (KeyValue& kv : *from) MoveKeyValue(&kv, to->Add());
}

void MoveEvents(OtlpEvents* from, OtlpEvents* to) {
  if (to->empty() && from->GetArena() == to->GetArena()) {
    to->Swap(from);
    return;
  }
  to->Reserve(to->size() + from->size());
  for (auto& ev : *from) {
    auto* out = to->Add();
    // The attributes (where the text is) move; MergeFrom then copies the rest, so a
    // field added to Event later is carried without changes here.
    MoveKeyValues(ev.mutable_attributes(), out->mutable_attributes());
    ev.mutable_attributes()->Clear();
    out->set_name(std::move(*ev.mutable_name()));
    out->MergeFrom(ev);
  }
}

void MoveLinks(OtlpLinks* from, OtlpLinks* to) {
  if (to->empty() && from->GetArena() == to->GetArena()) {
    to->Swap(from);
    return;
  }
  to->Reserve(to->size() + from->size());
  for (auto& link : *from) {
    auto* out = to->Add();
    MoveKeyValues(link.mutable_attributes(), out->mutable_attributes());
    link.mutable_attributes()->Clear();
    out->MergeFrom(link);
  }
}

}  // namespace sightline::ingest::norm
