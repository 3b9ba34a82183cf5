#include "store/columnar/columnar_builder.h"

#include <xxhash.h>

#include <algorithm>
#include <cstring>

#include "common/hex.h"
#include "store/coding.h"
#include "store/columnar/columnar_format.h"

namespace sightline::store::columnar {
namespace {

std::string TraceHex(const TraceKey& id) { return HexEncode(id.ToBytes()); }

Status CheckIds(const TraceKey& id, const std::string& id_bytes, size_t i, const model::Span& s) {
  if (s.trace_id() != id_bytes || s.span_id().size() != 8 ||
      (!s.parent_span_id().empty() && s.parent_span_id().size() != 8))
    return Status::InvalidArgument("trace " + TraceHex(id) + " span " + std::to_string(i) +
                                   ": trace_id must equal the trace's, span_id be 8 bytes, parent 0 or 8");
  return Status::OK();
}

}  // namespace

Result<std::unique_ptr<ColumnarBuilder>> ColumnarBuilder::Create(Env* env, const std::string& dir,
                                                                 const std::string& file_name, int zstd_level) {
  if (file_name.empty() || file_name.find('/') != std::string::npos)
    return Status::InvalidArgument("segment file name '" + file_name + "' must be a plain name");
  std::string path = JoinPath(dir, file_name);
  SL_ASSIGN_OR_RETURN(auto f, env->NewWritableFile(path + ".tmp"));
  std::unique_ptr<ColumnarBuilder> b(new ColumnarBuilder(env, dir, path, std::move(f)));
  b->zstd_level_ = zstd_level;
  b->payloads_.set_zstd_level(zstd_level);
  b->buf_.append(kMagic, sizeof(kMagic));
  PutFixed32(&b->buf_, kFormatVersion);
  PutFixed32(&b->buf_, 0);
  b->offset_ = kHeaderSize;
  return b;
}

ColumnarBuilder::ColumnarBuilder(Env* env, std::string dir, std::string path, std::unique_ptr<WritableFile> f)
    : env_(env), dir_(std::move(dir)), path_(std::move(path)), tmp_path_(path_ + ".tmp"), file_(std::move(f)) {}

ColumnarBuilder::~ColumnarBuilder() { Abandon(); }

Status ColumnarBuilder::Append(std::string_view data) {
  buf_.append(data);
  offset_ += data.size();
  if (buf_.size() >= (1u << 20)) return FlushBuffer();
  return Status::OK();
}

Status ColumnarBuilder::FlushBuffer() {
  if (buf_.empty()) return Status::OK();
  Status s = file_->Append(buf_);
  buf_.clear();
  if (!s.ok()) error_ = s.WithContext("writing " + tmp_path_);
  return error_;
}

Status ColumnarBuilder::CheckTrace(const TraceKey& id, size_t spans, const std::vector<SpanPayloadRefs>* refs) const {
  if (finished_) return Status::InvalidArgument(path_ + ": AddTrace after Finish or Abandon");
  SL_RETURN_IF_ERROR(error_);
  if (!traces_.empty() && !(traces_.back().id < id))
    return Status::InvalidArgument(path_ + ": trace " + TraceHex(id) + " added out of ascending trace_id order");
  if (spans > UINT32_MAX / 2) return Status::InvalidArgument("trace " + TraceHex(id) + " has too many spans");
  if (refs != nullptr && refs->size() != spans)
    return Status::InvalidArgument("trace " + TraceHex(id) + ": payload references for " + std::to_string(refs->size()) +
                                   " spans, but the trace has " + std::to_string(spans));
  return Status::OK();
}

Status ColumnarBuilder::AddParsedTrace(const TraceKey& id, model::Span* spans, size_t n, std::string_view agg,
                                       int64_t start_ns, int64_t end_ns, std::vector<SpanPayloadRefs>* refs) {
  SL_RETURN_IF_ERROR(CheckTrace(id, n, refs));
  const std::string id_bytes = id.ToBytes();
  for (size_t i = 0; i < n; ++i) SL_RETURN_IF_ERROR(CheckIds(id, id_bytes, i, spans[i]));
  // Swapped into parsed_, whose messages (and their allocations) go back to the caller.
  if (parsed_.size() < n) parsed_.resize(n);
  if (trace_rows_.size() < n) trace_rows_.resize(n);
  for (size_t i = 0; i < n; ++i) parsed_[i].Swap(&spans[i]);
  wire_ok_.assign(n, 0);
  return AddSplitTrace(id, id_bytes, n, agg, start_ns, end_ns, refs);
}

Status ColumnarBuilder::AddTrace(const TraceKey& id, const std::vector<std::string_view>& spans, std::string_view agg,
                                 int64_t start_ns, int64_t end_ns, std::vector<SpanPayloadRefs>* refs) {
  SL_RETURN_IF_ERROR(CheckTrace(id, spans.size(), refs));
  const std::string id_bytes = id.ToBytes();
  // Validate every span before any payload is stored, so a refused trace leaves nothing.
  // parsed_ and trace_rows_ keep their messages between traces (and block_ its rows
  // between blocks): parsing into a cleared message reuses its strings and repeated
  // fields, which saves the flush most of its mallocs and frees.
  if (parsed_.size() < spans.size()) parsed_.resize(spans.size());
  if (trace_rows_.size() < spans.size()) trace_rows_.resize(spans.size());
  // The columns, scope fields, attributes and payloads are taken from the wire bytes
  // unparsed (SplitWire); a span whose bytes it cannot walk is parsed whole.
  if (wire_.size() < spans.size()) wire_.resize(spans.size());
  wire_ok_.assign(spans.size(), 0);
  auto unparsable = [&](size_t i) {
    return Status::InvalidArgument("trace " + TraceHex(id) + " span " + std::to_string(i) + " does not parse");
  };
  for (size_t i = 0; i < spans.size(); ++i) {
    model::Span& s = parsed_[i];
    const bool walked = SplitWire(spans[i], &wire_[i]);
    wire_ok_[i] = walked ? 1 : 0;
    // A walked span's rest (events, links, ...) is copied as it is: parsed here only to
    // check it, and only when there is one.
    const std::string_view bytes = walked ? std::string_view(wire_[i].rest) : spans[i];
    if ((!walked || !bytes.empty()) &&
        (bytes.size() > INT32_MAX || !s.ParseFromArray(bytes.data(), static_cast<int>(bytes.size()))))
      return unparsable(i);
    // The scope's bytes are stored as they are, so they are parsed once to check them:
    // once per distinct scope (a trace's spans mostly share their resource and scope).
    if (walked && !wire_[i].scope.empty() && wire_[i].scope != checked_scope_) {
      const std::string& scope = wire_[i].scope;
      const bool ok = scope.size() <= INT32_MAX &&
                      scope_scratch_.ParseFromArray(scope.data(), static_cast<int>(scope.size()));
      scope_scratch_.Clear();
      if (!ok) return unparsable(i);
      checked_scope_ = scope;
    }
    SL_RETURN_IF_ERROR(CheckIds(id, id_bytes, i, walked ? wire_[i].cols : s));
  }
  return AddSplitTrace(id, id_bytes, spans.size(), agg, start_ns, end_ns, refs);
}

Status ColumnarBuilder::AddSplitTrace(const TraceKey& id, const std::string& id_bytes, size_t count,
                                      std::string_view agg, int64_t start_ns, int64_t end_ns,
                                      std::vector<SpanPayloadRefs>* refs) {
  for (size_t i = 0; i < count; ++i) {
    const size_t given = refs != nullptr ? (*refs)[i].large.size() : 0;
    SpanPayloadRefs* pre = refs != nullptr ? &(*refs)[i] : nullptr;
    if (wire_ok_[i])
      SplitWireSpan(&wire_[i], &payloads_, &trace_rows_[i], pre);
    else
      SplitSpan(&parsed_[i], &payloads_, &trace_rows_[i], &scope_scratch_, pre);
    // Every large value given by reference must have found its string attribute, or it
    // would be lost (the span holds it empty).
    if (trace_rows_[i].large_attrs.size() < given)
      return Status::Internal("trace " + TraceHex(id) + " span " + std::to_string(i) +
                              ": a large attribute given by reference is not a string attribute of the span");
  }
  return PlaceTrace(id, id_bytes, count, agg, start_ns, end_ns);
}

Status ColumnarBuilder::AddRowTrace(const TraceKey& id, Row* rows, size_t n, std::string_view agg, int64_t start_ns,
                                    int64_t end_ns, std::vector<SpanPayloadRefs>* refs) {
  if (refs == nullptr)
    return Status::InvalidArgument(path_ + ": rows of trace " + TraceHex(id) + " without their payload lists");
  SL_RETURN_IF_ERROR(CheckTrace(id, n, refs));
  for (size_t i = 0; i < n; ++i) {
    const model::Span& c = rows[i].cols;
    if (!(rows[i].trace == id) || c.span_id().size() != 8 ||
        (!c.parent_span_id().empty() && c.parent_span_id().size() != 8))
      return Status::InvalidArgument("trace " + TraceHex(id) + " span " + std::to_string(i) +
                                     ": trace_id must equal the trace's, span_id be 8 bytes, parent 0 or 8");
  }
  if (trace_rows_.size() < n) trace_rows_.resize(n);
  for (size_t i = 0; i < n; ++i) {
    trace_rows_[i].Swap(rows[i]);
    if (!TakeRowRefs(&trace_rows_[i], &(*refs)[i]))
      return Status::Internal("trace " + TraceHex(id) + " span " + std::to_string(i) +
                              ": its large attributes and the lists given for them differ");
  }
  return PlaceTrace(id, id.ToBytes(), n, agg, start_ns, end_ns);
}

Status ColumnarBuilder::PlaceTrace(const TraceKey& id, const std::string& id_bytes, size_t count, std::string_view agg,
                                   int64_t start_ns, int64_t end_ns) {
  order_.resize(count);
  for (size_t i = 0; i < count; ++i) order_[i] = static_cast<uint32_t>(i);
  std::stable_sort(order_.begin(), order_.end(), [this](uint32_t x, uint32_t y) {
    const model::Span& a = trace_rows_[x].cols;
    const model::Span& b = trace_rows_[y].cols;
    if (a.start_ns() != b.start_ns()) return a.start_ns() < b.start_ns();
    return a.span_id() < b.span_id();
  });
  size_t trace_bytes = 0, trace_payload = 0;
  for (size_t i = 0; i < count; ++i) {
    trace_bytes += trace_rows_[i].raw_bytes;
    trace_payload += trace_rows_[i].payload_bytes;
  }
  if (block_n_ > 0 &&
      (block_n_ + count > kBlockTargetRows || block_bytes_ + trace_bytes > kBlockTargetBytes ||
       block_payload_ + trace_payload > kBlockTargetPayloadBytes))
    SL_RETURN_IF_ERROR(FlushBlock());

  WrittenTrace w{id, static_cast<uint32_t>(row_count()), static_cast<uint32_t>(count)};
  if (row_count() + count > UINT32_MAX) return Status::InvalidArgument(path_ + ": segment over 2^32 rows");
  for (uint32_t i : order_) {
    Row& r = trace_rows_[i];
    block_bytes_ += r.raw_bytes;
    block_payload_ += r.payload_bytes;
    if (block_n_ == block_.size()) block_.emplace_back();
    // The block's old row (cleared by the next SplitSpan into it) goes back for reuse.
    block_[block_n_++].Swap(r);
    if (block_n_ >= kBlockTargetRows || block_bytes_ >= kBlockTargetBytes || block_payload_ >= kBlockTargetPayloadBytes)
      SL_RETURN_IF_ERROR(FlushBlock());
  }
  SL_RETURN_IF_ERROR(DrainFrames());

  traces_.push_back(w);
  trace_hashes_.push_back(BloomHash(id));
  traces_meta_.append(id_bytes);
  PutVarint64(&traces_meta_, w.row_count);
  PutLengthPrefixed(&traces_meta_, agg);
  PutSigned(&traces_meta_, start_ns);
  PutSigned(&traces_meta_, WrapSub(end_ns, start_ns));
  min_start_ = std::min(min_start_, start_ns);
  max_end_ = std::max(max_end_, end_ns);
  return Status::OK();
}

Status ColumnarBuilder::DrainFrames() {
  for (PayloadWriter::Frame& f : *payloads_.ready()) {
    PutVarint64(&frames_meta_, offset_);
    PutVarint64(&frames_meta_, f.stored.size());
    PutVarint64(&frames_meta_, f.raw_len);
    frames_meta_.push_back(static_cast<char>(f.codec));
    PutFixed64(&frames_meta_, f.checksum);
    PutVarint64(&frames_meta_, f.piece_lens.size());
    for (uint32_t len : f.piece_lens) PutVarint64(&frames_meta_, len);
    ++frame_count_;
    SL_RETURN_IF_ERROR(Append(f.stored));
  }
  payloads_.ready()->clear();
  return Status::OK();
}

Status ColumnarBuilder::FlushBlock() {
  if (block_n_ == 0) return Status::OK();
  const size_t n = block_n_;
  std::vector<EncodedColumn> cols;
  EncodeBlock(block_.data(), n, &cols);

  int64_t min_start = INT64_MAX, max_start = INT64_MIN, min_end = INT64_MAX, max_end = INT64_MIN;
  std::string min_session, max_session, min_user, max_user;
  std::vector<uint64_t> trace_h, session_h, user_h;
  std::unordered_set<std::string_view> seen_sessions, seen_users;
  for (size_t r = 0; r < n; ++r) {
    const model::Span& c = block_[r].cols;
    min_start = std::min(min_start, c.start_ns());
    max_start = std::max(max_start, c.start_ns());
    min_end = std::min(min_end, c.end_ns());
    max_end = std::max(max_end, c.end_ns());
    if (r == 0 || !(block_[r].trace == block_[r - 1].trace)) trace_h.push_back(BloomHash(block_[r].trace));
    for (auto [v, seen, hashes, lo, hi, all] :
         {std::tuple{&c.session_id(), &seen_sessions, &session_h, &min_session, &max_session, &sessions_},
          std::tuple{&c.user_id(), &seen_users, &user_h, &min_user, &max_user, &users_}}) {
      if (v->empty() || !seen->insert(*v).second) continue;
      hashes->push_back(BloomHash(*v));
      if (lo->empty() || *v < *lo) *lo = *v;
      if (*v > *hi) *hi = *v;
      all->insert(*v);
    }
  }
  min_start_ = std::min(min_start_, min_start);
  max_end_ = std::max(max_end_, max_end);

  std::string& m = blocks_meta_;
  PutVarint64(&m, n);
  PutVarint64(&m, offset_);
  for (int64_t v : {min_start, max_start, min_end, max_end}) PutSigned(&m, v);
  m.append(block_.front().trace.ToBytes());
  m.append(block_[n - 1].trace.ToBytes());
  for (const std::string* s : {&min_session, &max_session, &min_user, &max_user}) PutLengthPrefixed(&m, *s);
  PutVarint64(&m, cols.size());
  const uint64_t block_offset = offset_;
  std::string stored;
  std::string chunks_meta;
  for (const EncodedColumn& c : cols) {
    uint8_t codec = CompressChunk(c.raw, &stored, zstd_level_);
    chunks_meta.push_back(static_cast<char>(c.id));
    PutVarint64(&chunks_meta, offset_ - block_offset);
    PutVarint64(&chunks_meta, stored.size());
    PutVarint64(&chunks_meta, c.raw.size());
    chunks_meta.push_back(static_cast<char>(codec));
    PutFixed64(&chunks_meta, XXH3_64bits(stored.data(), stored.size()));
    PutVarint64(&chunks_meta, c.null_count);
    SL_RETURN_IF_ERROR(Append(stored));
  }
  m.append(chunks_meta);
  for (const auto* h : {&trace_h, &session_h, &user_h}) PutLengthPrefixed(&m, BuildBloom(*h));

  rows_written_ += n;
  ++block_count_;
  block_n_ = 0;  // the rows stay allocated for the next block
  block_bytes_ = 0;
  block_payload_ = 0;
  return Status::OK();
}

Status ColumnarBuilder::Finish() {
  if (finished_) return Status::InvalidArgument(path_ + ": Finish called twice or after Abandon");
  SL_RETURN_IF_ERROR(error_);
  SL_RETURN_IF_ERROR(FlushBlock());
  payloads_.Flush();
  SL_RETURN_IF_ERROR(DrainFrames());

  std::string meta;
  PutVarint64(&meta, rows_written_);
  PutVarint64(&meta, traces_.size());
  PutVarint64(&meta, block_count_);
  PutVarint64(&meta, frame_count_);
  PutVarint64(&meta, payloads_.piece_count());
  bool empty = traces_.empty();
  PutSigned(&meta, empty ? 0 : min_start_);
  PutSigned(&meta, empty ? 0 : max_end_);
  meta.append(blocks_meta_);
  meta.append(frames_meta_);
  meta.append(traces_meta_);
  PutLengthPrefixed(&meta, BuildBloom(trace_hashes_));
  for (const auto* set : {&sessions_, &users_}) {
    std::vector<uint64_t> h;
    h.reserve(set->size());
    for (const std::string& s : *set) h.push_back(BloomHash(s));
    PutLengthPrefixed(&meta, BuildBloom(h));
  }
  std::string stored;
  uint8_t codec = CompressChunk(meta, &stored);
  std::string tail;
  PutFixed64(&tail, offset_);
  PutFixed64(&tail, stored.size());
  PutFixed64(&tail, codec == kCodecRaw ? (1ull << 63) | meta.size() : meta.size());
  PutFixed64(&tail, XXH3_64bits(stored.data(), stored.size()));
  PutFixed32(&tail, kFormatVersion);
  PutFixed32(&tail, static_cast<uint32_t>(XXH3_64bits(tail.data(), tail.size())));
  tail.append(kMagic, sizeof(kMagic));
  SL_RETURN_IF_ERROR(Append(stored));
  SL_RETURN_IF_ERROR(Append(tail));
  SL_RETURN_IF_ERROR(FlushBuffer());
  SL_RETURN_IF_ERROR(file_->Sync().WithContext("sync " + tmp_path_));
  SL_RETURN_IF_ERROR(file_->Close().WithContext("close " + tmp_path_));
  SL_RETURN_IF_ERROR(env_->RenameFile(tmp_path_, path_).WithContext("rename " + tmp_path_));
  finished_ = true;  // the file is in place; a failed directory sync leaves it there
  return env_->SyncDir(dir_).WithContext("sync " + dir_);
}

void ColumnarBuilder::Abandon() {
  if (finished_) return;
  finished_ = true;
  (void)file_->Close();
  (void)env_->RemoveFile(tmp_path_);
}

}  // namespace sightline::store::columnar
