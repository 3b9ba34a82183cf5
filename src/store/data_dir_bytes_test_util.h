// A store test's view of everything a MemEnv data directory holds: every byte of every
// file under /data, and of every zstd frame in them, so a test can show that a value is
// gone from disk (deletion on request, tail sampling), raw or compressed.
#pragma once

#include <zstd.h>

#include <cstdint>
#include <string>

#include "common/env.h"
#include "common/mem_env.h"

namespace sightline::store::testing {

// Every byte of every file under /data, and of every zstd frame in them.
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
        if (!ZSTD_isError(got)) all.append(out.data(), got);
      }
    }
  }
  return all;
}

}  // namespace sightline::store::testing
