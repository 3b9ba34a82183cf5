// WalWriter: appends records to one WAL file in the block format of wal_format.h.
//
// The group-commit writer thread encodes every record of a group into one buffer
// (EncodeRecord), hands it to the file in one Append, then calls Sync once. Encoding
// advances the block position before the bytes are written; if the write fails the
// caller abandons this file (it starts a fresh one), so the position never needs
// rolling back.
//
// Thread-safety: none; one thread (the store's writer) owns a WalWriter.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>

#include "common/env.h"

namespace sightline::store::wal {

class WalWriter {
 public:
  // Creates (truncating) path and writes its FILE_HEADER fragment (not yet synced).
  static Result<std::unique_ptr<WalWriter>> Create(Env* env, const std::string& path, uint64_t file_number);

  // Appends the fragments of one record carrying payload to *out.
  void EncodeRecord(std::string_view payload, std::string* out);
  // Writes bytes produced by EncodeRecord.
  Status Write(std::string_view encoded);
  Status Sync() { return file_->Sync(); }
  Status Close() { return file_->Close(); }
  // Convenience: EncodeRecord + Write.
  Status AddRecord(std::string_view payload);

  uint64_t file_number() const { return number_; }
  const std::string& path() const { return path_; }
  // Bytes of the file as encoded so far (written or about to be).
  uint64_t encoded_size() const { return encoded_size_; }
  // Offset up to which every Write succeeded: the file can be truncated back to it.
  uint64_t written_size() const { return written_size_; }

 private:
  WalWriter(std::unique_ptr<WritableFile> file, std::string path, uint64_t number)
      : file_(std::move(file)), path_(std::move(path)), number_(number) {}

  std::unique_ptr<WritableFile> file_;
  std::string path_;
  uint64_t number_;
  size_t block_offset_ = 0;  // position inside the current block
  uint64_t encoded_size_ = 0;
  uint64_t written_size_ = 0;
};

}  // namespace sightline::store::wal
