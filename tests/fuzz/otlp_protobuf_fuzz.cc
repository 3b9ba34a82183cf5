// libFuzzer target: DecodeOtlpProtobuf on arbitrary bytes (the body of POST /v1/traces
// with Content-Type application/x-protobuf, and of the gRPC Export call).
// Invariants checked beyond "no crash, no sanitizer report":
// - a failure is InvalidArgument starting "protobuf: ";
// - a success holds valid UTF-8 in every string field: libprotobuf must accept its own
//   serialisation of the result (it refuses invalid UTF-8 in proto3 strings).
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "ingest/otlp_decode.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace sightline;
  std::string_view body(reinterpret_cast<const char*>(data), size);
  ingest::ExportRequest request;
  Status st = ingest::DecodeOtlpProtobuf(body, &request);
  if (!st.ok()) {
    if (st.code() != StatusCode::kInvalidArgument || !st.message().starts_with("protobuf: ")) __builtin_trap();
    return 0;
  }
  ingest::ExportRequest again;
  if (!again.ParseFromString(request.SerializeAsString())) __builtin_trap();
  return 0;
}
