// DecodeOtlpProtobuf (declared in otlp_decode.h).
//
// The fast path is libprotobuf's own parser. It rejects a proto3 `string` field holding
// invalid UTF-8, but Sightline's contract is "invalid UTF-8 is replaced, not fatal"
// (an agent that slices an LLM answer mid-character must not lose its whole batch). So
// when the parse fails, WireRepairer walks the wire bytes with the descriptors of
// ExportTraceServiceRequest, rewriting invalid UTF-8 inside string fields to U+FFFD,
// and the repaired bytes are parsed again. When the bytes are not protobuf at all, the
// walk names the first structural error and where it is.
#include <google/protobuf/descriptor.h>
#include <google/protobuf/stubs/logging.h>

#include <climits>
#include <cstring>
#include <string>
#include <vector>

#include "common/utf8.h"
#include "common/wire.h"
#include "ingest/otlp_decode.h"

namespace sightline::ingest {
namespace {

using google::protobuf::Descriptor;
using google::protobuf::FieldDescriptor;

// libprotobuf's default recursion limit; the walker applies the same bound so that
// hostile nesting can neither overflow its stack nor pass it and then fail the parse.
constexpr int kMaxDepth = 100;

using wire::kEndGroup;
using wire::kFixed32;
using wire::kFixed64;
using wire::kLengthDelimited;
using wire::kStartGroup;
using wire::kVarint;

// Walks one encoded ExportTraceServiceRequest and writes an equivalent encoding in which
// every string field holds valid UTF-8. Sub-message lengths are re-encoded as 5-byte
// (padded) varints patched after the child is written, so the rewrite is one pass; the
// protobuf wire format allows such redundant varint encodings. Fields that are not
// strings are copied byte for byte, unknown fields included.
//
// Invariant: positions are offsets into body_; every read is bounds-checked against
// the end of the enclosing message. Recursion is bounded by kMaxDepth.
// Thread-safety: one instance per call.
class WireRepairer {
 public:
  WireRepairer(std::string_view body, std::string* out) : body_(body), out_(out) {}

  Status Run(const Descriptor* root) {
    size_t pos = 0;
    return WalkMessage(root, &pos, body_.size(), 0, 0);
  }
  bool repaired() const { return repaired_; }

 private:
  // Walks fields from *pos until end (group_number == 0) or until the END_GROUP tag of
  // group_number. descriptor is null inside unknown groups: they are checked for shape
  // and copied.
  Status WalkMessage(const Descriptor* descriptor, size_t* pos, size_t end, int depth, uint32_t group_number) {
    if (depth > kMaxDepth) return Error(*pos, "messages nested deeper than " + std::to_string(kMaxDepth));
    while (*pos < end) {
      const size_t tag_start = *pos;
      uint64_t tag = 0;
      SL_RETURN_IF_ERROR(ReadVarint(pos, end, &tag));
      if (tag > UINT32_MAX) return Error(tag_start, "invalid tag");
      const uint32_t number = static_cast<uint32_t>(tag >> 3);
      const uint32_t wire = static_cast<uint32_t>(tag & 7);
      if (number == 0) return Error(tag_start, "invalid field number 0");
      const FieldDescriptor* field = descriptor != nullptr ? descriptor->FindFieldByNumber(static_cast<int>(number)) : nullptr;
      path_.push_back(field != nullptr ? std::string_view(field->name()) : std::string_view("?"));
      switch (wire) {
        case kVarint: {
          uint64_t ignored;
          SL_RETURN_IF_ERROR(ReadVarint(pos, end, &ignored));
          Copy(tag_start, *pos);
          break;
        }
        case kFixed64:
        case kFixed32: {
          size_t n = wire == kFixed64 ? 8 : 4;
          if (end - *pos < n) return Error(tag_start, "truncated fixed" + std::to_string(n * 8) + " field " + std::to_string(number));
          *pos += n;
          Copy(tag_start, *pos);
          break;
        }
        case kLengthDelimited: {
          const size_t len_start = *pos;
          uint64_t len = 0;
          SL_RETURN_IF_ERROR(ReadVarint(pos, end, &len));
          if (len > end - *pos) {
            return Error(len_start, "length " + std::to_string(len) + " of field " + std::to_string(number) +
                                        " overruns its message (" + std::to_string(end - *pos) + " bytes left)");
          }
          const size_t payload = *pos, payload_end = *pos + len;
          if (field != nullptr && field->type() == FieldDescriptor::TYPE_STRING) {
            Copy(tag_start, len_start);
            WriteString(body_.substr(payload, len));
          } else if (field != nullptr && field->type() == FieldDescriptor::TYPE_MESSAGE) {
            Copy(tag_start, len_start);
            const size_t patch = out_->size();
            out_->append(5, '\0');
            size_t child = payload;
            SL_RETURN_IF_ERROR(WalkMessage(field->message_type(), &child, payload_end, depth + 1, 0));
            PatchLength(patch, out_->size() - patch - 5);
          } else {
            Copy(tag_start, payload_end);  // bytes, or an unknown field: kept as is
          }
          *pos = payload_end;
          break;
        }
        case kStartGroup: {
          // Only unknown fields can be groups in OTLP; libprotobuf keeps them, so they
          // must be well formed.
          SL_RETURN_IF_ERROR(WalkGroupVerbatim(pos, end, depth + 1, number, tag_start));
          break;
        }
        case kEndGroup:
          path_.pop_back();
          if (number != group_number) return Error(tag_start, "unexpected end-group tag for field " + std::to_string(number));
          Copy(tag_start, *pos);
          return Status::OK();
        default:
          return Error(tag_start, "invalid wire type " + std::to_string(wire));
      }
      path_.pop_back();
    }
    if (group_number != 0) return Error(*pos, "group field " + std::to_string(group_number) + " is not terminated");
    return Status::OK();
  }

