#include "store/segment_io.h"

#include <google/protobuf/io/coded_stream.h>
#include <google/protobuf/wire_format_lite.h>

#include <unordered_map>

#include "common/hex.h"
#include "store/columnar/columnar_builder.h"
#include "store/columnar/columnar_format.h"
#include "store/columnar/columnar_reader.h"
#include "store/segment/segment_format.h"
#include "store/segment/segment_reader.h"
#include "store/segment/segment_writer.h"

namespace sightline::store {
namespace {

using google::protobuf::internal::WireFormatLite;

// The span_id and parent_span_id fields (1 and 2 of model.v1.Span are trace_id and
// span_id; 3 is parent_span_id) read off the wire without parsing the message.
bool PeekIds(std::string_view bytes, std::string_view* span_id, size_t* parent_len) {
  google::protobuf::io::CodedInputStream in(reinterpret_cast<const uint8_t*>(bytes.data()),
                                            static_cast<int>(bytes.size()));
  *span_id = {};
  *parent_len = 0;
  for (;;) {
    uint32_t tag = in.ReadTag();
    if (tag == 0) return true;
    const int field = WireFormatLite::GetTagFieldNumber(tag);
    if ((field == 2 || field == 3) && WireFormatLite::GetTagWireType(tag) == WireFormatLite::WIRETYPE_LENGTH_DELIMITED) {
      uint32_t len;
      if (!in.ReadVarint32(&len)) return false;
      int pos = in.CurrentPosition();
      if (static_cast<size_t>(pos) + len > bytes.size()) return false;
      if (field == 2) *span_id = bytes.substr(static_cast<size_t>(pos), len);
      else *parent_len = len;
      if (!in.Skip(static_cast<int>(len))) return false;
      continue;
    }
    if (!WireFormatLite::SkipField(&in, tag)) return false;
  }
}

// A v2 SegmentFile: the columnar reader behind the store's interface.
class ColumnarSegmentFile final : public SegmentFile {
 public:
  ColumnarSegmentFile(Env* env, std::shared_ptr<columnar::ColumnarReader> r, uint64_t number, uint64_t covered)
      : env_(env), reader_(std::move(r)), number_(number), covered_(covered) {}

  const std::string& path() const override { return reader_->path(); }
  uint64_t number() const override { return number_; }
  uint32_t format_version() const override { return reader_->format_version(); }
  uint64_t file_bytes() const override { return reader_->file_bytes(); }
  uint64_t trace_count() const override { return reader_->trace_count(); }
  uint64_t covered_wal() const override { return covered_; }
  int64_t min_start_ns() const override { return reader_->min_start_ns(); }
  int64_t max_end_ns() const override { return reader_->max_end_ns(); }

  Status ReadTrace(const SegLoc& loc, std::deque<std::string>* storage,
                   std::vector<std::string_view>* spans) const override {
    if (loc.length == 0) return Status::OK();
    if (loc.offset > UINT32_MAX) return Status::Corruption(path() + ": trace location past the file's rows");
    std::vector<std::string> out;
    SL_RETURN_IF_ERROR(reader_->ReadTrace(static_cast<uint32_t>(loc.offset), loc.length, &out));
    for (auto& s : out) {
      storage->push_back(std::move(s));
      spans->push_back(storage->back());
    }
    return Status::OK();
  }

  Status SalvageTrace(const SegLoc& loc, const TraceKey& id, std::deque<std::string>* storage,
                      std::vector<std::string_view>* spans, Status* damage) const override {
    if (loc.length == 0) return Status::OK();
    if (loc.offset > UINT32_MAX) {
      *damage = Status::Corruption(path() + ": trace location past the file's rows");
      return Status::OK();
    }
    std::vector<std::string> out;
    columnar::ColumnarReader::SalvageReport report;
    SL_RETURN_IF_ERROR(reader_->SalvageTrace(id, static_cast<uint32_t>(loc.offset), loc.length, &out, &report));
    for (auto& s : out) {
      storage->push_back(std::move(s));
      spans->push_back(storage->back());
    }
    *damage = std::move(report.damage);
    return Status::OK();
  }

  Status ListTraces(const std::function<Status(const SegmentTraceEntry&)>& fn) const override {
    // Re-reads the meta region (compaction and retention only, never on a query path).
    auto again = columnar::ColumnarReader::Open(env_, reader_->path(), [&](const columnar::TraceEntry& e) {
      SegmentTraceEntry t;
      t.id = e.id;
      t.loc = SegLoc{0, e.row_count, e.first_row, 0};
      t.span_count = e.row_count;
      t.agg = e.agg;
      return fn(t);
    });
    return again.status();
  }

  const std::shared_ptr<columnar::ColumnarReader>& reader() const { return reader_; }

