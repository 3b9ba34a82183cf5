// RequestArena: requests decoded on it are whole and independent, nested arenas on one
// thread do not share the thread's buffer, and requests larger than the buffer work.
#include "ingest/request_arena.h"

#include <google/protobuf/util/message_differencer.h>
#include <gtest/gtest.h>

#include <random>
#include <thread>

#include "ingest/otlp_test_util.h"

namespace sightline::ingest {
namespace {

using google::protobuf::util::MessageDifferencer;

TEST(RequestArena, NestedArenasKeepTheirRequestsApart) {
  std::mt19937_64 rng(3);
  for (int round = 0; round < 3; ++round) {  // the thread's buffer is reused across rounds
    const ExportRequest a = testing::RandomRequest(rng), b = testing::SampleRequest();
    RequestArena outer;
    ExportRequest* ra = outer.NewRequest();
    ASSERT_TRUE(DecodeOtlpProtobuf(a.SerializeAsString(), ra).ok());
    {
      RequestArena inner;  // the buffer is in use: this one allocates its own blocks
      ExportRequest* rb = inner.NewRequest();
      ASSERT_TRUE(DecodeOtlpProtobuf(b.SerializeAsString(), rb).ok());
      EXPECT_TRUE(MessageDifferencer::Equals(*rb, b));
      EXPECT_EQ(rb->GetArena(), inner.arena());
    }
    EXPECT_TRUE(MessageDifferencer::Equals(*ra, a));
    EXPECT_EQ(ra->GetArena(), outer.arena());
  }
}

TEST(RequestArena, RequestsLargerThanTheThreadBufferDecode) {
  ExportRequest big;
  auto* spans = big.add_resource_spans()->add_scope_spans();
  for (int i = 0; i < 40000; ++i) {  // about 6 MB of messages on the arena
    auto* s = spans->add_spans();
    s->set_name("span-" + std::to_string(i));
    testing::AddString(s->mutable_attributes(), "k", "v");
    testing::AddString(s->mutable_attributes(), "key.two", std::string(40, 'x'));
  }
  RequestArena arena;
  ExportRequest* r = arena.NewRequest();
  ASSERT_TRUE(DecodeOtlpProtobuf(big.SerializeAsString(), r).ok());
  EXPECT_GT(arena.arena()->SpaceAllocated(), size_t{2} << 20);
  EXPECT_TRUE(MessageDifferencer::Equals(*r, big));
}

TEST(RequestArena, EachThreadHasItsOwnBuffer) {
  const ExportRequest sample = testing::SampleRequest();
  const std::string bytes = sample.SerializeAsString();
  auto work = [&](bool* ok) {
    *ok = true;
    for (int i = 0; i < 200; ++i) {
      RequestArena arena;
      ExportRequest* r = arena.NewRequest();
      *ok = *ok && DecodeOtlpProtobuf(bytes, r).ok() && MessageDifferencer::Equals(*r, sample);
    }
  };
  bool ok1 = false, ok2 = false;
  std::thread t1(work, &ok1), t2(work, &ok2);
  t1.join();
  t2.join();
  EXPECT_TRUE(ok1);
  EXPECT_TRUE(ok2);
}

}  // namespace
}  // namespace sightline::ingest