  Status WalkGroupVerbatim(size_t* pos, size_t end, int depth, uint32_t number, size_t tag_start) {
    Copy(tag_start, *pos);
    return WalkMessage(nullptr, pos, end, depth, number);
  }

  Status ReadVarint(size_t* pos, size_t end, uint64_t* value) {
    const size_t start = *pos;
    uint64_t result = 0;
    for (int shift = 0; shift < 70; shift += 7) {
      if (*pos >= end) return Error(start, "truncated varint");
      auto byte = static_cast<unsigned char>(body_[(*pos)++]);
      if (shift < 64) result |= static_cast<uint64_t>(byte & 0x7f) << shift;
      if ((byte & 0x80) == 0) {
        *value = result;
        return Status::OK();
      }
    }
    return Error(start, "varint longer than 10 bytes");
  }

  void Copy(size_t from, size_t to) { out_->append(body_.data() + from, to - from); }

  void WriteVarint(uint64_t v) {
    while (v >= 0x80) {
      out_->push_back(static_cast<char>(v | 0x80));
      v >>= 7;
    }
    out_->push_back(static_cast<char>(v));
  }

  void WriteString(std::string_view s) {
    if (IsValidUtf8(s)) {
      WriteVarint(s.size());
      out_->append(s);
      return;
    }
    repaired_ = true;
    std::string fixed = RepairUtf8(s);
    WriteVarint(fixed.size());
    out_->append(fixed);
  }

  // Writes len as a 5-byte varint (continuation bits on the first four bytes).
  void PatchLength(size_t at, size_t len) {
    char* p = out_->data() + at;
    for (int i = 0; i < 4; ++i) {
      p[i] = static_cast<char>((len & 0x7f) | 0x80);
      len >>= 7;
    }
    p[4] = static_cast<char>(len & 0x7f);
  }

  Status Error(size_t at, const std::string& what) const {
    std::string msg = "protobuf: ";
    for (size_t i = 0; i < path_.size(); ++i) {
      if (i > 0) msg += '.';
      msg += path_[i];
    }
    if (!path_.empty()) msg += ": ";
    msg += what + " at byte " + std::to_string(at);
    return Status::InvalidArgument(std::move(msg));
  }

  std::string_view body_;
  std::string* out_;
  std::vector<std::string_view> path_;  // field names from the root, for errors
  bool repaired_ = false;
};

bool ParseQuietly(std::string_view bytes, ExportRequest* out) {
  // libprotobuf logs every invalid UTF-8 string at ERROR level; that is expected input
  // here, handled below, and must not flood the server's log.
  google::protobuf::LogSilencer quiet;
  return out->ParseFromArray(bytes.data(), static_cast<int>(bytes.size()));
}

}  // namespace

Status DecodeOtlpProtobuf(std::string_view body, ExportRequest* out) {
  if (body.size() > static_cast<size_t>(INT_MAX)) {
    return Status::InvalidArgument("protobuf: body of " + std::to_string(body.size()) + " bytes is over 2 GiB");
  }
  out->Clear();
  if (ParseQuietly(body, out)) return Status::OK();
  out->Clear();

  std::string repaired;
  repaired.reserve(body.size() + body.size() / 4 + 64);
  WireRepairer walker(body, &repaired);
  SL_RETURN_IF_ERROR(walker.Run(ExportRequest::descriptor()));
  if (!walker.repaired()) {
    return Status::InvalidArgument("protobuf: libprotobuf rejected the body as an ExportTraceServiceRequest");
  }
  if (repaired.size() > static_cast<size_t>(INT_MAX) || !ParseQuietly(repaired, out)) {
    out->Clear();
    return Status::InvalidArgument("protobuf: body could not be parsed after repairing invalid UTF-8");
  }
  return Status::OK();
}

}  // namespace sightline::ingest
