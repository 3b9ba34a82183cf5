#include "store/wal/wal_reader.h"

#include <cstring>

#include "store/wal/wal_format.h"

namespace sightline::store::wal {
namespace {

uint32_t GetFixed32(const char* p) {
  uint32_t v = 0;
  for (int i = 0; i < 4; ++i) v |= static_cast<uint32_t>(static_cast<uint8_t>(p[i])) << (8 * i);
  return v;
}

// Walks the fragments of one file. Damage is held as "pending" until an intact
// fragment follows it (then it is Corruption) or the file ends (then, in the last
// file, it is a torn tail).
class Parser {
 public:
  Parser(std::string_view name, std::string_view data, bool last_file,
         const std::function<void(std::string_view, uint64_t)>& on_record, WalReadReport* report)
      : name_(name), data_(data), last_file_(last_file), on_record_(on_record), report_(report) {}

  Status Run() {
    if (data_.empty()) return Status::OK();  // created, crashed before the header: nothing in it
    if (!ReadFileHeader()) return first_error_;
    while (pos_ < data_.size()) Step();
    if (in_record_) Damage(record_start_, "record missing its LAST fragment");
    FinishDamage(true, data_.size());
    return first_error_;
  }

 private:
  // Returns false when the file must not be read further.
  bool ReadFileHeader() {
    if (data_.size() < kHeaderSize + kFileHeaderPayloadSize) {
      if (last_file_) {
        report_->tail_dropped_bytes = data_.size();
        return false;
      }
      Fatal("file shorter than its header (" + std::to_string(data_.size()) + " bytes)");
      return false;
    }
    auto type = static_cast<FragmentType>(static_cast<uint8_t>(data_[6]));
    size_t len = static_cast<uint8_t>(data_[4]) | (static_cast<size_t>(static_cast<uint8_t>(data_[5])) << 8);
    std::string_view payload = data_.substr(kHeaderSize, kFileHeaderPayloadSize);
    if (std::memcmp(payload.data(), kMagic, sizeof(kMagic)) != 0) {
      Fatal("not a Sightline WAL file (bad magic)");
      return false;
    }
    if (type != FragmentType::kFileHeader || len != kFileHeaderPayloadSize ||
        GetFixed32(data_.data()) != FragmentChecksum(type, payload)) {
      Fatal("bad checksum in the file header");
      return false;
    }
    uint32_t version = GetFixed32(payload.data() + 8);
    if (version != kFormatVersion) {
      Fatal("unsupported WAL format version " + std::to_string(version) + " (this build reads version " +
            std::to_string(kFormatVersion) + ")");
      return false;
    }
    pos_ = kHeaderSize + kFileHeaderPayloadSize;
    report_->valid_end = pos_;
    return true;
  }

  void Step() {
    size_t block_left = kBlockSize - pos_ % kBlockSize;
    if (block_left < kHeaderSize) {  // trailer padding
      pos_ += block_left;
      return;
    }
    if (pos_ + kHeaderSize > data_.size()) {
      Damage(pos_, "truncated fragment header");
      pos_ = data_.size();
      return;
    }
    const char* h = data_.data() + pos_;
    uint32_t crc = GetFixed32(h);
    size_t len = static_cast<uint8_t>(h[4]) | (static_cast<size_t>(static_cast<uint8_t>(h[5])) << 8);
    auto type = static_cast<FragmentType>(static_cast<uint8_t>(h[6]));
    if (type == FragmentType::kZero && len == 0 && crc == 0) return SkipBlock("zeroed region");
    if (kHeaderSize + len > block_left) return SkipBlock("fragment length crosses the block boundary");
    if (pos_ + kHeaderSize + len > data_.size()) {
      Damage(pos_, "truncated fragment payload");
      pos_ = data_.size();
      return;
    }
    std::string_view payload = data_.substr(pos_ + kHeaderSize, len);
    if (crc != FragmentChecksum(type, payload)) return SkipBlock("bad checksum");
    size_t frag_start = pos_;
    pos_ += kHeaderSize + len;
    Fragment(type, payload, frag_start);
  }

