// Pieces of ColumnarReader shared by its implementation files (columnar_reader_read.cc,
// columnar_reader_match.cc); not part of its interface.
// Thread-safety: a PieceSource is used by one thread.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <unordered_map>

#include "store/columnar/block_codec.h"
#include "store/columnar/columnar_reader.h"

namespace sightline::store::columnar {

// Payload frames decompressed by LoadPieces; piece(i) gives piece i's bytes (empty when
// its frame was not loaded).
struct ColumnarReader::PieceSource {
  const ColumnarReader* reader = nullptr;
  // frame -> raw bytes (shared with the decoded-block cache when it holds them)
  std::unordered_map<uint32_t, std::shared_ptr<const std::string>> frames;
  std::string_view piece(uint32_t i) const {
    auto it = frames.find(reader->piece_frame_[i]);
    if (it == frames.end()) return {};
    return std::string_view(*it->second).substr(static_cast<size_t>(reader->piece_offset_[i]), reader->piece_len_[i]);
  }
};

namespace internal {

// Columns of one block decoded for attribute references (ColumnarReader::LoadRefColumns),
// by column id; cols points at the ones decoded.
struct RefColumns {
  std::vector<std::string_view> strs[kColMax];
  std::vector<int64_t> ints[kColMax];
  std::vector<uint8_t> present[kColMax];
  AttrRefColumns cols;
};

}  // namespace internal

}  // namespace sightline::store::columnar
