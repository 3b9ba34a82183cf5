// A store test's view of everything a MemEnv data directory holds: every byte of every
// file under /data, and of every zstd frame in them, so a test can show that a value is
// gone from disk (deletion on request, tail sampling), raw, compressed or word-coded.
#pragma once

#include <zstd.h>

#include <cstdint>
#include <string>

#include "common/env.h"
#include "common/mem_env.h"
#include "store/columnar/word_code.h"

namespace sightline::store::testing {

// Every byte of every file under /data, and of every zstd frame in them (expanded
// again when it is a word-coded payload frame).
inline std::string AllBytes(MemEnv* env) {
  std::string all;
  for (const char* dir : {"/data", "/data/wal", "/data/segments"}) {
    auto names = env->GetChildren(dir);
    if (!names.ok()) continue;
    for (const auto& n : *names) {
      auto bytes = ReadFileToString(env, JoinPath(dir, n));
      if (!bytes.ok()) continue;  // a directory
      all += *bytes;
      const std::string& b = *bytes;
      for (size_t i = 0; i + 4 <= b.size(); ++i) {
        if (static_cast<uint8_t>(b[i]) != 0x28 || static_cast<uint8_t>(b[i + 1]) != 0xB5 ||
            static_cast<uint8_t>(b[i + 2]) != 0x2F || static_cast<uint8_t>(b[i + 3]) != 0xFD)
          continue;
        size_t frame = ZSTD_findFrameCompressedSize(b.data() + i, b.size() - i);
        if (ZSTD_isError(frame)) continue;
        unsigned long long size = ZSTD_getFrameContentSize(b.data() + i, frame);
        if (size == ZSTD_CONTENTSIZE_ERROR || size == ZSTD_CONTENTSIZE_UNKNOWN || size > (64u << 20)) continue;
        std::string out(size, '\0');
        size_t got = ZSTD_decompress(out.data(), out.size(), b.data() + i, frame);
        if (ZSTD_isError(got)) continue;
        out.resize(got);
        all += out;
        // A word-coded payload frame (frame codec 2) holds its text expanded only after
        // this: a frame that is not one expands to noise, which finds nothing.
        uint64_t expanded = 0;
        std::string text, why;
        if (columnar::WordCodedLength(out, &expanded) && expanded <= (64u << 20) &&
            columnar::WordDecode(out, expanded, &text, &why))
          all += text;
      }
    }
  }
  return all;
}

}  // namespace sightline::store::testing
