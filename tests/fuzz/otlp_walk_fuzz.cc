// libFuzzer target: the OTLP walk (ingest/otlp_walk.h) against libprotobuf's parse of
// the same bytes. Invariants checked beyond "no crash, no sanitizer report":
// - whatever the walk takes, the parser takes too (the ingest path never walks a body
//   the parse path would refuse);
// - it reads as the parse does: every resource, scope, span, event, link and attribute,
//   field for field and value for value (CompareWalkWithParse).
// Bodies the walk refuses go down the parse path, which otlp_protobuf_fuzz covers.
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "ingest/otlp_walk.h"
#include "ingest/otlp_walk_test_util.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace sightline;
  std::string_view body(reinterpret_cast<const char*>(data), size);
  static ingest::RequestView view;  // reused, as the ingest path reuses it
  if (!ingest::WalkExportRequest(body, &view)) return 0;
  ingest::ExportRequest parsed;
  if (!parsed.ParseFromArray(body.data(), static_cast<int>(body.size()))) __builtin_trap();
  if (!ingest::testing::CompareWalkWithParse(view, parsed).empty()) __builtin_trap();
  return 0;
}
