// libFuzzer target: word coding of payload frames (src/store/columnar/word_code.h,
// docs/segment_format.md frame codec 2), the expansion a reader runs on every
// word-coded frame of a segment file it opens.
//
// The input is read three ways:
// - as a coded frame: expanded or refused, never out of bounds; one whose table is well
//   formed expands to exactly the length WordCodedLength gives;
// - as a raw frame (repeated up to the minimum a frame is coded at): whatever the
//   encoder codes expands back to exactly those bytes, and its codes are byte values
//   the frame does not hold;
// - as the stored bytes of a codec 2 frame (DecompressFrame): refused or expanded.
#include <cstdint>
#include <cstdlib>
#include <string>
#include <string_view>

#include "store/columnar/columnar_format.h"
#include "store/columnar/word_code.h"

using namespace sightline::store::columnar;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string_view in(reinterpret_cast<const char*>(data), size);
  std::string out, why;

  uint64_t len = 0;
  if (WordCodedLength(in, &len) && len <= (uint64_t{1} << 24)) {
    if (!WordDecode(in, len, &out, &why) || out.size() != len) std::abort();
    if (len > 0 && WordDecode(in, len - 1, &out, &why)) std::abort();
    if (WordDecode(in, len + 1, &out, &why)) std::abort();
  }
  (void)WordDecode(in, size, &out, &why);

  if (!in.empty()) {
    std::string raw(in);
    while (raw.size() < kWordCodeMinBytes) raw += in;
    std::string coded;
    if (WordEncode(raw, &coded)) {
      if (coded.size() * 4 > raw.size() * 3) std::abort();
      if (!WordDecode(coded, raw.size(), &out, &why) || out != raw) std::abort();
      for (size_t x = 0, i = 1; x < static_cast<uint8_t>(coded[0]); ++x) {
        if (raw.find(coded[i]) != std::string::npos) std::abort();
        i += 2 + static_cast<uint8_t>(coded[i + 1]);
      }
      std::string stored;
      if (CompressTextFrame(raw, &stored, kZstdLevel) == kCodecWordZstd &&
          (!DecompressFrame(stored, kCodecWordZstd, raw.size(), &out, &why) || out != raw))
        std::abort();
    }
  }

  (void)DecompressFrame(in, kCodecWordZstd, size * 4, &out, &why);
  return 0;
}
