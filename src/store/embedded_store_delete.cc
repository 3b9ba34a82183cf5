// EmbeddedStore deletion on request (docs/deletion.md, store/deletion/deletion.h).
//
// Steps of Delete, and what a crash between them leaves:
//   1. under the exclusive lock: resolve the request to trace ids (merged summaries of
//      the trace index), write DATA/DELETIONS with the new record (fsync'd), then make
//      the ids tombstones and drop the traces from the index (and so from their
//      sessions). A crash before the file is renamed into place: the request was never
//      answered and nothing changed. After: Open reads the file, drops the traces from
//      the index, skips their spans in WAL replay, and finishes step 2.
//   2. completion: a flush of the memtable without them (the WAL files that held them
//      are deleted once that flush is installed), then every segment file whose table
//      lists one of them is rewritten without them (one manifest edit per file, the
//      same install as compaction); then the record is marked complete. A crash here
//      leaves the record pending: Open (and then the compaction thread, until it
//      succeeds) finishes it.
#include <algorithm>

#include "store/columnar/columnar_reader.h"
#include "store/columnar/span_columns.h"
#include "store/embedded_store.h"
#include "store/segment_io.h"

namespace sightline::store {

namespace {

using TraceKeySet = std::unordered_set<TraceKey, TraceKeyHash>;

uint64_t NamingColumns(const DeletionRequest& r) {
  return columnar::kTraceId | columnar::kProject |
         (r.kind == DeletionKind::kUser ? columnar::kUserId : columnar::kSessionId);
}

// Adds the traces of the rows that name the request's user or session (in its project).
void CollectNaming(const DeletionRequest& r, const columnar::SpanColumns& cols, TraceKeySet* out) {
  const auto& ids = r.kind == DeletionKind::kUser ? cols.user_id : cols.session_id;
  for (size_t i = 0; i < cols.rows; ++i)
    if (ids[i] == r.value && (r.project.empty() || cols.project[i] == r.project)) out->insert(cols.trace_id[i]);
}

Status NamingInSpans(const DeletionRequest& r, const std::vector<std::string_view>& spans, TraceKeySet* out) {
  constexpr size_t kBatch = 4096;
  columnar::SpanColumns cols;
  std::deque<std::string> storage;
  for (size_t i = 0; i < spans.size(); i += kBatch) {
    std::vector<std::string_view> part(spans.begin() + static_cast<std::ptrdiff_t>(i),
                                       spans.begin() + static_cast<std::ptrdiff_t>(std::min(spans.size(), i + kBatch)));
    storage.clear();
    SL_RETURN_IF_ERROR(columnar::DecodeColumns(part, NamingColumns(r), &cols, &storage));
    CollectNaming(r, cols, out);
  }
  return Status::OK();
}

}  // namespace

// A trace goes when any of its spans names the id, not only when its summary does (the
// summary holds the root's user and session, else the first span's): a sub-agent's span
// acting for another user, or a span of another session, takes its whole trace along.
// v2 files: the user_id or session_id column of the blocks the file's bloom filter lets
// through; v1 files: their spans. A damaged block is logged and skipped: its traces are
// still matched by their summaries, and their rewrite waits for salvage.
Status EmbeddedStore::NamingInFile(const DeletionRequest& r, const std::shared_ptr<SegmentFile>& file,
                                   std::unordered_set<TraceKey, TraceKeyHash>* out) {
  auto on_damage = [this, &file](const Status& s) {
    Log("deletion: skipping damaged data of " + file->path() + " in the span match: " + s.ToString());
  };
  if (auto reader = ColumnarOf(file)) {
    columnar::BlockFilter bf;
    if (r.kind == DeletionKind::kUser) {
      bf.user_id = r.value;
    } else {
      bf.session_id = r.value;
    }
    Status s = reader->Scan(NamingColumns(r), bf,
                            [&](const columnar::SpanColumns& cols, uint32_t) {
                              CollectNaming(r, cols, out);
                              return Status::OK();
                            },
                            on_damage);
    if (s.code() == StatusCode::kCorruption) {
      on_damage(s);
      return Status::OK();
    }
    return s;
  }
  return file->ListTraces([&](const SegmentTraceEntry& e) -> Status {
    if (e.loc.length == 0 || out->count(e.id)) return Status::OK();
    std::deque<std::string> storage;
    std::vector<std::string_view> spans;
    Status s = file->ReadTrace(e.loc, &storage, &spans);
    if (s.ok()) s = NamingInSpans(r, spans, out);
    if (s.code() == StatusCode::kCorruption) {
      on_damage(s);
      return Status::OK();
    }
    return s;
  });
}

Status EmbeddedStore::NamingInMemtablesLocked(const DeletionRequest& r,
                                              std::unordered_set<TraceKey, TraceKeyHash>* out) const {
  std::vector<std::string_view> spans;
  for (const Memtable* m : {imm_.get(), mem_.get()}) {
    if (!m) continue;
    spans.clear();
    for (const Memtable::Trace& t : m->traces()) m->SpanBytes(t, &spans);
    SL_RETURN_IF_ERROR(NamingInSpans(r, spans, out));
  }
  return Status::OK();
}

Result<DeletionRecord> EmbeddedStore::Delete(const DeletionRequest& request) {
  if (request.value.empty())
    return Status::InvalidArgument(std::string("delete: the ") + DeletionKindName(request.kind) + " id is empty");
  if (request.value.size() > 4096) return Status::InvalidArgument("delete: the id is longer than 4096 bytes");
  {
    std::lock_guard<std::mutex> l(q_mu_);
    if (closing_) return Status::Unavailable("store is closed");
  }
  std::lock_guard<std::mutex> run(del_run_mu_);
  DeletionRecord rec;
  rec.kind = request.kind;
  rec.value_sha256 = Sha256Hex(request.value);
  rec.project = request.project;
  rec.requested_by = request.requested_by;
  rec.requested_at_ns = env_->NowNanos();
  // The segment files first, without the lock; files written while this ran (a flush,
  // a compaction's outputs) and the memtables under the writer's lock below.
  std::unordered_set<TraceKey, TraceKeyHash> naming;
  std::unordered_set<const SegmentFile*> scanned;
  {
    std::vector<std::shared_ptr<SegmentFile>> files;
    {
      std::shared_lock<std::shared_mutex> r(mu_);
      for (const Slot& sl : files_)
        if (sl.file) files.push_back(sl.file);
    }
    for (const auto& f : files) {
      SL_RETURN_IF_ERROR(NamingInFile(request, f, &naming).WithContext("delete: matching spans"));
      scanned.insert(f.get());
    }
  }
  {
    std::unique_lock<std::shared_mutex> w(mu_);
    for (const Slot& sl : files_)
      if (sl.file && !scanned.count(sl.file.get()))
        SL_RETURN_IF_ERROR(NamingInFile(request, sl.file, &naming).WithContext("delete: matching spans"));
    SL_RETURN_IF_ERROR(NamingInMemtablesLocked(request, &naming).WithContext("delete: matching spans"));
    std::vector<uint32_t> matched;
    const uint32_t value = index_.pool().Find(request.value);
    const uint32_t project =
        request.project.empty() ? StringPool::kMissing : index_.pool().Find(request.project);
    const bool project_known = request.project.empty() || project != StringPool::kMissing;
    if (value != StringPool::kMissing && project_known) {
      for (uint32_t i = 0; i < index_.size(); ++i) {
        const TraceRecord& r = index_.record(i);
        const TraceAgg& a = r.agg;
        if ((request.kind == DeletionKind::kUser ? a.user_id : a.session_id) != value) continue;
        if (!request.project.empty() && a.project != project) continue;
        auto found = index_.Find(r.id);
        if (!found || *found != i) continue;  // a removed record
        matched.push_back(i);
        rec.spans += static_cast<uint64_t>(std::max<int64_t>(0, a.span_count));
      }
    }
    std::unordered_set<uint32_t> by_summary(matched.begin(), matched.end());
    for (const TraceKey& k : naming) {
      auto i = index_.Find(k);
      if (!i || by_summary.count(*i)) continue;
      matched.push_back(*i);
      rec.spans += static_cast<uint64_t>(std::max<int64_t>(0, index_.record(*i).agg.span_count));
    }
    rec.traces = matched.size();
    for (uint32_t i : matched) rec.keys.push_back(index_.record(i).id);
    std::vector<DeletionRecord> next;
    {
      std::lock_guard<std::mutex> d(del_mu_);
      next = deletions_;
    }
    rec.id = next.empty() ? 1 : next.back().id + 1;
    if (rec.keys.empty()) rec.completed_at_ns = rec.requested_at_ns;  // nothing to rewrite
    next.push_back(rec);
    // Durable before anything is hidden, and before the caller hears of it.
    SL_RETURN_IF_ERROR(WriteDeletions(env_, opts_.dir, next).WithContext("writing the deletion record"));
    {
      std::lock_guard<std::mutex> d(del_mu_);
      deletions_ = std::move(next);
    }
    for (uint32_t i : matched) {
      tombstones_.insert(index_.record(i).id);
      DropTraceLocked(i);
    }
    index_bytes_ = static_cast<int64_t>(index_.MemoryBytes());
  }
  Log("deletion " + std::to_string(rec.id) + ": " + DeletionKindName(rec.kind) + " (sha256 " +
      rec.value_sha256.substr(0, 16) + "...) " + std::to_string(rec.traces) + " traces, " +
      std::to_string(rec.spans) + " spans hidden; removing them from disk");
  if (!rec.keys.empty()) {
    deletions_pending_ = true;
    Status s = CompleteDeletionsLocked();
    if (!s.ok()) Log("deletion " + std::to_string(rec.id) + ": the rewrite failed (retried in the background): " + s.ToString());
    std::lock_guard<std::mutex> d(del_mu_);
    for (const auto& r : deletions_)
      if (r.id == rec.id) rec = r;
  }
  rec.value = request.value;
  if (opts_.on_deleted) opts_.on_deleted(rec);
  rec.keys.clear();
  return rec;
}

std::vector<DeletionRecord> EmbeddedStore::Deletions() {
  std::lock_guard<std::mutex> d(del_mu_);
  std::vector<DeletionRecord> out = deletions_;
  for (auto& r : out) r.keys.clear();
  return out;
}

void EmbeddedStore::ApplyTombstonesLocked() {
  for (const TraceKey& k : tombstones_)
    if (auto i = index_.Find(k)) DropTraceLocked(*i);
}

Status EmbeddedStore::CompleteDeletionsLocked() {
  {
    std::lock_guard<std::mutex> d(del_mu_);
    if (std::all_of(deletions_.begin(), deletions_.end(), [](const DeletionRecord& r) { return r.complete(); })) {
      deletions_pending_ = false;
      return Status::OK();
    }
  }
  // The memtable's copies: flushed without the tombstoned traces; the flush deletes the
  // WAL files it covers, which are every file that held them.
  SL_RETURN_IF_ERROR(FlushNow());
  uint64_t rewritten = 0;
  {
    std::lock_guard<std::mutex> c(compact_mu_);
    SL_RETURN_IF_ERROR(RewriteForDeletions(&rewritten));
  }
  std::vector<DeletionRecord> next;
  {
    std::lock_guard<std::mutex> d(del_mu_);
    next = deletions_;
  }
  const int64_t now = env_->NowNanos();
  for (auto& r : next) {
    if (r.complete()) continue;
    r.completed_at_ns = now;
    r.segments_rewritten += rewritten;
  }
  SL_RETURN_IF_ERROR(WriteDeletions(env_, opts_.dir, next).WithContext("writing the deletion record"));
  {
    std::lock_guard<std::mutex> d(del_mu_);
    deletions_ = std::move(next);
  }
  deletions_pending_ = false;
  return Status::OK();
}

Status EmbeddedStore::RewriteForDeletions(uint64_t* rewritten) {
  struct Live {
    uint64_t number;
    int64_t partition;
    std::shared_ptr<SegmentFile> file;
  };
  std::vector<Live> live;
  std::unordered_set<TraceKey, TraceKeyHash> tomb;
  {
    std::shared_lock<std::shared_mutex> r(mu_);
    tomb = tombstones_;
    for (const Slot& s : files_)
      if (s.file) live.push_back({s.meta.number, s.meta.partition, s.file});
  }
  if (tomb.empty()) return Status::OK();
  Status first;
  for (const Live& l : live) {
    if (std::find(damaged_.begin(), damaged_.end(), l.number) != damaged_.end()) {
      if (first.ok()) first = Status::Unavailable(l.file->path() + " is damaged: rewritten once salvaged");
      continue;
    }
    // The file's table says whether it holds a tombstoned trace (no span reads).
    bool hit = false;
    SL_RETURN_IF_ERROR(l.file->ListTraces([&](const SegmentTraceEntry& e) -> Status {
      if (tomb.count(e.id)) hit = true;
      return Status::OK();
    }));
    if (!hit) continue;
    compaction::MergeHooks hooks;
    hooks.env = env_;
    hooks.dir = seg_dir_;
    hooks.new_file_number = [this] { return manifest_->NewFileNumber(); };
    hooks.partition_of = [p = l.partition](const TraceKey&, const TraceAgg&, const StringPool&) { return p; };
    hooks.fate = [this, &tomb](const TraceKey& id, const TraceAgg&, const StringPool&) {
      if (tomb.count(id)) return retention::Fate::kGone;
      std::shared_lock<std::shared_mutex> r(mu_);  // dropped by tail sampling: not copied either
      return SampledOutLocked(id) ? retention::Fate::kGone : retention::Fate::kFull;
    };
    hooks.max_output_bytes = opts_.compaction.max_output_bytes;
    hooks.format = opts_.segment_format;
    SL_ASSIGN_OR_RETURN(auto merged, compaction::Merge({l.file}, hooks));
    SL_RETURN_IF_ERROR(Install({l.number}, &merged));
    ++*rewritten;
    Log("deletion: rewrote " + l.file->path() + " without the deleted traces");
  }
  return first;
}

}  // namespace sightline::store
