// EmbeddedStore queries. Trace-level and side-set filters are answered from the trace
// index under the shared lock (scanned in chunks so the writer is never held up for
// long); only attribute and text filters look at spans, and only for traces that passed
// every other filter, in result order, until the page is full: by column scans over
// batches of candidates (embedded_store_query_scan.cc), or trace by trace when few
// candidates remain.
#include <algorithm>
#include <unordered_map>
#include <unordered_set>

#include "store/embedded_store.h"
#include "store/shared_payload.h"
#include "store/segment/segment_reader.h"

namespace sightline::store {
namespace {

struct Candidate {
  int64_t start;
  TraceKey key;
  uint32_t idx;
};
bool Before(const Candidate& a, const Candidate& b) { return a.start != b.start ? a.start > b.start : a.key < b.key; }

// The first batch of candidates a column scan decides (at least; 8 pages otherwise).
constexpr size_t kFirstScanBatch = 1024;

// Query strings resolved to interned ids. A string never interned matches nothing.
struct CompiledQuery {
  bool impossible = false;
  std::vector<uint32_t> projects;
  uint32_t service = 0, agent = 0, session = 0, user = 0, name = 0, model = 0, tool = 0;
};

uint32_t Resolve(const StringPool& pool, const std::string& s, bool* impossible) {
  if (s.empty()) return 0;
  uint32_t id = pool.Find(s);
  if (id == StringPool::kMissing) *impossible = true;
  return id;
}

std::vector<uint32_t> ResolveProjects(const StringPool& pool, const std::vector<std::string>& names, bool* impossible) {
  std::vector<uint32_t> ids;
  for (const auto& n : names) {
    uint32_t id = pool.Find(n);
    if (id != StringPool::kMissing) ids.push_back(id);
  }
  if (!names.empty() && ids.empty()) *impossible = true;
  return ids;
}

bool ProjectAllowed(const std::vector<std::string>& projects, std::string_view project) {
  return projects.empty() || std::find(projects.begin(), projects.end(), project) != projects.end();
}

}  // namespace

Result<TracePage> EmbeddedStore::SearchTraces(const TraceQuery& q) {
  const size_t limit = q.limit <= 0 ? 50 : static_cast<size_t>(q.limit);
  TraceKey after_key;
  if (q.after) {
    if (q.after->id.size() != 16) return Status::InvalidArgument("cursor: trace id must be 16 bytes");
    after_key = TraceKey::FromBytes(q.after->id);
  }
  CompiledQuery c;
  size_t n;
  {
    std::shared_lock<std::shared_mutex> r(mu_);
    const StringPool& pool = index_.pool();
    c.projects = ResolveProjects(pool, q.projects, &c.impossible);
    c.service = Resolve(pool, q.service, &c.impossible);
    c.agent = Resolve(pool, q.agent, &c.impossible);
    c.session = Resolve(pool, q.session_id, &c.impossible);
    c.user = Resolve(pool, q.user_id, &c.impossible);
    c.name = Resolve(pool, q.name, &c.impossible);
    c.model = Resolve(pool, q.model, &c.impossible);
    c.tool = Resolve(pool, q.tool, &c.impossible);
    n = index_.size();
  }
  TracePage page;
  if (c.impossible) return page;

  auto match = [&](const TraceRecord& rec) {
    const TraceAgg& a = rec.agg;
    if (a.span_count <= 0) return false;
    if (q.after) {
      if (a.start_ns > q.after->time_ns) return false;
      if (a.start_ns == q.after->time_ns && !(after_key < rec.id)) return false;
    }
    if (!c.projects.empty() && std::find(c.projects.begin(), c.projects.end(), a.project) == c.projects.end())
      return false;
    if (q.from_ns && a.end_ns < *q.from_ns) return false;
    if (q.to_ns && a.start_ns > *q.to_ns) return false;
    if (c.service && a.service != c.service) return false;
    if (c.session && a.session_id != c.session) return false;
    if (c.user && a.user_id != c.user) return false;
    if (q.status && a.Status() != *q.status) return false;
    if (q.kind && !(a.kinds_mask & (1u << (static_cast<unsigned>(*q.kind) & 31)))) return false;
    if (c.agent && !Has(a.agents, c.agent)) return false;
    if (c.name && !Has(a.names, c.name)) return false;
    if (c.model && !Has(a.models, c.model)) return false;
    if (c.tool && !Has(a.tools, c.tool)) return false;
    if (q.min_duration_ns && a.DurationNs() < *q.min_duration_ns) return false;
    if (q.max_duration_ns && a.DurationNs() > *q.max_duration_ns) return false;
    if (q.min_cost_usd && a.cost_usd < *q.min_cost_usd) return false;
    return true;
  };
  std::vector<Candidate> cands;
  constexpr size_t kChunk = 65536;
  const size_t want = limit + 1;
  if (q.attrs.empty() && q.text.empty()) {
    // The best `want` by (start desc, id asc), kept in a heap whose top is the worst
    // kept. Records are scanned newest first (a trace's record is appended when its
    // first span arrives, so the end of the index holds the recent ones); once the heap
    // is full, a trace that started before the worst kept one is ruled out from the
    // compact start array without reading its record. An unfiltered first page over
    // a million traces reads about 8 MB instead of every record.
    for (size_t end = n; end > 0;) {
      const size_t begin = end > kChunk ? end - kChunk : 0;
      std::shared_lock<std::shared_mutex> r(mu_);
      for (size_t i = end; i-- > begin;) {
        const auto idx = static_cast<uint32_t>(i);
        if (cands.size() == want && index_.start_ns(idx) < cands.front().start) continue;
        const TraceRecord& rec = index_.record(idx);
        if (!match(rec)) continue;
        Candidate cand{rec.agg.start_ns, rec.id, idx};
        if (cands.size() < want) {
          cands.push_back(cand);
          std::push_heap(cands.begin(), cands.end(), Before);
        } else if (Before(cand, cands.front())) {
          std::pop_heap(cands.begin(), cands.end(), Before);
          cands.back() = cand;
          std::push_heap(cands.begin(), cands.end(), Before);
        }
      }
      end = begin;
    }
    std::sort(cands.begin(), cands.end(), Before);
  } else {
    for (size_t begin = 0; begin < n; begin += kChunk) {
      std::shared_lock<std::shared_mutex> r(mu_);
      for (size_t i = begin; i < std::min(n, begin + kChunk); ++i) {
        const TraceRecord& rec = index_.record(static_cast<uint32_t>(i));
        if (match(rec)) cands.push_back({rec.agg.start_ns, rec.id, static_cast<uint32_t>(i)});
      }
    }
    std::sort(cands.begin(), cands.end(), Before);
    std::string text_lower = AsciiLower(q.text);
    std::vector<Candidate> kept;
    if (cands.size() < opts_.search_scan_min_traces) {
      for (const auto& cand : cands) {
        if (MatchesExpensive(cand.idx, q, text_lower)) kept.push_back(cand);
        if (kept.size() == want) break;
      }
    } else {
      // Column scans over batches of candidates in result order, each batch four times
      // the last: a page of frequent matches scans the newest few traces, a rare or
      // absent one scans them all in a few batches.
      std::vector<uint32_t> records;
      std::vector<uint8_t> verdicts;
      ScanMemos memos;  // pieces searched in one batch are not searched again in the next
      for (size_t pos = 0, batch = std::max<size_t>(kFirstScanBatch, 8 * want); pos < cands.size() && kept.size() < want;
           batch *= 4) {
        const size_t end = std::min(cands.size(), pos + batch);
        records.clear();
        for (size_t i = pos; i < end; ++i) records.push_back(cands[i].idx);
        SL_RETURN_IF_ERROR(ScanVerdicts(records, q, text_lower, &verdicts, &memos));
        for (size_t i = pos; i < end && kept.size() < want; ++i) {
          const uint8_t v = verdicts[i - pos];
          if (v == kYes || (v == kVerify && MatchesExpensive(cands[i].idx, q, text_lower))) kept.push_back(cands[i]);
        }
        pos = end;
      }
    }
    cands.swap(kept);
  }
  bool more = cands.size() > limit;
  if (more) cands.resize(limit);
  {
    std::shared_lock<std::shared_mutex> r(mu_);
    page.traces.reserve(cands.size());
    for (const auto& cand : cands) page.traces.push_back(index_.record(cand.idx).agg.ToSummary(cand.key, index_.pool()));
  }
  if (more && !page.traces.empty()) page.next = Cursor{page.traces.back().start_ns, page.traces.back().trace_id};
  return page;
}

Status EmbeddedStore::Gather(uint32_t idx, GatheredSpans* out) {
  std::vector<SegLoc> segs;
  std::vector<std::shared_ptr<SegmentFile>> readers;
  std::vector<std::string_view> imm_views, mem_views;
  {
    // One shared-lock step: the locations and the files they name belong to one
    // version of the segment set (compaction swaps both under the exclusive lock).
    std::shared_lock<std::shared_mutex> r(mu_);
    const TraceRecord& rec = index_.record(idx);
    segs = rec.segs;
    for (const auto& s : segs) readers.push_back(files_[s.segment].file);
    out->imm = imm_;
    out->mem = mem_;
    if (imm_)
      if (const Memtable::Trace* t = imm_->Find(rec.id)) imm_->SpanBytes(*t, &imm_views);
    if (const Memtable::Trace* t = mem_->Find(rec.id)) mem_->SpanBytes(*t, &mem_views);
  }
  for (size_t i = 0; i < segs.size(); ++i) {
    if (!readers[i]) return Status::Internal("trace location names an empty segment slot");
    Status s = readers[i]->ReadTrace(segs[i], &out->blocks, &out->spans);
    if (!s.ok()) {
      if (s.code() == StatusCode::kCorruption) {
        ++corrupt_reads_;
        Log("SEGMENT CORRUPTION (read): " + s.ToString() + "; the file will be salvaged and quarantined");
        ReportDamage(readers[i]->number());
      }
      return s;
    }
  }
  out->spans.insert(out->spans.end(), imm_views.begin(), imm_views.end());
  out->spans.insert(out->spans.end(), mem_views.begin(), mem_views.end());
  return Status::OK();
}

bool EmbeddedStore::MatchesExpensive(uint32_t idx, const TraceQuery& q, const std::string& text_lower) {
  GatheredSpans g;
  if (Status s = Gather(idx, &g); !s.ok()) {
    Log("search: skipping a trace: " + s.ToString());
    return false;
  }
  std::vector<bool> attr_ok(q.attrs.size(), false);
  size_t attrs_left = q.attrs.size();
  bool text_ok = q.text.empty();
  std::unordered_set<std::string> seen;  // newest copy of a span wins
  model::Span span;
  for (auto it = g.spans.rbegin(); it != g.spans.rend(); ++it) {
    if (!ParseStoredSpan(*it, &span, /*payloads=*/!text_ok)) continue;
    if (!seen.insert(span.span_id()).second) continue;
    for (size_t i = 0; i < q.attrs.size(); ++i) {
      if (!attr_ok[i] && SpanHasAttr(span, q.attrs[i].first, q.attrs[i].second)) {
        attr_ok[i] = true;
        --attrs_left;
      }
    }
    if (!text_ok)
      text_ok = ContainsIgnoreCase(span.input_json(), text_lower) || ContainsIgnoreCase(span.output_json(), text_lower);
    if (text_ok && attrs_left == 0) return true;
  }
  return false;
}

Result<TraceDetail> EmbeddedStore::GetTrace(const std::string& trace_id, const std::vector<std::string>& projects) {
  if (trace_id.size() != 16) return Status::InvalidArgument("trace id must be 16 bytes");
  TraceKey key = TraceKey::FromBytes(trace_id);
  TraceDetail d;
  uint32_t idx;
  {
    std::shared_lock<std::shared_mutex> r(mu_);
    auto found = index_.Find(key);
    if (!found || index_.record(*found).agg.span_count <= 0) return Status::NotFound("trace not found");
    idx = *found;
    const TraceAgg& a = index_.record(idx).agg;
    if (!ProjectAllowed(projects, index_.pool().Get(a.project))) return Status::NotFound("trace not found");
    d.summary = a.ToSummary(key, index_.pool());
  }
  GatheredSpans g;
  SL_RETURN_IF_ERROR(Gather(idx, &g));
  std::unordered_map<std::string, size_t> pos;  // span_id -> index in d.spans; later copies replace
  d.spans.reserve(g.spans.size());
  for (std::string_view b : g.spans) {
    model::Span span;
    if (!ParseStoredSpan(b, &span))
      return Status::Corruption("trace " + std::to_string(key.hi) + ": a stored span does not parse");
    auto [it, inserted] = pos.try_emplace(span.span_id(), d.spans.size());
    if (inserted) {
      d.spans.push_back(std::move(span));
    } else {
      d.spans[it->second] = std::move(span);
    }
  }
  return d;
}

Result<model::Span> EmbeddedStore::GetSpan(const std::string& trace_id, const std::string& span_id,
                                           const std::vector<std::string>& projects) {
  if (trace_id.size() != 16) return Status::InvalidArgument("trace id must be 16 bytes");
  if (span_id.size() != 8) return Status::InvalidArgument("span id must be 8 bytes");
  uint32_t idx;
  {
    std::shared_lock<std::shared_mutex> r(mu_);
    auto found = index_.Find(TraceKey::FromBytes(trace_id));
    if (!found) return Status::NotFound("trace not found");
    idx = *found;
    if (!ProjectAllowed(projects, index_.pool().Get(index_.record(idx).agg.project)))
      return Status::NotFound("trace not found");
  }
  GatheredSpans g;
  SL_RETURN_IF_ERROR(Gather(idx, &g));
  model::Span span;
  for (auto it = g.spans.rbegin(); it != g.spans.rend(); ++it) {
    if (ParseStoredSpan(*it, &span, /*payloads=*/false) && span.span_id() == span_id) {
      (void)ResolvePayloads(&span);
      return span;
    }
  }
  return Status::NotFound("span not found in its trace");
}

Result<SessionPage> EmbeddedStore::SearchSessions(const SessionQuery& q) {
  const size_t limit = q.limit <= 0 ? 50 : static_cast<size_t>(q.limit);
  struct Item {
    int64_t last_end;
    std::string_view session, project;
    const TraceIndex::Session* s;
  };
  auto before = [](const Item& a, const Item& b) {
    if (a.last_end != b.last_end) return a.last_end > b.last_end;
    if (a.session != b.session) return a.session < b.session;
    return a.project < b.project;
  };
  SessionPage page;
  std::shared_lock<std::shared_mutex> r(mu_);
  const StringPool& pool = index_.pool();
  bool impossible = false;
  std::vector<uint32_t> projects = ResolveProjects(pool, q.projects, &impossible);
  uint32_t user = Resolve(pool, q.user_id, &impossible);
  if (impossible) return page;
  // The cursor's id is "session_id\0project": one session id can live in two projects
  // with the same end time. A cursor without the project (older servers) ties on the id.
  std::string_view after_sid, after_project;
  bool after_has_project = false;
  if (q.after) {
    std::string_view id = q.after->id;
    size_t nul = id.rfind('\0');
    after_has_project = nul != std::string_view::npos;
    after_sid = after_has_project ? id.substr(0, nul) : id;
    if (after_has_project) after_project = id.substr(nul + 1);
  }
  std::vector<Item> items;
  index_.ForEachSession([&](const TraceIndex::Session& s) {
    if (s.traces.empty()) return;
    if (!projects.empty() && std::find(projects.begin(), projects.end(), s.project) == projects.end()) return;
    if (user && s.user_id != user) return;
    if (q.from_ns && s.last_end_ns < *q.from_ns) return;
    if (q.to_ns && s.first_start_ns > *q.to_ns) return;
    std::string_view sid = pool.Get(s.session_id);
    if (q.after) {
      if (s.last_end_ns > q.after->time_ns) return;
      if (s.last_end_ns == q.after->time_ns) {
        if (sid < after_sid) return;
        if (sid == after_sid && (!after_has_project || pool.Get(s.project) <= after_project)) return;
      }
    }
    if (q.status && index_.SessionStatus(s) != *q.status) return;
    items.push_back({s.last_end_ns, sid, pool.Get(s.project), &s});
  });
  const size_t want = limit + 1;
  if (items.size() > want) {
    std::partial_sort(items.begin(), items.begin() + static_cast<ptrdiff_t>(want), items.end(), before);
    items.resize(want);
  } else {
    std::sort(items.begin(), items.end(), before);
  }
  bool more = items.size() > limit;
  if (more) items.resize(limit);
  for (const auto& it : items) page.sessions.push_back(index_.SessionSummaryOf(*it.s));
  if (more && !items.empty()) {
    const Item& last = items.back();
    std::string id(last.session);
    id.push_back('\0');
    id.append(last.project);
    page.next = Cursor{last.last_end, std::move(id)};
  }
  return page;
}

Result<SessionDetail> EmbeddedStore::GetSession(const std::string& session_id, const std::vector<std::string>& projects) {
  std::shared_lock<std::shared_mutex> r(mu_);
  const StringPool& pool = index_.pool();
  uint32_t sid = session_id.empty() ? StringPool::kMissing : pool.Find(session_id);
  if (sid == StringPool::kMissing) return Status::NotFound("session not found");
  bool impossible = false;
  std::vector<uint32_t> ids = projects.empty() ? index_.projects() : ResolveProjects(pool, projects, &impossible);
  const TraceIndex::Session* best = nullptr;
  for (uint32_t p : ids) {
    const TraceIndex::Session* s = index_.FindSession(p, sid);
    if (s && !s->traces.empty() && (!best || s->last_end_ns > best->last_end_ns)) best = s;
  }
  if (!best) return Status::NotFound("session not found");
  SessionDetail d;
  d.session = index_.SessionSummaryOf(*best);
  for (uint32_t t : best->traces) {
    const TraceRecord& rec = index_.record(t);
    d.traces.push_back(rec.agg.ToSummary(rec.id, pool));
  }
  std::sort(d.traces.begin(), d.traces.end(), [](const model::TraceSummary& a, const model::TraceSummary& b) {
    return a.start_ns != b.start_ns ? a.start_ns < b.start_ns : a.trace_id < b.trace_id;
  });
  return d;
}

}  // namespace sightline::store