  void Fragment(FragmentType type, std::string_view payload, size_t at) {
    switch (type) {
      case FragmentType::kFull:
        if (in_record_) Damage(record_start_, "record missing its LAST fragment");
        in_record_ = false;
        Deliver(payload, at);
        return;
      case FragmentType::kFirst:
        if (in_record_) Damage(record_start_, "record missing its LAST fragment");
        in_record_ = true;
        record_start_ = at;
        assembled_.assign(payload);
        return;
      case FragmentType::kMiddle:
      case FragmentType::kLast:
        if (!in_record_) {
          Damage(at, "fragment without a FIRST");
          return;
        }
        if (assembled_.size() + payload.size() > kMaxRecordBytes) {
          Damage(record_start_, "record larger than " + std::to_string(kMaxRecordBytes) + " bytes");
          in_record_ = false;
          assembled_.clear();
          return;
        }
        assembled_.append(payload);
        if (type == FragmentType::kLast) {
          in_record_ = false;
          Deliver(assembled_, record_start_);
        }
        return;
      default:
        Damage(at, "unknown fragment type " + std::to_string(static_cast<int>(type)));
        return;
    }
  }

  void Deliver(std::string_view record, uint64_t at) {
    FinishDamage(false, at);
    ++report_->records;
    report_->valid_end = pos_;
    on_record_(record, at);
  }

  void SkipBlock(const std::string& why) {
    Damage(pos_, why);
    if (in_record_) {  // the record being assembled cannot complete across the damage
      in_record_ = false;
      assembled_.clear();
    }
    pos_ += kBlockSize - pos_ % kBlockSize;
    if (pos_ > data_.size()) pos_ = data_.size();
  }

  // Notes damage starting at offset; the earliest one of a run is kept.
  void Damage(uint64_t offset, const std::string& why) {
    if (!pending_) {
      pending_ = true;
      pending_offset_ = offset;
      pending_why_ = why;
    }
  }

  // Called when an intact record starting at `end` is delivered (at_eof=false), or at
  // the end of the file (end = file size).
  void FinishDamage(bool at_eof, uint64_t end) {
    if (!pending_) return;
    pending_ = false;
    // The bytes between the damage and the intact data that follows it.
    uint64_t lost = end > pending_offset_ ? end - pending_offset_ : 0;
    if (at_eof && last_file_) {
      report_->tail_dropped_bytes += lost;
      return;
    }
    report_->dropped_bytes += lost;
    std::string m = std::string(name_) + ": " + pending_why_ + " at offset " + std::to_string(pending_offset_) +
                    (at_eof ? " (to the end of the file)" : "") + "; " + std::to_string(lost) + " bytes dropped";
    report_->corruptions.push_back(m);
    if (first_error_.ok()) first_error_ = Status::Corruption(m);
  }

  void Fatal(const std::string& why) {
    report_->bad_header = true;
    std::string m = std::string(name_) + ": " + why;
    report_->corruptions.push_back(m);
    first_error_ = Status::Corruption(m);
  }

  std::string_view name_;
  std::string_view data_;
  bool last_file_;
  const std::function<void(std::string_view, uint64_t)>& on_record_;
  WalReadReport* report_;
  size_t pos_ = 0;
  bool in_record_ = false;
  uint64_t record_start_ = 0;
  std::string assembled_;
  bool pending_ = false;
  uint64_t pending_offset_ = 0;
  std::string pending_why_;
  Status first_error_;
};

}  // namespace

Status ReadWalBytes(std::string_view name, std::string_view data, bool last_file,
                    const std::function<void(std::string_view record, uint64_t offset)>& on_record,
                    WalReadReport* report) {
  Parser p(name, data, last_file, on_record, report);
  return p.Run();
}

Status ReadWalFile(Env* env, const std::string& path, bool last_file,
                   const std::function<void(std::string_view record, uint64_t offset)>& on_record,
                   WalReadReport* report) {
  SL_ASSIGN_OR_RETURN(std::string data, ReadFileToString(env, path));
  return ReadWalBytes(path, data, last_file, on_record, report);
}

}  // namespace sightline::store::wal
