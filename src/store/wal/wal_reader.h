// Reading WAL files back (recovery, and the fuzz target): parses one file's bytes,
// hands every intact record to a callback, and reports damage by the rules of
// docs/wal_format.md:
//   - damage followed by no intact fragment up to the end of the file, in the file
//     being written when the process stopped (`last_file`), is a torn tail: those
//     bytes were never acknowledged; it is truncated silently (report.tail_dropped);
//   - any other damage (bad checksum, bad framing, zeroed region, orphan fragments)
//     is Corruption naming the file and offset; reading resumes at the next block, so
//     every intact record before and after it is still delivered, and the bytes
//     skipped are counted in report.dropped_bytes;
//   - a file whose FILE_HEADER has the wrong magic or an unsupported version yields
//     Corruption and no records (the caller must not guess at its contents).
//
// Thread-safety: the functions are pure; no shared state.
#pragma once

#include <cstdint>
#include <functional>
#include <string>
#include <string_view>
#include <vector>

#include "common/env.h"

namespace sightline::store::wal {

struct WalReadReport {
  uint64_t records = 0;
  uint64_t dropped_bytes = 0;       // skipped because of mid-file damage
  uint64_t tail_dropped_bytes = 0;  // torn tail of the last file, dropped silently
  uint64_t valid_end = 0;           // offset just past the last intact record
  bool bad_header = false;          // wrong magic / unsupported version: nothing read
  std::vector<std::string> corruptions;  // one message per damaged region
};

// `name` is used in messages ("wal/000012.log"). Returns OK, or the first Corruption
// (all damage is also listed in report->corruptions). on_record gets each record's
// payload (valid only during the call) and the file offset of its first fragment.
Status ReadWalBytes(std::string_view name, std::string_view data, bool last_file,
                    const std::function<void(std::string_view record, uint64_t offset)>& on_record,
                    WalReadReport* report);

// Reads the file at path through env, then ReadWalBytes.
Status ReadWalFile(Env* env, const std::string& path, bool last_file,
                   const std::function<void(std::string_view record, uint64_t offset)>& on_record,
                   WalReadReport* report);

}  // namespace sightline::store::wal
