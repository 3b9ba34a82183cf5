// EmbeddedStore durability and lifecycle: round trips, duplicates, flush + reopen,
// crash simulation (drop unsynced data), fail-the-Nth-operation loops, disk full,
// queue full, Close draining, WAL damage at Open.
#include "store/embedded_store.h"

#include <gtest/gtest.h>

#include <atomic>
#include <filesystem>
#include <fstream>
#include <map>
#include <set>
#include <thread>

#include "common/fault_injection_env.h"
#include "common/mem_env.h"
#include "store/store_test_util.h"

namespace sightline::store {
namespace {

using testing::AppendSync;
using testing::MakeSpan;
using testing::SpanId;
using testing::SpanSpec;
using testing::TraceId;
using FOp = FaultInjectionEnv::Op;

EmbeddedStoreOptions Opts(Env* env) {
  EmbeddedStoreOptions o;
  o.env = env;
  o.dir = "/data";
  o.retry_interval_ms = 5;
  o.min_free_bytes = 0;
  o.logger = [](const std::string&) {};
  return o;
}

std::unique_ptr<EmbeddedStore> OpenOrDie(const EmbeddedStoreOptions& o) {
  auto s = EmbeddedStore::Open(o);
  EXPECT_TRUE(s.ok()) << s.status().ToString();
  return s.ok() ? std::move(s).value() : nullptr;
}

// Span ids (as u64 keys) of a trace, failing the test on a duplicate.
std::multiset<std::string> SpanIdsOf(EmbeddedStore* s, uint64_t trace) {
  std::multiset<std::string> ids;
  auto d = s->GetTrace(TraceId(trace), {});
  if (!d.ok()) return ids;
  for (const auto& sp : d->spans) ids.insert(sp.span_id());
  return ids;
}

TEST(EmbeddedStore, AppendThenReadBack) {
  MemEnv env;
  auto s = OpenOrDie(Opts(&env));
  ASSERT_TRUE(s->Stats().ready);
  ASSERT_TRUE(AppendSync(s.get(), {MakeSpan({.trace = 1, .span = 1, .name = "root"}),
                                   MakeSpan({.trace = 1, .span = 2, .parent = 1, .name = "child"})})
                  .ok());
  auto d = s->GetTrace(TraceId(1), {});
  ASSERT_TRUE(d.ok()) << d.status().ToString();
  EXPECT_EQ(d->spans.size(), 2u);
  EXPECT_EQ(d->summary.root_name, "root");
  EXPECT_EQ(d->summary.span_count, 2);
  auto sp = s->GetSpan(TraceId(1), SpanId(2), {});
  ASSERT_TRUE(sp.ok());
  EXPECT_EQ(sp->name(), "child");
  EXPECT_EQ(s->GetSpan(TraceId(1), SpanId(9), {}).status().code(), StatusCode::kNotFound);
  EXPECT_EQ(s->GetTrace(TraceId(2), {}).status().code(), StatusCode::kNotFound);
  EXPECT_EQ(s->GetTrace(TraceId(1), {"other-project"}).status().code(), StatusCode::kNotFound);
  EXPECT_TRUE(s->GetTrace(TraceId(1), {"other-project", "default"}).ok());
  EXPECT_EQ(s->GetTrace("short", {}).status().code(), StatusCode::kInvalidArgument);
  StoreStats st = s->Stats();
  EXPECT_EQ(st.spans_written, 2);
  EXPECT_EQ(st.fsyncs, 1);
  EXPECT_EQ(st.traces, 1);
  EXPECT_GT(st.memtable_bytes, 0);
  ASSERT_EQ(st.fsync_latency_buckets.size(), std::size(StoreStats::kFsyncBucketsNs));

  model::Span bad = MakeSpan({});
  bad.set_span_id("123");
  EXPECT_EQ(s->Append({bad}, [](Status) {}).code(), StatusCode::kInvalidArgument);
}

// The store's threads carry names, so `top -H` and perf's per-thread reports show
// which of them spends the CPU.
TEST(EmbeddedStore, ItsThreadsAreNamed) {
  auto names = [] {
    std::multiset<std::string> out;
    for (const auto& e : std::filesystem::directory_iterator("/proc/self/task")) {
      std::ifstream f(e.path() / "comm");
      std::string n;
      std::getline(f, n);
      out.insert(n);
    }
    return out;
  };
  MemEnv env;
  auto s = OpenOrDie(Opts(&env));
  auto open = names();
  for (const char* n : {"sl-writer", "sl-flush", "sl-compact"}) EXPECT_EQ(open.count(n), 1u) << n;
  ASSERT_TRUE(s->Close().ok());
  s.reset();
  auto closed = names();
  for (const char* n : {"sl-writer", "sl-flush", "sl-compact"}) EXPECT_EQ(closed.count(n), 0u) << n;
}

TEST(EmbeddedStore, CloseFlushesTheMemtableSoTheNextStartReplaysNothing) {
  MemEnv env;
  {
    auto s = OpenOrDie(Opts(&env));
    ASSERT_TRUE(AppendSync(s.get(), {MakeSpan({.trace = 1, .span = 1}), MakeSpan({.trace = 1, .span = 2, .parent = 1})})
                    .ok());
    ASSERT_TRUE(AppendSync(s.get(), {MakeSpan({.trace = 2, .span = 1})}).ok());
    EXPECT_EQ(s->Stats().segments, 0);
    const int64_t before = s->Stats().memtable_bytes;
    ASSERT_TRUE(s->Close().ok());
    EXPECT_EQ(s->Stats().segments, 1);
    EXPECT_LT(s->Stats().memtable_bytes, before);  // an empty memtable again
  }
  auto s = OpenOrDie(Opts(&env));
  EXPECT_EQ(s->recovery_report().records, 0u);  // nothing left to replay
  EXPECT_EQ(s->recovery_report().segments, 1u);
  auto d = s->GetTrace(TraceId(1), {});
  ASSERT_TRUE(d.ok()) << d.status().ToString();
  EXPECT_EQ(d->spans.size(), 2u);
  EXPECT_EQ(d->summary.span_count, 2);
  EXPECT_TRUE(s->GetTrace(TraceId(2), {}).ok());
  // Written after the restart: a new WAL file past the flushed ones, replayed next time.
  ASSERT_TRUE(AppendSync(s.get(), {MakeSpan({.trace = 3, .span = 1})}).ok());
  auto o = Opts(&env);
  o.flush_on_close = false;
  ASSERT_TRUE(s->Close().ok());
  s.reset();
  auto s2 = OpenOrDie(o);
  EXPECT_EQ(s2->recovery_report().spans, 0u);  // Opts flushed trace 3 on that Close too
  EXPECT_TRUE(s2->GetTrace(TraceId(3), {}).ok());
  ASSERT_TRUE(AppendSync(s2.get(), {MakeSpan({.trace = 4, .span = 1})}).ok());
  ASSERT_TRUE(s2->Close().ok());  // not flushed: replayed from the WAL
  s2.reset();
  auto s3 = OpenOrDie(Opts(&env));
  EXPECT_EQ(s3->recovery_report().spans, 1u);
  EXPECT_TRUE(s3->GetTrace(TraceId(4), {}).ok());
  EXPECT_TRUE(s3->GetTrace(TraceId(1), {}).ok());
}

TEST(EmbeddedStore, DuplicateSpanReplacesTheEarlierOne) {
  MemEnv env;
  auto s = OpenOrDie(Opts(&env));
  model::Span a = MakeSpan({.trace = 1, .span = 1, .name = "first", .kind = model::v1::KIND_TOOL,
                            .status = model::v1::STATUS_ERROR});
  model::Span b = MakeSpan({.trace = 1, .span = 1, .name = "second", .kind = model::v1::KIND_TOOL,
                            .status = model::v1::STATUS_OK});
  ASSERT_TRUE(AppendSync(s.get(), {a}).ok());
  ASSERT_TRUE(AppendSync(s.get(), {b, b}).ok());  // a retry, even twice in one batch
  auto d = s->GetTrace(TraceId(1), {});
  ASSERT_TRUE(d.ok());
  ASSERT_EQ(d->spans.size(), 1u);
  EXPECT_EQ(d->spans[0].name(), "second");
  EXPECT_EQ(d->summary.span_count, 1);
  EXPECT_EQ(d->summary.error_count, 0);
  EXPECT_EQ(d->summary.tool_calls, 1);
  EXPECT_EQ(d->summary.status, model::v1::STATUS_OK);
}

TEST(EmbeddedStore, FlushThenReopenKeepsEverything) {
  MemEnv env;
  auto o = Opts(&env);
  o.memtable_limit_bytes = 256 << 10;  // several flushes
  o.wal_file_bytes = 64 << 10;
  model::TraceSummary before;
  {
    auto s = OpenOrDie(o);
    for (uint64_t t = 1; t <= 40; ++t) {
      std::vector<model::Span> batch;
      for (uint64_t i = 1; i <= 25; ++i) {
        model::Span sp = MakeSpan({.trace = t, .span = i, .parent = i == 1 ? 0u : 1u, .name = "s" + std::to_string(i),
                                   .start = static_cast<int64_t>(t * 1000 + i), .end = static_cast<int64_t>(t * 1000 + 500)});
        sp.set_input_json(std::string(400, 'a' + static_cast<char>(i % 26)));
        batch.push_back(sp);
      }
      ASSERT_TRUE(AppendSync(s.get(), batch).ok());
    }
    ASSERT_TRUE(s->WaitForFlush().ok());
    EXPECT_GT(s->Stats().segments, 0);
    // Trace 3 spans a segment and a memtable after one more span arrives.
    ASSERT_TRUE(AppendSync(s.get(), {MakeSpan({.trace = 3, .span = 99, .parent = 1, .start = 3001, .end = 9000})}).ok());
    before = s->GetTrace(TraceId(3), {})->summary;
    EXPECT_EQ(before.span_count, 26);
    ASSERT_TRUE(s->Close().ok());
  }
  auto s = OpenOrDie(o);
  EXPECT_GT(s->recovery_report().segments, 0u);
  for (uint64_t t = 1; t <= 40; ++t) EXPECT_EQ(SpanIdsOf(s.get(), t).size(), t == 3 ? 26u : 25u) << "trace " << t;
  auto after = s->GetTrace(TraceId(3), {});
  ASSERT_TRUE(after.ok());
  EXPECT_EQ(after->summary.span_count, before.span_count);
  EXPECT_EQ(after->summary.end_ns, 9000);
  EXPECT_EQ(after->summary.root_name, before.root_name);
  EXPECT_EQ(after->spans[0].input_json().size(), 400u);
  // A forced flush and another reopen: the same again, from segments only.
  ASSERT_TRUE(s->FlushNow().ok());
  ASSERT_TRUE(s->Close().ok());
  auto s2 = OpenOrDie(o);
  EXPECT_EQ(s2->recovery_report().spans, 0u);
  EXPECT_EQ(SpanIdsOf(s2.get(), 3).size(), 26u);
  EXPECT_EQ(s2->Stats().traces, 40);
}

// A model call's canonical input repeats its gen_ai.input.messages attribute after the
// system message; the WAL and memtable keep that history once (store/shared_payload.h).
// Every reader sees the whole payloads: a trace and a span read back, the text search
// and a text-filtered aggregation over the memtable, the same after a reopen (the WAL
// replayed after a power loss) and once flushed to a segment.
TEST(EmbeddedStore, AHistoryHeldOnceReadsWholeFromEveryPath) {
  MemEnv env;
  auto o = Opts(&env);
  auto msg = [](const std::string& role, const std::string& text) {
    return R"({"role":")" + role + R"(","parts":[{"type":"text","content":")" + text + R"("}]})";
  };
  const std::string sys = msg("system", "You are the billing agent of Acme; refunds above 100 USD need approval.");
  std::string history = "[" + msg("user", "My order 1234 arrived with a crushed lamp inside a torn box.");
  for (int i = 0; i < 20; ++i) history += "," + msg(i % 2 ? "user" : "assistant", "turn " + std::to_string(i));
  history += "]";
  const std::string input = "[" + sys + "," + history.substr(1);
  const std::string output = "[" + msg("assistant", "A replacement lamp ships today; the refund of the shipping fee "
                                                    "is approved and reaches your card in three days.") + "]";
  model::Span chat = MakeSpan({.trace = 7, .span = 1, .name = "chat gpt-4o", .start = 1000, .end = 2000});
  chat.set_input_json(input);
  chat.set_output_json(output);
  auto attr = [&](const std::string& k, const std::string& v) {
    auto* kv = chat.add_attributes();
    kv->set_key(k);
    kv->mutable_value()->set_string_value(v);
  };
  attr("gen_ai.input.messages", history);
  attr("gen_ai.output.messages", output);
  auto check = [&](EmbeddedStore* s, const char* where) {
    SCOPED_TRACE(where);
    auto d = s->GetTrace(TraceId(7), {});
    ASSERT_TRUE(d.ok()) << d.status().ToString();
    ASSERT_EQ(d->spans.size(), 1u);
    EXPECT_EQ(d->spans[0].input_json(), input);
    EXPECT_EQ(d->spans[0].output_json(), output);
    EXPECT_TRUE(d->spans[0].input_head().empty() && d->spans[0].input_tail_key().empty());
    EXPECT_TRUE(d->spans[0].output_head().empty() && d->spans[0].output_tail_key().empty());
    auto sp = s->GetSpan(TraceId(7), SpanId(1), {});
    ASSERT_TRUE(sp.ok());
    EXPECT_EQ(sp->input_json(), input);
    // "crushed lamp" is in the history only, "refund of the shipping" in the output only.
    for (const char* text : {"CRUSHED lamp", "refund of the shipping", "billing agent of acme"}) {
      TraceQuery q;
      q.text = text;
      auto page = s->SearchTraces(q);
      ASSERT_TRUE(page.ok());
      EXPECT_EQ(page->traces.size(), 1u) << text;
      AggregateQuery a;
      a.filter.text = text;
      auto agg = s->Aggregate(a);
      ASSERT_TRUE(agg.ok()) << agg.status().ToString();
      ASSERT_EQ(agg->rows.size(), 1u);
      EXPECT_EQ(agg->rows[0].count, 1) << text;
    }
    TraceQuery none;
    none.text = "no such words";
    EXPECT_TRUE(s->SearchTraces(none)->traces.empty());
  };
  {
    // Power is lost once the span is acknowledged: the next Open replays its record.
    FaultInjectionEnv faulty(&env);
    auto s = OpenOrDie(Opts(&faulty));
    ASSERT_TRUE(AppendSync(s.get(), {chat}).ok());
    // The WAL holds the history once: fewer bytes than the input and its attribute.
    size_t wal = 0;
    auto names = env.GetChildren("/data/wal");
    ASSERT_TRUE(names.ok());
    for (const auto& n : *names) wal += ReadFileToString(&env, "/data/wal/" + n)->size();
    EXPECT_GT(wal, history.size() + output.size());
    EXPECT_LT(wal, input.size() + history.size());
    check(s.get(), "memtable");
    for (FOp op : {FOp::kWrite, FOp::kSync, FOp::kCreate, FOp::kRename, FOp::kSyncDir, FOp::kRemove})
      faulty.FailNth(op, 1, Status::IOError("power lost"), /*sticky=*/true);
    env.DropUnsyncedData();
    (void)s->Close();
  }
  {
    auto s = OpenOrDie(o);
    EXPECT_EQ(s->recovery_report().spans, 1u);
    check(s.get(), "replayed into the memtable");
  }
  // Close flushed it: a segment.
  auto s = OpenOrDie(o);
  EXPECT_EQ(s->recovery_report().spans, 0u);
  check(s.get(), "segment");
  ASSERT_TRUE(AppendSync(s.get(), {chat}).ok());  // the same span again, into the memtable
  check(s.get(), "segment and memtable");
}

TEST(EmbeddedStore, TornWalTailIsDroppedSilentlyAndMidLogDamageReported) {
  MemEnv env;
  auto o = Opts(&env);
  o.wal_file_bytes = 1;  // a new WAL file after every group
  o.flush_on_close = false;  // the spans stay in the WAL files this test damages
  {
    auto s = OpenOrDie(o);
    for (uint64_t t = 1; t <= 3; ++t) ASSERT_TRUE(AppendSync(s.get(), {MakeSpan({.trace = t})}).ok());
    ASSERT_TRUE(s->Close().ok());
  }
  auto names = env.GetChildren("/data/wal");
  ASSERT_TRUE(names.ok());
  std::vector<std::string> files(names->begin(), names->end());
  std::sort(files.begin(), files.end());
  ASSERT_GE(files.size(), 3u);
  // A torn tail on the last file: dropped without a word, and cut so it stays quiet.
  std::string last = "/data/wal/" + files.back();
  env.PutFile(last, *ReadFileToString(&env, last) + std::string("\x12\x34\x56\x78\x90", 5));
  {
    auto s = OpenOrDie(o);
    EXPECT_TRUE(s->recovery_report().corruptions.empty());
    EXPECT_GT(s->recovery_report().tail_dropped_bytes, 0u);
    ASSERT_TRUE(s->Close().ok());
  }
  {
    auto s = OpenOrDie(o);
    EXPECT_TRUE(s->recovery_report().corruptions.empty());
    ASSERT_TRUE(s->Close().ok());
  }
  // Damage in the first file (a record that was acknowledged): reported, the rest kept.
  std::string first = "/data/wal/" + files[0];
  std::string data = *ReadFileToString(&env, first);
  data[data.size() - 3] ^= 0x40;
  env.PutFile(first, data);
  {
    auto s = OpenOrDie(o);
    ASSERT_FALSE(s->recovery_report().corruptions.empty());
    EXPECT_NE(s->recovery_report().corruptions[0].find(files[0]), std::string::npos);
    EXPECT_GT(s->Stats().recovery_dropped_bytes, 0);
    EXPECT_EQ(s->GetTrace(TraceId(1), {}).status().code(), StatusCode::kNotFound);
    EXPECT_TRUE(s->GetTrace(TraceId(2), {}).ok());
    EXPECT_TRUE(s->GetTrace(TraceId(3), {}).ok());
  }
  o.paranoid_checks = true;
  auto s = EmbeddedStore::Open(o);
  ASSERT_FALSE(s.ok());
  EXPECT_EQ(s.status().code(), StatusCode::kCorruption);
  EXPECT_NE(s.status().message().find(files[0]), std::string::npos) << s.status().ToString();
}

TEST(EmbeddedStore, SecondOpenOfTheSameDirectoryIsRefused) {
  MemEnv env;
  auto s = OpenOrDie(Opts(&env));
  auto again = EmbeddedStore::Open(Opts(&env));
  EXPECT_FALSE(again.ok());
  ASSERT_TRUE(s->Close().ok());
  EXPECT_TRUE(EmbeddedStore::Open(Opts(&env)).ok());
}

// Appends from several threads until a "power loss" (every later write fails, then
// unsynced data is dropped), then reopens: every acknowledged span is there, once.
TEST(EmbeddedStore, PowerLossKeepsEveryAcknowledgedSpanExactlyOnce) {
  for (FsyncPolicy policy : {FsyncPolicy::kBatch, FsyncPolicy::kAlways}) {
    for (int round = 0; round < 3; ++round) {
      MemEnv mem;
      FaultInjectionEnv env(&mem);
      auto o = Opts(&env);
      o.fsync = policy;
      o.memtable_limit_bytes = 64 << 10;
      std::mutex m;
      std::map<uint64_t, std::set<uint64_t>> acked;  // trace -> span ids
      std::atomic<int> acks{0};
      {
        auto s = OpenOrDie(o);
        std::vector<std::thread> threads;
        for (int w = 0; w < 3; ++w) {
          threads.emplace_back([&, w] {
            for (uint64_t b = 0; b < 60; ++b) {
              uint64_t trace = 1 + (b % 7) + 10 * static_cast<uint64_t>(w);
              std::vector<model::Span> spans;
              std::vector<uint64_t> ids;
              for (uint64_t i = 0; i < 4; ++i) {
                ids.push_back(b * 4 + i + 1);
                spans.push_back(MakeSpan({.trace = trace, .span = ids.back(), .parent = 1}));
              }
              Status st = s->Append(spans, [&, trace, ids](Status cb) {
                if (!cb.ok()) return;
                std::lock_guard<std::mutex> l(m);
                for (uint64_t id : ids) acked[trace].insert(id);
                ++acks;
              });
              if (!st.ok()) return;
            }
          });
        }
        while (acks < 20 * (round + 1)) std::this_thread::yield();
        for (FOp op : {FOp::kWrite, FOp::kSync, FOp::kCreate, FOp::kRename, FOp::kSyncDir, FOp::kRemove})
          env.FailNth(op, 1, Status::IOError("power lost"), /*sticky=*/true);
        for (auto& t : threads) t.join();
        mem.DropUnsyncedData();
        (void)s->Close();
      }
      auto s = OpenOrDie(Opts(&mem));
      for (const auto& [trace, ids] : acked) {
        std::multiset<std::string> got = SpanIdsOf(s.get(), trace);
        for (uint64_t id : ids) EXPECT_EQ(got.count(SpanId(id)), 1u) << "trace " << trace << " span " << id;
      }
    }
  }
}

// Fails the Nth operation of each kind in turn: nothing acknowledged is lost, nothing
// crashes, and a failed write or fsync is reported to the batches it hit.
TEST(EmbeddedStore, FailingTheNthOperationNeverLosesAcknowledgedSpans) {
  for (FOp op : {FOp::kWrite, FOp::kSync, FOp::kCreate, FOp::kRename, FOp::kSyncDir}) {
    for (int n = 1; n <= 12; ++n) {
      SCOPED_TRACE("op " + std::to_string(static_cast<int>(op)) + " n " + std::to_string(n));
      MemEnv mem;
      FaultInjectionEnv env(&mem);
      auto o = Opts(&env);
      o.memtable_limit_bytes = 16 << 10;
      env.FailNth(op, n, Status::IOError("injected failure"));
      std::mutex log_mu;
      int logged = 0;
      o.logger = [&](const std::string& m) {
        std::lock_guard<std::mutex> l(log_mu);
        if (m.find("injected failure") != std::string::npos) ++logged;
      };
      std::set<uint64_t> acked;
      int failed = 0;
      {
        auto opened = EmbeddedStore::Open(o);
        if (!opened.ok()) continue;  // failing at Open is reported by Open
        auto& s = *opened;
        for (uint64_t b = 1; b <= 40; ++b) {
          model::Span sp = MakeSpan({.trace = 1 + b % 3, .span = b, .parent = 1});
          sp.set_output_json(std::string(500, 'o'));
          Status st = AppendSync(s.get(), {sp});
          if (st.ok()) {
            acked.insert(b);
          } else {
            ++failed;
            EXPECT_TRUE(st.code() == StatusCode::kIOError || st.code() == StatusCode::kUnavailable) << st.ToString();
            std::this_thread::sleep_for(std::chrono::milliseconds(6));  // let the store probe and recover
          }
        }
        (void)s->WaitForFlush();
        (void)s->Close();
      }
      if (env.Failures() > 0) {  // the failure was reported: to the batches it hit, or in the log
        std::lock_guard<std::mutex> l(log_mu);
        EXPECT_GT(failed + logged, 0);
      }
      mem.DropUnsyncedData();
      auto s = OpenOrDie(Opts(&mem));
      ASSERT_NE(s, nullptr);
      std::multiset<std::string> all;
      for (uint64_t t = 1; t <= 3; ++t) {
        auto ids = SpanIdsOf(s.get(), t);
        all.insert(ids.begin(), ids.end());
      }
      for (uint64_t id : acked) EXPECT_EQ(all.count(SpanId(id)), 1u) << "span " << id;
    }
  }
}

TEST(EmbeddedStore, DiskFullRefusesWritesUntilSpaceReturns) {
  MemEnv mem;
  FaultInjectionEnv env(&mem);
  auto o = Opts(&env);
  o.min_free_bytes = 1 << 20;
  auto s = OpenOrDie(o);
  ASSERT_TRUE(AppendSync(s.get(), {MakeSpan({.trace = 1, .span = 1})}).ok());
  env.SetDiskFull(true);
  Status st = AppendSync(s.get(), {MakeSpan({.trace = 1, .span = 2})});
  EXPECT_EQ(st.code(), StatusCode::kUnavailable);
  EXPECT_NE(st.message().find("disk full"), std::string::npos);
  EXPECT_TRUE(s->Stats().disk_full);
  EXPECT_EQ(s->Append({MakeSpan({.trace = 1, .span = 3})}, [](Status) {}).code(), StatusCode::kUnavailable);
  env.SetDiskFull(false);
  Status after;
  for (int i = 0; i < 2000; ++i) {
    after = AppendSync(s.get(), {MakeSpan({.trace = 1, .span = 4})});
    if (after.ok()) break;
    std::this_thread::sleep_for(std::chrono::milliseconds(2));
  }
  ASSERT_TRUE(after.ok()) << after.ToString();
  EXPECT_FALSE(s->Stats().disk_full);
  EXPECT_EQ(s->Stats().write_failures, 1);
  ASSERT_TRUE(s->Close().ok());
  auto r = OpenOrDie(Opts(&mem));
  auto ids = SpanIdsOf(r.get(), 1);
  EXPECT_EQ(ids.count(SpanId(1)), 1u);
  EXPECT_EQ(ids.count(SpanId(4)), 1u);
}

TEST(EmbeddedStore, FullQueueIsRefusedAtOnceAndCloseDrainsIt) {
  MemEnv mem;
  FaultInjectionEnv env(&mem);
  auto o = Opts(&env);
  o.queue_limit_bytes = 4096;
  auto s = OpenOrDie(o);
  env.HoldSyncs(true);
  std::atomic<int> ok{0}, calls{0};
  auto cb = [&](Status st) {
    ++calls;
    if (st.ok()) ++ok;
  };
  model::Span big = MakeSpan({.trace = 1, .span = 1});
  big.set_input_json(std::string(1000, 'x'));
  int accepted = 0;
  Status refused;
  for (uint64_t i = 1; i <= 20; ++i) {
    big.set_span_id(SpanId(i));
    Status st = s->Append({big}, cb);
    if (st.ok()) {
      ++accepted;
    } else {
      refused = st;
      break;
    }
  }
  EXPECT_EQ(refused.code(), StatusCode::kResourceExhausted) << refused.ToString();
  EXPECT_GE(accepted, 3);
  EXPECT_GT(s->Stats().queue_depth_bytes, 0);
  EXPECT_EQ(s->Stats().rejected_queue_full, 1);
  std::thread closer([&] { EXPECT_TRUE(s->Close().ok()); });
  std::this_thread::sleep_for(std::chrono::milliseconds(20));
  EXPECT_EQ(s->Append({big}, cb).code(), StatusCode::kUnavailable);
  env.HoldSyncs(false);
  closer.join();
  EXPECT_EQ(calls.load(), accepted);
  EXPECT_EQ(ok.load(), accepted);
  EXPECT_TRUE(s->Close().ok());  // idempotent
  EXPECT_EQ(SpanIdsOf(s.get(), 1).size(), static_cast<size_t>(accepted));
}

TEST(EmbeddedStore, NeverPolicyAcknowledgesAfterWriteAndSyncsOnClose) {
  MemEnv env;
  auto o = Opts(&env);
  o.fsync = FsyncPolicy::kNever;
  {
    auto s = OpenOrDie(o);
    ASSERT_TRUE(AppendSync(s.get(), {MakeSpan({.trace = 1, .span = 1})}).ok());
    EXPECT_EQ(s->Stats().fsyncs, 0);
    ASSERT_TRUE(s->Close().ok());
  }
  env.DropUnsyncedData();
  auto s = OpenOrDie(o);
  EXPECT_EQ(SpanIdsOf(s.get(), 1).size(), 1u);
}

}  // namespace
}  // namespace sightline::store
