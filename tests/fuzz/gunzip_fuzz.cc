// libFuzzer target: GunzipBounded on arbitrary bytes (any request body sent with
// Content-Encoding: gzip). Invariants: the output never exceeds the limit; a failure is
// InvalidArgument or TooLarge; what inflates survives a Gzip/GunzipBounded round trip.
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "ingest/otlp_decode.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace sightline;
  constexpr size_t kLimit = 256u << 10;
  std::string_view body(reinterpret_cast<const char*>(data), size);
  auto out = ingest::GunzipBounded(body, kLimit);
  if (!out.ok()) {
    StatusCode c = out.status().code();
    if (c != StatusCode::kInvalidArgument && c != StatusCode::kTooLarge) __builtin_trap();
    return 0;
  }
  if (out->size() > kLimit) __builtin_trap();
  auto again = ingest::GunzipBounded(ingest::Gzip(*out), kLimit);
  if (!again.ok() || *again != *out) __builtin_trap();
  return 0;
}
