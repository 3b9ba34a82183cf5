// libFuzzer target: arbitrary bytes as a WAL file (read through a MemEnv, as the store
// reads its files), as the last file and as an earlier one. Must never crash, hang or
// read out of bounds; every record delivered must be a complete SpanBatch-sized view.
#include <cstddef>
#include <cstdint>
#include <string>

#include "common/mem_env.h"
#include "store/span_codec.h"
#include "store/wal/wal_reader.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace sightline;
  MemEnv env;
  env.PutFile("/wal/000001.log", std::string(reinterpret_cast<const char*>(data), size));
  std::vector<std::string_view> spans;
  for (bool last : {true, false}) {
    store::wal::WalReadReport report;
    Status s = store::wal::ReadWalFile(
        &env, "/wal/000001.log", last,
        [&](std::string_view record, uint64_t offset) {
          if (offset >= size) __builtin_trap();
          // What recovery does next with a record: split it into spans.
          (void)store::SplitSpanBatch(record, &spans);
        },
        &report);
    if (!s.ok() && s.code() != StatusCode::kCorruption && s.code() != StatusCode::kNotFound) __builtin_trap();
    if (report.valid_end > size) __builtin_trap();
  }
  return 0;
}
