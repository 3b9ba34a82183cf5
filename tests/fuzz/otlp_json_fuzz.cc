// libFuzzer target: DecodeOtlpJson on arbitrary bytes (POST /v1/traces with
// Content-Type application/json, and `sightline import`).
// Invariants checked beyond "no crash, no sanitizer report":
// - a failure is InvalidArgument or TooLarge with a message;
// - what decodes re-encodes to JSON that decodes again with no span rejected and
//   encodes to the same text (EncodeOtlpJson is the decoder's exact inverse).
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "ingest/otlp_decode.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace sightline;
  std::string_view body(reinterpret_cast<const char*>(data), size);
  ingest::DecodeLimits limits;
  ingest::JsonDecodeReport report;
  ingest::ExportRequest request;
  Status st = ingest::DecodeOtlpJson(body, &request, limits, &report);
  if (!st.ok()) {
    if (st.message().empty()) __builtin_trap();
    if (st.code() != StatusCode::kInvalidArgument && st.code() != StatusCode::kTooLarge) __builtin_trap();
    return 0;
  }
  if (report.rejected_spans < 0 || (report.rejected_spans > 0 && report.first_errors.empty())) __builtin_trap();
  std::string json = ingest::EncodeOtlpJson(request);
  ingest::ExportRequest again;
  ingest::JsonDecodeReport again_report;
  if (!ingest::DecodeOtlpJson(json, &again, limits, &again_report).ok()) __builtin_trap();
  if (again_report.rejected_spans != 0) __builtin_trap();
  if (ingest::EncodeOtlpJson(again) != json) __builtin_trap();
  return 0;
}
