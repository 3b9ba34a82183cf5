// Columnar segment (format v2) facing damaged files: truncation and a flipped byte in
// every region (header, each column chunk, payload frames, meta, tail) give Corruption
// naming the file, never a crash; the version check.
#include <gtest/gtest.h>

#include "common/mem_env.h"
#include "store/coding.h"
#include "store/columnar/columnar_test_util.h"

namespace sightline::store::columnar {
namespace {

using namespace testing;  // NOLINT: the columnar test helpers

const std::string kPath = "/seg/c.slseg";

// Opens, reads every trace and scans every column; the first error, or OK.
Status ReadEverything(Env* env, const std::string& path) {
  std::vector<TraceEntry> entries;
  auto r = ColumnarReader::Open(env, path, [&](const TraceEntry& e) {
    entries.push_back(e);
    return Status::OK();
  });
  if (!r.ok()) return r.status();
  for (const TraceEntry& e : entries) {
    std::vector<std::string> spans;
    SL_RETURN_IF_ERROR((*r)->ReadTrace(e.first_row, e.row_count, &spans));
  }
  return (*r)->Scan(kAll, {}, [](const SpanColumns&, uint32_t) { return Status::OK(); });
}

std::string GoodFile(MemEnv* env) {
  TraceMap m = PayloadSession(3, 6, 1'000'000'000);
  for (int k = 0; k < 3; ++k) AddToMap(&m, FullSpan(9, static_cast<uint64_t>(k) + 1, k ? 1 : 0, 100 + k, k));
  EXPECT_TRUE(WriteSegment(env, "/seg", "c.slseg", m).ok());
  auto f = ReadFileToString(env, kPath);
  EXPECT_TRUE(f.ok());
  return f.ok() ? *f : std::string();
}

TEST(ColumnarCorruption, FlippedByteInEveryRegionIsCorruption) {
  MemEnv env;
  const std::string good = GoodFile(&env);
  ASSERT_TRUE(ReadEverything(&env, kPath).ok());
  auto r = ColumnarReader::Open(&env, kPath, [](const TraceEntry&) { return Status::OK(); });
  ASSERT_TRUE(r.ok());
  auto regions = (*r)->regions();
  size_t chunks = 0, frames = 0;
  for (const auto& reg : regions) {
    chunks += reg.what.rfind("block", 0) == 0;
    frames += reg.what.rfind("payload frame", 0) == 0;
  }
  ASSERT_GT(chunks, 20u);
  ASSERT_GE(frames, 1u);
  for (const auto& reg : regions) {
    ASSERT_GT(reg.length, 0u) << reg.what;
    for (uint64_t at : {reg.offset, reg.offset + reg.length / 2, reg.offset + reg.length - 1}) {
      if (reg.what == "header" && at >= 8 && at < 12) continue;  // the version: checked below
      std::string bad = good;
      bad[at] = static_cast<char>(bad[at] ^ 0x5a);
      env.PutFile(kPath, bad);
      Status s = ReadEverything(&env, kPath);
      EXPECT_EQ(s.code(), StatusCode::kCorruption) << reg.what << " byte " << at << ": " << s.ToString();
      EXPECT_NE(s.message().find(kPath), std::string::npos) << s.ToString();
      if (reg.what.rfind("block", 0) == 0 || reg.what.rfind("payload frame", 0) == 0) {
        EXPECT_NE(s.message().find(reg.what.substr(0, 7)), std::string::npos) << s.ToString();
      }
    }
  }
}

TEST(ColumnarCorruption, TruncationIsCorruption) {
  MemEnv env;
  const std::string good = GoodFile(&env);
  for (size_t len : {size_t{0}, size_t{10}, size_t{16}, size_t{63}, good.size() / 2, good.size() - 49,
                     good.size() - 48, good.size() - 1}) {
    env.PutFile(kPath, good.substr(0, len));
    Status s = ReadEverything(&env, kPath);
    EXPECT_EQ(s.code(), StatusCode::kCorruption) << len << ": " << s.ToString();
    EXPECT_NE(s.message().find(kPath), std::string::npos);
  }
  env.PutFile(kPath, good + "x");  // trailing garbage moves the tail
  EXPECT_EQ(ReadEverything(&env, kPath).code(), StatusCode::kCorruption);
}

TEST(ColumnarCorruption, RefusesOtherVersionsClearly) {
  MemEnv env;
  std::string good = GoodFile(&env);
  struct Case {
    uint32_t version;
    const char* says;
  };
  for (const Case& c : {Case{1, "version 1"}, Case{3, "unsupported segment format version 3"},
                        Case{0xffffffff, "unsupported segment format version"}}) {
    std::string bad = good;
    std::string v;
    PutFixed32(&v, c.version);
    bad.replace(8, 4, v);
    env.PutFile(kPath, bad);
    Status s = ReadEverything(&env, kPath);
    EXPECT_EQ(s.code(), StatusCode::kCorruption);
    EXPECT_NE(s.message().find(c.says), std::string::npos) << s.ToString();
  }
  auto v = PeekFormatVersion(&env, kPath);
  ASSERT_TRUE(v.ok());
  EXPECT_EQ(*v, 0xffffffffu);
}

// Every single-byte flip over a small file (all regions, every offset): never a crash,
// always Corruption or (rarely, where a flip is harmless) OK with intact spans.
TEST(ColumnarCorruption, EveryByteFlipOfASmallFile) {
  MemEnv env;
  TraceMap m;
  for (int k = 0; k < 2; ++k) AddToMap(&m, FullSpan(9, static_cast<uint64_t>(k) + 1, k ? 1 : 0, 100 + k, k));
  ASSERT_TRUE(WriteSegment(&env, "/seg", "c.slseg", m).ok());
  std::string good = *ReadFileToString(&env, kPath);
  for (size_t at = 0; at < good.size(); ++at) {
    std::string bad = good;
    bad[at] = static_cast<char>(bad[at] ^ 0x01);
    env.PutFile(kPath, bad);
    Status s = ReadEverything(&env, kPath);
    if (at >= 8 && at < 12) continue;  // version
    EXPECT_EQ(s.code(), StatusCode::kCorruption) << "byte " << at;
  }
}

}  // namespace
}  // namespace sightline::store::columnar
