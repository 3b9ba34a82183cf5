#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "common/mem_env.h"
#include "store/coding.h"
#include "store/wal/wal_format.h"
#include "store/wal/wal_reader.h"
#include "store/wal/wal_writer.h"

namespace sightline::store::wal {
namespace {

std::string Payload(size_t n, int seed) {
  std::string s(n, '\0');
  for (size_t i = 0; i < n; ++i) s[i] = static_cast<char>((i * 131 + static_cast<size_t>(seed) * 7) & 0xff);
  return s;
}

// Writes records into a MemEnv file and returns the file's bytes.
std::string WriteWal(const std::vector<std::string>& records, std::vector<uint64_t>* offsets = nullptr) {
  MemEnv env;
  EXPECT_TRUE(env.CreateDir("/w").ok());
  auto w = WalWriter::Create(&env, "/w/000001.log", 1);
  EXPECT_TRUE(w.ok());
  for (const auto& r : records) {
    if (offsets) offsets->push_back((*w)->encoded_size());
    EXPECT_TRUE((*w)->AddRecord(r).ok());
  }
  EXPECT_TRUE((*w)->Sync().ok());
  auto data = ReadFileToString(&env, "/w/000001.log");
  EXPECT_TRUE(data.ok());
  return *data;
}

struct Read {
  Status status;
  std::vector<std::string> records;
  WalReadReport report;
};

Read ReadAll(std::string_view data, bool last) {
  Read r;
  r.status = ReadWalBytes("wal/000001.log", data, last,
                          [&](std::string_view rec, uint64_t) { r.records.emplace_back(rec); }, &r.report);
  return r;
}

TEST(Wal, RoundTripSizesAcrossBlocks) {
  std::vector<std::string> recs;
  for (size_t n : {size_t{0}, size_t{1}, size_t{100}, kBlockSize - kHeaderSize - 35, kBlockSize - 2 * kHeaderSize,
                   kBlockSize, size_t{100000}, 3 * kBlockSize + 5})
    recs.push_back(Payload(n, static_cast<int>(recs.size())));
  for (int i = 0; i < 300; ++i) recs.push_back(Payload(static_cast<size_t>(i * 37 % 1000), i));
  std::string data = WriteWal(recs);
  for (bool last : {true, false}) {
    Read r = ReadAll(data, last);
    ASSERT_TRUE(r.status.ok()) << r.status.ToString();
    EXPECT_EQ(r.records, recs);
    EXPECT_EQ(r.report.valid_end, data.size());
    EXPECT_EQ(r.report.dropped_bytes + r.report.tail_dropped_bytes, 0u);
  }
}

TEST(Wal, EmptyFileHasNoRecords) {
  Read r = ReadAll("", false);
  EXPECT_TRUE(r.status.ok());
  EXPECT_TRUE(r.records.empty());
}

// A log of 12 records of 10 KB: several per block, some crossing blocks.
struct Fixture {
  std::vector<std::string> recs;
  std::vector<uint64_t> offsets;
  std::string data;
  Fixture() {
    for (int i = 0; i < 12; ++i) recs.push_back(Payload(10000, i));
    data = WriteWal(recs, &offsets);
  }
};

// Records delivered must be some of the originals, in order, never altered.
void ExpectSubsequence(const std::vector<std::string>& got, const std::vector<std::string>& all) {
  size_t j = 0;
  for (const auto& g : got) {
    while (j < all.size() && all[j] != g) ++j;
    ASSERT_LT(j, all.size()) << "a record that was never written was delivered";
    ++j;
  }
}

struct TailCase {
  const char* name;
  std::function<std::string(const Fixture&)> mutate;
  size_t intact;  // records that must survive
};

TEST(Wal, TornTailIsSilentInLastFileAndCorruptionElsewhere) {
  std::vector<TailCase> cases = {
      {"truncated header", [](const Fixture& f) { return f.data.substr(0, f.offsets[11] + 3); }, 11},
      {"truncated payload", [](const Fixture& f) { return f.data.substr(0, f.data.size() - 100); }, 11},
      {"garbage tail", [](const Fixture& f) { return f.data + Payload(5000, 99); }, 12},
      {"zeroed tail", [](const Fixture& f) { return f.data + std::string(2 * kBlockSize, '\0'); }, 12},
      {"bad checksum in last record",
       [](const Fixture& f) {
         std::string d = f.data;
         d[d.size() - 10] ^= 0x55;
         return d;
       },
       11},
  };
  Fixture f;
  for (const auto& c : cases) {
    SCOPED_TRACE(c.name);
    std::string d = c.mutate(f);
    Read last = ReadAll(d, true);
    EXPECT_TRUE(last.status.ok()) << last.status.ToString();
    ASSERT_EQ(last.records.size(), c.intact);
    EXPECT_EQ(last.records, std::vector<std::string>(f.recs.begin(), f.recs.begin() + static_cast<long>(c.intact)));
    EXPECT_GT(last.report.tail_dropped_bytes, 0u);
    EXPECT_EQ(last.report.dropped_bytes, 0u);

    Read mid = ReadAll(d, false);
    EXPECT_EQ(mid.status.code(), StatusCode::kCorruption);
    EXPECT_NE(mid.status.message().find("wal/000001.log"), std::string::npos) << mid.status.ToString();
    EXPECT_NE(mid.status.message().find("offset"), std::string::npos) << mid.status.ToString();
    EXPECT_EQ(mid.records.size(), c.intact);
  }
}

TEST(Wal, MidFileDamageIsCorruptionAndLaterRecordsSurvive) {
  Fixture f;
  struct Mid {
    const char* name;
    std::function<void(std::string*)> mutate;
  };
  std::vector<Mid> cases = {
      {"bad checksum", [&](std::string* d) { (*d)[f.offsets[2] + 500] ^= 1; }},
      {"zeroed block", [&](std::string* d) { std::fill(d->begin() + kBlockSize, d->begin() + 2 * kBlockSize, '\0'); }},
      {"bad length", [&](std::string* d) { (*d)[f.offsets[3] + 5] = static_cast<char>(0x7f); }},
      {"bad type", [&](std::string* d) { (*d)[f.offsets[3] + 6] = 9; }},
  };
  for (const auto& c : cases) {
    SCOPED_TRACE(c.name);
    std::string d = f.data;
    c.mutate(&d);
    for (bool last : {true, false}) {
      Read r = ReadAll(d, last);
      EXPECT_EQ(r.status.code(), StatusCode::kCorruption) << r.status.ToString();
      EXPECT_NE(r.status.message().find("wal/000001.log"), std::string::npos);
      EXPECT_GT(r.report.dropped_bytes, 0u);
      ExpectSubsequence(r.records, f.recs);
      // Every record beginning in a block after the damaged one is still read.
      EXPECT_EQ(r.records.back(), f.recs.back());
      EXPECT_GE(r.records.size(), 8u);
    }
  }
}

TEST(Wal, BadMagicAndUnsupportedVersionRefuseTheFile) {
  Fixture f;
  std::string bad_magic = f.data;
  bad_magic[kHeaderSize] = 'X';
  Read r = ReadAll(bad_magic, true);
  EXPECT_EQ(r.status.code(), StatusCode::kCorruption);
  EXPECT_TRUE(r.report.bad_header);
  EXPECT_TRUE(r.records.empty());
  EXPECT_NE(r.status.message().find("magic"), std::string::npos);

  // A well-formed header of a future version.
  std::string v2 = f.data;
  std::string payload = v2.substr(kHeaderSize, kFileHeaderPayloadSize);
  payload[8] = 2;
  uint32_t crc = FragmentChecksum(FragmentType::kFileHeader, payload);
  for (int i = 0; i < 4; ++i) v2[static_cast<size_t>(i)] = static_cast<char>(crc >> (8 * i));
  v2.replace(kHeaderSize, payload.size(), payload);
  r = ReadAll(v2, false);
  EXPECT_EQ(r.status.code(), StatusCode::kCorruption);
  EXPECT_TRUE(r.report.bad_header);
  EXPECT_NE(r.status.message().find("unsupported WAL format version 2"), std::string::npos) << r.status.ToString();
}

TEST(Wal, EveryByteFlipIsDetectedOrHarmless) {
  std::vector<std::string> recs;
  for (int i = 0; i < 6; ++i) recs.push_back(Payload(static_cast<size_t>(3000 * i + 7), i));
  std::string data = WriteWal(recs);
  for (size_t pos = 0; pos < data.size(); pos += 13) {
    std::string d = data;
    d[pos] ^= 0x20;
    for (bool last : {true, false}) {
      Read r = ReadAll(d, last);
      ASSERT_TRUE(r.status.ok() || r.status.code() == StatusCode::kCorruption);
      ExpectSubsequence(r.records, recs);
      if (r.status.ok() && !last) {
        EXPECT_EQ(r.records, recs) << "silent loss at flip " << pos;
      }
    }
  }
}

TEST(Wal, Version1SampleFileStillReads) {
  // tests/data/wal_v1_sample.log (docs/wal_format.md "Sample file"): never regenerate it.
  Env* env = Env::Default();
  std::string path = std::string(SIGHTLINE_SOURCE_DIR) + "/tests/data/wal_v1_sample.log";
  std::vector<std::string> got;
  WalReadReport report;
  Status s = ReadWalFile(env, path, false, [&](std::string_view r, uint64_t) { got.emplace_back(r); }, &report);
  ASSERT_TRUE(s.ok()) << s.ToString();
  ASSERT_EQ(got.size(), 3u);
  EXPECT_EQ(got[0], "sightline wal v1 sample record 1");
  EXPECT_EQ(got[1], std::string(40000, 'x'));  // crosses a block boundary
  EXPECT_EQ(got[2], "");
}

}  // namespace
}  // namespace sightline::store::wal
