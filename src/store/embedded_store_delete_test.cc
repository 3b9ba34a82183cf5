// Deletion on request (docs/deletion.md): a user's or a session's traces disappear from
// queries at once and from every file of the data directory (searched raw and inside
// zstd frames) once Delete returns, wherever they were (memtable, v1 and v2 segments,
// split across both); late spans of a deleted trace are dropped, later traces kept; a
// restart keeps them gone; a failure at any file operation of a deletion either fails
// the request (nothing acknowledged) or, after a crash and reopen, finishes it.
#include <gtest/gtest.h>
#include <zstd.h>

#include <set>

#include "common/fault_injection_env.h"
#include "common/mem_env.h"
#include "store/deletion/deletion.h"
#include "store/embedded_store.h"
#include "store/data_dir_bytes_test_util.h"
#include "store/store_test_util.h"

namespace sightline::store {
namespace {

using testing::AppendSync;
using testing::MakeSpan;
using testing::TraceId;
using FOp = FaultInjectionEnv::Op;

constexpr const char* kAlice = "alice-7f3a9c";
constexpr const char* kAlicePayload = "alice-private-note-5521";
constexpr const char* kBob = "bob-118d2e";
constexpr const char* kBobPayload = "bob-kept-note-9034";

EmbeddedStoreOptions Opts(Env* env, SegmentFormat format = kDefaultSegmentFormat) {
  EmbeddedStoreOptions o;
  o.env = env;
  o.dir = "/data";
  o.retry_interval_ms = 2;
  o.max_retry_interval_ms = 20;
  o.min_free_bytes = 0;
  o.segment_format = format;
  o.compaction.interval_ms = 3600 * 1000;
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

// A trace of `user` in `session`: a root and a child carrying `payload`.
std::vector<model::Span> Trace(uint64_t t, const std::string& user, const std::string& session,
                               const std::string& payload, uint64_t first_span = 1) {
  std::vector<model::Span> out;
  for (uint64_t k = 0; k < 2; ++k) {
    auto sp = MakeSpan({.trace = t, .span = first_span + k, .parent = k == 0 ? 0 : first_span,
                        .start = 1000 + static_cast<int64_t>(t), .end = 5000});
    sp.set_user_id(user);
    sp.set_session_id(session);
    sp.set_input_json("\"" + payload + " " + std::to_string(t) + "\"");
    out.push_back(std::move(sp));
  }
  return out;
}

using sightline::store::testing::AllBytes;

bool Has(const std::string& hay, const std::string& needle) { return hay.find(needle) != std::string::npos; }

std::set<uint64_t> FoundTraces(EmbeddedStore* s, std::initializer_list<uint64_t> ids) {
  std::set<uint64_t> out;
  for (uint64_t t : ids)
    if (s->GetTrace(TraceId(t), {}).ok()) out.insert(t);
  return out;
}

// Alice: trace 1 in a segment, trace 2 in the memtable, trace 3 split across both.
// Bob: trace 10 in a segment, 11 in the memtable.
void Fill(EmbeddedStore* s) {
  ASSERT_TRUE(AppendSync(s, Trace(1, kAlice, "s-alice", kAlicePayload)).ok());
  ASSERT_TRUE(AppendSync(s, Trace(10, kBob, "s-bob", kBobPayload)).ok());
  ASSERT_TRUE(AppendSync(s, Trace(3, kAlice, "s-alice", kAlicePayload)).ok());
  ASSERT_TRUE(s->FlushNow().ok());
  ASSERT_TRUE(AppendSync(s, Trace(2, kAlice, "s-alice2", kAlicePayload)).ok());
  ASSERT_TRUE(AppendSync(s, Trace(11, kBob, "s-bob", kBobPayload)).ok());
  ASSERT_TRUE(AppendSync(s, Trace(3, kAlice, "s-alice", kAlicePayload, 20)).ok());
}

class DeleteByFormat : public ::testing::TestWithParam<SegmentFormat> {};

TEST_P(DeleteByFormat, UserGoesFromQueriesAndEveryFileOthersStay) {
  MemEnv mem;
  std::vector<DeletionRecord> hooked;
  auto o = Opts(&mem, GetParam());
  o.on_deleted = [&](const DeletionRecord& r) { hooked.push_back(r); };
  auto s = OpenOrDie(o);
  ASSERT_NE(s, nullptr);
  Fill(s.get());
  ASSERT_TRUE(Has(AllBytes(&mem), kAlicePayload));  // the search can see it

  auto d = s->Delete({DeletionKind::kUser, kAlice, "", "test"});
  ASSERT_TRUE(d.ok()) << d.status().ToString();
  EXPECT_EQ(d->id, 1u);
  EXPECT_EQ(d->traces, 3u);
  EXPECT_EQ(d->spans, 8u);
  EXPECT_TRUE(d->complete());
  EXPECT_GE(d->segments_rewritten, 1u);
  EXPECT_EQ(d->value_sha256, Sha256Hex(kAlice));
  ASSERT_EQ(hooked.size(), 1u);
  EXPECT_EQ(hooked[0].value, kAlice);
  EXPECT_EQ(hooked[0].requested_by, "test");

  EXPECT_EQ(FoundTraces(s.get(), {1, 2, 3, 10, 11}), (std::set<uint64_t>{10, 11}));
  TraceQuery q;
  q.user_id = kAlice;
  EXPECT_TRUE(s->SearchTraces(q)->traces.empty());
  EXPECT_EQ(s->SearchTraces(TraceQuery{})->traces.size(), 2u);
  EXPECT_FALSE(s->GetSession("s-alice", {}).ok());
  EXPECT_EQ(s->GetSession("s-bob", {})->traces.size(), 2u);
  AggregateQuery spans;
  spans.level = AggLevel::kSpan;
  spans.allow_rollups = false;
  auto agg = s->Aggregate(spans);
  ASSERT_TRUE(agg.ok()) << agg.status().ToString();
  ASSERT_EQ(agg->rows.size(), 1u);
  EXPECT_EQ(agg->rows[0].count, 4);

  std::string bytes = AllBytes(&mem);
  EXPECT_FALSE(Has(bytes, kAlice));
  EXPECT_FALSE(Has(bytes, kAlicePayload));
  EXPECT_TRUE(Has(bytes, kBobPayload));

  // A late span of a deleted trace is dropped; a new trace of the same user is kept.
  ASSERT_TRUE(AppendSync(s.get(), Trace(1, kAlice, "s-alice", kAlicePayload, 40)).ok());
  ASSERT_TRUE(AppendSync(s.get(), Trace(5, kAlice, "s-alice3", "later")).ok());
  EXPECT_EQ(FoundTraces(s.get(), {1, 5}), (std::set<uint64_t>{5}));
  ASSERT_TRUE(s->Close().ok());

  auto r = OpenOrDie(Opts(&mem, GetParam()));
  ASSERT_NE(r, nullptr);
  EXPECT_EQ(FoundTraces(r.get(), {1, 2, 3, 5, 10, 11}), (std::set<uint64_t>{5, 10, 11}));
  ASSERT_EQ(r->Deletions().size(), 1u);
  EXPECT_TRUE(r->Deletions()[0].complete());
  EXPECT_TRUE(r->Deletions()[0].value.empty());
  ASSERT_TRUE(r->CompactNow().ok());
  bytes = AllBytes(&mem);
  EXPECT_FALSE(Has(bytes, kAlicePayload));
  EXPECT_TRUE(Has(bytes, kBobPayload));
}

// A span naming the user (or session) inside a trace whose summary names someone else
// takes its whole trace along, wherever the span is (segment or memtable); the request's
// project still scopes the match.
TEST_P(DeleteByFormat, AnySpanNamingTheIdTakesItsTrace) {
  MemEnv mem;
  auto s = OpenOrDie(Opts(&mem, GetParam()));
  ASSERT_NE(s, nullptr);
  auto with = [](std::vector<model::Span> spans, size_t k, const std::string& user, const std::string& session,
                 const std::string& project = "") {
    spans[k].set_user_id(user);
    spans[k].set_session_id(session);
    if (!project.empty())
      for (auto& sp : spans) sp.set_project(project);
    return spans;
  };
  // 1: alice's trace with a child acting for bob (flushed); 2: carol's, child for bob in
  // session s-bob-side (memtable); 3: bob's own; 4: dave's; 5: bob in another project.
  ASSERT_TRUE(AppendSync(s.get(), with(Trace(1, kAlice, "s-alice", kAlicePayload), 1, kBob, "s-alice")).ok());
  ASSERT_TRUE(AppendSync(s.get(), Trace(4, "dave", "s-dave", "dave-note")).ok());
  ASSERT_TRUE(AppendSync(s.get(), with(Trace(5, "erin", "s-erin", "erin-note"), 1, kBob, "s-erin", "other")).ok());
  ASSERT_TRUE(s->FlushNow().ok());
  ASSERT_TRUE(AppendSync(s.get(), with(Trace(2, "carol", "s-carol", "carol-note"), 1, kBob, "s-bob-side")).ok());
  ASSERT_TRUE(AppendSync(s.get(), Trace(3, kBob, "s-bob", kBobPayload)).ok());

  auto d = s->Delete({DeletionKind::kUser, kBob, "default", "test"});
  ASSERT_TRUE(d.ok()) << d.status().ToString();
  EXPECT_EQ(d->traces, 3u);
  EXPECT_EQ(d->spans, 6u);
  EXPECT_EQ(FoundTraces(s.get(), {1, 2, 3, 4, 5}), (std::set<uint64_t>{4, 5}));
  std::string bytes = AllBytes(&mem);
  EXPECT_FALSE(Has(bytes, std::string(kAlicePayload) + " 1"));
  EXPECT_FALSE(Has(bytes, "carol-note"));
  EXPECT_TRUE(Has(bytes, "dave-note"));
  EXPECT_TRUE(Has(bytes, "erin-note"));

  // By session: a span of session s-erin-2 inside trace 6 of session s-main.
  ASSERT_TRUE(AppendSync(s.get(), with(Trace(6, "frank", "s-main", "frank-note"), 1, "frank", "s-erin-2")).ok());
  ASSERT_TRUE(s->FlushNow().ok());
  auto by_session = s->Delete({DeletionKind::kSession, "s-erin-2", "", "test"});
  ASSERT_TRUE(by_session.ok()) << by_session.status().ToString();
  EXPECT_EQ(by_session->traces, 1u);
  EXPECT_EQ(FoundTraces(s.get(), {4, 5, 6}), (std::set<uint64_t>{4, 5}));
  EXPECT_FALSE(Has(AllBytes(&mem), "frank-note"));
}

INSTANTIATE_TEST_SUITE_P(Formats, DeleteByFormat,
                         ::testing::Values(SegmentFormat::kV1Rows, SegmentFormat::kV2Columnar));

TEST(Delete, SessionAndProjectScope) {
  MemEnv mem;
  auto s = OpenOrDie(Opts(&mem));
  ASSERT_NE(s, nullptr);
  Fill(s.get());
  // The wrong project matches nothing (and is still recorded).
  auto none = s->Delete({DeletionKind::kSession, "s-alice", "other-project", "t"});
  ASSERT_TRUE(none.ok());
  EXPECT_EQ(none->traces, 0u);
  EXPECT_TRUE(none->complete());
  auto d = s->Delete({DeletionKind::kSession, "s-alice", "default", "t"});
  ASSERT_TRUE(d.ok()) << d.status().ToString();
  EXPECT_EQ(d->traces, 2u);  // traces 1 and 3; trace 2 is in another session of alice
  EXPECT_EQ(FoundTraces(s.get(), {1, 2, 3, 10, 11}), (std::set<uint64_t>{2, 10, 11}));
  EXPECT_EQ(s->Deletions().size(), 2u);
  EXPECT_FALSE(Has(AllBytes(&mem), std::string(kAlicePayload) + " 1"));
  EXPECT_TRUE(Has(AllBytes(&mem), std::string(kAlicePayload) + " 2"));
  EXPECT_FALSE(s->Delete({DeletionKind::kUser, "", "", "t"}).ok());
}

TEST(Delete, NeverFlushedWalIsReplayedWithoutTheDeletedTraces) {
  MemEnv mem;
  {
    auto o = Opts(&mem);
    o.flush_on_close = false;
    auto s = OpenOrDie(o);
    ASSERT_NE(s, nullptr);
    Fill(s.get());
    ASSERT_TRUE(s->Delete({DeletionKind::kUser, kAlice, "", "t"}).ok());
    ASSERT_TRUE(AppendSync(s.get(), Trace(2, kAlice, "s-alice2", kAlicePayload, 50)).ok());  // late: dropped
    ASSERT_TRUE(s->Close().ok());
  }
  auto s = OpenOrDie(Opts(&mem));
  ASSERT_NE(s, nullptr);
  EXPECT_EQ(FoundTraces(s.get(), {1, 2, 3, 10, 11}), (std::set<uint64_t>{10, 11}));
}

// A failure at the nth operation of each kind during Delete, then a crash (unsynced
// data dropped) and a reopen: an acknowledged deletion is complete after the reopen
// and its data is in no file; a refused one may leave the data, but never a half state
// that loses other users' traces.
TEST(Delete, FailingAnyOperationThenCrashingNeverLosesAnAcknowledgedDeletion) {
  int acknowledged_runs = 0, refused_runs = 0;
  for (FOp op : {FOp::kWrite, FOp::kSync, FOp::kCreate, FOp::kRename, FOp::kSyncDir, FOp::kRemove}) {
    for (int n = 1; n <= 6; ++n) {
      SCOPED_TRACE("op " + std::to_string(static_cast<int>(op)) + " n " + std::to_string(n));
      MemEnv mem;
      FaultInjectionEnv env(&mem);
      bool acknowledged = false;
      {
        auto o = Opts(&env);
        o.flush_on_close = false;
        auto s = OpenOrDie(o);
        ASSERT_NE(s, nullptr);
        Fill(s.get());
        env.FailNth(op, n, Status::IOError("injected failure"), /*sticky=*/true);
        auto d = s->Delete({DeletionKind::kUser, kAlice, "", "t"});
        acknowledged = d.ok();
        if (acknowledged) {
          EXPECT_EQ(FoundTraces(s.get(), {1, 2, 3}), std::set<uint64_t>{});
        }
        (void)s->Close();
      }
      env.Reset();
      mem.DropUnsyncedData();
      auto s = OpenOrDie(Opts(&mem));
      ASSERT_NE(s, nullptr);
      EXPECT_EQ(FoundTraces(s.get(), {10, 11}), (std::set<uint64_t>{10, 11}));
      if (acknowledged) {
        EXPECT_EQ(FoundTraces(s.get(), {1, 2, 3}), std::set<uint64_t>{});
        ASSERT_EQ(s->Deletions().size(), 1u);
        EXPECT_TRUE(s->Deletions()[0].complete());
        std::string bytes = AllBytes(&mem);
        EXPECT_FALSE(Has(bytes, kAlicePayload));
      } else {
        EXPECT_EQ(FoundTraces(s.get(), {1, 2, 3}), (std::set<uint64_t>{1, 2, 3}));
      }
      EXPECT_TRUE(Has(AllBytes(&mem), kBobPayload));
      (acknowledged ? acknowledged_runs : refused_runs) += 1;
    }
  }
  // Both outcomes happened: failures before the record refuse, later ones are finished.
  EXPECT_GT(acknowledged_runs, 0);
  EXPECT_GT(refused_runs, 0);
}

TEST(Delete, RecordFileRoundTripsAndRefusesDamage) {
  DeletionRecord r;
  r.id = 7;
  r.kind = DeletionKind::kSession;
  r.value_sha256 = Sha256Hex("x");
  r.project = "p";
  r.requested_by = "cli";
  r.requested_at_ns = 123;
  r.completed_at_ns = 456;
  r.traces = 2;
  r.spans = 9;
  r.keys = {TraceKey{1, 2}, TraceKey{3, 4}};
  std::string bytes;
  EncodeDeletions({r}, &bytes);
  std::vector<DeletionRecord> back;
  ASSERT_TRUE(DecodeDeletions(bytes, &back).ok());
  ASSERT_EQ(back.size(), 1u);
  EXPECT_EQ(back[0].id, 7u);
  EXPECT_EQ(back[0].kind, DeletionKind::kSession);
  EXPECT_EQ(back[0].keys.size(), 2u);
  EXPECT_TRUE(back[0].keys[1] == (TraceKey{3, 4}));
  EXPECT_EQ(back[0].spans, 9u);
  EXPECT_EQ(Sha256Hex("abc"), "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
  for (size_t i = 0; i < bytes.size(); ++i) {
    std::string bad = bytes;
    bad[i] ^= 0x20;
    EXPECT_FALSE(DecodeDeletions(bad, &back).ok()) << i;
  }
  EXPECT_FALSE(DecodeDeletions(bytes.substr(0, bytes.size() - 1), &back).ok());
}

}  // namespace
}  // namespace sightline::store
