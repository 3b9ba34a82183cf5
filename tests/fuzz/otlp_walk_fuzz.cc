// libFuzzer target: the OTLP walk (ingest/otlp_walk.h) against libprotobuf's parse of
// the same bytes, and the WAL record written from the walked bytes against the record
// serialized from the canonical spans. Invariants checked beyond "no crash, no
// sanitizer report":
// - whatever the walk takes, the parser takes too (the ingest path never walks a body
//   the parse path would refuse);
// - it reads as the parse does: every resource, scope, span, event, link and attribute,
//   field for field and value for value (CompareWalkWithParse);
// - normalised with its received parts copied from the body (ingest/received_parts.h,
//   EncodedBatch::EncodeRecord with ReceivedParts), every span's record parses into the
//   same span as the record serialized from the canonical span alone. A small attribute
//   limit makes sanitising cut some values, so both kinds of span are met.
// Bodies the walk refuses go down the parse path, which otlp_protobuf_fuzz covers.
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "ingest/normalize/normalize.h"
#include "ingest/otlp_walk.h"
#include "ingest/otlp_walk_test_util.h"
#include "ingest/received_parts.h"
#include "store/span_codec.h"

namespace {

using namespace sightline;

// The request normalised and encoded into a WAL record, with or without its received
// parts; false when nothing was accepted or the encoding refused the spans.
bool Record(const ingest::ExportRequest& parsed, const ingest::RequestView* view, store::EncodedBatch* out) {
  ingest::ExportRequest req = parsed;
  ingest::NormalizeOptions o;
  o.received_ns = 1;
  o.max_attribute_bytes = 64;
  o.received_bytes = view != nullptr;
  ingest::NormalizeResult r = ingest::NormalizeRequest(&req, o);
  if (r.spans.empty()) return false;
  if (view == nullptr) return out->EncodeRecord(&r.spans).ok();
  if (r.received.size() != r.spans.size()) __builtin_trap();
  return out->EncodeRecord(&r.spans, ingest::ReceivedPartsOf(*view, r.received)).ok();
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string_view body(reinterpret_cast<const char*>(data), size);
  static ingest::RequestView view;  // reused, as the ingest path reuses it
  if (!ingest::WalkExportRequest(body, &view)) return 0;
  ingest::ExportRequest parsed;
  if (!parsed.ParseFromArray(body.data(), static_cast<int>(body.size()))) __builtin_trap();
  if (!ingest::testing::CompareWalkWithParse(view, parsed).empty()) __builtin_trap();

  store::EncodedBatch copied, serialized;
  const bool a = Record(parsed, &view, &copied), b = Record(parsed, nullptr, &serialized);
  if (a != b) __builtin_trap();
  if (!a) return 0;
  if (copied.metas.size() != serialized.metas.size()) __builtin_trap();
  for (size_t i = 0; i < copied.metas.size(); ++i) {
    model::Span x, y;
    if (!x.ParseFromString(std::string(copied.SpanBytes(i))) || !y.ParseFromString(std::string(serialized.SpanBytes(i))))
      __builtin_trap();
    // Serialized again in canonical field order: equal bytes, NaN attribute values included.
    if (x.SerializeAsString() != y.SerializeAsString()) __builtin_trap();
  }
  return 0;
}
