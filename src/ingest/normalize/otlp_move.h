// Moving received OTLP values into the canonical span without copying their text.
//
// The OTLP request is parsed on a google::protobuf::Arena (ingest_service.cc), while
// canonical spans live on the heap (the store keeps them). RepeatedPtrField::Swap
// between the two is a deep copy of every key and string, which for payload-heavy
// spans (conversation histories in attributes) is most of the bytes; these functions
// move the strings' buffers instead and copy only the small fixed parts. When both
// sides are on the same arena (or both on the heap) they swap, which is cheaper still.
// Values carrying unknown fields (a newer OTLP revision) are copied whole, so nothing
// received is lost.
//
// Thread-safety: pure functions over the messages they are given.
#pragma once

#include "ingest/normalize/attr_index.h"
#include "opentelemetry/proto/trace/v1/trace.pb.h"

namespace sightline::ingest::norm {

using OtlpEvents = ::google::protobuf::RepeatedPtrField<::opentelemetry::proto::trace::v1::Span::Event>;
using OtlpLinks = ::google::protobuf::RepeatedPtrField<::opentelemetry::proto::trace::v1::Span::Link>;

// Appends *from's elements to *to (empty or not), leaving *from's elements hollow
// (strings moved out). *from must not be used afterwards except to clear or destroy it.
void MoveKeyValues(KeyValues* from, KeyValues* to);
void MoveEvents(OtlpEvents* from, OtlpEvents* to);
void MoveLinks(OtlpLinks* from, OtlpLinks* to);

}  // namespace sightline::ingest::norm
