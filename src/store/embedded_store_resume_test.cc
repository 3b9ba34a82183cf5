// Interrupt and resume (query_spec.h ResumeCounts): an interrupted run is resumed when
// a later run of its session started after it; filters narrow the interrupted runs.
#include <gtest/gtest.h>

#include "common/mem_env.h"
#include "store/embedded_store.h"
#include "store/store_test_util.h"

namespace sightline::store {
namespace {

using testing::AppendSync;
using testing::MakeSpan;
using namespace model::v1;

model::Span AgentRun(uint64_t trace, int64_t start, SpanStatus status, const std::string& session,
                const std::string& service = "svc") {
  model::Span s = MakeSpan({.trace = trace, .span = 1, .name = "run", .kind = KIND_AGENT, .status = status,
                            .start = start, .end = start + 10});
  if (!session.empty()) s.set_session_id(session);
  s.set_service(service);
  return s;
}

TEST(EmbeddedStoreResumes, ALaterRunOfTheSessionResumesAnInterruptedOne) {
  MemEnv env;
  EmbeddedStoreOptions o;
  o.env = &env;
  o.dir = "/db";
  o.fsync = FsyncPolicy::kNever;
  o.logger = [](const std::string&) {};
  auto opened = EmbeddedStore::Open(o);
  ASSERT_TRUE(opened.ok());
  auto s = std::move(opened).value();
  ASSERT_TRUE(AppendSync(s.get(), {
                                      AgentRun(1, 1000, STATUS_INTERRUPT, "a"),  // resumed by 2
                                      AgentRun(2, 2000, STATUS_OK, "a"),
                                      AgentRun(3, 3000, STATUS_INTERRUPT, "b"),  // the session's last run
                                      AgentRun(4, 500, STATUS_OK, "b"),          // earlier: no resume
                                      AgentRun(5, 4000, STATUS_INTERRUPT, ""),   // no session
                                      AgentRun(6, 5000, STATUS_INTERRUPT, "c", "other"),
                                      AgentRun(7, 6000, STATUS_INTERRUPT, "c", "other"),  // resumes 6
                                  })
                  .ok());
  auto all = s->CountResumes({});
  ASSERT_TRUE(all.ok());
  EXPECT_EQ(all->interrupted, 5);
  EXPECT_EQ(all->resumed, 2);  // runs 1 and 6
  AggregateFilter f;
  f.service = "other";
  auto other = s->CountResumes(f);
  ASSERT_TRUE(other.ok());
  EXPECT_EQ(other->interrupted, 2);
  EXPECT_EQ(other->resumed, 1);
  f = {};
  f.to_ns = 1500;  // only run 1 is in range; its resuming run need not be
  auto early = s->CountResumes(f);
  ASSERT_TRUE(early.ok());
  EXPECT_EQ(early->interrupted, 1);
  EXPECT_EQ(early->resumed, 1);
  ASSERT_TRUE(s->FlushNow().ok());  // the same from segments
  all = s->CountResumes({});
  ASSERT_TRUE(all.ok());
  EXPECT_EQ(all->resumed, 2);
  f = {};
  f.service = "never-seen";
  EXPECT_EQ(s->CountResumes(f)->interrupted, 0);
  f = {};
  f.text = "x";
  EXPECT_EQ(s->CountResumes(f).status().code(), StatusCode::kInvalidArgument);
}

}  // namespace
}  // namespace sightline::store