 private:
  Env* env_;
  std::shared_ptr<columnar::ColumnarReader> reader_;
  uint64_t number_, covered_;
};

}  // namespace

Result<std::shared_ptr<SegmentFile>> OpenSegmentFile(Env* env, const std::string& path, uint64_t covered_wal,
                                                     const std::function<Status(const SegmentTraceEntry&)>& on_entry) {
  SL_ASSIGN_OR_RETURN(uint32_t version, columnar::PeekFormatVersion(env, path));
  if (version == columnar::kFormatVersion) {
    uint64_t number = 0;
    std::string name = path.substr(path.find_last_of('/') + 1);
    if (!segment::ParseSegmentFileName(name, &number))
      return Status::InvalidArgument(path + ": not a segment file name");
    SL_ASSIGN_OR_RETURN(auto reader, columnar::ColumnarReader::Open(env, path, [&](const columnar::TraceEntry& e) {
      SegmentTraceEntry t;
      t.id = e.id;
      t.loc = SegLoc{0, e.row_count, e.first_row, 0};
      t.span_count = e.row_count;
      t.agg = e.agg;
      return on_entry(t);
    }));
    return std::shared_ptr<SegmentFile>(std::make_shared<ColumnarSegmentFile>(env, std::move(reader), number, covered_wal));
  }
  SL_ASSIGN_OR_RETURN(auto reader, segment::SegmentReader::Open(env, path, [&](const segment::TableEntry& e) {
    SegmentTraceEntry t;
    t.id = e.id;
    t.loc = SegLoc{0, e.length, e.offset, e.checksum};
    t.span_count = e.span_count;
    t.agg = e.agg;
    return on_entry(t);
  }));
  return std::shared_ptr<SegmentFile>(std::move(reader));
}

std::shared_ptr<const columnar::ColumnarReader> ColumnarOf(const std::shared_ptr<SegmentFile>& file) {
  auto* c = dynamic_cast<const ColumnarSegmentFile*>(file.get());
  return c ? c->reader() : nullptr;
}

struct SegmentOutput::Impl {
  std::unique_ptr<segment::SegmentBuilder> v1;
  std::unique_ptr<columnar::ColumnarBuilder> v2;
};

SegmentOutput::SegmentOutput(Env* env, std::string dir, uint64_t number, uint64_t covered_wal)
    : env_(env), dir_(std::move(dir)), number_(number), covered_wal_(covered_wal), impl_(std::make_unique<Impl>()) {}

SegmentOutput::~SegmentOutput() = default;

Result<std::unique_ptr<SegmentOutput>> SegmentOutput::Create(Env* env, const std::string& dir, uint64_t number,
                                                             uint64_t covered_wal, SegmentFormat format, int zstd_level) {
  std::unique_ptr<SegmentOutput> o(new SegmentOutput(env, dir, number, covered_wal));
  if (format == SegmentFormat::kV2Columnar) {
    SL_ASSIGN_OR_RETURN(o->impl_->v2, columnar::ColumnarBuilder::Create(env, dir, segment::SegmentFileName(number), zstd_level));
    o->path_ = o->impl_->v2->path();
  } else {
    SL_ASSIGN_OR_RETURN(o->impl_->v1, segment::SegmentBuilder::Create(env, dir, number, covered_wal));
    o->path_ = o->impl_->v1->path();
  }
  return o;
}

uint32_t SegmentOutput::format_version() const { return impl_->v2 ? columnar::kFormatVersion : 1; }
uint64_t SegmentOutput::file_bytes() const { return impl_->v2 ? impl_->v2->file_bytes() : impl_->v1->file_bytes(); }
int64_t SegmentOutput::min_start_ns() const {
  return impl_->v2 ? impl_->v2->min_start_ns() : impl_->v1->min_start_ns();
}
int64_t SegmentOutput::max_end_ns() const { return impl_->v2 ? impl_->v2->max_end_ns() : impl_->v1->max_end_ns(); }

uint32_t SegmentOutput::AddPayloadPiece(std::string_view piece) {
  return impl_->v2 ? impl_->v2->AddPayloadPiece(piece) : 0;
}

Status SegmentOutput::AddTrace(const TraceKey& id, const std::vector<std::string_view>& spans, std::string_view agg,
                               int64_t start_ns, int64_t end_ns, std::vector<columnar::SpanPayloadRefs>* refs) {
  return AddTraceImpl(id, spans, agg, start_ns, end_ns, refs, false);
}

Status SegmentOutput::AddTraceImpl(const TraceKey& id, const std::vector<std::string_view>& spans,
                                   std::string_view agg, int64_t start_ns, int64_t end_ns,
                                   std::vector<columnar::SpanPayloadRefs>* refs, bool distinct) {
  if (refs != nullptr && (!impl_->v2 || refs->size() != spans.size()))
    return Status::Internal(path_ + ": payload references given to a v1 file or not one per span");
  if (impl_->v1) {
    SL_RETURN_IF_ERROR(impl_->v1->AddTrace(id, spans, agg, start_ns, end_ns));
    const auto& w = impl_->v1->traces().back();
    traces_.push_back(Written{id, SegLoc{0, w.length, w.offset, w.checksum}});
    span_count_ += spans.size();
    return Status::OK();
  }
  // Newest copy of a span id wins (the v2 file orders a trace's rows by start time, so
  // arrival order cannot decide later), and every id must fit the format (the builder
  // checks them too: distinct spans go to it unlooked at).
  dedup_.clear();
  const std::vector<std::string_view>* use = &spans;
  if (!distinct && spans.size() > 1) {
    std::unordered_map<std::string_view, size_t> last;
    last.reserve(spans.size());
    std::vector<std::string_view> ids(spans.size());
    for (size_t i = 0; i < spans.size(); ++i) {
      size_t parent_len = 0;
      if (!PeekIds(spans[i], &ids[i], &parent_len))
        return Status::Corruption(path_ + ": trace " + HexEncode(id.ToBytes()) + ": a span does not parse");
      if (ids[i].size() != 8 || (parent_len != 0 && parent_len != 8)) {
        needs_v1_ = true;
        return Status::InvalidArgument(path_ + ": trace " + HexEncode(id.ToBytes()) + " has a span id the columnar format cannot hold");
      }
      last[ids[i]] = i;
    }
    if (last.size() != spans.size()) {
      dedup_refs_.clear();
      for (size_t i = 0; i < spans.size(); ++i) {
        if (last[ids[i]] != i) continue;
        dedup_.push_back(spans[i]);
        if (refs != nullptr) dedup_refs_.push_back(std::move((*refs)[i]));
      }
      use = &dedup_;
      if (refs != nullptr) refs = &dedup_refs_;
    }
  } else if (!distinct && spans.size() == 1) {
    std::string_view sid;
    size_t parent_len = 0;
    if (!PeekIds(spans[0], &sid, &parent_len))
      return Status::Corruption(path_ + ": trace " + HexEncode(id.ToBytes()) + ": a span does not parse");
    if (sid.size() != 8 || (parent_len != 0 && parent_len != 8)) {
      needs_v1_ = true;
      return Status::InvalidArgument(path_ + ": trace " + HexEncode(id.ToBytes()) + " has a span id the columnar format cannot hold");
    }
  }
  Status s = impl_->v2->AddTrace(id, *use, agg, start_ns, end_ns, refs);
  if (!s.ok()) {
    if (s.code() == StatusCode::kInvalidArgument) needs_v1_ = true;
    return s;
  }
  const auto& w = impl_->v2->traces().back();
  traces_.push_back(Written{id, SegLoc{0, w.row_count, w.first_row, 0}});
  span_count_ += use->size();
  return Status::OK();
}

Status SegmentOutput::AddParsedTrace(const TraceKey& id, model::Span* spans, size_t n, std::string_view agg,
                                     int64_t start_ns, int64_t end_ns, std::vector<columnar::SpanPayloadRefs>* refs) {
  if (!impl_->v2) return Status::Internal(path_ + ": parsed spans given to a v1 file");
  // The builder checks every id (InvalidArgument: a span only a v1 file can hold).
  return Added(id, n, impl_->v2->AddParsedTrace(id, spans, n, agg, start_ns, end_ns, refs));
}

Status SegmentOutput::AddRowTrace(const TraceKey& id, columnar::Row* rows, size_t n, std::string_view agg,
                                  int64_t start_ns, int64_t end_ns, std::vector<columnar::SpanPayloadRefs>* refs) {
  if (!impl_->v2) return Status::Internal(path_ + ": rows given to a v1 file");
  return Added(id, n, impl_->v2->AddRowTrace(id, rows, n, agg, start_ns, end_ns, refs));
}

Status SegmentOutput::Added(const TraceKey& id, size_t n, Status s) {
  if (!s.ok()) {
    if (s.code() == StatusCode::kInvalidArgument) needs_v1_ = true;
    return s;
  }
  const auto& w = impl_->v2->traces().back();
  traces_.push_back(Written{id, SegLoc{0, w.row_count, w.first_row, 0}});
  span_count_ += n;
  return Status::OK();
}

Result<std::shared_ptr<SegmentFile>> SegmentOutput::Finish() {
  if (impl_->v2) {
    SL_RETURN_IF_ERROR(impl_->v2->Finish());
  } else {
    SL_RETURN_IF_ERROR(impl_->v1->Finish());
  }
  return OpenSegmentFile(env_, path_, covered_wal_, [](const SegmentTraceEntry&) { return Status::OK(); });
}

void SegmentOutput::Abandon() {
  if (impl_->v2) impl_->v2->Abandon();
  if (impl_->v1) impl_->v1->Abandon();
}

}  // namespace sightline::store
