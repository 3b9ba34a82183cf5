// libFuzzer target: the whole ingest path for a protobuf body, DecodeOtlpProtobuf then
// NormalizeRequest, so that every convention's attribute parsing (GenAI, OpenInference,
// Langfuse, Traceloop, agent schema) sees hostile spans. Invariant beyond "no crash":
// every accepted span plus every rejected one accounts for no more spans than came in.
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "ingest/normalize/normalize.h"
#include "ingest/otlp_decode.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace sightline;
  std::string_view body(reinterpret_cast<const char*>(data), size);
  // As the server does it: the request decoded on an arena, the spans made on it too.
  google::protobuf::Arena arena;
  ingest::ExportRequest& request = *google::protobuf::Arena::CreateMessage<ingest::ExportRequest>(&arena);
  if (!ingest::DecodeOtlpProtobuf(body, &request).ok()) return 0;
  int64_t in = 0;
  for (const auto& rs : request.resource_spans()) {
    for (const auto& ss : rs.scope_spans()) in += ss.spans_size();
  }
  ingest::NormalizeOptions options;
  options.max_attribute_bytes = 4096;  // small, so truncation paths run too
  options.received_ns = 1718000000000000000;
  options.arena = &arena;
  ingest::NormalizeResult result = ingest::NormalizeRequest(&request, options);
  if (result.rejected < 0 || static_cast<int64_t>(result.spans.size()) + result.rejected > in) __builtin_trap();
  return 0;
}
