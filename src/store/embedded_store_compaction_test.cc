// EmbeddedStore with a manifest, compaction, retention and damage: adoption of
// pre-manifest directories, merges (duplicates removed, aggregates recomputed,
// queries correct throughout), crashes at every step of a compaction, retention per
// status class and project, quarantine of damaged segments, full-disk backoff.
#include <gtest/gtest.h>

#include <atomic>
#include <map>
#include <set>
#include <thread>

#include "common/fault_injection_env.h"
#include "common/mem_env.h"
#include "store/columnar/columnar_reader.h"
#include "store/embedded_store.h"
#include "store/retention/retention_plan.h"
#include "store/store_test_util.h"

namespace sightline::store {
namespace {

using testing::AppendSync;
using testing::MakeSpan;
using testing::SpanId;
using testing::SpanSpec;
using testing::TraceId;
using FOp = FaultInjectionEnv::Op;
using retention::kDayNs;

EmbeddedStoreOptions Opts(Env* env) {
  EmbeddedStoreOptions o;
  o.env = env;
  o.dir = "/data";
  o.retry_interval_ms = 2;
  o.max_retry_interval_ms = 20;
  o.min_free_bytes = 0;
  o.compaction.min_merge = 3;
  o.compaction.interval_ms = 3600 * 1000;  // tests drive compaction with CompactNow
  o.compaction.max_bytes_per_sec = 0;
  o.compaction.lower_priority = false;
  o.logger = [](const std::string&) {};
  return o;
}

std::unique_ptr<EmbeddedStore> OpenOrDie(const EmbeddedStoreOptions& o) {
  auto s = EmbeddedStore::Open(o);
  EXPECT_TRUE(s.ok()) << s.status().ToString();
  return s.ok() ? std::move(s).value() : nullptr;
}

std::multiset<std::string> SpanIdsOf(EmbeddedStore* s, uint64_t trace) {
  std::multiset<std::string> ids;
  auto d = s->GetTrace(TraceId(trace), {});
  if (!d.ok()) return ids;
  for (const auto& sp : d->spans) ids.insert(sp.span_id());
  return ids;
}

int64_t SpanCountOf(EmbeddedStore* s, uint64_t trace) {
  auto d = s->GetTrace(TraceId(trace), {});
  return d.ok() ? d->summary.span_count : -1;
}

// Four flushes: traces 1..3 gain 2 spans each per flush, and span 1 of trace 1 is
// sent again in every flush (a retried batch).
void FillFourSegments(EmbeddedStore* s) {
  for (uint64_t f = 0; f < 4; ++f) {
    std::vector<model::Span> spans;
    for (uint64_t t = 1; t <= 3; ++t)
      for (uint64_t k = 0; k < 2; ++k) spans.push_back(MakeSpan({.trace = t, .span = 10 + f * 2 + k, .parent = 1}));
    spans.push_back(MakeSpan({.trace = 1, .span = 1, .kind = model::v1::KIND_LLM}));
    ASSERT_TRUE(AppendSync(s, spans).ok());
    ASSERT_TRUE(s->FlushNow().ok());
  }
}

void ExpectExact(EmbeddedStore* s) {
  for (uint64_t t = 1; t <= 3; ++t) {
    auto ids = SpanIdsOf(s, t);
    EXPECT_EQ(ids.size(), t == 1 ? 9u : 8u) << "trace " << t;
    for (uint64_t id = 10; id < 18; ++id) EXPECT_EQ(ids.count(SpanId(id)), 1u) << "trace " << t << " span " << id;
  }
}

TEST(Compaction, MergesSegmentsRemovesDuplicatesAndFixesAggregates) {
  MemEnv env;
  auto s = OpenOrDie(Opts(&env));
  FillFourSegments(s.get());
  ASSERT_EQ(s->LiveSegments().size(), 4u);
  // The retried span counts once before compaction too (its older copies were taken
  // back from the trace index as each newer one arrived).
  EXPECT_EQ(SpanCountOf(s.get(), 1), 9);
  EXPECT_EQ(s->GetTrace(TraceId(1), {})->summary.llm_calls, 1);
  ExpectExact(s.get());
  ASSERT_TRUE(s->CompactNow().ok());
  ASSERT_EQ(s->LiveSegments().size(), 1u);
  EXPECT_EQ(s->Stats().segments, 1);
  EXPECT_EQ(s->Stats().duplicates_removed, 3);
  EXPECT_EQ(SpanCountOf(s.get(), 1), 9);
  auto d = s->GetTrace(TraceId(1), {});
  EXPECT_EQ(d->summary.llm_calls, 1);
  ExpectExact(s.get());
  // The replaced files are gone from disk; the state survives a power loss.
  auto names = env.GetChildren("/data/segments");
  EXPECT_EQ(names->size(), 1u);
  ASSERT_TRUE(s->Close().ok());
  env.DropUnsyncedData();
  s = OpenOrDie(Opts(&env));
  EXPECT_EQ(s->LiveSegments().size(), 1u);
  EXPECT_EQ(SpanCountOf(s.get(), 1), 9);
  ExpectExact(s.get());
}

// A merge reads each input's traces in the order they were written: each block is
// decoded once, not once per trace it holds.
TEST(Compaction, DecodesEachInputBlockOnce) {
  MemEnv env;
  auto s = OpenOrDie(Opts(&env));
  constexpr uint64_t kTraces = 5000;  // two blocks a segment (columnar::kBlockTargetRows rows each at most)
  for (uint64_t f = 0; f < 3; ++f) {
    std::vector<model::Span> spans;
    for (uint64_t t = 1; t <= kTraces; ++t) {
      spans.push_back(MakeSpan({.trace = t, .span = 1 + f, .parent = 99}));
      spans.back().set_output_json("{\"answer\":\"reply " + std::to_string(t % 50) + "\"}");
    }
    ASSERT_TRUE(AppendSync(s.get(), spans).ok());
    ASSERT_TRUE(s->FlushNow().ok());
  }
  ASSERT_EQ(s->LiveSegments().size(), 3u);
  const uint64_t before = columnar::ColumnarReader::GetBlockCacheStats().block_decodes;
  ASSERT_TRUE(s->CompactNow().ok());
  const uint64_t decodes = columnar::ColumnarReader::GetBlockCacheStats().block_decodes - before;
  EXPECT_EQ(s->LiveSegments().size(), 1u);
  EXPECT_GE(decodes, 3u);
  EXPECT_LE(decodes, 3 * (kTraces / columnar::kBlockTargetRows + 1)) << "blocks decoded per trace read";
  for (uint64_t t : {uint64_t{1}, uint64_t{2500}, kTraces}) EXPECT_EQ(SpanIdsOf(s.get(), t).size(), 3u) << t;
}

// More live files than max_live_segments while compaction merges: a flush waits for it
// (bounded by max_flush_stall_ms), and nothing is lost.
TEST(Compaction, FlushWaitsWhileTooManyFilesAreLiveAndCompactionMerges) {
  MemEnv env;
  auto o = Opts(&env);
  o.compaction.min_merge = 2;
  o.compaction.interval_ms = 1;
  o.compaction.max_bytes_per_sec = 4 << 10;  // merges crawl: compaction stays busy
  o.compaction.max_live_segments = 2;
  o.compaction.max_flush_stall_ms = 200;
  auto s = OpenOrDie(o);
  uint64_t flushes = 0;
  for (; flushes < 20 && s->Stats().flush_stalls == 0; ++flushes) {
    std::vector<model::Span> spans;
    for (uint64_t t = 1; t <= 20; ++t) spans.push_back(MakeSpan({.trace = t, .span = 100 + flushes, .parent = 1}));
    ASSERT_TRUE(AppendSync(s.get(), spans).ok());
    ASSERT_TRUE(s->FlushNow().ok());
  }
  StoreStats st = s->Stats();
  EXPECT_GE(st.flush_stalls, 1);
  EXPECT_GT(st.flush_stall_ns, 0);                                  // waited for compaction...
  EXPECT_LT(st.flush_stall_ns, st.flush_stalls * 1000 * 1000000LL);  // ...never long past its bound
  for (uint64_t t : {uint64_t{1}, uint64_t{20}}) EXPECT_EQ(SpanIdsOf(s.get(), t).size(), flushes) << t;
  ASSERT_TRUE(s->Close().ok());
}

TEST(Compaction, PicksOnlySimilarSizedRunsOfOnePartition) {
  std::vector<manifest::FileMeta> files;
  auto add = [&](uint64_t n, int64_t part, uint64_t bytes) {
    manifest::FileMeta f;
    f.number = n;
    f.partition = part;
    f.bytes = bytes;
    f.covered_wal = n;
    files.push_back(f);
  };
  compaction::CompactionOptions o;
  o.min_merge = 3;
  o.max_output_bytes = 1000;
  add(1, 5, 100);
  add(2, 6, 100);
  add(3, 5, 100);
  EXPECT_TRUE(compaction::PickSizeTiered(files, o).empty());  // two per partition
  add(4, 5, 900);  // too big for the others
  EXPECT_TRUE(compaction::PickSizeTiered(files, o).empty());
  add(5, 5, 120);
  add(6, 5, 130);
  EXPECT_TRUE(compaction::PickSizeTiered(files, o).empty());  // 1,3 | 4 | 5,6: not contiguous
  add(7, 5, 110);
  EXPECT_EQ(compaction::PickSizeTiered(files, o), (std::vector<uint64_t>{5, 6, 7}));
}

TEST(Compaction, QueriesDuringCompactionSeeEverySpanExactlyOnce) {
  MemEnv env;
  auto s = OpenOrDie(Opts(&env));
  std::atomic<bool> stop{false};
  std::atomic<int> bad{0}, reads{0};
  std::atomic<uint64_t> flushed_rounds{0};
  std::thread reader([&] {
    while (!stop) {
      uint64_t rounds = flushed_rounds.load();
      for (uint64_t t = 1; t <= 5; ++t) {
        auto ids = SpanIdsOf(s.get(), t);
        std::set<std::string> unique(ids.begin(), ids.end());
        if (unique.size() != ids.size() || ids.size() < rounds * 2) ++bad;
        ++reads;
      }
    }
  });
  for (uint64_t r = 0; r < 12; ++r) {
    std::vector<model::Span> spans;
    for (uint64_t t = 1; t <= 5; ++t)
      for (uint64_t k = 0; k < 2; ++k) spans.push_back(MakeSpan({.trace = t, .span = 100 + r * 2 + k, .parent = 1}));
    ASSERT_TRUE(AppendSync(s.get(), spans).ok());
    ASSERT_TRUE(s->FlushNow().ok());
    flushed_rounds = r + 1;
    ASSERT_TRUE(s->CompactNow().ok());
  }
  while (reads < 200) std::this_thread::yield();
  stop = true;
  reader.join();
  EXPECT_EQ(bad.load(), 0);
  EXPECT_GT(s->Stats().compactions, 0);
  for (uint64_t t = 1; t <= 5; ++t) EXPECT_EQ(SpanIdsOf(s.get(), t).size(), 24u);
}

// A crash at any write, fsync, rename, create or remove of a compaction (then a
// power loss) leaves a store that opens with every span exactly once.
TEST(Compaction, FailingAnyOperationOfACompactionLosesAndDuplicatesNothing) {
  for (FOp op : {FOp::kWrite, FOp::kSync, FOp::kCreate, FOp::kRename, FOp::kSyncDir, FOp::kRemove}) {
    for (int n = 1; n <= 8; ++n) {
      for (bool sticky : {false, true}) {
        SCOPED_TRACE("op " + std::to_string(static_cast<int>(op)) + " n " + std::to_string(n) + " sticky " +
                     std::to_string(sticky));
        MemEnv mem;
        FaultInjectionEnv env(&mem);
        {
          auto s = OpenOrDie(Opts(&env));
          ASSERT_NE(s, nullptr);
          FillFourSegments(s.get());
          env.FailNth(op, n, Status::IOError("injected failure"), sticky);
          (void)s->CompactNow();
          if (!sticky) {
            env.Reset();
            ASSERT_TRUE(s->CompactNow().ok());  // a later attempt succeeds
          }
          ExpectExact(s.get());
          (void)s->Close();
        }
        mem.DropUnsyncedData();
        auto s = OpenOrDie(Opts(&mem));
        ASSERT_NE(s, nullptr);
        ExpectExact(s.get());
        int64_t count = SpanCountOf(s.get(), 2);
        EXPECT_EQ(count, 8);
        // Nothing is left over that the manifest does not list.
        auto names = mem.GetChildren("/data/segments");
        EXPECT_EQ(names->size(), s->LiveSegments().size());
      }
    }
  }
}

TEST(Manifest, PreManifestDirectoryIsAdopted) {
  MemEnv env;
  {
    auto o = Opts(&env);
    o.flush_on_close = false;  // as the previous version left it: the last span in the WAL
    auto s = OpenOrDie(o);
    FillFourSegments(s.get());
    ASSERT_TRUE(AppendSync(s.get(), {MakeSpan({.trace = 4, .span = 1})}).ok());  // stays in the WAL
    ASSERT_TRUE(s->Close().ok());
  }
  // What the previous version left: segments and WAL files, no CURRENT, no MANIFEST.
  auto top = env.GetChildren("/data");
  for (const auto& n : *top) {
    if (n == "CURRENT" || n.rfind("MANIFEST-", 0) == 0) {
      ASSERT_TRUE(env.RemoveFile("/data/" + n).ok());
    }
  }
  auto s = OpenOrDie(Opts(&env));
  EXPECT_TRUE(s->recovery_report().adopted);
  EXPECT_EQ(s->LiveSegments().size(), 4u);
  EXPECT_TRUE(env.FileExists("/data/CURRENT"));
  ExpectExact(s.get());
  EXPECT_EQ(SpanIdsOf(s.get(), 4).size(), 1u);
  ASSERT_TRUE(s->Close().ok());
  s = OpenOrDie(Opts(&env));
  EXPECT_FALSE(s->recovery_report().adopted);
  ExpectExact(s.get());
}

TEST(Damage, CorruptSegmentIsQuarantinedAndTheRestServes) {
  MemEnv env;
  {
    auto s = OpenOrDie(Opts(&env));
    ASSERT_TRUE(AppendSync(s.get(), {MakeSpan({.trace = 1, .span = 1})}).ok());
    ASSERT_TRUE(s->FlushNow().ok());
    ASSERT_TRUE(AppendSync(s.get(), {MakeSpan({.trace = 2, .span = 1})}).ok());
    ASSERT_TRUE(s->FlushNow().ok());
    ASSERT_TRUE(s->Close().ok());
  }
  auto live = [&] {
    std::vector<std::string> segs;
    auto names = env.GetChildren("/data/segments");
    for (const auto& n : *names)
      if (n.size() > 4 && n.substr(n.size() - 4) == ".seg") segs.push_back("/data/segments/" + n);
    std::sort(segs.begin(), segs.end());
    return segs;
  };
  auto segs = live();
  ASSERT_EQ(segs.size(), 2u);
  std::string bytes = *ReadFileToString(&env, segs[0]);
  bytes[bytes.size() - 80] ^= 0x55;  // in the trace table
  env.PutFile(segs[0], bytes);
  auto s = OpenOrDie(Opts(&env));
  ASSERT_NE(s, nullptr);
  ASSERT_EQ(s->recovery_report().quarantined.size(), 1u);
  EXPECT_EQ(s->recovery_report().quarantined[0], segs[0]);
  EXPECT_NE(s->recovery_report().corruptions[0].find(segs[0]), std::string::npos);
  EXPECT_EQ(s->Stats().corrupt_segments, 1);
  EXPECT_TRUE(env.FileExists(segs[0] + ".corrupt"));
  EXPECT_EQ(s->GetTrace(TraceId(1), {}).status().code(), StatusCode::kNotFound);
  EXPECT_EQ(SpanIdsOf(s.get(), 2).size(), 1u);
  ASSERT_TRUE(AppendSync(s.get(), {MakeSpan({.trace = 3, .span = 1})}).ok());
  ASSERT_TRUE(s->Close().ok());
  s = OpenOrDie(Opts(&env));  // the quarantine is durable: no complaint the second time
  EXPECT_TRUE(s->recovery_report().quarantined.empty());
  EXPECT_EQ(SpanIdsOf(s.get(), 2).size(), 1u);
  EXPECT_EQ(SpanIdsOf(s.get(), 3).size(), 1u);
}

TEST(Damage, BadBlockFailsOnlyThatTracesReadNamingTheFile) {
  MemEnv env;
  auto opts = Opts(&env);
  opts.segment_format = SegmentFormat::kV1Rows;  // payload bytes stored as written: easy to find and damage
  {
    auto s = OpenOrDie(opts);
    model::Span a = MakeSpan({.trace = 1, .span = 1});
    a.set_output_json(std::string(400, 'a'));
    ASSERT_TRUE(AppendSync(s.get(), {a, MakeSpan({.trace = 2, .span = 1})}).ok());
    ASSERT_TRUE(s->FlushNow().ok());
    ASSERT_TRUE(s->Close().ok());
  }
  std::string path;
  auto names = env.GetChildren("/data/segments");
  for (const auto& n : *names) path = "/data/segments/" + n;
  std::string bytes = *ReadFileToString(&env, path);
  size_t at = bytes.find(std::string(400, 'a'));
  ASSERT_NE(at, std::string::npos);
  bytes[at + 10] = 'b';
  env.PutFile(path, bytes);
  auto s = OpenOrDie(opts);
  auto d = s->GetTrace(TraceId(1), {});
  EXPECT_EQ(d.status().code(), StatusCode::kCorruption);
  EXPECT_NE(d.status().message().find(path), std::string::npos) << d.status().ToString();
  EXPECT_EQ(s->Stats().corrupt_reads, 1);
  EXPECT_EQ(SpanIdsOf(s.get(), 2).size(), 1u);
  // The read hands the file to the compaction thread: the readable traces move to a
  // new file, the damaged one keeps its summary, the file is quarantined.
  for (int i = 0; i < 500 && !env.FileExists(path + ".corrupt"); ++i)
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  ASSERT_TRUE(env.FileExists(path + ".corrupt"));
  EXPECT_FALSE(env.FileExists(path));
  EXPECT_EQ(s->Stats().corrupt_segments, 1);
  EXPECT_EQ(SpanIdsOf(s.get(), 2).size(), 1u);
  auto t1 = s->GetTrace(TraceId(1), {});
  ASSERT_TRUE(t1.ok()) << t1.status().ToString();  // a summary without the lost span
  EXPECT_TRUE(t1->spans.empty());
  ASSERT_TRUE(s->Close().ok());
  s = OpenOrDie(opts);  // clean the second time, same answers
  EXPECT_TRUE(s->recovery_report().quarantined.empty());
  EXPECT_EQ(SpanIdsOf(s.get(), 2).size(), 1u);
  EXPECT_TRUE(s->GetTrace(TraceId(1), {}).ok());
}

// A columnar (v2) file with a bit flipped in one column chunk: the read that finds it
// fails with Corruption naming the file; salvage then keeps every span of the damaged
// block without that column's field, marked (where salvage used to keep summaries only,
// losing the block's spans), the summaries as written, and a flip in the span_id column
// loses the block's spans but keeps their summaries.
TEST(Damage, DamagedColumnOfAColumnarFileCostsOnlyItsField) {
  for (const std::string column : {"model", "span_id"}) {
    SCOPED_TRACE(column);
    MemEnv env;
    auto opts = Opts(&env);
    opts.segment_format = SegmentFormat::kV2Columnar;
    {
      auto s = OpenOrDie(opts);
      std::vector<model::Span> spans;
      for (uint64_t t = 1; t <= 20; ++t) {
        for (uint64_t k = 1; k <= 3; ++k) {
          model::Span sp = MakeSpan({.trace = t, .span = k, .parent = k > 1 ? 1u : 0u, .name = "step " + std::to_string(k)});
          sp.set_model(k == 2 ? "gpt-4o" : "");
          sp.set_input_tokens(static_cast<int64_t>(100 * t + k));
          spans.push_back(sp);
        }
      }
      ASSERT_TRUE(AppendSync(s.get(), spans).ok());
      ASSERT_TRUE(s->FlushNow().ok());
      ASSERT_TRUE(s->Close().ok());
    }
    std::string path;
    auto names = env.GetChildren("/data/segments");
    ASSERT_TRUE(names.ok());
    for (const auto& n : *names) path = "/data/segments/" + n;
    uint64_t at = 0;
    {
      auto r = columnar::ColumnarReader::Open(&env, path, [](const columnar::TraceEntry&) { return Status::OK(); });
      ASSERT_TRUE(r.ok()) << r.status().ToString();
      for (const auto& reg : (*r)->regions())
        if (reg.what == "block 0 column '" + column + "'") at = reg.offset + reg.length / 2;
    }
    ASSERT_NE(at, 0u);
    std::string bytes = *ReadFileToString(&env, path);
    bytes[static_cast<size_t>(at)] ^= 0x20;
    env.PutFile(path, bytes);

    auto s = OpenOrDie(opts);
    auto d = s->GetTrace(TraceId(7), {});
    EXPECT_EQ(d.status().code(), StatusCode::kCorruption);
    EXPECT_NE(d.status().message().find(path), std::string::npos) << d.status().ToString();
    for (int i = 0; i < 500 && !env.FileExists(path + ".corrupt"); ++i)
      std::this_thread::sleep_for(std::chrono::milliseconds(10));
    ASSERT_TRUE(env.FileExists(path + ".corrupt"));
    for (int round = 0; round < 2; ++round) {
      for (uint64_t t = 1; t <= 20; ++t) {
        auto got = s->GetTrace(TraceId(t), {});
        ASSERT_TRUE(got.ok()) << got.status().ToString();
        EXPECT_EQ(got->summary.span_count, 3);  // the summary as written
        EXPECT_EQ(got->summary.input_tokens, static_cast<int64_t>(300 * t + 6));
        if (column == "span_id") {
          EXPECT_TRUE(got->spans.empty());
          continue;
        }
        ASSERT_EQ(got->spans.size(), 3u);
        std::set<std::string> names, ids;
        int64_t tokens = 0;
        for (const auto& sp : got->spans) {
          EXPECT_TRUE(sp.model().empty());
          EXPECT_TRUE(SpanHasAttr(sp, columnar::ColumnarReader::kSalvageLostAttribute, "model"));
          names.insert(sp.name());
          ids.insert(sp.span_id());
          tokens += sp.input_tokens();
        }
        EXPECT_EQ(names, (std::set<std::string>{"step 1", "step 2", "step 3"}));
        EXPECT_EQ(ids, (std::set<std::string>{SpanId(1), SpanId(2), SpanId(3)}));
        EXPECT_EQ(tokens, static_cast<int64_t>(300 * t + 6));
      }
      ASSERT_TRUE(s->Close().ok());
      s = OpenOrDie(opts);  // the salvaged file reads the same after a restart
      EXPECT_TRUE(s->recovery_report().quarantined.empty());
    }
  }
}

TEST(Retention, KeepsFailuresDropsSpansThenSummariesPerProject) {
  MemEnv env;
  auto o = Opts(&env);
  o.retention.default_policy = {.full_days = 7, .failed_days = retention::kForever, .summary_days = 30};
  o.retention.projects["audit"] = {};  // keeps everything forever
  std::vector<std::string> expired;
  o.retention.on_expire = [&](const model::TraceSummary& t) { expired.push_back(t.trace_id); };
  auto s = OpenOrDie(o);
  const int64_t day0 = 1000 * kDayNs;  // partition 1000
  struct T {
    uint64_t id;
    model::SpanStatus status;
    std::string project;
  } traces[] = {{1, model::v1::STATUS_OK, "default"},
                {2, model::v1::STATUS_ERROR, "default"},
                {3, model::v1::STATUS_INTERRUPT, "default"},
                {4, model::v1::STATUS_OK, "audit"}};
  for (const auto& t : traces) {
    ASSERT_TRUE(AppendSync(s.get(), {MakeSpan({.trace = t.id, .span = 1, .status = t.status,
                                               .start = day0 + 10, .end = day0 + 20, .project = t.project}),
                                     MakeSpan({.trace = t.id, .span = 2, .parent = 1, .start = day0 + 11,
                                               .end = day0 + 19, .project = t.project})})
                    .ok());
  }
  ASSERT_TRUE(s->FlushNow().ok());
  const int64_t end = day0 + kDayNs;  // partition end
  ASSERT_TRUE(s->ApplyRetentionNow(end + 6 * kDayNs).ok());
  for (uint64_t t = 1; t <= 4; ++t) EXPECT_EQ(SpanIdsOf(s.get(), t).size(), 2u);
  EXPECT_EQ(s->Stats().compactions, 0);  // nothing due: nothing rewritten

  ASSERT_TRUE(s->ApplyRetentionNow(end + 8 * kDayNs).ok());
  auto d = s->GetTrace(TraceId(1), {});
  ASSERT_TRUE(d.ok()) << d.status().ToString();
  EXPECT_TRUE(d->spans.empty());  // summary only
  EXPECT_EQ(d->summary.span_count, 2);
  EXPECT_EQ(SpanIdsOf(s.get(), 2).size(), 2u);
  EXPECT_EQ(SpanIdsOf(s.get(), 3).size(), 2u);
  EXPECT_EQ(SpanIdsOf(s.get(), 4).size(), 2u);
  EXPECT_EQ(s->Stats().retention_summarized, 1);
  ASSERT_TRUE(s->ApplyRetentionNow(end + 9 * kDayNs).ok());  // idempotent
  EXPECT_EQ(s->Stats().compactions, 1);

  ASSERT_TRUE(s->ApplyRetentionNow(end + 31 * kDayNs).ok());
  EXPECT_EQ(s->GetTrace(TraceId(1), {}).status().code(), StatusCode::kNotFound);
  EXPECT_EQ(expired, std::vector<std::string>{TraceId(1)});
  EXPECT_EQ(SpanIdsOf(s.get(), 2).size(), 2u);
  EXPECT_EQ(SpanIdsOf(s.get(), 4).size(), 2u);
  EXPECT_EQ(s->Stats().retention_dropped, 1);
  TraceQuery q;
  EXPECT_EQ(s->SearchTraces(q)->traces.size(), 3u);
  ASSERT_TRUE(s->Close().ok());
  env.DropUnsyncedData();
  s = OpenOrDie(o);
  EXPECT_EQ(s->GetTrace(TraceId(1), {}).status().code(), StatusCode::kNotFound);
  EXPECT_EQ(SpanIdsOf(s.get(), 3).size(), 2u);
}

TEST(Retention, WholePartitionGoesWithoutBeingRead) {
  MemEnv env;
  auto o = Opts(&env);
  o.retention.default_policy = {.full_days = 1, .failed_days = 1, .summary_days = 2};
  auto s = OpenOrDie(o);
  const int64_t day0 = 500 * kDayNs;
  ASSERT_TRUE(AppendSync(s.get(), {MakeSpan({.trace = 1, .span = 1, .start = day0, .end = day0 + 5}),
                                   MakeSpan({.trace = 2, .span = 1, .start = day0 + 3 * kDayNs, .end = day0 + 3 * kDayNs + 5})})
                  .ok());
  ASSERT_TRUE(s->FlushNow().ok());
  EXPECT_EQ(s->LiveSegments().size(), 2u);  // one file per day
  ASSERT_TRUE(s->ApplyRetentionNow(day0 + 3 * kDayNs + 1).ok());
  EXPECT_EQ(s->LiveSegments().size(), 1u);
  EXPECT_EQ(s->GetTrace(TraceId(1), {}).status().code(), StatusCode::kNotFound);
  EXPECT_EQ(SpanIdsOf(s.get(), 2).size(), 1u);
}

TEST(Retention, PlanShowsWhatEachPartitionHoldsAndWhenItGoes) {
  MemEnv env;
  auto o = Opts(&env);
  const int64_t day0 = 700 * kDayNs;
  {
    auto s = OpenOrDie(o);
    ASSERT_TRUE(AppendSync(s.get(), {MakeSpan({.trace = 1, .span = 1, .start = day0, .end = day0 + 5}),
                                     MakeSpan({.trace = 1, .span = 2, .parent = 1, .start = day0, .end = day0 + 5}),
                                     MakeSpan({.trace = 2, .span = 1, .status = model::v1::STATUS_ERROR,
                                               .start = day0 + 9, .end = day0 + 10, .project = "p2"}),
                                     MakeSpan({.trace = 3, .span = 1, .start = day0 + kDayNs, .end = day0 + kDayNs + 1})})
                    .ok());
    ASSERT_TRUE(s->FlushNow().ok());
    // The plan reads beside a live store (no lock taken).
    retention::RetentionOptions r;
    r.default_policy = {.full_days = 7, .failed_days = retention::kForever, .summary_days = 30};
    auto plan = retention::BuildRetentionPlan(&env, "/data", r);
    ASSERT_TRUE(plan.ok()) << plan.status().ToString();
    ASSERT_EQ(plan->partitions.size(), 2u);
    const auto& p = plan->partitions[0];
    EXPECT_EQ(p.partition, 700);
    EXPECT_EQ(retention::FormatTime(p.start_ns), "1971-12-02");
    ASSERT_EQ(p.projects.size(), 2u);
    EXPECT_EQ(p.projects[0].project, "default");
    EXPECT_EQ(p.projects[0].traces, 1);
    EXPECT_EQ(p.projects[0].spans, 2);
    EXPECT_EQ(p.projects[1].project, "p2");
    EXPECT_EQ(p.projects[1].failed, 1);
    ASSERT_EQ(p.projects[0].ok_transitions.size(), 2u);
    EXPECT_EQ(p.projects[0].ok_transitions[0].at_ns, p.end_ns + 7 * kDayNs);
    EXPECT_EQ(p.projects[0].ok_transitions[1].fate, retention::Fate::kGone);
    EXPECT_TRUE(p.projects[1].failed_transitions.empty());
  }
  EXPECT_EQ(retention::BuildRetentionPlan(&env, "/nowhere", {}).status().code(), StatusCode::kNotFound);
}

TEST(DiskFull, FlushBacksOffRefusesWritesAndRecoversBySelf) {
  MemEnv mem;
  FaultInjectionEnv env(&mem);
  auto o = Opts(&env);
  auto s = OpenOrDie(o);
  ASSERT_TRUE(AppendSync(s.get(), {MakeSpan({.trace = 1, .span = 1})}).ok());
  env.OnlyPaths("segments/");  // the WAL still writes; segments cannot
  env.SetDiskFull(true);
  EXPECT_FALSE(s->FlushNow().ok());
  std::this_thread::sleep_for(std::chrono::milliseconds(300));
  StoreStats st = s->Stats();
  EXPECT_TRUE(st.disk_full);
  // Backing off to 20 ms: a handful of attempts, not a busy loop's thousands.
  EXPECT_GE(st.flush_failures, 2);
  EXPECT_LT(st.flush_failures, 60);
  Status refused = s->Append({MakeSpan({.trace = 1, .span = 2})}, [](Status) {});
  EXPECT_EQ(refused.code(), StatusCode::kUnavailable);
  EXPECT_NE(refused.message().find("disk full"), std::string::npos);
  env.SetDiskFull(false);
  Status after;
  for (int i = 0; i < 2000; ++i) {
    after = AppendSync(s.get(), {MakeSpan({.trace = 1, .span = 3})});
    if (after.ok()) break;
    std::this_thread::sleep_for(std::chrono::milliseconds(2));
  }
  ASSERT_TRUE(after.ok()) << after.ToString();
  ASSERT_TRUE(s->WaitForFlush().ok());
  EXPECT_FALSE(s->Stats().disk_full);
  EXPECT_EQ(s->LiveSegments().size(), 1u);
  ASSERT_TRUE(s->Close().ok());
  mem.DropUnsyncedData();
  s = OpenOrDie(Opts(&mem));
  auto ids = SpanIdsOf(s.get(), 1);
  EXPECT_EQ(ids.count(SpanId(1)), 1u);
  EXPECT_EQ(ids.count(SpanId(3)), 1u);
}

TEST(DiskFull, CompactionWaitsForSpace) {
  MemEnv mem;
  FaultInjectionEnv env(&mem);
  auto s = OpenOrDie(Opts(&env));
  FillFourSegments(s.get());
  env.OnlyPaths("segments/");
  env.SetDiskFull(true);
  Status st = s->CompactNow();
  EXPECT_EQ(st.code(), StatusCode::kUnavailable) << st.ToString();
  EXPECT_EQ(s->LiveSegments().size(), 4u);
  ExpectExact(s.get());
  env.SetDiskFull(false);
  ASSERT_TRUE(s->CompactNow().ok());
  EXPECT_EQ(s->LiveSegments().size(), 1u);
  ExpectExact(s.get());
}

}  // namespace
}  // namespace sightline::store
